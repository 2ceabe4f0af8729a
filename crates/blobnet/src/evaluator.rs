//! BlobNet as the search's evaluator: encode the whole batch in parallel into one contiguous
//! buffer, one forward pass, one copy back, values rotated from relative to absolute seats
//! (and, for a network trained on whole games, converted to the round scale).

use std::time::{Duration, Instant};

use crate::encode::{encode, mask_row, FEATURES};
use crate::host_net::HostNet;
use crate::net::{BlobNet, ROW, TRICK_CLASSES, VALUES};
use game::ACTIONS;
use burn::prelude::*;
use burn::tensor::TensorData;
use game::{GameContext, Round};
use mcts::{Evaluation, Evaluator, Leaf};
use rayon::prelude::*;

/// What rho, the expected scaled score per seat per round, is taken to be before any
/// self-play has measured it: about what a seat averages when it makes its bid a bit under
/// half the time (a made bid b scores (10 + b) / (10 + n), usually 0.7 to 1).
pub const PRIOR_ROUND_SCORE: f64 = 0.35;

/// What the network's value head predicts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueHead {
    /// Trained on lone rounds: a seat's round score / (10 + n), the search's own scale.
    Round,
    /// Trained on whole games (self-play mode Games): a seat's remaining game score over the
    /// most it could still score, converted to the round scale by [`round_value`] with
    /// `expected_round_score` (rho) for every later round. A leaf without a game context (the
    /// evaluation matches play lone rounds) is seen as a one-round game, where the two scales
    /// agree.
    Game { expected_round_score: f32 },
}

pub struct NetEvaluator<B: Backend> {
    net: BlobNet<B>,
    device: B::Device,
    host: HostSide,
    /// On the CPU backend, the forward pass on the host (see [`HostNet`]); on a device, the
    /// backend's.
    host_net: Option<HostNet>,
    /// Time spent in `evaluate` and positions evaluated, for throughput reports.
    pub busy: Duration,
    pub positions: u64,
    pub calls: u64,
}

impl<B: Backend> NetEvaluator<B> {
    /// An evaluator of a network trained on lone rounds.
    pub fn new(net: BlobNet<B>, device: B::Device) -> NetEvaluator<B> {
        let on_cpu = std::any::TypeId::of::<B>() == std::any::TypeId::of::<crate::CpuBackend>();
        let host_net = on_cpu.then(|| HostNet::of(&net));
        NetEvaluator { net, device, host: HostSide::new(ValueHead::Round), host_net, busy: Duration::ZERO, positions: 0, calls: 0 }
    }

    /// Run the forward pass on the Burn backend even on the CPU (the device path; `blob bench
    /// selfplay` compares the two in one run).
    pub fn on_backend(self) -> NetEvaluator<B> {
        NetEvaluator { host_net: None, ..self }
    }

    pub fn with_value_head(self, head: ValueHead) -> NetEvaluator<B> {
        NetEvaluator { host: HostSide::new(head), ..self }
    }

    pub fn net(&self) -> &BlobNet<B> {
        &self.net
    }
}

/// Everything [`NetEvaluator`] does on the host, with a fixed output (a uniform policy, every
/// seat valued 0.5) in place of the network: encoding into the batch buffers, the copies that
/// hand them to a device, and writing the outputs back by seat. `blob bench selfplay
/// --no-network` measures with it how many evaluations a host can prepare per second, the
/// ceiling of any device it feeds.
pub struct NoNetworkEvaluator {
    host: HostSide,
    rows: Vec<f32>,
}

impl NoNetworkEvaluator {
    pub fn new(head: ValueHead) -> NoNetworkEvaluator {
        NoNetworkEvaluator { host: HostSide::new(head), rows: Vec::new() }
    }
}

impl Evaluator for NoNetworkEvaluator {
    fn evaluate(&mut self, batch: &[Leaf], out: &mut [Evaluation]) {
        // Handed over whole, as `NetEvaluator` hands them to the device.
        std::hint::black_box(self.host.encode(batch));
        if self.rows.len() < batch.len() * ROW {
            let row: Vec<f32> = [1.0 / ACTIONS as f32; ACTIONS].into_iter().chain([0.5; VALUES]).collect();
            self.rows = row.repeat(batch.len());
        }
        self.host.decode(batch, &self.rows, ROW, out);
    }
}

