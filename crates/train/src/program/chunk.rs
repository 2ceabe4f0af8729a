//! The unit of self-play that an actor sends the learner in the distributed mode: a framed
//! message (the `blobnet::files` layout, magic `BLOBCHNK`) whose JSON header says which run and
//! network architecture it belongs to, which network version played it and who sent it, and
//! whose payload is the examples. [`Chunk::decode`] is the one way bytes from the wire become
//! examples: anything damaged, of another run or architecture, or out of range is refused with a
//! reason that names the message, and nothing it refuses reaches the buffer.

use std::path::Path;

use blobnet::files::{self, Checksum, FrameError, FrameKind};
use blobnet::Architecture;
use game::{CardSet, ACTIONS};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::deals::Example;

/// Format 2: examples carry the tricks each seat took (format 1, without them, is refused: a
/// chunk lives only as long as its run, and a run's actors are of its build).
const FORMAT: u32 = 2;
const KIND: FrameKind = FrameKind { magic: b"BLOBCHNK", name: "self-play chunk", versions: &[(FORMAT, Checksum::Crc32)] };

/// What a chunk must match to enter a run's buffer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunIdentity {
    /// The run's unique name, fixed when the run is created.
    pub run: String,
    pub architecture: Architecture,
}

/// Who played a chunk, with what, and how much it holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkHeader {
    pub identity: RunIdentity,
    /// The network version that played the chunk's rounds (for the staleness rule).
    pub network_version: u64,
    /// The actor's name, unique among the run's actors.
    pub actor: String,
    /// The actor's count of chunks sent before this one.
    pub sequence: u64,
    pub examples: usize,
    /// Rounds played for the examples, and whole games among them (mode Games).
    pub rounds: usize,
    pub games: usize,
    /// The rounds' mean scaled score (rho, for mode Games' value head).
    pub mean_round_score: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    pub header: ChunkHeader,
    pub examples: Vec<Example>,
}

/// Why bytes from the wire were refused, naming the message.
#[derive(Debug, Error)]
pub enum ChunkError {
    /// Truncated, damaged (checksum), or not a chunk at all.
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("chunk {name}: unreadable header: {reason}")]
    Header { name: String, reason: String },
    #[error("chunk {name}: of run {found:?}, this run is {expected:?}")]
    OtherRun { name: String, found: String, expected: String },
    #[error("chunk {name}: network architecture {found}, the run's is {expected}")]
    OtherArchitecture { name: String, found: Architecture, expected: Architecture },
    #[error("chunk {name}: unreadable examples: {reason}")]
    Payload { name: String, reason: String },
    #[error("chunk {name}: the header says {said} examples, the payload holds {found}")]
    Count { name: String, said: usize, found: usize },
    #[error("chunk {name}: example {index}: {reason}")]
    Example { name: String, index: usize, reason: String },
    #[error("encoding chunk {name}: {reason}")]
    Encode { name: String, reason: String },
}

impl Chunk {
    /// The JetStream message id: the same chunk sent twice (an actor retrying after a lost ack)
    /// has the same id, so the stream keeps it once.
    pub fn message_id(&self) -> String {
        let header = &self.header;
        format!("{}.{}.{}", header.identity.run, header.actor, header.sequence)
    }

    pub fn encode(&self) -> Result<Vec<u8>, ChunkError> {
        let encode_error = |reason: String| ChunkError::Encode { name: self.message_id(), reason };
        let header = serde_json::to_vec(&self.header).map_err(|e| encode_error(e.to_string()))?;
        let payload = bincode::serialize(&self.examples).map_err(|e| encode_error(e.to_string()))?;
        files::encode_framed(KIND.magic, FORMAT, &header, &payload).map_err(|e| encode_error(e.to_string()))
    }

