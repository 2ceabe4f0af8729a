//! The training configuration: one RON file (see `configs/`), every field documented there.

use std::path::Path;

use blobnet::{BlobNetConfig, DeviceSpec};
use mcts::{DriverConfig, SearchConfig};
use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Every random choice of the run flows from this seed.
    pub seed: u64,
    /// `cpu`, `cuda` or `cuda:N` (overridden by `--device`).
    pub device: String,
    /// Iterations to run (self-play, then training, then maybe evaluation and a checkpoint).
    pub iterations: usize,
    pub net: BlobNetConfig,
    /// Search used in self-play (root noise and temperatures on).
    pub search: SearchConfig,
    pub driver: DriverConfig,
    pub selfplay: SelfPlayConfig,
    pub training: TrainingConfig,
    pub evaluation: EvaluationConfig,
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
    /// Rounds (mode Rounds) or games (mode Games) played per iteration.
    pub per_iteration: usize,
    /// How many of them are played at once (their searches share network calls).
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
    /// Examples per minibatch.
    pub batch_size: usize,
    /// Minibatch updates per iteration.
    pub steps_per_iteration: usize,
    /// Training starts once the buffer holds this many examples.
    pub min_buffer: usize,
    /// Replay buffer capacity (oldest examples are overwritten).
    pub buffer_size: usize,
    /// Peak learning rate (AdamW).
    pub learning_rate: f64,
    /// Cosine decay to `learning_rate * final_lr_fraction` over the run; 1.0 keeps it constant.
    pub final_lr_fraction: f64,
    /// Linear warm-up, in optimizer steps.
    pub warmup_steps: usize,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Clip the gradient's global L2 norm to this (0 disables).
    pub grad_clip: f64,
    /// Weight of the value loss relative to the policy loss.
    pub value_weight: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationConfig {
    /// Evaluate every this many iterations (0: never).
    pub every: usize,
    /// Deals per opponent; each deal is played once per seat of the agent (seats rotated,
    /// the same deal replayed), so rounds = deals x players.
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

    pub fn validate(&self) -> Result<(), String> {
        self.device()?;
        self.net.validate().map_err(|e| format!("net: {e}"))?;
        self.search.validate().map_err(|e| format!("search: {e}"))?;
        self.evaluation.search.validate().map_err(|e| format!("evaluation.search: {e}"))?;
        self.driver.validate().map_err(|e| format!("driver: {e}"))?;
        let positive = |value: usize, field: &str| if value == 0 { Err(format!("{field} must be at least 1")) } else { Ok(()) };
        positive(self.iterations, "iterations")?;
        let s = &self.selfplay;
        let size = match s.mode {
            Mode::Rounds => "size",
            Mode::Games => "start size C",
        };
        positive(s.per_iteration, "selfplay.per_iteration")?;
        positive(s.concurrent, "selfplay.concurrent")?;
        check_weights(&s.players, "selfplay.players")?;
        check_weights(&s.cards, "selfplay.cards")?;
        for &(players, _) in &s.players {
            if !(game::MIN_PLAYERS..=game::MAX_PLAYERS).contains(&players) {
                return Err(format!("selfplay.players: {players} players, Blob needs 3 to 8"));
            }
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
        positive(t.batch_size, "training.batch_size")?;
        positive(t.buffer_size, "training.buffer_size")?;
        if t.min_buffer > t.buffer_size {
            return Err("training.min_buffer exceeds training.buffer_size".into());
        }
        if !(t.learning_rate > 0.0 && t.learning_rate.is_finite()) {
            return Err(format!("training.learning_rate must be positive, got {}", t.learning_rate));
        }
        if !(0.0..=1.0).contains(&t.final_lr_fraction) {
            return Err(format!("training.final_lr_fraction must be in [0, 1], got {}", t.final_lr_fraction));
        }
        if !(t.weight_decay >= 0.0 && t.grad_clip >= 0.0 && t.value_weight >= 0.0) {
            return Err("training.weight_decay, grad_clip and value_weight must be >= 0".into());
        }
        let e = &self.evaluation;
        if e.every > 0 {
            positive(e.deals, "evaluation.deals")?;
            if !(game::MIN_PLAYERS..=game::MAX_PLAYERS).contains(&e.players) {
                return Err(format!("evaluation.players: {} players, Blob needs 3 to 8", e.players));
            }
            if e.cards.is_empty() || e.cards.iter().any(|&n| n == 0 || n > game::max_cards(e.players)) {
                return Err(format!("evaluation.cards must list sizes in 1..={}", game::max_cards(e.players)));
            }
        }
        Ok(())
    }
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
