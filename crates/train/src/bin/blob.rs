//! `blob`: tools around the trainer (playing, the engine protocol, replaying records, ...).

use std::fs::File;
use std::io::{self, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use train::agent::{Agent, BotKind};
use train::tools::play::{play_in_terminal, Table};
use train::tools::web_table::SeatKind;

#[derive(Parser)]
#[command(name = "blob", version, about = "Tools for the Blob trainer")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Play rounds in the terminal against the agent (a trained network with search) or bots.
    Play(PlayArgs),
    /// Answer bid/card requests as JSON lines on stdin/stdout (docs/engine-protocol.md).
    Engine(EngineArgs),
    /// Replay game records (JSON lines, see docs/formats.md): check every action, recompute
    /// tricks and scores, print OK or the first error per record. Exit 1 if any record fails.
    Replay {
        /// The records file.
        file: PathBuf,
    },
    /// Play entrants (networks with search, heuristic, random) against each other on the same
    /// deals with seats rotated; print mean score per round with 95% intervals, exact-bid rate,
    /// bid distribution, pairwise win rates and paired advantages with 95% intervals.
    Arena(ArenaArgs),
    /// Play in the browser: serves a page and its API on a loopback address (whole games or
    /// single rounds against the agent or bots, the agent's view of your decisions, records).
    Serve(ServeArgs),
    /// Redraw a run's chart from its metrics.jsonl, as PNG and/or SVG.
    Chart {
        /// The run directory (holding metrics.jsonl).
        run_dir: PathBuf,
        /// Write the PNG here (default: RUN_DIR/chart.png unless --svg is given).
        #[arg(long)]
        png: Option<PathBuf>,
        /// Write an SVG here.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Throughput benchmarks on the reference settings (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(train::tools::bench::BenchCommand),
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
        Command::Play(args) => {
            play(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Engine(args) => {
            let mut agent = match (&args.checkpoint, args.bot) {
                (Some(path), _) => Agent::load(path, args.search.worlds, args.search.simulations, args.seed)
                    .with_context(|| format!("loading {}", path.display()))?,
                (None, Some(kind)) => Agent::bot(kind, args.seed),
                (None, None) => anyhow::bail!("give --checkpoint or --bot"),
            };
            train::tools::engine::serve(&mut agent, io::stdin().lock(), io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay { file } => {
            let input = File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
            let summary = train::tools::replay::replay_records(BufReader::new(input), io::stdout().lock())
                .with_context(|| format!("reading {}", file.display()))?;
            Ok(if summary.failures == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Arena(args) => {
            let options = train::matches::ArenaOptions {
                entrants: args.entrants,
                players: args.players,
                cards: args.cards.0,
                game: args.game,
                c_puct: args.c_puct,
                opponent_model: args.opponent_model,
                deals: args.deals,
                seed: args.seed,
                concurrent: args.concurrent,
            };
            print!("{}", train::matches::run_arena(&options)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            let opponents = args.opponents.unwrap_or(if args.checkpoint.is_some() { SeatKind::Agent } else { SeatKind::Heuristic });
            if args.max_games == 0 {
                anyhow::bail!("--max-games must be at least 1");
            }
            let options = train::tools::serve::ServeOptions { checkpoint: args.checkpoint, opponents, max_games: args.max_games, seed: args.seed };
            train::tools::serve::serve(&args.addr, options)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Chart { run_dir, png, svg } => {
            let png = png.or_else(|| svg.is_none().then(|| run_dir.join("chart.png")));
            let lines = train::program::metrics::redraw_chart(&run_dir, png.as_deref(), svg.as_deref())?;
            for path in png.iter().chain(&svg) {
                println!("{}: {lines} iterations", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(command) => {
            train::tools::bench::run(command)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Args)]
struct ArenaArgs {
    /// Entrants: `heuristic`, `random`, `pimc` or `pimc:W:R` (W sampled worlds, R playouts
    /// per action; default 400:4), PATH@policy (the network's most probable action, no search)
    /// or PATH[@DxS] (a net file or checkpoint directory, searched with D worlds x S
    /// simulations; default: the play settings).
    #[arg(required = true, num_args = 2..)]
    entrants: Vec<train::matches::Entrant>,
    #[arg(long, default_value_t = 4)]
    players: usize,
    /// Round sizes, drawn uniformly per deal: a list (1,3,5) or a range (1-8).
    #[arg(long, default_value = "1-8")]
    cards: train::matches::CardSizes,
    /// Play whole games by the schedule from C cards (C down to 2, P rounds of 1, 2 up to C)
    /// instead of lone rounds; scores are then per game. `--cards` is not used.
    #[arg(long, value_name = "C")]
    game: Option<usize>,
    /// Exploration constant of the network entrants' searches (default: the search's own).
    #[arg(long)]
    c_puct: Option<f32>,
    /// How the other seats choose inside the network entrants' sampled worlds: `search`
    /// (their own PUCT, seeing every hand there) or `policy` (as their prior predicts);
    /// default: the search's own.
    #[arg(long)]
    opponent_model: Option<mcts::OpponentModel>,
    /// Deals (rounds, or games with --game); each is played once per seat rotation.
    #[arg(long, default_value_t = 200)]
    deals: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Rounds in flight at once (their searches share network calls).
    #[arg(long, default_value_t = 256)]
    concurrent: usize,
}

#[derive(Args)]
struct ServeArgs {
    /// The agent: a network file or checkpoint directory (searched at the play settings).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Address to listen on; loopback unless told otherwise (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// The other seats: agent (the default with --checkpoint), heuristic (the default
    /// without), pimc or random; the page can choose per game.
    #[arg(long)]
    opponents: Option<SeatKind>,
    /// Most games kept open at once (one idle for 30 minutes is closed to make room).
    #[arg(long, default_value_t = 64)]
    max_games: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct SearchArgs {
    /// Determinized worlds per decision (agent only).
    #[arg(long, default_value_t = train::agent::DEFAULT_WORLDS)]
    worlds: u32,
    /// Simulations per world (agent only).
    #[arg(long, default_value_t = train::agent::DEFAULT_SIMULATIONS)]
    simulations: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Opponents {
    Agent,
    Heuristic,
    Pimc,
    Random,
}

#[derive(Args)]
struct PlayArgs {
    /// The agent's network: a net file or a checkpoint directory (holding net.bin).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Who takes the other seats (default: agent with --checkpoint, else heuristic).
    #[arg(long, value_enum)]
    opponents: Option<Opponents>,
    #[arg(long, default_value_t = 4)]
    players: usize,
    /// Cards dealt to each player.
    #[arg(long, default_value_t = 5)]
    cards: usize,
    /// Your seat (0-based; seat 0 deals the first round).
    #[arg(long, default_value_t = 0)]
    seat: usize,
    /// Rounds to play; the dealer moves left and trump cycles s, h, c, d, none.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Play a whole game by the schedule from C cards (C down to 2, P rounds of 1, 2 up to
    /// C) instead; `--cards` and `--rounds` are not used.
    #[arg(long, value_name = "C", conflicts_with_all = ["cards", "rounds"])]
    game: Option<usize>,
    /// Seed of the deals and the opponents (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    #[command(flatten)]
    search: SearchArgs,
}

#[derive(Args)]
#[command(group(ArgGroup::new("player").required(true).args(["checkpoint", "bot"])))]
struct EngineArgs {
    /// The agent's network: a net file or a checkpoint directory (holding net.bin).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Answer with a baseline bot instead of the agent.
    #[arg(long, value_enum)]
    bot: Option<BotKind>,
    /// Seed of the search (or of the random bot); answers depend only on it and the request.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    search: SearchArgs,
}

fn play(args: PlayArgs) -> anyhow::Result<()> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
    });
    let opponents = args.opponents.unwrap_or(if args.checkpoint.is_some() { Opponents::Agent } else { Opponents::Heuristic });
    let mut agent = match (opponents, &args.checkpoint) {
        (Opponents::Agent, Some(path)) => Agent::load(path, args.search.worlds, args.search.simulations, seed)
            .with_context(|| format!("loading {}", path.display()))?,
        (Opponents::Agent, None) => anyhow::bail!("--opponents agent needs --checkpoint"),
        (Opponents::Heuristic, _) => Agent::bot(BotKind::Heuristic, seed),
        (Opponents::Pimc, _) => Agent::bot(BotKind::Pimc, seed),
        (Opponents::Random, _) => Agent::bot(BotKind::Random, seed),
    };
    let table = Table { players: args.players, cards: args.cards, seat: args.seat, rounds: args.rounds, game: args.game, seed };
    play_in_terminal(table, &mut agent)
}
