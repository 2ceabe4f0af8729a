//! Cards, suits and bitboard card sets.
//!
//! Card index = suit * 13 + (value - 2): 2♠ = 0, A♠ = 12, 2♥ = 13, A♦ = 51 (RULES.md).

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// One of the four suits, in the index order of RULES.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Suit {
    Spades = 0,
    Hearts = 1,
    Clubs = 2,
    Diamonds = 3,
}

impl Suit {
    pub const ALL: [Suit; 4] = [Suit::Spades, Suit::Hearts, Suit::Clubs, Suit::Diamonds];

    pub fn from_index(index: u8) -> Option<Suit> {
        Suit::ALL.get(index as usize).copied()
    }

    pub fn index(self) -> u8 {
        self as u8
    }

    pub fn letter(self) -> char {
        ['s', 'h', 'c', 'd'][self as usize]
    }

    pub fn from_letter(letter: char) -> Option<Suit> {
        match letter.to_ascii_lowercase() {
            's' => Some(Suit::Spades),
            'h' => Some(Suit::Hearts),
            'c' => Some(Suit::Clubs),
            'd' => Some(Suit::Diamonds),
            _ => None,
        }
    }
}

impl fmt::Display for Suit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}

/// A playing card, stored as its index 0..52.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Card(u8);

const RANK_CHARS: [char; 13] = ['2', '3', '4', '5', '6', '7', '8', '9', 'T', 'J', 'Q', 'K', 'A'];

impl Card {
    /// `value` is 2..=14 (ace high).
    pub fn new(suit: Suit, value: u8) -> Card {
        assert!((2..=14).contains(&value), "card value {value} out of 2..=14");
        Card(suit as u8 * 13 + (value - 2))
    }

    pub fn from_index(index: u8) -> Option<Card> {
        (index < 52).then_some(Card(index))
    }

    pub fn index(self) -> u8 {
        self.0
    }

    pub fn suit(self) -> Suit {
        Suit::ALL[(self.0 / 13) as usize]
    }

    /// Rank value 2..=14.
    pub fn value(self) -> u8 {
        self.0 % 13 + 2
    }
}

impl fmt::Display for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", RANK_CHARS[(self.value() - 2) as usize], self.suit().letter())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown card {0:?} (expected rank 2-9,T,J,Q,K,A then suit s,h,c,d, e.g. \"Ts\")")]
pub struct ParseCardError(pub String);

impl FromStr for Card {
    type Err = ParseCardError;

    fn from_str(text: &str) -> Result<Card, ParseCardError> {
        let err = || ParseCardError(crate::record::shorten(text, crate::record::QUOTED_CHARS));
        let mut chars = text.chars();
        let (Some(rank), Some(suit), None) = (chars.next(), chars.next(), chars.next()) else {
            return Err(err());
        };
        let value = RANK_CHARS
            .iter()
            .position(|&r| r == rank.to_ascii_uppercase())
            .ok_or_else(err)? as u8
            + 2;
        let suit = Suit::from_letter(suit).ok_or_else(err)?;
        Ok(Card::new(suit, value))
    }
}

/// A set of cards as a 52-bit bitboard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CardSet(pub u64);

impl CardSet {
    pub const EMPTY: CardSet = CardSet(0);
    pub const DECK: CardSet = CardSet((1 << 52) - 1);

    pub fn suit(suit: Suit) -> CardSet {
        CardSet(0x1fff << (13 * suit as u32))
    }

    pub fn single(card: Card) -> CardSet {
        CardSet(1 << card.0)
    }

    pub fn contains(self, card: Card) -> bool {
        self.0 & (1 << card.0) != 0
    }

    pub fn insert(&mut self, card: Card) {
        self.0 |= 1 << card.0;
    }

