//! BlobNet: the state encoder, the network (policy logits over 52 actions plus one value per
//! seat), its loss, checkpoints, and run-time device selection, all generic over the Burn backend.
//!
//! - [`encode`]: information set -> fixed-width `f32` row (layout in `docs/encoding.md`).
//! - [`net`]: [`BlobNetConfig`] (sizes and presets) and [`BlobNet`] (`forward`, `predict`).
//! - [`evaluator`]: the network as the search's evaluator (batch encoding, value heads).
//! - [`loss`]: masked policy cross-entropy + per-seat value MSE (+ optional L2).
//! - [`checkpoint`]: full-precision, backend-independent, atomically written files.
//! - [`device`]: `cpu` / `cuda` / `cuda:N` chosen at run time.
//! - [`files`]: the one way files are written (atomically, one temporary-name scheme).

pub mod checkpoint;
pub mod device;
pub mod encode;
pub mod evaluator;
pub mod files;
pub mod loss;
pub mod net;

pub use checkpoint::{
    load_net, load_record, read_net_architecture, save_net, save_record, Architecture, CheckpointError,
};
#[cfg(feature = "cuda")]
pub use device::{cuda_device, CudaBackend, CudaDevice};
pub use device::{BackendTask, CpuBackend, CpuDevice, DeviceError, DeviceSpec, ParseDeviceError};
pub use encode::{encode, mask_row, FEATURES};
pub use loss::{loss, LossParts};
pub use net::{masked_softmax, BlobNet, BlobNetConfig, ConfigError, VALUES};
