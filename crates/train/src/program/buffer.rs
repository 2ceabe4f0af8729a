//! The replay buffer: a ring of training examples, saved with a header and checksum so that
//! a truncated or corrupt file is refused with a clear error.

use std::path::Path;

use game::{CardSet, GameContext, InfoSet, MAX_PLAYERS};
use rand::Rng;
use thiserror::Error;

use blobnet::files::{self, Checksum, FrameError, FrameKind, WriteError};
use crate::deals::Example;

/// The framed file (`blobnet::files::write_framed`) of format 5: examples carry every seat's
/// hand (the deal the value is learnt on) and the tricks each seat took; the header says how
/// many. Format 4, the same without the tricks, is still read (its examples without them).
const FORMAT: u32 = 5;
const FORMAT_V4: u32 = 4;
const KIND: FrameKind = FrameKind {
    magic: b"BLOBREPL",
    name: "replay buffer",
    versions: &[(FORMAT_V4, Checksum::Crc32), (FORMAT, Checksum::Crc32)],
};
/// Formats 1 to 3 had a layout of their own (magic, payload length, FNV-1a, payload): format
/// 3 the payload of format 4, 2 examples with their game context and no hands, 1 neither.
/// They are still read, the first two as examples without hands.
const MAGIC_V3: &[u8; 8] = b"BLOBBUF3";
const MAGIC_V2: &[u8; 8] = b"BLOBBUF2";
const MAGIC_V1: &[u8; 8] = b"BLOBBUF1";

#[derive(Debug, Error)]
pub enum BufferError {
    /// A framed file (format 4 or 5) that is missing, unreadable or damaged.
    #[error(transparent)]
    File(#[from] FrameError),
    #[error("cannot read replay buffer {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("replay buffer {path} is corrupt: {reason}")]
    Corrupt { path: String, reason: String },
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReplayBuffer {
    capacity: usize,
    /// Where the next example goes once the ring is full.
    next: usize,
    examples: Vec<Example>,
}

impl ReplayBuffer {
    pub fn new(capacity: usize) -> ReplayBuffer {
        ReplayBuffer { capacity, next: 0, examples: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.examples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    pub fn examples(&self) -> &[Example] {
        &self.examples
    }

    pub fn push(&mut self, example: Example) {
        if self.examples.len() < self.capacity {
            self.examples.push(example);
        } else {
            self.examples[self.next] = example;
            self.next = (self.next + 1) % self.capacity;
        }
    }

    /// `count` examples drawn uniformly with replacement.
    pub fn sample<'a, R: Rng>(&'a self, count: usize, rng: &mut R) -> Vec<&'a Example> {
        (0..count).map(|_| &self.examples[rng.gen_range(0..self.examples.len())]).collect()
    }

    pub fn save(&self, path: &Path) -> Result<(), WriteError> {
        let payload = bincode::serialize(self).map_err(|e| WriteError { path: path.into(), source: std::io::Error::other(e) })?;
        let header = format!("{{\"examples\":{},\"capacity\":{}}}", self.examples.len(), self.capacity);
        files::write_framed(path, KIND.magic, FORMAT, header.as_bytes(), &payload)
    }

    pub fn load(path: &Path) -> Result<ReplayBuffer, BufferError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| BufferError::Io { path: name.clone(), source })?;
        if bytes.len() >= 8 && [MAGIC_V3, MAGIC_V2, MAGIC_V1].iter().any(|magic| bytes[..8] == magic[..]) {
            return ReplayBuffer::load_legacy(&bytes, &name);
        }
        let frame = files::decode_framed(bytes, path, &KIND)?;
        let corrupt = |e: bincode::Error| BufferError::Corrupt { path: name.clone(), reason: e.to_string() };
        if frame.version == FORMAT_V4 {
            return read_older::<ExampleV4>(&frame.payload).map_err(corrupt);
        }
        bincode::deserialize(&frame.payload).map_err(corrupt)
    }

    /// Read a file of formats 1 to 3.
    fn load_legacy(bytes: &[u8], name: &str) -> Result<ReplayBuffer, BufferError> {
        let corrupt = |reason: String| BufferError::Corrupt { path: name.to_string(), reason };
        if bytes.len() < 24 {
            return Err(corrupt("not a replay buffer file (bad header)".into()));
        }
        let length = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize;
        let sum = u64::from_le_bytes(bytes[16..24].try_into().unwrap());
        let payload = &bytes[24..];
        if payload.len() != length {
            return Err(corrupt(format!("truncated: {} of {length} payload bytes", payload.len())));
        }
        if files::legacy_fnv1a(&[payload]) != sum {
            return Err(corrupt("checksum mismatch".into()));
        }
        if &bytes[..8] == MAGIC_V1 {
            return read_older::<ExampleV1>(payload).map_err(|e| corrupt(e.to_string()));
        }
        if &bytes[..8] == MAGIC_V2 {
            return read_older::<ExampleV2>(payload).map_err(|e| corrupt(e.to_string()));
        }
        read_older::<ExampleV4>(payload).map_err(|e| corrupt(e.to_string()))
    }
}

/// The payload of an older file, whose examples are `E`.
#[derive(serde::Deserialize)]
struct ReplayBufferOf<E> {
    capacity: usize,
    next: usize,
    examples: Vec<E>,
}