/// The host's half of a network evaluation, shared by [`NetEvaluator`] and
/// [`NoNetworkEvaluator`]: batch encoding, and the outputs written back by absolute seat on
/// the round scale.
struct HostSide {
    head: ValueHead,
}

impl HostSide {
    fn new(head: ValueHead) -> HostSide {
        HostSide { head }
    }

    /// The context a leaf is encoded with. A round-value net never saw the GAME block: in a
    /// whole game it plays each round for that round's score, as it was trained to; a game
    /// net sees a leaf without context (the lone rounds of evaluation matches) as a one-round
    /// game.
    fn context(head: ValueHead, leaf: &Leaf) -> Option<GameContext> {
        match head {
            ValueHead::Round => None,
            ValueHead::Game { .. } => Some(leaf.game.unwrap_or_else(GameContext::single_round)),
        }
    }

    fn encode(&self, batch: &[Leaf]) -> EncodedBatch {
        let head = self.head;
        encode_batch(batch, |leaf| HostSide::context(head, leaf))
    }

    /// Write row i of `rows` (`[n, width]`: the policy, then the values relative to the leaf's
    /// seat to act, on the head's scale, then with a tricks head (`width` > `ROW`) the relative
    /// seats' tricks distributions) into `out[i]`: values by absolute seat, on the round scale.
    /// With a tricks head a seat that has bid is valued by [`tricks_value`].
    fn decode(&self, batch: &[Leaf], rows: &[f32], width: usize, out: &mut [Evaluation]) {
        for ((leaf, eval), row) in batch.iter().zip(out.iter_mut()).zip(rows.chunks_exact(width)) {
            let (policy, rest) = row.split_at(ACTIONS);
            let (values, tricks) = rest.split_at(VALUES);
            eval.policy.copy_from_slice(policy);
            let info = &leaf.info;
            let players = info.view().players();
            let to_round_scale = |value: f32| match (self.head, HostSide::context(self.head, leaf)) {
                (ValueHead::Game { expected_round_score }, Some(game)) => {
                    let later_max = game.later_rounds_max(players).expect("game contexts come from a schedule");
                    round_value(value, (10 + info.view().cards()) as f32, later_max as f32, expected_round_score)
                }
                _ => value,
            };
            let round = info.view();
            let left = round.cards() - round.tricks_done();
            for relative in 0..players {
                let seat = (info.observer() + relative) % players;
                eval.values[seat] = match round.bid(seat) {
                    Some(bid) if !tricks.is_empty() => {
                        let probabilities = &tricks[relative * TRICK_CLASSES..(relative + 1) * TRICK_CLASSES];
                        tricks_value(probabilities, bid, round.tricks_won(seat), left, round.cards())
                    }
                    _ => to_round_scale(values[relative]),
                };
            }
        }
    }
}

/// A seat's value on the round scale from its predicted distribution of the tricks it ends the
/// round with (`probabilities` of 0..=17 tricks): the chance of exactly its `bid` among the
/// counts still possible (from the `won` tricks to those plus the `left` tricks still to play),
/// times a made bid's scaled score (10 + bid) / (10 + cards). A bid out of reach is worth 0:
/// the network need not learn what the rules already say.
pub fn tricks_value(probabilities: &[f32], bid: u8, won: u8, left: usize, cards: usize) -> f32 {
    let possible = won as usize..=(won as usize + left).min(TRICK_CLASSES - 1);
    if !possible.contains(&(bid as usize)) {
        return 0.0;
    }
    let total: f32 = probabilities[possible].iter().sum();
    probabilities[bid as usize] / total.max(f32::MIN_POSITIVE) * (10 + bid) as f32 / (10 + cards) as f32
}

/// A seat's value on the round scale from its value on the game scale `game_value` (its
/// remaining game score over `round_max + later_max`, the most it could still score: 10 + n
/// for this round and `later_max` for the rounds after it), taking it to score
/// `expected_round_score` (rho, scaled) in each later round. Later rounds are dealt afresh,
/// whatever happens in this one, so the game value is the round value plus a constant; this
/// puts network leaves on the scale of the finished rounds in the tree. Not clamped: a linear
/// map keeps the ordering of values, and averages of them, intact.
pub fn round_value(game_value: f32, round_max: f32, later_max: f32, expected_round_score: f32) -> f32 {
    (game_value * (round_max + later_max) - expected_round_score * later_max) / round_max
}

