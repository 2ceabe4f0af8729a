//! The training loop: self-play, training, evaluation, checkpoint; resumable at any iteration.
//! The files it writes, and how a crash is repaired, are described in [`crate::program::run_dir`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use blobnet::{Architecture, BackendTask, DeviceSpec};
use burn::backend::Autodiff;
use burn::prelude::Backend;
use burn::tensor::backend::AutodiffBackend;
use game::{HeuristicBot, PimcBot, RandomBot, Round, Schedule, TRUMP_CYCLE};
use indicatif::{ProgressBar, ProgressStyle};
use mcts::{BatchedSearcher, SearchStats};
use rand::distributions::{Distribution, WeightedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tracing::{info, warn};

use crate::matches::{mirrored_deals, play_match, MatchResult};
use crate::program::buffer::ReplayBuffer;
use crate::program::run_dir::{load_checkpoint, RunDir, State};
use crate::program::config::{Mode, TrainConfig};
use blobnet::{mean_scaled_score, NetEvaluator, ValueHead, PRIOR_ROUND_SCORE};
use crate::program::learner::{Learner, Losses};
use crate::program::chunk::RunIdentity;
use crate::program::metrics::{Metrics, SelfPlayMetrics, StreamMetrics, TrainMetrics};
use crate::program::nats::LearnerLink;
use crate::seed::{derive_seed, process_nonce};
use crate::deals::{play_deals, Deal, Dealt, Example, Player};

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
    /// Learn from actors over NATS (`train learner`) at this URL instead of self-playing.
    pub nats: Option<String>,
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

/// The iteration being run, and what its steps need of the run.
struct Iteration<'a> {
    number: usize,
    config: &'a TrainConfig,
    progress: bool,
}

fn train_loop<B: AutodiffBackend>(options: RunOptions, device: B::Device) -> anyhow::Result<()>
where
    blobnet::BlobNet<B::InnerBackend>: Send,
{
    let config = &options.config;
    // The config was validated whole when it was read; these are the last checks before the
    // disk is touched.
    config.check_memory().map_err(anyhow::Error::msg)?;
    let mut searcher = BatchedSearcher::new(config.driver)?;
    // A second learner is refused before it touches anything.
    let mut link = options.nats.as_deref().map(|url| LearnerLink::connect(url, &config.distributed)).transpose()?;
    let run = RunDir::open(&options.run_dir)?;
    let (mut learner, mut buffer, mut state) = start::<B>(&run, &options, device.clone())?;
    // Redo whatever a crash cut off after the checkpoint being resumed.
    run.settle(&state, config.evaluation.against_iterations_ago)?;
    if let Some(link) = &mut link {
        let identity = RunIdentity { run: state.run.clone(), architecture: Architecture::current(&config.net) };
        link.begin(identity, config.to_ron(), state.stream_floor)?;
        link.publish_network(state.iteration as u64, &network_file(learner.net())?, state.expected_round_score)?;
    }
    let total_steps = config.iterations * config.training.steps_per_iteration;
    let first_iteration = state.iteration + 1;
    while state.iteration < config.iterations {
        let started = Instant::now();
        let it = Iteration { number: state.iteration + 1, config, progress: options.progress };
        info!("iteration {}/{}", it.number, config.iterations);
        let used_round_score = state.expected_round_score;
        let (selfplay, stream) = match &mut link {
            None => (self_play(&it, &learner, &device, &mut searcher, &mut buffer, used_round_score)?, None),
            Some(link) => {
                let (selfplay, stream) = take_from_actors(&it, link, &mut buffer, used_round_score)?;
                (selfplay, Some(stream))
            }
        };
        if let Some(measured) = selfplay.mean_round_score {
            state.expected_round_score = measured;
        }
        let train = train(&it, &mut learner, &buffer, total_steps)?;
        blobnet::save_net(learner.net(), run.snapshot(it.number))?;
        let eval = if config.evaluation.every > 0 && it.number.is_multiple_of(config.evaluation.every) {
            evaluate(&it, &learner, &device, &mut searcher, &run, value_head(config, state.expected_round_score))?
        } else {
            Vec::new()
        };
        for result in &eval {
            info!("evaluation {result}");
        }
        state.iteration = it.number;
        state.optimizer_steps = learner.steps;
        state.config = config.clone();
        state.metrics.push(Metrics { iteration: it.number, seconds: started.elapsed().as_secs_f64(), selfplay, train, eval, stream });
        if let Some(link) = &link {
            state.stream_floor = link.floor();
        }
        run.save_checkpoint(&learner, &buffer, &state)?;
        run.settle(&state, config.evaluation.against_iterations_ago)?;
        if let Some(link) = &mut link {
            // Only a checkpointed network is published: actors never play one a restart forgets.
            link.checkpointed()?;
            link.publish_network(it.number as u64, &std::fs::read(run.snapshot(it.number))?, state.expected_round_score)?;
        }
        info!("iteration {} done in {:.1} s", it.number, started.elapsed().as_secs_f64());
        let done_here = it.number - first_iteration + 1;
        if options.stop.load(Ordering::SeqCst) || options.stop_after.is_some_and(|n| done_here >= n) {
            info!("stopped after iteration {}; rerun the same command to resume", it.number);
            if let Some(link) = link {
                link.release()?;
            }
            return Ok(());
        }
    }
    info!("all {} iterations done", config.iterations);
    if let Some(link) = link {
        link.finish()?;
    }
    Ok(())
}

