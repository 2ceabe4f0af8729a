//! What each iteration measured: one `metrics.jsonl` line, typed, and the chart drawn from them.

use serde::{Deserialize, Serialize};

use crate::matches::MatchResult;
use std::path::Path;

use anyhow::Context;
use blobnet::files::write_atomically;

use crate::program::chart::{self, Panel, Series, BLUE, GREEN, ORANGE, RED};

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
    /// What the distributed learner took from the actors' stream (none in one process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamMetrics>,
}

/// One iteration of the distributed learner's intake.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamMetrics {
    /// Chunks taken into the buffer.
    pub chunks: usize,
    /// Chunks refused (damaged, of another run or architecture, out of range).
    pub refused: usize,
    /// Chunks (and their positions) dropped as played by a network too old.
    pub stale_chunks: usize,
    pub stale_positions: usize,
    /// Chunks left waiting in the stream when the iteration's intake was complete, and the
    /// positions they hold, estimated at this iteration's mean positions per chunk.
    pub waiting_chunks: u64,
    pub waiting_positions: u64,
    /// Seconds the intake took (waiting for actors included).
    pub wait_s: f64,
    /// Mean age, in network versions, of the positions taken.
    pub mean_example_age: f64,
    pub actors: std::collections::BTreeMap<String, ActorMetrics>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorMetrics {
    pub chunks: usize,
    pub positions: usize,
    pub stale_positions: usize,
    /// Positions taken from this actor per second of the iteration's intake.
    pub positions_per_s: f64,
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
    /// The tricks head's cross-entropy; none without a tricks head (and in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tricks_loss: Option<f64>,
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

/// Redraw a run's chart from its `metrics.jsonl`: as PNG at `png`, as SVG at `svg` (each
/// when given), for documents and for runs whose chart was left behind.
pub fn redraw_chart(run_dir: &Path, png: Option<&Path>, svg: Option<&Path>) -> anyhow::Result<usize> {
    let path = run_dir.join("metrics.jsonl");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let metrics = text
        .lines()
        .enumerate()
        .map(|(i, line)| serde_json::from_str::<Metrics>(line).with_context(|| format!("{} line {}", path.display(), i + 1)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let panels = chart_panels(&metrics);
    if let Some(png) = png {
        chart::write_chart(png, &panels)?;
    }
    if let Some(svg) = svg {
        let text = chart::chart_svg(&panels)?;
        write_atomically(svg, |file| file.write_all(text.as_bytes()))?;
    }
    Ok(metrics.len())
}

/// The chart's panels: losses, evaluation advantage, throughput.
pub fn chart_panels(metrics: &[Metrics]) -> Vec<Panel> {
    let series = |label: &'static str, color, value: &dyn Fn(&Metrics) -> Option<f64>| Series {
        label,
        color,
        points: metrics.iter().filter_map(|m| Some((m.iteration as f64, value(m)?))).collect(),
    };
    let trained = |m: &Metrics| m.train.steps > 0;
    let mut losses = vec![
        series("policy (cross-entropy)", BLUE, &|m| trained(m).then_some(m.train.policy_loss)),
        series("value (MSE) x 10", RED, &|m| trained(m).then_some(m.train.value_loss * 10.0)),
    ];
    // Only runs with a tricks head have it.
    losses.extend(Some(series("tricks (cross-entropy)", GREEN, &|m| m.train.tricks_loss)).filter(|s| !s.points.is_empty()));
    vec![
        Panel { title: "Training loss", y_label: "loss", series: losses },
        Panel {
            title: "Evaluation: the agent's score advantage per round over each opponent",
            y_label: "points per round",
            series: vec![
                series("vs HeuristicBot", GREEN, &|m| m.advantage("heuristic")),
                series("vs PimcBot", RED, &|m| m.advantage("pimc")),
                series("vs RandomBot", ORANGE, &|m| m.advantage("random")),
            ],
        },
        Panel {
            title: "Self-play throughput",
            y_label: "rounds per minute",
            series: vec![series("rounds / min", BLUE, &|m| Some(m.selfplay.rounds_per_min))],
        },
    ]
}
