//! Device strings and what happens when CUDA is asked for.

use blobnet::{BackendTask, BlobNetConfig, DeviceError, DeviceSpec, FEATURES};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

#[test]
fn device_strings_parse() {
    assert_eq!("cpu".parse(), Ok(DeviceSpec::Cpu));
    assert_eq!("cuda".parse(), Ok(DeviceSpec::Cuda(0)));
    assert_eq!("cuda:0".parse(), Ok(DeviceSpec::Cuda(0)));
    assert_eq!("cuda:3".parse(), Ok(DeviceSpec::Cuda(3)));
    assert_eq!(" CUDA:1 ".parse(), Ok(DeviceSpec::Cuda(1)));
    for spec in [DeviceSpec::Cpu, DeviceSpec::Cuda(2)] {
        assert_eq!(spec.to_string().parse(), Ok(spec));
    }
}

#[test]
fn bad_device_strings_say_what_is_expected() {
    for bad in ["", "gpu", "cuda:", "cuda:x", "cuda:-1", "cuda:+1", "cpu:0", "cuda0", "cuda:99999999999999999999999"] {
        let err = bad.parse::<DeviceSpec>().unwrap_err().to_string();
        assert!(err.contains("expected cpu, cuda or cuda:N"), "{bad:?}: {err}");
        assert!(err.contains(&format!("{bad:?}")), "{bad:?}: {err}");
    }
}

/// Runs a tiny network forward on whichever backend the device selects.
struct Forward;

impl BackendTask for Forward {
    type Output = [usize; 2];
    fn run<B: Backend>(self, device: B::Device) -> [usize; 2] {
        let net = BlobNetConfig::tiny().init::<B>(&device);
        net.forward(Tensor::zeros([3, FEATURES], &device)).0.dims()
    }
}

#[test]
fn cpu_runs_a_task() {
    assert_eq!(DeviceSpec::Cpu.run(Forward), Ok([3, 52]));
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_without_the_feature_says_to_rebuild() {
    let err = DeviceSpec::Cuda(0).run(Forward).unwrap_err();
    assert_eq!(err, DeviceError::NoCudaSupport { spec: DeviceSpec::Cuda(0) });
    assert!(err.to_string().contains("rebuild with --features cuda"), "{err}");
}

/// With the feature: a missing GPU (or driver) is an error, not a panic; a GPU that exists runs
/// the task (the machine has one when the NVIDIA driver made /dev/nvidia0). An index no
/// machine has is always an error.
#[cfg(feature = "cuda")]
#[test]
fn cuda_is_an_error_when_the_gpu_is_missing() {
    let result = DeviceSpec::Cuda(0).run(Forward);
    if std::path::Path::new("/dev/nvidia0").exists() {
        assert_eq!(result, Ok([3, 52]), "this machine has a GPU");
    } else {
        let err = result.unwrap_err();
        assert!(matches!(err, DeviceError::CudaUnavailable { index: 0, .. }), "{err}");
        assert!(err.to_string().contains("use --device cpu"), "{err}");
    }
    let err = DeviceSpec::Cuda(999).run(Forward).unwrap_err();
    assert!(matches!(err, DeviceError::CudaUnavailable { index: 999, .. }), "{err}");
}
