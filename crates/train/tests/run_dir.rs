//! The run directory refuses what it cannot trust, before writing anything, and never
//! overwrites a file of another run: missing or bad `latest`, edited or foreign checkpoint
//! files, a used directory, `--fresh`, `--resume` of an older checkpoint.

mod common;

use std::fs;
use std::path::Path;

use common::{stderr, tiny_config, with_iterations, Scratch};

/// Every file under `dir` with its contents, to show that a refused start wrote nothing (but
/// the empty `.lock` it takes to look).
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == ".lock") {
            continue;
        }
        if path.is_dir() {
            files.extend(snapshot(&path));
        } else {
            files.push((path.display().to_string(), fs::read(&path).unwrap()));
        }
    }
    files.sort();
    files
}

/// Run `config`, which must fail with every one of `needles` in its message, leaving the run
/// directory exactly as it was.
fn refused(scratch: &Scratch, config: &str, extra: &[&str], needles: &[&str]) {
    let before = snapshot(&scratch.run_dir());
    let output = scratch.train(config, extra);
    let message = stderr(&output);
    assert!(!output.status.success(), "accepted: {message}");
    for needle in needles {
        assert!(message.contains(needle), "{needle:?} missing from: {message}");
    }
    assert!(!message.contains("panicked"), "{message}");
    assert!(snapshot(&scratch.run_dir()) == before, "a refused start changed the run directory: {message}");
}

#[test]
fn a_missing_or_bad_latest_is_an_error_that_says_how_to_go_on() {
    let scratch = Scratch::new();
    let config = with_iterations(&tiny_config(), 3);
    scratch.train_ok(&tiny_config(), &[]);
    let latest = scratch.run_dir().join("checkpoints/latest");
    let newest = scratch.checkpoint(2);
    let hint = format!("--resume {}", newest.display());

    fs::remove_file(&latest).unwrap();
    refused(&scratch, &config, &[], &["checkpoints/latest is missing", "iter-000002", &hint, "--fresh"]);
    for (content, shown) in [("", "holds \"\""), ("garbage\n", "holds \"garbage\\n\""), ("../../etc", "holds \"../../etc\""), ("iter-000009", "not a complete checkpoint")] {
        fs::write(&latest, content).unwrap();
        refused(&scratch, &config, &[], &["checkpoints/latest", shown, &hint]);
    }
    // The hint works: resuming the newest goes on from iteration 2.
    fs::remove_file(&latest).unwrap();
    let output = scratch.train_ok(&config, &["--resume", &newest.display().to_string()]);
    assert!(stderr(&output).contains("iteration 2 done"), "{}", stderr(&output));
    assert_eq!(scratch.latest(), "iter-000003");
    assert_eq!(scratch.metrics_text().lines().count(), 3);
}

#[test]
fn a_used_directory_is_started_over_only_with_fresh_which_moves_the_old_run_aside() {
    let scratch = Scratch::new();
    scratch.train_ok(&tiny_config(), &[]);
    let old_metrics = scratch.metrics_text();
    let old_config = fs::read_to_string(scratch.run_dir().join("config.ron")).unwrap();
    fs::remove_dir_all(scratch.run_dir().join("checkpoints")).unwrap();
    // Without checkpoints, metrics of a run are still there: not a place for a silent new start.
    refused(&scratch, &tiny_config(), &[], &["holds another run's files", "--fresh"]);
    // Another config in a directory whose first iteration never finished: the same.
    let other = Scratch::new();
    fs::create_dir_all(other.run_dir()).unwrap();
    fs::write(other.run_dir().join("config.ron"), "(seed: 2)").unwrap();
    refused(&other, &tiny_config(), &[], &["holds another run's files"]);

    let output = scratch.train_ok(&tiny_config().replacen("seed: 1,", "seed: 5,", 1), &["--fresh"]);
    let aside = scratch.run_dir().join("previous-1");
    assert!(stderr(&output).contains(&format!("moved the earlier run's files to {}", aside.display())), "{}", stderr(&output));
    assert_eq!(fs::read_to_string(aside.join("metrics.jsonl")).unwrap(), old_metrics);
    assert_eq!(fs::read_to_string(aside.join("config.ron")).unwrap(), old_config);
    assert!(aside.join("nets/iter-000002.bin").is_file());
    assert_eq!(scratch.metrics_text().lines().count(), 2);
    assert!(fs::read_to_string(scratch.run_dir().join("config.ron")).unwrap().contains("seed: 5"));
    // A second --fresh keeps the first one's files too.
    scratch.train_ok(&tiny_config(), &["--fresh"]);
    assert!(scratch.run_dir().join("previous-2/metrics.jsonl").is_file() && aside.join("metrics.jsonl").is_file());
}