    /// The chunk in `bytes` (the message called `name`), if it is whole and belongs to the run
    /// `expected`, and every example is one the learner can train on.
    pub fn decode(bytes: Vec<u8>, name: &str, expected: &RunIdentity) -> Result<Chunk, ChunkError> {
        let frame = files::decode_framed(bytes, Path::new(name), &KIND)?;
        let name = name.to_string();
        let header: ChunkHeader = serde_json::from_slice(&frame.header)
            .map_err(|e| ChunkError::Header { name: name.clone(), reason: e.to_string() })?;
        if header.identity.run != expected.run {
            return Err(ChunkError::OtherRun { name, found: header.identity.run, expected: expected.run.clone() });
        }
        if header.identity.architecture != expected.architecture {
            let (found, expected) = (header.identity.architecture, expected.architecture.clone());
            return Err(ChunkError::OtherArchitecture { name, found, expected });
        }
        let examples: Vec<Example> = bincode::deserialize(&frame.payload)
            .map_err(|e| ChunkError::Payload { name: name.clone(), reason: e.to_string() })?;
        if examples.len() != header.examples {
            return Err(ChunkError::Count { name, said: header.examples, found: examples.len() });
        }
        for (index, example) in examples.iter().enumerate() {
            check_example(example).map_err(|reason| ChunkError::Example { name: name.clone(), index, reason })?;
        }
        Ok(Chunk { header, examples })
    }
}

