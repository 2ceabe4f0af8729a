//! Golden rule cases from RULES.md.

use game::{Action, Card, CardSet, DealError, Game, GameContext, Phase, Round, RuleError, Schedule, Suit, MAX_PLAYERS, TRUMP_CYCLE};

fn cards(text: &str) -> CardSet {
    text.parse().unwrap()
}

fn card(text: &str) -> Card {
    text.parse().unwrap()
}

/// 4 players x 5 cards, dealer 3 (so seats 0, 1, 2 bid before the dealer).
fn five_card_round(trump: Option<Suit>) -> Round {
    let hands = [
        cards("As Ks Qs Js Ts"),
        cards("Ah Kh Qh Jh Th"),
        cards("Ac Kc Qc Jc Tc"),
        cards("Ad Kd Qd Jd Td"),
    ];
    Round::new(4, 5, 3, trump, &hands).unwrap()
}

fn dealer_legal_bids(others: [u8; 3]) -> Vec<u8> {
    let mut round = five_card_round(Some(Suit::Spades));
    for bid in others {
        round.apply(Action::Bid(bid)).unwrap();
    }
    assert_eq!(round.to_act(), 3);
    round.legal_actions().iter().map(|a| match a {
        Action::Bid(b) => b,
        Action::Play(_) => panic!("bidding phase"),
    }).collect()
}

