//! Plays many rounds at once: seats are taken by searching agents (sharing batched network
//! calls through the MCTS driver) or by baseline bots. Self-play, evaluation and the arena all
//! run through here.

use game::{Bot, InfoSet, Round, MAX_PLAYERS};
use mcts::{BatchedSearcher, Evaluator, Search, SearchConfig, SearchResult, SearchStats};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::seed::derive_seed;

/// Who plays a seat.
pub enum Player<'a> {
    /// Search with this evaluator.
    Agent { search: SearchConfig, evaluator: &'a mut dyn Evaluator },
    Bot(Box<dyn Bot + Send + 'a>),
}

/// A training example: the acting player's information set, the search's visit distribution,
/// and (once the round is over) every seat's scaled score relative to that player.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Example {
    pub info: InfoSet,
    pub policy: Vec<f32>,
    pub values: [f32; MAX_PLAYERS],
}

/// A round to play, and which player (index into the players list) sits in each seat.
#[derive(Clone, Debug)]
pub struct Deal {
    pub round: Round,
    pub lineup: Vec<usize>,
}

/// The outcome of one deal.
#[derive(Clone, Debug)]
pub struct Played {
    pub deal: usize,
    pub end: Round,
    /// Examples from agent decisions (empty unless recording).
    pub examples: Vec<Example>,
}

struct Live {
    deal: usize,
    round: Round,
    rng: ChaCha8Rng,
    pending: Vec<(InfoSet, Vec<f32>)>,
    decisions: u64,
}

impl Live {
    fn start(deals: &[Deal], deal: usize, seed: u64) -> Live {
        Live {
            deal,
            round: deals[deal].round,
            rng: ChaCha8Rng::seed_from_u64(derive_seed(seed, &[deal as u64, 0])),
            pending: Vec::new(),
            decisions: 0,
        }
    }

    /// The search of the decision now to be taken. Its seed depends only on the deal and the
    /// decision's number, never on batching or timing: that is what keeps runs reproducible.
    fn search(&self, config: &SearchConfig, seed: u64) -> Result<Search, mcts::SearchError> {
        let info = self.round.info_set(self.round.to_act());
        Search::new(&info, config, derive_seed(seed, &[self.deal as u64, 1 + self.decisions]))
    }

    /// Play a search's decision, keeping it as an example when recording.
    fn apply(&mut self, result: &SearchResult, record: bool) {
        if record && !result.forced {
            self.pending.push((self.round.info_set(self.round.to_act()), result.policy.to_vec()));
        }
        self.round.apply(result.action).expect("search plays legal actions");
        self.decisions += 1;
    }
}

/// The players other than the one agent whose evaluator is lent to the searcher (split around
/// it, so that bots can move inside the searcher's refill callback).
struct Others<'p, 'a> {
    before: &'p mut [Player<'a>],
    after: &'p mut [Player<'a>],
}

impl<'a> Others<'_, 'a> {
    /// The bot playing as `player`, or `None` when that player is an agent.
    fn bot(&mut self, player: usize) -> Option<&mut (dyn Bot + Send + 'a)> {
        let split = self.before.len();
        let seat = match player.cmp(&split) {
            std::cmp::Ordering::Less => &mut self.before[player],
            std::cmp::Ordering::Equal => return None,
            std::cmp::Ordering::Greater => &mut self.after[player - split - 1],
        };
        match seat {
            Player::Bot(bot) => Some(&mut **bot),
            Player::Agent { .. } => None,
        }
    }

    /// Let bots move until the round is over (`None`) or an agent is to act (its index).
    fn advance(&mut self, table: &mut Live, deals: &[Deal]) -> Option<usize> {
        let lineup = &deals[table.deal].lineup;
        while !table.round.is_over() {
            let seat = table.round.to_act();
            let Some(bot) = self.bot(lineup[seat]) else { return Some(lineup[seat]) };
            let action = bot.act(&table.round.info_set(seat), &mut table.rng);
            table.round.apply(action).expect("bots play legal actions");
        }
        None
    }
}

