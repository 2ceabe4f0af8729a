//! Network updates: minibatches from the replay buffer, AdamW with warm-up and cosine decay,
//! gradient clipping.

use std::path::Path;

use game::ACTIONS;
use blobnet::{loss, tricks_loss, BlobNet, BlobNetConfig, CheckpointError, Outputs, FEATURES, TRICKS, TRICK_CLASSES, VALUES};
use mcts::Leaf;
use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::optim::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::optim::lr_scheduler::LrScheduler;
use burn::optim::{AdamW, AdamWConfig, GradientsParams, Optimizer};
use burn::grad_clipping::GradientClippingConfig;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::TensorData;

use crate::program::config::TrainingConfig;
use blobnet::{encode_batch, EncodedBatch};
use crate::deals::Example;

/// Mean losses of some training steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Losses {
    pub total: f64,
    pub policy: f64,
    pub value: f64,
    /// The tricks head's cross-entropy (0 without one), weighted like the policy's: it is a
    /// cross-entropy of the same kind, per seat.
    pub tricks: f64,
    /// Mean entropy of the predicted (masked) policy: near ln(legal actions) means uniform.
    pub policy_entropy: f64,
}

pub struct Learner<B: AutodiffBackend> {
    net: BlobNet<B>,
    optimizer: OptimizerAdaptor<AdamW, BlobNet<B>, B>,
    device: B::Device,
    config: TrainingConfig,
    /// Optimizer steps taken over the whole run (drives the schedule).
    pub steps: usize,
}

impl<B: AutodiffBackend> Learner<B> {
    /// A fresh network, initialised from `seed`.
    pub fn new(net_config: &BlobNetConfig, config: &TrainingConfig, device: B::Device, seed: u64) -> Learner<B> {
        B::seed(&device, seed);
        let net = net_config.init::<B>(&device);
        Learner { net, optimizer: optimizer(config), device, config: config.clone(), steps: 0 }
    }

    pub fn net(&self) -> &BlobNet<B> {
        &self.net
    }

    /// The network without autodiff, for self-play inference.
    pub fn inference_net(&self) -> BlobNet<B::InnerBackend> {
        self.net.valid()
    }

    /// Learning rate at `step` of `total_steps`: Burn's linear scheduler for the warm-up, then
    /// its cosine annealing to `learning_rate * final_lr_fraction` at the run's last step. Both
    /// are positioned at `step` through their records (a step count), so a resumed run has the
    /// schedule back from the steps it took, with nothing of it saved.
    pub fn learning_rate(config: &TrainingConfig, step: usize, total_steps: usize) -> f64 {
        let peak = config.learning_rate;
        let warmup = config.warmup_steps;
        const VALIDATED: &str = "a validated config has a valid learning-rate schedule";
        if step < warmup {
            // From peak / warmup at step 0 to peak at step warmup - 1.
            let iters = (warmup - 1).max(1);
            let scheduler = LinearLrSchedulerConfig::new(peak / warmup as f64, peak, iters).init().expect(VALIDATED);
            // The record counts the steps left; each `step` takes one first.
            return scheduler.load_record::<B>(iters + 1 - step).step();
        }
        let span = total_steps.saturating_sub(warmup).max(1);
        let scheduler = CosineAnnealingLrSchedulerConfig::new(peak, span)
            .with_min_lr(peak * config.final_lr_fraction)
            .init()
            .expect(VALIDATED);
        // The record is the last step taken (wrapping below 0, as a new scheduler's is); held at
        // the end of the span, where the cosine would restart.
        scheduler.load_record::<B>((step - warmup).min(span).wrapping_sub(1)).step()
    }

