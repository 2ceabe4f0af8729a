//! Checkpoints: network weights, and any Burn `Record` (optimizer state), in full precision.
//!
//! Payloads are Burn records serialised by `NamedMpkBytesRecorder<FullPrecisionSettings>`
//! (named MessagePack, f32): a host-side format with no backend or device in it, so a file saved
//! from the CPU backend loads on CUDA and back. The records keep Burn's `ParamId`s, which is what
//! lets an optimizer record saved beside a network resume against the reloaded network.
//!
//! Files are framed by [`crate::files::write_framed`]: `BLOBCKPT` magic, format version, a JSON
//! header, the payload; the checksum is CRC-32 (format 2) or FNV-1a 64 (format 1, still read). The header records what the file
//! holds and the architecture of the network it belongs to (an optimizer record too, from
//! format 2), so loading a checkpoint into another architecture is a clear error (Burn itself
//! would panic or silently load mismatched shapes). Files are written atomically, so a crash
//! never leaves a half-written checkpoint.

use std::fmt;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder};
use burn::tensor::backend::Backend;
use burn::tensor::{Shape, Tensor};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::encode::{ENCODING_VERSION, FEATURES};
use crate::files::{self, Checksum, FrameError, FrameKind, WriteError};
use crate::net::{BlobNet, BlobNetConfig};

type PayloadRecorder = NamedMpkBytesRecorder<FullPrecisionSettings>;

/// Format 2: CRC-32 checksums, optimizer records tagged with their network's architecture.
const FORMAT_VERSION: u32 = 2;
/// Format 1: FNV-1a checksums, untagged records (networks still load; records are refused).
const FORMAT_V1: u32 = 1;
const KIND: FrameKind = FrameKind {
    magic: b"BLOBCKPT",
    name: "BlobNet checkpoint",
    versions: &[(FORMAT_V1, Checksum::LegacyFnv1a), (FORMAT_VERSION, Checksum::Crc32)],
};

/// What a network checkpoint was trained for: layer sizes and the input encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    pub config: BlobNetConfig,
    pub features: usize,
    pub encoding_version: u32,
}