/// What a well-formed example satisfies: the observer sits at the table, the policy target is a
/// distribution over the action space, the values are numbers, the tricks taken are those of a
/// finished round of this one's size that the seats had not yet passed, and the recorded hands
/// agree with the observer's own and do not share a card.
fn check_example(example: &Example) -> Result<(), String> {
    let view = example.info.view();
    let (observer, players) = (example.info.observer(), view.players());
    if observer >= players {
        return Err(format!("observer seat {observer} at a table of {players}"));
    }
    if example.policy.len() != ACTIONS {
        return Err(format!("policy of {} entries, not {ACTIONS}", example.policy.len()));
    }
    if let Some(p) = example.policy.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(format!("policy entry {p} outside [0, 1]"));
    }
    if let Some(v) = example.values.iter().find(|v| !v.is_finite()) {
        return Err(format!("value {v} is not a number"));
    }
    if let Some(tricks) = &example.tricks {
        let sum: usize = tricks.iter().map(|&t| t as usize).sum();
        let short = (0..players).find(|&r| tricks[r] < view.tricks_won((observer + r) % players));
        if sum != view.cards() || tricks[players..].iter().any(|&t| t > 0) || short.is_some() {
            return Err(format!("tricks taken {:?} are not those of a round of {} cards at this point", &tricks[..], view.cards()));
        }
    }
    if let Some(hands) = &example.hands {
        if hands[observer] != example.info.hand() {
            return Err("the recorded hands disagree with the observer's hand".into());
        }
        let mut seen = CardSet::EMPTY;
        for hand in hands {
            if !(seen & *hand).is_empty() {
                return Err("two recorded hands share a card".into());
            }
            seen = seen | *hand;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use blobnet::BlobNetConfig;
    use game::{Round, MAX_PLAYERS};
    use rand::SeedableRng;

    fn identity(run: &str) -> RunIdentity {
        RunIdentity { run: run.into(), architecture: Architecture::current(&BlobNetConfig { d_model: 32, blocks: 1, ffn: 64, tricks_head: true }) }
    }

    /// A chunk of `count` examples from real deals, one per seat in turn.
    fn chunk(count: usize) -> Chunk {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let examples = (0..count)
            .map(|i| {
                let round = Round::deal(4, 1 + i % 8, i % 4, None, &mut rng).unwrap();
                let mut policy = vec![0.0; ACTIONS];
                policy[i % ACTIONS] = 1.0;
                let info = round.info_set(i % 4);
                // The next seat took every trick.
                let mut tricks = [0; MAX_PLAYERS];
                tricks[1] = round.cards() as u8;
                Example { info, game: None, hands: Some(mcts::hands_of(&round)), policy, values: [0.5; MAX_PLAYERS], tricks: Some(tricks) }
            })
            .collect::<Vec<_>>();
        let header = ChunkHeader { identity: identity("run-a"), network_version: 3, actor: "host-1".into(), sequence: 7, examples: count, rounds: 1, games: 0, mean_round_score: Some(0.5) };
        Chunk { header, examples }
    }

    #[test]
    fn a_chunk_comes_back_as_it_was_sent() {
        let sent = chunk(12);
        let bytes = sent.encode().unwrap();
        assert_eq!(Chunk::decode(bytes, "m", &identity("run-a")).unwrap(), sent);
        assert_eq!(sent.message_id(), "run-a.host-1.7");
    }

    /// Every truncation and every flipped byte of a real chunk is refused with an error, never a
    /// panic and never a chunk.
    #[test]
    fn truncated_or_damaged_bytes_are_refused() {
        let bytes = chunk(3).encode().unwrap();
        for length in 0..bytes.len() {
            let error = Chunk::decode(bytes[..length].to_vec(), "cut", &identity("run-a")).unwrap_err();
            assert!(matches!(error, ChunkError::Frame(FrameError::Truncated { .. })), "{length}: {error}");
        }
        for at in (0..bytes.len()).step_by(7) {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x5a;
            assert!(Chunk::decode(damaged, "flip", &identity("run-a")).is_err(), "byte {at} flipped was accepted");
        }
        let garbage: Vec<u8> = (0..400u32).map(|i| (i * 37 % 251) as u8).collect();
        let error = Chunk::decode(garbage, "garbage", &identity("run-a")).unwrap_err();
        assert!(error.to_string().contains("garbage") && error.to_string().contains("not a self-play chunk"), "{error}");
    }

    #[test]
    fn a_chunk_of_another_run_or_architecture_is_refused() {
        let bytes = chunk(2).encode().unwrap();
        let error = Chunk::decode(bytes.clone(), "m", &identity("run-b")).unwrap_err();
        assert!(matches!(error, ChunkError::OtherRun { .. }), "{error}");
        let mut other = identity("run-a");
        other.architecture.config.d_model *= 2;
        let error = Chunk::decode(bytes, "m", &other).unwrap_err();
        assert!(matches!(error, ChunkError::OtherArchitecture { .. }) && error.to_string().contains("d_model"), "{error}");
    }

    /// Whole frames (checksum right) whose contents are wrong: the sender's bug, not the wire's.
    #[test]
    fn well_framed_chunks_with_bad_contents_are_refused() {
        let reencode = |chunk: &Chunk| chunk.encode().unwrap();
        let decode = |bytes: Vec<u8>| Chunk::decode(bytes, "m", &identity("run-a")).unwrap_err().to_string();

        let mut miscounted = chunk(3);
        miscounted.header.examples = 4;
        assert!(decode(reencode(&miscounted)).contains("says 4 examples"));

        let mut short_policy = chunk(3);
        short_policy.examples[1].policy.pop();
        assert!(decode(reencode(&short_policy)).contains("example 1: policy of 51"));

        let mut not_a_number = chunk(3);
        not_a_number.examples[2].values[0] = f32::NAN;
        assert!(decode(reencode(&not_a_number)).contains("example 2: value NaN"));

        let mut negative = chunk(3);
        negative.examples[0].policy[0] = -0.5;
        assert!(decode(reencode(&negative)).contains("outside [0, 1]"));

        let mut overtaken = chunk(3);
        overtaken.examples[1].tricks.as_mut().unwrap()[0] += 1;
        assert!(decode(reencode(&overtaken)).contains("example 1: tricks taken"));

        let mut shared = chunk(3);
        let observer = shared.examples[0].info.observer();
        let hands = shared.examples[0].hands.as_mut().unwrap();
        let stolen = hands[observer];
        hands[(observer + 1) % 4] = hands[(observer + 1) % 4] | stolen;
        assert!(decode(reencode(&shared)).contains("share a card"));

        let bytes = files::encode_framed(KIND.magic, FORMAT, b"{not json", b"").unwrap();
        assert!(decode(bytes).contains("unreadable header"));
        let header = serde_json::to_vec(&chunk(1).header).unwrap();
        let bytes = files::encode_framed(KIND.magic, FORMAT, &header, b"\x01\x02").unwrap();
        assert!(decode(bytes).contains("unreadable examples"));
    }
}
