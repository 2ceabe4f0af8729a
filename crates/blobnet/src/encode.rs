//! Information set -> one fixed-width `f32` row, written in place.
//!
//! The layout is documented slot by slot in `docs/encoding.md`; the offsets below are its source
//! of truth. Every seat-indexed block is relative to the observer (relative seat 0 = the observer,
//! 1 = the next seat clockwise, ...), so the same situation at a different table position encodes
//! identically. Bids and tricks are divided by the round size n, never by the shrinking hand.
//! The information set is read through `InfoSet`, whose other hands are blank; the other hands
//! enter only through the explicit `hands` argument, given for a search leaf inside one sampled
//! world (a perfect-information value of that world) and for training rows of the real deal.

use game::{CardSet, GameContext, InfoSet, Phase, Suit, ACTIONS, MAX_PLAYERS, MIN_PLAYERS};

const CARDS: usize = 52;
/// Largest round size (3 players x 17 cards).
const MAX_ROUND_CARDS: usize = 52 / MIN_PLAYERS;
/// Longest schedule, 2C + P - 2 over every P: 35 rounds (P = 3, C = 17).
const MAX_ROUNDS: usize = 2 * MAX_ROUND_CARDS + MIN_PLAYERS - 2;

/// Bump when the meaning of any slot changes, even if the width does not: checkpoints record it
/// so a network is never fed an encoding it was not trained on.
pub const ENCODING_VERSION: u32 = 2;

/// Where each block of a row starts (the layout of `docs/encoding.md`).
pub mod layout {
    use super::{CARDS, MAX_ROUND_CARDS};
    use game::{MAX_PLAYERS, MIN_PLAYERS};

    /// Own hand, by card index.
    pub const HAND: usize = 0;
    /// Cards played this round (current trick included), 52 per relative seat.
    pub const PLAYED: usize = HAND + CARDS;
    /// Current trick, 52 per position in play order (position 0 = the card led).
    pub const TRICK: usize = PLAYED + MAX_PLAYERS * CARDS;
    /// Per-seat scalars, `SEAT_WIDTH` per relative seat; offsets within a block are in [`seat`].
    pub const SEATS: usize = TRICK + MAX_PLAYERS * CARDS;
    pub const SEAT_WIDTH: usize = 12;

    /// Offsets inside one seat block.
    pub mod seat {
        /// 1 if the seat is at the table (relative seat < P).
        pub const PRESENT: usize = 0;
        /// 1 once the seat has bid.
        pub const HAS_BID: usize = 1;
        /// bid / n.
        pub const BID: usize = 2;
        /// tricks won / n.
        pub const TRICKS: usize = 3;
        /// (bid - tricks won) / n: tricks still needed, negative once over; 0 before bidding.
        pub const NEED: usize = 4;
        /// cards left in hand / n.
        pub const HAND_LEFT: usize = 5;
        /// 4 slots, suit index order: 1 if the seat has shown a void in that suit.
        pub const VOID: usize = 6;
        /// Game mode: total of the finished rounds / (10 x rounds in the schedule).
        pub const TOTAL: usize = 10;
        /// Game mode: (total - best total at the table) / (10 x rounds), <= 0.
        pub const BEHIND: usize = 11;
    }

