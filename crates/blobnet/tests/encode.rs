//! The encoder against hand-built positions, hidden-card independence and relative seating.

use blobnet::layout::*;
use blobnet::{encode, mask_row, FEATURES};
use game::ACTIONS;
use game::{determinize, Action, Card, CardSet, GameContext, Round, Suit, MAX_PLAYERS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn cards(text: &str) -> CardSet {
    text.parse().unwrap()
}

fn card(text: &str) -> usize {
    text.parse::<Card>().unwrap().index() as usize
}

fn row(round: &Round, observer: usize, game: Option<&GameContext>) -> Vec<f32> {
    let mut out = vec![f32::NAN; FEATURES];
    encode(&round.info_set(observer), game, None, &mut out);
    out
}

fn assert_rows_eq(found: &[f32], expected: &[f32]) {
    for (i, (f, e)) in found.iter().zip(expected).enumerate() {
        assert!((f - e).abs() < 1e-6, "slot {i}: found {f}, expected {e}");
    }
}

/// P = 4, n = 3, dealer seat 1, hearts trump. Seats 2, 3, 0 bid 1, 0, 2; the dealer (hooked off
/// 0) bids 1. Seat 2 leads 5s, seat 3 shows a spade void with 7c, seat 0 plays As; seat 1 to act.
fn hand_built() -> Round {
    let hands = [cards("As Kh 2c"), cards("Qs 3h 4d"), cards("5s 6s Ad"), cards("7c 8c 9d")];
    let mut round = Round::new(4, 3, 1, Some(Suit::Hearts), &hands).unwrap();
    for bid in [1, 0, 2, 1] {
        round.apply(Action::Bid(bid)).unwrap();
    }
    for c in ["5s", "7c", "As"] {
        round.apply(Action::Play(c.parse().unwrap())).unwrap();
    }
    round
}

#[test]
fn hand_built_position_fills_the_documented_slots() {
    let round = hand_built();
    let context = GameContext { round_index: 2, rounds: 10, totals: [30, 11, 0, 12, 0, 0, 0, 0] };
    // Observer seat 1 (the dealer): relative seats are seat1 -> 0, seat2 -> 1, seat3 -> 2, seat0 -> 3.
    for game in [None, Some(&context)] {
        let mut e = vec![0.0f32; FEATURES];
        for c in ["Qs", "3h", "4d"] {
            e[HAND + card(c)] = 1.0;
        }
        e[PLAYED + 52 + card("5s")] = 1.0;
        e[PLAYED + 2 * 52 + card("7c")] = 1.0;
        e[PLAYED + 3 * 52 + card("As")] = 1.0;
        e[TRICK + card("5s")] = 1.0;
        e[TRICK + 52 + card("7c")] = 1.0;
        e[TRICK + 2 * 52 + card("As")] = 1.0;
        // (relative seat, bid, tricks, cards left)
        for (r, bid, hand_left) in [(0, 1.0, 3.0), (1, 1.0, 2.0), (2, 0.0, 2.0), (3, 2.0, 2.0)] {
            let b = SEATS + r * SEAT_WIDTH;
            e[b + seat::PRESENT] = 1.0;
            e[b + seat::HAS_BID] = 1.0;
            e[b + seat::BID] = bid / 3.0;
            e[b + seat::NEED] = bid / 3.0;
            e[b + seat::HAND_LEFT] = hand_left / 3.0;
        }
        e[SEATS + 2 * SEAT_WIDTH + seat::VOID] = 1.0; // seat 3 showed no spades
        e[TRUMP + 1] = 1.0;
        e[PHASE + 1] = 1.0;
        e[DEALER] = 1.0;
        e[TO_ACT] = 1.0;
        e[LEADER + 1] = 1.0;
        e[WINNING + 3] = 1.0; // As, seat 0
        e[LED_SUIT] = 1.0;
        e[PLAYERS + 1] = 1.0; // P = 4
        e[ROUND_SIZE + 2] = 1.0; // n = 3
        e[SCALARS] = 0.5;
        e[SCALARS + 1] = 3.0 / 17.0;
        e[SCALARS + 2] = 0.0;
        e[SCALARS + 3] = 4.0 / 3.0;
        e[HOOK] = 1.0;
        e[HOOK + 1] = 1.0; // forbidden bid 0
        e[OWN_SUITS] = 1.0 / 3.0;
        e[OWN_SUITS + 1] = 1.0 / 3.0;
        e[OWN_SUITS + 3] = 1.0 / 3.0;
        e[UNSEEN_SUITS] = 10.0 / 13.0; // Qs held, 5s and As played
        e[UNSEEN_SUITS + 1] = 12.0 / 13.0;
        e[UNSEEN_SUITS + 2] = 12.0 / 13.0;
        e[UNSEEN_SUITS + 3] = 12.0 / 13.0;
        if game.is_some() {
            e[GAME] = 1.0;
            e[GAME + 1] = 0.2;
            e[GAME + 2] = 0.7;
            e[GAME + 3] = 10.0 / 35.0;
            // Totals by absolute seat 30, 11, 0, 12; scale 10 x 10 rounds; best 30 (seat 0).
            for (r, total) in [(0, 11.0), (1, 0.0), (2, 12.0), (3, 30.0)] {
                e[SEATS + r * SEAT_WIDTH + seat::TOTAL] = total / 100.0;
                e[SEATS + r * SEAT_WIDTH + seat::BEHIND] = (total - 30.0) / 100.0;
            }
        }
        assert_rows_eq(&row(&round, 1, game), &e);
    }
}

#[test]
fn hook_appears_once_every_other_seat_has_bid() {
    let hands = [cards("As Kh 2c"), cards("Qs 3h 4d"), cards("5s 6s Ad"), cards("7c 8c 9d")];
    let mut round = Round::new(4, 3, 1, Some(Suit::Hearts), &hands).unwrap();
    round.apply(Action::Bid(1)).unwrap();
    round.apply(Action::Bid(0)).unwrap();
    assert_eq!(row(&round, 1, None)[HOOK], 0.0, "seat 0 has not bid yet");
    round.apply(Action::Bid(0)).unwrap();
    let r = row(&round, 1, None);
    assert_eq!(r[HOOK], 1.0);
    assert_eq!(r[HOOK + 1 + 2], 1.0, "dealer may not bid 3 - 1 = 2");
    assert_eq!(r[HOOK + 1..HOOK + 19].iter().sum::<f32>(), 1.0);
    assert_eq!(r[PHASE], 1.0);
    assert_eq!(round.info_set(1).legal_actions().mask, 0b1011, "bids 0, 1, 3");
    assert_eq!(round.info_set(0).legal_actions().mask, 0, "seat 0 is not to act");
}

#[test]
fn legal_mask_matches_the_rules_and_mask_row_writes_it() {
    let round = hand_built();
    let mask = round.info_set(1).legal_actions().mask;
    assert_eq!(mask, round.legal_actions().mask);
    assert_eq!(mask, 1 << card("Qs"), "must follow spades");
    let mut out = [9.0; ACTIONS];
    mask_row(mask, &mut out);
    assert_eq!(out.iter().sum::<f32>(), 1.0);
    assert_eq!(out[card("Qs")], 1.0);
}

/// Random positions over every table size: P 3..8, n 1..floor(52/P), random dealer and trump,
/// played forward a random number of legal actions (sometimes to the end of the round).
fn random_position(rng: &mut ChaCha8Rng) -> Round {
    let players = rng.gen_range(3..=8);
    let n = rng.gen_range(1..=52 / players);
    let trump =
        [Some(Suit::Spades), Some(Suit::Hearts), Some(Suit::Clubs), Some(Suit::Diamonds), None][rng.gen_range(0..5)];
    let mut round = Round::deal(players, n, rng.gen_range(0..players), trump, rng).unwrap();
    let steps = rng.gen_range(0..=players + players * n);
    for _ in 0..steps {
        match round.legal_actions().sample(rng) {
            Some(action) => round.apply_legal(action),
            None => break,
        }
    }
    round
}

#[test]
fn hidden_cards_never_reach_the_encoding() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut hands_differed = 0;
    for _ in 0..300 {
        let round = random_position(&mut rng);
        let observer = rng.gen_range(0..round.players());
        let info = round.info_set(observer);
        let other = determinize(&info, &mut rng).unwrap();
        if (0..round.players()).any(|s| other.hand(s) != round.hand(s)) {
            hands_differed += 1;
        }
        let context = GameContext { round_index: 1, rounds: 9, totals: [5, 0, 12, 0, 11, 13, 0, 10] };
        for game in [None, Some(&context)] {
            assert_eq!(row(&round, observer, game), row(&other, observer, game));
        }
    }
    assert!(hands_differed > 100, "determinization should usually move hidden cards ({hands_differed})");
}

