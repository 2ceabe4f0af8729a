//! What each iteration measured: one `metrics.jsonl` line, typed, and the chart drawn from them.

use serde::{Deserialize, Serialize};

use crate::arena::MatchResult;
use crate::chart::{Panel, Series, BLUE, GREEN, ORANGE, RED};

/// One finished iteration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    pub iteration: usize,
    /// Wall time of the whole iteration.
    pub seconds: f64,
    pub selfplay: SelfPlayMetrics,
    pub train: TrainMetrics,
    /// Evaluation matches (empty in iterations without evaluation).
    pub eval: Vec<MatchResult>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfPlayMetrics {
    pub rounds: usize,
    /// Whole games played (mode Games), none in mode Rounds.
    pub games: Option<usize>,
    pub positions: usize,
    pub seconds: f64,
    pub rounds_per_min: f64,
    pub games_per_min: Option<f64>,
    /// Rho measured by this self-play (the mean scaled score per seat per round).
    pub mean_round_score: Option<f64>,
    /// The rho this self-play used (the previous iteration's measurement).
    pub expected_round_score: f64,
    pub positions_per_s: f64,
    pub simulations_per_s: f64,
    pub nn_evaluations: u64,
    pub mean_nn_batch: f64,
    pub largest_nn_batch: u64,
    pub evaluator_busy: f64,
    pub collisions: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainMetrics {
    /// Optimizer steps taken (0 while the buffer fills).
    pub steps: usize,
    pub loss: f64,
    pub policy_loss: f64,
    pub value_loss: f64,
    pub policy_entropy: f64,
    pub learning_rate: f64,
    pub examples_per_s: f64,
    pub buffer: usize,
}

impl Metrics {
    /// The `metrics.jsonl` line (without its newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("metrics serialise")
    }

    fn advantage(&self, opponent: &str) -> Option<f64> {
        self.eval.iter().find(|e| e.opponent == opponent).map(|e| e.advantage)
    }
}

/// The chart's panels: losses, evaluation advantage, throughput.
pub fn chart_panels(metrics: &[Metrics]) -> Vec<Panel> {
    let series = |label: &'static str, color, value: &dyn Fn(&Metrics) -> Option<f64>| Series {
        label,
        color,
        points: metrics.iter().filter_map(|m| Some((m.iteration as f64, value(m)?))).collect(),
    };
    let trained = |m: &Metrics| m.train.steps > 0;
    vec![
        Panel {
            title: "LOSS",
            series: vec![
                series("POLICY", BLUE, &|m| trained(m).then_some(m.train.policy_loss)),
                series("VALUE X10", RED, &|m| trained(m).then_some(m.train.value_loss * 10.0)),
            ],
        },
        Panel {
            title: "SCORE ADVANTAGE PER ROUND VS",
            series: vec![
                series("HEURISTIC", GREEN, &|m| m.advantage("heuristic")),
                series("PIMC", RED, &|m| m.advantage("pimc")),
                series("RANDOM", ORANGE, &|m| m.advantage("random")),
            ],
        },
        Panel { title: "SELF-PLAY", series: vec![series("ROUNDS/MIN", BLUE, &|m| Some(m.selfplay.rounds_per_min))] },
    ]
}
