//! `blob bench`: self-play and training throughput on the reference settings (4 players x 5
//! cards, medium search unless `--search` says otherwise, medium BlobNet with random weights), so that every figure of
//! BENCHMARKS.md comes from one command on one machine.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use blobnet::{BackendTask, BlobNet, BlobNetConfig, DeviceSpec};
use burn::backend::Autodiff;
use burn::prelude::*;
use game::{Round, TRUMP_CYCLE};
use mcts::{BatchedSearcher, DriverConfig, Evaluation, Evaluator, Leaf, Preset, SearchConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::program::config::TrainingConfig;
use blobnet::{encode_batch, NetEvaluator, NoNetworkEvaluator, ValueHead};
use crate::program::learner::Learner;
use crate::seed::derive_seed;
use crate::deals::{play_deals, relative_to, Deal, Dealt, Example, Player};

const PLAYERS: usize = 4;
const CARDS: usize = 5;

/// What both benchmarks run on.
#[derive(Clone, Debug)]
pub struct Setup {
    pub device: DeviceSpec,
    /// Worker threads (rayon: selection, encoding, CPU network); `None`: one per core.
    pub threads: Option<usize>,
    /// Network preset (tiny, small, medium); medium is the reference.
    pub net: String,
    pub seed: u64,
}

/// `blob bench selfplay`: the reference self-play, or with `no_network` the host's ceiling.
#[derive(Clone, Debug)]
pub struct SelfPlayOptions {
    pub rounds: usize,
    /// Rounds played at once (their searches share network calls).
    pub concurrent: usize,
    /// Most leaves per network call.
    pub max_batch: usize,
    pub search: Preset,
    /// Leaves selected per world per wave (K).
    pub leaves: u32,
    /// Select the next batch while the network evaluates the last one.
    pub overlap: bool,
    /// Everything but the network (a fixed output written back).
    pub no_network: bool,
    pub setup: Setup,
}

/// `blob bench train`: timed optimizer steps on random-play positions.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// Optimizer steps timed (after one warm-up step).
    pub steps: usize,
    /// Examples per step.
    pub batch: usize,
    pub setup: Setup,
}

fn net_config(name: &str) -> anyhow::Result<BlobNetConfig> {
    BlobNetConfig::preset(name).with_context(|| format!("unknown network preset {name:?} (tiny, small or medium)"))
}

/// Size the global rayon pool (selection, encoding and the CPU backend all run on it). It
/// can only be set once, before first use, hence here at the start of a command.
fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    let Some(threads) = threads else { return Ok(()) };
    if threads == 0 {
        bail!("--threads must be at least 1");
    }
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().context("cannot size the thread pool")
}

/// Run `blob bench selfplay` and print its report.
pub fn self_play(options: SelfPlayOptions) -> anyhow::Result<()> {
    set_threads(options.setup.threads)?;
    if options.no_network {
        print!("{}", host_ceiling(&options)?);
    } else {
        let device = options.setup.device;
        print!("{}", device.run(SelfPlayTask(options))??);
    }
    Ok(())
}

/// Run `blob bench train` and print its report.
pub fn train(options: TrainOptions) -> anyhow::Result<()> {
    set_threads(options.setup.threads)?;
    let device = options.setup.device;
    print!("{}", device.run(TrainTask(options))??);
    Ok(())
}

/// Counts every batch's size (exact percentiles) and keeps a sample of real leaf positions
/// for the network-only measurement.
struct Recording<'e, E> {
    inner: &'e mut E,
    sizes: Vec<u32>,
    sample: Vec<Leaf>,
}

/// Positions kept for the network-only measurement (cycled to any batch size).
const SAMPLE: usize = 4096;

impl<E: Evaluator> Evaluator for Recording<'_, E> {
    fn evaluate(&mut self, batch: &[Leaf], out: &mut [Evaluation]) {
        self.sizes.push(batch.len() as u32);
        let room = SAMPLE - self.sample.len();
        self.sample.extend_from_slice(&batch[..room.min(batch.len())]);
        self.inner.evaluate(batch, out);
    }
}

