//! Perfect-Information Monte Carlo (PIMC): a search baseline that needs no network.
//!
//! For each decision the bot samples `worlds` full deals consistent with its information set
//! (exactly, with one `Determinizer` per decision), and in each world scores every legal action
//! by `playouts` playouts to the end of the round under a rule policy. It plays the action with
//! the best mean own round score; ties go to the lowest action index.
//!
//! The rule policy plays to make the bid exactly: seats still to bid bid as `HeuristicBot` does
//! from their hand in the world; in play every seat (the bot's own included, aiming at its own
//! bid) plays `HeuristicBot`'s card, except that with probability `RANDOM_MOVE_SHARE` it plays a
//! uniformly random legal card instead. The rules read only the seat's own hand and the public
//! state, so on a perfect-information world they choose what `HeuristicBot` would.
//!
//! Playouts work on the `Copy` `Round` with `apply_legal` and allocate nothing. All randomness
//! comes from the `rng` given to `act` (one `next_u64` per decision seeds a local generator), so
//! the same information set and rng state give the same action.

use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use thiserror::Error;

use crate::bots::{Bot, HeuristicBot};
use crate::determinize::{DeterminizeError, Determinizer};
use crate::info::InfoSet;
use crate::round::{Action, Phase, Round};

/// Share of card plays in a playout that are uniformly random instead of the rule's card.
const RANDOM_MOVE_SHARE: f64 = 0.1;

/// Why a `PimcBot` cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PimcError {
    #[error("worlds must be 1..={max}, got {got}", max = PimcBot::MAX_WORLDS)]
    Worlds { got: usize },
    #[error("playouts must be 1..={max}, got {got}", max = PimcBot::MAX_PLAYOUTS)]
    Playouts { got: usize },
}

/// Perfect-Information Monte Carlo with rule-policy playouts (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PimcBot {
    worlds: usize,
    playouts: usize,
}

impl Default for PimcBot {
    /// `DEFAULT_WORLDS` x `DEFAULT_PLAYOUTS` (400 x 4).
    fn default() -> PimcBot {
        PimcBot { worlds: PimcBot::DEFAULT_WORLDS, playouts: PimcBot::DEFAULT_PLAYOUTS }
    }
}

impl PimcBot {
    /// Worlds sampled per decision by `PimcBot::default()`.
    pub const DEFAULT_WORLDS: usize = 400;
    /// Playouts per world and legal action by `PimcBot::default()`.
    pub const DEFAULT_PLAYOUTS: usize = 4;
    /// Largest accepted `worlds`.
    pub const MAX_WORLDS: usize = 100_000;
    /// Largest accepted `playouts`.
    pub const MAX_PLAYOUTS: usize = 1_000;

    /// `worlds` sampled deals per decision (1..=`MAX_WORLDS`), `playouts` per world and legal
    /// action (1..=`MAX_PLAYOUTS`).
    pub fn new(worlds: usize, playouts: usize) -> Result<PimcBot, PimcError> {
        if !(1..=PimcBot::MAX_WORLDS).contains(&worlds) {
            return Err(PimcError::Worlds { got: worlds });
        }
        if !(1..=PimcBot::MAX_PLAYOUTS).contains(&playouts) {
            return Err(PimcError::Playouts { got: playouts });
        }
        Ok(PimcBot { worlds, playouts })
    }

    pub fn worlds(&self) -> usize {
        self.worlds
    }

    pub fn playouts(&self) -> usize {
        self.playouts
    }

    /// Every legal action of the observer (who must be the seat to act) in index order, with
    /// its mean own round score over `worlds` x `playouts` playouts. Draws one `next_u64` from
    /// `rng`. Fails only if no deal is consistent with `info`, which a real information set
    /// never is.
    pub fn action_values<R: RngCore + ?Sized>(
        &self,
        info: &InfoSet,
        rng: &mut R,
    ) -> Result<Vec<(Action, f64)>, DeterminizeError> {
        let samples = (self.worlds * self.playouts) as f64;
        Ok(self.totals(info, rng)?.into_iter().map(|(action, total)| (action, total as f64 / samples)).collect())
    }

    /// Summed own scores per legal action (integers, so ties are exact).
    fn totals<R: RngCore + ?Sized>(&self, info: &InfoSet, rng: &mut R) -> Result<Vec<(Action, i64)>, DeterminizeError> {
        let mut determinizer = Determinizer::new(info)?;
        let mut rng = SmallRng::seed_from_u64(rng.next_u64());
        let seat = info.observer();
        let mut totals: Vec<(Action, i64)> = info.view().legal_actions().iter().map(|a| (a, 0)).collect();
        // One seed per playout index, shared by every action of a world (common random numbers:
        // the actions are compared on the same random draws as far as the playouts allow).
        let mut seeds = vec![0u64; self.playouts];
        for _ in 0..self.worlds {
            let world = determinizer.sample(&mut rng);
            seeds.iter_mut().for_each(|seed| *seed = rng.next_u64());
            for (action, total) in totals.iter_mut() {
                let mut start = world;
                start.apply_legal(*action);
                // The rest of the bidding uses no randomness: do it once for all playouts.
                bid_out(&mut start);
                for &seed in &seeds {
                    let mut round = start;
                    rule_playout(&mut round, &mut SmallRng::seed_from_u64(seed));
                    *total += round.score(seat) as i64;
                }
            }
        }
        Ok(totals)
    }
}

impl Bot for PimcBot {
    fn name(&self) -> &str {
        "pimc"
    }

    fn act(&mut self, info: &InfoSet, rng: &mut dyn RngCore) -> Action {
        let legal = info.view().legal_actions();
        match legal.len() {
            0 => panic!("PimcBot asked to act in a finished round"),
            1 => return legal.nth(0).expect("one legal action"),
            _ => {}
        }
        match self.totals(info, rng) {
            // The first of the best totals: the lowest action index.
            Ok(totals) => totals.iter().fold(totals[0], |best, &next| if next.1 > best.1 { next } else { best }).0,
            Err(_) => HeuristicBot.act(info, rng),
        }
    }
}

/// Finish the bidding (if any is left) with `HeuristicBot`'s bid for each seat.
fn bid_out(round: &mut Round) {
    while round.phase() == Phase::Bidding {
        let seat = round.to_act();
        round.apply_legal(Action::Bid(HeuristicBot::bid(round, seat)));
    }
}

/// Play `round` (a full, perfect-information round) to its end with the rule policy: remaining
/// bids as `HeuristicBot` bids; each card as `HeuristicBot` plays, or with probability
/// `RANDOM_MOVE_SHARE` a uniformly random legal card. Forced cards draw no randomness.
pub fn rule_playout<R: Rng + ?Sized>(round: &mut Round, rng: &mut R) {
    bid_out(round);
    while !round.is_over() {
        let legal = round.legal_actions();
        let action = if legal.len() == 1 {
            legal.nth(0).expect("one legal card")
        } else if rng.gen_bool(RANDOM_MOVE_SHARE) {
            legal.sample(rng).expect("a legal card")
        } else {
            Action::Play(HeuristicBot::play(round, round.to_act()))
        };
        round.apply_legal(action);
    }
}
