//! BlobNet on a JIT (cubecl) backend without a GPU: Burn's `wgpu` backend, compiled from the same
//! cubecl kernels as the CUDA one, on Mesa's software Vulkan driver (lavapipe, Debian's
//! `mesa-vulkan-drivers`). It catches backend-generic mistakes (an op a JIT backend lacks,
//! device transfers, reading results back) before a GPU ever sees the code.
//!
//! Each test compares against Flex on the same weights and inputs. Without a Vulkan device the
//! tests say so and pass, unless `BLOB_REQUIRE_WGPU` is set (CI sets it, after installing
//! lavapipe), when they fail.

mod common;

use game::ACTIONS;
use blobnet::{load_net, loss, save_net, BlobNet, BlobNetConfig, CpuBackend, CpuDevice, FEATURES, VALUES};
use burn::backend::wgpu::{Wgpu, WgpuDevice};
use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use common::{batch, scalar, tensor, Batch};

/// Agreement asked of the two backends: probabilities and values within this much (absolute).
/// Both compute in f32; the kernels sum in different orders, which moves the 6th-7th digit.
const TOLERANCE: f32 = 1e-5;

/// The Vulkan CPU device, checked with a round trip, or `None` (with the reason printed) when
/// this machine has none and CI did not ask for one.
fn lavapipe() -> Option<WgpuDevice> {
    let device = WgpuDevice::Cpu;
    let probe = std::panic::catch_unwind(|| {
        Tensor::<Wgpu, 1>::from_floats([1.0f32, 2.0], &device).sum().into_data().iter::<f32>().next()
    });
    match probe {
        Ok(Some(sum)) if sum == 3.0 => Some(device),
        outcome => {
            let reason = match outcome {
                Ok(sum) => format!("a test sum on it came back {sum:?}"),
                Err(_) => "it failed to start (its message is above)".to_string(),
            };
            assert!(
                std::env::var_os("BLOB_REQUIRE_WGPU").is_none(),
                "BLOB_REQUIRE_WGPU is set but the wgpu CPU device is not usable: {reason}; \
                 install Mesa's lavapipe (apt-get install mesa-vulkan-drivers)"
            );
            eprintln!("skipped: no usable wgpu CPU device ({reason}); apt-get install mesa-vulkan-drivers to run it");
            None
        }
    }
}

/// Masked policies and values of `net` on `b`'s positions, on the host.
fn predictions<B: Backend>(net: &BlobNet<B>, b: &Batch, device: &B::Device) -> (Vec<f32>, Vec<f32>) {
    net.predict(tensor::<B>(b.features.clone(), FEATURES, device), tensor::<B>(b.legal.clone(), ACTIONS, device))
}

fn assert_close(what: &str, flex: &[f32], wgpu: &[f32]) {
    assert_eq!(flex.len(), wgpu.len(), "{what}: lengths");
    let worst = flex.iter().zip(wgpu).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= TOLERANCE, "{what}: Flex and wgpu differ by up to {worst} (tolerance {TOLERANCE})");
    eprintln!("{what}: largest difference {worst:e}");
}

/// A fresh small net made on Flex and saved: every test loads it on the backends it compares.
/// (The file lives as long as the returned directory.)
fn saved_net() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.bin");
    save_net(&BlobNetConfig::small().init::<CpuBackend>(&CpuDevice::default()), &path).unwrap();
    (dir, path)
}

fn load<B: Backend>(path: &std::path::Path, device: &B::Device) -> BlobNet<B> {
    load_net::<B>(&BlobNetConfig::small(), path, device).unwrap()
}

#[test]
fn forward_pass_matches_flex() {
    let Some(device) = lavapipe() else { return };
    let (_dir, path) = saved_net();
    let (flex, wgpu) = (load::<CpuBackend>(&path, &CpuDevice::default()), load::<Wgpu>(&path, &device));
    let b = batch(64, 11);
    let (flex_policy, flex_values) = predictions(&flex, &b, &CpuDevice::default());
    let (wgpu_policy, wgpu_values) = predictions(&wgpu, &b, &device);
    assert_close("policy", &flex_policy, &wgpu_policy);
    assert_close("values", &flex_values, &wgpu_values);
    // The mask held on the JIT backend too: no probability on an illegal action.
    for (p, legal) in wgpu_policy.iter().zip(&b.legal) {
        assert!(*legal == 1.0 || *p == 0.0, "probability {p} on an illegal action");
    }
}

/// The loss of `b` and the net after one AdamW step on it.
fn train_step<B: AutodiffBackend>(net: BlobNet<B>, b: &Batch, device: &B::Device) -> (f32, BlobNet<B::InnerBackend>) {
    let t = |v: &Vec<f32>, cols| tensor::<B>(v.clone(), cols, device);
    let (logits, values) = net.forward(t(&b.features, FEATURES));
    let parts = loss(logits, values, t(&b.policy, ACTIONS), t(&b.legal, ACTIONS), t(&b.values, VALUES), t(&b.value_mask, VALUES));
    let total = scalar(parts.total.clone());
    let grads = GradientsParams::from_grads(parts.total.backward(), &net);
    let mut optimizer = AdamWConfig::new().with_weight_decay(1e-4).init();
    (total, optimizer.step(1e-3, net, grads).valid())
}

#[test]
fn a_training_step_matches_flex() {
    let Some(device) = lavapipe() else { return };
    let (_dir, path) = saved_net();
    let cpu = CpuDevice::default();
    let b = batch(128, 12);
    let (flex_loss, flex) = train_step(load::<Autodiff<CpuBackend>>(&path, &cpu), &b, &cpu);
    let (wgpu_loss, wgpu) = train_step(load::<Autodiff<Wgpu>>(&path, &device), &b, &device);
    assert!((flex_loss - wgpu_loss).abs() <= TOLERANCE * (1.0 + flex_loss), "loss {flex_loss} vs {wgpu_loss}");
    // The updated nets still agree, so the gradients and the optimizer ran alike.
    let test = batch(32, 13);
    let (flex_policy, flex_values) = predictions(&flex, &test, &cpu);
    let (wgpu_policy, wgpu_values) = predictions(&wgpu, &test, &device);
    assert_close("policy after a step", &flex_policy, &wgpu_policy);
    assert_close("values after a step", &flex_values, &wgpu_values);
    // And the step did something: the outputs moved from the initial net's.
    let (before, _) = predictions(&load::<CpuBackend>(&path, &cpu), &test, &cpu);
    assert!(before.iter().zip(&flex_policy).any(|(a, b)| (a - b).abs() > 10.0 * TOLERANCE), "the step changed nothing");
}

#[test]
fn checkpoints_cross_between_flex_and_wgpu() {
    let Some(device) = lavapipe() else { return };
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    // Made on wgpu (its own initialisation), saved there, loaded on Flex.
    let wgpu = BlobNetConfig::small().init::<Wgpu>(&device);
    save_net(&wgpu, dir.join("from_wgpu.bin")).unwrap();
    let flex = load::<CpuBackend>(&dir.join("from_wgpu.bin"), &CpuDevice::default());
    let b = batch(32, 14);
    let (wgpu_policy, wgpu_values) = predictions(&wgpu, &b, &device);
    let (flex_policy, flex_values) = predictions(&flex, &b, &CpuDevice::default());
    assert_close("policy of a wgpu checkpoint", &flex_policy, &wgpu_policy);
    assert_close("values of a wgpu checkpoint", &flex_values, &wgpu_values);
}
