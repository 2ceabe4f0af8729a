//! Run-time device choice (`cpu`, `cuda`, `cuda:N`) over compile-time backends.

use std::fmt;
use std::str::FromStr;

use burn::tensor::backend::Backend;
use thiserror::Error;

/// The CPU backend: Burn's pure-Rust Flex (SIMD GEMM, rayon threads).
pub type CpuBackend = burn::backend::Flex;
pub type CpuDevice = burn::backend::flex::FlexDevice;

/// The CUDA backend (only in builds with `--features cuda`).
#[cfg(feature = "cuda")]
pub type CudaBackend = burn::backend::Cuda;
#[cfg(feature = "cuda")]
pub type CudaDevice = burn::backend::cuda::CudaDevice;

/// Where to run the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceSpec {
    Cpu,
    /// A CUDA GPU by index.
    Cuda(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown device {0:?}: expected cpu, cuda or cuda:N (N = GPU index, e.g. cuda:1)")]
pub struct ParseDeviceError(pub String);

impl FromStr for DeviceSpec {
    type Err = ParseDeviceError;

    fn from_str(text: &str) -> Result<DeviceSpec, ParseDeviceError> {
        let err = || ParseDeviceError(text.to_string());
        match text.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            other => {
                let index = other.strip_prefix("cuda:").ok_or_else(err)?;
                // Digits only: usize's parser would also take "+1".
                if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err());
                }
                index.parse().map(DeviceSpec::Cuda).map_err(|_| err())
            }
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => write!(f, "cpu"),
            DeviceSpec::Cuda(index) => write!(f, "cuda:{index}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeviceError {
    #[error("device {spec} requested, but this build has no CUDA support: rebuild with --features cuda (or use --device cpu)")]
    NoCudaSupport { spec: DeviceSpec },
    #[error("device cuda:{index} is not usable: {reason}. Check the GPU and driver with nvidia-smi, pick another index, or use --device cpu")]
    CudaUnavailable { index: usize, reason: String },
}

/// Work to run on whichever backend a [`DeviceSpec`] selects. Generic code is written once
/// against `B: Backend` (wrap it in `burn::backend::Autodiff<B>` to train).
pub trait BackendTask {
    type Output;
    fn run<B: Backend>(self, device: B::Device) -> Self::Output;
}

impl DeviceSpec {
    /// Run `task` on this device's backend, or explain why the device cannot be used.
    pub fn run<T: BackendTask>(self, task: T) -> Result<T::Output, DeviceError> {
        match self {
            DeviceSpec::Cpu => Ok(task.run::<CpuBackend>(CpuDevice::default())),
            DeviceSpec::Cuda(index) => run_cuda(index, task),
        }
    }
}

#[cfg(feature = "cuda")]
fn run_cuda<T: BackendTask>(index: usize, task: T) -> Result<T::Output, DeviceError> {
    let device = cuda_device(index)?;
    Ok(task.run::<CudaBackend>(device))
}

#[cfg(not(feature = "cuda"))]
fn run_cuda<T: BackendTask>(index: usize, _task: T) -> Result<T::Output, DeviceError> {
    Err(DeviceError::NoCudaSupport { spec: DeviceSpec::Cuda(index) })
}

/// A CUDA device that has been checked to work.
///
/// Burn initialises the CUDA runtime lazily, on the first operation, and panics when the driver
/// or the GPU is missing. One tiny round trip is run here, under `catch_unwind`, so that failure
/// becomes an error at startup instead of a panic mid-run. (The panic message still reaches
/// stderr through the panic hook.)
#[cfg(feature = "cuda")]
pub fn cuda_device(index: usize) -> Result<CudaDevice, DeviceError> {
    use burn::tensor::Tensor;

    let device = CudaDevice::new(index);
    let probe = std::panic::catch_unwind(|| {
        Tensor::<CudaBackend, 1>::from_floats([1.0f32], &device).into_data().iter::<f32>().next()
    });
    match probe {
        Ok(Some(1.0)) => Ok(device),
        Ok(_) => Err(DeviceError::CudaUnavailable {
            index,
            reason: "a test copy to and from the GPU came back wrong".into(),
        }),
        Err(panic) => {
            // The root cause (e.g. libcuda.so not found) is usually raised on Burn's device
            // thread and printed above; what reaches this thread is only a channel error.
            let detail = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let reason = format!(
                "the CUDA runtime failed to start ({detail}); the driver's own message, if any, is printed above \
                 (typically: no NVIDIA driver / libcuda.so, or no GPU with this index)"
            );
            Err(DeviceError::CudaUnavailable { index, reason })
        }
    }
}