    pub fn remove(&mut self, card: Card) {
        self.0 &= !(1 << card.0);
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn of_suit(self, suit: Suit) -> CardSet {
        self & CardSet::suit(suit)
    }

    pub fn has_suit(self, suit: Suit) -> bool {
        !self.of_suit(suit).is_empty()
    }

    /// Lowest-index card, if any.
    pub fn first(self) -> Option<Card> {
        (self.0 != 0).then(|| Card(self.0.trailing_zeros() as u8))
    }

    /// Highest-index card, if any.
    pub fn last(self) -> Option<Card> {
        (self.0 != 0).then(|| Card(63 - self.0.leading_zeros() as u8))
    }

    /// The `k`-th card (0-based) in index order.
    pub fn nth(self, k: usize) -> Option<Card> {
        let mut bits = self.0;
        for _ in 0..k {
            bits &= bits.wrapping_sub(1);
        }
        CardSet(bits).first()
    }

    pub fn iter(self) -> CardSetIter {
        CardSetIter(self.0)
    }
}

impl std::ops::BitOr for CardSet {
    type Output = CardSet;
    fn bitor(self, rhs: CardSet) -> CardSet {
        CardSet(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for CardSet {
    fn bitor_assign(&mut self, rhs: CardSet) {
        self.0 |= rhs.0;
    }
}

impl std::ops::BitAnd for CardSet {
    type Output = CardSet;
    fn bitand(self, rhs: CardSet) -> CardSet {
        CardSet(self.0 & rhs.0)
    }
}

impl std::ops::Sub for CardSet {
    type Output = CardSet;
    fn sub(self, rhs: CardSet) -> CardSet {
        CardSet(self.0 & !rhs.0)
    }
}

impl std::ops::Not for CardSet {
    type Output = CardSet;
    fn not(self) -> CardSet {
        CardSet(!self.0 & CardSet::DECK.0)
    }
}

impl FromIterator<Card> for CardSet {
    fn from_iter<I: IntoIterator<Item = Card>>(iter: I) -> CardSet {
        let mut set = CardSet::EMPTY;
        for card in iter {
            set.insert(card);
        }
        set
    }
}

/// Cards separated by white space (`"As Td 2c"`); a card named twice is in the set once.
impl FromStr for CardSet {
    type Err = ParseCardError;

    fn from_str(text: &str) -> Result<CardSet, ParseCardError> {
        text.split_whitespace().map(str::parse::<Card>).collect()
    }
}

impl IntoIterator for CardSet {
    type Item = Card;
    type IntoIter = CardSetIter;
    fn into_iter(self) -> CardSetIter {
        self.iter()
    }
}

/// Iterates a card set in index order.
#[derive(Clone, Copy, Debug)]
pub struct CardSetIter(u64);

impl Iterator for CardSetIter {
    type Item = Card;

    fn next(&mut self) -> Option<Card> {
        let card = CardSet(self.0).first()?;
        self.0 &= self.0 - 1;
        Some(card)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.count_ones() as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for CardSetIter {}

impl fmt::Display for CardSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, card) in self.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            write!(f, "{card}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_indices_follow_the_rules() {
        assert_eq!(Card::new(Suit::Spades, 2).index(), 0);
        assert_eq!(Card::new(Suit::Spades, 14).index(), 12);
        assert_eq!(Card::new(Suit::Hearts, 2).index(), 13);
        assert_eq!(Card::new(Suit::Diamonds, 14).index(), 51);
    }

    #[test]
    fn every_card_round_trips_through_text() {
        for i in 0..52 {
            let card = Card::from_index(i).unwrap();
            assert_eq!(card.to_string().parse::<Card>().unwrap(), card);
        }
        assert_eq!("Ts".parse::<Card>().unwrap(), Card::new(Suit::Spades, 10));
        assert_eq!("Ad".parse::<Card>().unwrap().index(), 51);
        for bad in ["", "1s", "Tx", "10s", "Tss", "s"] {
            assert!(bad.parse::<Card>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn card_set_operations() {
        let set: CardSet = ["As", "2h", "Kd"].iter().map(|s| s.parse::<Card>().unwrap()).collect();
        assert_eq!(set.len(), 3);
        assert!(set.has_suit(Suit::Hearts));
        assert!(!set.has_suit(Suit::Clubs));
        assert_eq!(set.nth(1).unwrap().to_string(), "2h");
        assert_eq!(set.last().unwrap().to_string(), "Kd");
        assert_eq!(set.to_string(), "As 2h Kd");
        assert_eq!((!set).len(), 49);
        assert_eq!(CardSet::DECK.len(), 52);
        assert_eq!(CardSet::suit(Suit::Clubs).len(), 13);
    }

    #[test]
    fn card_sets_parse_from_their_text() {
        let set: CardSet = "As 2h Kd".parse().unwrap();
        assert_eq!(set.to_string(), "As 2h Kd");
        assert_eq!(set.to_string().parse::<CardSet>(), Ok(set));
        assert_eq!("  Kd\tAs  2h As ".parse::<CardSet>(), Ok(set));
        assert_eq!("".parse::<CardSet>(), Ok(CardSet::EMPTY));
        let err = "As Xx 2h".parse::<CardSet>().unwrap_err();
        assert_eq!(err, ParseCardError("Xx".into()));
    }
}
