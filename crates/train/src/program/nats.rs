//! The distributed run's objects on a NATS JetStream server, and the two ends that use them.
//!
//! - key-value bucket `blob_run`: `run` (the run's identity, config and whether it is
//!   finished), `network` (the current network version), `learner` (the learner's lease);
//! - object store `blob_networks`: the network of each version, `v<N>`;
//! - stream `BLOB_CHUNKS` (work queue, file storage, de-duplicated by message id): the actors'
//!   chunks on `blob.chunks.<actor>`, read by the learner's durable consumer `learner`.
//!
//! A chunk is in the learner's buffer exactly once: the checkpoint records the stream sequence
//! below which every chunk is in it (its floor); a restarted learner drops what lies below the
//! floor (chunks of its last iteration whose acks a crash cut off) and reads on from there.
//! Actors only publish chunks and read the rest (see `configs/nats-server.conf`).
//!
//! The trainer is synchronous; each end owns a small Tokio runtime and blocks on it.

use std::fmt::Display;
use std::future::{Future, IntoFuture};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::kv::{self, CreateErrorKind, UpdateErrorKind};
use async_nats::jetstream::object_store::{self, ObjectStore};
use async_nats::jetstream::stream::{self, DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, Context};
use async_nats::ServerAddr;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use tokio::runtime::Runtime;
use tracing::{info, warn};

use crate::program::buffer::ReplayBuffer;
use crate::program::chunk::{Chunk, RunIdentity};
use crate::program::config::DistributedConfig;
use crate::program::metrics::{ActorMetrics, StreamMetrics};

const BUCKET: &str = "blob_run";
const NETWORKS: &str = "blob_networks";
const STREAM: &str = "BLOB_CHUNKS";
const CHUNK_SUBJECTS: &str = "blob.chunks.*";
const CONSUMER: &str = "learner";
const RUN_KEY: &str = "run";
const NETWORK_KEY: &str = "network";
const LEASE_KEY: &str = "learner";
/// How long an operation is retried through a server outage before the process gives up.
const OUTAGE: Duration = Duration::from_secs(600);

/// What the learner tells actors about the run (the `run` entry).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub identity: RunIdentity,
    /// The run's config, RON.
    pub config: String,
    /// Set when the learner has done all its iterations: actors then exit.
    pub finished: bool,
}

/// The current network (the `network` entry): its object is `v<version>`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkRecord {
    pub version: u64,
    /// Rho for mode Games' value head (see `SelfPlayMetrics::expected_round_score`).
    pub expected_round_score: f64,
}

fn network_object(version: u64) -> String {
    format!("v{version}")
}

/// A connection, with the runtime it runs on.
struct Connection {
    runtime: Runtime,
    js: Context,
    url: String,
}

impl Connection {
    /// Connect to `url` (`nats://[user:password@]host:port`), retrying while the server is not
    /// there yet, and saying so.
    fn open(url: &str, name: &str) -> anyhow::Result<Connection> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().context("starting the NATS client's runtime")?;
        let address = ServerAddr::from_str(url).map_err(|e| anyhow!("--nats {url}: {e}"))?;
        let mut options = async_nats::ConnectOptions::new().name(name).connection_timeout(Duration::from_secs(5)).retry_on_initial_connect();
        if let (Some(user), Some(password)) = (address.username(), address.password()) {
            options = options.user_and_password(user.to_string(), password.to_string());
        }
        let shown = redacted(url);
        info!("connecting to NATS at {shown}");
        let client = runtime.block_on(options.connect(address)).with_context(|| format!("connecting to NATS at {shown}"))?;
        // The JetStream context starts its tasks on the runtime.
        let js = {
            let _entered = runtime.enter();
            jetstream::new(client)
        };
        let connection = Connection { runtime, js, url: shown };
        let started = Instant::now();
        while !connection.connected() && started.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if !connection.connected() {
            warn!("the NATS server at {} is not reachable yet: retrying until it is (Ctrl-C to stop)", connection.url);
        }
        Ok(connection)
    }

    fn block<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    fn connected(&self) -> bool {
        self.js.client().connection_state() == async_nats::connection::State::Connected
    }

    fn max_payload(&self) -> usize {
        self.js.client().server_info().max_payload
    }
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}***{}", &url[..scheme + 3], &url[at..]),
        _ => url.to_string(),
    }
}

