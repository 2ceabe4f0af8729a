//! PimcBot: legal, deterministic, tactically sound, and stronger than the heuristic it plays out.

use game::rule_playout;
use game::{max_cards, Action, Bot, Card, CardSet, HeuristicBot, InfoSet, PimcBot, PimcError, Round, Suit, TRUMP_CYCLE};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;
use common::play;

fn cards(text: &str) -> CardSet {
    text.parse().unwrap()
}

fn card(text: &str) -> Card {
    text.parse().unwrap()
}

fn apply_all(round: &mut Round, actions: &[Action]) {
    for &action in actions {
        round.apply(action).unwrap();
    }
}

/// One decision of a (copied) bot.
fn decide(bot: PimcBot, info: &InfoSet, rng: &mut ChaCha8Rng) -> Action {
    let mut bot = bot;
    bot.act(info, rng)
}

#[test]
fn construction_checks_both_fields() {
    assert_eq!(PimcBot::new(0, 4), Err(PimcError::Worlds { got: 0 }));
    assert_eq!(PimcBot::new(400, 0), Err(PimcError::Playouts { got: 0 }));
    assert_eq!(PimcBot::new(PimcBot::MAX_WORLDS + 1, 4), Err(PimcError::Worlds { got: PimcBot::MAX_WORLDS + 1 }));
    assert_eq!(PimcBot::new(400, PimcBot::MAX_PLAYOUTS + 1), Err(PimcError::Playouts { got: PimcBot::MAX_PLAYOUTS + 1 }));
    // Worlds are checked first when both are wrong.
    assert_eq!(PimcBot::new(0, 0), Err(PimcError::Worlds { got: 0 }));
    assert_eq!(PimcError::Worlds { got: 0 }.to_string(), "worlds must be 1..=100000, got 0");
    assert_eq!(PimcError::Playouts { got: 0 }.to_string(), "playouts must be 1..=1000, got 0");

    let bot = PimcBot::new(PimcBot::MAX_WORLDS, PimcBot::MAX_PLAYOUTS).unwrap();
    assert_eq!((bot.worlds(), bot.playouts()), (PimcBot::MAX_WORLDS, PimcBot::MAX_PLAYOUTS));
    let bot = PimcBot::new(1, 1).unwrap();
    assert_eq!((bot.worlds(), bot.playouts()), (1, 1));
    let bot = PimcBot::default();
    assert_eq!((bot.worlds(), bot.playouts()), (PimcBot::DEFAULT_WORLDS, PimcBot::DEFAULT_PLAYOUTS));
    assert_eq!((PimcBot::DEFAULT_WORLDS, PimcBot::DEFAULT_PLAYOUTS), (400, 4));
    assert_eq!(bot.name(), "pimc");
}

#[test]
fn always_acts_legally() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut decisions = 0;
    for d in 0..300usize {
        let players = 3 + d % 6;
        let cards = 1 + (d / 6) % max_cards(players);
        let mut round = Round::deal(players, cards, d % players, TRUMP_CYCLE[d % 5], &mut rng).unwrap();
        let mut bot = PimcBot::new(3 + d % 4, 1 + d % 2).unwrap();
        while !round.is_over() {
            let seat = round.to_act();
            let info = round.info_set(seat);
            let action = bot.act(&info, &mut rng);
            assert!(round.legal_actions().contains(action), "illegal {action} in {round:?}");
            round.apply(action).unwrap();
            decisions += 1;
        }
    }
    assert!(decisions > 3_000, "{decisions}");
}

#[test]
fn rule_playouts_finish_the_round_legally() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for d in 0..2_000usize {
        let players = 3 + d % 6;
        let cards = 1 + (d / 6) % max_cards(players);
        let mut round = Round::deal(players, cards, d % players, TRUMP_CYCLE[d % 5], &mut rng).unwrap();
        // Start from anywhere in the round, bidding included.
        for _ in 0..rng.gen_range(0..players + players * cards) {
            if let Some(action) = round.legal_actions().sample(&mut rng) {
                round.apply(action).unwrap();
            }
        }
        let before = round;
        rule_playout(&mut round, &mut rng);
        assert!(round.is_over());
        assert_eq!(round.tricks_done(), cards);
        for seat in 0..players {
            assert_eq!(round.played_by(seat) | before.hand(seat), before.played_by(seat) | before.hand(seat));
            assert!(round.bid(seat).is_some());
        }
    }
}

/// Mid-round positions of all table sizes, reached by heuristic play.
fn positions(count: usize, seed: u64) -> Vec<InfoSet> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|i| {
            let players = 3 + i % 6;
            let cards = 2 + i % (max_cards(players) - 1).min(7);
            let mut round = Round::deal(players, cards, i % players, TRUMP_CYCLE[i % 5], &mut rng).unwrap();
            let steps = rng.gen_range(0..players * (cards - 1));
            for _ in 0..steps {
                let action = HeuristicBot.act(&round.info_set(round.to_act()), &mut rng);
                round.apply(action).unwrap();
            }
            round.info_set(round.to_act())
        })
        .filter(|info| info.view().legal_actions().len() > 1)
        .collect()
}