/// The mean scaled score (score / (10 + n)) per seat per round over `rounds`: the measured
/// rho. `None` without rounds.
pub fn mean_scaled_score<'a>(rounds: impl IntoIterator<Item = &'a Round>) -> Option<f64> {
    let (mut sum, mut seats) = (0.0, 0usize);
    for round in rounds {
        let players = round.players();
        sum += round.scaled_scores()[..players].iter().map(|&s| s as f64).sum::<f64>();
        seats += players;
    }
    (seats > 0).then(|| sum / seats as f64)
}

/// A batch of leaves as the network's two inputs: row-major features (`[n, FEATURES]`) and
/// legal-action masks (`[n, ACTIONS]`).
pub struct EncodedBatch {
    pub features: Vec<f32>,
    pub masks: Vec<f32>,
}

/// Encode a batch of leaves, each with its world's hands when it has them and the game context
/// `game_of` gives it. The buffers are new each call, so that they can be handed to a tensor
/// without a copy: a zeroed allocation costs the system's zeroed pages, not a pass over them.
pub fn encode_batch(batch: &[Leaf], game_of: impl Fn(&Leaf) -> Option<GameContext> + Sync) -> EncodedBatch {
    let mut features = vec![0.0; batch.len() * FEATURES];
    let mut masks = vec![0.0; batch.len() * ACTIONS];
    features
        .par_chunks_mut(FEATURES)
        .zip(masks.par_chunks_mut(ACTIONS))
        .zip(batch.par_iter())
        .for_each(|((row, mask), leaf)| {
            encode(&leaf.info, game_of(leaf).as_ref(), leaf.hands.as_ref(), row);
            mask_row(leaf.legal.mask, mask);
        });
    EncodedBatch { features, masks }
}