#[test]
fn edited_damaged_or_foreign_checkpoint_files_are_refused_before_any_write() {
    let scratch = Scratch::new();
    scratch.train_ok(&tiny_config(), &["--stop-after", "1"]);
    let state_path = scratch.checkpoint(1).join("state.json");
    let state = fs::read_to_string(&state_path).unwrap();

    // An edited iteration (or anything else in the state) breaks its checksum.
    let edited = state.replacen("\"iteration\": 1,", "\"iteration\": 2,", 1);
    assert_ne!(edited, state);
    fs::write(&state_path, &edited).unwrap();
    refused(&scratch, &tiny_config(), &[], &["state.json is corrupt", "checksum mismatch"]);
    fs::write(&state_path, &state).unwrap();

    // Files of another run of the same architecture (another seed), each in turn.
    let other = Scratch::new();
    other.train_ok(&tiny_config().replacen("seed: 1,", "seed: 2,", 1), &["--stop-after", "1"]);
    for file in ["net.bin", "optimizer.bin", "buffer.bin"] {
        let path = scratch.checkpoint(1).join(file);
        let original = fs::read(&path).unwrap();
        fs::copy(other.checkpoint(1).join(file), &path).unwrap();
        refused(&scratch, &tiny_config(), &[], &[file, "does not match the checkpoint's state.json"]);
        fs::write(&path, original).unwrap();
    }
    // An optimizer of another architecture, sealed into a state of its own, is refused by its
    // header (the case where the manifest cannot help: a whole foreign checkpoint).
    let wide = Scratch::new();
    wide.train_ok(&tiny_config().replacen("d_model: 32,", "d_model: 48,", 1), &["--stop-after", "1"]);
    let output = scratch.train(&tiny_config(), &["--resume", &wide.checkpoint(1).display().to_string()]);
    assert!(!output.status.success() && stderr(&output).contains("d_model: 48"), "{}", stderr(&output));

    // The snapshot the next evaluation plays against is checked before the run goes on.
    let snapshot = scratch.run_dir().join("nets/iter-000001.bin");
    let original = fs::read(&snapshot).unwrap();
    fs::write(&snapshot, b"not a network").unwrap();
    refused(&scratch, &tiny_config(), &[], &["snapshot of iteration 1", "iteration 2 evaluates against"]);
    fs::write(&snapshot, original).unwrap();
    scratch.train_ok(&tiny_config(), &[]);
    assert_eq!(scratch.latest(), "iter-000002");
}

#[test]
fn resuming_an_older_checkpoint_moves_the_later_history_aside() {
    let scratch = Scratch::new();
    let config = with_iterations(&tiny_config(), 3);
    scratch.train_ok(&config, &[]);
    let metrics = scratch.metrics_text();
    let older = scratch.checkpoint(2);
    let output = scratch.train_ok(&config, &["--resume", &older.display().to_string()]);
    let aside = scratch.run_dir().join("previous-1");
    assert!(stderr(&output).contains("went past iteration 2"), "{}", stderr(&output));
    // The abandoned line is kept there; the run's own file has its first lines byte for byte.
    assert_eq!(fs::read_to_string(aside.join("metrics.jsonl")).unwrap(), metrics);
    assert!(aside.join("checkpoints/iter-000003").is_dir());
    let again = scratch.metrics_text();
    let lines: Vec<&str> = metrics.lines().collect();
    assert_eq!(again.lines().take(2).collect::<Vec<_>>(), lines[..2]);
    assert_eq!(again.lines().count(), 3);
    assert_eq!(scratch.latest(), "iter-000003");
}

#[test]
fn another_trainer_in_the_same_directory_is_refused() {
    let scratch = Scratch::new();
    fs::create_dir_all(scratch.run_dir()).unwrap();
    let lock = fs::File::create(scratch.run_dir().join(".lock")).unwrap();
    lock.lock().unwrap();
    let output = scratch.train(&tiny_config(), &[]);
    assert!(!output.status.success() && stderr(&output).contains("another trainer is using"), "{}", stderr(&output));
    drop(lock);
    scratch.train_ok(&tiny_config(), &[]);
}

/// Remove every field named `name`, at any depth.
fn without_field(value: &mut serde_json::Value, name: &str) {
    match value {
        serde_json::Value::Object(map) => {
            map.shift_remove(name);
            map.values_mut().for_each(|v| without_field(v, name));
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| without_field(v, name)),
        _ => {}
    }
}

#[test]
fn a_checkpoint_from_before_a_config_field_existed_still_resumes() {
    let scratch = Scratch::new();
    scratch.train_ok(&tiny_config(), &["--stop-after", "1"]);
    let state_path = scratch.checkpoint(1).join("state.json");
    // What a build without the search's `opponent_model` wrote: the field absent, the seal
    // taken over the file's own fields in their order.
    let mut state: serde_json::Value = serde_json::from_str(&fs::read_to_string(&state_path).unwrap()).unwrap();
    let text = serde_json::to_string(&state).unwrap();
    assert!(text.contains("\"opponent_model\""), "the field is written today: {text}");
    without_field(&mut state["sealed"], "opponent_model");
    let seal = crc32fast::hash(&serde_json::to_vec(&state["sealed"]).unwrap());
    state["crc32"] = seal.into();
    fs::write(&state_path, serde_json::to_string_pretty(&state).unwrap()).unwrap();
    // The field takes its default, and the run goes on from the checkpoint.
    scratch.train_ok(&tiny_config(), &[]);
    assert_eq!(scratch.metrics_text().lines().count(), 2);
}