#[test]
fn every_slot_is_finite_and_bounded() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..500 {
        let round = random_position(&mut rng);
        let context = GameContext { round_index: 0, rounds: 35, totals: [0; MAX_PLAYERS] };
        for observer in 0..round.players() {
            let r = row(&round, observer, Some(&context));
            for (i, v) in r.iter().enumerate() {
                // The bid sum over n is the one slot that may exceed 1 (up to P).
                let max = if i == SCALARS + 3 { round.players() as f32 } else { 1.0 };
                assert!(v.is_finite() && (-1.0..=max).contains(v), "slot {i} = {v}");
            }
        }
    }
}

/// Deal the same cards with every seat moved `shift` places clockwise (dealer included) and
/// replay the same actions: the round is the same game seen from rotated seats.
fn rotated(round_hands: &[CardSet], n: usize, dealer: usize, actions: &[Action], shift: usize) -> Round {
    let players = round_hands.len();
    let hands: Vec<CardSet> = (0..players).map(|s| round_hands[(s + players - shift) % players]).collect();
    let mut round = Round::new(players, n, (dealer + shift) % players, Some(Suit::Clubs), &hands).unwrap();
    for &action in actions {
        round.apply(action).unwrap();
    }
    round
}

#[test]
fn rotating_the_table_rotates_the_seat_blocks() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..50 {
        let players = rng.gen_range(3..=8);
        let n = rng.gen_range(1..=52 / players);
        let dealer = rng.gen_range(0..players);
        let start = Round::deal(players, n, dealer, Some(Suit::Clubs), &mut rng).unwrap();
        let hands: Vec<CardSet> = (0..players).map(|s| start.hand(s)).collect();
        let mut round = start;
        let mut actions = Vec::new();
        for _ in 0..rng.gen_range(0..players * (n + 1)) {
            let Some(action) = round.legal_actions().sample(&mut rng) else { break };
            round.apply_legal(action);
            actions.push(action);
        }
        let shift = rng.gen_range(1..players);
        let moved = rotated(&hands, n, dealer, &actions, shift);
        // Total scores follow the seats they belong to.
        let mut totals = [0; MAX_PLAYERS];
        let mut moved_totals = [0; MAX_PLAYERS];
        for s in 0..players {
            totals[s] = 10 * s as i32;
            moved_totals[(s + shift) % players] = 10 * s as i32;
        }
        let game = GameContext { round_index: 3, rounds: 12, totals };
        let moved_game = GameContext { totals: moved_totals, ..game };
        for observer in 0..players {
            // Same player, rotated seat number: identical encoding.
            assert_eq!(
                row(&round, observer, Some(&game)),
                row(&moved, (observer + shift) % players, Some(&moved_game)),
            );
            // Next player of the same table: per-seat blocks shift by one relative seat.
            let here = row(&round, observer, Some(&game));
            let next = row(&round, (observer + 1) % players, Some(&game));
            for r in 0..players {
                let from = (r + 1) % players;
                assert_eq!(next[PLAYED + r * 52..][..52], here[PLAYED + from * 52..][..52]);
                assert_eq!(
                    next[SEATS + r * SEAT_WIDTH..][..SEAT_WIDTH],
                    here[SEATS + from * SEAT_WIDTH..][..SEAT_WIDTH]
                );
                for block in [DEALER, LEADER, WINNING] {
                    assert_eq!(next[block + r], here[block + from]);
                }
            }
        }
    }
}