impl<B: Backend> Evaluator for NetEvaluator<B>
where
    BlobNet<B>: Send,
{
    fn evaluate(&mut self, batch: &[Leaf], out: &mut [Evaluation]) {
        let start = Instant::now();
        let n = batch.len();
        let rows = match &self.host_net {
            Some(host_net) => {
                let head = self.host.head;
                host_net.predict_rows(batch, |leaf| HostSide::context(head, leaf))
            }
            None => {
                let EncodedBatch { features, masks } = self.host.encode(batch);
                let input = Tensor::from_data(TensorData::new(features, [n, FEATURES]), &self.device);
                let legal = Tensor::from_data(TensorData::new(masks, [n, ACTIONS]), &self.device);
                self.net.predict_rows(input, legal)
            }
        };
        self.host.decode(batch, &rows, self.net.row_width(), out);
        self.busy += start.elapsed();
        self.positions += n as u64;
        self.calls += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use game::{Action, Card, CardSet, Suit, MAX_PLAYERS};

    /// The CPU backend's evaluator runs the forward pass on the host; the backend's gives the
    /// same outputs, with and without a tricks head, on batches of more than one block of rows.
    #[test]
    fn host_net_matches_the_backend() {
        for tricks_head in [false, true] {
            let device = crate::CpuDevice::default();
            <crate::CpuBackend as Backend>::seed(&device, 5);
            let config = crate::BlobNetConfig { tricks_head, ..crate::BlobNetConfig::tiny() };
            let net = config.init::<crate::CpuBackend>(&device);
            // Trained-looking weights: layer norms and biases away from their 1 / 0 start.
            let net = perturbed(net, &device);
            for head in [ValueHead::Round, ValueHead::Game { expected_round_score: 0.4 }] {
                host_net_matches_the_backend_on(net.clone(), device, head);
            }
        }
    }

    fn perturbed(net: crate::BlobNet<crate::CpuBackend>, device: &crate::CpuDevice) -> crate::BlobNet<crate::CpuBackend> {
        use burn::module::{Module, ModuleMapper, Param};
        struct Jitter<'a>(&'a crate::CpuDevice);
        impl ModuleMapper<crate::CpuBackend> for Jitter<'_> {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<crate::CpuBackend, D>>) -> Param<Tensor<crate::CpuBackend, D>> {
                let (id, tensor, mapper) = param.consume();
                let noise = Tensor::random(tensor.shape(), burn::tensor::Distribution::Normal(0.0, 0.3), self.0);
                Param::from_mapped_value(id, tensor + noise, mapper)
            }
        }
        net.map(&mut Jitter(device))
    }

    fn host_net_matches_the_backend_on(net: crate::BlobNet<crate::CpuBackend>, device: crate::CpuDevice, head: ValueHead) {
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(8);
        let mut leaves = Vec::new();
        for deal in 0..40 {
            let mut round = Round::deal(3 + deal % 6, 1 + deal % 5, deal % 3, game::TRUMP_CYCLE[deal % 5], &mut rng).unwrap();
            for _ in 0..deal % 9 {
                let action = round.legal_actions().sample(&mut rng).unwrap();
                round.apply_legal(action);
            }
            leaves.push(Leaf::of_info(round.info_set(round.to_act())));
            leaves.push(Leaf::in_world(&round, None));
        }
        assert!(leaves.len() > 64, "more than one block of rows");
        let mut host = NetEvaluator::new(net.clone(), device).with_value_head(head);
        assert!(host.host_net.is_some(), "the CPU backend runs the forward pass on the host");
        let mut dense = NetEvaluator::new(net, device).with_value_head(head).on_backend();
        let mut out_host = vec![Evaluation::default(); leaves.len()];
        let mut out_dense = out_host.clone();
        host.evaluate(&leaves, &mut out_host);
        dense.evaluate(&leaves, &mut out_dense);
        for ((leaf, a), b) in leaves.iter().zip(&out_host).zip(&out_dense) {
            let players = leaf.info.view().players();
            for (x, y) in a.policy.iter().zip(&b.policy).chain(a.values[..players].iter().zip(&b.values[..players])) {
                assert!((x - y).abs() < 1e-5, "{x} vs {y}");
            }
            assert!((0..ACTIONS).filter(|i| leaf.legal.mask & (1 << i) == 0).all(|i| a.policy[i] == 0.0));
        }
    }

    #[test]
    fn game_values_convert_to_round_values_around_rho() {
        let (round_max, later_max, rho) = (13.0, 50.0, 0.4);
        // A seat expected to score rho in every round, this one included, is at rho on both
        // scales.
        assert!((round_value(rho, round_max, later_max, rho) - rho).abs() < 1e-6);
        // Scoring the whole of this round and rho after it: round value 1; nothing: 0.
        let whole = (round_max + rho * later_max) / (round_max + later_max);
        assert!((round_value(whole, round_max, later_max, rho) - 1.0).abs() < 1e-6);
        let nothing = rho * later_max / (round_max + later_max);
        assert!(round_value(nothing, round_max, later_max, rho).abs() < 1e-6);
        // The last round of a game (or a one-round game): the scales are the same.
        assert!((round_value(0.77, round_max, 0.0, rho) - 0.77).abs() < 1e-6);
        // Linear: a game-value difference is magnified by (round_max + later_max) / round_max.
        let gap = round_value(0.6, round_max, later_max, rho) - round_value(0.5, round_max, later_max, rho);
        assert!((gap - 0.1 * 63.0 / 13.0).abs() < 1e-5);
    }

    #[test]
    fn a_bid_is_valued_by_the_chance_of_exactly_its_tricks_among_those_still_possible() {
        let mut p = [0.0f32; TRICK_CLASSES];
        p[..4].copy_from_slice(&[0.1, 0.2, 0.3, 0.4]);
        let close = |a: f32, b: f32| (a - b).abs() < 1e-6;
        // Three cards, nothing played: bid 1 scores 11 / 13 with probability 0.2.
        assert!(close(tricks_value(&p, 1, 0, 3, 3), 0.2 * 11.0 / 13.0));
        // A trick won, two to play: 1 to 3 tricks are possible, 0.9 of the mass.
        assert!(close(tricks_value(&p, 1, 1, 2, 3), 0.2 / 0.9 * 11.0 / 13.0));
        // Bids out of reach: over already, or more than the tricks left can bring.
        assert_eq!(tricks_value(&p, 0, 1, 2, 3), 0.0);
        assert_eq!(tricks_value(&p, 3, 1, 1, 3), 0.0);
        // The last trick played: the outcome is certain, whatever the network says.
        assert!(close(tricks_value(&p, 2, 2, 0, 3), 12.0 / 13.0));
    }

    /// Rows come relative to the leaf's seat to act; values go out by absolute seat, a seat that
    /// has bid valued from its tricks distribution, the others by the value head.
    #[test]
    fn with_a_tricks_head_seats_that_have_bid_are_valued_from_their_tricks() {
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(3);
        let mut round = Round::deal(4, 3, 0, None, &mut rng).unwrap();
        round.apply(Action::Bid(1)).unwrap(); // seat 1
        round.apply(Action::Bid(0)).unwrap(); // seat 2
        assert_eq!(round.to_act(), 3);
        let leaf = Leaf::of_info(round.info_set(3));
        // Relative seat r: value head 0.5 + r / 10; P(1 trick) = (r + 1) / 10, P(0) the rest.
        let mut row = vec![1.0 / ACTIONS as f32; ACTIONS];
        row.extend((0..VALUES).map(|r| 0.5 + r as f32 / 10.0));
        for r in 0..VALUES {
            let mut p = [0.0; TRICK_CLASSES];
            p[1] = (r + 1) as f32 / 10.0;
            p[0] = 1.0 - p[1];
            row.extend(p);
        }
        let mut out = [Evaluation { policy: [0.0; ACTIONS], values: [0.0; MAX_PLAYERS] }];
        HostSide::new(ValueHead::Round).decode(&[leaf], &row, row.len(), &mut out);
        let values = out[0].values;
        let close = |a: f32, b: f32| (a - b).abs() < 1e-6;
        // Seat 3 (relative 0) and seat 0 (relative 1) have not bid: the value head.
        assert!(close(values[3], 0.5) && close(values[0], 0.6), "{values:?}");
        // Seat 1 (relative 2) bid 1: P(1) = 0.3; seat 2 (relative 3) bid 0: P(0) = 0.6.
        assert!(close(values[1], 0.3 * 11.0 / 13.0) && close(values[2], 0.6 * 10.0 / 13.0), "{values:?}");
        // Without the tricks part, every seat is valued by the value head.
        HostSide::new(ValueHead::Round).decode(&[leaf], &row[..ROW], ROW, &mut out);
        assert!(close(out[0].values[1], 0.7) && close(out[0].values[2], 0.8));
    }

    #[test]
    fn rho_is_the_mean_scaled_score_per_seat_per_round() {
        assert_eq!(mean_scaled_score([]), None);
        let card = |text: &str| text.parse::<Card>().unwrap();
        // Three players, one card, spades trump: seats 1 and 2 bid 0 and make it (10 / 11
        // each), the dealer is hooked into 0 and takes the trick with the ace (0).
        let hands: Vec<CardSet> = ["As", "2c", "3c"].iter().map(|c| std::iter::once(card(c)).collect()).collect();
        let mut round = Round::new(3, 1, 0, Some(Suit::Spades), &hands).unwrap();
        for action in [Action::Bid(0), Action::Bid(0), Action::Bid(0), Action::Play(card("2c")), Action::Play(card("3c")), Action::Play(card("As"))] {
            round.apply(action).unwrap();
        }
        let mean = mean_scaled_score([&round]).unwrap();
        assert!((mean - 20.0 / 33.0).abs() < 1e-6, "{mean}");
        // Seats, not rounds, are averaged: a round of four players weighs 4/3 as much.
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
        let mut other = Round::deal(4, 2, 0, None, &mut rng).unwrap();
        while let Some(action) = other.legal_actions().sample(&mut rng) {
            other.apply_legal(action);
        }
        let both = mean_scaled_score([&round, &other]).unwrap();
        let other_sum: f64 = other.scaled_scores()[..4].iter().map(|&s| s as f64).sum();
        assert!((both - (20.0 / 11.0 + other_sum) / 7.0).abs() < 1e-6);
    }
}