struct SelfPlayTask(SelfPlayOptions);

impl BackendTask for SelfPlayTask {
    type Output = anyhow::Result<String>;

    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<String> {
        let options = self.0;
        let config = net_config(&options.setup.net)?;
        B::seed(&device, derive_seed(options.setup.seed, &[0]));
        let mut net = NetEvaluator::new(config.init::<B>(&device), device.clone());
        let mut recording = Recording { inner: &mut net, sizes: Vec::new(), sample: Vec::new() };
        let (search, wall, stats) = play_reference(&options, &mut recording)?;
        let Recording { sizes, sample, .. } = recording;
        if sample.is_empty() {
            bail!("self-play made no network call");
        }
        let mean = stats.mean_batch();
        let at_mean = (mean.round() as usize).max(1);
        let alone = network_only(&mut net, &sample, at_mean);
        let replayed = replay_sizes(&mut net, &sample, &sizes);
        // The same measurement with the forward pass on the Burn backend (what the CPU ran
        // before the host's forward pass, and what a device runs).
        let mut on_backend = NetEvaluator::new(config.init::<B>(&device), device).on_backend();
        let on_backend = network_only(&mut on_backend, &sample, at_mean);
        let mut sizes = sizes;
        sizes.sort_unstable();

        let nn = stats.evaluations as f64 / wall;
        let network = format!("net {} ({} parameters), device {}", options.setup.net, config.param_count(), options.setup.device);
        let mut out = report_head(&options, &search, &network, wall, &stats);
        out += &format!("nn batch p50: {}\n", percentile(&sizes, 0.5));
        out += &format!("nn batch p90: {}\n", percentile(&sizes, 0.9));
        out += &format!("encoding us/position: {:.2}\n", alone.encode_us);
        out += &format!("network-only batch: {at_mean}\n");
        out += &format!("network-only positions/s: {:.0}\n", alone.per_second);
        out += &format!("network-only positions/s, forward pass on the Burn backend: {:.0}\n", on_backend.per_second);
        out += &format!("self-play / network-only: {:.3}\n", nn / alone.per_second);
        out += &format!("network-only positions/s at self-play's batch sizes: {replayed:.0}\n");
        Ok(out)
    }
}

/// Self-play of `options.rounds` reference rounds with `evaluator`: the search used, the wall
/// time, and the driver's counters.
fn play_reference(
    options: &SelfPlayOptions,
    evaluator: &mut dyn Evaluator,
) -> anyhow::Result<(SearchConfig, f64, mcts::SearchStats)> {
    if options.rounds == 0 || options.concurrent == 0 {
        bail!("--rounds and --concurrent must be at least 1");
    }
    let search = SearchConfig { leaves_per_wave: options.leaves, ..SearchConfig::preset(options.search) };
    search.validate().context("invalid --leaves")?;
    let mut searcher = BatchedSearcher::new(DriverConfig { max_batch: options.max_batch, overlap: options.overlap })
        .context("invalid --max-batch")?;
    let deals: Vec<Deal> = reference_rounds(options.rounds, derive_seed(options.setup.seed, &[1]))
        .into_iter()
        .map(|round| Deal { dealt: Dealt::Round(round), lineup: vec![0; PLAYERS] })
        .collect();
    let start = Instant::now();
    let mut players = [Player::Agent { search, evaluator, play_model: None }];
    let (_, stats) =
        play_deals(&deals, &mut players, &mut searcher, options.concurrent, derive_seed(options.setup.seed, &[2]), false, |_| {})?;
    Ok((search, start.elapsed().as_secs_f64(), stats))
}

