//! BlobNet: the state encoder, the network (policy logits over 52 actions plus one value per
//! seat), its loss, checkpoints, and run-time device selection, all generic over the Burn backend.
//!
//! Every item is at the root, except the row layout's offsets (under [`layout`]) and the
//! file-writing scheme shared by every file the project writes (under [`files`]):
//! - [`encode`]: information set -> fixed-width `f32` row (layout in `docs/encoding.md`);
//!   [`encode_batch`] a batch of search leaves.
//! - [`BlobNetConfig`] (sizes and presets) and [`BlobNet`] (`forward`, `predict_rows`).
//! - [`NetEvaluator`]: the network as the search's evaluator (batch encoding, value heads).
//! - [`loss`]: masked policy cross-entropy + per-seat value MSE (+ optional L2).
//! - [`save_net`] / [`load_net`] and records: full-precision, backend-independent checkpoints.
//! - [`DeviceSpec`]: `cpu` / `cuda` / `cuda:N` chosen at run time.

mod checkpoint;
mod device;
mod encode;
mod evaluator;
pub mod files;
mod host_net;
mod loss;
mod net;

pub use checkpoint::{
    load_net, load_record, read_net_architecture, save_net, save_record, Architecture, CheckpointError,
};
#[cfg(feature = "cuda")]
pub use device::{cuda_device, CudaBackend, CudaDevice};
pub use device::{BackendTask, CpuBackend, CpuDevice, DeviceError, DeviceSpec, ParseDeviceError};
pub use encode::{encode, layout, mask_row, ENCODING_VERSION, FEATURES};
pub use evaluator::{
    encode_batch, mean_scaled_score, round_value, tricks_value, EncodedBatch, NetEvaluator, NoNetworkEvaluator, ValueHead,
    PRIOR_ROUND_SCORE,
};
pub use loss::{loss, tricks_loss, LossParts};
pub use net::{
    masked_softmax, Block, BlobNet, BlobNetConfig, ConfigError, Outputs, TricksHead, MAX_BLOCKS, MAX_D_MODEL, MAX_FFN, ROW, TRICKS,
    TRICK_CLASSES, VALUES,
};
