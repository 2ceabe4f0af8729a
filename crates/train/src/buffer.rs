//! The replay buffer: a ring of training examples, saved with a header and checksum so that
//! a truncated or corrupt file is refused with a clear error.

use std::io::Write;
use std::path::Path;

use rand::Rng;
use thiserror::Error;

use crate::files::write_atomically;
use crate::table::Example;

const MAGIC: &[u8; 8] = b"BLOBBUF1";

#[derive(Debug, Error)]
pub enum BufferError {
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

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let payload = bincode::serialize(self).map_err(std::io::Error::other)?;
        write_atomically(path, |file| {
            file.write_all(MAGIC)?;
            file.write_all(&(payload.len() as u64).to_le_bytes())?;
            file.write_all(&checksum(&payload).to_le_bytes())?;
            file.write_all(&payload)
        })
    }

    pub fn load(path: &Path) -> Result<ReplayBuffer, BufferError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| BufferError::Io { path: name.clone(), source })?;
        let corrupt = |reason: String| BufferError::Corrupt { path: name.clone(), reason };
        if bytes.len() < 24 || &bytes[..8] != MAGIC {
            return Err(corrupt("not a replay buffer file (bad header)".into()));
        }
        let length = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize;
        let sum = u64::from_le_bytes(bytes[16..24].try_into().unwrap());
        let payload = &bytes[24..];
        if payload.len() != length {
            return Err(corrupt(format!("truncated: {} of {length} payload bytes", payload.len())));
        }
        if checksum(payload) != sum {
            return Err(corrupt("checksum mismatch".into()));
        }
        bincode::deserialize(payload).map_err(|e| corrupt(e.to_string()))
    }
}

/// FNV-1a: enough to catch truncation and bit rot, not an adversary.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}