/// The lines every self-play report starts with.
fn report_head(options: &SelfPlayOptions, search: &SearchConfig, network: &str, wall: f64, stats: &mcts::SearchStats) -> String {
    let per_second = |count: u64| count as f64 / wall;
    let mut out = format!(
        "bench selfplay: {} rounds of {PLAYERS} players x {CARDS} cards, search {} worlds x {} simulations (K = {}), \
         {network}, concurrent {}, max batch {}, overlap {}, threads {}\n",
        options.rounds,
        search.worlds,
        search.simulations,
        search.leaves_per_wave,
        options.concurrent,
        options.max_batch,
        if options.overlap { "on" } else { "off" },
        rayon::current_num_threads(),
    );
    out += &format!("wall s: {wall:.3}\n");
    out += &format!("rounds/min: {:.1}\n", options.rounds as f64 * 60.0 / wall);
    out += &format!("positions/s: {:.1}\n", per_second(stats.searches));
    out += &format!("nn evals/s: {:.0}\n", per_second(stats.evaluations));
    out += &format!("nn batch mean: {:.1}\n", stats.mean_batch());
    out += &format!("nn calls: {}\n", stats.batches);
    out += &format!("evaluator busy %: {:.1}\n", 100.0 * stats.evaluator_busy_fraction());
    out += &format!("selection busy %: {:.1}\n", 100.0 * stats.cpu_busy_fraction());
    out += &format!("simulations/s: {:.0}\n", per_second(stats.simulations));
    out
}

/// `--no-network`: the reference self-play with everything but the network, so the rate is
/// what the host can prepare (per core: the figure a GPU host multiplies by its cores).
fn host_ceiling(options: &SelfPlayOptions) -> anyhow::Result<String> {
    let mut evaluator = NoNetworkEvaluator::new(ValueHead::Round);
    let (search, wall, stats) = play_reference(options, &mut evaluator)?;
    let cores = rayon::current_num_threads();
    let per_core = stats.evaluations as f64 / wall / cores as f64;
    let mut out = report_head(options, &search, "no network (fixed outputs)", wall, &stats);
    out += &format!("evals/s per core: {per_core:.0}\n");
    out += &format!("host us per evaluation (core time): {:.3}\n", 1e6 / per_core);
    Ok(out)
}

/// Rounds of the reference: 4 players x 5 cards, random dealer and trump.
fn reference_rounds(count: usize, seed: u64) -> Vec<Round> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let dealer = rng.gen_range(0..PLAYERS);
            let trump = TRUMP_CYCLE[rng.gen_range(0..TRUMP_CYCLE.len())];
            Round::deal(PLAYERS, CARDS, dealer, trump, &mut rng).expect("4 x 5 is a valid round")
        })
        .collect()
}

