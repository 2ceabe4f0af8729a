//! `train`: self-play training of BlobNet. See `train --help`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use blobnet::DeviceSpec;
use clap::Parser;
use train::program::config::TrainConfig;
use train::program::actor::{run_actor, ActorOptions};
use train::program::run::{run, RunOptions};

/// Train a Blob agent by self-play: each iteration plays rounds with batched MCTS and the
/// current network, trains on a replay buffer, evaluates against baseline bots every few
/// iterations, and writes a checkpoint. Rerunning with the same run directory resumes from its
/// latest checkpoint. Ctrl-C finishes the current iteration, checkpoints and exits; a second
/// Ctrl-C stops at once (losing only the current iteration).
///
/// Across machines: `train learner --config FILE --nats URL` trains on what any number of
/// `train actor --nats URL` processes self-play (README, "Self-play on many machines").
#[derive(Parser)]
#[command(name = "train", version, args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Train as the one-process run does, on self-play that actors send over NATS JetStream.
    Learner {
        #[command(flatten)]
        run: RunArgs,
        /// The NATS server: nats://[user:password@]host:port (JetStream enabled).
        #[arg(long)]
        nats: String,
    },
    /// Self-play for the learner serving a run on this NATS server; exits when the run is finished.
    Actor {
        /// The NATS server: nats://[user:password@]host:port.
        #[arg(long)]
        nats: String,
        /// cpu, cuda or cuda:N.
        #[arg(long, default_value = "cpu")]
        device: DeviceSpec,
        /// The actor's name in the learner's metrics (default: this host's name).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// The run's configuration (RON; presets in configs/, every field documented there).
    #[arg(long, required = true)]
    config: Option<PathBuf>,
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
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,async_nats=warn".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let progress = std::io::stderr().is_terminal();
    let (cli, nats) = match cli.command {
        None => (cli.run, None),
        Some(Command::Learner { run, nats }) => (run, Some(nats)),
        Some(Command::Actor { nats, device, name }) => {
            let name = name.unwrap_or_else(train::program::nats::hostname);
            return run_actor(ActorOptions { nats, device, name, progress });
        }
    };
    let config_path = cli.config.expect("clap requires --config");
    let config = TrainConfig::load(&config_path)?;
    let device = match cli.device {
        Some(device) => device,
        None => config.device().map_err(anyhow::Error::msg).with_context(|| format!("in {}", config_path.display()))?,
    };
    let name = config_path.file_stem().map_or("run".into(), |s| s.to_string_lossy().to_string());
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
    run(RunOptions { config, run_dir, device, fresh: cli.fresh, resume: cli.resume, stop, stop_after: cli.stop_after.map(|n| n as usize), progress, nats })
}
