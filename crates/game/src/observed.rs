//! The one checked way from outside input to a position (shakmaty's Setup -> Position): a
//! round as one seat has seen it — the table, the hands it knows, the bids and plays — is
//! checked as far as that seat can check it and becomes a [`Round`] consistent with it, or its
//! [`InfoSet`]. Records (every hand known), the engine's requests and the replayer all build
//! positions here.

use thiserror::Error;

use crate::card::{Card, CardSet, Suit};
use crate::info::InfoSet;
use crate::round::{beats, check_table, Action, DealError, Round};

/// A round as seen by one seat, typed (text forms are read by `record`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub players: usize,
    pub cards: usize,
    pub dealer: usize,
    pub trump: Option<Suit>,
    /// Dealt hands, seat 0 first; `None` where the observer does not know them.
    pub hands: Vec<Option<CardSet>>,
    /// Bids in bidding order, from the seat left of the dealer.
    pub bids: Vec<u8>,
    /// Cards in play order.
    pub plays: Vec<Card>,
}

/// Why an observation is not a legal history. Indices of bids and plays count from 1.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ObservationError {
    #[error("{0}")]
    Deal(#[from] DealError),
    #[error("seat {seat} does not exist with {players} players")]
    Seat { seat: usize, players: usize },
    #[error("the hand of seat {0} (the asking seat) must be given")]
    HandUnknown(usize),
    #[error("{count} bids for {players} players")]
    TooManyBids { count: usize, players: usize },
    #[error("{count} plays, a round of {players} x {cards} has {max}", max = players * cards)]
    TooManyPlays { count: usize, players: usize, cards: usize },
    #[error("bid {index}: {reason}")]
    Bid { index: usize, reason: String },
    #[error("play {index}: {reason}")]
    Play { index: usize, reason: String },
    #[error("no deal of the unseen cards fits the voids the other seats have shown")]
    Inconsistent,
}

impl Observation {
    /// A round consistent with everything observed, with the bids and plays applied (each
    /// checked): known hands as given; each unknown hand holds the cards it was seen to play
    /// plus filler from the unseen cards that respects the voids it showed. With every hand
    /// known this is the exact round.
    pub fn round(&self) -> Result<Round, ObservationError> {
        let (players, cards) = (self.players, self.cards);
        check_table(players, cards, self.dealer)?;
        if self.hands.len() != players {
            return Err(DealError::HandCount { players, got: self.hands.len() }.into());
        }
        let mut known_cards = CardSet::EMPTY;
        for (seat, hand) in self.hands.iter().enumerate() {
            let Some(hand) = hand else { continue };
            if let Some(card) = (known_cards & *hand).iter().next() {
                return Err(DealError::Duplicate { card }.into());
            }
            if hand.len() != cards {
                return Err(DealError::HandSize { seat, got: hand.len(), expected: cards }.into());
            }
            known_cards |= *hand;
        }
        if self.bids.len() > players {
            return Err(ObservationError::TooManyBids { count: self.bids.len(), players });
        }
        if self.plays.len() > players * cards {
            return Err(ObservationError::TooManyPlays { count: self.plays.len(), players, cards });
        }
        let mut hands: Vec<CardSet> = self.hands.iter().map(|hand| hand.unwrap_or(CardSet::EMPTY)).collect();
        let unknown: Vec<usize> = (0..players).filter(|&s| self.hands[s].is_none()).collect();
        // With every hand known the actions below are checked by the rules alone, in order, so
        // the first illegal one is the one named.
        if !unknown.is_empty() {
            let (played, voids) = self.attribute()?;
            let all_played = played.iter().fold(CardSet::EMPTY, |all, set| all | *set);
            let needs: Vec<(usize, u8)> = unknown.iter().map(|&s| (cards.saturating_sub(played[s].len()), voids[s])).collect();
            let filler = fill(!(known_cards | all_played), &needs).ok_or(ObservationError::Inconsistent)?;
            for (&s, extra) in unknown.iter().zip(filler) {
                hands[s] = played[s] | extra;
            }
        }

        let mut round = Round::new(players, cards, self.dealer, self.trump, &hands)?;
        for (index, &bid) in self.bids.iter().enumerate() {
            round.apply(Action::Bid(bid)).map_err(|e| ObservationError::Bid { index: index + 1, reason: e.to_string() })?;
        }
        for (index, &card) in self.plays.iter().enumerate() {
            let fail = |reason: String| ObservationError::Play { index: index + 1, reason };
            if round.bids_made() < players {
                return Err(fail(format!("{} of {players} bids made, play starts after bidding", round.bids_made())));
            }
            if let Some(earlier) = already_played(&self.plays[..index], card) {
                return Err(fail(format!("{card} was already played (play {earlier})")));
            }
            round.apply(Action::Play(card)).map_err(|e| fail(e.to_string()))?;
        }
        Ok(round)
    }

