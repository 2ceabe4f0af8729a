//! Search throughput with a uniform ("null") evaluator: the CPU cost of the search itself.
//! Plays 4-player 5-card rounds (random dealer and trump), many at once; every decision is
//! searched with the medium preset (3 worlds x 30 simulations), as a self-play loop would:
//! `--mode=streaming` (default) keeps one decision per game slot in the driver, refilling a
//! slot as soon as its search ends; `--mode=lockstep` runs all games' decisions of a step to
//! completion, then the next step.
//!
//! cargo run --release -p mcts --example search_bench -- [--games 256] [--rounds 2000]
//!     [--mode streaming] [--k 8] [--max-batch 4096] [--overlap true] [--preset medium]
//!     [--latency-us 0] [--leaf-ns 0]   (--help lists them)
//!
//! `--latency-us` and `--leaf-ns` make each evaluator call sleep latency + leaves x leaf-ns,
//! standing in for a GPU's cost, to show what overlapping selection with evaluation hides.

use std::time::{Duration, Instant};

use clap::{ArgAction, Parser, ValueEnum};
use game::{Round, TRUMP_CYCLE};
use mcts::{BatchedSearcher, DriverConfig, Evaluation, Evaluator, Leaf, Preset, Search, SearchConfig, UniformEvaluator};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// One decision per game slot, refilled as soon as its search ends.
    Streaming,
    /// Every game's decision of a step to completion, then the next step.
    Lockstep,
}

/// Search throughput with a uniform evaluator (the search's own CPU cost).
#[derive(Parser)]
struct Options {
    #[arg(long, value_enum, default_value = "streaming")]
    mode: Mode,
    /// Games played at once.
    #[arg(long, default_value_t = 256)]
    games: usize,
    /// Rounds to finish.
    #[arg(long, default_value_t = 2000)]
    rounds: usize,
    /// Leaves selected per world per wave.
    #[arg(long, default_value_t = 8)]
    k: u32,
    #[arg(long, default_value_t = 4096)]
    max_batch: usize,
    /// Select the next batch while the evaluator works on the last one.
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    overlap: bool,
    /// Search preset: light, medium or heavy.
    #[arg(long, default_value = "medium")]
    preset: Preset,
    /// Sleep per evaluator call, in microseconds (a stand-in for a GPU's latency).
    #[arg(long, default_value_t = 0)]
    latency_us: u64,
    /// Sleep per evaluated leaf, in nanoseconds.
    #[arg(long, default_value_t = 0)]
    leaf_ns: u64,
}

/// The uniform evaluator, plus an optional sleep per call.
struct Null {
    latency: Duration,
    per_leaf: Duration,
}

impl Evaluator for Null {
    fn evaluate(&mut self, batch: &[Leaf], out: &mut [Evaluation]) {
        let sleep = self.latency + self.per_leaf * batch.len() as u32;
        if !sleep.is_zero() {
            std::thread::sleep(sleep);
        }
        UniformEvaluator::default().evaluate(batch, out);
    }
}

fn deal(rng: &mut SmallRng) -> Round {
    let trump = TRUMP_CYCLE[rng.gen_range(0..TRUMP_CYCLE.len())];
    Round::deal(4, 5, rng.gen_range(0..4), trump, rng).expect("4 x 5 is a valid deal")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options::parse();
    let streaming = options.mode == Mode::Streaming;
    let config = SearchConfig { leaves_per_wave: options.k, ..SearchConfig::preset(options.preset) };
    let mut searcher = BatchedSearcher::new(DriverConfig { max_batch: options.max_batch, overlap: options.overlap })?;
    let mut evaluator = Null { latency: Duration::from_micros(options.latency_us), per_leaf: Duration::from_nanos(options.leaf_ns) };
    let mut rng = SmallRng::seed_from_u64(1);
    let mut games: Vec<Round> = (0..options.games).map(|_| deal(&mut rng)).collect();
    let mut started = options.games;
    let mut finished = 0;
    let mut decisions = 0u64;
    let mut seed = 0u64;
    let mut setup = Duration::ZERO;
    let start = Instant::now();
    if streaming {
        let mut slots = games
            .iter()
            .enumerate()
            .map(|(i, round)| Search::new(&round.info_set(round.to_act()), &config, i as u64))
            .collect::<Result<Vec<_>, _>>()?;
        seed = slots.len() as u64;
        searcher.run_streaming(&mut slots, &mut evaluator, |slot, result| {
            let round = &mut games[slot];
            round.apply_legal(result.action);
            decisions += 1;
            if round.is_over() {
                finished += 1;
                if started == options.rounds {
                    return None;
                }
                started += 1;
                *round = deal(&mut rng);
            }
            seed += 1;
            let built = Instant::now();
            let search = Search::new(&round.info_set(round.to_act()), &config, seed).ok();
            setup += built.elapsed();
            search
        })?;
    } else {
        while finished < options.rounds {
            // Searches are built in parallel: determinization is part of their cost.
            let built = Instant::now();
            let mut searches = games
                .par_iter()
                .enumerate()
                .map(|(i, round)| Search::new(&round.info_set(round.to_act()), &config, seed + i as u64))
                .collect::<Result<Vec<_>, _>>()?;
            seed += games.len() as u64;
            setup += built.elapsed();
            searcher.run(&mut searches, &mut evaluator)?;
            for (round, search) in games.iter_mut().zip(&searches) {
                let result = search.result().ok_or("search left unfinished")?;
                round.apply_legal(result.action);
                decisions += 1;
                if round.is_over() {
                    finished += 1;
                    *round = deal(&mut rng);
                }
            }
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let stats = searcher.stats();
    let threads = rayon::current_num_threads();
    println!(
        "4 players x 5 cards, {} mode, {:?} preset ({} x {}), K = {}, {} concurrent games, max batch {}, \
         overlap {}, simulated evaluator {:?} + {:?} per leaf, {threads} rayon threads",
        if streaming { "streaming" } else { "lock-step" },
        options.preset,
        config.worlds,
        config.simulations,
        config.leaves_per_wave,
        options.games,
        options.max_batch,
        options.overlap,
        evaluator.latency,
        evaluator.per_leaf
    );
    println!("{finished} rounds, {decisions} decisions in {wall:.2} s ({:.0} rounds/min)", finished as f64 / wall * 60.0);
    println!("driver: {stats}");
    let end_to_end = stats.simulations as f64 / wall;
    println!(
        "end to end (search construction included, serial {:.1}% of wall): \
         {end_to_end:.0} simulations/s = {:.0} per thread",
        100.0 * setup.as_secs_f64() / wall,
        end_to_end / threads as f64
    );
    Ok(())
}
