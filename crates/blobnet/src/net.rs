//! BlobNet: a residual MLP-transformer over one token with a policy head (52 logits), a value
//! head (one value per seat, relative to the acting player) and, optionally, a tricks head (per
//! seat, a distribution over the tricks it ends the round with).

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{relu, sigmoid, softmax};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use game::MAX_PLAYERS;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::encode::FEATURES;
use game::ACTIONS;

/// Value outputs: one per seat relative to the acting player (valid for the first P).
pub const VALUES: usize = MAX_PLAYERS;
/// Floats per position in [`BlobNet::predict_rows`] of a network without a tricks head: the
/// policy, then the values.
pub const ROW: usize = ACTIONS + VALUES;
/// Classes of the tricks head per seat: 0 to 17 tricks (17 cards is the largest round, P = 3).
pub const TRICK_CLASSES: usize = 18;
/// Outputs of the tricks head: [`TRICK_CLASSES`] per relative seat.
pub const TRICKS: usize = VALUES * TRICK_CLASSES;

/// Logit given to illegal actions. Finite rather than -inf so that a zero target times the
/// log-probability of an illegal action is 0, not NaN; exp of it underflows to exactly 0.
const ILLEGAL_LOGIT: f32 = -1.0e9;

/// Every layer normalisation's epsilon (Burn's default), shared with the host forward pass.
pub(crate) const LAYER_NORM_EPSILON: f64 = 1e-5;

/// Largest sizes a config may ask for (far past anything trainable here; they stop a typo
/// from reaching the allocator).
pub const MAX_D_MODEL: usize = 4096;
pub const MAX_BLOCKS: usize = 64;
pub const MAX_FFN: usize = 16384;

/// Network sizes (d_model 2..=4096, blocks 0..=64, ffn 1..=16384). `medium` is the reference BlobNet's shape. Deserialising validates, so a
/// config read from a file can always be built.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedConfig")]
pub struct BlobNetConfig {
    /// Width of the residual stream, 2..=[`MAX_D_MODEL`].
    pub d_model: usize,
    /// Number of residual blocks.
    pub blocks: usize,
    /// Hidden width of each block's feed-forward layer.
    pub ffn: usize,
    /// A tricks head: per seat, the distribution of the tricks it ends the round with, trained
    /// on the tricks taken. The search then values a seat that has bid b by the probability of
    /// exactly b tricks (the only way to score) times (10 + b) / (10 + n), instead of the value
    /// head's direct estimate (README, issue 12). Off in files written before it existed.
    pub tricks_head: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UncheckedConfig {
    d_model: usize,
    blocks: usize,
    ffn: usize,
    #[serde(default)]
    tricks_head: bool,
}

impl TryFrom<UncheckedConfig> for BlobNetConfig {
    type Error = ConfigError;

    fn try_from(raw: UncheckedConfig) -> Result<BlobNetConfig, ConfigError> {
        let config = BlobNetConfig { d_model: raw.d_model, blocks: raw.blocks, ffn: raw.ffn, tricks_head: raw.tricks_head };
        config.validate()?;
        Ok(config)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid network config {config:?}: {reason}")]
pub struct ConfigError {
    pub config: BlobNetConfig,
    pub reason: &'static str,
}

impl BlobNetConfig {
    /// For tests: trains in seconds on a CPU.
    pub fn tiny() -> BlobNetConfig {
        BlobNetConfig { d_model: 64, blocks: 2, ffn: 128, tricks_head: false }
    }

    pub fn small() -> BlobNetConfig {
        BlobNetConfig { d_model: 128, blocks: 4, ffn: 512, tricks_head: false }
    }

    /// The reference BlobNet's shape: d_model 256, 6 blocks, FFN 1024.
    pub fn medium() -> BlobNetConfig {
        BlobNetConfig { d_model: 256, blocks: 6, ffn: 1024, tricks_head: false }
    }

    /// A preset by name (`tiny`, `small`, `medium`).
    pub fn preset(name: &str) -> Option<BlobNetConfig> {
        match name {
            "tiny" => Some(BlobNetConfig::tiny()),
            "small" => Some(BlobNetConfig::small()),
            "medium" => Some(BlobNetConfig::medium()),
            _ => None,
        }
    }

    /// Sizes must be positive, and `d_model` at least 2 so the value head's hidden layer
    /// (d_model / 2) is not empty.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let reason = if !(2..=MAX_D_MODEL).contains(&self.d_model) {
            "d_model must be in 2..=4096"
        } else if !(1..=MAX_FFN).contains(&self.ffn) {
            "ffn must be in 1..=16384"
        } else if self.blocks > MAX_BLOCKS {
            "blocks must be at most 64"
        } else {
            return Ok(());
        };
        Err(ConfigError { config: self.clone(), reason })
    }

