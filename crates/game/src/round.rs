//! One round of Blob: deal, bidding with the dealer's hook, trick play, scoring.

use std::fmt;

use rand::Rng;
use thiserror::Error;

use crate::card::{Card, CardSet, Suit};

pub const MIN_PLAYERS: usize = 3;
pub const MAX_PLAYERS: usize = 8;
const NO_BID: u8 = u8::MAX;

/// Action indices: bids 0..=n and the 52 cards share one space (a bid b is index b, a card
/// its `Card::index`).
pub const ACTIONS: usize = 52;

/// Largest round size for `players` players: floor(52 / P).
pub fn max_cards(players: usize) -> usize {
    52 / players
}

/// An action: a bid (0..=n) during bidding, a card during play.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Bid(u8),
    Play(Card),
}

impl Action {
    /// Index into the 52 policy outputs: a bid b uses b, a card its card index.
    pub fn index(self) -> usize {
        match self {
            Action::Bid(b) => b as usize,
            Action::Play(card) => card.index() as usize,
        }
    }
}

impl Action {
    /// The short text people and the tools use: "3" for a bid, "As" for a card.
    pub fn short(self) -> String {
        match self {
            Action::Bid(b) => b.to_string(),
            Action::Play(card) => card.to_string(),
        }
    }

    /// Read the short text in `phase`: a bid while bidding, a card while playing (not
    /// checked for legality).
    pub fn parse_in(phase: Phase, text: &str) -> Result<Action, ParseActionError> {
        let text = text.trim();
        match phase {
            Phase::Bidding => text.parse::<u8>().map(Action::Bid).map_err(|_| ParseActionError::NotABid(text.to_string())),
            Phase::Playing => text.parse::<Card>().map(Action::Play).map_err(ParseActionError::NotACard),
            Phase::Done => Err(ParseActionError::RoundOver),
        }
    }
}

/// Why a text is not an action of the phase.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseActionError {
    #[error("not a bid: {:?}", crate::record::shorten(.0, crate::record::QUOTED_CHARS))]
    NotABid(String),
    #[error("not a card: {0}")]
    NotACard(crate::card::ParseCardError),
    #[error("the round is over")]
    RoundOver,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Bid(b) => write!(f, "bid {b}"),
            Action::Play(card) => write!(f, "play {card}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    Bidding,
    Playing,
    Done,
}

/// The legal actions of a position: a 52-bit mask over action indices, plus the phase that
/// says whether the bits are bids or cards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actions {
    pub mask: u64,
    pub phase: Phase,
}

impl Actions {
    pub fn len(self) -> usize {
        self.mask.count_ones() as usize
    }

    pub fn is_empty(self) -> bool {
        self.mask == 0
    }

    pub fn contains(self, action: Action) -> bool {
        let phase_matches = matches!(
            (action, self.phase),
            (Action::Bid(_), Phase::Bidding) | (Action::Play(_), Phase::Playing)
        );
        phase_matches && self.mask & (1 << action.index()) != 0
    }

    fn action_at(self, index: u8) -> Action {
        match self.phase {
            Phase::Bidding => Action::Bid(index),
            _ => Action::Play(Card::from_index(index).expect("card mask holds only 52 bits")),
        }
    }

    /// The `k`-th legal action in index order.
    pub fn nth(self, k: usize) -> Option<Action> {
        CardSet(self.mask).nth(k).map(|c| self.action_at(c.index()))
    }

    pub fn iter(self) -> impl Iterator<Item = Action> {
        CardSet(self.mask).iter().map(move |c| self.action_at(c.index()))
    }

    /// A uniformly random legal action.
    pub fn sample<R: Rng + ?Sized>(self, rng: &mut R) -> Option<Action> {
        if self.mask == 0 {
            return None;
        }
        self.nth(rng.gen_range(0..self.len()))
    }
}

/// Why an action or a deal was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleError {
    #[error("the round is over")]
    RoundOver,
    #[error("seat {seat} must play a card, not bid")]
    NotBidding { seat: usize },
    #[error("seat {seat} must bid, not play a card")]
    NotPlaying { seat: usize },
    #[error("bid {bid} is out of range 0..={max}")]
    BidOutOfRange { bid: u8, max: u8 },
    #[error("dealer may not bid {bid} (hook)")]
    Hook { bid: u8 },
    #[error("{card} not in hand of seat {seat}")]
    NotInHand { card: Card, seat: usize },
    #[error("seat {seat} must follow {suit} (holds {held}), not play {card}")]
    MustFollow { card: Card, seat: usize, suit: Suit, held: CardSet },
}