/// The run's learner, buffer and state: resumed from a checkpoint (checked whole before
/// anything is written), or fresh. Files of another run are never overwritten: they are an
/// error, or with `--fresh` moved aside.
fn start<B: AutodiffBackend>(run: &RunDir, options: &RunOptions, device: B::Device) -> anyhow::Result<(Learner<B>, ReplayBuffer, State)> {
    let config = &options.config;
    let checkpoint = match &options.resume {
        Some(dir) => Some(dir.clone()),
        None if options.fresh => None,
        None => run.latest()?,
    };
    if let Some(dir) = checkpoint {
        let (learner, buffer, state) = load_checkpoint::<B>(&dir, config, device)?;
        run.check_snapshots(&state, config)?;
        if state.config != *config {
            warn!("the config differs from the one this run was checkpointed with; continuing with the new one");
        }
        if options.resume.is_some() && run.has_history_after(state.iteration)? {
            let aside = run.set_aside(Some(state.iteration))?;
            run.point_latest_at(&dir)?;
            warn!("{} went past iteration {}: its later checkpoints, snapshots and metrics were moved to {}", run.root().display(), state.iteration, aside.display());
        }
        if !run.root().join("config.ron").exists() {
            // Resumed into a new directory: it records the config it goes on with.
            run.write_config(&config.to_ron())?;
        }
        info!("resuming from {} (iteration {} done, {} examples in the buffer)", dir.display(), state.iteration, buffer.len());
        return Ok((learner, buffer, state));
    }
    let config_text = config.to_ron();
    if run.holds_a_run(&config_text)? {
        if !options.fresh {
            bail!(
                "{} holds another run's files (checkpoints, metrics or a different config.ron) and no checkpoint to resume: start over with --fresh (which moves them aside) or choose another --run-dir",
                run.root().display()
            );
        }
        let aside = run.set_aside(None)?;
        warn!("--fresh: moved the earlier run's files to {}", aside.display());
    }
    run.begin(&config_text)?;
    info!("starting a fresh run in {}", run.root().display());
    let learner = Learner::<B>::new(&config.net, &config.training, device, derive_seed(config.seed, &[INIT]));
    let state = State {
        run: new_run_name(),
        iteration: 0,
        optimizer_steps: 0,
        config: config.clone(),
        expected_round_score: PRIOR_ROUND_SCORE,
        metrics: Vec::new(),
        stream_floor: 0,
    };
    Ok((learner, ReplayBuffer::new(config.training.buffer_size), state))
}

/// A network's file, as `blobnet::save_net` writes it (what actors load).
fn network_file<B: Backend>(net: &blobnet::BlobNet<B>) -> anyhow::Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("net.bin");
    blobnet::save_net(net, &path)?;
    Ok(std::fs::read(path)?)
}

/// A name for a new run (so its files can be told from another run's).
fn new_run_name() -> String {
    format!("{:016x}", process_nonce())
}

/// One batch of self-play: its examples and what it measured.
pub(crate) struct SelfPlayed {
    pub examples: Vec<Example>,
    pub rounds: usize,
    /// Whole games (mode Games).
    pub games: Option<usize>,
    pub mean_round_score: Option<f64>,
    pub seconds: f64,
    pub stats: SearchStats,
}

