//! BlobNet's inference on the host, the CPU evaluator's path. Burn's CPU backend runs a forward
//! pass as a chain of whole-batch operations, each a fresh allocation and a rayon fork-join;
//! on a batch of a few thousand small rows that overhead, with a scalar scan of each row for
//! its nonzero features, took most of a move (BENCHMARKS.md). Here every thread takes whole blocks of rows through the
//! network in its own scratch buffers: the input layer as a sum of the weight rows of each
//! row's few nonzero features, then matrix products on cache-sized blocks.
//! `host_net_matches_the_backend` holds it to [`BlobNet::predict_rows`].

use burn::module::Param;
use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;
use game::{GameContext, ACTIONS};
use mcts::Leaf;
use rayon::prelude::*;

use crate::encode::{encode, FEATURES};
use crate::net::{BlobNet, LAYER_NORM_EPSILON, ROW, TRICKS, TRICK_CLASSES, VALUES};

/// Rows a thread takes through the network at once: large enough for efficient matrix
/// products, small enough that a block's activations stay in cache.
const BLOCK_ROWS: usize = 64;

/// A dense layer `y = x W + b`, `W` `[inputs, outputs]` row-major as Burn stores it.
struct Dense {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Dense {
    fn of<B: Backend>(linear: &Linear<B>) -> Dense {
        let weight = host(&linear.weight);
        let outputs = linear.weight.val().dims()[1];
        let bias = linear.bias.as_ref().map_or_else(|| vec![0.0; outputs], host);
        Dense { weight, bias }
    }

    fn outputs(&self) -> usize {
        self.bias.len()
    }

    fn inputs(&self) -> usize {
        self.weight.len() / self.outputs()
    }