    /// Trump one-hot: spades, hearts, clubs, diamonds, no trump.
    pub const TRUMP: usize = SEATS + MAX_PLAYERS * SEAT_WIDTH;
    /// Phase one-hot: bidding, playing, done.
    pub const PHASE: usize = TRUMP + 5;
    /// Dealer, relative seat one-hot.
    pub const DEALER: usize = PHASE + 3;
    /// Seat to act, relative seat one-hot (all zero once the round is over).
    pub const TO_ACT: usize = DEALER + MAX_PLAYERS;
    /// Leader of the current trick (the first bidder's seat during bidding), relative one-hot.
    pub const LEADER: usize = TO_ACT + MAX_PLAYERS;
    /// Seat currently winning the trick in progress, relative one-hot (zero if no card is down).
    pub const WINNING: usize = LEADER + MAX_PLAYERS;
    /// Suit led in the trick in progress, one-hot (zero if no card is down).
    pub const LED_SUIT: usize = WINNING + MAX_PLAYERS;
    /// Player count one-hot, P = 3..8.
    pub const PLAYERS: usize = LED_SUIT + 4;
    /// Round size one-hot, n = 1..17.
    pub const ROUND_SIZE: usize = PLAYERS + (MAX_PLAYERS - MIN_PLAYERS + 1);
    /// Scalars: P / 8, n / 17, tricks done / n, sum of bids so far / n.
    pub const SCALARS: usize = ROUND_SIZE + MAX_ROUND_CARDS;
    /// Hook: slot 0 is 1 once every non-dealer bid is known and a bid is forbidden to the dealer;
    /// slots 1..=18 one-hot the forbidden bid f = n - (sum of the other bids), f in 0..=17.
    pub const HOOK: usize = SCALARS + 4;
    /// Own cards per suit / n, suit index order.
    pub const OWN_SUITS: usize = HOOK + 1 + MAX_ROUND_CARDS + 1;
    /// Cards of each suit the observer has not seen (other hands or undealt) / 13.
    pub const UNSEEN_SUITS: usize = OWN_SUITS + 4;
    /// Game mode: flag, round index / rounds, rounds left after this one / rounds, rounds / 35.
    pub const GAME: usize = UNSEEN_SUITS + 4;
    /// 1 if the other seats' hands are shown (`OTHER_HANDS` filled), 0 for the information set alone.
    pub const DEAL_SHOWN: usize = GAME + 4;
    /// The hands the other seats hold now, 52 per relative seat 1..=7 (at `OTHER_HANDS + 52 (r - 1)`).
    pub const OTHER_HANDS: usize = DEAL_SHOWN + 1;
}

use layout::*;

/// Width of an encoded row.
pub const FEATURES: usize = OTHER_HANDS + (MAX_PLAYERS - 1) * CARDS;

