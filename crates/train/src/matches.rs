//! Matches: deals replayed with the seats rotated so that every player meets the same cards
//! from every seat, and their statistics (mean scores with 95% intervals, paired advantages,
//! exact-bid rates, Elo). The training run's evaluation plays one agent against one opponent
//! ([`play_match`]); `blob arena` plays any set of entrants ([`run_arena`]): networks with
//! search or their raw policy, PimcBot, HeuristicBot, RandomBot, all agents' searches batched
//! through the deal runner.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::str::FromStr;

use anyhow::Context;
use game::{Bot, HeuristicBot, PimcBot, RandomBot, Round, TRUMP_CYCLE};
use mcts::{BatchedSearcher, DriverConfig, OpponentModel, PlayModel, SearchConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::agent::{load_cpu_evaluator, SearchSpec};
use crate::deals::{play_deals, play_deals_from, Deal, Dealt, Played, Player};

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
        out.extend(lineups.iter().map(|lineup| Deal { dealt: Dealt::Round(round), lineup: lineup.clone() }));
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
            lineups.iter().map(move |lineup| Deal { dealt: Dealt::Game { schedule: schedule.clone(), dealing }, lineup: lineup.clone() })
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

/// One entrant: `heuristic`, `random`, `pimc[:W:R]` (W worlds, R playouts per action, default
/// 400:4), or a network file or checkpoint directory `PATH[@SEARCH]` playing with a search of
/// [`SearchSpec`]'s forms (`PATH@policy`, `PATH@DxS`, `PATH@Dx1ply`, `PATH@Droll`; default
/// [`SearchSpec::DEFAULT`], the play settings).
#[derive(Clone, Debug, PartialEq)]
pub enum Entrant {
    Heuristic,
    Random,
    Pimc { worlds: usize, playouts: usize },
    Net { path: PathBuf, search: SearchSpec },
}

impl Entrant {
    /// The search this entrant plays with, for networks.
    pub fn search(&self) -> Option<SearchConfig> {
        match self {
            Entrant::Net { search, .. } => Some(search.config()),
            _ => None,
        }
    }

    fn bot(&self) -> Option<Box<dyn Bot + Send>> {
        match self {
            Entrant::Heuristic => Some(Box::new(HeuristicBot)),
            Entrant::Random => Some(Box::new(RandomBot)),
            Entrant::Pimc { worlds, playouts } => {
                Some(Box::new(PimcBot::new(*worlds, *playouts).expect("validated when parsed")))
            }
            Entrant::Net { .. } => None,
        }
    }
}

/// `pimc`, or `pimc:W:R` with W worlds and R playouts per action.
fn parse_pimc(text: &str) -> Option<Result<Entrant, String>> {
    let rest = text.strip_prefix("pimc")?;
    if rest.is_empty() {
        let defaults = PimcBot::default();
        return Some(Ok(Entrant::Pimc { worlds: defaults.worlds(), playouts: defaults.playouts() }));
    }
    let rest = rest.strip_prefix(':')?;
    let parsed = rest.split_once(':').and_then(|(w, r)| Some((w.parse::<usize>().ok()?, r.parse::<usize>().ok()?)));
    Some(match parsed {
        Some((worlds, playouts)) => match PimcBot::new(worlds, playouts) {
            Ok(_) => Ok(Entrant::Pimc { worlds, playouts }),
            Err(error) => Err(format!("{text:?}: {error}")),
        },
        None => Err(format!("{text:?}: expected pimc or pimc:W:R, e.g. pimc:400:4")),
    })
}

impl FromStr for Entrant {
    type Err = String;

    fn from_str(text: &str) -> Result<Entrant, String> {
        match text {
            "heuristic" => return Ok(Entrant::Heuristic),
            "random" => return Ok(Entrant::Random),
            "" => return Err("empty entrant".into()),
            _ => {}
        }
        if let Some(pimc) = parse_pimc(text) {
            return pimc;
        }
        let (path, search) = match text.rsplit_once('@') {
            Some((path, search)) => (path, search.parse::<SearchSpec>().map_err(|e| format!("{text:?}: {e}"))?),
            None => (text, SearchSpec::DEFAULT),
        };
        Ok(Entrant::Net { path: PathBuf::from(path), search })
    }
}

impl std::fmt::Display for Entrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entrant::Heuristic => write!(f, "heuristic"),
            Entrant::Random => write!(f, "random"),
            Entrant::Pimc { worlds, playouts } => write!(f, "pimc:{worlds}:{playouts}"),
            Entrant::Net { path, search } => write!(f, "{}@{search}", path.display()),
        }
    }
}