/// Run `attempt` until it succeeds, through a server outage of up to [`OUTAGE`], logging each
/// failure once it has lasted a moment.
async fn retrying<T, E: Display, Fut: Future<Output = Result<T, E>>>(what: &str, mut attempt: impl FnMut() -> Fut) -> anyhow::Result<T> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            // The server answered, and said no: trying again changes nothing.
            Err(e) if e.to_string().contains("error code") => bail!("NATS: {what} failed: {e}"),
            Err(e) if started.elapsed() < OUTAGE => {
                if pause >= Duration::from_millis(800) {
                    warn!("NATS: {what} failed ({e}); retrying");
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(e) => bail!("NATS: {what} failed for {} s: {e}", OUTAGE.as_secs()),
        }
    }
}

fn json<T: Serialize>(value: &T) -> bytes::Bytes {
    serde_json::to_vec(value).expect("records serialise").into()
}

/// The learner's end: it owns the run on the server while its lease is renewed.
pub struct LearnerLink {
    connection: Connection,
    kv: kv::Store,
    networks: ObjectStore,
    stream: stream::Stream,
    consumer: Option<PullConsumer>,
    lease: Lease,
    settings: DistributedConfig,
    /// Messages consumed since the last checkpoint, acknowledged once the next one is written.
    consumed: Vec<jetstream::Message>,
    /// Every chunk below this stream sequence is in the buffer (or was refused or dropped).
    floor: u64,
    record: Option<RunRecord>,
}

/// What one iteration took from the stream.
pub struct Gathered {
    pub positions: usize,
    pub rounds: usize,
    pub games: usize,
    /// Rounds' mean scaled score, weighted by rounds.
    pub mean_round_score: Option<f64>,
    pub stream: StreamMetrics,
}

impl LearnerLink {
    /// Connect and take the run's lease: refused while another learner renews it; a lease left
    /// by a killed learner lapses after `learner_lease_s`.
    pub fn connect(url: &str, settings: &DistributedConfig) -> anyhow::Result<LearnerLink> {
        let connection = Connection::open(url, "blob learner")?;
        let js = connection.js.clone();
        // The bucket's stream as `create_key_value` makes it, created directly: that call first
        // reads the account's info in a form nats-server 2.9 (Debian's) does not send.
        let bucket = stream::Config {
            name: format!("KV_{BUCKET}"),
            subjects: vec![format!("$KV.{BUCKET}.>")],
            max_messages_per_subject: 1,
            storage: StorageType::File,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: DiscardPolicy::New,
            ..Default::default()
        };
        connection.block(retrying("creating the run's key-value bucket", || js.get_or_create_stream(bucket.clone())))?;
        let kv = connection.block(retrying("opening the run's key-value bucket", || js.get_key_value(BUCKET)))?;
        let lease = connection.block(Lease::take(kv.clone(), Duration::from_secs(settings.learner_lease_s)))?;
        let networks = connection.block(retrying("creating the network store", || {
            js.create_object_store(object_store::Config { bucket: NETWORKS.into(), storage: StorageType::File, ..Default::default() })
        }))?;
        let stream_config = stream::Config {
            name: STREAM.into(),
            subjects: vec![CHUNK_SUBJECTS.into()],
            retention: RetentionPolicy::WorkQueue,
            storage: StorageType::File,
            max_messages: settings.max_waiting_chunks,
            discard: DiscardPolicy::New,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        };
        let stream = connection.block(retrying("creating the chunk stream", || js.create_or_update_stream(stream_config.clone())))?;
        let stream = connection.block(retrying("opening the chunk stream", || js.get_stream(&stream.config.name)))?;
        Ok(LearnerLink { connection, kv, networks, stream, consumer: None, lease, settings: settings.clone(), consumed: Vec::new(), floor: 0, record: None })
    }