    /// Parameters of the network this config builds, computed from the layer shapes.
    pub fn param_count(&self) -> usize {
        let linear = |i: usize, o: usize| i * o + o;
        let norm = |d: usize| 2 * d;
        let (d, f) = (self.d_model, self.ffn);
        let block = norm(d) + 2 * linear(d, d) + norm(d) + linear(d, f) + linear(f, d);
        linear(FEATURES, d)
            + norm(d)
            + self.blocks * block
            + norm(d)
            + linear(d, d)
            + linear(d, ACTIONS)
            + linear(d, d / 2)
            + linear(d / 2, VALUES)
            + if self.tricks_head { linear(d, d) + linear(d, TRICKS) } else { 0 }
    }

    /// Build a freshly initialised network.
    ///
    /// # Panics
    /// If the config fails [`BlobNetConfig::validate`]; configs read from files should be
    /// validated first.
    pub fn init<B: Backend>(&self, device: &B::Device) -> BlobNet<B> {
        if let Err(err) = self.validate() {
            panic!("{err}");
        }
        let (d, f) = (self.d_model, self.ffn);
        let linear = |i: usize, o: usize| LinearConfig::new(i, o).init(device);
        let norm = || LayerNormConfig::new(d).with_epsilon(LAYER_NORM_EPSILON).init(device);
        let net = BlobNet {
            input: linear(FEATURES, d),
            input_norm: norm(),
            blocks: (0..self.blocks)
                .map(|_| Block {
                    attn_norm: norm(),
                    attn_value: linear(d, d),
                    attn_out: linear(d, d),
                    ffn_norm: norm(),
                    ffn_in: linear(d, f),
                    ffn_out: linear(f, d),
                })
                .collect(),
            final_norm: norm(),
            policy_hidden: linear(d, d),
            policy_out: linear(d, ACTIONS),
            value_hidden: linear(d, d / 2),
            value_out: linear(d / 2, VALUES),
            tricks: self.tricks_head.then(|| TricksHead { hidden: linear(d, d), out: linear(d, TRICKS) }),
            config: self.clone(),
        };
        // Burn initialises parameters lazily, and a clone of a still-lazy parameter draws its own
        // random values: a clone saved or sent to an inference worker would silently differ from
        // the original. Materialising every parameter here makes clones exact copies.
        net.visit(&mut Materialise);
        net
    }
}

struct Materialise;

impl<B: Backend> ModuleVisitor<B> for Materialise {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        param.val();
    }
}

/// One pre-norm residual block. The reference attends over a single token, where softmax
/// attention weights are all 1 and Q and K drop out: attention is exactly `W_o W_v x`.
#[derive(Module, Debug)]
pub struct Block<B: Backend> {
    pub(crate) attn_norm: LayerNorm<B>,
    pub(crate) attn_value: Linear<B>,
    pub(crate) attn_out: Linear<B>,
    pub(crate) ffn_norm: LayerNorm<B>,
    pub(crate) ffn_in: Linear<B>,
    pub(crate) ffn_out: Linear<B>,
}

impl<B: Backend> Block<B> {
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let attn = self.attn_out.forward(self.attn_value.forward(self.attn_norm.forward(x.clone())));
        let x = x + attn;
        // ReLU, as in the reference (PyTorch's encoder-layer default), and cheaper than GELU on CPU.
        let ffn = self.ffn_out.forward(relu(self.ffn_in.forward(self.ffn_norm.forward(x.clone()))));
        x + ffn
    }
}

/// Per relative seat, logits over the tricks it ends the round with.
#[derive(Module, Debug)]
pub struct TricksHead<B: Backend> {
    pub(crate) hidden: Linear<B>,
    pub(crate) out: Linear<B>,
}

/// Everything the network computes for a batch (see [`BlobNet::forward_all`]).
pub struct Outputs<B: Backend> {
    /// Policy logits `[batch, 52]`, unmasked.
    pub logits: Tensor<B, 2>,
    /// Values `[batch, 8]` in [0, 1].
    pub values: Tensor<B, 2>,
    /// Tricks logits `[batch, 8 x 18]` (relative seat major), with a tricks head.
    pub tricks: Option<Tensor<B, 2>>,
}

/// The network. Input rows come from [`crate::encode()`].
#[derive(Module, Debug)]
pub struct BlobNet<B: Backend> {
    pub(crate) input: Linear<B>,
    pub(crate) input_norm: LayerNorm<B>,
    pub(crate) blocks: Vec<Block<B>>,
    pub(crate) final_norm: LayerNorm<B>,
    pub(crate) policy_hidden: Linear<B>,
    pub(crate) policy_out: Linear<B>,
    pub(crate) value_hidden: Linear<B>,
    pub(crate) value_out: Linear<B>,
    pub(crate) tricks: Option<TricksHead<B>>,
    /// Kept so checkpoints can record the architecture they were saved from.
    #[module(skip)]
    config: BlobNetConfig,
}

