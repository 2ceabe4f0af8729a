//! BlobNet as the search's evaluator: encode the whole batch in parallel into one contiguous
//! buffer, one forward pass, one copy back, values rotated from relative to absolute seats.

use std::time::{Duration, Instant};

use blobnet::{encode, legal_mask, mask_row, BlobNet, ACTIONS, FEATURES, VALUES};
use burn::prelude::*;
use burn::tensor::TensorData;
use game::InfoSet;
use mcts::{Evaluation, Evaluator};
use rayon::prelude::*;

pub struct NetEvaluator<B: Backend> {
    net: BlobNet<B>,
    device: B::Device,
    features: Vec<f32>,
    masks: Vec<f32>,
    /// Time spent in `evaluate` and positions evaluated, for throughput reports.
    pub busy: Duration,
    pub positions: u64,
    pub calls: u64,
}

impl<B: Backend> NetEvaluator<B> {
    pub fn new(net: BlobNet<B>, device: B::Device) -> NetEvaluator<B> {
        NetEvaluator { net, device, features: Vec::new(), masks: Vec::new(), busy: Duration::ZERO, positions: 0, calls: 0 }
    }

    pub fn net(&self) -> &BlobNet<B> {
        &self.net
    }
}

/// Encode a batch of information sets into row-major feature and legal-mask buffers.
pub fn encode_batch(batch: &[InfoSet], features: &mut Vec<f32>, masks: &mut Vec<f32>) {
    features.resize(batch.len() * FEATURES, 0.0);
    masks.resize(batch.len() * ACTIONS, 0.0);
    features
        .par_chunks_mut(FEATURES)
        .zip(masks.par_chunks_mut(ACTIONS))
        .zip(batch.par_iter())
        .for_each(|((row, mask), info)| {
            encode(info, None, row);
            mask_row(legal_mask(info), mask);
        });
}

impl<B: Backend> Evaluator for NetEvaluator<B>
where
    BlobNet<B>: Send,
{
    fn evaluate(&mut self, batch: &[InfoSet], out: &mut [Evaluation]) {
        let start = Instant::now();
        let n = batch.len();
        encode_batch(batch, &mut self.features, &mut self.masks);
        let input = Tensor::from_data(TensorData::new(self.features.clone(), [n, FEATURES]), &self.device);
        let legal = Tensor::from_data(TensorData::new(self.masks.clone(), [n, ACTIONS]), &self.device);
        let (policy, values) = self.net.predict(input, legal);
        for (i, (info, eval)) in batch.iter().zip(out.iter_mut()).enumerate() {
            eval.policy.copy_from_slice(&policy[i * ACTIONS..(i + 1) * ACTIONS]);
            let players = info.view().players();
            for relative in 0..players {
                eval.values[(info.observer() + relative) % players] = values[i * VALUES + relative];
            }
        }
        self.busy += start.elapsed();
        self.positions += n as u64;
        self.calls += 1;
    }
}