/// Encode what `info`'s observer knows (plus the game schedule and totals in game mode) into `out`;
/// with `hands` (every absolute seat's current hand, as in one sampled world or the real deal),
/// also the other seats' hands, so that the network values the deal with every card known.
///
/// Every slot of `out` is written (zeros included), so rows of a reused batch buffer need no
/// clearing.
///
/// # Panics
/// If `out.len() != FEATURES`: a caller bug in sizing the batch buffer, not bad game input.
pub fn encode(info: &InfoSet, game: Option<&GameContext>, hands: Option<&[CardSet; MAX_PLAYERS]>, out: &mut [f32]) {
    assert_eq!(out.len(), FEATURES, "encode needs a row of exactly FEATURES = {FEATURES} floats");
    out.fill(0.0);
    let view = info.view();
    let players = view.players();
    let observer = info.observer();
    let n = view.cards() as f32;
    let rel = |seat: usize| (seat + players - observer) % players;

    set_cards(&mut out[HAND..HAND + CARDS], info.hand());

    for seat in 0..players {
        let r = rel(seat);
        set_cards(&mut out[PLAYED + r * CARDS..][..CARDS], view.played_by(seat));

        let block = &mut out[SEATS + r * SEAT_WIDTH..][..SEAT_WIDTH];
        block[seat::PRESENT] = 1.0;
        let tricks = f32::from(view.tricks_won(seat));
        block[seat::TRICKS] = tricks / n;
        if let Some(bid) = view.bid(seat) {
            block[seat::HAS_BID] = 1.0;
            block[seat::BID] = f32::from(bid) / n;
            block[seat::NEED] = (f32::from(bid) - tricks) / n;
        }
        block[seat::HAND_LEFT] = view.hand_size(seat) as f32 / n;
        let voids = view.void_mask(seat);
        for suit in 0..4 {
            block[seat::VOID + suit] = f32::from((voids >> suit) & 1);
        }
    }

    let trick = view.current_trick();
    for (position, card) in trick.cards().iter().enumerate() {
        out[TRICK + position * CARDS + card.index() as usize] = 1.0;
    }

    out[TRUMP + view.trump().map_or(4, |s| s.index() as usize)] = 1.0;
    let phase = view.phase();
    out[PHASE + phase_index(phase)] = 1.0;
    out[DEALER + rel(view.dealer())] = 1.0;
    if phase != Phase::Done {
        out[TO_ACT + rel(view.to_act())] = 1.0;
    }
    let leader = trick.leader as usize;
    out[LEADER + rel(leader)] = 1.0;
    if let Some(position) = trick.winning_position(view.trump()) {
        out[WINNING + rel((leader + position) % players)] = 1.0;
    }
    if let Some(suit) = trick.led_suit() {
        out[LED_SUIT + suit.index() as usize] = 1.0;
    }
    out[PLAYERS + players - MIN_PLAYERS] = 1.0;
    out[ROUND_SIZE + view.cards() - 1] = 1.0;

    let bid_sum: u32 = (0..players).filter_map(|s| view.bid(s)).map(u32::from).sum();
    out[SCALARS] = players as f32 / MAX_PLAYERS as f32;
    out[SCALARS + 1] = n / MAX_ROUND_CARDS as f32;
    out[SCALARS + 2] = view.tricks_done() as f32 / n;
    out[SCALARS + 3] = bid_sum as f32 / n;

    // The forbidden bid is fixed once every seat but the dealer has bid; it stays informative after
    // bidding (it says which bid the dealer was kept from), so it is kept for the whole round.
    let others_done = (0..players).filter(|&s| s != view.dealer()).all(|s| view.bid(s).is_some());
    if others_done {
        if let Some(forbidden) = view.hook() {
            out[HOOK] = 1.0;
            out[HOOK + 1 + forbidden as usize] = 1.0;
        }
    }

    let hand = info.hand();
    let unseen = info.unseen();
    for suit in Suit::ALL {
        let s = suit.index() as usize;
        out[OWN_SUITS + s] = hand.of_suit(suit).len() as f32 / n;
        out[UNSEEN_SUITS + s] = unseen.of_suit(suit).len() as f32 / 13.0;
    }

    if let Some(hands) = hands {
        out[DEAL_SHOWN] = 1.0;
        for relative in 1..players {
            set_cards(&mut out[OTHER_HANDS + (relative - 1) * CARDS..][..CARDS], hands[(observer + relative) % players]);
        }
    }

    if let Some(game) = game {
        let rounds = game.rounds.max(1) as f32;
        out[GAME] = 1.0;
        out[GAME + 1] = game.round_index as f32 / rounds;
        out[GAME + 2] = game.rounds.saturating_sub(game.round_index + 1) as f32 / rounds;
        out[GAME + 3] = rounds / MAX_ROUNDS as f32;
        // 10 per round is what a player making every zero bid would score: totals land near 0..3.
        let scale = 10.0 * rounds;
        let totals = &game.totals[..players];
        let best = totals.iter().copied().max().unwrap_or(0);
        for (seat, &total) in totals.iter().enumerate() {
            let block = &mut out[SEATS + rel(seat) * SEAT_WIDTH..][..SEAT_WIDTH];
            block[seat::TOTAL] = total as f32 / scale;
            block[seat::BEHIND] = (total - best) as f32 / scale;
        }
    }
}


/// Write a legal-action mask as 0/1 floats, the form `loss` and `masked_softmax` take.
///
/// # Panics
/// If `out.len() != ACTIONS` (a batch-sizing bug in the caller).
pub fn mask_row(mask: u64, out: &mut [f32]) {
    assert_eq!(out.len(), ACTIONS, "mask_row needs a row of exactly ACTIONS = {ACTIONS} floats");
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = ((mask >> i) & 1) as f32;
    }
}

fn set_cards(out: &mut [f32], cards: CardSet) {
    for card in cards {
        out[card.index() as usize] = 1.0;
    }
}

fn phase_index(phase: Phase) -> usize {
    match phase {
        Phase::Bidding => 0,
        Phase::Playing => 1,
        Phase::Done => 2,
    }
}
