//! Support shared by the tests that launch the `train` binary.
#![allow(dead_code)] // each test file uses its own part

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn tiny_config() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/tiny.ron");
    fs::read_to_string(root).unwrap()
}

pub fn with_iterations(config: &str, iterations: usize) -> String {
    let changed = config.replace("iterations: 2,", &format!("iterations: {iterations},"));
    assert!(changed != config || iterations == 2, "iterations: 2 not found");
    changed
}

/// `tiny.ron` in mode Games, 3 games an iteration.
pub fn tiny_games_config() -> String {
    let config = tiny_config().replacen("mode: Rounds,", "mode: Games,", 1).replacen("per_iteration: 8,", "per_iteration: 3,", 1);
    assert!(config.contains("mode: Games,") && config.contains("per_iteration: 3,"));
    config
}

/// A temporary directory holding configs and the run directory `run`.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch { dir: tempfile::tempdir().unwrap() }
    }

    pub fn run_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// `train --config <config> --run-dir <run> <extra>` with `env` set.
    pub fn train_with(&self, config: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
        train_in(self.dir.path(), config, extra, env)
    }

    pub fn train(&self, config: &str, extra: &[&str]) -> Output {
        self.train_with(config, extra, &[])
    }

    /// [`Scratch::train`], which must succeed.
    pub fn train_ok(&self, config: &str, extra: &[&str]) -> Output {
        let output = self.train(config, extra);
        assert!(output.status.success(), "{}", stderr(&output));
        output
    }

    pub fn checkpoint(&self, iteration: usize) -> PathBuf {
        checkpoint(&self.run_dir(), iteration)
    }

    pub fn latest(&self) -> String {
        fs::read_to_string(self.run_dir().join("checkpoints/latest")).unwrap()
    }

    pub fn metrics_text(&self) -> String {
        fs::read_to_string(self.run_dir().join("metrics.jsonl")).unwrap()
    }
}

/// `train --config <dir>/config-K.ron --run-dir <dir>/run <extra>` with `env` set (K counts
/// the entries of `dir`, so every call writes a new config file).
pub fn train_in(dir: &Path, config: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let count = fs::read_dir(dir).unwrap().count();
    let config_path = dir.join(format!("config-{count}.ron"));
    fs::write(&config_path, config).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_train"));
    command.arg("--config").arg(&config_path).arg("--run-dir").arg(dir.join("run")).args(extra).env("RUST_BACKTRACE", "0");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

pub fn checkpoint(run: &Path, iteration: usize) -> PathBuf {
    run.join("checkpoints").join(format!("iter-{iteration:06}"))
}

/// The network's outputs on fixed random positions.
pub fn net_outputs(path: &Path) -> Vec<f32> {
    use blobnet::{CpuBackend, FEATURES};
    use burn::tensor::{Tensor, TensorData};
    use rand::{Rng, SeedableRng};
    let config = blobnet::BlobNetConfig { d_model: 32, blocks: 1, ffn: 64, tricks_head: true };
    let device = Default::default();
    let net = blobnet::load_net::<CpuBackend>(&config, path, &device).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let input: Vec<f32> = (0..16 * FEATURES).map(|_| rng.gen_range(0.0..1.0)).collect();
    let (logits, values) = net.forward(Tensor::from_data(TensorData::new(input, [16, FEATURES]), &device));
    let mut out: Vec<f32> = logits.into_data().iter::<f32>().collect();
    out.extend(values.into_data().iter::<f32>());
    out
}

/// A metrics line without what measures time (which differs between any two runs).
pub fn without_timings(line: &str) -> serde_json::Value {
    let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
    let object = value.as_object_mut().unwrap();
    object.remove("seconds");
    for (section, timed) in [
        ("selfplay", &["seconds", "rounds_per_min", "games_per_min", "positions_per_s", "simulations_per_s", "evaluator_busy"][..]),
        ("train", &["examples_per_s"][..]),
    ] {
        let section = object.get_mut(section).unwrap().as_object_mut().unwrap();
        for field in timed {
            section.remove(*field).unwrap_or_else(|| panic!("no {field}"));
        }
    }
    value
}

/// Every file and directory under `dir` whose name is a temporary one (`.name.XXXXXX.tmp`).
pub fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".tmp") {
            found.push(path.clone());
        }
        if path.is_dir() {
            found.extend(temporaries(&path));
        }
    }
    found
}

/// A tiny random network saved as `dir/net.bin` (so `dir` is also a checkpoint directory), for
/// the tools that load an agent.
pub fn tiny_net(dir: &Path) -> PathBuf {
    use blobnet::{save_net, BlobNetConfig, CpuBackend, CpuDevice};
    let path = dir.join("net.bin");
    save_net(&BlobNetConfig::tiny().init::<CpuBackend>(&CpuDevice::default()), &path).unwrap();
    path
}