    /// The information set of `seat`, whose hand must be known. The filler of the other
    /// unknown hands never reaches it: an information set blanks every hand but its own.
    pub fn info_set(&self, seat: usize) -> Result<InfoSet, ObservationError> {
        Ok(self.round_seen_by(seat)?.info_set(seat))
    }

    /// [`Observation::round`] for an observer `seat`, which must exist and know its own hand.
    pub fn round_seen_by(&self, seat: usize) -> Result<Round, ObservationError> {
        if seat >= self.players {
            return Err(ObservationError::Seat { seat, players: self.players });
        }
        if self.hands.get(seat).is_some_and(Option::is_none) {
            return Err(ObservationError::HandUnknown(seat));
        }
        self.round()
    }

    /// Who played each card (trick leaders follow from the public cards alone): the cards each
    /// seat played and the suits each has shown void in. Checks what an observer can check of
    /// other seats: no card is played twice, and no card comes from a hand known to hold it.
    fn attribute(&self) -> Result<(Vec<CardSet>, Vec<u8>), ObservationError> {
        let players = self.players;
        let mut played = vec![CardSet::EMPTY; players];
        let mut voids = vec![0u8; players];
        let mut leader = (self.dealer + 1) % players;
        for (t, trick) in self.plays.chunks(players).enumerate() {
            let mut best = 0;
            for (position, &card) in trick.iter().enumerate() {
                let index = t * players + position + 1;
                let seat = (leader + position) % players;
                let fail = |reason: String| ObservationError::Play { index, reason };
                if let Some(earlier) = already_played(&self.plays[..index - 1], card) {
                    return Err(fail(format!("{card} was already played (play {earlier})")));
                }
                if let Some(holder) = (0..players).find(|&s| s != seat && self.hands[s].is_some_and(|h| h.contains(card))) {
                    return Err(fail(format!("seat {seat} cannot play {card}: it was dealt to seat {holder}")));
                }
                if card.suit() != trick[0].suit() {
                    voids[seat] |= 1 << trick[0].suit().index();
                }
                if position > 0 && beats(card, trick[best], self.trump) {
                    best = position;
                }
                played[seat].insert(card);
            }
            leader = (leader + best) % players;
        }
        Ok((played, voids))
    }
}

/// The play (counted from 1) among `earlier` that was `card`.
fn already_played(earlier: &[Card], card: Card) -> Option<usize> {
    earlier.iter().position(|&c| c == card).map(|i| i + 1)
}

