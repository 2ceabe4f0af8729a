//! The `train` binary end to end on the tiny preset: run, checkpoint, resume, equivalence of
//! resumed and straight runs, and clear errors for bad configs and damaged checkpoints.

mod common;

use std::fs;
use std::path::Path;

use common::{checkpoint, net_outputs, stderr, tiny_config, tiny_games_config, with_iterations};

fn train(dir: &Path, config: &str, extra: &[&str]) -> std::process::Output {
    common::train_in(dir, config, extra, &[])
}

#[test]
fn tiny_runs_checkpoints_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let first = train(dir.path(), &tiny_config(), &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(fs::read_to_string(run.join("checkpoints/latest")).unwrap(), "iter-000002");
    for file in ["net.bin", "optimizer.bin", "buffer.bin", "state.json"] {
        assert!(checkpoint(&run, 2).join(file).is_file(), "{file} missing");
    }
    let metrics = fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = metrics.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["selfplay"]["positions"].as_u64().unwrap() > 0);
    assert!(lines[1]["train"]["loss"].as_f64().unwrap().is_finite());
    assert_eq!(lines[1]["eval"].as_array().unwrap().len(), 4, "heuristic, pimc, random and the earlier net");
    assert!(lines[1]["train"]["tricks_loss"].as_f64().unwrap() > 0.0, "the tiny preset has a tricks head");

    // Every example keeps the tricks each seat took, relative to its observer as the values
    // are: once every seat has bid, a seat scored exactly when it took its bid.
    let buffer = train::program::buffer::ReplayBuffer::load(&checkpoint(&run, 2).join("buffer.bin")).unwrap();
    let mut checked = 0;
    for example in buffer.examples() {
        let tricks = example.tricks.expect("examples keep the tricks taken");
        let view = example.info.view();
        let players = view.players();
        assert_eq!(tricks.iter().map(|&t| t as usize).sum::<usize>(), view.cards());
        for r in 0..players {
            let seat = (example.info.observer() + r) % players;
            assert!(tricks[r] >= view.tricks_won(seat));
            if let Some(bid) = view.bid(seat) {
                assert_eq!(example.values[r] > 0.0, tricks[r] == bid, "relative seat {r}: {example:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked}");

    // Rerun with more iterations: it resumes from iteration 2 and continues.
    let more = train(dir.path(), &with_iterations(&tiny_config(), 3), &[]);
    assert!(more.status.success(), "{}", stderr(&more));
    assert!(stderr(&more).contains("resuming from"), "{}", stderr(&more));
    assert_eq!(fs::read_to_string(run.join("checkpoints/latest")).unwrap(), "iter-000003");
    assert_eq!(fs::read_to_string(run.join("metrics.jsonl")).unwrap().lines().count(), 3);
}

#[test]
fn resumed_run_matches_a_straight_run() {
    assert_resume_matches_straight_run(&tiny_config());
}

/// Runs `config` (two iterations) straight, and stopped after iteration 1 then resumed:
/// both must end with the same buffer, state and network. Returns the straight run's dir.
fn assert_resume_matches_straight_run(config: &str) -> tempfile::TempDir {
    let straight = tempfile::tempdir().unwrap();
    let output = train(straight.path(), config, &[]);
    assert!(output.status.success(), "{}", stderr(&output));

    let split = tempfile::tempdir().unwrap();
    // Interrupted after iteration 1 (as a kill after its checkpoint would), then resumed.
    let output = train(split.path(), config, &["--stop-after", "1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(fs::read_to_string(split.path().join("run/checkpoints/latest")).unwrap(), "iter-000001");
    let output = train(split.path(), config, &[]);
    assert!(output.status.success(), "{}", stderr(&output));

    let a = checkpoint(&straight.path().join("run"), 2);
    let b = checkpoint(&split.path().join("run"), 2);
    assert!(fs::read(a.join("buffer.bin")).unwrap() == fs::read(b.join("buffer.bin")).unwrap(), "replay buffers differ");
    let state = |dir: &Path| {
        let state: serde_json::Value = serde_json::from_str(&fs::read_to_string(dir.join("state.json")).unwrap()).unwrap();
        let state = &state["sealed"]["state"];
        (state["expected_round_score"].clone(), state["optimizer_steps"].clone())
    };
    assert_eq!(state(&a), state(&b));
    // Weights: Burn gives parameters random ids, so compare what the networks compute.
    let (a, b) = (net_outputs(&a.join("net.bin")), net_outputs(&b.join("net.bin")));
    assert!(a == b, "the resumed run's weights differ from the straight run's");
    let c = net_outputs(&checkpoint(&straight.path().join("run"), 1).join("net.bin"));
    assert!(a != c, "training changed nothing, so the comparison proves nothing");
    straight
}

#[test]
fn games_mode_trains_on_whole_games_and_resumes_exactly() {
    let config = tiny_games_config();
    let straight = assert_resume_matches_straight_run(&config);
    let run = straight.path().join("run");

    let metrics = fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = metrics.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for line in &lines {
        let selfplay = &line["selfplay"];
        assert_eq!(selfplay["games"], 3);
        // 4 players from 2 or 3 cards: 6 or 8 rounds a game.
        let rounds = selfplay["rounds"].as_u64().unwrap();
        assert!((18..=24).contains(&rounds), "{rounds} rounds");
        assert!(selfplay["games_per_min"].as_f64().unwrap() > 0.0);
        assert!(selfplay["rounds_per_min"].as_f64().unwrap() > selfplay["games_per_min"].as_f64().unwrap());
    }
    // Rho: the prior first, then what the previous self-play measured, saved for resuming.
    assert_eq!(lines[0]["selfplay"]["expected_round_score"], 0.35);
    let measured = lines[0]["selfplay"]["mean_round_score"].as_f64().unwrap();
    assert!(measured > 0.0 && measured < 1.0 && measured != 0.35);
    assert_eq!(lines[1]["selfplay"]["expected_round_score"].as_f64().unwrap(), measured);
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(checkpoint(&run, 2).join("state.json")).unwrap()).unwrap();
    let state = &state["sealed"]["state"];
    assert_eq!(state["expected_round_score"], lines[1]["selfplay"]["mean_round_score"]);
    // Tools loading this checkpoint read its values as game values, with that rho.
    let rho = state["expected_round_score"].as_f64().unwrap() as f32;
    assert_eq!(
        train::agent::checkpoint_value_head(&checkpoint(&run, 2)).unwrap(),
        blobnet::ValueHead::Game { expected_round_score: rho }
    );
    assert_eq!(lines[1]["eval"].as_array().unwrap().len(), 4, "evaluation still plays lone rounds");

    // Every example carries its round's place in the game, and the totals before it.
    let buffer = train::program::buffer::ReplayBuffer::load(&checkpoint(&run, 2).join("buffer.bin")).unwrap();
    assert!(!buffer.is_empty());
    let contexts: Vec<_> = buffer.examples().iter().map(|e| e.game.expect("a game context")).collect();
    assert!(contexts.iter().all(|g| (g.rounds == 6 || g.rounds == 8) && g.round_index < g.rounds));
    assert!(contexts.iter().any(|g| g.round_index == 0) && contexts.iter().any(|g| g.round_index >= 5));
    assert!(contexts.iter().any(|g| g.totals.iter().any(|&t| t > 0)), "later rounds see the totals so far");
    assert!(buffer.examples().iter().all(|e| e.values[..4].iter().all(|v| (0.0..=1.0).contains(v))));
    // The network's input has the GAME block on.
    let mut row = vec![0.0; blobnet::FEATURES];
    let example = &buffer.examples()[buffer.len() - 1];
    blobnet::encode(&example.info, example.game.as_ref(), None, &mut row);
    assert_eq!(row[blobnet::layout::GAME], 1.0);
    // Every example keeps the real deal at its decision: the observer's hand as its information
    // set has it, and the other hands of the sizes the view shows, disjoint from each other and
    // from the cards played.
    for example in buffer.examples() {
        let hands = example.hands.expect("examples keep the deal");
        let view = example.info.view();
        assert_eq!(hands[example.info.observer()], example.info.hand());
        let mut seen = view.played();
        for (seat, &hand) in hands.iter().enumerate().take(view.players()) {
            assert_eq!(hand.len(), view.hand_size(seat));
            assert!((hand & seen).is_empty());
            seen |= hand;
        }
    }
}

#[test]
fn damaged_checkpoints_are_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let config = with_iterations(&tiny_config(), 1);
    assert!(train(dir.path(), &config, &[]).status.success());
    let more = with_iterations(&tiny_config(), 2);
    for (file, damage) in [("buffer.bin", "truncate"), ("net.bin", "truncate"), ("optimizer.bin", "garbage")] {
        let path = checkpoint(&run, 1).join(file);
        let original = fs::read(&path).unwrap();
        let damaged = if damage == "truncate" { original[..original.len() / 2].to_vec() } else { b"not a checkpoint at all".to_vec() };
        fs::write(&path, &damaged).unwrap();
        let output = train(dir.path(), &more, &[]);
        assert!(!output.status.success(), "{file}: a damaged checkpoint was accepted");
        let message = stderr(&output);
        assert!(message.contains(file), "{file}: the error does not name the file: {message}");
        assert!(!message.contains("panicked"), "{message}");
        assert_eq!(fs::read(&path).unwrap(), damaged, "{file} was modified");
        assert_eq!(fs::read_to_string(run.join("checkpoints/latest")).unwrap(), "iter-000001");
        fs::write(&path, &original).unwrap();
    }
    assert!(train(dir.path(), &more, &[]).status.success());
}

#[test]
fn bad_configs_are_refused_before_anything_is_written() {
    // Each field's range is checked by the config's unit tests; here, that the binary refuses
    // a bad config with the message, before creating the run directory.
    for (from, to, expected) in [
        ("worlds: 2,", "worlds: 0,", "worlds must be in 1.."),
        ("max_batch: 4096,", "max_batch: 1,", "driver.max_batch (1) is below one wave of search"),
        ("seed: 1,", "seed: 1, colour: 3,", "colour"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = tiny_config().replacen(from, to, 1);
        assert_ne!(config, tiny_config(), "{from} not found in tiny.ron");
        let output = train(dir.path(), &config, &[]);
        assert!(!output.status.success(), "{to} was accepted");
        let message = stderr(&output);
        assert!(message.contains(expected), "{to}: expected {expected:?} in: {message}");
        assert!(!message.contains("panicked"), "{message}");
        assert!(!dir.path().join("run").exists(), "{to}: the run directory was created before the config was refused");
    }
    // Syntax errors and unknown fields carry the file, line and column.
    let dir = tempfile::tempdir().unwrap();
    let output = train(dir.path(), &tiny_config().replacen("seed: 1,", "seed: 1, colour: 3,", 1), &[]);
    let line = tiny_config().lines().position(|l| l.contains("seed: 1,")).unwrap() + 1;
    assert!(stderr(&output).contains(&format!("config-0.ron:{line}:")), "{}", stderr(&output));
    // A device this build cannot use.
    #[cfg(not(feature = "cuda"))]
    {
        let dir = tempfile::tempdir().unwrap();
        let output = train(dir.path(), &tiny_config(), &["--device", "cuda"]);
        assert!(!output.status.success());
        assert!(stderr(&output).contains("rebuild with --features cuda"), "{}", stderr(&output));
    }
}

#[test]
fn every_preset_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut names = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ron") {
            train::program::config::TrainConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
            names.push(path.file_stem().unwrap().to_string_lossy().to_string());
        }
    }
    names.sort();
    assert_eq!(names, ["heavy", "light", "medium", "small", "tiny"]);
}