/// Play every deal to the end, at most `concurrent` at a time. `record` keeps agents'
/// decisions as training examples. `on_done` is called as each deal finishes (progress).
///
/// Each agent's decisions stream through one `run_streaming` call: when a table's search
/// ends, its move is played, bots reply, and the table's next decision (or the first of the
/// next deal, once it is over) joins the batch at once, so batches stay full instead of
/// draining at the end of each step. The call returns when the remaining tables wait on other
/// agents (evaluation matches) or every deal is over. Results do not depend on this
/// scheduling: every random choice is seeded per deal and per decision.
pub fn play_deals(
    deals: &[Deal],
    players: &mut [Player],
    searcher: &mut BatchedSearcher,
    concurrent: usize,
    seed: u64,
    record: bool,
    mut on_done: impl FnMut(&Played),
) -> Result<(Vec<Played>, SearchStats), mcts::SearchError> {
    let mut stats = SearchStats::default();
    let mut results: Vec<Option<Played>> = vec![None; deals.len()];
    let mut next = 0;
    // Tables waiting on an agent; `None` once finished with no deal left to take its place.
    let mut tables: Vec<Option<Live>> = Vec::new();
    let mut deliver = |played: Played, results: &mut [Option<Played>]| {
        on_done(&played);
        let deal = played.deal;
        results[deal] = Some(played);
    };
    loop {
        {
            let mut everyone = Others { before: players, after: &mut [] };
            while tables.len() < concurrent && next < deals.len() {
                let mut table = Live::start(deals, next, seed);
                next += 1;
                match everyone.advance(&mut table, deals) {
                    Some(_) => tables.push(Some(table)),
                    None => deliver(finish(table), &mut results),
                }
            }
        }
        if tables.is_empty() {
            break;
        }
        for index in 0..players.len() {
            let (before, rest) = players.split_at_mut(index);
            let Some((Player::Agent { search: config, evaluator }, after)) = rest.split_first_mut() else { continue };
            let mut others = Others { before, after };
            let waiting: Vec<usize> = (0..tables.len())
                .filter(|&t| {
                    tables[t].as_ref().is_some_and(|table| deals[table.deal].lineup[table.round.to_act()] == index)
                })
                .collect();
            if waiting.is_empty() {
                continue;
            }
            let mut searches = waiting
                .iter()
                .map(|&t| tables[t].as_ref().expect("filtered on live tables").search(config, seed))
                .collect::<Result<Vec<_>, _>>()?;
            let mut failure = None;
            let refill = |slot: usize, result: &SearchResult| -> Option<Search> {
                let t = waiting[slot];
                let mut table = tables[t].take().expect("a slot's table is live while its search runs");
                table.apply(result, record);
                loop {
                    match others.advance(&mut table, deals) {
                        Some(player) => {
                            let search = (player == index).then(|| table.search(config, seed));
                            tables[t] = Some(table);
                            return match search? {
                                Ok(search) => Some(search),
                                Err(error) => {
                                    failure = Some(error);
                                    None
                                }
                            };
                        }
                        None => {
                            deliver(finish(table), &mut results);
                            if next == deals.len() {
                                return None;
                            }
                            table = Live::start(deals, next, seed);
                            next += 1;
                        }
                    }
                }
            };
            stats.merge(&searcher.run_streaming(&mut searches, &mut **evaluator, refill)?);
            if let Some(error) = failure {
                return Err(error);
            }
            tables.retain(Option::is_some);
        }
    }
    Ok((results.into_iter().map(|r| r.expect("every deal was played")).collect(), stats))
}

fn finish(table: Live) -> Played {
    let scores = table.round.scaled_scores();
    let players = table.round.players();
    let examples = table
        .pending
        .into_iter()
        .map(|(info, policy)| {
            let mut values = [0.0; MAX_PLAYERS];
            for (relative, value) in values.iter_mut().enumerate().take(players) {
                *value = scores[(info.observer() + relative) % players];
            }
            Example { info, policy, values }
        })
        .collect();
    Played { deal: table.deal, end: table.round, examples }
}