/// Play `deals` with `net` and the run's self-play search (the one-process run and the actors).
pub(crate) fn play_self_play<B: Backend>(
    config: &TrainConfig,
    net: blobnet::BlobNet<B>,
    device: &B::Device,
    searcher: &mut BatchedSearcher,
    deals: &[Deal],
    seed: u64,
    expected_round_score: f64,
    bar: &ProgressBar,
) -> anyhow::Result<SelfPlayed>
where
    blobnet::BlobNet<B>: Send,
{
    let mut evaluator = NetEvaluator::new(net, device.clone()).with_value_head(value_head(config, expected_round_score));
    let started = Instant::now();
    let (played, stats) = {
        let mut players = [Player::Agent { search: config.search, evaluator: &mut evaluator, play_model: None }];
        play_deals(deals, &mut players, searcher, config.selfplay.concurrent, seed, true, |_| bar.inc(1))?
    };
    let rounds: usize = played.iter().map(|p| p.rounds.len()).sum();
    let games = match config.selfplay.mode {
        Mode::Rounds => None,
        Mode::Games => Some(played.len()),
    };
    let mean_round_score = mean_scaled_score(played.iter().flat_map(|p| &p.rounds));
    let examples = played.into_iter().flat_map(|p| p.examples).collect();
    Ok(SelfPlayed { examples, rounds, games, mean_round_score, seconds: started.elapsed().as_secs_f64(), stats })
}

/// Self-play with the current network; its examples go into the buffer.
fn self_play<B: AutodiffBackend>(
    it: &Iteration,
    learner: &Learner<B>,
    device: &B::Device,
    searcher: &mut BatchedSearcher,
    buffer: &mut ReplayBuffer,
    expected_round_score: f64,
) -> anyhow::Result<SelfPlayMetrics>
where
    blobnet::BlobNet<B::InnerBackend>: Send,
{
    let config = it.config;
    let deals = self_play_deals(config, config.selfplay.per_iteration, derive_seed(config.seed, &[it.number as u64, DEALS]));
    let bar = progress_bar(it.progress, deals.len() as u64, "self-play");
    let seed = derive_seed(config.seed, &[it.number as u64, SELF_PLAY]);
    let played = play_self_play(config, learner.inference_net(), device, searcher, &deals, seed, expected_round_score, &bar)?;
    bar.finish_and_clear();
    let SelfPlayed { examples, rounds, games, mean_round_score, seconds, stats } = played;
    let positions = examples.len();
    for example in examples {
        buffer.push(example);
    }
    let per_min = |count: usize| count as f64 * 60.0 / seconds;
    let games_text = games.map_or(String::new(), |g| format!("{g} games ({:.1} games/min), ", per_min(g)));
    info!(
        "self-play: {games_text}{rounds} rounds, {positions} positions in {seconds:.1} s ({:.0} rounds/min), mean batch {:.0}, evaluator busy {:.0}%, mean round score {:.3}",
        per_min(rounds),
        stats.mean_batch(),
        100.0 * stats.evaluator_busy_fraction(),
        mean_round_score.unwrap_or(expected_round_score)
    );
    Ok(SelfPlayMetrics {
        rounds,
        games,
        positions,
        seconds,
        rounds_per_min: per_min(rounds),
        games_per_min: games.map(per_min),
        mean_round_score,
        expected_round_score,
        positions_per_s: positions as f64 / seconds,
        simulations_per_s: stats.simulations_per_second(),
        nn_evaluations: stats.evaluations,
        mean_nn_batch: stats.mean_batch(),
        largest_nn_batch: stats.largest_batch,
        evaluator_busy: stats.evaluator_busy_fraction(),
        collisions: stats.collisions,
    })
}