    /// Publish the run (`floor` 0: a fresh run, whose stream starts empty) and read chunks from
    /// `floor` on.
    pub fn begin(&mut self, identity: RunIdentity, config_ron: String, floor: u64) -> anyhow::Result<()> {
        let stream = self.stream.clone();
        let js = self.connection.js.clone();
        let start = self.connection.block(async {
            let start = if floor == 0 {
                retrying("emptying the chunk stream", || stream.purge().into_future()).await?;
                let info = retrying("reading the chunk stream", || {
                    let mut stream = stream.clone();
                    async move { stream.info().await.map(|i| i.state.last_sequence) }
                })
                .await?;
                info + 1
            } else {
                // Chunks below the floor are in the checkpoint: their acks were cut off.
                retrying("dropping chunks already checkpointed", || stream.purge().sequence(floor).into_future()).await?;
                floor
            };
            // The consumer restarts at the floor (the stream's first message now): what it
            // delivered since is not in the checkpoint.
            let _ = stream.delete_consumer(CONSUMER).await;
            anyhow::Ok(start)
        })?;
        let consumer_config = pull::Config {
            durable_name: Some(CONSUMER.into()),
            // A work queue's consumer reads from the first message.
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            // Chunks stay unacknowledged through training and evaluation until the checkpoint.
            ack_wait: Duration::from_secs(24 * 3600),
            max_ack_pending: -1,
            ..Default::default()
        };
        let consumer = self.connection.block(retrying("creating the learner's consumer", || js.create_consumer_on_stream(consumer_config.clone(), STREAM)))?;
        self.consumer = Some(consumer);
        self.floor = start;
        let record = RunRecord { identity, config: config_ron, finished: false };
        self.put_record(&record)?;
        self.record = Some(record);
        info!("serving run {} on NATS at {}: actors can start (train actor --nats URL)", self.record.as_ref().unwrap().identity.run, self.connection.url);
        Ok(())
    }

    fn put_record(&self, record: &RunRecord) -> anyhow::Result<()> {
        let kv = self.kv.clone();
        self.connection.block(retrying("publishing the run", || kv.put(RUN_KEY, json(record))))?;
        Ok(())
    }

    /// Publish the network `version` (a network file's bytes) and make it the current one.
    pub fn publish_network(&self, version: u64, net_file: &[u8], expected_round_score: f64) -> anyhow::Result<()> {
        self.check_lease()?;
        let (networks, kv) = (self.networks.clone(), self.kv.clone());
        let keep = self.settings.max_staleness + 1;
        self.connection.block(async {
            let name = network_object(version);
            retrying("publishing the network", || {
                let networks = networks.clone();
                let name = name.clone();
                async move { networks.put(name.as_str(), &mut &net_file[..]).await }
            })
            .await?;
            let record = NetworkRecord { version, expected_round_score };
            retrying("naming the current network", || kv.put(NETWORK_KEY, json(&record))).await?;
            // Networks no chunk could still be accepted from are of no use to anyone.
            if version > keep {
                let _ = networks.delete(network_object(version - keep - 1)).await;
            }
            anyhow::Ok(())
        })
    }

