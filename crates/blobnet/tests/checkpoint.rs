//! Checkpoint round trips (weights and optimizer state) and every way a load can fail.

use std::fs;

use blobnet::files::FrameError;
use blobnet::{
    load_net, load_record, read_net_architecture, save_net, save_record, BlobNetConfig, CheckpointError, CpuBackend,
    CpuDevice, FEATURES,
};
use burn::backend::Autodiff;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

type B = CpuBackend;
type Train = Autodiff<CpuBackend>;

/// A fresh directory per test under Cargo's scratch space for integration tests.

/// A fixed input (not from Burn's RNG, whose seed is shared by the tests running in parallel).
fn input<Bk: Backend>(device: &Bk::Device) -> Tensor<Bk, 2> {
    let data: Vec<f32> = (0..6 * FEATURES).map(|i| (i as f32 * 0.37).sin().abs()).collect();
    Tensor::from_data(TensorData::new(data, [6, FEATURES]), device)
}

fn outputs<Bk: Backend>(net: &blobnet::BlobNet<Bk>, x: Tensor<Bk, 2>) -> Vec<f32> {
    let (logits, values) = net.forward(x);
    logits.into_data().iter::<f32>().chain(values.into_data().iter::<f32>()).collect()
}

#[test]
fn weights_round_trip_exactly() {
    let device = CpuDevice::default();
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    for config in [BlobNetConfig::tiny(), BlobNetConfig::medium()] {
        let net = config.init::<B>(&device);
        let path = dir.join(format!("{}.ckpt", config.d_model));
        save_net(&net, &path).unwrap();
        let loaded = load_net::<B>(&config, &path, &device).unwrap();
        assert_eq!(outputs(&net, input(&device)), outputs(&loaded, input(&device)));
        assert_eq!(read_net_architecture(&path).unwrap().config, config);
    }
    // Saving over an existing checkpoint replaces it and leaves no temporary files behind.
    let tiny = BlobNetConfig::tiny().init::<B>(&device);
    save_net(&tiny, dir.join("64.ckpt")).unwrap();
    let names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// Resume: weights and Adam state saved mid-training, reloaded, and trained one more step give
/// the same network as training straight on. This needs the parameter ids to survive the trip,
/// since Burn keys optimizer state by them.
#[test]
fn optimizer_state_round_trips_for_resume() {
    let device = CpuDevice::default();
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let config = BlobNetConfig::tiny();
    let mut net = config.init::<Train>(&device);
    let mut optim = AdamConfig::new().init();
    let step = |net: blobnet::BlobNet<Train>, optim: &mut _| {
        let (logits, values) = net.forward(input(&device));
        let loss = logits.powf_scalar(2.0).mean() + values.mean();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        Optimizer::<_, Train>::step(optim, 1e-2, net, grads)
    };
    for _ in 0..3 {
        net = step(net, &mut optim);
    }
    save_net(&net, dir.join("net.ckpt")).unwrap();
    save_record::<Train, _>(optim.to_record(), &config, dir.join("optim.ckpt")).unwrap();

    let resumed_net = load_net::<Train>(&config, dir.join("net.ckpt"), &device).unwrap();
    let record = load_record::<Train, _>(dir.join("optim.ckpt"), &config, &device).unwrap();
    let mut resumed_optim = AdamConfig::new().init().load_record(record);

    let straight = step(net, &mut optim);
    let resumed = step(resumed_net, &mut resumed_optim);
    assert_eq!(outputs(&straight, input(&device)), outputs(&resumed, input(&device)));
}

fn expect_err(result: Result<impl Sized, CheckpointError>) -> CheckpointError {
    match result {
        Ok(_) => panic!("load succeeded"),
        Err(err) => err,
    }
}

#[test]
fn another_architecture_is_an_error_naming_both() {
    let device = CpuDevice::default();
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let path = dir.join("tiny.ckpt");
    save_net(&BlobNetConfig::tiny().init::<B>(&device), &path).unwrap();
    let err = expect_err(load_net::<B>(&BlobNetConfig::medium(), &path, &device));
    assert!(matches!(err, CheckpointError::Architecture { .. }), "{err}");
    let text = err.to_string();
    for needle in ["tiny.ckpt", "d_model 64", "d_model 256", "6 blocks"] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
}

#[test]
fn truncated_garbage_and_missing_files_are_errors() {
    let device = CpuDevice::default();
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let config = BlobNetConfig::tiny();
    let good = dir.join("good.ckpt");
    save_net(&config.init::<B>(&device), &good).unwrap();
    let bytes = fs::read(&good).unwrap();

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("half.ckpt", bytes[..bytes.len() / 2].to_vec()),
        ("short.ckpt", bytes[..10].to_vec()),
        ("empty.ckpt", Vec::new()),
        ("garbage.ckpt", (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()),
        ("flipped.ckpt", {
            let mut b = bytes.clone();
            let last = b.len() - 7;
            b[last] ^= 0x40;
            b
        }),
        ("trailing.ckpt", [bytes.as_slice(), b"extra"].concat()),
    ];
    for (name, content) in cases {
        let path = dir.join(name);
        fs::write(&path, content).unwrap();
        let err = expect_err(load_net::<B>(&config, &path, &device));
        let ok = match name {
            "half.ckpt" | "short.ckpt" | "empty.ckpt" => matches!(err, CheckpointError::File(FrameError::Truncated { .. })),
            "garbage.ckpt" => matches!(err, CheckpointError::File(FrameError::WrongMagic { .. })),
            _ => matches!(err, CheckpointError::File(FrameError::Corrupt { .. })),
        };
        assert!(ok, "{name}: unexpected error {err:?}");
        assert!(err.to_string().contains(name), "{err}");
    }

    let missing = dir.join("missing.ckpt");
    let err = expect_err(load_net::<B>(&config, &missing, &device));
    assert!(matches!(err, CheckpointError::File(FrameError::Io { .. })) && err.to_string().contains("missing.ckpt"), "{err}");
}

#[test]
fn weights_and_records_are_not_confused() {
    let device = CpuDevice::default();
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let config = BlobNetConfig::tiny();
    let net_path = dir.join("net.ckpt");
    let optim_path = dir.join("optim.ckpt");
    let net = config.init::<Train>(&device);
    save_net(&net, &net_path).unwrap();
    let optim = AdamConfig::new().init::<Train, blobnet::BlobNet<Train>>();
    save_record::<Train, _>(optim.to_record(), &config, &optim_path).unwrap();

    let err = expect_err(load_net::<Train>(&config, &optim_path, &device));
    assert!(matches!(err, CheckpointError::WrongContents { .. }), "{err}");
    let err = expect_err(load_record::<
        Train,
        <burn::optim::adaptor::OptimizerAdaptor<burn::optim::Adam, blobnet::BlobNet<Train>, Train> as Optimizer<
            blobnet::BlobNet<Train>,
            Train,
        >>::Record,
    >(&net_path, &config, &device));
    assert!(matches!(err, CheckpointError::WrongContents { .. }), "{err}");
}

/// An optimizer record names the network it was saved for: resuming another architecture with
/// it is refused, naming the file and both architectures (it used to load and train on).
#[test]
fn an_optimizer_record_of_another_architecture_is_refused() {
    type Record = <burn::optim::adaptor::OptimizerAdaptor<burn::optim::Adam, blobnet::BlobNet<Train>, Train> as Optimizer<
        blobnet::BlobNet<Train>,
        Train,
    >>::Record;
    let device = CpuDevice::default();
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let tiny = BlobNetConfig::tiny();
    let wider = BlobNetConfig { d_model: tiny.d_model * 2, ..tiny.clone() };
    let path = dir.join("optimizer.bin");
    let optim = AdamConfig::new().init::<Train, blobnet::BlobNet<Train>>();
    save_record::<Train, _>(optim.to_record(), &tiny, &path).unwrap();
    assert!(load_record::<Train, Record>(&path, &tiny, &device).is_ok());
    let err = expect_err(load_record::<Train, Record>(&path, &wider, &device));
    assert!(matches!(err, CheckpointError::Architecture { .. }), "{err}");
    for needle in ["optimizer.bin", &format!("d_model {}", tiny.d_model), &format!("d_model {}", wider.d_model)] {
        assert!(err.to_string().contains(needle), "{needle:?} missing from: {err}");
    }
}
