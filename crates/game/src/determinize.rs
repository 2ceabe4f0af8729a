//! Determinization: sample the hidden hands uniformly among all deals consistent with an
//! information set (hand sizes, cards seen, voids shown).
//!
//! Voids only depend on suits, so unseen cards fall into groups: one per suit that some seat
//! still to be dealt is void in, and one "free" group for all other suits. A deal is then a
//! matrix of how many cards of each group each seat gets; the number of deals behind a matrix
//! is a product of binomials. Seats are filled one at a time, choosing their group counts with
//! probability proportional to the number of completions (memoised), then the actual cards are
//! drawn uniformly within each group. This is exact sequential conditional sampling: it never
//! rejects, and it succeeds whenever a consistent deal exists.

use std::collections::HashMap;

use rand::Rng;
use thiserror::Error;

use crate::card::{CardSet, Suit};
use crate::info::InfoSet;
use crate::round::{draw, Round, MAX_PLAYERS};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeterminizeError {
    #[error("no deal is consistent with this information set (hand sizes or voids contradict the unseen cards)")]
    Inconsistent,
}

/// A free group plus at most one group per suit.
const MAX_GROUPS: usize = 5;

/// Binomial coefficients C(n, k) for n, k <= 52, as f64 (exact up to 2^53; relative precision
/// is all that sampling needs).
static BINOMIAL: [[f64; 53]; 53] = binomial_table();

const fn binomial_table() -> [[f64; 53]; 53] {
    let mut table = [[0.0; 53]; 53];
    let mut n = 0;
    while n < 53 {
        table[n][0] = 1.0;
        let mut k = 1;
        while k <= n {
            table[n][k] = table[n - 1][k - 1] + if k < n { table[n - 1][k] } else { 0.0 };
            k += 1;
        }
        n += 1;
    }
    table
}

type Counts = [u8; MAX_GROUPS];

#[derive(Clone, Copy, Debug)]
struct HiddenSeat {
    seat: u8,
    need: u8,
    /// Bit g: the seat may hold cards of group g.
    allowed: u8,
}

/// Samples consistent deals for one information set; reuse it for many samples of the same set.
#[derive(Clone, Debug)]
pub struct Determinizer {
    base: Round,
    groups: [CardSet; MAX_GROUPS],
    group_count: usize,
    seats: [HiddenSeat; MAX_PLAYERS],
    seat_count: usize,
    /// Deals whose every seat may take any unseen card: a plain uniform draw.
    unconstrained: bool,
    /// Memoised `completions`, keyed by seat level and remaining group sizes.
    completions: HashMap<u64, f64>,
}

impl Determinizer {
    pub fn new(info: &InfoSet) -> Result<Determinizer, DeterminizeError> {
        let round = info.view();
        let unseen = info.unseen();
        let mut seats = [HiddenSeat { seat: 0, need: 0, allowed: 0 }; MAX_PLAYERS];
        let mut seat_count = 0;
        let mut void_suits = 0u8;
        for seat in (0..round.players()).filter(|&s| s != info.observer()) {
            let need = round.hand_size(seat) as u8;
            if need > 0 {
                seats[seat_count] = HiddenSeat { seat: seat as u8, need, allowed: 0 };
                seat_count += 1;
                void_suits |= round.void_mask(seat);
            }
        }
        // Group 0 is the free group; then one group per voided suit that has unseen cards.
        let mut groups = [CardSet::EMPTY; MAX_GROUPS];
        let mut group_suit = [None; MAX_GROUPS];
        let mut group_count = 1;
        for suit in Suit::ALL {
            let cards = unseen.of_suit(suit);
            if void_suits & (1 << suit.index()) != 0 && !cards.is_empty() {
                groups[group_count] = cards;
                group_suit[group_count] = Some(suit);
                group_count += 1;
            } else {
                groups[0] |= cards;
            }
        }
        for hidden in seats.iter_mut().take(seat_count) {
            let voids = round.void_mask(hidden.seat as usize);
            hidden.allowed = (0..group_count)
                .filter(|&g| group_suit[g].is_none_or(|s| voids & (1 << s.index()) == 0))
                .fold(0, |mask, g| mask | 1 << g);
        }
        let unconstrained = group_count == 1;
        let mut determinizer = Determinizer {
            base: *round,
            groups,
            group_count,
            seats,
            seat_count,
            unconstrained,
            completions: HashMap::new(),
        };
        let needed: usize = seats[..seat_count].iter().map(|s| s.need as usize).sum();
        if needed > unseen.len() || determinizer.completions(0, determinizer.group_sizes()) == 0.0 {
            return Err(DeterminizeError::Inconsistent);
        }
        Ok(determinizer)
    }