    /// Take chunks from the stream until `positions_needed` new positions are in the buffer,
    /// waiting for actors as long as it takes (and saying so). `version` is the current network.
    pub fn gather(&mut self, positions_needed: usize, version: u64, buffer: &mut ReplayBuffer, progress: &indicatif::ProgressBar) -> anyhow::Result<Gathered> {
        let started = Instant::now();
        let identity = self.record.as_ref().expect("begin comes first").identity.clone();
        let consumer = self.consumer.clone().expect("begin comes first");
        let mut gathered = Gathered { positions: 0, rounds: 0, games: 0, mean_round_score: None, stream: StreamMetrics::default() };
        let (mut score_sum, mut scored_rounds, mut age_sum) = (0.0, 0usize, 0u64);
        let mut last_said = Instant::now();
        while gathered.positions < positions_needed {
            self.check_lease()?;
            let batch: Vec<jetstream::Message> = self.connection.block(async {
                let mut messages = match consumer.fetch().max_messages(64).expires(Duration::from_secs(1)).messages().await {
                    Ok(messages) => messages,
                    Err(e) => {
                        warn!("NATS: fetching chunks failed ({e}); retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        return Vec::new();
                    }
                };
                let mut batch = Vec::new();
                while let Some(message) = messages.next().await {
                    match message {
                        Ok(message) => batch.push(message),
                        Err(e) => warn!("NATS: receiving a chunk failed ({e})"),
                    }
                }
                batch
            });
            if batch.is_empty() && last_said.elapsed() > Duration::from_secs(10) {
                info!("waiting for actors: {} of {positions_needed} new positions so far", gathered.positions);
                last_said = Instant::now();
            }
            for message in batch {
                let Ok((sequence, delivered)) = message.info().map(|i| (i.stream_sequence, i.delivered)) else {
                    warn!("NATS: a message without JetStream metadata on {}; ignored", message.subject);
                    continue;
                };
                if sequence < self.floor {
                    if delivered > 1 {
                        // Delivered again (an ack lost in a server restart): already taken, and
                        // acknowledged with the rest once they are checkpointed.
                        self.consumed.push(message);
                        continue;
                    }
                    // A first delivery below the floor: the server forgot writes (a crash
                    // before it synced them) and gave their sequences to new chunks.
                    warn!("NATS: the chunk stream's sequence went back to {sequence} (the server lost unsynced writes?); taking the chunk as new");
                }
                self.floor = self.floor.max(sequence + 1);
                let name = message.subject.to_string();
                match Chunk::decode(message.payload.to_vec(), &name, &identity) {
                    Err(e) => {
                        warn!("refused: {e}");
                        gathered.stream.refused += 1;
                    }
                    Ok(chunk) => {
                        let header = &chunk.header;
                        let age = version.saturating_sub(header.network_version);
                        let actor = gathered.stream.actors.entry(header.actor.clone()).or_insert_with(ActorMetrics::default);
                        if age > self.settings.max_staleness {
                            gathered.stream.stale_chunks += 1;
                            gathered.stream.stale_positions += chunk.examples.len();
                            actor.stale_positions += chunk.examples.len();
                        } else {
                            gathered.stream.chunks += 1;
                            actor.chunks += 1;
                            actor.positions += chunk.examples.len();
                            gathered.positions += chunk.examples.len();
                            gathered.rounds += header.rounds;
                            gathered.games += header.games;
                            if let Some(score) = header.mean_round_score {
                                score_sum += score * header.rounds as f64;
                                scored_rounds += header.rounds;
                            }
                            age_sum += age * chunk.examples.len() as u64;
                            progress.inc(chunk.examples.len() as u64);
                            for example in chunk.examples {
                                buffer.push(example);
                            }
                        }
                    }
                }
                self.consumed.push(message);
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        gathered.mean_round_score = (scored_rounds > 0).then(|| score_sum / scored_rounds as f64);
        gathered.stream.wait_s = seconds;
        for actor in gathered.stream.actors.values_mut() {
            actor.positions_per_s = actor.positions as f64 / seconds.max(1e-9);
        }
        gathered.stream.mean_example_age = age_sum as f64 / gathered.positions.max(1) as f64;
        let mut consumer = consumer;
        let waiting = self.connection.block(async { consumer.info().await.map(|i| i.num_pending).unwrap_or(0) });
        gathered.stream.waiting_chunks = waiting;
        gathered.stream.waiting_positions = waiting * gathered.positions as u64 / gathered.stream.chunks.max(1) as u64;
        Ok(gathered)
    }

    /// The stream sequence the checkpoint about to be written is complete below.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    /// The checkpoint holding everything consumed so far is written: acknowledge it.
    pub fn checkpointed(&mut self) -> anyhow::Result<()> {
        let consumed = std::mem::take(&mut self.consumed);
        self.connection.block(async {
            for message in &consumed {
                // A lost ack is harmless: the floor in the checkpoint drops the chunk on restart.
                if let Err(e) = message.double_ack().await {
                    warn!("NATS: acknowledging {} failed ({e}); the checkpoint's floor covers it", message.subject);
                }
            }
        });
        Ok(())
    }

    /// All iterations are done: tell the actors, and give up the lease.
    pub fn finish(mut self) -> anyhow::Result<()> {
        if let Some(mut record) = self.record.take() {
            record.finished = true;
            self.put_record(&record)?;
        }
        self.release()
    }

    /// Give up the lease (an orderly stop that is not the end of the run).
    pub fn release(self) -> anyhow::Result<()> {
        let LearnerLink { connection, lease, .. } = self;
        connection.block(lease.release())
    }

    fn check_lease(&self) -> anyhow::Result<()> {
        if self.lease.lost.load(Ordering::SeqCst) {
            bail!("another learner took over this run's lease on {}: stopping (the last checkpoint is intact)", self.connection.url);
        }
        Ok(())
    }
}

/// The learner's hold on the run: a key-value entry it renews every third of the lease. A
/// second learner sees the entry change within one lease and is refused; a killed learner's
/// entry stops changing, and after one lease a new learner takes it over.
struct Lease {
    kv: kv::Store,
    lost: Arc<AtomicBool>,
    renewer: tokio::task::JoinHandle<()>,
    revision: Arc<std::sync::atomic::AtomicU64>,
}

#[derive(Serialize, Deserialize)]
struct LeaseRecord {
    /// Who holds it (host and process), for the message that refuses a second learner.
    holder: String,
}

impl Lease {
    async fn take(kv: kv::Store, lease: Duration) -> anyhow::Result<Lease> {
        let holder = format!("{} process {}", hostname(), std::process::id());
        let value = json(&LeaseRecord { holder });
        let revision = match kv.create(LEASE_KEY, value.clone()).await {
            Ok(revision) => revision,
            Err(e) if e.kind() == CreateErrorKind::AlreadyExists => {
                let seen = kv.entry(LEASE_KEY).await.context("reading the learner lease")?;
                let seen_revision = seen.as_ref().map_or(0, |e| e.revision);
                let other = seen.and_then(|e| serde_json::from_slice::<LeaseRecord>(&e.value).ok()).map_or("another learner".into(), |r| r.holder);
                info!("the run's lease is held by {other}; waiting {} s to see whether it is still renewed", lease.as_secs());
                tokio::time::sleep(lease).await;
                let now = kv.entry(LEASE_KEY).await.context("reading the learner lease")?;
                let still = now.as_ref().map(|e| e.revision);
                if still.is_some_and(|r| r != seen_revision) {
                    bail!("another learner ({other}) is running this server's run: refusing to start a second one");
                }
                let taken = match still {
                    Some(revision) => kv.update(LEASE_KEY, value.clone(), revision).await.map_err(|e| anyhow!("{e}")),
                    None => kv.create(LEASE_KEY, value.clone()).await.map_err(|e| anyhow!("{e}")),
                };
                let revision = taken.map_err(|_| anyhow!("another learner took the run's lease first: refusing to start a second one"))?;
                warn!("took over the lease of {other}, which stopped renewing it");
                revision
            }
            Err(e) => return Err(anyhow!("taking the learner lease: {e}")),
        };
        let lost = Arc::new(AtomicBool::new(false));
        let current = Arc::new(std::sync::atomic::AtomicU64::new(revision));
        let renewer = {
            let (kv, lost, current) = (kv.clone(), lost.clone(), current.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    match kv.update(LEASE_KEY, value.clone(), current.load(Ordering::SeqCst)).await {
                        Ok(revision) => current.store(revision, Ordering::SeqCst),
                        Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => {
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                        // The server is away: renew when it is back.
                        Err(_) => {}
                    }
                }
            })
        };
        Ok(Lease { kv, lost, renewer, revision: current })
    }

    async fn release(self) -> anyhow::Result<()> {
        self.renewer.abort();
        if !self.lost.load(Ordering::SeqCst) {
            let revision = self.revision.load(Ordering::SeqCst);
            let _ = self.kv.delete_expect_revision(LEASE_KEY, Some(revision)).await;
        }
        Ok(())
    }
}

/// This machine's name (an actor's default name, a lease's holder).
pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "localhost".into())
}

