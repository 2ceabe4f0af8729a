//! Plays many deals (lone rounds or whole games) at once, a table each: seats are taken by
//! searching agents (sharing batched network calls through the MCTS driver) or by baseline
//! bots. Self-play, evaluation matches and the arena all run through here.

use std::sync::Arc;

use game::{Action, Bot, CardSet, Game, GameContext, InfoSet, Round, Schedule, MAX_PLAYERS};
use mcts::{BatchedSearcher, Evaluator, PlayModel, Search, SearchConfig, SearchResult, SearchStats};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::seed::derive_seed;

/// Who plays a seat.
pub enum Player<'a> {
    /// Search with this evaluator; `play_model`, when given, plays the other seats' cards in
    /// the playouts of a rollout search wherever it predicts them.
    Agent { search: SearchConfig, evaluator: &'a mut dyn Evaluator, play_model: Option<Arc<PlayModel>> },
    Bot(Box<dyn Bot + Send + 'a>),
}

/// A training example: the acting player's information set, every seat's hand at that moment
/// (the real deal, for the perfect-information value the search asks of each sampled world),
/// the search's visit distribution, and (once the round is over) every seat's scaled score
/// and the tricks it took, relative to that player.
///
/// In game mode the values are the remaining game score instead: from the example's round to
/// the end of the game, divided by the most a seat could still score (see
/// [`remaining_score_targets`]); for a lone round the two are the same.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Example {
    pub info: InfoSet,
    /// The game around the example's round (game mode), as the network saw it in self-play.
    pub game: Option<GameContext>,
    /// Every absolute seat's hand at the decision; `None` in buffers written before hands were
    /// kept (version 2 and older).
    pub hands: Option<[CardSet; MAX_PLAYERS]>,
    pub policy: Vec<f32>,
    pub values: [f32; MAX_PLAYERS],
    /// The tricks each seat (relative to the acting player, as `values`) took in the example's
    /// round: the tricks head's target. `None` in buffers written before it was kept (version
    /// 4 and older).
    pub tricks: Option<[u8; MAX_PLAYERS]>,
}

/// What a table plays.
#[derive(Clone, Debug)]
pub enum Dealt {
    /// One round, as dealt.
    Round(Round),
    /// A whole game by this schedule, seats keeping their players; each round is dealt when
    /// the table reaches it, seeded by `dealing` and the round's index, so that tables given
    /// the same `dealing` get the same cards (the arena replays a game with the seats rotated).
    Game { schedule: Schedule, dealing: u64 },
}

/// What to play, and which player (index into the players list) sits in each seat.
#[derive(Clone, Debug)]
pub struct Deal {
    pub dealt: Dealt,
    pub lineup: Vec<usize>,
}

/// The outcome of one deal.
#[derive(Clone, Debug)]
pub struct Played {
    pub deal: usize,
    /// The finished rounds in order: one for a lone round, the whole schedule for a game.
    pub rounds: Vec<Round>,
    /// Each round's actions (every seat's bids and cards) in order.
    pub actions: Vec<Vec<Action>>,
    /// Examples from agent decisions (empty unless recording).
    pub examples: Vec<Example>,
}

impl Played {
    /// The last round played (the only one, for a lone round).
    pub fn end(&self) -> &Round {
        self.rounds.last().expect("a deal plays at least one round")
    }
}

enum Progress {
    Round(Round),
    Game { game: Game, dealing: u64, finished: Vec<Round> },
}

/// A decision kept for an example until its targets are known.
struct UnscoredExample {
    info: InfoSet,
    game: Option<GameContext>,
    hands: [CardSet; MAX_PLAYERS],
    policy: Vec<f32>,
}

struct OpenTable {
    deal: usize,
    /// The deal's number for seeding: `deal` plus the first deal's number (`play_deals_from`).
    number: u64,
    seed: u64,
    progress: Progress,
    rng: ChaCha8Rng,
    pending: Vec<UnscoredExample>,
    /// Decisions taken at this table, over all rounds of a game.
    decisions: u64,
    /// Each round's actions so far, the current round's last.
    actions: Vec<Vec<Action>>,
}

/// The dealing of round `index` of a game dealt from `dealing`.
fn dealing_rng(seed: u64, dealing: u64, index: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive_seed(seed, &[dealing, 0, index as u64]))
}

impl OpenTable {
    fn start(deals: &[Deal], deal: usize, first: usize, seed: u64) -> OpenTable {
        let progress = match &deals[deal].dealt {
            Dealt::Round(round) => Progress::Round(*round),
            Dealt::Game { schedule, dealing } => Progress::Game {
                game: Game::from_schedule(schedule.clone(), &mut dealing_rng(seed, *dealing, 0)),
                dealing: *dealing,
                finished: Vec::new(),
            },
        };
        let number = (first + deal) as u64;
        OpenTable {
            deal,
            number,
            seed,
            progress,
            rng: ChaCha8Rng::seed_from_u64(derive_seed(seed, &[number, 0])),
            pending: Vec::new(),
            decisions: 0,
            actions: vec![Vec::new()],
        }
    }