pub struct ArenaOptions {
    pub entrants: Vec<Entrant>,
    pub players: usize,
    /// Round sizes, drawn uniformly per deal (lone rounds).
    pub cards: Vec<usize>,
    /// Whole games by the schedule from this many cards instead of lone rounds.
    pub game: Option<usize>,
    /// The exploration constant of network entrants' searches (`None`: the search default).
    pub c_puct: Option<f32>,
    /// How the other seats choose in network entrants' worlds (`None`: the search default).
    pub opponent_model: Option<OpponentModel>,
    /// Network entrants learn the other seats' card play as the arena goes (a `PlayModel`
    /// each, from the seats not their own), in blocks of [`LEARNING_BLOCK`] deals.
    pub learn_opponents: bool,
    /// Write every round played here as a round record (JSON lines, docs/formats.md), in deal
    /// order (a game's rounds in turn).
    pub records: Option<PathBuf>,
    pub deals: usize,
    pub seed: u64,
    pub concurrent: usize,
}

/// Deals (each with all its seat rotations) played between two updates of the learnt models
/// of the other seats' play (`ArenaOptions::learn_opponents`): each block's searches use what
/// the blocks before it showed, so the results do not depend on the batching.
pub const LEARNING_BLOCK: usize = 25;

/// Seat lineups of one deal: rotation r puts entrant (seat + r) mod E in each seat, so over the
/// E rotations every entrant takes every seat exactly once.
fn rotations(entrants: usize, players: usize) -> Vec<Vec<usize>> {
    (0..entrants).map(|r| (0..players).map(|seat| (seat + r) % entrants).collect()).collect()
}

/// Play `deals` in blocks of [`LEARNING_BLOCK`] deals x `rotations`, each network entrant
/// learning the card play of the seats not its own from every finished block and searching
/// the next with it. Returns the deals played and each network entrant's model at the end.
fn play_learning_opponents(
    deals: &[Deal],
    rotations: usize,
    players: &mut [Player],
    searcher: &mut BatchedSearcher,
    options: &ArenaOptions,
) -> anyhow::Result<(Vec<Played>, Vec<(usize, PlayModel)>)> {
    let mut models: Vec<(usize, PlayModel)> =
        (0..players.len()).filter(|&p| matches!(players[p], Player::Agent { .. })).map(|p| (p, PlayModel::default())).collect();
    let mut played = Vec::with_capacity(deals.len());
    let block = LEARNING_BLOCK * rotations;
    for (index, part) in deals.chunks(block).enumerate() {
        for (player, model) in &models {
            if let Player::Agent { play_model, .. } = &mut players[*player] {
                *play_model = Some(Arc::new(model.clone()));
            }
        }
        let first = index * block;
        let (mut results, _) = play_deals_from(part, first, players, searcher, options.concurrent, options.seed, false, |_| {})?;
        for result in &mut results {
            let lineup = &part[result.deal].lineup;
            for (player, model) in &mut models {
                for (end, actions) in result.rounds.iter().zip(&result.actions) {
                    model.observe_round(end, actions, |seat| lineup[seat] != *player);
                }
            }
            result.deal += first;
        }
        played.extend(results);
    }
    Ok((played, models))
}

/// Every round of `played` as a round record, one JSON line each, written atomically.
fn write_records(path: &std::path::Path, played: &[Played]) -> anyhow::Result<()> {
    let mut text = String::new();
    for result in played {
        for (end, actions) in result.rounds.iter().zip(&result.actions) {
            let record = game::record::RoundRecord::new(&end.as_dealt(), actions)?;
            text.push_str(&serde_json::to_string(&record)?);
            text.push('\n');
        }
    }
    blobnet::files::write_atomically(path, |w| w.write_all(text.as_bytes()))?;
    Ok(())
}