/// Filler hands from `unseen`: for each `(need, void mask)`, `need` cards of suits outside the
/// mask; `None` when no such split exists. A max flow from seats to suits (at most 7 seats and
/// 4 suits), so it finds a split whenever there is one.
fn fill(unseen: CardSet, seats: &[(usize, u8)]) -> Option<Vec<CardSet>> {
    let k = seats.len();
    let (source, sink) = (0, k + 5);
    let suit_node = |suit: usize| k + 1 + suit;
    let mut capacity = vec![vec![0usize; k + 6]; k + 6];
    for (i, &(need, voids)) in seats.iter().enumerate() {
        capacity[source][i + 1] = need;
        for suit in 0..4 {
            if voids & (1 << suit) == 0 {
                capacity[i + 1][suit_node(suit)] = 52;
            }
        }
    }
    for suit in Suit::ALL {
        capacity[suit_node(suit.index() as usize)][sink] = unseen.of_suit(suit).len();
    }
    let original = capacity.clone();
    // Augmenting paths found by breadth-first search (Edmonds-Karp).
    loop {
        let mut parent = vec![usize::MAX; k + 6];
        parent[source] = source;
        let mut queue = std::collections::VecDeque::from([source]);
        while let Some(node) = queue.pop_front() {
            for next in 0..k + 6 {
                if parent[next] == usize::MAX && capacity[node][next] > 0 {
                    parent[next] = node;
                    queue.push_back(next);
                }
            }
        }
        if parent[sink] == usize::MAX {
            break;
        }
        let mut bottleneck = usize::MAX;
        let mut node = sink;
        while node != source {
            bottleneck = bottleneck.min(capacity[parent[node]][node]);
            node = parent[node];
        }
        let mut node = sink;
        while node != source {
            capacity[parent[node]][node] -= bottleneck;
            capacity[node][parent[node]] += bottleneck;
            node = parent[node];
        }
    }
    if (1..=k).any(|i| capacity[source][i] > 0) {
        return None;
    }
    let mut pool = unseen;
    let hands = (0..k)
        .map(|i| {
            let mut hand = CardSet::EMPTY;
            for suit in Suit::ALL {
                let node = suit_node(suit.index() as usize);
                let count = original[i + 1][node] - capacity[i + 1][node];
                for card in pool.of_suit(suit).iter().take(count) {
                    hand.insert(card);
                    pool.remove(card);
                }
            }
            hand
        })
        .collect();
    Some(hands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cards(text: &str) -> CardSet {
        text.parse().unwrap()
    }

    fn plays(text: &str) -> Vec<Card> {
        text.split_whitespace().map(|c| c.parse().unwrap()).collect()
    }

    fn seen_by_0(hands: Vec<Option<CardSet>>, bids: Vec<u8>, played: &str) -> Observation {
        Observation { players: 3, cards: 2, dealer: 2, trump: None, hands, bids, plays: plays(played) }
    }

    #[test]
    fn unknown_hands_are_filled_consistently_and_never_seen() {
        // Seat 2 shows a void in spades at the first trick; its filler must avoid spades.
        let observation = Observation {
            players: 3,
            cards: 3,
            dealer: 2,
            trump: Some(Suit::Hearts),
            hands: vec![Some(cards("As Ks 2c")), None, None],
            bids: vec![1, 1, 0],
            plays: plays("As 3s 2h"),
        };
        let round = observation.round().unwrap();
        assert!(round.hand(2).iter().all(|c| c.suit() != Suit::Spades), "seat 2 showed a void in spades");
        let info = observation.info_set(0).unwrap();
        assert_eq!(info.hand().to_string(), "Ks 2c");
        assert_eq!(info.view().to_act(), 2, "seat 2 trumped and leads");
        assert_eq!(info.view().void_mask(2), 1);
        for seat in [1, 2] {
            assert!(info.view().hand(seat).is_empty(), "hidden hands stay blank");
        }
        assert!(crate::Determinizer::new(&info).is_ok());
    }

    #[test]
    fn every_hand_known_gives_the_exact_round() {
        let hands = [cards("As Ks"), cards("2h 3h"), cards("4d 5d")];
        let mut exact = Round::new(3, 2, 2, None, &hands).unwrap();
        for action in [Action::Bid(1), Action::Bid(0), Action::Bid(0), Action::Play("As".parse().unwrap())] {
            exact.apply(action).unwrap();
        }
        let observation = seen_by_0(hands.iter().map(|&h| Some(h)).collect(), vec![1, 0, 0], "As");
        assert_eq!(observation.round().unwrap(), exact);
    }

    #[test]
    fn inconsistent_histories_are_refused() {
        let own = || vec![Some(cards("As Ks")), None, None];
        let cases = [
            ("As As", "play 2: As was already played (play 1)"),
            ("As Ks", "play 2: seat 1 cannot play Ks: it was dealt to seat 0"),
            // Seat 1 showed a void in spades, so it cannot have held Qs at the first trick.
            ("As 2h 3h Ks Qs", "play 2: seat 1 must follow s (holds Qs)"),
            ("Qs", "play 1: Qs not in hand of seat 0"),
        ];
        for (played, expected) in cases {
            let err = seen_by_0(own(), vec![1, 0, 0], played).info_set(0).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err} should start with {expected}");
        }
        let hook = Observation { trump: Some(Suit::Spades), ..seen_by_0(own(), vec![1, 1, 0], "") };
        assert_eq!(hook.info_set(0).unwrap_err().to_string(), "bid 3: dealer may not bid 0 (hook)");
        assert_eq!(seen_by_0(vec![None, None, None], vec![], "").info_set(1), Err(ObservationError::HandUnknown(1)));
        assert_eq!(seen_by_0(own(), vec![], "").info_set(3), Err(ObservationError::Seat { seat: 3, players: 3 }));
        let early = seen_by_0(own(), vec![1], "As");
        assert_eq!(early.round().unwrap_err().to_string(), "play 1: 1 of 3 bids made, play starts after bidding");
        let twice = seen_by_0(vec![Some(cards("As Ks")), Some(cards("Ks 2h")), None], vec![], "");
        assert_eq!(twice.round().unwrap_err(), ObservationError::Deal(DealError::Duplicate { card: "Ks".parse().unwrap() }));
        let table = Observation { players: 9, ..seen_by_0(own(), vec![], "") };
        assert_eq!(table.round().unwrap_err(), ObservationError::Deal(DealError::Players(9)));
    }

    #[test]
    fn too_many_voids_for_the_unseen_cards_is_inconsistent() {
        assert!(fill(CardSet::suit(Suit::Hearts), &[(1, 0b0010)]).is_none());
        let hands = fill(CardSet::suit(Suit::Hearts) | CardSet::suit(Suit::Clubs), &[(13, 0b0010), (13, 0)]).unwrap();
        assert_eq!(hands[0], CardSet::suit(Suit::Clubs));
        assert_eq!(hands[1], CardSet::suit(Suit::Hearts));
    }
}
