//! Training loss: policy cross-entropy against the search's visit distribution over the masked
//! log-softmax, plus value MSE over the seats at the table, plus optional L2; with a tricks head,
//! [`tricks_loss`], the cross-entropy of each seat's predicted tricks against the tricks it took.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::net::{mask_logits, BlobNet, TRICKS, TRICK_CLASSES, VALUES};

/// The loss and its parts, as 1-element tensors (the trainer backpropagates `total` and logs
/// the rest).
#[derive(Debug, Clone)]
pub struct LossParts<B: Backend> {
    pub total: Tensor<B, 1>,
    /// Mean over the batch of -sum_a target(a) log p(a), p the masked softmax of the logits.
    pub policy: Tensor<B, 1>,
    /// Mean squared error over the valid (position, seat) entries.
    pub value: Tensor<B, 1>,
    /// Weighted L2 term when [`LossParts::with_l2`] was applied.
    pub l2: Option<Tensor<B, 1>>,
}

/// Shapes: `logits` `[b, 52]`, `values` `[b, 8]` (the network outputs); `target_policy` `[b, 52]`
/// (visit distribution, zero on illegal actions); `legal_mask` `[b, 52]` 0/1; `target_values`
/// `[b, 8]` on the value head's scale; `value_mask` `[b, 8]`, 1 for seats at the table.
///
/// The softmax is applied here, once, to the masked logits: the network outputs raw logits.
pub fn loss<B: Backend>(
    logits: Tensor<B, 2>,
    values: Tensor<B, 2>,
    target_policy: Tensor<B, 2>,
    legal_mask: Tensor<B, 2>,
    target_values: Tensor<B, 2>,
    value_mask: Tensor<B, 2>,
) -> LossParts<B> {
    let [batch, _] = logits.dims();
    let log_probs = log_softmax(mask_logits(logits, legal_mask), 1);
    let policy = (target_policy * log_probs).sum().neg().div_scalar(batch.max(1) as f32);

    let diff = (values - target_values) * value_mask.clone();
    // Clamped so an all-masked batch gives 0 rather than 0/0.
    let count = value_mask.sum().clamp_min(1.0);
    let value = (diff.clone() * diff).sum() / count;

    LossParts { total: policy.clone() + value.clone(), policy, value, l2: None }
}

/// Mean over the seats at the table of -log q(t), q a seat's predicted distribution of the
/// tricks it ends the round with and t the tricks it took. `logits` `[b, 8 x 18]` (the tricks
/// head's output); `target` `[b, 8 x 18]`, per seat at the table a one-hot of its tricks, all
/// zero for the other seats (which so count for nothing).
pub fn tricks_loss<B: Backend>(logits: Tensor<B, 2>, target: Tensor<B, 2>) -> Tensor<B, 1> {
    let [batch, _] = logits.dims();
    let log_probs = log_softmax(logits.reshape([batch, VALUES, TRICK_CLASSES]), 2).reshape([batch, TRICKS]);
    // Each seat at the table has exactly one 1: their count is the target's sum.
    let seats = target.clone().sum().clamp_min(1.0);
    (target * log_probs).sum().neg() / seats
}

impl<B: Backend> LossParts<B> {
    /// Add `weight * sum of squared parameters` (all of them, norms and biases included) to
    /// the total. Alternatively put weight decay in the optimizer and skip this.
    pub fn with_l2(mut self, net: &BlobNet<B>, weight: f32) -> LossParts<B> {
        let mut sum = SquaredSum(None);
        net.visit(&mut sum);
        let l2 = match sum.0 {
            Some(s) => s.mul_scalar(weight),
            None => self.total.zeros_like(),
        };
        self.total = self.total + l2.clone();
        self.l2 = Some(l2);
        self
    }
}

struct SquaredSum<B: Backend>(Option<Tensor<B, 1>>);

impl<B: Backend> ModuleVisitor<B> for SquaredSum<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        let squares = (value.clone() * value).sum();
        self.0 = Some(match self.0.take() {
            Some(s) => s + squares,
            None => squares,
        });
    }
}
