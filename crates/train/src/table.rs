//! Plays many rounds at once: seats are taken by searching agents (sharing batched network
//! calls through the MCTS driver) or by baseline bots. Self-play, evaluation and the arena all
//! run through here.

use game::{Bot, InfoSet, Round, MAX_PLAYERS};
use mcts::{BatchedSearcher, Evaluator, Search, SearchConfig, SearchStats};
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

/// Play every deal to the end, at most `concurrent` at a time. `record` keeps agents'
/// decisions as training examples. `on_done` is called as each deal finishes (progress).
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
    let mut live: Vec<Live> = Vec::new();
    loop {
        while live.len() < concurrent && next < deals.len() {
            live.push(Live {
                deal: next,
                round: deals[next].round,
                rng: ChaCha8Rng::seed_from_u64(derive_seed(seed, &[next as u64, 0])),
                pending: Vec::new(),
                decisions: 0,
            });
            next += 1;
        }
        if live.is_empty() {
            break;
        }
        // Bots move at once, until every live round waits on an agent or is over.
        for table in live.iter_mut() {
            while !table.round.is_over() {
                let seat = table.round.to_act();
                let Player::Bot(bot) = &mut players[deals[table.deal].lineup[seat]] else { break };
                let action = bot.act(&table.round.info_set(seat), &mut table.rng);
                table.round.apply(action).expect("bots play legal actions");
            }
        }
        // Each agent searches all of its pending decisions in one batched run.
        for (index, player) in players.iter_mut().enumerate() {
            let Player::Agent { search, evaluator } = player else { continue };
            let waiting: Vec<usize> = (0..live.len())
                .filter(|&t| !live[t].round.is_over() && deals[live[t].deal].lineup[live[t].round.to_act()] == index)
                .collect();
            if waiting.is_empty() {
                continue;
            }
            let mut searches = waiting
                .iter()
                .map(|&t| {
                    let table = &live[t];
                    let info = table.round.info_set(table.round.to_act());
                    Search::new(&info, search, derive_seed(seed, &[table.deal as u64, 1 + table.decisions]))
                })
                .collect::<Result<Vec<_>, _>>()?;
            stats.merge(&searcher.run(&mut searches, &mut **evaluator)?);
            for (&t, search) in waiting.iter().zip(&searches) {
                let table = &mut live[t];
                let result = search.result().expect("the searcher finished every search");
                if record && !result.forced {
                    table.pending.push((*search.info(), result.policy.to_vec()));
                }
                table.round.apply(result.action).expect("search plays legal actions");
                table.decisions += 1;
            }
        }
        let mut t = 0;
        while t < live.len() {
            if live[t].round.is_over() {
                let table = live.swap_remove(t);
                let played = finish(table);
                on_done(&played);
                let deal = played.deal;
                results[deal] = Some(played);
            } else {
                t += 1;
            }
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
