//! Network updates: minibatches from the replay buffer, AdamW with warm-up and cosine decay,
//! gradient clipping.

use std::path::Path;

use game::ACTIONS;
use blobnet::{loss, BlobNet, BlobNetConfig, CheckpointError, FEATURES, VALUES};
use mcts::Leaf;
use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{AdamW, AdamWConfig, GradientsParams, Optimizer};
use burn::grad_clipping::GradientClippingConfig;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::TensorData;

use crate::program::config::TrainingConfig;
use blobnet::evaluator::encode_batch;
use crate::deals::Example;

/// One training row in this many is encoded without the other seats' hands, so that the network
/// also answers from the information set alone: the search's root prior (one evaluation for
/// every world) and play without search. The other rows show the real deal, on which the value
/// head learns the perfect-information value the search asks of each sampled world. Buffer rows
/// are drawn at random, so a fixed position in the minibatch is an unbiased share.
pub const INFO_SET_ROW_EVERY: usize = 4;

/// Mean losses of some training steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Losses {
    pub total: f64,
    pub policy: f64,
    pub value: f64,
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

    /// Learning rate at `step` of `total_steps`: linear warm-up, then cosine decay to
    /// `learning_rate * final_lr_fraction`.
    pub fn learning_rate(config: &TrainingConfig, step: usize, total_steps: usize) -> f64 {
        let peak = config.learning_rate;
        if step < config.warmup_steps {
            return peak * (step + 1) as f64 / config.warmup_steps as f64;
        }
        let span = total_steps.saturating_sub(config.warmup_steps).max(1);
        let progress = ((step - config.warmup_steps) as f64 / span as f64).min(1.0);
        let floor = peak * config.final_lr_fraction;
        floor + (peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }

    /// One optimizer step on `batch`; returns its losses.
    pub fn step(&mut self, batch: &[&Example], total_steps: usize) -> Losses {
        let n = batch.len();
        let (mut features, mut masks) = (Vec::new(), Vec::new());
        let leaves: Vec<Leaf> = batch
            .iter()
            .enumerate()
            .map(|(i, e)| Leaf::new(e.info, e.game, e.hands.filter(|_| i % INFO_SET_ROW_EVERY != 0)))
            .collect();
        encode_batch(&leaves, |leaf| leaf.game, &mut features, &mut masks);
        let mut policies = vec![0.0f32; n * ACTIONS];
        let mut values = vec![0.0f32; n * VALUES];
        let mut value_masks = vec![0.0f32; n * VALUES];
        for (i, example) in batch.iter().enumerate() {
            policies[i * ACTIONS..(i + 1) * ACTIONS].copy_from_slice(&example.policy);
            values[i * VALUES..(i + 1) * VALUES].copy_from_slice(&example.values);
            for seat in 0..example.info.view().players() {
                value_masks[i * VALUES + seat] = 1.0;
            }
        }
        let tensor = |data: Vec<f32>, width: usize| Tensor::<B, 2>::from_data(TensorData::new(data, [n, width]), &self.device);
        let legal = tensor(masks, ACTIONS);
        let (logits, predicted) = self.net.forward(tensor(features, FEATURES));
        let entropy = {
            let p = blobnet::masked_softmax(logits.clone().detach(), legal.clone());
            let logp = p.clone().clamp_min(1e-12).log();
            (p * logp).sum_dim(1).mean().neg()
        };
        let parts = loss(logits, predicted, tensor(policies, ACTIONS), legal, tensor(values, VALUES), tensor(value_masks, VALUES));
        let total = parts.policy.clone() + parts.value.clone().mul_scalar(self.config.value_weight);
        let scalar = |t: Tensor<B, 1>| t.into_data().iter::<f32>().next().unwrap_or(f32::NAN) as f64;
        let losses = Losses {
            total: scalar(total.clone().detach()),
            policy: scalar(parts.policy.detach()),
            value: scalar(parts.value.detach()),
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