/// Play the tournament and return the report.
pub fn run_arena(options: &ArenaOptions) -> anyhow::Result<String> {
    let entrants = &options.entrants;
    anyhow::ensure!(entrants.len() >= 2, "an arena needs at least two entrants");
    game::check_table(options.players, 1, 0).map_err(|e| anyhow::anyhow!("--players: {e}"))?;
    anyhow::ensure!(options.deals > 0 && options.concurrent > 0, "--deals and --concurrent must be at least 1");
    anyhow::ensure!(!options.cards.is_empty(), "--cards: no round size given");
    for &n in &options.cards {
        game::check_table(options.players, n, 0).map_err(|e| anyhow::anyhow!("--cards: {e}"))?;
    }
    if let Some(start) = options.game {
        game::check_table(options.players, start, 0).map_err(|e| anyhow::anyhow!("--game: {e}"))?;
    }
    let mut evaluators = Vec::new();
    for entrant in entrants {
        if let Entrant::Net { path, .. } = entrant {
            evaluators.push(load_cpu_evaluator(path).with_context(|| format!("entrant {entrant}"))?);
        }
    }
    let mut nets = evaluators.iter_mut();
    let mut players: Vec<Player> = entrants
        .iter()
        .map(|entrant| match (entrant.bot(), entrant.search()) {
            (Some(bot), _) => Player::Bot(bot),
            (None, search) => Player::Agent {
                search: {
                    let search = search.expect("an entrant is a bot or a network");
                    SearchConfig {
                        c_puct: options.c_puct.unwrap_or(search.c_puct),
                        opponent_model: options.opponent_model.unwrap_or(search.opponent_model),
                        ..search
                    }
                },
                evaluator: nets.next().expect("one evaluator per network entrant"),
                play_model: None,
            },
        })
        .collect();
    for player in &players {
        if let Player::Agent { search, .. } = player {
            search.validate().context("entrant search")?;
        }
    }

    let lineups = rotations(entrants.len(), options.players);
    let deals = match options.game {
        Some(start) => replayed_games(options.players, start, options.deals, &lineups)?,
        None => replayed_deals(options.players, &options.cards, options.deals, options.seed, &lineups),
    };
    // Room for a few searches of the largest entrant in each batch.
    let largest = players.iter().filter_map(|p| match p { Player::Agent { search, .. } => Some(search.largest_wave()), Player::Bot(_) => None }).max();
    let mut searcher = BatchedSearcher::new(DriverConfig::holding(4, largest.unwrap_or(0)))?;
    let (played, learnt) = if options.learn_opponents {
        play_learning_opponents(&deals, lineups.len(), &mut players, &mut searcher, options)?
    } else {
        (play_deals(&deals, &mut players, &mut searcher, options.concurrent, options.seed, false, |_| {})?.0, Vec::new())
    };

    if let Some(path) = &options.records {
        write_records(path, &played).with_context(|| format!("--records {}", path.display()))?;
    }

    let e = entrants.len();
    let mut scores = vec![Vec::new(); e];
    let mut exact = vec![0usize; e];
    let mut bids = vec![[0usize; 4]; e];
    // Per pair (a, b): a's mean score per seat minus b's, at each table where both sat.
    let mut differences = vec![vec![Vec::new(); e]; e];
    // Per entrant: its mean score per seat minus the mean of the other seats, per table (one
    // number for "the agent against three copies of a bot", as training's evaluation gives).
    let mut against_field = vec![Vec::new(); e];
    // Bids are counted per round played (a game has many); scores per deal (round or game).
    let mut rounds_played = vec![0usize; e];
    for result in &played {
        let lineup = &deals[result.deal].lineup;
        let mut table_mean = vec![(0.0, 0usize); e];
        for (seat, &who) in lineup.iter().enumerate() {
            let score: f64 = result.rounds.iter().map(|round| round.score(seat) as f64).sum();
            for round in &result.rounds {
                exact[who] += (round.bid(seat) == Some(round.tricks_won(seat))) as usize;
                bids[who][(round.bid(seat).unwrap_or(0) as usize).min(3)] += 1;
                rounds_played[who] += 1;
            }
            scores[who].push(score);
            table_mean[who].0 += score;
            table_mean[who].1 += 1;
        }
        for a in 0..e {
            for b in 0..e {
                if a != b && table_mean[a].1 > 0 && table_mean[b].1 > 0 {
                    let (ma, mb) = (table_mean[a].0 / table_mean[a].1 as f64, table_mean[b].0 / table_mean[b].1 as f64);
                    differences[a][b].push(ma - mb);
                }
            }
        }
        let (table_sum, table_seats) = table_mean.iter().fold((0.0, 0), |(s, n), &(sum, seats)| (s + sum, n + seats));
        for (a, &(sum, seats)) in table_mean.iter().enumerate() {
            if seats > 0 && seats < table_seats {
                against_field[a].push(sum / seats as f64 - (table_sum - sum) / (table_seats - seats) as f64);
            }
        }
    }

    let mut report = String::new();
    let (what, per) = match options.game {
        Some(start) => {
            let rounds = 2 * start + options.players - 2;
            (format!("whole games from {start} cards ({rounds} rounds), seed {}", options.seed), "score/game")
        }
        None => {
            let sizes: Vec<String> = options.cards.iter().map(|n| n.to_string()).collect();
            (format!("cards {{{}}}, seed {}", sizes.join(","), options.seed), "score/round")
        }
    };
    writeln!(report, "{} deals x {} seatings, {} players, {what}", options.deals, lineups.len(), options.players)?;
    writeln!(report, "{:<3} {:<40} {:>7} {:>14} {:>7} {:>22}", "#", "entrant", "seats", per, "exact", "bids 0 / 1 / 2 / 3+")?;
    for (i, entrant) in entrants.iter().enumerate() {
        let (mean, ci) = mean_ci(&scores[i]);
        let seats = scores[i].len();
        let share = |k: usize| 100.0 * bids[i][k] as f64 / rounds_played[i].max(1) as f64;
        writeln!(
            report,
            "{:<3} {:<40} {:>7} {:>8.2} ± {:<4.2} {:>6.1}% {:>5.0}% {:>3.0}% {:>3.0}% {:>3.0}%",
            i,
            entrant.to_string(),
            seats,
            mean,
            ci,
            100.0 * exact[i] as f64 / rounds_played[i].max(1) as f64,
            share(0),
            share(1),
            share(2),
            share(3)
        )?;
    }
    writeln!(report, "against the field: each entrant's {per} minus the other seats' mean at its tables, with its 95% interval")?;
    for (i, tables) in against_field.iter().enumerate() {
        let (mean, ci) = mean_ci(tables);
        writeln!(report, "{i:<3} {mean:+.2} ± {ci:.2}")?;
    }
    writeln!(report, "pairwise: share of tables where the row entrant outscored the column entrant (ties half)")?;
    write_matrix(&mut report, &differences, 6, |tables| {
        let wins: f64 = tables.iter().map(|&d| if d > 0.0 { 1.0 } else if d == 0.0 { 0.5 } else { 0.0 }).sum();
        format!("{:.1}%", 100.0 * wins / tables.len() as f64)
    })?;
    writeln!(report, "advantage: row's {per} minus column's at the same tables, with its 95% interval")?;
    write_matrix(&mut report, &differences, 13, |tables| {
        let (mean, ci) = mean_ci(tables);
        format!("{mean:+.2} ± {ci:.2}")
    })?;
    for (player, model) in &learnt {
        writeln!(
            report,
            "learnt play of the other seats, entrant {player}: {} card plays seen, {} of 9 situations predicted; {} bids seen, {}",
            model.plays(),
            model.trusted_situations(),
            model.bids().0,
            if model.bids().1 { "predicted" } else { "not predicted" }
        )?;
    }
    Ok(report)
}