    fn round(&self) -> &Round {
        match &self.progress {
            Progress::Round(round) => round,
            Progress::Game { game, .. } => game.round(),
        }
    }

    fn round_mut(&mut self) -> &mut Round {
        match &mut self.progress {
            Progress::Round(round) => round,
            Progress::Game { game, .. } => game.round_mut(),
        }
    }

    fn context(&self) -> Option<GameContext> {
        match &self.progress {
            Progress::Round(_) => None,
            Progress::Game { game, .. } => Some(game.context()),
        }
    }

    /// Once the current round is over: deal the game's next round. False when the deal is
    /// over (a lone round, or the game's last round).
    fn next_round(&mut self) -> bool {
        match &mut self.progress {
            Progress::Round(_) => false,
            Progress::Game { game, dealing, finished } => {
                finished.push(*game.round());
                let next = game.next_round(&mut dealing_rng(self.seed, *dealing, game.round_index() + 1));
                if next {
                    self.actions.push(Vec::new());
                }
                next
            }
        }
    }

    /// The search of the decision now to be taken. Its seed depends only on the deal and the
    /// decision's number, never on batching or timing: that is what keeps runs reproducible.
    fn search(&self, config: &SearchConfig, play_model: &Option<Arc<PlayModel>>, seed: u64) -> Result<Search, mcts::SearchError> {
        let round = self.round();
        let info = round.info_set(round.to_act());
        let search = Search::with_context(&info, self.context(), config, derive_seed(seed, &[self.number, 1 + self.decisions]))?;
        Ok(search.with_play_model(play_model.clone()))
    }

    /// Play `action` in the current round and log it.
    fn play(&mut self, action: Action) -> Result<(), game::RuleError> {
        self.round_mut().apply(action)?;
        self.actions.last_mut().expect("a table logs its current round").push(action);
        Ok(())
    }

    /// Play a search's decision, keeping it as an example when recording.
    fn apply(&mut self, result: &SearchResult, record: bool) {
        if record && !result.forced {
            let (game, round) = (self.context(), *self.round());
            self.pending.push(UnscoredExample {
                info: round.info_set(round.to_act()),
                game,
                hands: mcts::hands_of(&round),
                policy: result.policy.to_vec(),
            });
        }
        self.play(result.action).expect("search plays legal actions");
        self.decisions += 1;
    }
}

/// The players other than the one agent whose evaluator is lent to the searcher (split around
/// it, so that bots can move inside the searcher's refill callback).
struct BotSeats<'p, 'a> {
    before: &'p mut [Player<'a>],
    after: &'p mut [Player<'a>],
}

impl<'a> BotSeats<'_, 'a> {
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

    /// Let bots move (through the rounds of a game) until the deal is over (`None`) or an
    /// agent is to act (its index).
    fn advance(&mut self, table: &mut OpenTable, deals: &[Deal]) -> Option<usize> {
        let lineup = &deals[table.deal].lineup;
        loop {
            while !table.round().is_over() {
                let seat = table.round().to_act();
                let Some(bot) = self.bot(lineup[seat]) else { return Some(lineup[seat]) };
                let action = bot.act(&table.round().info_set(seat), &mut table.rng);
                table.play(action).expect("bots play legal actions");
            }
            if !table.next_round() {
                return None;
            }
        }
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
    on_done: impl FnMut(&Played),
) -> Result<(Vec<Played>, SearchStats), mcts::SearchError> {
    play_deals_from(deals, 0, players, searcher, concurrent, seed, record, on_done)
}