/// The actor's end: reads the run and its networks, publishes chunks.
pub struct ActorLink {
    connection: Connection,
    kv: Option<kv::Store>,
    networks: Option<ObjectStore>,
}

/// What publishing a chunk came to.
pub enum Published {
    Stored,
    /// The stream held `max_waiting_chunks`: the learner is behind or away.
    StreamFull,
}

impl ActorLink {
    pub fn connect(url: &str, name: &str) -> anyhow::Result<ActorLink> {
        Ok(ActorLink { connection: Connection::open(url, &format!("blob actor {name}"))?, kv: None, networks: None })
    }

    /// The run being served, if a learner has published one.
    pub fn run(&mut self) -> anyhow::Result<Option<RunRecord>> {
        let Some(kv) = self.bucket()? else { return Ok(None) };
        let value = self.connection.block(retrying("reading the run", || kv.get(RUN_KEY)))?;
        value.map(|v| serde_json::from_slice(&v).context("the run's record on the server is unreadable")).transpose()
    }

    pub fn network(&mut self) -> anyhow::Result<Option<NetworkRecord>> {
        let Some(kv) = self.bucket()? else { return Ok(None) };
        let value = self.connection.block(retrying("reading the current network", || kv.get(NETWORK_KEY)))?;
        value.map(|v| serde_json::from_slice(&v).context("the network record on the server is unreadable")).transpose()
    }

