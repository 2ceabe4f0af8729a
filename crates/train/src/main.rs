//! `train`: self-play training of BlobNet. See `train --help`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use blobnet::DeviceSpec;
use clap::Parser;
use train::program::config::TrainConfig;
use train::program::run::{run, RunOptions};

/// Train a Blob agent by self-play: each iteration plays rounds with batched MCTS and the
/// current network, trains on a replay buffer, evaluates against baseline bots every few
/// iterations, and writes a checkpoint. Rerunning with the same run directory resumes from its
/// latest checkpoint. Ctrl-C finishes the current iteration, checkpoints and exits; a second
/// Ctrl-C stops at once (losing only the current iteration).
#[derive(Parser)]
#[command(name = "train", version)]
struct Cli {
    /// The run's configuration (RON; presets in configs/, every field documented there).
    #[arg(long)]
    config: PathBuf,
    /// Override the config's device: cpu, cuda or cuda:N.
    #[arg(long)]
    device: Option<DeviceSpec>,
    /// Where checkpoints and metrics go. Default: runs/<config file name>.
    #[arg(long)]
    run_dir: Option<PathBuf>,
    /// Resume from this checkpoint directory (runs/X/checkpoints/iter-N) instead of the latest.
    #[arg(long, conflicts_with = "fresh")]
    resume: Option<PathBuf>,
    /// Start over, ignoring checkpoints in the run directory.
    #[arg(long)]
    fresh: bool,
    /// Stop after this many iterations (checkpointed), e.g. to train in sessions; rerun to go on.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    stop_after: Option<u64>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let config = TrainConfig::load(&cli.config)?;
    let device = match cli.device {
        Some(device) => device,
        None => config.device().map_err(anyhow::Error::msg).with_context(|| format!("in {}", cli.config.display()))?,
    };
    let name = cli.config.file_stem().map_or("run".into(), |s| s.to_string_lossy().to_string());
    let run_dir = cli.run_dir.unwrap_or_else(|| PathBuf::from("runs").join(name));
    let stop = Arc::new(AtomicBool::new(false));
    let handler_stop = stop.clone();
    ctrlc::set_handler(move || {
        if handler_stop.swap(true, Ordering::SeqCst) {
            eprintln!("\nstopping now; the current iteration is lost, the last checkpoint is intact");
            std::process::exit(130);
        }
        eprintln!("\nfinishing the current iteration, then checkpointing (Ctrl-C again to stop at once)");
    })
    .context("installing the Ctrl-C handler")?;
    run(RunOptions { config, run_dir, device, fresh: cli.fresh, resume: cli.resume, stop, stop_after: cli.stop_after.map(|n| n as usize), progress: std::io::stderr().is_terminal() })
}