impl<B: Backend> BlobNet<B> {
    pub fn config(&self) -> &BlobNetConfig {
        &self.config
    }

    /// `input` is `[batch, FEATURES]`. Returns policy logits `[batch, 52]` (unmasked) and
    /// values `[batch, 8]` in [0, 1]: each relative seat's expected round score / (10 + n),
    /// the scale of `game::Round::scaled_scores`. Seats at and beyond P carry no meaning.
    pub fn forward(&self, input: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let Outputs { logits, values, .. } = self.forward_all(input);
        (logits, values)
    }

    /// [`BlobNet::forward`] with the tricks head's logits when the network has one.
    pub fn forward_all(&self, input: Tensor<B, 2>) -> Outputs<B> {
        let mut x = self.input_norm.forward(self.input.forward(input));
        for block in &self.blocks {
            x = block.forward(x);
        }
        let x = self.final_norm.forward(x);
        let logits = self.policy_out.forward(relu(self.policy_hidden.forward(x.clone())));
        let tricks = self.tricks.as_ref().map(|head| head.out.forward(relu(head.hidden.forward(x.clone()))));
        let values = sigmoid(self.value_out.forward(relu(self.value_hidden.forward(x))));
        Outputs { logits, values, tricks }
    }

    /// Floats per position in [`BlobNet::predict_rows`]: [`ROW`], then [`TRICKS`] with a
    /// tricks head.
    pub fn row_width(&self) -> usize {
        ROW + if self.tricks.is_some() { TRICKS } else { 0 }
    }

    /// Inference for search: `input` `[batch, FEATURES]`, `legal` `[batch, 52]` 0/1 floats.
    /// Returns host vectors, row-major: policy probabilities `batch x 52` (zero on illegal
    /// actions) and values `batch x 8`. Both come back in a single device-to-host copy.
    ///
    /// Call it on an inference backend (for an `Autodiff` network, on `net.valid()`), or the
    /// autodiff graph is recorded for nothing.
    pub fn predict(&self, input: Tensor<B, 2>, legal: Tensor<B, 2>) -> (Vec<f32>, Vec<f32>) {
        let rows = self.predict_rows(input, legal);
        let batch = rows.len() / self.row_width();
        let mut policy = Vec::with_capacity(batch * ACTIONS);
        let mut value = Vec::with_capacity(batch * VALUES);
        for row in rows.chunks_exact(self.row_width()) {
            policy.extend_from_slice(&row[..ACTIONS]);
            value.extend_from_slice(&row[ACTIONS..ROW]);
        }
        (policy, value)
    }

    /// [`BlobNet::predict`] as one row-major buffer of [`BlobNet::row_width`] floats per
    /// position (policy, values, then with a tricks head each relative seat's probabilities of
    /// 0..=17 tricks): one download, no per-element conversion when the backend computes in
    /// f32 (the evaluator's path).
    pub fn predict_rows(&self, input: Tensor<B, 2>, legal: Tensor<B, 2>) -> Vec<f32> {
        Self::rows(self.forward_all(input), legal)
    }

    fn rows(outputs: Outputs<B>, legal: Tensor<B, 2>) -> Vec<f32> {
        let Outputs { logits, values, tricks } = outputs;
        let mut parts = vec![masked_softmax(logits, legal), values];
        parts.extend(tricks.map(tricks_probabilities));
        let both = Tensor::cat(parts, 1).into_data();
        if both.dtype == burn::tensor::DType::F32 {
            both.into_vec::<f32>().expect("the dtype is f32")
        } else {
            // Another float type (f16 backends) is converted element by element.
            both.iter::<f32>().collect()
        }
    }
}

/// Tricks logits `[batch, 8 x 18]` as probabilities, a softmax per relative seat.
fn tricks_probabilities<B: Backend>(logits: Tensor<B, 2>) -> Tensor<B, 2> {
    let [batch, _] = logits.dims();
    softmax(logits.reshape([batch, VALUES, TRICK_CLASSES]), 2).reshape([batch, TRICKS])
}

/// Push illegal logits (`legal` 0) to a large negative value, leaving legal ones untouched.
pub(crate) fn mask_logits<B: Backend>(logits: Tensor<B, 2>, legal: Tensor<B, 2>) -> Tensor<B, 2> {
    // legal - 1 is 0 for legal actions, so their logits are not altered even in the last bit.
    logits + (legal - 1.0) * (-ILLEGAL_LOGIT)
}

/// Probabilities over legal actions only: illegal actions (`legal` 0) get exactly 0.
/// A row with no legal action (padding) comes out uniform rather than NaN.
pub fn masked_softmax<B: Backend>(logits: Tensor<B, 2>, legal: Tensor<B, 2>) -> Tensor<B, 2> {
    softmax(mask_logits(logits, legal), 1)
}
