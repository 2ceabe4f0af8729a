//! The boundary between search and whatever values positions: a batch of leaves (information
//! sets, with the game around the round in game mode) in, a policy and per-seat values out.
//! The search never depends on how (network, rollouts).

use game::{Actions, CardSet, Determinizer, GameContext, InfoSet, Round, ACTIONS, MAX_PLAYERS};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;


/// The evaluation of one leaf.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Prior probabilities over action indices; only the legal entries are read (they are
    /// renormalised, and a policy with no positive legal mass is replaced by a uniform one).
    pub policy: [f32; ACTIONS],
    /// Expected round score of every ABSOLUTE seat, on the `Round::scaled_scores` scale [0, 1].
    /// Entries beyond the number of players are ignored.
    pub values: [f32; MAX_PLAYERS],
}

impl Default for Evaluation {
    fn default() -> Evaluation {
        Evaluation { policy: [0.0; ACTIONS], values: [0.0; MAX_PLAYERS] }
    }
}

/// A position to value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// The information set of the seat to act at the leaf (observer == `view().to_act()`),
    /// built from one determinized world: an evaluator sees exactly what that player would
    /// see.
    pub info: InfoSet,
    /// In game mode, the game around the round (the same for every leaf of one search: later
    /// rounds are not searched); `None` for a lone round.
    pub game: Option<GameContext>,
    /// Every absolute seat's hand in the sampled world the leaf belongs to, for an evaluator
    /// that values the world with every card known (a perfect-information value, as PIMC
    /// plays each world out). `None` for the root, which stands for every world at once.
    pub hands: Option<[CardSet; MAX_PLAYERS]>,
    /// The legal actions of the seat to act, computed once where the leaf is made (the search
    /// needs them to expand the node, the evaluator to mask the policy). Empty when the round
    /// is over or the observer is not to act.
    pub legal: Actions,
}

impl Leaf {
    /// A leaf of `info` with its game context and, when it belongs to a world, the world's hands.
    pub fn new(info: InfoSet, game: Option<GameContext>, hands: Option<[CardSet; MAX_PLAYERS]>) -> Leaf {
        Leaf { info, game, hands, legal: info.legal_actions() }
    }

    /// A leaf of the lone round `info` with no world (a root, or the information set alone).
    pub fn of_info(info: InfoSet) -> Leaf {
        Leaf::new(info, None, None)
    }

    /// The leaf of the seat to act in `world`, a full deal (not over), with its hands shown.
    pub fn in_world(world: &Round, game: Option<GameContext>) -> Leaf {
        Leaf { info: InfoSet::new(world, world.to_act()), game, hands: Some(hands_of(world)), legal: world.legal_actions() }
    }
}

/// Every seat's current hand in `round` (empty beyond its players).
pub fn hands_of(round: &Round) -> [CardSet; MAX_PLAYERS] {
    std::array::from_fn(|seat| if seat < round.players() { round.hand(seat) } else { CardSet::EMPTY })
}

/// Values a batch of leaves. Values are on the round scale (see [`Evaluation`]) in game mode
/// too, so that they compare with the exact scores of finished rounds in the tree. `out` has
/// the batch's length; every entry must be written. `Send` so that the driver can run it on
/// its own thread while it selects the next leaves.
pub trait Evaluator: Send {
    fn evaluate(&mut self, batch: &[Leaf], out: &mut [Evaluation]);
}

/// A uniform prior over the legal actions of `info`'s player.
pub fn uniform_policy(info: &InfoSet) -> [f32; ACTIONS] {
    let legal = info.view().legal_actions();
    let mut policy = [0.0; ACTIONS];
    let p = 1.0 / legal.len().max(1) as f32;
    for action in legal.iter() {
        policy[action.index()] = p;
    }
    policy
}

/// Uniform priors and one constant value for every seat: the search's own cost with no model
/// (benchmarks), and a neutral evaluator under which only terminal scores inform the search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UniformEvaluator {
    pub value: f32,
}

impl Default for UniformEvaluator {
    fn default() -> UniformEvaluator {
        UniformEvaluator { value: 0.5 }
    }
}

impl Evaluator for UniformEvaluator {
    fn evaluate(&mut self, batch: &[Leaf], out: &mut [Evaluation]) {
        for (leaf, eval) in batch.iter().zip(out.iter_mut()) {
            eval.policy = uniform_policy(&leaf.info);
            eval.values = [self.value; MAX_PLAYERS];
        }
    }
}

/// Uniform priors and values from random playouts: each leaf's hidden hands are sampled from
/// the leaf player's information set, then the round is played out at random, `rollouts`
/// times (round values, whatever the game around the round). A model-free baseline. Each
/// leaf's randomness comes from `seed` and a hash of its information set, so the result does
/// not depend on how leaves are batched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RolloutEvaluator {
    rollouts: u32,
    seed: u64,
}

impl RolloutEvaluator {
    /// `rollouts` below 1 is raised to 1.
    pub fn new(rollouts: u32, seed: u64) -> RolloutEvaluator {
        RolloutEvaluator { rollouts: rollouts.max(1), seed }
    }

    fn evaluate_one(&self, info: &InfoSet) -> Evaluation {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ game::stable_hash(info));
        let mut values = [0.0; MAX_PLAYERS];
        // A leaf comes from a consistent world, so its information set is consistent too;
        // should that ever fail, a neutral value is safer than a panic in the search.
        match Determinizer::new(info) {
            Ok(mut determinizer) => {
                for _ in 0..self.rollouts {
                    let mut round = determinizer.sample(&mut rng);
                    while let Some(action) = round.legal_actions().sample(&mut rng) {
                        round.apply_legal(action);
                    }
                    for (sum, score) in values.iter_mut().zip(round.scaled_scores()) {
                        *sum += score / self.rollouts as f32;
                    }
                }
            }
            Err(_) => values = [0.5; MAX_PLAYERS],
        }
        Evaluation { policy: uniform_policy(info), values }
    }
}

impl Evaluator for RolloutEvaluator {
    fn evaluate(&mut self, batch: &[Leaf], out: &mut [Evaluation]) {
        for (leaf, eval) in batch.iter().zip(out.iter_mut()) {
            *eval = self.evaluate_one(&leaf.info);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use game::Round;
    use rand::SeedableRng;

    #[test]
    fn uniform_policy_covers_exactly_the_legal_actions() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let round = Round::deal(4, 5, 0, None, &mut rng).unwrap();
        let info = round.info_set(round.to_act());
        let mut out = [Evaluation::default(); 1];
        UniformEvaluator::default().evaluate(&[Leaf::of_info(info)], &mut out);
        let legal = round.legal_actions();
        for (i, p) in out[0].policy.iter().enumerate() {
            let expected = if legal.mask & (1 << i) != 0 { 1.0 / legal.len() as f32 } else { 0.0 };
            assert_eq!(*p, expected);
        }
        assert_eq!(out[0].values, [0.5; MAX_PLAYERS]);
    }

    #[test]
    fn rollouts_are_a_function_of_the_information_set() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let round = Round::deal(4, 3, 1, None, &mut rng).unwrap();
        let info = round.info_set(round.to_act());
        let mut evaluator = RolloutEvaluator::new(8, 5);
        let mut alone = [Evaluation::default(); 1];
        let mut batched = [Evaluation::default(); 2];
        let leaf = Leaf::of_info;
        evaluator.evaluate(&[leaf(info)], &mut alone);
        evaluator.evaluate(&[leaf(round.info_set((round.to_act() + 1) % 4)), leaf(info)], &mut batched);
        assert_eq!(alone[0], batched[1]);
        assert!(alone[0].values[..4].iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