    fn group_sizes(&self) -> Counts {
        let mut sizes = [0; MAX_GROUPS];
        for (size, group) in sizes.iter_mut().zip(&self.groups) {
            *size = group.len() as u8;
        }
        sizes
    }

    /// A full round: the information set's public state and the observer's hand, with hidden
    /// hands drawn uniformly among consistent deals.
    pub fn sample<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Round {
        let mut round = self.base;
        if self.unconstrained {
            let mut pool = self.groups[0];
            for hidden in &self.seats[..self.seat_count] {
                round.set_hand(hidden.seat as usize, draw(&mut pool, hidden.need as usize, rng));
            }
            return round;
        }
        let mut remaining = self.group_sizes();
        let mut pools = self.groups;
        for level in 0..self.seat_count {
            let hidden = self.seats[level];
            let mut target = rng.gen::<f64>() * self.completions(level, remaining);
            let mut chosen = None;
            for split in Splits::new(remaining, hidden, self.group_count) {
                let ways = self.ways(level, remaining, split);
                if ways > 0.0 {
                    // Keeping the last positive split also absorbs floating-point rounding.
                    chosen = Some(split);
                    target -= ways;
                    if target < 0.0 {
                        break;
                    }
                }
            }
            let split = chosen.expect("the determinizer was built for a consistent information set");
            let mut hand = CardSet::EMPTY;
            for g in 0..self.group_count {
                hand |= draw(&mut pools[g], split[g] as usize, rng);
                remaining[g] -= split[g];
            }
            round.set_hand(hidden.seat as usize, hand);
        }
        round
    }

    /// Complete deals in which the seat at `level` takes `split` out of `remaining`.
    fn ways(&mut self, level: usize, remaining: Counts, split: Counts) -> f64 {
        let mut rest = remaining;
        let mut ways = 1.0;
        for g in 0..self.group_count {
            ways *= BINOMIAL[remaining[g] as usize][split[g] as usize];
            rest[g] -= split[g];
        }
        ways * self.completions(level + 1, rest)
    }

    /// Number of ways seats `level..` can take their cards from `remaining` (the undealt pile
    /// takes whatever is left, in exactly one way).
    fn completions(&mut self, level: usize, remaining: Counts) -> f64 {
        if level == self.seat_count {
            return 1.0;
        }
        let key = remaining.iter().fold(level as u64, |key, &c| key << 8 | c as u64);
        if let Some(&count) = self.completions.get(&key) {
            return count;
        }
        let hidden = self.seats[level];
        let total = Splits::new(remaining, hidden, self.group_count)
            .map(|split| self.ways(level, remaining, split))
            .sum();
        self.completions.insert(key, total);
        total
    }
}

/// Every way to give a seat `need` cards from the groups it may hold, within `remaining`:
/// an odometer over groups 1.., with group 0 taking the rest.
struct Splits {
    limits: Counts,
    need: u8,
    groups: usize,
    current: Counts,
    done: bool,
}

impl Splits {
    fn new(remaining: Counts, hidden: HiddenSeat, groups: usize) -> Splits {
        let mut limits = [0; MAX_GROUPS];
        for g in 0..groups {
            if hidden.allowed & (1 << g) != 0 {
                limits[g] = remaining[g].min(hidden.need);
            }
        }
        Splits { limits, need: hidden.need, groups, current: [0; MAX_GROUPS], done: false }
    }

    fn advance(&mut self) {
        for g in 1..self.groups {
            if self.current[g] < self.limits[g] {
                self.current[g] += 1;
                return;
            }
            self.current[g] = 0;
        }
        self.done = true;
    }
}

impl Iterator for Splits {
    type Item = Counts;

    fn next(&mut self) -> Option<Counts> {
        while !self.done {
            let others: u8 = self.current[1..self.groups].iter().sum();
            let mut split = self.current;
            self.advance();
            if others <= self.need && self.need - others <= self.limits[0] {
                split[0] = self.need - others;
                return Some(split);
            }
        }
        None
    }
}

/// One consistent deal for `info` (builds a fresh `Determinizer`; reuse one for many samples).
pub fn determinize<R: Rng + ?Sized>(info: &InfoSet, rng: &mut R) -> Result<Round, DeterminizeError> {
    Ok(Determinizer::new(info)?.sample(rng))
}