/// The distributed learner's intake: chunks from the actors until the iteration's share of new
/// positions is in the buffer.
fn take_from_actors(it: &Iteration, link: &mut LearnerLink, buffer: &mut ReplayBuffer, expected_round_score: f64) -> anyhow::Result<(SelfPlayMetrics, StreamMetrics)> {
    let config = it.config;
    let needed = config.distributed.positions_per_iteration(&config.training);
    let bar = progress_bar(it.progress, needed as u64, "intake");
    // The network of the iteration before is the current one.
    let gathered = link.gather(needed, it.number as u64 - 1, buffer, &bar)?;
    bar.finish_and_clear();
    let stream = gathered.stream;
    let seconds = stream.wait_s;
    let per_min = |count: usize| count as f64 * 60.0 / seconds.max(1e-9);
    info!(
        "intake: {} positions in {} chunks from {} actors in {seconds:.1} s; {} refused, {} stale ({} positions) dropped, {} waiting (~{} positions), mean age {:.2} versions",
        gathered.positions,
        stream.chunks,
        stream.actors.len(),
        stream.refused,
        stream.stale_chunks,
        stream.stale_positions,
        stream.waiting_chunks,
        stream.waiting_positions,
        stream.mean_example_age
    );
    let games = (config.selfplay.mode == Mode::Games).then_some(gathered.games);
    let selfplay = SelfPlayMetrics {
        rounds: gathered.rounds,
        games,
        positions: gathered.positions,
        seconds,
        rounds_per_min: per_min(gathered.rounds),
        games_per_min: games.map(per_min),
        mean_round_score: gathered.mean_round_score,
        expected_round_score,
        positions_per_s: gathered.positions as f64 / seconds.max(1e-9),
        simulations_per_s: 0.0,
        nn_evaluations: 0,
        mean_nn_batch: 0.0,
        largest_nn_batch: 0,
        evaluator_busy: 0.0,
        collisions: 0,
    };
    Ok((selfplay, stream))
}

/// The iteration's minibatch updates. A loss that turns NaN or infinite stops the run before
/// anything of this iteration is written, so the last checkpoint stays the last good one.
fn train<B: AutodiffBackend>(it: &Iteration, learner: &mut Learner<B>, buffer: &ReplayBuffer, total_steps: usize) -> anyhow::Result<TrainMetrics> {
    let t = &it.config.training;
    let started = Instant::now();
    let mut losses = Vec::new();
    if buffer.len() >= t.min_buffer.max(1) {
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(it.config.seed, &[it.number as u64, MINIBATCHES]));
        let bar = progress_bar(it.progress, t.steps_per_iteration as u64, "training");
        for step in 0..t.steps_per_iteration {
            let batch = buffer.sample(t.batch_size, &mut rng);
            let l = learner.step(&batch, total_steps);
            stop_if_diverged(&l, it.number, step + 1)?;
            losses.push(l);
            bar.inc(1);
        }
        bar.finish_and_clear();
    } else {
        info!("training waits for {} examples ({} so far)", t.min_buffer, buffer.len());
    }
    let seconds = started.elapsed().as_secs_f64();
    let mean = mean_losses(&losses);
    let tricks_loss = (learner.net().config().tricks_head && !losses.is_empty()).then_some(mean.tricks);
    if !losses.is_empty() {
        let tricks = tricks_loss.map(|loss| format!(", tricks {loss:.4}")).unwrap_or_default();
        info!("training: {} steps, loss {:.4} (policy {:.4}, value {:.5}{tricks}), policy entropy {:.3}", losses.len(), mean.total, mean.policy, mean.value, mean.policy_entropy);
    }
    Ok(TrainMetrics {
        steps: losses.len(),
        loss: mean.total,
        policy_loss: mean.policy,
        value_loss: mean.value,
        tricks_loss,
        policy_entropy: mean.policy_entropy,
        learning_rate: Learner::<B>::learning_rate(t, learner.steps.saturating_sub(1), total_steps),
        examples_per_s: (losses.len() * t.batch_size) as f64 / seconds.max(1e-9),
        buffer: buffer.len(),
    })
}

/// `count` rounds (mode Rounds) or games (mode Games) of self-play.
pub(crate) fn self_play_deals(config: &TrainConfig, count: usize, seed: u64) -> Vec<Deal> {
    let s = &config.selfplay;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let players = WeightedIndex::new(s.players.iter().map(|(_, w)| *w)).expect("validated weights");
    (0..count)
        .map(|deal| {
            let p = s.players[players.sample(&mut rng)].0;
            let sizes: Vec<&(usize, f64)> = s.cards.iter().filter(|(n, w)| *w > 0.0 && *n <= game::max_cards(p)).collect();
            let index = WeightedIndex::new(sizes.iter().map(|(_, w)| *w)).expect("validated: a size fits every P");
            let n = sizes[index.sample(&mut rng)].0;
            let dealt = match s.mode {
                Mode::Rounds => {
                    let dealer = rng.gen_range(0..p);
                    let trump = TRUMP_CYCLE[rng.gen_range(0..5)];
                    Dealt::Round(Round::deal(p, n, dealer, trump, &mut rng).expect("validated sizes"))
                }
                // Each game dealt from its own number, the deal's index.
                Mode::Games => Dealt::Game { schedule: Schedule::new(p, n).expect("validated sizes"), dealing: deal as u64 },
            };
            Deal { dealt, lineup: vec![0; p] }
        })
        .collect()
}

