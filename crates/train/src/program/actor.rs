//! `train actor`: self-play for a learner over NATS. It plays with the run's settings and the
//! learner's current network, sends chunks of finished rounds or games, waits (saying so) while
//! there is no learner or the stream is full, and exits once the run is finished.

use std::time::Duration;

use blobnet::{Architecture, BackendTask, DeviceSpec};
use burn::prelude::Backend;
use mcts::BatchedSearcher;
use tracing::info;

use crate::program::chunk::{Chunk, ChunkHeader, RunIdentity};
use crate::program::config::TrainConfig;
use crate::program::nats::{ActorLink, Published, RunRecord};
use crate::program::run::{play_self_play, self_play_deals};
use crate::seed::{derive_seed, name_hash, process_nonce};

/// The actors' seed stream (the run's iterations use 1..=5).
const ACTOR_DEALS: u64 = 6;
const ACTOR_PLAY: u64 = 7;
/// How often an actor looks again while it waits.
const POLL: Duration = Duration::from_secs(1);

pub struct ActorOptions {
    pub nats: String,
    pub device: DeviceSpec,
    /// Names the actor in the learner's metrics; made unique per process.
    pub name: String,
    pub progress: bool,
}

struct Task(ActorOptions);

impl BackendTask for Task {
    type Output = anyhow::Result<()>;
    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<()> {
        actor_loop::<B>(self.0, device)
    }
}

pub fn run_actor(options: ActorOptions) -> anyhow::Result<()> {
    options.device.run(Task(options))?
}

/// An actor's id: its name made a subject token, and a number of this process, so that a
/// restarted actor's chunks never share a message id with its earlier ones.
fn actor_id(name: &str) -> String {
    let token: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    format!("{token}-{:08x}", process_nonce() as u32)
}

/// The run being served and what playing it needs.
struct Serving<B: Backend> {
    record: RunRecord,
    config: TrainConfig,
    searcher: BatchedSearcher,
    /// The network loaded, its version and rho.
    net: Option<(u64, blobnet::BlobNet<B>, f64)>,
}

fn actor_loop<B: Backend>(options: ActorOptions, device: B::Device) -> anyhow::Result<()>
where
    blobnet::BlobNet<B>: Send,
{
    let id = actor_id(&options.name);
    let mut link = ActorLink::connect(&options.nats, &id)?;
    info!("actor {id} on {}", options.device);
    let mut serving: Option<Serving<B>> = None;
    let mut waiting_said = false;
    let mut sequence = 0u64;
    loop {
        let Some(record) = link.run()? else {
            if !waiting_said {
                match link.connected() {
                    true => info!("waiting for a learner: no run is being served yet"),
                    false => info!("waiting for the NATS server (not reachable yet), then for a learner"),
                }
                waiting_said = true;
            }
            std::thread::sleep(POLL);
            continue;
        };
        if record.finished {
            info!("run {} is finished: exiting", record.identity.run);
            return Ok(());
        }
        if serving.as_ref().is_none_or(|s| s.record != record) {
            let config = TrainConfig::parse(&record.config, "the run's config (from the learner)")?;
            let architecture = Architecture::current(&config.net);
            if architecture != record.identity.architecture {
                anyhow::bail!("the run's config describes network {architecture}, its record {}: a learner of another version?", record.identity.architecture);
            }
            info!("serving run {}", record.identity.run);
            let searcher = BatchedSearcher::new(config.driver)?;
            serving = Some(Serving { record, config, searcher, net: None });
        }
        let run = serving.as_mut().expect("set above");
        let Some(current) = link.network()? else {
            std::thread::sleep(POLL);
            continue;
        };
        if run.net.as_ref().is_none_or(|(version, _, _)| *version != current.version) {
            let Some(bytes) = link.fetch_network(current.version)? else { continue };
            let dir = tempfile::tempdir()?;
            let path = dir.path().join("net.bin");
            std::fs::write(&path, bytes)?;
            let net = blobnet::load_net::<B>(&run.config.net, &path, &device)?;
            info!("playing with network v{}", current.version);
            run.net = Some((current.version, net, current.expected_round_score));
        }
        let (version, net, rho) = run.net.clone().expect("loaded above");
        let config = &run.config;
        let path = [ACTOR_DEALS, name_hash(&id), sequence];
        let deals = self_play_deals(config, config.distributed.chunk_deals, derive_seed(config.seed, &path));
        let bar = indicatif::ProgressBar::hidden();
        let seed = derive_seed(config.seed, &[ACTOR_PLAY, name_hash(&id), sequence]);
        let played = play_self_play(config, net, &device, &mut run.searcher, &deals, seed, rho, &bar)?;
        let header = ChunkHeader {
            identity: run.record.identity.clone(),
            network_version: version,
            actor: id.clone(),
            sequence,
            examples: played.examples.len(),
            rounds: played.rounds,
            games: played.games.unwrap_or(0),
            mean_round_score: played.mean_round_score,
        };
        for chunk in fitting(Chunk { header, examples: played.examples }, link.max_payload(), &mut sequence)? {
            send(&mut link, &chunk, &run.record.identity)?;
        }
    }
}

/// The chunk, split in halves until each piece fits in a message of `max_payload` bytes (the
/// pieces take consecutive sequence numbers; rounds and score go with the first).
fn fitting(chunk: Chunk, max_payload: usize, sequence: &mut u64) -> anyhow::Result<Vec<Chunk>> {
    // Room for the message's headers.
    let limit = max_payload.saturating_sub(1024);
    let mut pending = vec![chunk];
    let mut ready = Vec::new();
    while let Some(mut chunk) = pending.pop() {
        let size = chunk.encode()?.len();
        if size <= limit || chunk.examples.len() <= 1 {
            if size > limit {
                anyhow::bail!("one example encodes to {size} bytes, more than the server's max_payload {max_payload}");
            }
            chunk.header.sequence = *sequence;
            chunk.header.examples = chunk.examples.len();
            *sequence += 1;
            ready.push(chunk);
            continue;
        }
        let second = chunk.examples.split_off(chunk.examples.len() / 2);
        let mut rest = chunk.header.clone();
        (rest.rounds, rest.games, rest.mean_round_score) = (0, 0, None);
        pending.push(Chunk { header: rest, examples: second });
        pending.push(chunk);
    }
    Ok(ready)
}

/// Publish one chunk, waiting while the stream is full (the learner is behind or away).
fn send(link: &mut ActorLink, chunk: &Chunk, identity: &RunIdentity) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let bytes = chunk.encode()?;
    let size = bytes.len();
    let mut full_said = false;
    loop {
        match link.publish(&chunk.header.actor, &chunk.message_id(), bytes.clone())? {
            Published::Stored => {
                let ms = started.elapsed().as_secs_f64() * 1e3;
                let header = &chunk.header;
                info!("sent chunk {}: {} positions of network v{}, {size} bytes, encoded and stored in {ms:.1} ms", chunk.message_id(), header.examples, header.network_version);
                return Ok(());
            }
            Published::StreamFull => {
                if !full_said {
                    info!("the chunk stream is full (the learner is behind or away): waiting");
                    full_said = true;
                }
                std::thread::sleep(POLL);
                // A run that ended meanwhile takes no more chunks.
                if link.run()?.is_none_or(|r| r.finished || r.identity != *identity) {
                    return Ok(());
                }
            }
        }
    }
}