#[test]
fn finished_round_encodes_without_a_player_to_act() {
    let mut round = hand_built();
    while let Some(action) = round.legal_actions().iter().next() {
        round.apply(action).unwrap();
    }
    assert!(round.is_over());
    let r = row(&round, 1, None);
    assert_eq!(r[PHASE + 2], 1.0);
    assert!(r[TO_ACT..TO_ACT + 8].iter().all(|&v| v == 0.0));
    assert_eq!(r[SCALARS + 2], 1.0, "all tricks done");
    assert_eq!(round.info_set(1).legal_actions().mask, 0);
}

/// With the deal shown, the other seats' current hands fill `OTHER_HANDS` by relative seat and
/// every other slot is the information-set row's.
#[test]
fn shown_deal_adds_the_other_hands_by_relative_seat_and_nothing_else() {
    let round = hand_built();
    let hands: [CardSet; MAX_PLAYERS] = std::array::from_fn(|seat| if seat < 4 { round.hand(seat) } else { CardSet::EMPTY });
    for observer in 0..4 {
        let info = round.info_set(observer);
        let mut shown = vec![f32::NAN; FEATURES];
        encode(&info, None, Some(&hands), &mut shown);
        let hidden = row(&round, observer, None);
        assert_eq!(hidden[DEAL_SHOWN], 0.0);
        assert!(hidden[OTHER_HANDS..].iter().all(|&v| v == 0.0), "no hidden card without the deal");
        assert_eq!(shown[DEAL_SHOWN], 1.0);
        assert_rows_eq(&shown[..DEAL_SHOWN], &hidden[..DEAL_SHOWN]);
        let mut expected = vec![0.0f32; FEATURES - OTHER_HANDS];
        for relative in 1..4 {
            for c in round.hand((observer + relative) % 4) {
                expected[(relative - 1) * 52 + c.index() as usize] = 1.0;
            }
        }
        assert_rows_eq(&shown[OTHER_HANDS..], &expected);
        // The observer's own hand is not repeated there.
        let own: usize = (0..3).map(|r| info.hand().iter().filter(|c| shown[OTHER_HANDS + r * 52 + c.index() as usize] == 1.0).count()).sum();
        assert_eq!(own, 0);
    }
}

/// The offsets printed in docs/encoding.md.
#[test]
fn offsets_match_the_documentation() {
    let documented = [
        (HAND, 0),
        (PLAYED, 52),
        (TRICK, 468),
        (SEATS, 884),
        (TRUMP, 980),
        (PHASE, 985),
        (DEALER, 988),
        (TO_ACT, 996),
        (LEADER, 1004),
        (WINNING, 1012),
        (LED_SUIT, 1020),
        (PLAYERS, 1024),
        (ROUND_SIZE, 1030),
        (SCALARS, 1047),
        (HOOK, 1051),
        (OWN_SUITS, 1070),
        (UNSEEN_SUITS, 1074),
        (GAME, 1078),
        (DEAL_SHOWN, 1082),
        (OTHER_HANDS, 1083),
        (FEATURES, 1447),
    ];
    for (i, (found, expected)) in documented.into_iter().enumerate() {
        assert_eq!(found, expected, "entry {i}");
    }
    assert_eq!(SEAT_WIDTH, 12);
}