/// One line per row entrant, one `width`-wide cell per column entrant (`-` where they never
/// met or on the diagonal), each cell made by `cell` from the pair's per-table differences.
fn write_matrix(report: &mut String, differences: &[Vec<Vec<f64>>], width: usize, cell: impl Fn(&[f64]) -> String) -> std::fmt::Result {
    write!(report, "{:<3}", "")?;
    for b in 0..differences.len() {
        write!(report, " {b:>width$}")?;
    }
    writeln!(report)?;
    for (a, row) in differences.iter().enumerate() {
        write!(report, "{a:<3}")?;
        for (b, tables) in row.iter().enumerate() {
            let text = if a == b || tables.is_empty() { "-".to_string() } else { cell(tables) };
            write!(report, " {text:>width$}")?;
        }
        writeln!(report)?;
    }
    Ok(())
}

/// Round sizes for `--cards`: a list like `1,3,5` or a range like `1-8`.
#[derive(Clone, Debug, PartialEq)]
pub struct CardSizes(pub Vec<usize>);

impl FromStr for CardSizes {
    type Err = String;

    fn from_str(text: &str) -> Result<CardSizes, String> {
        let bad = || format!("{text:?}: expected sizes like 1,3,5 or a range like 1-8");
        if let Some((low, high)) = text.split_once('-') {
            let (low, high): (usize, usize) = (low.trim().parse().map_err(|_| bad())?, high.trim().parse().map_err(|_| bad())?);
            return if low <= high { Ok(CardSizes((low..=high).collect())) } else { Err(bad()) };
        }
        text.split(',').map(|n| n.trim().parse().map_err(|_| bad())).collect::<Result<_, _>>().map(CardSizes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcts::{Evaluation, Evaluator, Leaf, Search};

    use blobnet::NetEvaluator;

    #[test]
    fn entrants_parse_and_print_back() {
        for text in ["heuristic", "random", "pimc:400:4", "pimc:50:2", "x/net.bin@policy", "x/net.bin@3x7", "x/net.bin@64roll", "x/net.bin@64roll/1", "x/net.bin@256x1ply", "x/net.bin@256halve", "x/net.bin@64halve/4"] {
            assert_eq!(text.parse::<Entrant>().unwrap().to_string(), text);
        }
        assert_eq!("pimc".parse::<Entrant>().unwrap(), Entrant::Pimc { worlds: 400, playouts: 4 });
        let default = "x/net.bin".parse::<Entrant>().unwrap();
        assert_eq!(default, Entrant::Net { path: PathBuf::from("x/net.bin"), search: SearchSpec::DEFAULT });
        for bad in ["x/net.bin@", "x/net.bin@0roll", "x/net.bin@3x", "x/net.bin@roll", "x/net.bin@64roll/0", "x/net.bin@64roll8", "x/net.bin@5000x1ply", "x/net.bin@halve", "x/net.bin@64halve/0"] {
            let error = bad.parse::<Entrant>().unwrap_err();
            assert!(error.contains(bad), "{error}");
        }
    }

    /// `PATH@policy` plays the network's most probable legal action from the information set
    /// alone, whatever the position.
    #[test]
    fn the_policy_entrant_plays_the_most_probable_legal_action() {
        let device = blobnet::CpuDevice::default();
        <blobnet::CpuBackend as burn::tensor::backend::Backend>::seed(&device, 3);
        let net = blobnet::BlobNetConfig::tiny().init::<blobnet::CpuBackend>(&device);
        let mut evaluator = NetEvaluator::new(net, device);
        let config = SearchSpec::Policy.config();
        let mut searcher = BatchedSearcher::new(DriverConfig { overlap: false, ..DriverConfig::default() }).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut checked = 0;
        for deal in 0..40 {
            let mut round = Round::deal(4, 1 + deal % 6, deal % 4, game::TRUMP_CYCLE[deal % 5], &mut rng).unwrap();
            while !round.is_over() {
                let info = round.info_set(round.to_act());
                let legal = round.legal_actions();
                if legal.len() > 1 {
                    let mut prior = [Evaluation::default()];
                    evaluator.evaluate(&[Leaf::of_info(info)], &mut prior);
                    let best = legal.iter().max_by(|a, b| prior[0].policy[a.index()].total_cmp(&prior[0].policy[b.index()])).unwrap();
                    let mut searches = [Search::new(&info, &config, deal as u64).unwrap()];
                    searcher.run(&mut searches, &mut evaluator).unwrap();
                    assert_eq!(searches[0].result().unwrap().action, best, "{round:?}");
                    checked += 1;
                }
                round.apply_legal(legal.sample(&mut rng).unwrap());
            }
        }
        assert!(checked > 100, "{checked}");
    }
}