    /// `out = x W + b` for `x`'s rows, or with `residual` `out += x W + b`.
    fn apply(&self, x: &[f32], out: &mut [f32], residual: bool) {
        let (inputs, outputs) = (self.inputs(), self.outputs());
        let rows = x.len() / inputs;
        assert!(x.len() == rows * inputs && out.len() == rows * outputs, "dense layer given mis-sized buffers");
        for row in out.chunks_exact_mut(outputs) {
            if residual {
                row.iter_mut().zip(&self.bias).for_each(|(o, b)| *o += b);
            } else {
                row.copy_from_slice(&self.bias);
            }
        }
        // SAFETY: the asserts above keep every index gemm reads or writes inside the three
        // row-major buffers (`out` rows x outputs, `x` rows x inputs, `weight` inputs x
        // outputs), and `out` is a unique borrow that overlaps neither input.
        unsafe {
            gemm::gemm(
                rows,
                outputs,
                inputs,
                out.as_mut_ptr(),
                1,
                outputs as isize,
                true,
                x.as_ptr(),
                1,
                inputs as isize,
                self.weight.as_ptr(),
                1,
                outputs as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
}

/// Layer normalisation over each row, as Burn's `LayerNorm` (biased variance).
struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl Norm {
    fn of<B: Backend>(norm: &LayerNorm<B>) -> Norm {
        let gamma = host(&norm.gamma);
        let beta = norm.beta.as_ref().map_or_else(|| vec![0.0; gamma.len()], host);
        Norm { gamma, beta }
    }

    fn apply(&self, x: &[f32], out: &mut [f32]) {
        let width = self.gamma.len();
        for (x, out) in x.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
            let mean = x.iter().sum::<f32>() / width as f32;
            let variance = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / width as f32;
            let scale = 1.0 / (variance + LAYER_NORM_EPSILON as f32).sqrt();
            for (((o, v), g), b) in out.iter_mut().zip(x).zip(&self.gamma).zip(&self.beta) {
                *o = (v - mean) * scale * g + b;
            }
        }
    }
}

struct HostBlock {
    attn_norm: Norm,
    attn_value: Dense,
    attn_out: Dense,
    ffn_norm: Norm,
    ffn_in: Dense,
    ffn_out: Dense,
}

/// A host copy of a [`BlobNet`]'s weights, and its forward pass for inference.
pub(crate) struct HostNet {
    input: Dense,
    input_norm: Norm,
    blocks: Vec<HostBlock>,
    final_norm: Norm,
    policy_hidden: Dense,
    policy_out: Dense,
    value_hidden: Dense,
    value_out: Dense,
    tricks: Option<(Dense, Dense)>,
}

/// One thread's activations for a block of rows.
#[derive(Default)]
struct Scratch {
    features: Vec<f32>,
    x: Vec<f32>,
    normed: Vec<f32>,
    hidden: Vec<f32>,
    wide: Vec<f32>,
    out: Vec<f32>,
}

fn sized(buffer: &mut Vec<f32>, len: usize) -> &mut [f32] {
    buffer.resize(len, 0.0);
    &mut buffer[..len]
}

impl HostNet {
    pub(crate) fn of<B: Backend>(net: &BlobNet<B>) -> HostNet {
        HostNet {
            input: Dense::of(&net.input),
            input_norm: Norm::of(&net.input_norm),
            blocks: net
                .blocks
                .iter()
                .map(|b| HostBlock {
                    attn_norm: Norm::of(&b.attn_norm),
                    attn_value: Dense::of(&b.attn_value),
                    attn_out: Dense::of(&b.attn_out),
                    ffn_norm: Norm::of(&b.ffn_norm),
                    ffn_in: Dense::of(&b.ffn_in),
                    ffn_out: Dense::of(&b.ffn_out),
                })
                .collect(),
            final_norm: Norm::of(&net.final_norm),
            policy_hidden: Dense::of(&net.policy_hidden),
            policy_out: Dense::of(&net.policy_out),
            value_hidden: Dense::of(&net.value_hidden),
            value_out: Dense::of(&net.value_out),
            tricks: net.tricks.as_ref().map(|t| (Dense::of(&t.hidden), Dense::of(&t.out))),
        }
    }

    /// Floats per position in [`HostNet::predict_rows`], as [`BlobNet::row_width`].
    pub(crate) fn row_width(&self) -> usize {
        ROW + if self.tricks.is_some() { TRICKS } else { 0 }
    }

    /// [`BlobNet::predict_rows`] of the batch's leaves, each encoded with the context
    /// `game_of` gives it.
    pub(crate) fn predict_rows(&self, batch: &[Leaf], game_of: impl Fn(&Leaf) -> Option<GameContext> + Sync) -> Vec<f32> {
        let width = self.row_width();
        let mut rows = vec![0.0; batch.len() * width];
        rows.par_chunks_mut(BLOCK_ROWS * width).zip(batch.par_chunks(BLOCK_ROWS)).for_each_init(Scratch::default, |scratch, (out, leaves)| {
            self.forward_block(leaves, &game_of, scratch, out)
        });
        rows
    }

    fn forward_block(&self, leaves: &[Leaf], game_of: &impl Fn(&Leaf) -> Option<GameContext>, s: &mut Scratch, rows: &mut [f32]) {
        let n = leaves.len();
        let d = self.input.outputs();
        let features = sized(&mut s.features, FEATURES);
        let x = sized(&mut s.x, n * d);
        for (leaf, x) in leaves.iter().zip(x.chunks_exact_mut(d)) {
            encode(&leaf.info, game_of(leaf).as_ref(), leaf.hands.as_ref(), features);
            self.embed(features, x);
        }
        let normed = sized(&mut s.normed, n * d);
        self.input_norm.apply(x, normed);
        x.copy_from_slice(normed);
        for block in &self.blocks {
            let hidden = sized(&mut s.hidden, n * d);
            block.attn_norm.apply(x, normed);
            block.attn_value.apply(normed, hidden, false);
            block.attn_out.apply(hidden, x, true);
            let wide = sized(&mut s.wide, n * block.ffn_in.outputs());
            block.ffn_norm.apply(x, normed);
            block.ffn_in.apply(normed, wide, false);
            relu(wide);
            block.ffn_out.apply(wide, x, true);
        }
        self.final_norm.apply(x, normed);
        let width = self.row_width();
        let head = |hidden: &Dense, out: &Dense, s_hidden: &mut Vec<f32>, s_out: &mut Vec<f32>, write: &mut dyn FnMut(usize, &[f32])| {
            let h = sized(s_hidden, n * hidden.outputs());
            hidden.apply(normed, h, false);
            relu(h);
            let o = sized(s_out, n * out.outputs());
            out.apply(h, o, false);
            for (i, row) in o.chunks_exact(out.outputs()).enumerate() {
                write(i, row);
            }
        };
        head(&self.policy_hidden, &self.policy_out, &mut s.hidden, &mut s.out, &mut |i, logits| {
            masked_softmax(logits, leaves[i].legal.mask, &mut rows[i * width..][..ACTIONS]);
        });
        head(&self.value_hidden, &self.value_out, &mut s.hidden, &mut s.out, &mut |i, values| {
            for (o, v) in rows[i * width + ACTIONS..][..VALUES].iter_mut().zip(values) {
                *o = 1.0 / (1.0 + (-v).exp());
            }
        });
        if let Some((hidden, out)) = &self.tricks {
            head(hidden, out, &mut s.hidden, &mut s.out, &mut |i, logits| {
                let probabilities = rows[i * width + ROW..][..TRICKS].chunks_exact_mut(TRICK_CLASSES);
                for (p, l) in probabilities.zip(logits.chunks_exact(TRICK_CLASSES)) {
                    softmax(l, p);
                }
            });
        }
    }

    /// The input layer of one encoded row: the bias plus the weight rows of its nonzero
    /// features (a few dozen of 1,447), found a 16-float chunk at a time.
    fn embed(&self, features: &[f32], out: &mut [f32]) {
        let width = out.len();
        out.copy_from_slice(&self.input.bias);
        for (c, chunk) in features.chunks(16).enumerate() {
            if chunk.iter().fold(0, |any, v| any | v.to_bits()) == 0 {
                continue;
            }
            for (i, &v) in chunk.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                let weights = &self.input.weight[(c * 16 + i) * width..][..width];
                out.iter_mut().zip(weights).for_each(|(o, w)| *o += v * w);
            }
        }
    }
}

fn host<B: Backend, const D: usize>(param: &Param<Tensor<B, D>>) -> Vec<f32> {
    param.val().into_data().iter::<f32>().collect()
}

fn relu(x: &mut [f32]) {
    x.iter_mut().for_each(|v| *v = v.max(0.0));
}

/// `out = softmax(x)`.
fn softmax(x: &[f32], out: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for (o, v) in out.iter_mut().zip(x) {
        *o = (v - max).exp();
        sum += *o;
    }
    out.iter_mut().for_each(|o| *o /= sum);
}

/// The softmax over the legal actions (`legal` bit i for action i), exactly 0 elsewhere; a row
/// with none comes out uniform, as [`crate::masked_softmax`].
fn masked_softmax(logits: &[f32], legal: u64, out: &mut [f32]) {
    let is_legal = |i: usize| legal >> i & 1 == 1;
    let max = (0..ACTIONS).filter(|&i| is_legal(i)).map(|i| logits[i]).fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        out.fill(1.0 / ACTIONS as f32);
        return;
    }
    let mut sum = 0.0;
    for (i, o) in out.iter_mut().enumerate() {
        *o = if is_legal(i) { (logits[i] - max).exp() } else { 0.0 };
        sum += *o;
    }
    out.iter_mut().for_each(|o| *o /= sum);
}
