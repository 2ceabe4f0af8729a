//! Matches between an agent and an opponent: the same deals replayed with the agent in every
//! seat (seats rotated, deals mirrored), mean scores with confidence intervals, exact-bid rate,
//! and an Elo-style rating from per-round wins against the opponents' mean.

use game::{Round, TRUMP_CYCLE};
use mcts::BatchedSearcher;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::table::{play_deals, Deal, Player, Setup};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchResult {
    pub opponent: String,
    pub rounds: usize,
    /// The agent's mean round score, and its 95% confidence half-width.
    pub agent_mean: f64,
    pub agent_ci95: f64,
    /// The opponents' mean round score (per seat).
    pub opponent_mean: f64,
    /// Agent minus opponents' mean, per round, with its 95% half-width: above zero with the
    /// interval clear of it means the agent is better.
    pub advantage: f64,
    pub advantage_ci95: f64,
    pub agent_exact_rate: f64,
    pub opponent_exact_rate: f64,
    /// Elo difference from the per-round score fraction (win 1, tie 0.5), with a 95% interval.
    pub elo: f64,
    pub elo_low: f64,
    pub elo_high: f64,
}

/// `deals` deals of `players` x n (n drawn from `cards`, dealer rotating, trump random), each
/// played once with every lineup (the player index of each seat).
pub fn replayed_deals(players: usize, cards: &[usize], deals: usize, seed: u64, lineups: &[Vec<usize>]) -> Vec<Deal> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(deals * lineups.len());
    for d in 0..deals {
        let n = cards[rng.gen_range(0..cards.len())];
        let round = Round::deal(players, n, d % players, TRUMP_CYCLE[rng.gen_range(0..5)], &mut rng).expect("validated sizes");
        out.extend(lineups.iter().map(|lineup| Deal { setup: Setup::Round(round), lineup: lineup.clone() }));
    }
    out
}

/// `deals` whole games of `players` by the schedule from `start` cards, each played once with
/// every lineup on the same cards (every round of a game is dealt from the game's number).
pub fn replayed_games(players: usize, start: usize, deals: usize, lineups: &[Vec<usize>]) -> Result<Vec<Deal>, game::DealError> {
    let schedule = game::Schedule::new(players, start)?;
    Ok((0..deals as u64)
        .flat_map(|dealing| {
            let schedule = &schedule;
            lineups.iter().map(move |lineup| Deal { setup: Setup::Game { schedule: schedule.clone(), dealing }, lineup: lineup.clone() })
        })
        .collect())
}

/// [`replayed_deals`] with the agent (player 0) in each seat in turn and the opponent
/// (player 1) elsewhere.
pub fn mirrored_deals(players: usize, cards: &[usize], deals: usize, seed: u64) -> Vec<Deal> {
    let lineups: Vec<Vec<usize>> = (0..players).map(|hero| (0..players).map(|s| usize::from(s != hero)).collect()).collect();
    replayed_deals(players, cards, deals, seed, &lineups)
}

/// Play `deals` (from [`mirrored_deals`]) between `players[0]` (the agent) and `players[1]`.
pub fn play_match(
    opponent: &str,
    deals: &[Deal],
    players: &mut [Player],
    searcher: &mut BatchedSearcher,
    concurrent: usize,
    seed: u64,
) -> Result<MatchResult, mcts::SearchError> {
    let (played, _) = play_deals(deals, players, searcher, concurrent, seed, false, |_| {})?;
    let mut agent = Vec::new();
    let mut others = Vec::new();
    let mut advantage = Vec::new();
    let mut fractions = Vec::new();
    let (mut agent_exact, mut other_exact, mut other_seats) = (0usize, 0usize, 0usize);
    for result in &played {
        let lineup = &deals[result.deal].lineup;
        let end = result.end();
        let scores = end.scores();
        let hero = lineup.iter().position(|&p| p == 0).expect("the agent has a seat");
        let a = scores[hero] as f64;
        let opponents: Vec<f64> = (0..lineup.len()).filter(|&s| s != hero).map(|s| scores[s] as f64).collect();
        let o = opponents.iter().sum::<f64>() / opponents.len() as f64;
        agent.push(a);
        others.push(o);
        advantage.push(a - o);
        fractions.push(if a > o { 1.0 } else if a == o { 0.5 } else { 0.0 });
        agent_exact += (end.bid(hero) == Some(end.tricks_won(hero))) as usize;
        other_exact += opponents.len() - (0..lineup.len()).filter(|&s| s != hero && end.bid(s) != Some(end.tricks_won(s))).count();
        other_seats += opponents.len();
    }
    let rounds = played.len();
    let (fraction, fraction_ci) = mean_ci(&fractions);
    let elo = |s: f64| {
        let s = s.clamp(0.001, 0.999);
        400.0 * (s / (1.0 - s)).log10()
    };
    Ok(MatchResult {
        opponent: opponent.to_string(),
        rounds,
        agent_mean: mean_ci(&agent).0,
        agent_ci95: mean_ci(&agent).1,
        opponent_mean: mean_ci(&others).0,
        advantage: mean_ci(&advantage).0,
        advantage_ci95: mean_ci(&advantage).1,
        agent_exact_rate: agent_exact as f64 / rounds.max(1) as f64,
        opponent_exact_rate: other_exact as f64 / other_seats.max(1) as f64,
        elo: elo(fraction),
        elo_low: elo(fraction - fraction_ci),
        elo_high: elo(fraction + fraction_ci),
    })
}

/// Mean and 95% confidence half-width (normal approximation).
pub fn mean_ci(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, 1.96 * (variance / n).sqrt())
}

impl std::fmt::Display for MatchResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "vs {:<10} {} rounds: agent {:.2} ± {:.2}, opponents {:.2}, advantage {:+.2} ± {:.2}, exact bids {:.0}% vs {:.0}%, Elo {:+.0} [{:+.0}, {:+.0}]",
            self.opponent,
            self.rounds,
            self.agent_mean,
            self.agent_ci95,
            self.opponent_mean,
            self.advantage,
            self.advantage_ci95,
            100.0 * self.agent_exact_rate,
            100.0 * self.opponent_exact_rate,
            self.elo,
            self.elo_low,
            self.elo_high
        )
    }
}
