//! Network shapes, masked softmax, loss, and that a tiny net can fit a fixed batch.

mod common;

use game::ACTIONS;
use blobnet::{loss, masked_softmax, tricks_loss, BlobNetConfig, CpuBackend, CpuDevice, FEATURES, ROW, TRICKS, TRICK_CLASSES, VALUES};
use burn::backend::Autodiff;
use burn::module::{AutodiffModule, Module};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::Tensor;
use common::{batch, scalar, tensor, values};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type B = CpuBackend;
type Train = Autodiff<CpuBackend>;

#[test]
fn medium_has_the_stated_parameter_count() {
    let config = BlobNetConfig::medium();
    let net = config.init::<B>(&CpuDevice::default());
    // Stated in docs/encoding.md ("Network"): input 1447 x 256, 6 blocks of V, O (256 x 256) and
    // FFN 256 -> 1024 -> 256 with two LayerNorms, final LayerNorm, heads 256->256->52, 256->128->8.
    assert_eq!(FEATURES, 1447);
    assert_eq!(config.param_count(), 4_433_852);
    assert_eq!(net.num_params(), config.param_count());
    let tiny = BlobNetConfig::tiny();
    assert_eq!(tiny.init::<B>(&CpuDevice::default()).num_params(), tiny.param_count());
}