    /// One optimizer step on `batch`; returns its losses.
    pub fn step(&mut self, batch: &[&Example], total_steps: usize) -> Losses {
        let n = batch.len();
        let leaves: Vec<Leaf> = batch
            .iter()
            .enumerate()
            // One row in `info_set_row_every` without the other hands, so that the network also
            // answers from the information set alone (rollouts, the PUCT root, play without
            // search); the others show the real deal, on which the value head learns the
            // perfect-information values a PUCT search asks of its worlds. Buffer rows are drawn
            // at random, so fixed positions in the minibatch are an unbiased share.
            .map(|(i, e)| Leaf::new(e.info, e.game, e.hands.filter(|_| i % self.config.info_set_row_every != 0)))
            .collect();
        let EncodedBatch { features, masks } = encode_batch(&leaves, |leaf| leaf.game);
        let mut policies = vec![0.0f32; n * ACTIONS];
        let mut values = vec![0.0f32; n * VALUES];
        let mut value_masks = vec![0.0f32; n * VALUES];
        // One-hot per seat at the table, only for a net with a tricks head; examples without the
        // tricks (older buffers) add nothing.
        let mut tricks = self.net.config().tricks_head.then(|| vec![0.0f32; n * TRICKS]);
        for (i, example) in batch.iter().enumerate() {
            policies[i * ACTIONS..(i + 1) * ACTIONS].copy_from_slice(&example.policy);
            values[i * VALUES..(i + 1) * VALUES].copy_from_slice(&example.values);
            for seat in 0..example.info.view().players() {
                value_masks[i * VALUES + seat] = 1.0;
                if let (Some(tricks), Some(taken)) = (tricks.as_mut(), example.tricks) {
                    tricks[i * TRICKS + seat * TRICK_CLASSES + taken[seat] as usize] = 1.0;
                }
            }
        }
        let tensor = |data: Vec<f32>, width: usize| Tensor::<B, 2>::from_data(TensorData::new(data, [n, width]), &self.device);
        let legal = tensor(masks, ACTIONS);
        let Outputs { logits, values: predicted, tricks: predicted_tricks } = self.net.forward_all(tensor(features, FEATURES));
        let entropy = {
            let p = blobnet::masked_softmax(logits.clone().detach(), legal.clone());
            let logp = p.clone().clamp_min(1e-12).log();
            (p * logp).sum_dim(1).mean().neg()
        };
        let parts = loss(logits, predicted, tensor(policies, ACTIONS), legal, tensor(values, VALUES), tensor(value_masks, VALUES));
        let mut total = parts.policy.clone() + parts.value.clone().mul_scalar(self.config.value_weight);
        let scalar = |t: Tensor<B, 1>| t.into_data().iter::<f32>().next().unwrap_or(f32::NAN) as f64;
        let mut tricks_part = 0.0;
        if let (Some(predicted_tricks), Some(tricks)) = (predicted_tricks, tricks) {
            let part = tricks_loss(predicted_tricks, tensor(tricks, TRICKS));
            total = total + part.clone();
            tricks_part = scalar(part.detach());
        }
        let losses = Losses {
            total: scalar(total.clone().detach()),
            policy: scalar(parts.policy.detach()),
            value: scalar(parts.value.detach()),
            tricks: tricks_part,
            policy_entropy: scalar(entropy),
        };
        let grads = GradientsParams::from_grads(total.backward(), &self.net);
        let lr = Learner::<B>::learning_rate(&self.config, self.steps, total_steps);
        self.net = self.optimizer.step(lr, self.net.clone(), grads);
        self.steps += 1;
        losses
    }

    pub fn save(&self, net_path: &Path, optimizer_path: &Path) -> Result<(), CheckpointError> {
        blobnet::save_net(&self.net, net_path)?;
        blobnet::save_record::<B, _>(self.optimizer.to_record(), self.net.config(), optimizer_path)
    }

    pub fn load(
        net_config: &BlobNetConfig,
        config: &TrainingConfig,
        device: B::Device,
        net_path: &Path,
        optimizer_path: &Path,
        steps: usize,
    ) -> Result<Learner<B>, CheckpointError> {
        let net = blobnet::load_net::<B>(net_config, net_path, &device)?;
        let record = blobnet::load_record::<B, _>(optimizer_path, net_config, &device)?;
        let optimizer = optimizer::<B>(config).load_record(record);
        Ok(Learner { net, optimizer, device, config: config.clone(), steps })
    }
}

fn optimizer<B: AutodiffBackend>(config: &TrainingConfig) -> OptimizerAdaptor<AdamW, BlobNet<B>, B> {
    let clipping = (config.grad_clip > 0.0).then_some(GradientClippingConfig::Norm(config.grad_clip as f32));
    AdamWConfig::new().with_weight_decay(config.weight_decay as f32).with_grad_clipping(clipping).init()
}

#[cfg(test)]
mod tests {
    use super::*;
    use blobnet::CpuBackend;
    use burn::backend::Autodiff;

    type Schedule = Learner<Autodiff<CpuBackend>>;

    /// Linear warm-up to the peak, then half a cosine down to the floor at the last step, and
    /// the floor after it.
    #[test]
    fn the_schedule_warms_up_then_follows_a_cosine_to_the_floor() {
        let config = TrainingConfig {
            batch_size: 8,
            steps_per_iteration: 6,
            min_buffer: 8,
            buffer_size: 8,
            learning_rate: 0.01,
            final_lr_fraction: 0.1,
            warmup_steps: 4,
            weight_decay: 0.0,
            grad_clip: 0.0,
            value_weight: 1.0,
            info_set_row_every: 4,
        };
        let (peak, floor, total) = (0.01, 0.001, 24);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        for step in 0..4 {
            let lr = Schedule::learning_rate(&config, step, total);
            assert!(close(lr, peak * (step + 1) as f64 / 4.0), "step {step}: {lr}");
        }
        for step in 4..=total + 5 {
            let progress = ((step - 4) as f64 / 20.0).min(1.0);
            let expected = floor + (peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
            let lr = Schedule::learning_rate(&config, step, total);
            assert!(close(lr, expected), "step {step}: {lr} vs {expected}");
        }
        assert!(close(Schedule::learning_rate(&config, 14, total), (peak + floor) / 2.0));
        // One warm-up step is the peak at once; no warm-up starts at the peak.
        for warmup_steps in [0, 1] {
            let config = TrainingConfig { warmup_steps, ..config.clone() };
            assert!(close(Schedule::learning_rate(&config, 0, total), peak), "warm-up {warmup_steps}");
        }
        // Without decay the rate stays at the peak after the warm-up.
        let flat = TrainingConfig { final_lr_fraction: 1.0, ..config };
        assert!((4..30).all(|step| close(Schedule::learning_rate(&flat, step, total), peak)));
    }
}