#[test]
fn dealer_hook() {
    // Others bid 3 of 5: dealer may not bid 2.
    assert_eq!(dealer_legal_bids([1, 1, 1]), vec![0, 1, 3, 4, 5]);
    // Others bid 5 of 5: not 0.
    assert_eq!(dealer_legal_bids([2, 2, 1]), vec![1, 2, 3, 4, 5]);
    // Others bid 0: not 5.
    assert_eq!(dealer_legal_bids([0, 0, 0]), vec![0, 1, 2, 3, 4]);
    // Others bid 6 of 5: anything.
    assert_eq!(dealer_legal_bids([2, 2, 2]), vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn hook_binds_only_the_dealer_and_is_enforced() {
    let mut round = five_card_round(None);
    // Non-dealers may bid anything 0..=n, including totals that reach n.
    assert_eq!(round.legal_actions().len(), 6);
    round.apply(Action::Bid(5)).unwrap();
    assert_eq!(round.legal_actions().len(), 6);
    round.apply(Action::Bid(0)).unwrap();
    round.apply(Action::Bid(0)).unwrap();
    let before = round;
    assert_eq!(round.apply(Action::Bid(0)), Err(RuleError::Hook { bid: 0 }));
    assert_eq!(round, before, "a refused action leaves the round unchanged");
    assert_eq!(RuleError::Hook { bid: 1 }.to_string(), "dealer may not bid 1 (hook)");
    assert_eq!(round.apply(Action::Bid(6)), Err(RuleError::BidOutOfRange { bid: 6, max: 5 }));
    round.apply(Action::Bid(1)).unwrap();
    assert_eq!(round.phase(), Phase::Playing);
}

#[test]
fn bidding_starts_left_of_dealer_and_play_is_led_by_them() {
    let mut round = five_card_round(None);
    let order: Vec<usize> = (0..4)
        .map(|_| {
            let seat = round.to_act();
            round.apply(Action::Bid(1)).unwrap();
            seat
        })
        .collect();
    assert_eq!(order, vec![0, 1, 2, 3]);
    assert_eq!(round.to_act(), 0, "dealer + 1 leads the first trick");
    let mut round = Round::deal(5, 3, 4, None, &mut rand::thread_rng()).unwrap();
    assert_eq!(round.to_act(), 0);
    round.apply(Action::Bid(0)).unwrap();
    assert_eq!(round.to_act(), 1);
}

/// Plays one trick from the given hands: `leader` leads, cards in play order.
fn trick_winner(trump: Option<Suit>, plays: [&str; 4]) -> usize {
    // Hands of one card each in a 4-player 1-card round, dealer 3 so seat 0 leads.
    let hands: Vec<CardSet> = plays.iter().map(|c| cards(c)).collect();
    let mut round = Round::new(4, 1, 3, trump, &hands).unwrap();
    for _ in 0..4 {
        round.apply(Action::Bid(0)).ok();
    }
    // The dealer may have been hooked at 0; bid 1 then.
    if round.phase() == Phase::Bidding {
        round.apply(Action::Bid(1)).unwrap();
    }
    for play in plays {
        round.apply(Action::Play(card(play))).unwrap();
    }
    assert!(round.is_over());
    (0..4).find(|&s| round.tricks_won(s) == 1).unwrap()
}

#[test]
fn trick_winners() {
    // Trump beats the led suit.
    assert_eq!(trick_winner(Some(Suit::Hearts), ["As", "2h", "Ks", "Qs"]), 1);
    // Highest trump wins.
    assert_eq!(trick_winner(Some(Suit::Hearts), ["As", "2h", "Th", "Qs"]), 2);
    // Off-suit never wins, however high.
    assert_eq!(trick_winner(Some(Suit::Hearts), ["2s", "Ad", "Ac", "3s"]), 3);
    // No trump: highest of the led suit.
    assert_eq!(trick_winner(None, ["9c", "Ah", "Tc", "Ks"]), 2);
    // A trump lead is just the led suit.
    assert_eq!(trick_winner(Some(Suit::Diamonds), ["5d", "Ad", "As", "2d"]), 1);
}

#[test]
fn follow_suit_is_enforced_and_voids_are_shown() {
    let hands = [cards("As 2h 3c"), cards("Ks 4h 5c"), cards("6h 7h 8c")];
    let mut round = Round::new(3, 3, 2, Some(Suit::Diamonds), &hands).unwrap();
    for bid in [1, 1, 0] {
        round.apply(Action::Bid(bid)).unwrap();
    }
    round.apply(Action::Play(card("As"))).unwrap();
    // Seat 1 holds a spade and must play it.
    let refused = round.apply(Action::Play(card("4h")));
    assert!(matches!(refused, Err(RuleError::MustFollow { seat: 1, suit: Suit::Spades, .. })), "{refused:?}");
    assert_eq!(CardSet(round.legal_actions().mask), cards("Ks"));
    round.apply(Action::Play(card("Ks"))).unwrap();
    // Seat 2 has no spade: any card, and a void in spades is now shown.
    assert_eq!(CardSet(round.legal_actions().mask), cards("6h 7h 8c"));
    assert_eq!(round.void_mask(2), 0);
    round.apply(Action::Play(card("8c"))).unwrap();
    assert_eq!(round.void_mask(2), 1 << Suit::Spades.index());
    assert_eq!(round.tricks_won(0), 1);
    assert_eq!(round.to_act(), 0, "the trick winner leads");
    assert_eq!(
        round.apply(Action::Play(card("9h"))),
        Err(RuleError::NotInHand { card: card("9h"), seat: 0 })
    );
    assert_eq!(RuleError::NotInHand { card: card("9h"), seat: 2 }.to_string(), "9h not in hand of seat 2");
    assert_eq!(round.apply(Action::Bid(1)), Err(RuleError::NotBidding { seat: 0 }));
}

#[test]
fn scoring() {
    // Seat 0 holds every top card and wins all tricks it leads.
    let hands = [cards("As Ks"), cards("2s 3s"), cards("4s 5s")];
    let play = |bids: [u8; 3]| {
        let mut round = Round::new(3, 2, 2, Some(Suit::Spades), &hands).unwrap();
        for bid in bids {
            round.apply(Action::Bid(bid)).unwrap();
        }
        while !round.is_over() {
            let action = round.legal_actions().nth(0).unwrap();
            round.apply(action).unwrap();
        }
        assert!(round.apply(Action::Bid(0)) == Err(RuleError::RoundOver));
        [round.score(0), round.score(1), round.score(2)]
    };
    // Seat 0 wins both tricks: bid 2 won 2 -> 12; bid 0 won 0 -> 10; seat 2 bid 1, won 0 -> 0.
    assert_eq!(play([2, 0, 1]), [12, 10, 0]);
    // Under and over both score 0.
    assert_eq!(play([1, 1, 1]), [0, 0, 0]);
}

#[test]
fn schedules() {
    let sizes = |p, c| Schedule::new(p, c).unwrap().rounds().map(|r| r.cards).collect::<Vec<_>>();
    assert_eq!(sizes(5, 7), vec![7, 6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(sizes(3, 1), vec![1, 1, 1]);
    for players in 3..=8 {
        for start in 1..=52 / players {
            let schedule = Schedule::new(players, start).unwrap();
            assert_eq!(schedule.len(), 2 * start + players - 2, "P={players} C={start}");
            for (r, spec) in schedule.rounds().enumerate() {
                assert_eq!(spec.dealer, r % players);
                assert_eq!(spec.trump, TRUMP_CYCLE[r % 5]);
            }
        }
        assert!(Schedule::new(players, 52 / players + 1).is_err());
    }
    let spec = Schedule::new(4, 3).unwrap().round(4).unwrap();
    assert_eq!((spec.dealer, spec.trump), (0, None));
    assert_eq!(Schedule::new(3, 17).unwrap().len(), 35);
}

#[test]
fn later_rounds_max_sums_the_rest_of_the_schedule() {
    // P = 4, C = 3: sizes 3 2 1 1 1 1 2 3.
    let mut rng = rand::thread_rng();
    let game = Game::new(4, 3, &mut rng).unwrap();
    let at = |round_index| GameContext { round_index, ..game.context() };
    assert_eq!(at(0).later_rounds_max(4), Some(12 + 11 * 4 + 12 + 13));
    assert_eq!(at(5).later_rounds_max(4), Some(12 + 13));
    assert_eq!(at(7).later_rounds_max(4), Some(0));
    assert_eq!(GameContext::single_round().later_rounds_max(6), Some(0));
    // 8 rounds fit no schedule of 5 players (2C + 3 is odd).
    assert_eq!(at(0).later_rounds_max(5), None);
    assert_eq!(GameContext { round_index: 0, rounds: 3, totals: [0; MAX_PLAYERS] }.later_rounds_max(3), Some(22));
}

#[test]
fn dealing_limits() {
    let mut rng = rand::thread_rng();
    let round = Round::deal(4, 13, 0, None, &mut rng).unwrap();
    assert_eq!((0..4).map(|s| round.hand(s)).fold(CardSet::EMPTY, |a, h| a | h), CardSet::DECK);
    assert_eq!(Round::deal(4, 14, 0, None, &mut rng), Err(DealError::Cards { players: 4, cards: 14 }));
    assert!(Round::deal(3, 17, 0, None, &mut rng).is_ok());
    assert!(Round::deal(8, 6, 7, None, &mut rng).is_ok());
    assert!(Round::deal(8, 7, 0, None, &mut rng).is_err());
    assert_eq!(Round::deal(2, 1, 0, None, &mut rng), Err(DealError::Players(2)));
    assert_eq!(Round::deal(9, 1, 0, None, &mut rng), Err(DealError::Players(9)));
    assert_eq!(Round::deal(4, 0, 0, None, &mut rng), Err(DealError::Cards { players: 4, cards: 0 }));
    assert_eq!(Round::deal(4, 1, 4, None, &mut rng), Err(DealError::Dealer { players: 4, dealer: 4 }));
    let overlapping = [cards("As"), cards("As"), cards("Ks")];
    assert_eq!(Round::new(3, 1, 0, None, &overlapping), Err(DealError::Duplicate { card: card("As") }));
    let short = [cards("As"), cards(""), cards("Ks")];
    assert!(matches!(Round::new(3, 1, 0, None, &short), Err(DealError::HandSize { seat: 1, .. })));
}

#[test]
fn info_set_hides_other_hands_only() {
    let mut round = five_card_round(Some(Suit::Clubs));
    for bid in [1, 2, 0, 1] {
        round.apply(Action::Bid(bid)).unwrap();
    }
    round.apply(Action::Play(card("As"))).unwrap();
    let info = round.info_set(1);
    assert_eq!(info.hand(), round.hand(1));
    for seat in [0, 2, 3] {
        assert!(info.view().hand(seat).is_empty());
    }
    assert_eq!(info.view().played_by(0), cards("As"));
    assert_eq!(info.view().bid(1), Some(2));
    assert_eq!(info.unseen().len(), 52 - 5 - 1);
    assert_eq!(info.view().legal_actions(), round.legal_actions(), "the observer to act sees its options");
}
