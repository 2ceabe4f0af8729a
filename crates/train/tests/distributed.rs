//! The distributed mode against a real nats-server on loopback (started here on a free port,
//! JetStream storage in a temp dir): learner and actors as processes, killed with SIGKILL,
//! the server restarted, a second learner, bad chunks from the wire, actor permissions.
//! After each: no chunk lost, none counted twice, and the learner's buffer is exactly the
//! chunks it took. Without nats-server the tests say so and pass, unless `BLOB_REQUIRE_NATS`
//! is set (CI sets it after installing the package).

mod common;

use std::collections::HashSet;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{tiny_config, with_iterations};
use train::program::buffer::ReplayBuffer;
use train::program::metrics::Metrics;

const SERVER: &str = "nats-server";
/// How long any one awaited event may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(240);

fn server_binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join(SERVER))
        .find(|path| path.is_file());
    if found.is_none() {
        assert!(std::env::var_os("BLOB_REQUIRE_NATS").is_none(), "BLOB_REQUIRE_NATS is set but {SERVER} is missing (apt-get install nats-server)");
        eprintln!("{SERVER} is not installed: skipping (apt-get install nats-server)");
    }
    found
}

/// A nats-server process with its storage; restartable on the same port and storage.
struct Server {
    binary: PathBuf,
    child: Option<Child>,
    port: u16,
    store: PathBuf,
    config: Option<PathBuf>,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path, config: Option<&Path>) -> Option<Server> {
        let binary = server_binary()?;
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let store = dir.join("jetstream");
        // The config as documented, its storage moved into the test's directory.
        let config = config.map(|path| {
            let text = fs::read_to_string(path).unwrap();
            let moved = text.replace("/var/lib/blob-nats", store.to_str().unwrap());
            assert_ne!(moved, text, "store_dir not found in {}", path.display());
            let copy = dir.join("nats-server.conf");
            fs::write(&copy, moved).unwrap();
            copy
        });
        let mut server = Server { binary, child: None, port, store, config, log: dir.join("nats-server.log") };
        server.launch();
        Some(server)
    }

    fn launch(&mut self) {
        let mut command = Command::new(&self.binary);
        if let Some(config) = &self.config {
            command.arg("-c").arg(config);
        }
        command.args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string()]);
        if self.config.is_none() {
            command.arg("-sd").arg(&self.store);
        }
        command.env("BLOB_LEARNER_PASSWORD", "learner-secret").env("BLOB_ACTOR_PASSWORD", "actor-secret");
        let log = fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        self.child = Some(command.stdout(Stdio::null()).stderr(log).spawn().unwrap());
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "nats-server did not listen: {}", fs::read_to_string(&self.log).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop (SIGTERM: the server flushes its files and exits) and start again on the same port
    /// and storage, under running clients. (A SIGKILLed nats-server may lose the writes it had
    /// not synced, by its own design, so the stream itself could forget acknowledged chunks.)
    fn restart(&mut self) {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
        assert!(status.success());
        child.wait().unwrap();
        self.launch();
    }

    fn url(&self, user: Option<(&str, &str)>) -> String {
        match user {
            Some((name, password)) => format!("nats://{name}:{password}@127.0.0.1:{}", self.port),
            None => format!("nats://127.0.0.1:{}", self.port),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A learner or actor process, its stderr in a file the test reads while it runs.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    fn spawn(dir: &Path, name: &str, args: &[&str]) -> Process {
        let log = dir.join(format!("{name}.log"));
        let file = fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_train")).args(args).env("RUST_BACKTRACE", "0").stdout(Stdio::null()).stderr(file).spawn().unwrap();
        Process { child, log }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until the log says `text` (the process may go on).
    fn wait_for(&mut self, text: &str) {
        let started = Instant::now();
        while !self.log().contains(text) {
            if let Some(status) = self.child.try_wait().unwrap() {
                if self.log().contains(text) {
                    return;
                }
                panic!("{} exited ({status}) before saying {text:?}:\n{}", self.log.display(), self.log());
            }
            assert!(started.elapsed() < PATIENCE, "{} never said {text:?}:\n{}", self.log.display(), self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait for the process to exit; its exit status.
    fn finish(&mut self) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < PATIENCE, "{} did not exit:\n{}", self.log.display(), self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn finish_ok(&mut self) {
        let status = self.finish();
        assert!(status.success(), "{} failed ({status}):\n{}", self.log.display(), self.log());
    }

    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tiny.ron` for the distributed mode: small chunks, two or three an iteration, a short lease.
fn config(iterations: usize) -> String {
    // A buffer that holds every position of the longest test run.
    let base = with_iterations(&tiny_config(), iterations).replace("buffer_size: 10000,", "buffer_size: 100000,");
    let body = base.trim_end().strip_suffix(')').expect("a RON struct");
    format!("{body}    distributed: (samples_per_position: 1.0, max_staleness: 2, chunk_deals: 4, max_waiting_chunks: 10000, learner_lease_s: 1),\n)\n")
}

struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new() -> Run {
        Run { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn learner(&self, name: &str, config: &str, url: &str, run_dir: &str) -> Process {
        let config_path = self.path().join(format!("{name}.ron"));
        fs::write(&config_path, config).unwrap();
        let run_dir = self.path().join(run_dir);
        let args = ["learner", "--config", config_path.to_str().unwrap(), "--run-dir", run_dir.to_str().unwrap(), "--nats", url];
        Process::spawn(self.path(), name, &args)
    }

    fn actor(&self, name: &str, url: &str) -> Process {
        Process::spawn(self.path(), name, &["actor", "--nats", url, "--name", name])
    }

    fn latest_checkpoint(&self, run_dir: &str) -> PathBuf {
        let run = self.path().join(run_dir);
        run.join("checkpoints").join(fs::read_to_string(run.join("checkpoints/latest")).unwrap())
    }
}

fn name_seed(name: &str) -> u64 {
    train::seed::name_hash(name)
}

/// What the stream holds: messages left, and the sequence of the last one ever stored.
fn stream_state(url: &str) -> (u64, u64) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream("BLOB_CHUNKS").await.unwrap();
        let info = stream.info().await.unwrap();
        (info.state.messages, info.state.last_sequence)
    })
}

/// The exactly-once check: every chunk the stream ever stored was taken, refused or dropped
/// exactly once by the checkpointed iterations, or is still waiting; the buffer holds exactly
/// the positions taken, each once. Returns the checkpoint's metrics.
fn assert_every_chunk_counted_once(run: &Run, run_dir: &str, url: &str) -> Vec<Metrics> {
    let checkpoint = run.latest_checkpoint(run_dir);
    let state: serde_json::Value = serde_json::from_str(&fs::read_to_string(checkpoint.join("state.json")).unwrap()).unwrap();
    let metrics: Vec<Metrics> = serde_json::from_value(state["sealed"]["state"]["metrics"].clone()).unwrap();
    let iterations: Vec<usize> = metrics.iter().map(|m| m.iteration).collect();
    assert_eq!(iterations, (1..=metrics.len()).collect::<Vec<_>>(), "each iteration once");
    let streams: Vec<_> = metrics.iter().map(|m| m.stream.clone().expect("a learner's metrics have an intake")).collect();
    let taken: usize = streams.iter().map(|s| s.chunks + s.refused + s.stale_chunks).sum();
    let (waiting, stored) = stream_state(url);
    assert_eq!(taken as u64 + waiting, stored, "chunks taken ({taken}) and waiting ({waiting}) against the chunks stored ({stored})");
    let positions: usize = streams.iter().flat_map(|s| s.actors.values()).map(|a| a.positions).sum();
    let buffer = ReplayBuffer::load(&checkpoint.join("buffer.bin")).unwrap();
    assert_eq!(buffer.len(), positions, "the buffer against the positions taken");
    let distinct: HashSet<String> = buffer.examples().iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    assert_eq!(distinct.len(), buffer.len(), "an example entered the buffer twice");
    metrics
}

/// An actor started before the learner waits for it; two actors serve a run to its end and
/// exit 0; the run's metrics count both actors.
#[test]
fn a_learner_and_two_actors_train_a_run_to_its_end() {
    let run = Run::new();
    let Some(server) = Server::start(run.path(), None) else { return };
    let url = server.url(None);
    let mut early = run.actor("early", &url);
    early.wait_for("waiting for a learner");
    let mut learner = run.learner("learner", &config(3), &url, "run");
    let mut late = run.actor("late", &url);
    learner.finish_ok();
    early.finish_ok();
    late.finish_ok();
    assert!(early.log().contains("is finished: exiting"), "{}", early.log());
    let metrics = assert_every_chunk_counted_once(&run, "run", &url);
    let actors: HashSet<String> = metrics.iter().flat_map(|m| m.stream.as_ref().unwrap().actors.keys().cloned()).collect();
    assert!(actors.iter().any(|a| a.starts_with("early-")), "{actors:?}");
    assert!(metrics.iter().all(|m| m.selfplay.positions >= 96), "each iteration waits for its share of positions");
    let log = learner.log();
    assert!(log.contains("all 3 iterations done") && log.contains("evaluation vs pimc"), "{log}");
}

/// kill -9 an actor mid-chunk, restart the server under a running learner and actor, kill -9
/// the learner and restart it: it resumes from its checkpoint and consumer, and every chunk is
/// counted once.
#[test]
fn kills_and_a_server_restart_lose_no_chunk_and_count_none_twice() {
    let run = Run::new();
    let Some(mut server) = Server::start(run.path(), None) else { return };
    let url = server.url(None);
    // Enough iterations that the learner is still mid-run when it is killed after the 4th.
    let config = config(12);
    let mut learner = run.learner("learner", &config, &url, "run");
    let mut first = run.actor("first", &url);
    learner.wait_for("iteration 1 done");
    first.kill();
    let mut second = run.actor("second", &url);
    learner.wait_for("iteration 2 done");
    server.restart();
    learner.wait_for("iteration 4 done");
    learner.kill();
    let mut resumed = run.learner("resumed", &config, &url, "run");
    resumed.wait_for("resuming from");
    resumed.finish_ok();
    second.finish_ok();
    assert!(resumed.log().contains("took over the lease"), "{}", resumed.log());
    let metrics = assert_every_chunk_counted_once(&run, "run", &url);
    assert_eq!(metrics.len(), 12);
}

/// A second learner on the same server is refused before it writes anything.
#[test]
fn a_second_learner_is_refused() {
    let run = Run::new();
    let Some(server) = Server::start(run.path(), None) else { return };
    let url = server.url(None);
    let mut first = run.learner("first", &config(2), &url, "run");
    first.wait_for("serving run");
    let mut second = run.learner("second", &config(2), &url, "second-run");
    let status = second.finish();
    assert!(!status.success());
    assert!(second.log().contains("refusing to start a second one"), "{}", second.log());
    assert!(!run.path().join("second-run").exists(), "the refused learner wrote its run directory");
    // The first goes on: it serves an actor to the end.
    let mut actor = run.actor("actor", &url);
    first.finish_ok();
    actor.finish_ok();
    assert_every_chunk_counted_once(&run, "run", &url);
}

/// Garbage, a truncated chunk, and chunks of another run and another architecture are each
/// refused with a logged reason; none enters the buffer, and the run goes on.
#[test]
fn bad_chunks_from_the_wire_are_refused_with_a_reason() {
    use train::program::chunk::{Chunk, ChunkHeader, RunIdentity};
    let run = Run::new();
    let Some(server) = Server::start(run.path(), None) else { return };
    let url = server.url(None);
    // No staleness allowed: a chunk of network v0 arriving once v1 is current is dropped.
    let strict = config(2).replace("max_staleness: 2", "max_staleness: 0");
    let mut learner = run.learner("learner", &strict, &url, "run");
    learner.wait_for("serving run");
    let state_run = {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let js = async_nats::jetstream::new(async_nats::connect(&url).await.unwrap());
            let kv = js.get_key_value("blob_run").await.unwrap();
            let record: serde_json::Value = serde_json::from_slice(&kv.get("run").await.unwrap().unwrap()).unwrap();
            serde_json::from_value::<RunIdentity>(record["identity"].clone()).unwrap()
        })
    };
    // A well-formed chunk of `count` distinct examples, played by network v0.
    let chunk = |identity: RunIdentity, actor: &str, count: usize| {
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(name_seed(actor));
        let examples = (0..count)
            .map(|_| {
                let round = game::Round::deal(4, 2, 0, None, &mut rng).unwrap();
                let mut policy = vec![0.0; game::ACTIONS];
                policy[0] = 1.0;
                train::deals::Example { info: round.info_set(0), game: None, hands: Some(mcts::hands_of(&round)), policy, values: [0.0; game::MAX_PLAYERS], tricks: None }
            })
            .collect();
        let header = ChunkHeader { identity, network_version: 0, actor: actor.into(), sequence: 0, examples: count, rounds: count, games: 0, mean_round_score: None };
        Chunk { header, examples }.encode().unwrap()
    };
    let good = chunk(state_run.clone(), "intruder", 1);
    let other_run = chunk(RunIdentity { run: "another-run".into(), ..state_run.clone() }, "intruder", 1);
    let mut other_net = state_run.clone();
    other_net.architecture.config.d_model += 1;
    let other_architecture = chunk(other_net, "intruder", 1);
    // Iteration 1 is fed by the test (so that it ends before any actor plays): the bad chunks,
    // then enough good positions; a chunk of v0 sent after it is stale.
    let first_iteration: [(&str, Vec<u8>); 5] = [
        ("garbage", b"not a chunk at all".to_vec()),
        ("truncated", good[..good.len() - 7].to_vec()),
        ("other-run", other_run),
        ("other-net", other_architecture),
        ("feeder", chunk(state_run.clone(), "feeder", 100)),
    ];
    let publish = |messages: &[(&str, Vec<u8>)]| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let js = async_nats::jetstream::new(async_nats::connect(&url).await.unwrap());
            for (name, bytes) in messages {
                js.publish(format!("blob.chunks.{name}"), bytes.clone().into()).await.unwrap().await.unwrap();
            }
        });
    };
    publish(&first_iteration);
    learner.wait_for("iteration 1 done");
    publish(&[("intruder", good.clone())]);
    let mut actor = run.actor("actor", &url);
    learner.finish_ok();
    actor.finish_ok();
    let log = learner.log();
    let refusals: Vec<&str> = log.lines().filter(|l| l.contains("refused: ")).collect();
    assert_eq!(refusals.len(), 4, "{log}");
    for (subject, reason) in [("garbage", "not a self-play chunk (wrong magic bytes)"), ("truncated", "truncated"), ("other-run", "of run \"another-run\""), ("other-net", "network architecture")] {
        assert!(refusals.iter().any(|l| l.contains(&format!("blob.chunks.{subject}")) && l.contains(reason)), "{subject}: {refusals:?}");
    }
    assert!(!log.contains("panicked"), "{log}");
    let metrics = assert_every_chunk_counted_once(&run, "run", &url);
    assert_eq!(metrics.iter().map(|m| m.stream.as_ref().unwrap().refused).sum::<usize>(), 4);
    let intruder: Vec<_> = metrics.iter().filter_map(|m| m.stream.as_ref().unwrap().actors.get("intruder")).collect();
    assert_eq!(intruder.len(), 1, "the stale chunk is counted in one iteration");
    assert_eq!((intruder[0].positions, intruder[0].stale_positions), (0, 1), "the stale chunk is dropped, not trained on");
}

/// With `configs/nats-server.conf`, the learner and an actor run with their own users, and the
/// actor's credentials cannot replace the network or the config, nor purge the stream.
#[test]
fn actor_credentials_cannot_replace_the_network_or_the_config() {
    let run = Run::new();
    let config_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/nats-server.conf");
    let Some(server) = Server::start(run.path(), Some(&config_file)) else { return };
    let learner_url = server.url(Some(("learner", "learner-secret")));
    let actor_url = server.url(Some(("actor", "actor-secret")));
    let mut learner = run.learner("learner", &config(2), &learner_url, "run");
    let mut actor = run.actor("actor", &actor_url);
    learner.finish_ok();
    actor.finish_ok();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let options = async_nats::ConnectOptions::with_user_and_password("actor".into(), "actor-secret".into());
        let client = options.connect(server.url(None)).await.unwrap();
        let js = async_nats::jetstream::context::ContextBuilder::new().timeout(Duration::from_secs(2)).build(client);
        let kv = js.get_key_value("blob_run").await.expect("actors read the run");
        let before = kv.get("run").await.unwrap().expect("the run's record");
        assert!(kv.put("run", "{}".into()).await.is_err(), "an actor replaced the config");
        assert!(kv.put("network", "{\"version\":0,\"expected_round_score\":0.0}".into()).await.is_err(), "an actor named the network");
        let networks = js.get_object_store("blob_networks").await.expect("actors read networks");
        assert!(networks.put("v2", &mut &b"not a network"[..]).await.is_err(), "an actor replaced a network");
        let stream = js.get_stream("BLOB_CHUNKS").await.unwrap();
        assert!(stream.purge().await.is_err(), "an actor purged the chunk stream");
        assert_eq!(kv.get("run").await.unwrap().unwrap(), before);
        // The same writes with the learner's credentials go through: the refusals above are
        // the actor's permissions, not a broken bucket.
        let learner = async_nats::ConnectOptions::with_user_and_password("learner".into(), "learner-secret".into()).connect(server.url(None)).await.unwrap();
        let learner_kv = async_nats::jetstream::new(learner).get_key_value("blob_run").await.unwrap();
        learner_kv.put("probe", "1".into()).await.expect("the learner writes the bucket");
        assert!(kv.put("probe", "2".into()).await.is_err());
        // The wrong password is refused outright.
        let refused = async_nats::ConnectOptions::with_user_and_password("actor".into(), "guess".into()).connect(server.url(None)).await;
        assert!(refused.is_err());
    });
}

/// A stream holding `max_waiting_chunks` (here filled with chunks the learner holds until a
/// checkpoint that cannot come) makes an actor wait, saying so, instead of failing or dropping.
#[test]
fn an_actor_waits_while_the_stream_is_full() {
    let run = Run::new();
    let Some(server) = Server::start(run.path(), None) else { return };
    let url = server.url(None);
    let mut learner = run.learner("learner", &config(2).replace("max_waiting_chunks: 10000", "max_waiting_chunks: 3"), &url, "run");
    learner.wait_for("serving run");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(&url).await.unwrap());
        for n in 0..3 {
            js.publish(format!("blob.chunks.filler{n}"), "junk".into()).await.unwrap().await.unwrap();
        }
        assert!(js.publish("blob.chunks.filler3", "junk".into()).await.unwrap().await.is_err(), "the stream took a fourth chunk");
    });
    let mut actor = run.actor("actor", &url);
    actor.wait_for("the chunk stream is full");
    assert!(actor.child.try_wait().unwrap().is_none(), "the actor gave up:\n{}", actor.log());
    learner.kill();
}
