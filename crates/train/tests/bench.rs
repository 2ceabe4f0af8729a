//! `blob bench` through the real binary, with a tiny network and a few rounds so that it is
//! quick: every reported field is present and a sane number.

use std::collections::HashMap;
use std::process::{Command, Output};

fn blob(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blob")).args(args).output().expect("the blob binary runs")
}

/// The `name: number` lines of a report.
fn fields(output: &Output) -> HashMap<String, f64> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "blob failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
        .lines()
        .filter_map(|line| {
            let (name, value) = line.rsplit_once(": ")?;
            Some((name.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn bench_selfplay_reports_sane_figures() {
    let output = blob(&["bench", "selfplay", "--rounds", "6", "--concurrent", "3", "--net", "tiny", "--max-batch", "64"]);
    let report = fields(&output);
    let get = |name: &str| *report.get(name).unwrap_or_else(|| panic!("no {name:?} in {report:?}"));
    for name in [
        "wall s",
        "rounds/min",
        "positions/s",
        "nn evals/s",
        "nn batch mean",
        "simulations/s",
        "network-only positions/s",
        "self-play / network-only",
    ] {
        let value = get(name);
        assert!(value.is_finite() && value > 0.0, "{name} = {value}");
    }
    // 6 rounds in the reported wall time.
    assert!((get("rounds/min") * get("wall s") / 60.0 - 6.0).abs() < 0.25);
    let (mean, p50, p90) = (get("nn batch mean"), get("nn batch p50"), get("nn batch p90"));
    assert!((1.0..=64.0).contains(&mean), "mean batch {mean} outside the cap");
    assert!(1.0 <= p50 && p50 <= p90 && p90 <= 64.0, "p50 {p50}, p90 {p90}");
    assert_eq!(get("network-only batch"), mean.round());
    for name in ["evaluator busy %", "selection busy %"] {
        assert!((0.0..=100.0).contains(&get(name)), "{name} = {}", get(name));
    }
    // 3 worlds x 30 simulations per searched position, give or take the terminal ones.
    assert!(get("simulations/s") >= 30.0 * get("positions/s"));
}

#[test]
fn bench_selfplay_without_network_reports_the_host_ceiling() {
    let output = blob(&["bench", "selfplay", "--no-network", "--rounds", "20", "--concurrent", "8", "--threads", "2"]);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let report = fields(&output);
    let get = |name: &str| *report.get(name).unwrap_or_else(|| panic!("no {name:?} in {report:?}"));
    assert!(stdout.contains("no network (fixed outputs)"), "{stdout}");
    assert!(stdout.contains("threads 2"), "{stdout}");
    let (total, per_core, host_us) = (get("nn evals/s"), get("evals/s per core"), get("host us per evaluation (core time)"));
    assert!(total > 0.0 && per_core > 0.0, "{stdout}");
    // Per core over the two threads, and the core time per evaluation is its inverse.
    assert!((per_core * 2.0 / total - 1.0).abs() < 1e-3, "{stdout}");
    assert!((host_us * per_core / 1e6 - 1.0).abs() < 1e-3, "{stdout}");
    assert!(get("simulations/s") >= 30.0 * get("positions/s"));
    assert!(!report.contains_key("network-only positions/s"), "no network figures without a network");
}

#[test]
fn bench_train_reports_examples_per_second() {
    let report = fields(&blob(&["bench", "train", "--net", "tiny", "--steps", "2", "--batch", "16"]));
    let rate = report["examples/s"];
    assert!(rate.is_finite() && rate > 0.0, "examples/s = {rate}");
}

#[test]
fn bench_rejects_bad_options_with_clear_errors() {
    for (args, expected) in [
        (&["bench", "selfplay", "--rounds", "0"][..], "--rounds and --concurrent must be at least 1"),
        (&["bench", "selfplay", "--rounds", "1", "--max-batch", "8", "--net", "tiny"], "batch cap"),
        (&["bench", "selfplay", "--device", "gpu"], "unknown device"),
        (&["bench", "train", "--net", "huge"], "unknown network preset"),
    ] {
        let output = blob(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
