//! `blob`: tools around the trainer (playing, the engine protocol, replaying records, ...).

use std::fs::File;
use std::io::{self, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use blobnet::DeviceSpec;
use clap::{ArgAction, ArgGroup, Args, Parser, Subcommand, ValueEnum};
use mcts::{Preset, SearchConfig};
use train::agent::{Agent, BotKind, SearchSpec};
use train::tools::bench;
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
    /// The agent learns your bids and card play from each finished round (rollout searches).
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
    Bench(BenchCommand),
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
                (Some(path), _) => Agent::load(path, args.search.search, args.seed)
                    .with_context(|| format!("loading {}", path.display()))?,
                (None, Some(kind)) => Agent::bot(kind, args.seed),
                (None, None) => anyhow::bail!("give --checkpoint or --bot"),
            };
            if args.learn_opponents {
                anyhow::ensure!(args.checkpoint.is_some(), "--learn-opponents is for the agent (--checkpoint), not a bot");
                agent = agent.learning_opponents();
            }
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
                learn_opponents: args.learn_opponents,
                records: args.records,
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
        Command::Bench(BenchCommand::Selfplay(args)) => {
            bench::self_play(bench::SelfPlayOptions {
                rounds: args.rounds,
                concurrent: args.concurrent,
                max_batch: args.max_batch,
                search: args.search,
                leaves: args.leaves,
                overlap: args.overlap,
                no_network: args.no_network,
                setup: args.setup.into(),
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Train(args)) => {
            bench::train(bench::TrainOptions { steps: args.steps, batch: args.batch, setup: args.setup.into() })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Self-play rounds with the reference settings; prints rounds/min, NN throughput and
    /// batch sizes, and the network alone at the same batch size for comparison.
    Selfplay(SelfPlayArgs),
    /// Training steps of the network on random-play positions; prints examples/s.
    Train(TrainArgs),
}

#[derive(Args)]
struct SelfPlayArgs {
    /// Rounds to play.
    #[arg(long, default_value_t = 200)]
    rounds: usize,
    /// Rounds played at once (their searches share network calls).
    #[arg(long, default_value_t = 256)]
    concurrent: usize,
    /// Most leaves per network call.
    #[arg(long, default_value_t = 4096)]
    max_batch: usize,
    /// Search preset: light (2 x 20), medium (3 x 30, the reference) or heavy (5 x 50).
    #[arg(long, default_value = "medium")]
    search: Preset,
    /// Leaves selected per world per wave (K).
    #[arg(long, default_value_t = SearchConfig::medium().leaves_per_wave)]
    leaves: u32,
    /// Select the next batch while the network evaluates the last one: on or off.
    #[arg(long, default_value = "on", value_parser = on_off, action = ArgAction::Set)]
    overlap: bool,
    /// Everything but the network: leaves are encoded and handed over as to a device and a fixed
    /// output is written back, so the figure is the host's ceiling (evaluations/s per core).
    #[arg(long)]
    no_network: bool,
    #[command(flatten)]
    setup: SetupArgs,
}

#[derive(Args)]
struct TrainArgs {
    /// Optimizer steps timed (after one warm-up step).
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Examples per step.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    #[command(flatten)]
    setup: SetupArgs,
}

#[derive(Args)]
struct SetupArgs {
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Worker threads (rayon: selection, encoding, CPU network); default: one per core.
    #[arg(long)]
    threads: Option<usize>,
    /// Network preset (tiny, small, medium); not the reference unless medium.
    #[arg(long, default_value = "medium", hide = true)]
    net: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl From<SetupArgs> for bench::Setup {
    fn from(args: SetupArgs) -> bench::Setup {
        bench::Setup { device: args.device, threads: args.threads, net: args.net, seed: args.seed }
    }
}

fn on_off(text: &str) -> Result<bool, String> {
    match text {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected on or off, got {text:?}")),
    }
}


#[derive(Args)]
struct ArenaArgs {
    /// Entrants: `heuristic`, `random`, `pimc` or `pimc:W:R` (W sampled worlds, R playouts
    /// per action; default 400:4), or a net file or checkpoint directory PATH[@SEARCH] played
    /// with a search as `--search` of `blob play` writes it (PATH@policy, PATH@64roll,
    /// PATH@32x48...; default: the play settings, 256halve).
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
    /// Network entrants learn the other seats' card play as the arena goes and let it play
    /// those seats in their rollouts where it predicts them (deals in blocks of 25, each
    /// block searched with what the blocks before it showed).
    #[arg(long)]
    learn_opponents: bool,
    /// Write every round played to FILE as round records (JSON lines, docs/formats.md).
    #[arg(long, value_name = "FILE")]
    records: Option<PathBuf>,
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
    /// The agent's search: Droll or Droll/K (rollouts with the network's policy in D worlds drawn
    /// from D x K candidates by the likelihood of the other seats' bids, K = 8 unless given;
    /// e.g. 64roll), Dhalve or Dhalve/K (the same, the worlds shared out by sequential halving
    /// over the actions, e.g. 256halve), DxS (PUCT, D worlds x S simulations, e.g. 32x48),
    /// Dx1ply, or policy (no search).
    #[arg(long, default_value_t = SearchSpec::DEFAULT)]
    search: SearchSpec,
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
    /// Answer with a baseline bot instead of the agent: heuristic, pimc or random.
    #[arg(long)]
    bot: Option<BotKind>,
    /// Seed of the search (or of the random bot); answers depend only on it and the request
    /// (and, with --learn-opponents, on the rounds observed before).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Learn the other seats' bids and card play from the finished rounds sent in `observe`
    /// requests, and let what is learnt play them in the rollouts (docs/engine-protocol.md).
    #[arg(long)]
    learn_opponents: bool,
    #[command(flatten)]
    search: SearchArgs,
}

fn play(args: PlayArgs) -> anyhow::Result<()> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
    });
    let opponents = args.opponents.unwrap_or(if args.checkpoint.is_some() { Opponents::Agent } else { Opponents::Heuristic });
    let mut agent = match (opponents, &args.checkpoint) {
        (Opponents::Agent, Some(path)) => Agent::load(path, args.search.search, seed)
            .with_context(|| format!("loading {}", path.display()))?
            .learning_opponents(),
        (Opponents::Agent, None) => anyhow::bail!("--opponents agent needs --checkpoint"),
        (Opponents::Heuristic, _) => Agent::bot(BotKind::Heuristic, seed),
        (Opponents::Pimc, _) => Agent::bot(BotKind::Pimc, seed),
        (Opponents::Random, _) => Agent::bot(BotKind::Random, seed),
    };
    let table = Table { players: args.players, cards: args.cards, seat: args.seat, rounds: args.rounds, game: args.game, seed };
    play_in_terminal(table, &mut agent)
}