/// The buffer of an older payload whose examples are `E`, each converted to today's example.
fn read_older<E: serde::de::DeserializeOwned + Into<Example>>(payload: &[u8]) -> Result<ReplayBuffer, bincode::Error> {
    let old: ReplayBufferOf<E> = bincode::deserialize(payload)?;
    Ok(ReplayBuffer { capacity: old.capacity, next: old.next, examples: old.examples.into_iter().map(Into::into).collect() })
}

/// An example of formats 3 and 4: without the tricks.
#[derive(serde::Deserialize)]
struct ExampleV4 {
    info: InfoSet,
    game: Option<GameContext>,
    hands: Option<[CardSet; MAX_PLAYERS]>,
    policy: Vec<f32>,
    values: [f32; MAX_PLAYERS],
}

impl From<ExampleV4> for Example {
    fn from(e: ExampleV4) -> Example {
        Example { info: e.info, game: e.game, hands: e.hands, policy: e.policy, values: e.values, tricks: None }
    }
}

impl From<ExampleV2> for Example {
    fn from(e: ExampleV2) -> Example {
        Example { info: e.info, game: e.game, hands: None, policy: e.policy, values: e.values, tricks: None }
    }
}

impl From<ExampleV1> for Example {
    fn from(e: ExampleV1) -> Example {
        Example { info: e.info, game: None, hands: None, policy: e.policy, values: e.values, tricks: None }
    }
}

#[derive(serde::Deserialize)]
struct ExampleV2 {
    info: InfoSet,
    game: Option<GameContext>,
    policy: Vec<f32>,
    values: [f32; MAX_PLAYERS],
}

#[derive(serde::Deserialize)]
struct ExampleV1 {
    info: InfoSet,
    policy: Vec<f32>,
    values: [f32; MAX_PLAYERS],
}

#[cfg(test)]
mod tests {
    use super::*;
    use game::{GameContext, Round};
    use rand::SeedableRng;

    #[test]
    fn saves_and_loads_game_contexts_hands_and_tricks_and_reads_versions_1_to_4() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let round = Round::deal(4, 3, 1, None, &mut rng).unwrap();
        let info = round.info_set(2);
        let (policy, values) = (vec![0.5; 52], [0.25; MAX_PLAYERS]);
        let game = GameContext { round_index: 3, rounds: 8, totals: [12, 0, 11, 23, 0, 0, 0, 0] };
        let mut buffer = ReplayBuffer::new(4);
        let hands = Some(mcts::hands_of(&round));
        let tricks = Some([1, 0, 2, 0, 0, 0, 0, 0]);
        buffer.push(Example { info, game: Some(game), hands, policy: policy.clone(), values, tricks });
        let path = dir.path().join("buffer.bin");
        buffer.save(&path).unwrap();
        assert_eq!(&std::fs::read(&path).unwrap()[..8], KIND.magic);
        assert_eq!(ReplayBuffer::load(&path).unwrap(), buffer);

        // A version 4 file: the same frame, examples without the tricks.
        let untricked = (4usize, 0usize, vec![(info, Some(game), hands, policy.clone(), values)]);
        files::write_framed(&path, KIND.magic, FORMAT_V4, b"{}", &bincode::serialize(&untricked).unwrap()).unwrap();
        let mut buffer = ReplayBuffer::new(4);
        buffer.push(Example { info, game: Some(game), hands, policy: policy.clone(), values, tricks: None });
        assert_eq!(ReplayBuffer::load(&path).unwrap(), buffer);

        let write_old = |magic: &[u8; 8], payload: Vec<u8>| {
            let mut bytes = magic.to_vec();
            bytes.extend((payload.len() as u64).to_le_bytes());
            bytes.extend(files::legacy_fnv1a(&[&payload]).to_le_bytes());
            bytes.extend(&payload);
            std::fs::write(&path, bytes).unwrap();
        };
        // A version 3 file: the payload of version 4 in the old frame.
        write_old(MAGIC_V3, bincode::serialize(&untricked).unwrap());
        assert_eq!(ReplayBuffer::load(&path).unwrap(), buffer);
        // A version 2 file: the same fields in order, without the hands.
        write_old(MAGIC_V2, bincode::serialize(&(4usize, 0usize, vec![(info, Some(game), policy.clone(), values)])).unwrap());
        let mut expected = ReplayBuffer::new(4);
        expected.push(Example { info, game: Some(game), hands: None, policy: policy.clone(), values, tricks: None });
        assert_eq!(ReplayBuffer::load(&path).unwrap(), expected);
        // A version 1 file: without the context either.
        write_old(MAGIC_V1, bincode::serialize(&(4usize, 0usize, vec![(info, policy.clone(), values)])).unwrap());
        let mut expected = ReplayBuffer::new(4);
        expected.push(Example { info, game: None, hands: None, policy, values, tricks: None });
        assert_eq!(ReplayBuffer::load(&path).unwrap(), expected);
    }

    /// A failed write (here: the directory is a file; the same path as a full disk) names the
    /// file it was writing.
    #[test]
    fn a_failed_save_names_the_buffer_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("checkpoint"), b"a file").unwrap();
        let error = ReplayBuffer::new(4).save(&dir.path().join("checkpoint/buffer.bin")).unwrap_err().to_string();
        assert!(error.starts_with("writing ") && error.contains("checkpoint/buffer.bin"), "{error}");
    }
}
