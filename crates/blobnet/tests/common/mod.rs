//! Test support shared by the network tests: tensors from host vectors and back, and batches of
//! real encoded positions.
#![allow(dead_code)] // each test file uses its own part

use game::ACTIONS;
use blobnet::{encode, mask_row};
use blobnet::{FEATURES, VALUES};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use game::{Round, Suit};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub fn tensor<Bk: Backend>(data: Vec<f32>, cols: usize, device: &Bk::Device) -> Tensor<Bk, 2> {
    let rows = data.len() / cols;
    Tensor::from_data(TensorData::new(data, [rows, cols]), device)
}

pub fn values(t: Tensor<impl Backend, 2>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

pub fn scalar(t: Tensor<impl Backend, 1>) -> f32 {
    t.into_data().iter::<f32>().next().unwrap()
}

/// A batch of real encoded positions with their legal masks and plausible targets: a one-hot
/// policy on a random legal action and, per seat at the table, 0 or a made-bid score.
pub struct Batch {
    pub features: Vec<f32>,
    pub legal: Vec<f32>,
    pub policy: Vec<f32>,
    pub values: Vec<f32>,
    pub value_mask: Vec<f32>,
}

pub fn batch(size: usize, seed: u64) -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut b = Batch {
        features: vec![0.0; size * FEATURES],
        legal: vec![0.0; size * ACTIONS],
        policy: vec![0.0; size * ACTIONS],
        values: vec![0.0; size * VALUES],
        value_mask: vec![0.0; size * VALUES],
    };
    for i in 0..size {
        let players = rng.gen_range(3..=8);
        let n = rng.gen_range(1..=52 / players);
        let mut round = Round::deal(players, n, rng.gen_range(0..players), Some(Suit::Spades), &mut rng).unwrap();
        for _ in 0..rng.gen_range(0..players * (n + 1)) {
            let actions = round.legal_actions();
            if actions.len() <= 1 && round.bids_made() > 0 {
                break;
            }
            round.apply_legal(actions.sample(&mut rng).unwrap());
        }
        let info = round.info_set(round.to_act());
        encode(&info, None, None, &mut b.features[i * FEATURES..][..FEATURES]);
        let mask = info.legal_actions().mask;
        mask_row(mask, &mut b.legal[i * ACTIONS..][..ACTIONS]);
        let target = round.legal_actions().sample(&mut rng).unwrap().index();
        b.policy[i * ACTIONS + target] = 1.0;
        for s in 0..players {
            b.value_mask[i * VALUES + s] = 1.0;
            b.values[i * VALUES + s] =
                if rng.gen_bool(0.5) { (10.0 + rng.gen_range(0..=n) as f32) / (10 + n) as f32 } else { 0.0 };
        }
    }
    b
}