/// Why a round cannot be set up.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DealError {
    #[error("{0} players: Blob needs 3 to 8")]
    Players(usize),
    #[error("{cards} cards each for {players} players: must be 1..={max}", max = max_cards(*players))]
    Cards { players: usize, cards: usize },
    #[error("dealer seat {dealer} does not exist with {players} players")]
    Dealer { players: usize, dealer: usize },
    #[error("{got} hands given for {players} players")]
    HandCount { players: usize, got: usize },
    #[error("seat {seat} holds {got} cards, expected {expected}")]
    HandSize { seat: usize, got: usize, expected: usize },
    #[error("{card} is dealt to more than one seat")]
    Duplicate { card: Card },
}

/// The cards of the trick in progress, in play order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Trick {
    pub leader: u8,
    len: u8,
    cards: [Card; MAX_PLAYERS],
}

impl Trick {
    fn new(leader: u8) -> Trick {
        Trick { leader, len: 0, cards: [Card::from_index(0).unwrap(); MAX_PLAYERS] }
    }

    pub fn cards(&self) -> &[Card] {
        &self.cards[..self.len as usize]
    }

    pub fn led_suit(&self) -> Option<Suit> {
        self.cards().first().map(|c| c.suit())
    }

    /// Position in play order of the card currently winning the trick.
    pub fn winning_position(&self, trump: Option<Suit>) -> Option<usize> {
        let cards = self.cards();
        let mut best = 0;
        for (i, card) in cards.iter().enumerate().skip(1) {
            if beats(*card, cards[best], trump) {
                best = i;
            }
        }
        (!cards.is_empty()).then_some(best)
    }
}

/// Whether `card` beats the currently winning `best` (which is of the led suit or a trump).
pub fn beats(card: Card, best: Card, trump: Option<Suit>) -> bool {
    if card.suit() == best.suit() {
        card.value() > best.value()
    } else {
        Some(card.suit()) == trump
    }
}

/// The full state of a round (all hands visible). `Copy`, no heap: cheap to clone in search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Round {
    players: u8,
    cards: u8,
    dealer: u8,
    trump: Option<Suit>,
    phase: Phase,
    to_act: u8,
    bids_made: u8,
    tricks_done: u8,
    hands: [CardSet; MAX_PLAYERS],
    played: [CardSet; MAX_PLAYERS],
    bids: [u8; MAX_PLAYERS],
    tricks: [u8; MAX_PLAYERS],
    /// Per seat, a 4-bit mask of suits the seat has shown to be void in.
    voids: [u8; MAX_PLAYERS],
    trick: Trick,
}

impl Round {
    /// A round with the given hands (one per seat, `cards` cards each, disjoint).
    pub fn new(
        players: usize,
        cards: usize,
        dealer: usize,
        trump: Option<Suit>,
        hands: &[CardSet],
    ) -> Result<Round, DealError> {
        check_table(players, cards, dealer)?;
        if hands.len() != players {
            return Err(DealError::HandCount { players, got: hands.len() });
        }
        let mut seen = CardSet::EMPTY;
        for (seat, hand) in hands.iter().enumerate() {
            if hand.len() != cards {
                return Err(DealError::HandSize { seat, got: hand.len(), expected: cards });
            }
            if let Some(card) = (seen & *hand).first() {
                return Err(DealError::Duplicate { card });
            }
            seen |= *hand;
        }
        let mut all = [CardSet::EMPTY; MAX_PLAYERS];
        all[..players].copy_from_slice(hands);
        Ok(Round::from_parts(players, cards, dealer, trump, all))
    }

    /// Deal a fresh round uniformly at random.
    pub fn deal<R: Rng + ?Sized>(
        players: usize,
        cards: usize,
        dealer: usize,
        trump: Option<Suit>,
        rng: &mut R,
    ) -> Result<Round, DealError> {
        check_table(players, cards, dealer)?;
        let mut deck = CardSet::DECK;
        let mut hands = [CardSet::EMPTY; MAX_PLAYERS];
        for hand in hands.iter_mut().take(players) {
            *hand = draw(&mut deck, cards, rng);
        }
        Ok(Round::from_parts(players, cards, dealer, trump, hands))
    }

