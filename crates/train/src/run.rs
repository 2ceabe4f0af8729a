//! The training loop: self-play, training, evaluation, checkpoint; resumable at any iteration.
//!
//! Run directory layout:
//! - `config.ron`: the config the run started with.
//! - `checkpoints/iter-NNNNNN/`: `state.json`, `net.bin`, `optimizer.bin`, `buffer.bin`,
//!   written into a temporary directory and renamed into place; `checkpoints/latest` names the
//!   newest complete one (replaced atomically after it is complete).
//! - `nets/iter-NNNNNN.bin`: network snapshots kept for evaluation against earlier iterations.
//! - `metrics.jsonl`: one JSON line per finished iteration (rewritten atomically).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use blobnet::{BackendTask, DeviceSpec};
use burn::backend::Autodiff;
use burn::prelude::Backend;
use burn::tensor::backend::AutodiffBackend;
use game::{HeuristicBot, PimcBot, RandomBot, Round, Schedule, TRUMP_CYCLE};
use indicatif::{ProgressBar, ProgressStyle};
use mcts::BatchedSearcher;
use rand::distributions::{Distribution, WeightedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::{info, warn};

use crate::arena::{mirrored_deals, play_match, MatchResult};
use crate::buffer::ReplayBuffer;
use crate::chart::{self, Panel, Series, BLUE, GREEN, ORANGE, RED};
use crate::config::{Mode, TrainConfig};
use crate::evaluator::{mean_scaled_score, NetEvaluator, ValueHead, PRIOR_ROUND_SCORE};
use crate::files::write_string_atomically;
use crate::learner::{Learner, Losses};
use crate::seed::derive_seed;
use crate::table::{play_deals, Deal, Player, Setup};

/// Seed streams of one iteration.
const DEALS: u64 = 1;
const SELF_PLAY: u64 = 2;
const MINIBATCHES: u64 = 3;
const EVALUATION: u64 = 4;
const INIT: u64 = 5;

pub struct RunOptions {
    pub config: TrainConfig,
    pub run_dir: PathBuf,
    pub device: DeviceSpec,
    /// Start over even if the run directory has a checkpoint.
    pub fresh: bool,
    /// Resume from this checkpoint directory instead of the run's latest.
    pub resume: Option<PathBuf>,
    /// Set (by Ctrl-C) to stop after the current iteration's checkpoint.
    pub stop: Arc<AtomicBool>,
    /// Stop (checkpointed) after this many iterations of this invocation.
    pub stop_after: Option<usize>,
    /// Draw progress bars (a terminal is attached).
    pub progress: bool,
}

/// What a checkpoint records besides the tensors.
#[derive(Serialize, Deserialize)]
struct State {
    /// Iterations completed.
    iteration: usize,
    optimizer_steps: usize,
    config: TrainConfig,
    /// Rho, the mean scaled score per seat per round of the last self-play: mode Games
    /// converts the network's game values to round values with it in the next self-play.
    #[serde(default = "prior_round_score")]
    expected_round_score: f64,
    /// Every metrics line so far (metrics.jsonl is rewritten from this).
    metrics: Vec<serde_json::Value>,
}

fn prior_round_score() -> f64 {
    PRIOR_ROUND_SCORE
}

/// How the evaluators read the network, given the self-play mode it is trained in.
fn value_head(config: &TrainConfig, expected_round_score: f64) -> ValueHead {
    match config.selfplay.mode {
        Mode::Rounds => ValueHead::Round,
        Mode::Games => ValueHead::Game { expected_round_score: expected_round_score as f32 },
    }
}

struct Task(RunOptions);

impl BackendTask for Task {
    type Output = anyhow::Result<()>;
    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<()> {
        train_loop::<Autodiff<B>>(self.0, device)
    }
}

pub fn run(options: RunOptions) -> anyhow::Result<()> {
    options.device.run(Task(options))?
}

fn checkpoint_name(iteration: usize) -> String {
    format!("iter-{iteration:06}")
}

/// The checkpoint directory to resume from, if any.
fn find_checkpoint(options: &RunOptions) -> anyhow::Result<Option<PathBuf>> {
    if let Some(path) = &options.resume {
        if !path.join("state.json").is_file() {
            bail!("{} is not a checkpoint directory (no state.json)", path.display());
        }
        return Ok(Some(path.clone()));
    }
    if options.fresh {
        return Ok(None);
    }
    let latest = options.run_dir.join("checkpoints").join("latest");
    match fs::read_to_string(&latest) {
        Ok(name) => Ok(Some(options.run_dir.join("checkpoints").join(name.trim()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", latest.display())),
    }
}

fn train_loop<B: AutodiffBackend>(options: RunOptions, device: B::Device) -> anyhow::Result<()>
where
    blobnet::BlobNet<B::InnerBackend>: Send,
{
    let config = &options.config;
    let run_dir = &options.run_dir;
    fs::create_dir_all(run_dir).with_context(|| format!("creating run directory {}", run_dir.display()))?;
    let checkpoints = run_dir.join("checkpoints");
    fs::create_dir_all(run_dir.join("nets"))?;
    let (mut learner, mut buffer, mut state) = match find_checkpoint(&options)? {
        Some(dir) => {
            let text = fs::read_to_string(dir.join("state.json")).with_context(|| format!("reading {}/state.json", dir.display()))?;
            let state: State = serde_json::from_str(&text).with_context(|| format!("{}/state.json is corrupt", dir.display()))?;
            if state.config.net != config.net {
                bail!("checkpoint {} has network {:?}, the config asks for {:?}: use --fresh or another --run-dir", dir.display(), state.config.net, config.net);
            }
            if state.config != *config {
                warn!("the config differs from the one this run was checkpointed with; continuing with the new one");
            }
            let learner = Learner::<B>::load(&config.net, &config.training, device.clone(), &dir.join("net.bin"), &dir.join("optimizer.bin"), state.optimizer_steps)?;
            let buffer = ReplayBuffer::load(&dir.join("buffer.bin"))?;
            info!("resuming from {} (iteration {} done, {} examples in the buffer)", dir.display(), state.iteration, buffer.len());
            (learner, buffer, state)
        }
        None => {
            write_string_atomically(&run_dir.join("config.ron"), &config.to_ron())?;
            info!("starting a fresh run in {}", run_dir.display());
            let learner = Learner::<B>::new(&config.net, &config.training, device.clone(), derive_seed(config.seed, &[INIT]));
            let state = State {
                iteration: 0,
                optimizer_steps: 0,
                config: config.clone(),
                expected_round_score: PRIOR_ROUND_SCORE,
                metrics: Vec::new(),
            };
            (learner, ReplayBuffer::new(config.training.buffer_size), state)
        }
    };
    let total_steps = config.iterations * config.training.steps_per_iteration;
    let mut searcher = BatchedSearcher::new(config.driver)?;
    let first_iteration = state.iteration + 1;
    while state.iteration < config.iterations {
        let iteration = state.iteration + 1;
        let started = Instant::now();
        info!("iteration {iteration}/{}", config.iterations);

        // 1. Self-play with the current network.
        let deals = self_play_deals(config, derive_seed(config.seed, &[iteration as u64, DEALS]));
        let head = value_head(config, state.expected_round_score);
        let mut evaluator = NetEvaluator::new(learner.inference_net(), device.clone()).with_value_head(head);
        let bar = progress_bar(options.progress, deals.len() as u64, "self-play");
        let selfplay_start = Instant::now();
        let (played, stats) = {
            let mut players = [Player::Agent { search: config.search, evaluator: &mut evaluator }];
            play_deals(&deals, &mut players, &mut searcher, config.selfplay.concurrent, derive_seed(config.seed, &[iteration as u64, SELF_PLAY]), true, |_| bar.inc(1))?
        };
        bar.finish_and_clear();
        let selfplay_seconds = selfplay_start.elapsed().as_secs_f64();
        let rounds: usize = played.iter().map(|p| p.rounds.len()).sum();
        let games = match config.selfplay.mode {
            Mode::Rounds => None,
            Mode::Games => Some(played.len()),
        };
        let used_round_score = state.expected_round_score;
        let mean_round_score = mean_scaled_score(played.iter().flat_map(|p| &p.rounds));
        state.expected_round_score = mean_round_score.unwrap_or(used_round_score);
        let mut positions = 0;
        for example in played.into_iter().flat_map(|p| p.examples) {
            buffer.push(example);
            positions += 1;
        }
        let per_min = |count: usize| count as f64 * 60.0 / selfplay_seconds;
        let games_text = games.map_or(String::new(), |g| format!("{g} games ({:.1} games/min), ", per_min(g)));
        info!(
            "self-play: {games_text}{rounds} rounds, {positions} positions in {selfplay_seconds:.1} s ({:.0} rounds/min), mean batch {:.0}, evaluator busy {:.0}%, mean round score {:.3}",
            per_min(rounds),
            stats.mean_batch(),
            100.0 * stats.evaluator_busy_fraction(),
            state.expected_round_score
        );

        // 2. Train.
        let train_start = Instant::now();
        let mut losses = Vec::new();
        if buffer.len() >= config.training.min_buffer.max(1) {
            let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(config.seed, &[iteration as u64, MINIBATCHES]));
            let bar = progress_bar(options.progress, config.training.steps_per_iteration as u64, "training");
            for _ in 0..config.training.steps_per_iteration {
                let batch = buffer.sample(config.training.batch_size, &mut rng);
                losses.push(learner.step(&batch, total_steps));
                bar.inc(1);
            }
            bar.finish_and_clear();
        } else {
            info!("training waits for {} examples ({} so far)", config.training.min_buffer, buffer.len());
        }
        let train_seconds = train_start.elapsed().as_secs_f64();
        let mean = mean_losses(&losses);
        if !losses.is_empty() {
            info!("training: {} steps, loss {:.4} (policy {:.4}, value {:.5}), policy entropy {:.3}", losses.len(), mean.total, mean.policy, mean.value, mean.policy_entropy);
        }

        // 3. Evaluate.
        let snapshot = run_dir.join("nets").join(format!("{}.bin", checkpoint_name(iteration)));
        blobnet::save_net(learner.net(), &snapshot)?;
        let evaluations = if config.evaluation.every > 0 && iteration % config.evaluation.every == 0 {
            evaluate(config, &learner, &device, &mut searcher, run_dir, iteration, value_head(config, state.expected_round_score))?
        } else {
            Vec::new()
        };
        for result in &evaluations {
            info!("evaluation {result}");
        }

        // 4. Checkpoint, then metrics.
        state.iteration = iteration;
        state.optimizer_steps = learner.steps;
        state.config = config.clone();
        state.metrics.push(json!({
            "iteration": iteration,
            "seconds": started.elapsed().as_secs_f64(),
            "selfplay": {
                "rounds": rounds,
                "games": games,
                "positions": positions,
                "seconds": selfplay_seconds,
                "rounds_per_min": per_min(rounds),
                "games_per_min": games.map(per_min),
                // Rho: measured here; `expected_round_score` is the value this self-play used.
                "mean_round_score": mean_round_score,
                "expected_round_score": used_round_score,
                "positions_per_s": positions as f64 / selfplay_seconds,
                "simulations_per_s": stats.simulations_per_second(),
                "nn_evaluations": stats.evaluations,
                "mean_nn_batch": stats.mean_batch(),
                "largest_nn_batch": stats.largest_batch,
                "evaluator_busy": stats.evaluator_busy_fraction(),
                "collisions": stats.collisions,
            },
            "train": {
                "steps": losses.len(),
                "loss": mean.total,
                "policy_loss": mean.policy,
                "value_loss": mean.value,
                "policy_entropy": mean.policy_entropy,
                "learning_rate": Learner::<B>::learning_rate(&config.training, learner.steps.saturating_sub(1), total_steps),
                "examples_per_s": (losses.len() * config.training.batch_size) as f64 / train_seconds.max(1e-9),
                "buffer": buffer.len(),
            },
            "eval": evaluations,
        }));
        save_checkpoint(&checkpoints, &learner, &buffer, &state)?;
        let lines: Vec<String> = state.metrics.iter().map(|m| m.to_string()).collect();
        write_string_atomically(&run_dir.join("metrics.jsonl"), &(lines.join("\n") + "\n"))?;
        chart::write_chart(&run_dir.join("chart.png"), &chart_panels(&state.metrics))?;
        prune_snapshots(run_dir, iteration, config.evaluation.against_iterations_ago)?;
        info!("iteration {iteration} done in {:.1} s", started.elapsed().as_secs_f64());
        let done_here = iteration - first_iteration + 1;
        if options.stop.load(Ordering::SeqCst) || options.stop_after.is_some_and(|n| done_here >= n) {
            info!("stopped after iteration {iteration}; rerun the same command to resume");
            return Ok(());
        }
    }
    info!("all {} iterations done", config.iterations);
    Ok(())
}

/// Rounds (mode Rounds) or games (mode Games) of one iteration's self-play.
fn self_play_deals(config: &TrainConfig, seed: u64) -> Vec<Deal> {
    let s = &config.selfplay;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let players = WeightedIndex::new(s.players.iter().map(|(_, w)| *w)).expect("validated weights");
    (0..s.per_iteration)
        .map(|deal| {
            let p = s.players[players.sample(&mut rng)].0;
            let sizes: Vec<&(usize, f64)> = s.cards.iter().filter(|(n, w)| *w > 0.0 && *n <= game::max_cards(p)).collect();
            let index = WeightedIndex::new(sizes.iter().map(|(_, w)| *w)).expect("validated: a size fits every P");
            let n = sizes[index.sample(&mut rng)].0;
            let setup = match s.mode {
                Mode::Rounds => {
                    let dealer = rng.gen_range(0..p);
                    let trump = TRUMP_CYCLE[rng.gen_range(0..5)];
                    Setup::Round(Round::deal(p, n, dealer, trump, &mut rng).expect("validated sizes"))
                }
                // Each game dealt from its own number, the deal's index.
                Mode::Games => Setup::Game { schedule: Schedule::new(p, n).expect("validated sizes"), dealing: deal as u64 },
            };
            Deal { setup, lineup: vec![0; p] }
        })
        .collect()
}

fn evaluate<B: AutodiffBackend>(
    config: &TrainConfig,
    learner: &Learner<B>,
    device: &B::Device,
    searcher: &mut BatchedSearcher,
    run_dir: &Path,
    iteration: usize,
    head: ValueHead,
) -> anyhow::Result<Vec<MatchResult>>
where
    blobnet::BlobNet<B::InnerBackend>: Send,
{
    let e = &config.evaluation;
    let seed = derive_seed(config.seed, &[iteration as u64, EVALUATION]);
    let deals = mirrored_deals(e.players, &e.cards, e.deals, seed);
    let concurrent = config.selfplay.concurrent;
    let mut results = Vec::new();
    let mut agent = NetEvaluator::new(learner.inference_net(), device.clone()).with_value_head(head);
    let bots: [(&str, Box<dyn game::Bot + Send>); 3] =
        [("heuristic", Box::new(HeuristicBot)), ("pimc", Box::new(PimcBot::default())), ("random", Box::new(RandomBot))];
    for (name, bot) in bots {
        let mut players = [Player::Agent { search: e.search, evaluator: &mut agent }, Player::Bot(bot)];
        results.push(play_match(name, &deals, &mut players, searcher, concurrent, seed)?);
    }
    if e.against_iterations_ago > 0 && iteration > e.against_iterations_ago {
        let earlier = iteration - e.against_iterations_ago;
        let path = run_dir.join("nets").join(format!("{}.bin", checkpoint_name(earlier)));
        let net = blobnet::load_net::<B::InnerBackend>(&config.net, &path, device)?;
        let mut opponent = NetEvaluator::new(net, device.clone()).with_value_head(head);
        let mut players = [
            Player::Agent { search: e.search, evaluator: &mut agent },
            Player::Agent { search: e.search, evaluator: &mut opponent },
        ];
        results.push(play_match(&format!("iter-{earlier}"), &deals, &mut players, searcher, concurrent, seed)?);
    }
    Ok(results)
}

fn save_checkpoint<B: AutodiffBackend>(checkpoints: &Path, learner: &Learner<B>, buffer: &ReplayBuffer, state: &State) -> anyhow::Result<()> {
    let name = checkpoint_name(state.iteration);
    let final_dir = checkpoints.join(&name);
    let temp = checkpoints.join(format!(".{name}.tmp"));
    if temp.exists() {
        fs::remove_dir_all(&temp)?;
    }
    fs::create_dir_all(&temp)?;
    learner.save(&temp.join("net.bin"), &temp.join("optimizer.bin"))?;
    buffer.save(&temp.join("buffer.bin"))?;
    write_string_atomically(&temp.join("state.json"), &serde_json::to_string_pretty(state)?)?;
    if final_dir.exists() {
        fs::remove_dir_all(&final_dir)?;
    }
    fs::rename(&temp, &final_dir)?;
    fs::File::open(checkpoints)?.sync_all()?;
    write_string_atomically(&checkpoints.join("latest"), &name)?;
    // Keep the previous checkpoint too, in case the newest is damaged later.
    for entry in fs::read_dir(checkpoints)? {
        let entry = entry?;
        let file_name = entry.file_name().to_string_lossy().to_string();
        if let Some(number) = file_name.strip_prefix("iter-").and_then(|n| n.parse::<usize>().ok()) {
            if number + 1 < state.iteration {
                fs::remove_dir_all(entry.path())?;
            }
        }
    }
    Ok(())
}

/// Keep the snapshots evaluation may still need.
fn prune_snapshots(run_dir: &Path, iteration: usize, ago: usize) -> anyhow::Result<()> {
    let dir = run_dir.join("nets");
    for entry in fs::read_dir(&dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(number) = name.strip_prefix("iter-").and_then(|n| n.strip_suffix(".bin")).and_then(|n| n.parse::<usize>().ok()) {
            if number + ago < iteration {
                fs::remove_file(entry.path())?;
            }
        }
    }
    Ok(())
}

/// The chart's panels from the metrics lines: losses, evaluation advantage, throughput.
fn chart_panels(metrics: &[serde_json::Value]) -> Vec<Panel> {
    let series = |label: &'static str, color, value: &dyn Fn(&serde_json::Value) -> Option<f64>| Series {
        label,
        color,
        points: metrics.iter().filter_map(|m| Some((m["iteration"].as_f64()?, value(m)?))).collect(),
    };
    let advantage = |opponent: &'static str| {
        move |m: &serde_json::Value| {
            m["eval"].as_array()?.iter().find(|e| e["opponent"] == opponent)?["advantage"].as_f64()
        }
    };
    vec![
        Panel {
            title: "LOSS",
            series: vec![
                series("POLICY", BLUE, &|m| m["train"]["policy_loss"].as_f64().filter(|_| m["train"]["steps"].as_u64() > Some(0))),
                series("VALUE X10", RED, &|m| m["train"]["value_loss"].as_f64().filter(|_| m["train"]["steps"].as_u64() > Some(0)).map(|v| v * 10.0)),
            ],
        },
        Panel {
            title: "SCORE ADVANTAGE PER ROUND VS",
            series: vec![
                series("HEURISTIC", GREEN, &advantage("heuristic")),
                series("PIMC", RED, &advantage("pimc")),
                series("RANDOM", ORANGE, &advantage("random")),
            ],
        },
        Panel {
            title: "SELF-PLAY",
            series: vec![series("ROUNDS/MIN", BLUE, &|m| m["selfplay"]["rounds_per_min"].as_f64())],
        },
    ]
}

fn mean_losses(losses: &[Losses]) -> Losses {
    let n = losses.len().max(1) as f64;
    losses.iter().fold(Losses::default(), |acc, l| Losses {
        total: acc.total + l.total / n,
        policy: acc.policy + l.policy / n,
        value: acc.value + l.value / n,
        policy_entropy: acc.policy_entropy + l.policy_entropy / n,
    })
}

fn progress_bar(enabled: bool, length: u64, label: &'static str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    bar.set_style(ProgressStyle::with_template("{prefix:>10} [{bar:40}] {pos}/{len} {per_sec} eta {eta}").expect("valid template").progress_chars("=> "));
    bar.set_prefix(label);
    bar
}
