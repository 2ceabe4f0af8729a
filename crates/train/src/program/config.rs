//! The training configuration: one RON file (see `configs/`), every field documented there.

use std::path::Path;

use blobnet::{BlobNetConfig, DeviceSpec};
use mcts::{DriverConfig, SearchConfig, SearchKind};
use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Every random choice of the run flows from this seed.
    pub seed: u64,
    /// `cpu`, `cuda` or `cuda:N` (overridden by `--device`).
    pub device: String,
    /// Iterations to run (self-play, then training, then maybe evaluation and a checkpoint);
    /// 1..=[`MAX_ITERATIONS`].
    pub iterations: usize,
    /// Sizes: d_model 2..=4096, blocks 0..=64, ffn 1..=16384.
    pub net: BlobNetConfig,
    /// Search used in self-play (root noise and temperatures on).
    pub search: SearchConfig,
    /// `max_batch` 1..=[`MAX_BATCH`], and at least one wave of `search` and of
    /// `evaluation.search` (worlds x min(leaves_per_wave, simulations)).
    pub driver: DriverConfig,
    pub selfplay: SelfPlayConfig,
    pub training: TrainingConfig,
    pub evaluation: EvaluationConfig,
    /// The distributed mode's settings (`train learner` / `train actor`); the one-process run
    /// ignores them. Optional in the file: absent means the defaults.
    // Left out when default, so that the files of one-process runs (and their checksums) are
    // as they were.
    #[serde(default, skip_serializing_if = "DistributedConfig::is_default")]
    pub distributed: DistributedConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DistributedConfig {
    /// Training samples (batch_size x steps) per new position: each iteration the learner waits
    /// for batch_size x steps_per_iteration / this many new positions from the actors;
    /// (0, 10000].
    pub samples_per_position: f64,
    /// Examples played by a network more than this many versions older than the learner's
    /// current one are dropped (and counted).
    pub max_staleness: u64,
    /// Rounds (mode Rounds) or games (mode Games) per chunk an actor sends;
    /// 1..=[`MAX_PER_ITERATION`].
    pub chunk_deals: usize,
    /// Most chunks waiting in the stream; an actor whose chunk finds it full waits for the
    /// learner. 1..=1000000.
    pub max_waiting_chunks: i64,
    /// Seconds a learner's lease on the run lasts without being renewed: a second learner
    /// is refused while it is renewed, and a restarted one waits this long for a killed one's
    /// to lapse; 1..=3600.
    pub learner_lease_s: u64,
}

impl DistributedConfig {
    fn is_default(&self) -> bool {
        *self == DistributedConfig::default()
    }

    /// New positions the learner takes from the stream per iteration.
    pub fn positions_per_iteration(&self, training: &TrainingConfig) -> usize {
        ((training.batch_size * training.steps_per_iteration) as f64 / self.samples_per_position).ceil().max(1.0) as usize
    }
}