    fn from_parts(
        players: usize,
        cards: usize,
        dealer: usize,
        trump: Option<Suit>,
        hands: [CardSet; MAX_PLAYERS],
    ) -> Round {
        let first = ((dealer + 1) % players) as u8;
        Round {
            players: players as u8,
            cards: cards as u8,
            dealer: dealer as u8,
            trump,
            phase: Phase::Bidding,
            to_act: first,
            bids_made: 0,
            tricks_done: 0,
            hands,
            played: [CardSet::EMPTY; MAX_PLAYERS],
            bids: [NO_BID; MAX_PLAYERS],
            tricks: [0; MAX_PLAYERS],
            voids: [0; MAX_PLAYERS],
            trick: Trick::new(first),
        }
    }

    pub fn players(&self) -> usize {
        self.players as usize
    }

    /// Cards dealt to each player this round (n).
    pub fn cards(&self) -> usize {
        self.cards as usize
    }

    pub fn dealer(&self) -> usize {
        self.dealer as usize
    }

    pub fn trump(&self) -> Option<Suit> {
        self.trump
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn is_over(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Seat to act (meaningless once the round is over).
    pub fn to_act(&self) -> usize {
        self.to_act as usize
    }

    pub fn hand(&self, seat: usize) -> CardSet {
        self.hands[seat]
    }

    /// The round as it was dealt, before the first bid: every seat holding the cards it holds
    /// now and those it has played. A round's logged actions replay from it.
    pub fn as_dealt(&self) -> Round {
        let hands = std::array::from_fn(|seat| self.hands[seat] | self.played[seat]);
        Round::from_parts(self.players(), self.cards(), self.dealer(), self.trump, hands)
    }

    /// Cards this seat has played this round, the current trick included.
    pub fn played_by(&self, seat: usize) -> CardSet {
        self.played[seat]
    }

    /// Every card played this round.
    pub fn played(&self) -> CardSet {
        self.played.iter().fold(CardSet::EMPTY, |acc, s| acc | *s)
    }

    pub fn bid(&self, seat: usize) -> Option<u8> {
        (self.bids[seat] != NO_BID).then_some(self.bids[seat])
    }

    pub fn bids_made(&self) -> usize {
        self.bids_made as usize
    }

    pub fn tricks_won(&self, seat: usize) -> u8 {
        self.tricks[seat]
    }

    pub fn tricks_done(&self) -> usize {
        self.tricks_done as usize
    }

    /// Suits (bit i = suit index i) this seat has shown to be void in by not following.
    pub fn void_mask(&self, seat: usize) -> u8 {
        self.voids[seat]
    }

    pub fn current_trick(&self) -> &Trick {
        &self.trick
    }

    /// Cards still in this seat's hand.
    pub fn hand_size(&self, seat: usize) -> usize {
        self.cards as usize - self.played[seat].len()
    }

    /// The bid the dealer may not make, if the hook forbids one (only meaningful while bidding).
    pub fn hook(&self) -> Option<u8> {
        let others: usize = (0..self.players()).filter(|&s| s != self.dealer()).filter_map(|s| self.bid(s)).map(usize::from).sum();
        self.cards().checked_sub(others).map(|f| f as u8)
    }

    pub fn legal_actions(&self) -> Actions {
        let mask = match self.phase {
            Phase::Bidding => {
                let mut mask = (1u64 << (self.cards + 1)) - 1;
                if self.to_act == self.dealer {
                    if let Some(forbidden) = self.hook() {
                        mask &= !(1 << forbidden);
                    }
                }
                mask
            }
            Phase::Playing => {
                let hand = self.hands[self.to_act as usize];
                match self.trick.led_suit() {
                    Some(suit) if hand.has_suit(suit) => hand.of_suit(suit).0,
                    _ => hand.0,
                }
            }
            Phase::Done => 0,
        };
        Actions { mask, phase: self.phase }
    }

    /// Apply an action for the seat to act. An illegal action leaves the round unchanged.
    pub fn apply(&mut self, action: Action) -> Result<(), RuleError> {
        let seat = self.to_act as usize;
        match (self.phase, action) {
            (Phase::Done, _) => Err(RuleError::RoundOver),
            (Phase::Bidding, Action::Bid(bid)) => {
                if bid > self.cards {
                    return Err(RuleError::BidOutOfRange { bid, max: self.cards });
                }
                if seat == self.dealer() && self.hook() == Some(bid) {
                    return Err(RuleError::Hook { bid });
                }
                self.apply_bid(bid);
                Ok(())
            }
            (Phase::Playing, Action::Play(card)) => {
                let hand = self.hands[seat];
                if !hand.contains(card) {
                    return Err(RuleError::NotInHand { card, seat });
                }
                if let Some(suit) = self.trick.led_suit() {
                    if card.suit() != suit && hand.has_suit(suit) {
                        return Err(RuleError::MustFollow { card, seat, suit, held: hand.of_suit(suit) });
                    }
                }
                self.apply_play(card);
                Ok(())
            }
            (Phase::Bidding, Action::Play(_)) => Err(RuleError::NotPlaying { seat }),
            (Phase::Playing, Action::Bid(_)) => Err(RuleError::NotBidding { seat }),
        }
    }

    /// Apply an action known to be legal (from `legal_actions`); the fast path of search and playouts.
    pub fn apply_legal(&mut self, action: Action) {
        debug_assert!(self.legal_actions().contains(action), "{action} is not legal");
        match action {
            Action::Bid(bid) => self.apply_bid(bid),
            Action::Play(card) => self.apply_play(card),
        }
    }

    fn next_seat(&self, seat: u8) -> u8 {
        if seat + 1 == self.players { 0 } else { seat + 1 }
    }

    fn apply_bid(&mut self, bid: u8) {
        self.bids[self.to_act as usize] = bid;
        self.bids_made += 1;
        if self.bids_made == self.players {
            self.phase = Phase::Playing;
        }
        self.to_act = self.next_seat(self.to_act);
    }

    fn apply_play(&mut self, card: Card) {
        let seat = self.to_act as usize;
        if let Some(suit) = self.trick.led_suit() {
            if card.suit() != suit {
                self.voids[seat] |= 1 << suit.index();
            }
        }
        self.hands[seat].remove(card);
        self.played[seat].insert(card);
        self.trick.cards[self.trick.len as usize] = card;
        self.trick.len += 1;
        if self.trick.len == self.players {
            let position = self.trick.winning_position(self.trump).expect("trick is full");
            let winner = (self.trick.leader as usize + position) % self.players();
            self.tricks[winner] += 1;
            self.tricks_done += 1;
            self.trick = Trick::new(winner as u8);
            self.to_act = winner as u8;
            if self.tricks_done == self.cards {
                self.phase = Phase::Done;
            }
        } else {
            self.to_act = self.next_seat(self.to_act);
        }
    }

    /// The round score of a seat: 10 + bid on an exact bid, else 0 (only final once the round is over).
    pub fn score(&self, seat: usize) -> i32 {
        match self.bid(seat) {
            Some(bid) if bid == self.tricks[seat] => 10 + bid as i32,
            _ => 0,
        }
    }

    /// Round scores of every seat (zeros beyond `players`).
    pub fn scores(&self) -> [i32; MAX_PLAYERS] {
        let mut scores = [0; MAX_PLAYERS];
        for (seat, score) in scores.iter_mut().enumerate().take(self.players()) {
            *score = self.score(seat);
        }
        scores
    }

    /// Round scores scaled by the best possible score, 10 + n, into [0, 1]: the value scale
    /// shared by terminal states in search and by the network's value head.
    pub fn scaled_scores(&self) -> [f32; MAX_PLAYERS] {
        let best = (10 + self.cards()) as f32;
        self.scores().map(|s| s as f32 / best)
    }

    /// Replace the hands of the given seats (determinization). Caller guarantees consistency.
    pub(crate) fn set_hand(&mut self, seat: usize, hand: CardSet) {
        self.hands[seat] = hand;
    }
}

/// The one check of a table's size: 3 to 8 players, 1 to 52 / P cards each, a dealer seat
/// that exists.
pub fn check_table(players: usize, cards: usize, dealer: usize) -> Result<(), DealError> {
    if !(MIN_PLAYERS..=MAX_PLAYERS).contains(&players) {
        return Err(DealError::Players(players));
    }
    if cards == 0 || cards > max_cards(players) {
        return Err(DealError::Cards { players, cards });
    }
    if dealer >= players {
        return Err(DealError::Dealer { players, dealer });
    }
    Ok(())
}

/// Remove `count` uniformly chosen cards from `pool` and return them.
pub(crate) fn draw<R: Rng + ?Sized>(pool: &mut CardSet, count: usize, rng: &mut R) -> CardSet {
    let mut drawn = CardSet::EMPTY;
    for _ in 0..count {
        let card = pool.nth(rng.gen_range(0..pool.len())).expect("pool holds enough cards");
        pool.remove(card);
        drawn.insert(card);
    }
    drawn
}