impl Architecture {
    /// The architecture of `config` under this build's encoder.
    pub fn current(config: &BlobNetConfig) -> Architecture {
        Architecture { config: config.clone(), features: FEATURES, encoding_version: ENCODING_VERSION }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        write!(
            f,
            "d_model {}, {} blocks, ffn {}, {}, {} input features (encoding v{})",
            c.d_model,
            c.blocks,
            c.ffn,
            if c.tricks_head { "a tricks head" } else { "no tricks head" },
            self.features,
            self.encoding_version
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Contents {
    Network(Architecture),
    /// Format 1's record, which did not say which network it belongs to.
    Record,
    /// A training-state record (optimizer moments) of a network of this architecture.
    RecordOf(Architecture),
}

impl Contents {
    fn describe(&self) -> &'static str {
        match self {
            Contents::Network(_) => "network weights",
            Contents::Record => "a training-state record of an unrecorded architecture (format 1)",
            Contents::RecordOf(_) => "a training-state record",
        }
    }
}

#[derive(Debug, Error)]
pub enum CheckpointError {
    /// Missing, unreadable, not a checkpoint, of another format version, cut short or damaged.
    #[error(transparent)]
    File(#[from] FrameError),
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A file whose frame is sound but whose contents are not (only a hand-made file).
    #[error("{}: corrupt checkpoint: {reason}", .path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("{}: holds {found}, expected {expected}", .path.display())]
    WrongContents { path: PathBuf, expected: &'static str, found: &'static str },
    #[error("{}: architecture mismatch: the file has {found}, the network has {expected}", .path.display())]
    Architecture { path: PathBuf, expected: Box<Architecture>, found: Box<Architecture> },
    #[error("{}: cannot encode checkpoint: {message}", .path.display())]
    Encode { path: PathBuf, message: String },
}

/// Save the network's weights (full precision) to `path`, atomically.
pub fn save_net<B: Backend>(net: &BlobNet<B>, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    let contents = Contents::Network(Architecture::current(net.config()));
    let payload = encode_record::<B, _>(net.clone().into_record(), path)?;
    write_checkpoint(path, &contents, &payload)
}

/// Load network weights saved by [`save_net`] into a network of `config` on `device`.
/// A file of another architecture, or a truncated or damaged one, is an error naming the file.
pub fn load_net<B: Backend>(
    config: &BlobNetConfig,
    path: impl AsRef<Path>,
    device: &B::Device,
) -> Result<BlobNet<B>, CheckpointError> {
    let path = path.as_ref();
    let (contents, payload) = read_checkpoint(path)?;
    let expected = Architecture::current(config);
    match contents {
        Contents::Network(found) if found == expected => {}
        Contents::Network(found) => {
            return Err(CheckpointError::Architecture {
                path: path.into(),
                expected: Box::new(expected),
                found: Box::new(found),
            })
        }
        other => return Err(wrong_contents(path, "network weights", &other)),
    }
    let record: <BlobNet<B> as Module<B>>::Record = decode_record(payload, path, device)?;

    // The header and checksum already vouch for the payload; these checks stop a hand-edited
    // file from reaching Burn's `load_record`, which panics on a block-count mismatch and
    // accepts wrong tensor shapes silently.
    if record.blocks.len() != config.blocks {
        return Err(corrupt(
            path,
            format!("{} blocks in the weights, {} in the header", record.blocks.len(), config.blocks),
        ));
    }
    let fresh = config.init::<B>(device);
    let expected_shapes = param_shapes(&fresh);
    let net = fresh.load_record(record);
    let found_shapes = param_shapes(&net);
    if found_shapes != expected_shapes {
        return Err(corrupt(path, "weight shapes do not match the header's architecture".into()));
    }
    Ok(net)
}

/// The architecture recorded in a network checkpoint (to build a matching network before
/// [`load_net`]).
pub fn read_net_architecture(path: impl AsRef<Path>) -> Result<Architecture, CheckpointError> {
    let path = path.as_ref();
    match read_checkpoint(path)?.0 {
        Contents::Network(architecture) => Ok(architecture),
        other => Err(wrong_contents(path, "network weights", &other)),
    }
}

/// Save any Burn record of a network of `config` (e.g. `optimizer.to_record()`) to `path`,
/// atomically, full precision.
pub fn save_record<B: Backend, R: Record<B>>(
    record: R,
    config: &BlobNetConfig,
    path: impl AsRef<Path>,
) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    let payload = encode_record::<B, R>(record, path)?;
    write_checkpoint(path, &Contents::RecordOf(Architecture::current(config)), &payload)
}

/// Load a record saved by [`save_record`] for a network of `config` onto `device`. A record of
/// another architecture is an error naming both; one of another type fails to decode and is
/// reported as corrupt.
pub fn load_record<B: Backend, R: Record<B>>(
    path: impl AsRef<Path>,
    config: &BlobNetConfig,
    device: &B::Device,
) -> Result<R, CheckpointError> {
    let path = path.as_ref();
    let expected = Architecture::current(config);
    match read_checkpoint(path)? {
        (Contents::RecordOf(found), payload) if found == expected => decode_record(payload, path, device),
        (Contents::RecordOf(found), _) => {
            Err(CheckpointError::Architecture { path: path.into(), expected: Box::new(expected), found: Box::new(found) })
        }
        (other, _) => Err(wrong_contents(path, "a training-state record", &other)),
    }
}

fn encode_record<B: Backend, R: Record<B>>(record: R, path: &Path) -> Result<Vec<u8>, CheckpointError> {
    Recorder::<B>::record(&PayloadRecorder::default(), record, ())
        .map_err(|e| CheckpointError::Encode { path: path.into(), message: e.to_string() })
}

fn decode_record<B: Backend, R: Record<B>>(
    payload: Vec<u8>,
    path: &Path,
    device: &B::Device,
) -> Result<R, CheckpointError> {
    Recorder::<B>::load(&PayloadRecorder::default(), payload, device)
        .map_err(|e| corrupt(path, format!("cannot decode the weights: {e}")))
}

fn corrupt(path: &Path, reason: String) -> CheckpointError {
    CheckpointError::Corrupt { path: path.into(), reason }
}

fn wrong_contents(path: &Path, expected: &'static str, found: &Contents) -> CheckpointError {
    CheckpointError::WrongContents { path: path.into(), expected, found: found.describe() }
}

fn write_checkpoint(path: &Path, contents: &Contents, payload: &[u8]) -> Result<(), CheckpointError> {
    let header = serde_json::to_vec(contents)
        .map_err(|e| CheckpointError::Encode { path: path.into(), message: e.to_string() })?;
    Ok(files::write_framed(path, KIND.magic, FORMAT_VERSION, &header, payload)?)
}

fn read_checkpoint(path: &Path) -> Result<(Contents, Vec<u8>), CheckpointError> {
    let frame = files::read_framed(path, &KIND)?;
    let contents = serde_json::from_slice(&frame.header).map_err(|e| corrupt(path, format!("bad header: {e}")))?;
    Ok((contents, frame.payload))
}

fn param_shapes<B: Backend>(net: &BlobNet<B>) -> Vec<Shape> {
    struct Shapes(Vec<Shape>);
    impl<B: Backend> ModuleVisitor<B> for Shapes {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0.push(param.lazy_shape());
        }
    }
    let mut shapes = Shapes(Vec::new());
    net.visit(&mut shapes);
    shapes.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::{CpuBackend, CpuDevice};

    /// A file whose header claims one architecture while its weights are of another (only a
    /// hand-made file can be like this) gives an error, not a Burn panic.
    #[test]
    fn weights_that_contradict_the_header_are_an_error() {
        let device = CpuDevice::default();
        let tiny = BlobNetConfig::tiny();
        let wider = BlobNetConfig { d_model: 32, ..tiny.clone() };
        let deeper = BlobNetConfig { blocks: 3, ..tiny.clone() };
        let scratch = tempfile::tempdir().unwrap();
        let payload =
            encode_record::<CpuBackend, _>(tiny.init::<CpuBackend>(&device).into_record(), Path::new("x")).unwrap();
        for (name, lie) in [("wider.ckpt", wider), ("deeper.ckpt", deeper)] {
            let path = scratch.path().join(name);
            write_checkpoint(&path, &Contents::Network(Architecture::current(&lie)), &payload).unwrap();
            let err = load_net::<CpuBackend>(&lie, &path, &device).unwrap_err();
            assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err}");
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