#[test]
fn same_rng_state_same_action() {
    let bot = PimcBot::new(20, 2).unwrap();
    let infos = positions(120, 3);
    assert!(infos.len() > 80);
    let mut values_differ = 0;
    for (i, info) in infos.iter().enumerate() {
        let seed = 1000 + i as u64;
        let first = decide(bot, info, &mut ChaCha8Rng::seed_from_u64(seed));
        let again = decide(bot, info, &mut ChaCha8Rng::seed_from_u64(seed));
        assert_eq!(first, again, "{info:?}");
        let values = bot.action_values(info, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        assert_eq!(values, bot.action_values(info, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap());
        // `act` plays the first best of the values it computes from the same rng state.
        let best = values.iter().map(|v| v.1).fold(f64::MIN, f64::max);
        assert_eq!(first, values.iter().find(|v| v.1 == best).unwrap().0);
        let other = bot.action_values(info, &mut ChaCha8Rng::seed_from_u64(seed + 1_000_000)).unwrap();
        values_differ += (other != values) as usize;
    }
    // The rng really drives the sampling: other seeds give other estimates.
    assert!(values_differ > infos.len() / 2, "{values_differ} of {}", infos.len());
}

#[test]
fn one_decision_draws_one_u64_from_the_callers_rng() {
    let infos = positions(20, 4);
    for info in &infos {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut expected = rng.clone();
        PimcBot::new(5, 1).unwrap().act(info, &mut rng);
        expected.next_u64();
        assert_eq!(rng.next_u64(), expected.next_u64());
    }
}

#[test]
fn forced_moves_are_returned_without_sampling() {
    // 1-card round, dealer 3: the others bid 0, 0, 0, so the hook leaves the dealer only 0.
    let hands = [cards("2c"), cards("3c"), cards("4c"), cards("As")];
    let mut round = Round::new(4, 1, 3, Some(Suit::Spades), &hands).unwrap();
    apply_all(&mut round, &[Action::Bid(0), Action::Bid(0), Action::Bid(0)]);
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let untouched = rng.clone();
    assert_eq!(PimcBot::default().act(&round.info_set(3), &mut rng), Action::Bid(0));
    assert_eq!(rng, untouched, "no randomness is drawn for a forced move");
    // A one-card hand in play is forced too.
    round.apply(Action::Bid(0)).unwrap();
    assert_eq!(PimcBot::default().act(&round.info_set(0), &mut rng), Action::Play(card("2c")));
    assert_eq!(rng, untouched);
}

#[test]
fn bids_one_with_the_ace_of_trumps_in_a_one_card_round() {
    let bot = PimcBot::new(100, 2).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for trump in Suit::ALL {
        let ace = Card::new(trump, 14);
        let low = Card::new(Suit::ALL[(trump.index() as usize + 1) % 4], 2);
        // Every seat of a 4-player table, with the ace (bid 1) or a low plain card (bid 0);
        // for the dealer, after bids that leave both 0 and 1 legal (sum of others 2).
        for seat in 0..4 {
            for (held, expected) in [(ace, 1), (low, 0)] {
                let mut deal_rng = ChaCha8Rng::seed_from_u64(seat as u64);
                let mut rest = CardSet::DECK - CardSet::single(held);
                let mut hands = [CardSet::EMPTY; 4];
                for (s, hand) in hands.iter_mut().enumerate() {
                    *hand = if s == seat {
                        CardSet::single(held)
                    } else {
                        let c = rest.nth(deal_rng.gen_range(0..rest.len())).unwrap();
                        rest.remove(c);
                        CardSet::single(c)
                    };
                }
                let dealer = (seat + 3) % 4; // the bot bids first...
                let dealer = if seat == 3 { 3 } else { dealer }; // ...or last, as the dealer
                let mut round = Round::new(4, 1, dealer, Some(trump), &hands).unwrap();
                while round.to_act() != seat {
                    let bid = if round.bids_made() < 2 { 1 } else { 0 };
                    round.apply(Action::Bid(bid)).unwrap();
                }
                assert!(round.legal_actions().len() == 2);
                let action = decide(bot, &round.info_set(seat), &mut rng);
                assert_eq!(action, Action::Bid(expected), "seat {seat} holding {held}, trump {trump}");
            }
        }
    }
}

#[test]
fn ducks_once_the_bid_is_made() {
    let bot = PimcBot::new(200, 4).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(8);

    // Leading: seat 0 bid 1 and took the first trick with the ace of spades. Leading the ace of
    // hearts (no trumps) takes a second trick for certain; the two may well lose.
    let hands = [cards("As Ah 2h"), cards("3s Kc Qc"), cards("4s Kd Qd"), cards("5s Jc Jd")];
    let mut round = Round::new(4, 3, 3, None, &hands).unwrap();
    apply_all(&mut round, &[Action::Bid(1), Action::Bid(1), Action::Bid(1), Action::Bid(1)]);
    for c in ["As", "3s", "4s", "5s"] {
        round.apply(Action::Play(card(c))).unwrap();
    }
    assert_eq!((round.to_act(), round.tricks_won(0)), (0, 1));
    assert_eq!(decide(bot, &round.info_set(0), &mut rng), Action::Play(card("2h")));

    // Following: seat 1 bid 0 and must follow the king of hearts (spades trump) with the ace,
    // a certain trick, or the two.
    let hands = [cards("Kh 3s"), cards("Ah 2h"), cards("Qh 4c"), cards("Jh 5c")];
    let mut round = Round::new(4, 2, 3, Some(Suit::Spades), &hands).unwrap();
    apply_all(&mut round, &[Action::Bid(1), Action::Bid(0), Action::Bid(0), Action::Bid(0)]);
    round.apply(Action::Play(card("Kh"))).unwrap();
    assert_eq!(decide(bot, &round.info_set(1), &mut rng), Action::Play(card("2h")));

    // And the other way round: one trick short (bid 1) in a no-trump round, seat 1 takes the
    // king with the ace (then leading the two loses unless nobody else holds a heart) rather
    // than ducking and needing a heart lead for its ace.
    let mut round = Round::new(4, 2, 3, None, &hands).unwrap();
    apply_all(&mut round, &[Action::Bid(0), Action::Bid(1), Action::Bid(0), Action::Bid(0)]);
    round.apply(Action::Play(card("Kh"))).unwrap();
    assert_eq!(decide(bot, &round.info_set(1), &mut rng), Action::Play(card("Ah")));
}

#[test]
fn falls_back_to_the_heuristic_on_an_impossible_information_set() {
    // Only a hand-made (here: edited) information set can contradict itself: seat 1 still holds
    // two cards but is marked void in every suit.
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let round = Round::deal(4, 2, 3, Some(Suit::Hearts), &mut rng).unwrap();
    let mut value = serde_json::to_value(round.info_set(0)).unwrap();
    value["view"]["voids"][1] = 15.into();
    let info: InfoSet = serde_json::from_value(value).unwrap();
    let bot = PimcBot::new(10, 1).unwrap();
    assert!(bot.action_values(&info, &mut rng).is_err());
    assert_eq!(decide(bot, &info, &mut rng), HeuristicBot.act(&info, &mut rng));
}

/// Mean and standard error of a sample.
fn mean_and_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Per deal, the mean over the four seats of (PimcBot's score in that seat against three
/// HeuristicBots) minus (HeuristicBot's score in that seat, all four seats heuristic), plus the
/// two means per round.
fn paired_advantage(bot: PimcBot, deals: usize, seed: u64) -> (Vec<f64>, f64, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut pimc_total, mut heuristic_total) = (0.0, 0.0);
    let mut per_deal = Vec::with_capacity(deals);
    for d in 0..deals {
        let cards = 1 + d % 8;
        let round = Round::deal(4, cards, d % 4, TRUMP_CYCLE[d % 5], &mut rng).unwrap();
        let mut heuristics: Vec<Box<dyn Bot>> = (0..4).map(|_| Box::new(HeuristicBot) as Box<dyn Bot>).collect();
        let baseline = play(round, &mut heuristics, &mut rng);
        let mut advantage = 0.0;
        for (hero, &base) in baseline.iter().enumerate() {
            let mut bots: Vec<Box<dyn Bot>> = (0..4)
                .map(|s| if s == hero { Box::new(bot) as Box<dyn Bot> } else { Box::new(HeuristicBot) })
                .collect();
            let score = play(round, &mut bots, &mut rng)[hero] as f64;
            pimc_total += score;
            heuristic_total += base as f64;
            advantage += (score - base as f64) / 4.0;
        }
        per_deal.push(advantage);
    }
    let rounds = (deals * 4) as f64;
    (per_deal, pimc_total / rounds, heuristic_total / rounds)
}

#[test]
fn beats_the_heuristic_in_its_seats() {
    // 300 deals (4 players, 1-8 cards, all dealers and trumps), each replayed with PimcBot in
    // every seat. Deals are independent, the four seatings of one deal are not, so the standard
    // error is taken over per-deal means of the paired differences. Under the null hypothesis
    // (no advantage) the mean exceeds 3 standard errors with probability about 0.1%.
    let (per_deal, pimc, heuristic) = paired_advantage(PimcBot::new(50, 2).unwrap(), 300, 12);
    let (advantage, se) = mean_and_se(&per_deal);
    println!("pimc {pimc:.3} vs heuristic {heuristic:.3} per round: advantage {advantage:+.3} (se {se:.3})");
    assert!(advantage > 3.0 * se, "advantage {advantage:+.3} per round, standard error {se:.3}");
}