impl Default for DistributedConfig {
    fn default() -> DistributedConfig {
        DistributedConfig { samples_per_position: 4.0, max_staleness: 2, chunk_deals: 32, max_waiting_chunks: 10_000, learner_lease_s: 10 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Independent rounds with P, n, dealer and trump drawn from the configured weights.
    Rounds,
    /// Whole games by the schedule (C..2, P rounds of 1, 2..C; dealer and trump rotating),
    /// P and the start size C drawn from the configured weights; values are the remaining game
    /// score.
    Games,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfPlayConfig {
    pub mode: Mode,
    /// Rounds (mode Rounds) or games (mode Games) played per iteration; 1..=[`MAX_PER_ITERATION`].
    pub per_iteration: usize,
    /// How many of them are played at once (their searches share network calls);
    /// 1..=[`MAX_CONCURRENT`].
    pub concurrent: usize,
    /// (players, weight): how often each table size is drawn.
    pub players: Vec<(usize, f64)>,
    /// (cards per player, weight) in mode Rounds; in mode Games, the start size C of the
    /// schedule. Sizes above floor(52 / P) are skipped for P.
    pub cards: Vec<(usize, f64)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Examples per minibatch; 1..=[`MAX_BATCH_SIZE`].
    pub batch_size: usize,
    /// Minibatch updates per iteration; 1..=[`MAX_STEPS_PER_ITERATION`].
    pub steps_per_iteration: usize,
    /// Training starts once the buffer holds this many examples; at most `buffer_size`.
    pub min_buffer: usize,
    /// Replay buffer capacity (oldest examples are overwritten); 1..=[`MAX_BUFFER_SIZE`], and the
    /// run's memory estimate must fit the machine's available memory.
    pub buffer_size: usize,
    /// Peak learning rate (AdamW); (0, 1].
    pub learning_rate: f64,
    /// Cosine decay to `learning_rate * final_lr_fraction` over the run; 1.0 keeps it constant;
    /// [0, 1].
    pub final_lr_fraction: f64,
    /// Linear warm-up, in optimizer steps; at most [`MAX_STEPS_PER_ITERATION`].
    pub warmup_steps: usize,
    /// AdamW decoupled weight decay; [0, 1].
    pub weight_decay: f64,
    /// Clip the gradient's global L2 norm to this (0 disables); [0, 1e6].
    pub grad_clip: f64,
    /// Weight of the value loss relative to the policy loss; [0, 1000].
    pub value_weight: f32,
    /// One training row in this many is encoded from the information set alone (the other
    /// hands hidden), as the rollout search and the PUCT root ask; the others show the real
    /// deal, for the perfect-information values a PUCT search asks of its worlds. 1 hides
    /// every row; 1..=1000. Optional in the file (default 4).
    #[serde(default = "TrainingConfig::default_info_set_row_every", skip_serializing_if = "TrainingConfig::is_default_info_set_row_every")]
    pub info_set_row_every: usize,
}

impl TrainingConfig {
    fn default_info_set_row_every() -> usize {
        4
    }

    fn is_default_info_set_row_every(every: &usize) -> bool {
        *every == TrainingConfig::default_info_set_row_every()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationConfig {
    /// Evaluate every this many iterations (0: never).
    pub every: usize,
    /// Deals per opponent; each deal is played once per seat of the agent (seats rotated,
    /// the same deal replayed), so rounds = deals x players; 1..=[`MAX_EVALUATION_DEALS`].
    pub deals: usize,
    pub players: usize,
    /// Cards per player for evaluation rounds: drawn uniformly from this list.
    pub cards: Vec<usize>,
    /// The agent's search in evaluation (no noise, most visited action).
    pub search: SearchConfig,
    /// Also play the net of this many iterations ago (0: skip).
    pub against_iterations_ago: usize,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Parse { path: String, line: usize, column: usize, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl TrainConfig {
    pub fn load(path: &Path) -> Result<TrainConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        TrainConfig::parse(&text, &path.display().to_string())
    }

    /// Parse RON text; `origin` names the source in errors.
    pub fn parse(text: &str, origin: &str) -> Result<TrainConfig, ConfigError> {
        let config: TrainConfig = ron::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            line: e.position.line,
            column: e.position.col,
            message: e.code.to_string(),
        })?;
        config.validate().map_err(|message| ConfigError::Invalid { path: origin.to_string(), message })?;
        Ok(config)
    }

    pub fn to_ron(&self) -> String {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default()).expect("configs serialise")
    }

    pub fn device(&self) -> Result<DeviceSpec, String> {
        self.device.parse::<DeviceSpec>().map_err(|e| format!("device: {e}"))
    }

    /// Check every field against its documented range (see `configs/*.ron` and the field
    /// docs), naming the field that is out of range. Nothing is read or written.
    pub fn validate(&self) -> Result<(), String> {
        self.device()?;
        self.net.validate().map_err(|e| format!("net: {e}"))?;
        self.search.validate().map_err(|e| format!("search: {e}"))?;
        if self.search.kind == SearchKind::OnePly {
            return Err("search.kind must be puct or rollout: a one-ply search gives no policy target".into());
        }
        if self.search.halving {
            return Err("search.halving is for play (evaluation.search): its policy covers only the last phase's actions, no policy target".into());
        }
        self.evaluation.search.validate().map_err(|e| format!("evaluation.search: {e}"))?;
        self.driver.validate().map_err(|e| format!("driver: {e}"))?;
        if self.driver.max_batch > MAX_BATCH {
            return Err(format!("driver.max_batch must be in 1..={MAX_BATCH}, got {}", self.driver.max_batch));
        }
        for (field, search) in [("search", &self.search), ("evaluation.search", &self.evaluation.search)] {
            if search.largest_wave() > self.driver.max_batch {
                return Err(format!(
                    "driver.max_batch ({}) is below one wave of {field}: {} = {}",
                    self.driver.max_batch,
                    search.largest_wave_formula(),
                    search.largest_wave()
                ));
            }
        }
        count(self.iterations, MAX_ITERATIONS, "iterations")?;
        let s = &self.selfplay;
        let size = match s.mode {
            Mode::Rounds => "size",
            Mode::Games => "start size C",
        };
        count(s.per_iteration, MAX_PER_ITERATION, "selfplay.per_iteration")?;
        count(s.concurrent, MAX_CONCURRENT, "selfplay.concurrent")?;
        check_weights(&s.players, "selfplay.players")?;
        check_weights(&s.cards, "selfplay.cards")?;
        for &(players, _) in &s.players {
            game::check_table(players, 1, 0).map_err(|e| format!("selfplay.players: {e}"))?;
            if !s.cards.iter().any(|&(n, w)| w > 0.0 && (1..=game::max_cards(players)).contains(&n)) {
                return Err(format!(
                    "selfplay.cards: no {size} fits {players} players (at most {} cards each)",
                    game::max_cards(players)
                ));
            }
        }
        if let Some(&(n, _)) = s.cards.iter().find(|(n, _)| *n == 0 || *n > game::max_cards(game::MIN_PLAYERS)) {
            return Err(format!("selfplay.cards: {n} cards is impossible (1..=17)"));
        }
        let t = &self.training;
        count(t.batch_size, MAX_BATCH_SIZE, "training.batch_size")?;
        count(t.steps_per_iteration, MAX_STEPS_PER_ITERATION, "training.steps_per_iteration")?;
        count(t.buffer_size, MAX_BUFFER_SIZE, "training.buffer_size")?;
        if t.min_buffer > t.buffer_size {
            return Err("training.min_buffer exceeds training.buffer_size".into());
        }
        if t.warmup_steps > MAX_STEPS_PER_ITERATION {
            return Err(format!("training.warmup_steps must be at most {MAX_STEPS_PER_ITERATION}, got {}", t.warmup_steps));
        }
        if !(t.learning_rate > 0.0 && t.learning_rate <= 1.0) {
            return Err(format!("training.learning_rate must be positive, at most 1, got {}", t.learning_rate));
        }
        real(t.final_lr_fraction, 0.0, 1.0, "training.final_lr_fraction")?;
        real(t.weight_decay, 0.0, 1.0, "training.weight_decay")?;
        real(t.grad_clip, 0.0, 1e6, "training.grad_clip")?;
        real(f64::from(t.value_weight), 0.0, 1e3, "training.value_weight")?;
        count(t.info_set_row_every, 1000, "training.info_set_row_every")?;
        let d = &self.distributed;
        if !(d.samples_per_position > 0.0 && d.samples_per_position <= 1e4) {
            return Err(format!("distributed.samples_per_position must be in (0, 10000], got {}", d.samples_per_position));
        }
        count(d.chunk_deals, MAX_PER_ITERATION, "distributed.chunk_deals")?;
        if !(1..=1_000_000).contains(&d.max_waiting_chunks) {
            return Err(format!("distributed.max_waiting_chunks must be in 1..=1000000, got {}", d.max_waiting_chunks));
        }
        if !(1..=3600).contains(&d.learner_lease_s) {
            return Err(format!("distributed.learner_lease_s must be in 1..=3600, got {}", d.learner_lease_s));
        }
        let e = &self.evaluation;
        if e.every > 0 {
            count(e.deals, MAX_EVALUATION_DEALS, "evaluation.deals")?;
            game::check_table(e.players, 1, 0).map_err(|e| format!("evaluation.players: {e}"))?;
            if e.cards.is_empty() {
                return Err("evaluation.cards: no round size given".into());
            }
            for &n in &e.cards {
                game::check_table(e.players, n, 0).map_err(|e| format!("evaluation.cards: {e}"))?;
            }
        }
        Ok(())
    }

    /// The memory a run of this config needs at least, by the fields that drive it (bytes).
    pub fn memory_needed(&self) -> Vec<(&'static str, u64)> {
        let floats = |n: usize| n as u64 * 4;
        let t = &self.training;
        let net = &self.net;
        // Per row: the input, each block's residual and feed-forward activations, the heads.
        let row = blobnet::FEATURES + net.blocks * (4 * net.d_model + 2 * net.ffn) + 2 * game::ACTIONS;
        let nodes = self.selfplay.concurrent as u64 * u64::from(self.search.worlds) * u64::from(self.search.simulations);
        vec![
            ("training.buffer_size", t.buffer_size as u64 * EXAMPLE_BYTES),
            // Weights, gradients and AdamW's two moments.
            ("net", 4 * floats(net.param_count())),
            // Forward activations kept for the backward pass, and their gradients.
            ("training.batch_size", 2 * floats(t.batch_size * row)),
            ("driver.max_batch", floats(self.driver.max_batch * row)),
            ("selfplay.concurrent x search", nodes * NODE_BYTES),
        ]
    }

    /// Refuse a config whose run cannot fit in the memory this machine has available, naming
    /// the fields that need the most. Machines that do not say what they have pass.
    pub fn check_memory(&self) -> Result<(), String> {
        available_memory().map_or(Ok(()), |available| self.check_memory_against(available))
    }

    fn check_memory_against(&self, available: u64) -> Result<(), String> {
        let mut parts = self.memory_needed();
        let needed: u64 = parts.iter().map(|(_, b)| b).sum();
        if needed <= available {
            return Ok(());
        }
        parts.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        let largest: Vec<String> = parts.iter().take(2).map(|(field, b)| format!("{field} {:.1} GiB", gib(*b))).collect();
        Err(format!(
            "this config needs about {:.1} GiB of memory ({}), this machine has {:.1} GiB available",
            gib(needed),
            largest.join(", "),
            gib(available)
        ))
    }
}

/// Upper bounds of the config's counts: generous, but far below what would only reach the
/// allocator or run for years.
pub const MAX_ITERATIONS: usize = 10_000_000;
pub const MAX_PER_ITERATION: usize = 1_000_000;
pub const MAX_CONCURRENT: usize = 65_536;
pub const MAX_BATCH: usize = 1 << 20;
pub const MAX_BATCH_SIZE: usize = 1 << 16;
pub const MAX_STEPS_PER_ITERATION: usize = 1_000_000;
pub const MAX_BUFFER_SIZE: usize = 100_000_000;
pub const MAX_EVALUATION_DEALS: usize = 1_000_000;

/// A replay-buffer example in memory: the struct and its policy row.
const EXAMPLE_BYTES: u64 = (std::mem::size_of::<crate::deals::Example>() + game::ACTIONS * 4) as u64;
/// A search tree's memory per simulation, generously (a node and its edges).
const NODE_BYTES: u64 = 512;

fn count(value: usize, max: usize, field: &str) -> Result<(), String> {
    if value == 0 || value > max {
        return Err(format!("{field} must be in 1..={max}, got {value}"));
    }
    Ok(())
}

fn real(value: f64, min: f64, max: f64, field: &str) -> Result<(), String> {
    // NaN fails both comparisons.
    if !(value >= min && value <= max) {
        return Err(format!("{field} must be in [{min}, {max}], got {value}"));
    }
    Ok(())
}

/// `MemAvailable` of /proc/meminfo, where there is one.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn check_weights<T: std::fmt::Debug>(weights: &[(T, f64)], field: &str) -> Result<(), String> {
    if weights.iter().any(|(_, w)| !(*w >= 0.0 && w.is_finite())) {
        return Err(format!("{field}: weights must be finite and >= 0"));
    }
    if !weights.iter().any(|(_, w)| *w > 0.0) {
        return Err(format!("{field}: needs at least one positive weight"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> TrainConfig {
        TrainConfig::parse(include_str!("../../../../configs/tiny.ron"), "tiny.ron").unwrap()
    }

    /// Every preset in `configs/` loads and passes the checks a run makes, and says on its first
    /// line what it is for (a preset edited into an invalid one would otherwise only fail when
    /// someone starts it).
    #[test]
    fn every_preset_loads() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        let mut presets = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "ron") {
                let config = TrainConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
                config.device().unwrap();
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(text.starts_with("// "), "{}: the first line says what the preset is for", path.display());
                presets += 1;
            }
        }
        assert!(presets >= 5, "{presets} presets in {}", dir.display());
    }

    /// Out-of-range values (some used to start a run that then went NaN or aborted on an
    /// allocation) and unknown fields are refused, naming the field.
    #[test]
    fn bad_configs_give_clear_errors() {
        let text = include_str!("../../../../configs/tiny.ron");
        let cases = [
            ("worlds: 2,", "worlds: 0,", "worlds must be in 1.."),
            ("leaves_per_wave: 4,      //", "leaves_per_wave: 0,      //", "leaves_per_wave must be in 1.."),
            ("batch_size: 32,", "batch_size: 0,", "training.batch_size must be in 1..="),
            ("learning_rate: 0.001,", "learning_rate: 1e300,", "training.learning_rate must be positive, at most 1"),
            ("learning_rate: 0.001,", "learning_rate: -0.1,", "learning_rate must be positive"),
            ("weight_decay: 0.0001,", "weight_decay: 1e30,", "training.weight_decay must be in [0, 1]"),
            ("value_weight: 1.0,", "value_weight: inf,", "training.value_weight must be in [0, 1000]"),
            ("batch_size: 32,", "batch_size: 1000000000000,", "training.batch_size must be in 1..=65536"),
            ("per_iteration: 8,", "per_iteration: 1000000000000,", "selfplay.per_iteration must be in 1..=1000000"),
            ("d_model: 32,", "d_model: 1000000,", "invalid network config BlobNetConfig { d_model: 1000000, blocks: 1, ffn: 64, tricks_head: true }: d_model must be in 2..=4096"),
            ("buffer_size: 10000,", "buffer_size: 1000000000000,", "training.buffer_size must be in 1..="),
            ("max_batch: 4096,", "max_batch: 1,", "driver.max_batch (1) is below one wave of search: worlds x max(18 actions, belief_oversample x 7 other seats) = 36"),
            ("per_iteration: 8,", "per_iteration: -3,", "tiny.ron:"),
            ("kind: rollout,", "kind: rollout, halving: true,", "search.halving is for play"),
            ("search: (worlds: 2, simulations: 8,", "search: (halving: true, worlds: 2, simulations: 8,", "evaluation.search: halving needs kind: rollout"),
            ("device: \"cpu\",", "device: \"tpu\",", "device"),
            ("seed: 1,", "seed: 1, colour: 3,", "colour"),
            ("players: [(4, 1.0)],", "players: [(9, 1.0)],", "9 players"),
            ("seed: 1,", "seed: 1, distributed: (samples_per_position: 0.0),", "distributed.samples_per_position must be in (0, 10000], got 0"),
            ("seed: 1,", "seed: 1, distributed: (learner_lease_s: 0),", "distributed.learner_lease_s must be in 1..=3600, got 0"),
            ("seed: 1,", "seed: 1, distributed: (max_waiting_chunks: -1),", "distributed.max_waiting_chunks must be in 1..=1000000, got -1"),
            ("seed: 1,", "seed: 1, distributed: (chunk_size: 3),", "chunk_size"),
            ("mode: Rounds,", "mode: Games, // (and 14 cards below)", "selfplay.cards: no start size C fits 4 players (at most 13 cards each)"),
        ];
        for (from, to, expected) in cases {
            let mut changed = text.replacen(from, to, 1);
            if to.starts_with("mode: Games") {
                changed = changed.replacen("cards: [(2, 1.0), (3, 1.0)],", "cards: [(14, 1.0)],", 1);
            }
            assert_ne!(changed, text, "{from} not found in tiny.ron");
            let message = TrainConfig::parse(&changed, "tiny.ron").unwrap_err().to_string();
            assert!(message.contains(expected), "{to}: expected {expected:?} in: {message}");
        }
        let line = text.lines().position(|l| l.contains("seed: 1,")).unwrap() + 1;
        let message = TrainConfig::parse(&text.replacen("seed: 1,", "seed: 1, colour: 3,", 1), "tiny.ron").unwrap_err().to_string();
        assert!(message.starts_with(&format!("tiny.ron:{line}:")), "{message}");
    }

    #[test]
    fn a_config_that_needs_more_memory_than_there_is_names_the_biggest_fields() {
        let mut config = tiny();
        assert!(config.check_memory_against(1 << 30).is_ok());
        config.training.buffer_size = MAX_BUFFER_SIZE;
        let message = config.check_memory_against(8 << 30).unwrap_err();
        assert!(message.starts_with("this config needs about") && message.contains("training.buffer_size"), "{message}");
        assert!(message.contains("8.0 GiB available"), "{message}");
        let mut config = tiny();
        config.net = BlobNetConfig { d_model: 4096, blocks: 64, ffn: 16384, tricks_head: true };
        let message = config.check_memory_against(8 << 30).unwrap_err();
        assert!(message.contains("net "), "{message}");
    }
}