/// The smallest size with at least `fraction` of the batches at or below it.
fn percentile(sorted: &[u32], fraction: f64) -> u32 {
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

struct NetworkOnly {
    per_second: f64,
    encode_us: f64,
}

/// `NetEvaluator::evaluate` alone (encoding, forward pass, copy back) on a batch of `size`
/// real leaf positions, repeated for about two seconds after one warm-up call.
fn network_only<B: Backend>(net: &mut NetEvaluator<B>, sample: &[Leaf], size: usize) -> NetworkOnly
where
    BlobNet<B>: Send,
{
    let batch: Vec<Leaf> = sample.iter().cycle().take(size).copied().collect();
    let mut out = vec![Evaluation::default(); size];
    net.evaluate(&batch, &mut out);
    let budget = Duration::from_secs(2);
    let start = Instant::now();
    let mut calls = 0u32;
    while calls < 3 || start.elapsed() < budget {
        net.evaluate(&batch, &mut out);
        calls += 1;
    }
    let per_second = (calls as usize * size) as f64 / start.elapsed().as_secs_f64();

    let start = Instant::now();
    for _ in 0..calls {
        std::hint::black_box(encode_batch(&batch, |leaf| leaf.game));
    }
    let encode_us = start.elapsed().as_secs_f64() * 1e6 / (calls as usize * size) as f64;
    NetworkOnly { per_second, encode_us }
}

struct TrainTask(TrainOptions);

impl BackendTask for TrainTask {
    type Output = anyhow::Result<String>;

    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<String> {
        let options = self.0;
        if options.steps == 0 || options.batch == 0 {
            bail!("--steps and --batch must be at least 1");
        }
        let config = net_config(&options.setup.net)?;
        let examples = random_examples(options.batch, derive_seed(options.setup.seed, &[1]));
        let batch: Vec<&Example> = examples.iter().collect();
        let training = TrainingConfig {
            batch_size: options.batch,
            steps_per_iteration: options.steps,
            min_buffer: options.batch,
            buffer_size: options.batch,
            learning_rate: 1e-3,
            final_lr_fraction: 1.0,
            warmup_steps: 0,
            weight_decay: 1e-4,
            grad_clip: 1.0,
            value_weight: 1.0,
            info_set_row_every: 4,
        };
        let mut learner = Learner::<Autodiff<B>>::new(&config, &training, device, derive_seed(options.setup.seed, &[0]));
        // The first step allocates the optimizer state: not part of the steady rate.
        learner.step(&batch, options.steps + 1);
        let start = Instant::now();
        let mut losses = Default::default();
        for _ in 0..options.steps {
            losses = learner.step(&batch, options.steps + 1);
        }
        let wall = start.elapsed().as_secs_f64();
        if !losses.total.is_finite() {
            bail!("training diverged: loss {}", losses.total);
        }
        Ok(format!(
            "bench train: net {} ({} parameters), batch {}, {} steps, device {}, threads {}\n\
             step ms: {:.1}\nexamples/s: {:.0}\n",
            options.setup.net,
            config.param_count(),
            options.batch,
            options.steps,
            options.setup.device,
            rayon::current_num_threads(),
            wall * 1e3 / options.steps as f64,
            (options.steps * options.batch) as f64 / wall,
        ))
    }
}

/// The network alone on self-play's own batch sizes (evenly spaced through the run, about two
/// seconds' worth): tells how much of the gap to the fixed-size figure is due to the sizes
/// varying.
fn replay_sizes<B: Backend>(net: &mut NetEvaluator<B>, sample: &[Leaf], sizes: &[u32]) -> f64
where
    BlobNet<B>: Send,
{
    let mut out = Vec::new();
    let mut positions = 0;
    let budget = Duration::from_secs(2);
    let start = Instant::now();
    // About 24 calls: a spread of the run's sizes within the time budget.
    for &size in sizes.iter().step_by(sizes.len().div_ceil(24).max(1)) {
        let batch: Vec<Leaf> = sample.iter().cycle().take(size as usize).copied().collect();
        out.resize(batch.len(), Evaluation::default());
        net.evaluate(&batch, &mut out);
        positions += batch.len();
        if start.elapsed() > budget {
            break;
        }
    }
    positions as f64 / start.elapsed().as_secs_f64()
}

/// Positions of random play on the reference rounds, with uniform policy targets and the
/// round's final scores: real inputs for timing (what is learnt does not matter).
fn random_examples(count: usize, seed: u64) -> Vec<Example> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut examples = Vec::with_capacity(count);
    for mut round in reference_rounds(count.div_ceil(PLAYERS * CARDS), seed) {
        let mut positions = Vec::new();
        while !round.is_over() {
            let info = round.info_set(round.to_act());
            positions.push((info, mcts::hands_of(&round)));
            let action = round.legal_actions().sample(&mut rng).expect("a live round has a legal action");
            round.apply(action).expect("sampled from the legal actions");
        }
        let scores = round.scaled_scores();
        for (info, hands) in positions {
            let values = relative_to(info.observer(), PLAYERS, &scores);
            examples.push(Example { info, game: None, hands: Some(hands), policy: mcts::uniform_policy(&info).to_vec(), values, tricks: None });
        }
    }
    examples.truncate(count);
    examples
}
