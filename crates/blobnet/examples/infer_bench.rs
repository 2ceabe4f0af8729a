//! Inference throughput of BlobNet: positions/s at several batch sizes.
//!
//! `cargo run --release -p blobnet --example infer_bench [-- DEVICE [PRESET]]`
//! (DEVICE `cpu` by default, `cuda[:N]` in a `--features cuda` build; PRESET `medium` by default).
//!
//! Each timed call is what search does per batch: build the input and mask tensors from host
//! rows, run `predict` (forward, masked softmax), and copy the results back to the host.
//! Encoding the rows is timed separately since it happens on the search threads.

use std::time::{Duration, Instant};

use game::ACTIONS;
use blobnet::{encode, mask_row};
use blobnet::{BackendTask, BlobNetConfig, DeviceSpec, FEATURES};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use game::{Round, Suit};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BATCHES: [usize; 8] = [1, 64, 256, 512, 1024, 2048, 4096, 8192];
/// Each batch size runs for at least this long (after a warm-up call).
const MIN_TIME: Duration = Duration::from_secs(2);

struct Bench {
    config: BlobNetConfig,
    features: Vec<f32>,
    masks: Vec<f32>,
}

impl BackendTask for Bench {
    type Output = ();

    fn run<B: Backend>(self, device: B::Device) {
        let net = self.config.init::<B>(&device);
        println!("{:>6} {:>12} {:>12}", "batch", "positions/s", "ms/batch");
        for batch in BATCHES {
            let call = || {
                let input = Tensor::<B, 2>::from_data(
                    TensorData::new(self.features[..batch * FEATURES].to_vec(), [batch, FEATURES]),
                    &device,
                );
                let legal = Tensor::<B, 2>::from_data(
                    TensorData::new(self.masks[..batch * ACTIONS].to_vec(), [batch, ACTIONS]),
                    &device,
                );
                let (policy, values) = net.predict(input, legal);
                std::hint::black_box((policy, values));
            };
            call();
            let start = Instant::now();
            let mut calls = 0u32;
            while calls < 3 || start.elapsed() < MIN_TIME {
                call();
                calls += 1;
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{batch:>6} {:>12.0} {:>12.3}",
                (calls as usize * batch) as f64 / secs,
                1e3 * secs / f64::from(calls)
            );
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let device: DeviceSpec = match args.next().map(|a| a.parse()).transpose() {
        Ok(device) => device.unwrap_or(DeviceSpec::Cpu),
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(2);
        }
    };
    let preset = args.next().unwrap_or_else(|| "medium".into());
    let Some(config) = BlobNetConfig::preset(&preset) else {
        eprintln!("unknown preset {preset:?}: expected tiny, small or medium");
        std::process::exit(2);
    };

    // Real positions: random deals over every table size, played forward at random.
    let rows = *BATCHES.iter().max().unwrap_or(&1);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut features = vec![0.0f32; rows * FEATURES];
    let mut masks = vec![0.0f32; rows * ACTIONS];
    let mut encode_time = Duration::ZERO;
    for i in 0..rows {
        let players = rng.gen_range(3..=8);
        let n = rng.gen_range(1..=52 / players);
        let mut round =
            Round::deal(players, n, rng.gen_range(0..players), Some(Suit::Hearts), &mut rng).expect("valid table");
        for _ in 0..rng.gen_range(0..players * (n + 1) - 1) {
            match round.legal_actions().sample(&mut rng) {
                Some(action) => round.apply_legal(action),
                None => break,
            }
        }
        let info = round.info_set(round.to_act());
        let start = Instant::now();
        encode(&info, None, None, &mut features[i * FEATURES..][..FEATURES]);
        mask_row(info.legal_actions().mask, &mut masks[i * ACTIONS..][..ACTIONS]);
        encode_time += start.elapsed();
    }
    println!(
        "BlobNet {preset} ({} parameters) on {device}; encoding {:.2} us/position",
        config.param_count(),
        encode_time.as_secs_f64() * 1e6 / rows as f64
    );
    if let Err(err) = device.run(Bench { config, features, masks }) {
        eprintln!("{err}");
        std::process::exit(1);
    }
}
