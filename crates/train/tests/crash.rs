//! Crash safety: a real training process is killed (SIGKILL, no cleanup) at every crash point
//! it passes (each write window of every file, and between them), then rerun with the same
//! command. The resumed run must end exactly where an uninterrupted one does: the same network,
//! buffer, state and every metrics line (timings aside), the same files kept, and no temporary
//! file anywhere; and `metrics.jsonl` only grows (no line written before the kill changes, not
//! even in a float's last digit). Crash points are named in `blobnet::files`; `BLOB_CRASH_AT=N` kills at the
//! Nth, `BLOB_CRASH_AT=0` lists them.

mod common;

use std::fs;
use std::path::Path;

use common::{net_outputs, stderr, temporaries, tiny_config, tiny_games_config, with_iterations, without_timings, Scratch};
use train::program::buffer::ReplayBuffer;

/// What a finished run leaves, as far as two runs of one config must agree.
#[derive(Debug, PartialEq)]
struct Outcome {
    metrics: Vec<serde_json::Value>,
    state: (serde_json::Value, serde_json::Value, serde_json::Value),
    buffer: ReplayBuffer,
    net: Vec<f32>,
    checkpoints: Vec<String>,
    snapshots: Vec<String>,
    chart: bool,
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    names.sort();
    names
}

impl Outcome {
    fn of(scratch: &Scratch) -> Outcome {
        let latest = scratch.run_dir().join("checkpoints").join(scratch.latest());
        let state: serde_json::Value = serde_json::from_str(&fs::read_to_string(latest.join("state.json")).unwrap()).unwrap();
        let state = &state["sealed"]["state"];
        Outcome {
            metrics: scratch.metrics_text().lines().map(without_timings).collect(),
            state: (state["iteration"].clone(), state["optimizer_steps"].clone(), state["expected_round_score"].clone()),
            buffer: ReplayBuffer::load(&latest.join("buffer.bin")).unwrap(),
            net: net_outputs(&latest.join("net.bin")),
            checkpoints: names(&scratch.run_dir().join("checkpoints")),
            snapshots: names(&scratch.run_dir().join("nets")),
            chart: scratch.run_dir().join("chart.png").is_file(),
        }
    }
}

fn assert_every_crash_is_recovered(config: &str, iterations: usize) {
    let straight = Scratch::new();
    let output = straight.train_with(config, &[], &[("BLOB_CRASH_AT", "0")]);
    assert!(output.status.success(), "{}", stderr(&output));
    let points: Vec<String> = stderr(&output)
        .lines()
        .filter_map(|l| l.strip_prefix("crash point "))
        .map(|l| l.split_once(": ").expect("crash point N: label").1.to_string())
        .collect();
    // Each iteration writes a snapshot, four checkpoint files, the directory, `latest`, a
    // metrics line and the chart.
    for label in ["renamed net.bin", "written optimizer.bin", "written buffer.bin", "renamed state.json", "filled iter-000001", "renamed latest", "appended to metrics.jsonl", "written chart.png"] {
        assert!(points.iter().any(|p| p == label), "no crash point {label:?} in {points:?}");
    }
    let expected = Outcome::of(&straight);
    assert_eq!(expected.metrics.len(), iterations);
    assert!(temporaries(&straight.run_dir()).is_empty());

    for (index, label) in points.iter().enumerate() {
        let point = index + 1;
        let scratch = Scratch::new();
        let killed = scratch.train_with(config, &[], &[("BLOB_CRASH_AT", &point.to_string())]);
        assert!(!killed.status.success(), "point {point} ({label}): the run was not killed");
        assert!(stderr(&killed).contains(&format!("crash point {point}: {label}: killed")), "{}", stderr(&killed));
        let written = fs::read_to_string(scratch.run_dir().join("metrics.jsonl")).unwrap_or_default();
        let resumed = scratch.train(config, &[]);
        assert!(resumed.status.success(), "killed at point {point} ({label}), the rerun failed: {}", stderr(&resumed));
        // History is only appended to: every byte written before the kill is still there.
        assert!(scratch.metrics_text().starts_with(&written), "killed at point {point} ({label}): metrics.jsonl was rewritten");
        let found = Outcome::of(&scratch);
        assert!(found == expected, "killed at point {point} ({label}): the resumed run differs from an uninterrupted one");
        assert_eq!(temporaries(&scratch.run_dir()), Vec::<std::path::PathBuf>::new(), "killed at point {point} ({label})");
    }
}

#[test]
fn a_kill_at_any_point_of_a_rounds_run_is_resumed_to_the_same_result() {
    assert_every_crash_is_recovered(&with_iterations(&tiny_config(), 3), 3);
}

#[test]
fn a_kill_at_any_point_of_a_games_run_is_resumed_to_the_same_result() {
    assert_every_crash_is_recovered(&tiny_games_config(), 2);
}