/// [`play_deals`] for deals numbered from `first` in a longer run of deals played a part at a
/// time: each deal's randomness is seeded by its number, so playing the run in parts makes
/// the same choices as playing it at once.
#[allow(clippy::too_many_arguments)]
pub fn play_deals_from(
    deals: &[Deal],
    first: usize,
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
    let mut tables: Vec<Option<OpenTable>> = Vec::new();
    let mut deliver = |played: Played, results: &mut [Option<Played>]| {
        on_done(&played);
        let deal = played.deal;
        results[deal] = Some(played);
    };
    loop {
        {
            let mut everyone = BotSeats { before: players, after: &mut [] };
            while tables.len() < concurrent && next < deals.len() {
                let mut table = OpenTable::start(deals, next, first, seed);
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
            let Some((Player::Agent { search: config, evaluator, play_model }, after)) = rest.split_first_mut() else { continue };
            let mut others = BotSeats { before, after };
            let waiting: Vec<usize> = (0..tables.len())
                .filter(|&t| {
                    tables[t].as_ref().is_some_and(|table| deals[table.deal].lineup[table.round().to_act()] == index)
                })
                .collect();
            if waiting.is_empty() {
                continue;
            }
            let mut searches = waiting
                .iter()
                .map(|&t| tables[t].as_ref().expect("filtered on live tables").search(config, play_model, seed))
                .collect::<Result<Vec<_>, _>>()?;
            let mut failure = None;
            let refill = |slot: usize, result: &SearchResult| -> Option<Search> {
                let t = waiting[slot];
                let mut table = tables[t].take().expect("a slot's table is live while its search runs");
                table.apply(result, record);
                loop {
                    match others.advance(&mut table, deals) {
                        Some(player) => {
                            let search = (player == index).then(|| table.search(config, play_model, seed));
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
                            table = OpenTable::start(deals, next, first, seed);
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

fn finish(table: OpenTable) -> Played {
    let rounds = match table.progress {
        Progress::Round(round) => vec![round],
        Progress::Game { finished, .. } => finished,
    };
    let targets: Vec<[f32; MAX_PLAYERS]> = (0..rounds.len()).map(|r| remaining_score_targets(&rounds, r)).collect();
    let players = rounds[0].players();
    let taken: Vec<[u8; MAX_PLAYERS]> =
        rounds.iter().map(|round| std::array::from_fn(|seat| if seat < players { round.tricks_won(seat) } else { 0 })).collect();
    let examples = table
        .pending
        .into_iter()
        .map(|UnscoredExample { info, game, hands, policy }| {
            let index = game.map_or(0, |g| g.round_index);
            let values = relative_to(info.observer(), players, &targets[index]);
            let tricks = Some(relative_to(info.observer(), players, &taken[index]));
            Example { info, game, hands: Some(hands), policy, values, tricks }
        })
        .collect();
    Played { deal: table.deal, rounds, actions: table.actions, examples }
}

/// Value targets by absolute seat for a decision in round `from` of the finished `rounds`:
/// each seat's score over rounds `from..` divided by the most a seat could score in them (the
/// sum of 10 + n), so in [0, 1]. For a lone round: `Round::scaled_scores`.
pub fn remaining_score_targets(rounds: &[Round], from: usize) -> [f32; MAX_PLAYERS] {
    let later = &rounds[from..];
    let most: usize = later.iter().map(|round| 10 + round.cards()).sum();
    let mut totals = [0i32; MAX_PLAYERS];
    for round in later {
        for (total, score) in totals.iter_mut().zip(round.scores()) {
            *total += score;
        }
    }
    totals.map(|total| total as f32 / most as f32)
}

/// Per-seat values by absolute seat, re-indexed by seat relative to `observer` (seats beyond
/// the table get the default).
pub fn relative_to<T: Copy + Default>(observer: usize, players: usize, absolute: &[T; MAX_PLAYERS]) -> [T; MAX_PLAYERS] {
    let mut values = [T::default(); MAX_PLAYERS];
    for (relative, value) in values.iter_mut().enumerate().take(players) {
        *value = absolute[(observer + relative) % players];
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use game::{Action, Card, CardSet, Suit};

    /// A one-card round of three players with the given hands and bids (in bidding order),
    /// played out.
    fn one_card_round(dealer: usize, trump: Suit, hands: [&str; 3], bids: [u8; 3]) -> Round {
        let card = |text: &str| text.parse::<Card>().unwrap();
        let sets: Vec<CardSet> = hands.iter().map(|c| std::iter::once(card(c)).collect()).collect();
        let mut round = Round::new(3, 1, dealer, Some(trump), &sets).unwrap();
        for bid in bids {
            round.apply(Action::Bid(bid)).unwrap();
        }
        for k in 1..=3 {
            round.apply(Action::Play(card(hands[(dealer + k) % 3]))).unwrap();
        }
        assert!(round.is_over());
        round
    }

    #[test]
    fn game_value_targets_are_the_remaining_score_over_the_most_still_possible() {
        // The schedule of 3 players from 1 card: three one-card rounds.
        let rounds = [
            // Seats 1 and 2 make 0; the dealer is hooked into 0 and takes the trick.
            one_card_round(0, Suit::Spades, ["As", "2c", "3c"], [0, 0, 0]),
            // Seat 2 makes 1, seat 0 makes 0, the dealer is hooked into 1 and misses.
            one_card_round(1, Suit::Hearts, ["2d", "3d", "Ah"], [1, 0, 1]),
            // Seat 0 makes 1 with a trump, seat 1 makes 0, the dealer misses 1.
            one_card_round(2, Suit::Clubs, ["Kc", "2s", "3s"], [1, 0, 1]),
        ];
        let scores: Vec<_> = rounds.iter().map(|r| r.scores()[..3].to_vec()).collect();
        assert_eq!(scores, [vec![0, 10, 10], vec![10, 0, 11], vec![11, 10, 0]]);
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(close(&remaining_score_targets(&rounds, 0)[..3], &[21.0 / 33.0, 20.0 / 33.0, 21.0 / 33.0]));
        assert!(close(&remaining_score_targets(&rounds, 1)[..3], &[21.0 / 22.0, 10.0 / 22.0, 11.0 / 22.0]));
        assert_eq!(remaining_score_targets(&rounds, 2), rounds[2].scaled_scores());
        // Stored relative to the example's seat: seat 1's view of round 1 is seats 1, 2, 0.
        let relative = relative_to(1, 3, &remaining_score_targets(&rounds, 1));
        assert!(close(&relative, &[10.0 / 22.0, 11.0 / 22.0, 21.0 / 22.0, 0.0, 0.0, 0.0, 0.0, 0.0]));
    }
}
