//! `blob`: tools around the trainer (replaying records, ...).

use std::fs::File;
use std::io::{self, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "blob", version, about = "Tools for the Blob trainer")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay game records (JSON lines, see docs/formats.md): check every action, recompute
    /// tricks and scores, print OK or the first error per record. Exit 1 if any record fails.
    Replay {
        /// The records file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Replay { file } => {
            let input = File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
            let failures = train::replay::replay_records(BufReader::new(input), io::stdout().lock())
                .with_context(|| format!("reading {}", file.display()))?;
            Ok(if failures == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}
