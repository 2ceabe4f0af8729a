//! Baseline players for evaluation: uniformly random, and a rule-based heuristic.

use rand::RngCore;

use crate::card::{Card, CardSet, Suit};
use crate::info::InfoSet;
use crate::round::{beats, Action, Phase, Round};

/// A player that chooses an action from its information set alone.
pub trait Bot {
    fn name(&self) -> &str;
    /// A legal action for the observer of `info`, who must be the seat to act.
    fn act(&mut self, info: &InfoSet, rng: &mut dyn RngCore) -> Action;
}

/// Plays a uniformly random legal action.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomBot;

impl Bot for RandomBot {
    fn name(&self) -> &str {
        "random"
    }

    fn act(&mut self, info: &InfoSet, rng: &mut dyn RngCore) -> Action {
        info.view().legal_actions().sample(rng).expect("the observer has a legal action")
    }
}

/// Bids the expected tricks of its high cards and trumps, then plays to make the bid exactly:
/// wins cheaply while under its bid, ducks once it is made.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeuristicBot;

impl HeuristicBot {
    /// Rough chance that `card` takes a trick.
    fn win_chance(card: Card, trump: Option<Suit>, hand: CardSet) -> f64 {
        let value = card.value();
        if Some(card.suit()) == trump {
            return match value {
                14 => 1.0,
                13 => 0.85,
                12 => 0.7,
                11 => 0.55,
                _ => 0.35,
            };
        }
        let suit_length = hand.of_suit(card.suit()).len();
        match (value, trump) {
            (14, None) => 0.95,
            (14, Some(_)) => 0.85,
            (13, None) if suit_length >= 2 => 0.6,
            (13, Some(_)) if suit_length >= 2 => 0.45,
            (12, _) if suit_length >= 3 => 0.2,
            _ => 0.0,
        }
    }

    /// Card strength for choosing among plays: trumps above every plain card.
    fn strength(card: Card, trump: Option<Suit>) -> u8 {
        card.value() + if Some(card.suit()) == trump { 13 } else { 0 }
    }

    /// The heuristic's bid for `seat`, the seat to act in a bidding `round`. Reads only that
    /// seat's hand and public state, so it may be given a full (perfect-information) round: the
    /// choice is the same as from the seat's information set.
    pub(crate) fn bid(round: &Round, seat: usize) -> u8 {
        let hand = round.hand(seat);
        let expected: f64 = hand.iter().map(|c| Self::win_chance(c, round.trump(), hand)).sum();
        let legal = round.legal_actions();
        // The legal bid closest to the expectation (the hook may forbid the nearest one).
        (0..=round.cards() as u8)
            .filter(|&b| legal.contains(Action::Bid(b)))
            .min_by(|&a, &b| (a as f64 - expected).abs().total_cmp(&(b as f64 - expected).abs()))
            .expect("some bid is always legal")
    }

    /// The heuristic's card for `seat`, the seat to act in a playing `round`. Reads only that
    /// seat's hand and public state (like `bid`), and allocates nothing: it runs in playouts.
    pub(crate) fn play(round: &Round, seat: usize) -> Card {
        let trump = round.trump();
        let legal = CardSet(round.legal_actions().mask);
        let wants_tricks = round.bid(seat).unwrap_or(0) > round.tricks_won(seat);
        let strength = |c: &Card| Self::strength(*c, trump);
        let trick = round.current_trick();
        let Some(position) = trick.winning_position(trump) else {
            // Leading: a strong card when tricks are wanted, else the weakest.
            return if wants_tricks {
                legal.iter().max_by_key(|c| Self::win_chance(*c, trump, legal).mul_add(100.0, strength(c) as f64) as u32)
            } else {
                legal.iter().min_by_key(strength)
            }
            .expect("a hand to lead from");
        };
        let best = trick.cards()[position];
        // Partition as card sets: both halves iterate in the same index order as `legal`.
        let winners: CardSet = legal.iter().filter(|c| beats(*c, best, trump)).collect();
        let losers = legal - winners;
        let choice = if wants_tricks {
            // Cheapest card that takes the lead, else throw the weakest.
            winners.iter().min_by_key(strength).or_else(|| losers.iter().min_by_key(strength))
        } else {
            // Duck with the highest loser, else win with the highest card to shed it.
            losers.iter().max_by_key(strength).or_else(|| winners.iter().max_by_key(strength))
        };
        choice.expect("a legal card")
    }
}

impl Bot for HeuristicBot {
    fn name(&self) -> &str {
        "heuristic"
    }

    fn act(&mut self, info: &InfoSet, _rng: &mut dyn RngCore) -> Action {
        match info.view().phase() {
            Phase::Bidding => Action::Bid(Self::bid(info.view(), info.observer())),
            Phase::Playing => Action::Play(Self::play(info.view(), info.observer())),
            Phase::Done => panic!("HeuristicBot asked to act in a finished round"),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The rule code works on a `Round` + seat, so that PIMC playouts can run it on full worlds.

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::game::TRUMP_CYCLE;
    use crate::round::max_cards;

    /// Many rounds (3-8 players, every size, all trumps and dealers), driven by a mix of
    /// heuristic and random moves; checks every position on the way.
    fn for_each_position(mut check: impl FnMut(&Round)) {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for d in 0..3_000usize {
            let players = 3 + d % 6;
            let cards = 1 + (d / 6) % max_cards(players);
            let mut round = Round::deal(players, cards, d % players, TRUMP_CYCLE[d % 5], &mut rng).unwrap();
            while !round.is_over() {
                check(&round);
                let action = if rng.gen_bool(0.3) {
                    round.legal_actions().sample(&mut rng).unwrap()
                } else {
                    HeuristicBot.act(&round.info_set(round.to_act()), &mut rng)
                };
                round.apply(action).unwrap();
            }
        }
    }

    #[test]
    fn rule_code_on_a_full_round_matches_the_information_set() {
        // What PIMC relies on: on a perfect-information world the rules read only the seat's
        // own hand and public state, so they choose exactly what HeuristicBot chooses.
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for_each_position(|round| {
            let seat = round.to_act();
            let full = match round.phase() {
                Phase::Bidding => Action::Bid(HeuristicBot::bid(round, seat)),
                _ => Action::Play(HeuristicBot::play(round, seat)),
            };
            assert_eq!(full, HeuristicBot.act(&round.info_set(seat), &mut rng), "{round:?}");
        });
    }
}