    /// The bytes of network `version`; `None` if it is gone (a newer one replaced it).
    pub fn fetch_network(&mut self, version: u64) -> anyhow::Result<Option<Vec<u8>>> {
        if self.networks.is_none() {
            let js = self.connection.js.clone();
            self.networks = Some(self.connection.block(retrying("opening the network store", || js.get_object_store(NETWORKS)))?);
        }
        let networks = self.networks.clone().expect("opened");
        self.connection.block(async {
            let mut object = match networks.get(network_object(version)).await {
                Ok(object) => object,
                Err(e) if e.kind() == object_store::GetErrorKind::NotFound => return Ok(None),
                Err(e) => bail!("fetching network v{version}: {e}"),
            };
            let mut bytes = Vec::new();
            object.read_to_end(&mut bytes).await.with_context(|| format!("fetching network v{version}"))?;
            Ok(Some(bytes))
        })
    }

    fn bucket(&mut self) -> anyhow::Result<Option<kv::Store>> {
        if self.kv.is_none() {
            let js = self.connection.js.clone();
            // Absent until a learner has created it.
            self.kv = self.connection.block(js.get_key_value(BUCKET)).ok();
        }
        Ok(self.kv.clone())
    }

    /// Whether the server is reachable now (for the messages of an actor that waits).
    pub fn connected(&self) -> bool {
        self.connection.connected()
    }

    /// The largest message the server takes.
    pub fn max_payload(&self) -> usize {
        self.connection.max_payload()
    }

    /// Publish an encoded chunk under its message id, retrying through outages (the stream
    /// keeps one copy of a message id however often it is sent).
    pub fn publish(&self, actor: &str, id: &str, bytes: Vec<u8>) -> anyhow::Result<Published> {
        let js = self.connection.js.clone();
        let subject = format!("blob.chunks.{actor}");
        let payload = bytes::Bytes::from(bytes);
        self.connection.block(async {
            let started = Instant::now();
            loop {
                let message = jetstream::message::PublishMessage::build().payload(payload.clone()).message_id(id);
                let outcome = match js.send_publish(subject.clone(), message).await {
                    Ok(ack) => ack.await,
                    Err(e) => Err(e),
                };
                match outcome {
                    Ok(_) => return Ok(Published::Stored),
                    Err(e) if e.to_string().contains("maximum messages") => return Ok(Published::StreamFull),
                    Err(e) if e.kind() == PublishErrorKind::StreamNotFound => return Ok(Published::StreamFull),
                    Err(e) if started.elapsed() < OUTAGE => {
                        warn!("NATS: publishing chunk {id} failed ({e}); retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    Err(e) => bail!("NATS: publishing chunk {id} failed for {} s: {e}", OUTAGE.as_secs()),
                }
            }
        })
    }
}
