//! Checkpoints move between the CPU and CUDA backends. Needs a GPU, so it is ignored by default:
//! `cargo test -p blobnet --features cuda --test cuda -- --ignored` on a machine with one.
#![cfg(feature = "cuda")]

use blobnet::{cuda_device, load_net, save_net, BlobNet, BlobNetConfig, CpuBackend, CpuDevice, CudaBackend, FEATURES};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

fn outputs<B: Backend>(net: &BlobNet<B>, device: &B::Device) -> Vec<f32> {
    let data: Vec<f32> = (0..6 * FEATURES).map(|i| (i as f32 * 0.37).sin().abs()).collect();
    let (logits, values) = net.forward(Tensor::from_data(TensorData::new(data, [6, FEATURES]), device));
    logits.into_data().iter::<f32>().chain(values.into_data().iter::<f32>()).collect()
}

fn assert_close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-3 * (1.0 + x.abs()), "{x} vs {y}");
    }
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn checkpoints_cross_between_cpu_and_cuda() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let config = BlobNetConfig::tiny();
    let cpu = CpuDevice::default();
    let gpu = cuda_device(0).expect("a usable CUDA device");

    let on_cpu = config.init::<CpuBackend>(&cpu);
    save_net(&on_cpu, dir.join("from_cpu.bin")).unwrap();
    let loaded = load_net::<CudaBackend>(&config, dir.join("from_cpu.bin"), &gpu).unwrap();
    assert_close(&outputs(&on_cpu, &cpu), &outputs(&loaded, &gpu));

    let on_gpu = config.init::<CudaBackend>(&gpu);
    save_net(&on_gpu, dir.join("from_cuda.bin")).unwrap();
    let loaded = load_net::<CpuBackend>(&config, dir.join("from_cuda.bin"), &cpu).unwrap();
    assert_close(&outputs(&on_gpu, &gpu), &outputs(&loaded, &cpu));
}