fn evaluate<B: AutodiffBackend>(
    it: &Iteration,
    learner: &Learner<B>,
    device: &B::Device,
    searcher: &mut BatchedSearcher,
    run: &RunDir,
    head: ValueHead,
) -> anyhow::Result<Vec<MatchResult>>
where
    blobnet::BlobNet<B::InnerBackend>: Send,
{
    let (config, iteration) = (it.config, it.number);
    let e = &config.evaluation;
    let seed = derive_seed(config.seed, &[iteration as u64, EVALUATION]);
    let deals = mirrored_deals(e.players, &e.cards, e.deals, seed);
    let concurrent = config.selfplay.concurrent;
    let mut results = Vec::new();
    let mut agent = NetEvaluator::new(learner.inference_net(), device.clone()).with_value_head(head);
    let bots: [(&str, Box<dyn game::Bot + Send>); 3] =
        [("heuristic", Box::new(HeuristicBot)), ("pimc", Box::new(PimcBot::default())), ("random", Box::new(RandomBot))];
    for (name, bot) in bots {
        let mut players = [Player::Agent { search: e.search, evaluator: &mut agent, play_model: None }, Player::Bot(bot)];
        results.push(play_match(name, &deals, &mut players, searcher, concurrent, seed)?);
    }
    if e.against_iterations_ago > 0 && iteration > e.against_iterations_ago {
        let earlier = iteration - e.against_iterations_ago;
        let net = blobnet::load_net::<B::InnerBackend>(&config.net, run.snapshot(earlier), device)?;
        let mut opponent = NetEvaluator::new(net, device.clone()).with_value_head(head);
        let mut players = [
            Player::Agent { search: e.search, evaluator: &mut agent, play_model: None },
            Player::Agent { search: e.search, evaluator: &mut opponent, play_model: None },
        ];
        results.push(play_match(&format!("iter-{earlier}"), &deals, &mut players, searcher, concurrent, seed)?);
    }
    Ok(results)
}

/// A loss that is NaN or infinite is an error naming the iteration and step.
fn stop_if_diverged(losses: &Losses, iteration: usize, step: usize) -> anyhow::Result<()> {
    if [losses.total, losses.policy, losses.value, losses.tricks].iter().all(|x| x.is_finite()) {
        return Ok(());
    }
    bail!(
        "training diverged in iteration {iteration}, step {step}: loss {} (policy {}, value {}). Nothing of this iteration was written; the last checkpoint is intact. Lower training.learning_rate (or value_weight) and rerun to resume",
        losses.total,
        losses.policy,
        losses.value
    )
}

fn mean_losses(losses: &[Losses]) -> Losses {
    let n = losses.len().max(1) as f64;
    losses.iter().fold(Losses::default(), |acc, l| Losses {
        total: acc.total + l.total / n,
        policy: acc.policy + l.policy / n,
        value: acc.value + l.value / n,
        tricks: acc.tricks + l.tricks / n,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nan_or_infinite_loss_stops_the_run_naming_the_iteration() {
        let good = Losses { total: 1.2, policy: 1.0, value: 0.2, tricks: 1.5, policy_entropy: 1.1 };
        assert!(stop_if_diverged(&good, 3, 7).is_ok());
        for bad in [Losses { total: f64::NAN, ..good }, Losses { value: f64::INFINITY, ..good }, Losses { policy: f64::NEG_INFINITY, ..good }, Losses { tricks: f64::NAN, ..good }] {
            let message = stop_if_diverged(&bad, 3, 7).unwrap_err().to_string();
            assert!(message.contains("diverged in iteration 3, step 7") && message.contains("last checkpoint is intact"), "{message}");
        }
    }
}