#[test]
fn config_presets_and_validation() {
    assert_eq!(BlobNetConfig::preset("medium"), Some(BlobNetConfig::medium()));
    assert_eq!(BlobNetConfig::preset("tiny"), Some(BlobNetConfig::tiny()));
    assert_eq!(BlobNetConfig::preset("huge"), None);
    assert!(BlobNetConfig::medium().validate().is_ok());
    let bad = BlobNetConfig { d_model: 1, blocks: 2, ffn: 8, tricks_head: false };
    assert!(bad.validate().unwrap_err().to_string().contains("d_model"));
    let json = serde_json::to_string(&BlobNetConfig::small()).unwrap();
    assert_eq!(serde_json::from_str::<BlobNetConfig>(&json).unwrap(), BlobNetConfig::small());
    let err = serde_json::from_str::<BlobNetConfig>(r#"{"d_model":0,"blocks":2,"ffn":8}"#).unwrap_err();
    assert!(err.to_string().contains("d_model must be in 2..=4096"), "{err}");
    // Sizes that would only reach the allocator are refused by name.
    for (config, field) in [
        (BlobNetConfig { d_model: 1_000_000, blocks: 2, ffn: 8, tricks_head: false }, "d_model"),
        (BlobNetConfig { d_model: 8, blocks: 1_000, ffn: 8, tricks_head: false }, "blocks"),
        (BlobNetConfig { d_model: 8, blocks: 2, ffn: 1 << 20, tricks_head: true }, "ffn"),
    ] {
        assert!(config.validate().unwrap_err().to_string().contains(field), "{config:?}");
    }
    assert!(serde_json::from_str::<BlobNetConfig>(r#"{"d_model":8,"blocks":2,"ffn":8,"fnn":3}"#).is_err());
}

#[test]
fn forward_shapes_and_value_range() {
    let device = CpuDevice::default();
    let net = BlobNetConfig::tiny().init::<B>(&device);
    let b = batch(5, 1);
    let (logits, vals) = net.forward(tensor::<B>(b.features.clone(), FEATURES, &device));
    assert_eq!(logits.dims(), [5, ACTIONS]);
    assert_eq!(vals.dims(), [5, VALUES]);
    assert!(values(vals).iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn masked_softmax_gives_illegal_actions_zero() {
    let device = CpuDevice::default();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let rows = 64;
    let logits: Vec<f32> = (0..rows * ACTIONS).map(|_| rng.gen_range(-20.0..20.0)).collect();
    let mut legal: Vec<f32> = (0..rows * ACTIONS).map(|_| f32::from(rng.gen_bool(0.2))).collect();
    legal[0] = 1.0; // row 0 keeps at least one legal action
    let probs =
        values(masked_softmax(tensor::<B>(logits, ACTIONS, &device), tensor::<B>(legal.clone(), ACTIONS, &device)));
    for r in 0..rows {
        let row = &probs[r * ACTIONS..][..ACTIONS];
        let mask = &legal[r * ACTIONS..][..ACTIONS];
        if mask.iter().all(|&m| m == 0.0) {
            continue;
        }
        for (p, m) in row.iter().zip(mask) {
            if *m == 0.0 {
                assert_eq!(*p, 0.0, "illegal action got probability");
            }
        }
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn predict_matches_forward_and_masked_softmax() {
    let device = CpuDevice::default();
    let net = BlobNetConfig::tiny().init::<B>(&device);
    let b = batch(7, 2);
    let input = tensor::<B>(b.features.clone(), FEATURES, &device);
    let legal = tensor::<B>(b.legal.clone(), ACTIONS, &device);
    let (policy, vals) = net.predict(input.clone(), legal.clone());
    let (logits, expected_vals) = net.forward(input);
    assert_eq!(policy, values(masked_softmax(logits, legal)));
    assert_eq!(vals, values(expected_vals));
    assert_eq!(policy.len(), 7 * ACTIONS);
    for (p, m) in policy.iter().zip(&b.legal) {
        assert!(*m == 1.0 || *p == 0.0);
    }
}

#[test]
fn loss_applies_one_masked_softmax() {
    let device = CpuDevice::default();
    // Uniform logits, k legal actions, one-hot target on a legal one: CE = ln k exactly. A huge
    // logit on an illegal action must change nothing.
    let mut logits = vec![0.0f32; ACTIONS];
    logits[40] = 50.0;
    let mut legal = vec![0.0f32; ACTIONS];
    legal[..4].fill(1.0);
    let mut target = vec![0.0f32; ACTIONS];
    target[2] = 1.0;
    let vals = vec![0.5f32; VALUES];
    let mut target_vals = vec![0.0f32; VALUES];
    target_vals[..3].copy_from_slice(&[0.5, 0.7, 0.1]);
    let mut vmask = vec![0.0f32; VALUES];
    vmask[..3].fill(1.0);
    let t = |v: &Vec<f32>, c| tensor::<B>(v.clone(), c, &device);
    let parts = loss(
        t(&logits, ACTIONS),
        t(&vals, VALUES),
        t(&target, ACTIONS),
        t(&legal, ACTIONS),
        t(&target_vals, VALUES),
        t(&vmask, VALUES),
    );
    assert!((scalar(parts.policy) - 4f32.ln()).abs() < 1e-5);
    // Seats 3.. are masked: (0^2 + 0.2^2 + 0.4^2) / 3.
    assert!((scalar(parts.value) - 0.2 / 3.0).abs() < 1e-6);
    assert!((scalar(parts.total) - (4f32.ln() + 0.2 / 3.0)).abs() < 1e-5);
}

#[test]
fn l2_adds_the_weighted_squared_parameters() {
    let device = CpuDevice::default();
    let net = BlobNetConfig::tiny().init::<B>(&device);
    let b = batch(4, 3);
    let (logits, vals) = net.forward(tensor::<B>(b.features, FEATURES, &device));
    let t = |v: Vec<f32>, c| tensor::<B>(v, c, &device);
    let parts =
        loss(logits, vals, t(b.policy, ACTIONS), t(b.legal, ACTIONS), t(b.values, VALUES), t(b.value_mask, VALUES));
    let before = scalar(parts.total.clone());
    let with = parts.with_l2(&net, 1e-3);
    let l2 = scalar(with.l2.clone().unwrap());
    let squares = squared_params(&net);
    assert!((f64::from(l2) - 1e-3 * squares).abs() < 1e-3 * squares * 1e-4, "{l2} vs {}", 1e-3 * squares);
    assert!((scalar(with.total) - (before + l2)).abs() < 1e-4);
}

/// Sum of squared parameters, computed on the host independently of the loss code.
fn squared_params(net: &blobnet::BlobNet<B>) -> f64 {
    struct Sum(f64);
    impl burn::module::ModuleVisitor<B> for Sum {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<B, D>>) {
            self.0 += param.val().into_data().iter::<f32>().map(|v| f64::from(v) * f64::from(v)).sum::<f64>();
        }
    }
    let mut sum = Sum(0.0);
    net.visit(&mut sum);
    sum.0
}

/// Threshold: total loss (policy CE against one-hot targets + value MSE) below 0.01 within 300
/// Adam steps (lr 3e-3) on a fixed batch of 256 real positions. At initialisation it is about
/// 0.6 (many late positions have few legal actions); it gets there in about 50 steps.
#[test]
fn tiny_net_overfits_a_fixed_batch() {
    let device = CpuDevice::default();
    let mut net = BlobNetConfig::tiny().init::<Train>(&device);
    let mut optim = AdamConfig::new().init();
    let b = batch(256, 4);
    let t = |v: &Vec<f32>, c| tensor::<Train>(v.clone(), c, &device);
    let (features, legal, policy, vals, vmask) = (
        t(&b.features, FEATURES),
        t(&b.legal, ACTIONS),
        t(&b.policy, ACTIONS),
        t(&b.values, VALUES),
        t(&b.value_mask, VALUES),
    );
    let mut first = None;
    let mut last = f32::INFINITY;
    for step in 0..300 {
        let (logits, out_vals) = net.forward(features.clone());
        let parts = loss(logits, out_vals, policy.clone(), legal.clone(), vals.clone(), vmask.clone());
        last = scalar(parts.total.clone());
        first.get_or_insert(last);
        if last < 0.01 {
            eprintln!("loss {first:?} -> {last} after {step} steps");
            break;
        }
        let grads = GradientsParams::from_grads(parts.total.backward(), &net);
        net = optim.step(3e-3, net, grads);
    }
    let first = first.unwrap();
    assert!(first > 0.3, "initial loss {first} suspiciously low");
    assert!(last < 0.01, "loss {first} -> {last}: did not overfit");
    // The inference copy of the trained net gives the same answers on the inner backend.
    let (trained_logits, trained_values) = net.forward(features.clone());
    let valid = net.valid();
    let (logits, inner_values) = valid.forward(tensor::<B>(b.features.clone(), FEATURES, &device));
    assert_eq!(logits.dims(), [256, ACTIONS]);
    // (The two backends may order float sums differently: equal to float precision.)
    let close = |a: Vec<f32>, b: Vec<f32>| a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    let logits_gap = close(values(logits), values(trained_logits.inner()));
    let values_gap = close(values(inner_values), values(trained_values.inner()));
    assert!(logits_gap < 1e-4 && values_gap < 1e-5, "the inference copy differs: logits by {logits_gap}, values by {values_gap}");
}

/// The tricks head: a distribution over 0..=17 tricks per seat in `predict_rows` (after the
/// policy and values, which stay as without it), a loss of ln 18 per seat for uniform logits
/// that counts only the seats given a target, and a tiny net learns a fixed batch's tricks.
#[test]
fn the_tricks_head_predicts_distributions_and_learns_the_tricks_taken() {
    let device = CpuDevice::default();
    let config = BlobNetConfig { tricks_head: true, ..BlobNetConfig::tiny() };
    let net = config.init::<B>(&device);
    assert_eq!(net.num_params(), config.param_count());
    assert!(config.param_count() > BlobNetConfig::tiny().param_count());
    let b = batch(6, 3);
    let input = tensor::<B>(b.features.clone(), FEATURES, &device);
    let legal = tensor::<B>(b.legal.clone(), ACTIONS, &device);
    assert_eq!(net.row_width(), ROW + TRICKS);
    let rows = net.predict_rows(input.clone(), legal.clone());
    assert_eq!(rows.len(), 6 * net.row_width());
    let (policy, vals) = net.predict(input.clone(), legal);
    for (i, row) in rows.chunks_exact(net.row_width()).enumerate() {
        assert_eq!(&row[..ACTIONS], &policy[i * ACTIONS..][..ACTIONS]);
        assert_eq!(&row[ACTIONS..ROW], &vals[i * VALUES..][..VALUES]);
        for seat in row[ROW..].chunks_exact(TRICK_CLASSES) {
            assert!(seat.iter().all(|p| *p >= 0.0) && (seat.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }
    assert!(BlobNetConfig::tiny().init::<B>(&device).forward_all(input).tricks.is_none());

    // Uniform logits: ln 18 per seat with a target, whichever class it is.
    let mut target = vec![0.0f32; 2 * TRICKS];
    target[3] = 1.0;
    target[TRICKS + 2 * TRICK_CLASSES + 17] = 1.0;
    let uniform = tricks_loss(tensor::<B>(vec![0.0; 2 * TRICKS], TRICKS, &device), tensor::<B>(target, TRICKS, &device));
    assert!((scalar(uniform) - 18f32.ln()).abs() < 1e-5);

    // A fixed batch whose seats at the table took (position + seat) mod 5 tricks.
    let b = batch(64, 5);
    let mut target = vec![0.0f32; 64 * TRICKS];
    for i in 0..64 {
        for seat in (0..VALUES).filter(|&s| b.value_mask[i * VALUES + s] == 1.0) {
            target[i * TRICKS + seat * TRICK_CLASSES + (i + seat) % 5] = 1.0;
        }
    }
    let mut net = config.init::<Train>(&device);
    let mut optim = AdamConfig::new().init();
    let (features, target) = (tensor::<Train>(b.features, FEATURES, &device), tensor::<Train>(target, TRICKS, &device));
    let mut losses = Vec::new();
    for _ in 0..200 {
        let part = tricks_loss(net.forward_all(features.clone()).tricks.unwrap(), target.clone());
        losses.push(scalar(part.clone()));
        let grads = GradientsParams::from_grads(part.backward(), &net);
        net = optim.step(1e-2, net, grads);
    }
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(first > 2.0 && last < 0.1, "tricks loss {first} -> {last}");
}
