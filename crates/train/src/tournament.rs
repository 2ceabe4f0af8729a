//! `blob arena`: any set of entrants (networks with search, HeuristicBot, RandomBot) at the same
//! tables. Every deal is replayed with the seats rotated, so each entrant meets the same cards
//! from every position; all agents' searches are batched through the table runner.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Context;
use game::{Bot, HeuristicBot, RandomBot};
use mcts::{BatchedSearcher, DriverConfig, SearchConfig};

use crate::agent::load_cpu_evaluator;
use crate::arena::{mean_ci, replayed_deals};
use crate::table::{play_deals, Player};

/// One entrant: `heuristic`, `random`, or `PATH[@DxS]` (a network file or checkpoint directory,
/// searched with D worlds x S simulations, default 2x20).
#[derive(Clone, Debug, PartialEq)]
pub enum Entrant {
    Heuristic,
    Random,
    Net { path: PathBuf, worlds: u32, simulations: u32 },
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
        let (path, search) = match text.rsplit_once('@') {
            Some((path, search)) => (path, Some(search)),
            None => (text, None),
        };
        let (worlds, simulations) = match search {
            None => (2, 20),
            Some(search) => {
                let parse = |s: &str| s.parse::<u32>().ok().filter(|&v| v > 0);
                match search.split_once('x').map(|(d, s)| (parse(d), parse(s))) {
                    Some((Some(d), Some(s))) => (d, s),
                    _ => return Err(format!("{text:?}: search must be DxS, e.g. @2x20")),
                }
            }
        };
        Ok(Entrant::Net { path: PathBuf::from(path), worlds, simulations })
    }
}

impl std::fmt::Display for Entrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entrant::Heuristic => write!(f, "heuristic"),
            Entrant::Random => write!(f, "random"),
            Entrant::Net { path, worlds, simulations } => write!(f, "{}@{worlds}x{simulations}", path.display()),
        }
    }
}

pub struct ArenaOptions {
    pub entrants: Vec<Entrant>,
    pub players: usize,
    /// Round sizes, drawn uniformly per deal.
    pub cards: Vec<usize>,
    pub deals: usize,
    pub seed: u64,
    pub concurrent: usize,
}

/// Seat lineups of one deal: rotation r puts entrant (seat + r) mod E in each seat, so over the
/// E rotations every entrant takes every seat exactly once.
fn rotations(entrants: usize, players: usize) -> Vec<Vec<usize>> {
    (0..entrants).map(|r| (0..players).map(|seat| (seat + r) % entrants).collect()).collect()
}

/// Play the tournament and return the report.
pub fn run_arena(options: &ArenaOptions) -> anyhow::Result<String> {
    let entrants = &options.entrants;
    anyhow::ensure!(entrants.len() >= 2, "an arena needs at least two entrants");
    anyhow::ensure!((game::MIN_PLAYERS..=game::MAX_PLAYERS).contains(&options.players), "--players must be 3..=8");
    anyhow::ensure!(options.deals > 0 && options.concurrent > 0, "--deals and --concurrent must be at least 1");
    let max = game::max_cards(options.players);
    anyhow::ensure!(
        !options.cards.is_empty() && options.cards.iter().all(|&n| (1..=max).contains(&n)),
        "--cards must be sizes in 1..={max} for {} players",
        options.players
    );
    let mut evaluators = Vec::new();
    for entrant in entrants {
        if let Entrant::Net { path, .. } = entrant {
            evaluators.push(load_cpu_evaluator(path).with_context(|| format!("entrant {entrant}"))?);
        }
    }
    let mut nets = evaluators.iter_mut();
    let mut players: Vec<Player> = entrants
        .iter()
        .map(|entrant| match entrant {
            Entrant::Heuristic => Player::Bot(Box::new(HeuristicBot) as Box<dyn Bot + Send>),
            Entrant::Random => Player::Bot(Box::new(RandomBot)),
            Entrant::Net { worlds, simulations, .. } => Player::Agent {
                search: SearchConfig { worlds: *worlds, simulations: *simulations, ..SearchConfig::light() }.for_play(),
                evaluator: nets.next().expect("one evaluator per network entrant"),
            },
        })
        .collect();
    for player in &players {
        if let Player::Agent { search, .. } = player {
            search.validate().context("entrant search")?;
        }
    }

    let lineups = rotations(entrants.len(), options.players);
    let deals = replayed_deals(options.players, &options.cards, options.deals, options.seed, &lineups);
    let mut searcher = BatchedSearcher::new(DriverConfig::default())?;
    let (played, _) = play_deals(&deals, &mut players, &mut searcher, options.concurrent, options.seed, false, |_| {})?;

    let e = entrants.len();
    let mut scores = vec![Vec::new(); e];
    let mut exact = vec![0usize; e];
    let mut bids = vec![[0usize; 4]; e];
    // Per pair (a, b): a's mean score per seat minus b's, at each table where both sat.
    let mut differences = vec![vec![Vec::new(); e]; e];
    for result in &played {
        let lineup = &deals[result.deal].lineup;
        let end = result.end();
        let mut table_mean = vec![(0.0, 0usize); e];
        for (seat, &who) in lineup.iter().enumerate() {
            let score = end.score(seat) as f64;
            scores[who].push(score);
            exact[who] += (end.bid(seat) == Some(end.tricks_won(seat))) as usize;
            bids[who][(end.bid(seat).unwrap_or(0) as usize).min(3)] += 1;
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
    }

    let mut report = String::new();
    let sizes: Vec<String> = options.cards.iter().map(|n| n.to_string()).collect();
    writeln!(report, "{} deals x {} seatings, {} players, cards {{{}}}, seed {}", options.deals, lineups.len(), options.players, sizes.join(","), options.seed)?;
    writeln!(report, "{:<3} {:<40} {:>7} {:>14} {:>7} {:>22}", "#", "entrant", "seats", "score/round", "exact", "bids 0 / 1 / 2 / 3+")?;
    for (i, entrant) in entrants.iter().enumerate() {
        let (mean, ci) = mean_ci(&scores[i]);
        let seats = scores[i].len();
        let share = |k: usize| 100.0 * bids[i][k] as f64 / seats.max(1) as f64;
        writeln!(
            report,
            "{:<3} {:<40} {:>7} {:>8.2} ± {:<4.2} {:>6.1}% {:>5.0}% {:>3.0}% {:>3.0}% {:>3.0}%",
            i,
            entrant.to_string(),
            seats,
            mean,
            ci,
            100.0 * exact[i] as f64 / seats.max(1) as f64,
            share(0),
            share(1),
            share(2),
            share(3)
        )?;
    }
    writeln!(report, "pairwise: share of tables where the row entrant outscored the column entrant (ties half)")?;
    write_matrix(&mut report, &differences, 6, |tables| {
        let wins: f64 = tables.iter().map(|&d| if d > 0.0 { 1.0 } else if d == 0.0 { 0.5 } else { 0.0 }).sum();
        format!("{:.1}%", 100.0 * wins / tables.len() as f64)
    })?;
    writeln!(report, "advantage: row's score per round minus column's at the same tables, with its 95% interval")?;
    write_matrix(&mut report, &differences, 13, |tables| {
        let (mean, ci) = mean_ci(tables);
        format!("{mean:+.2} ± {ci:.2}")
    })?;
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
