//! Property tests: random legal play, and determinization consistency and uniformity.

use std::collections::HashMap;

use game::{CardSet, Determinizer, Game, InfoSet, Round, Suit, TRUMP_CYCLE};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A random legal round for the given seed, stopped after `stop_after` actions (or at the end).
fn random_round(players: usize, cards: usize, dealer: usize, trump: usize, seed: u64, stop_after: usize) -> (Round, Round) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = Round::deal(players, cards, dealer, TRUMP_CYCLE[trump], &mut rng).unwrap();
    let mut round = start;
    for _ in 0..stop_after {
        if round.is_over() {
            break;
        }
        let action = round.legal_actions().sample(&mut rng).unwrap();
        round.apply(action).unwrap();
    }
    (start, round)
}

fn table() -> impl Strategy<Value = (usize, usize, usize, usize)> {
    (3usize..=8).prop_flat_map(|p| (Just(p), 1..=52 / p, 0..p, 0usize..5))
}

proptest! {
    #[test]
    fn random_rounds_play_every_card_once((players, cards, dealer, trump) in table(), seed: u64) {
        let (start, end) = random_round(players, cards, dealer, trump, seed, usize::MAX);
        prop_assert!(end.is_over());
        prop_assert!(end.legal_actions().is_empty());
        prop_assert_eq!(end.as_dealt(), start);
        let (_, partway) = random_round(players, cards, dealer, trump, seed, (seed % 64) as usize);
        prop_assert_eq!(partway.as_dealt(), start);
        let tricks: usize = (0..players).map(|s| end.tricks_won(s) as usize).sum();
        prop_assert_eq!(tricks, cards);
        for seat in 0..players {
            prop_assert_eq!(end.played_by(seat), start.hand(seat), "seat {} played exactly its hand", seat);
            prop_assert!(end.hand(seat).is_empty());
            let bid = end.bid(seat).unwrap();
            let expected = if bid == end.tricks_won(seat) { 10 + bid as i32 } else { 0 };
            prop_assert_eq!(end.score(seat), expected);
        }
        let bids: usize = (0..players).map(|s| end.bid(s).unwrap() as usize).sum();
        prop_assert_ne!(bids, cards, "the hook keeps the bids from summing to n");
    }

    #[test]
    fn random_games_follow_the_schedule(players in 3usize..=8, start_frac in 0.0f64..1.0, seed: u64) {
        let start = 1 + (start_frac * (52 / players) as f64) as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut game = Game::new(players, start, &mut rng).unwrap();
        let mut expected_totals = [0i32; 8];
        let mut rounds = 0;
        loop {
            let spec = game.schedule().round(game.round_index()).unwrap();
            prop_assert_eq!((game.round().cards(), game.round().dealer(), game.round().trump()), (spec.cards, spec.dealer, spec.trump));
            while !game.round().is_over() {
                let action = game.round().legal_actions().sample(&mut rng).unwrap();
                game.round_mut().apply(action).unwrap();
            }
            for (total, score) in expected_totals.iter_mut().zip(game.round().scores()) {
                *total += score;
            }
            rounds += 1;
            if !game.next_round(&mut rng) {
                break;
            }
        }
        prop_assert!(game.is_over());
        prop_assert_eq!(rounds, 2 * start + players - 2);
        prop_assert_eq!(game.totals(), expected_totals);
        let best = *expected_totals[..players].iter().max().unwrap();
        prop_assert!(game.winners().iter().all(|&s| expected_totals[s] == best));
    }

    #[test]
    fn determinizations_are_consistent((players, cards, dealer, trump) in table(), seed: u64, progress in 0.0f64..1.0) {
        let total_actions = players + players * cards;
        let (_, round) = random_round(players, cards, dealer, trump, seed, (progress * total_actions as f64) as usize);
        prop_assume!(!round.is_over());
        let observer = round.to_act();
        let info = InfoSet::new(&round, observer);
        let mut determinizer = Determinizer::new(&info).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        for _ in 0..4 {
            let world = determinizer.sample(&mut rng);
            prop_assert_eq!(world.hand(observer), round.hand(observer));
            // The public state is untouched: same view for the observer.
            prop_assert_eq!(InfoSet::new(&world, observer), info);
            let mut seen = CardSet::EMPTY;
            for seat in 0..players {
                let hand = world.hand(seat);
                prop_assert_eq!(hand.len(), round.hand_size(seat));
                prop_assert!((hand & round.played()).is_empty(), "played cards stay played");
                prop_assert!((hand & seen).is_empty(), "no card in two hands");
                seen |= hand;
                for suit in Suit::ALL {
                    if round.void_mask(seat) & (1 << suit.index()) != 0 {
                        prop_assert!(!hand.has_suit(suit), "seat {} shown void in {} holds it", seat, suit);
                    }
                }
            }
            // The sampled world is a legal continuation: it can be played out.
            let mut world = world;
            while !world.is_over() {
                let action = world.legal_actions().sample(&mut rng).unwrap();
                world.apply(action).unwrap();
            }
        }
    }
}

/// All ways to complete `info` by brute force: assign each unseen card to a hidden seat or the
/// undealt pile, keeping hand sizes and voids.
fn all_consistent_deals(info: &InfoSet) -> Vec<Vec<CardSet>> {
    let round = info.view();
    let players = round.players();
    let unseen: Vec<_> = info.unseen().iter().collect();
    let mut deals = Vec::new();
    fn recurse(
        i: usize,
        unseen: &[game::Card],
        hands: &mut Vec<CardSet>,
        info: &InfoSet,
        deals: &mut Vec<Vec<CardSet>>,
    ) {
        let round = info.view();
        if i == unseen.len() {
            let complete = (0..round.players())
                .filter(|&s| s != info.observer())
                .all(|s| hands[s].len() == round.hand_size(s));
            if complete {
                deals.push(hands.clone());
            }
            return;
        }
        let card = unseen[i];
        recurse(i + 1, unseen, hands, info, deals); // undealt
        for seat in (0..round.players()).filter(|&s| s != info.observer()) {
            let void = round.void_mask(seat) & (1 << card.suit().index()) != 0;
            if !void && hands[seat].len() < round.hand_size(seat) {
                hands[seat].insert(card);
                recurse(i + 1, unseen, hands, info, deals);
                hands[seat].remove(card);
            }
        }
    }
    let mut hands = vec![CardSet::EMPTY; players];
    recurse(0, &unseen, &mut hands, info, &mut deals);
    deals
}

/// A random position of a deal that uses the whole deck (4 x 13), played until `tricks_left`
/// tricks remain, where the unseen cards are exactly the other hands.
fn late_position(seed: u64, tricks_left: usize, rng: &mut ChaCha8Rng) -> Round {
    let mut round = Round::deal(4, 13, (seed % 4) as usize, TRUMP_CYCLE[(seed % 5) as usize], &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
    while round.tricks_done() < 13 - tricks_left {
        let action = round.legal_actions().sample(rng).unwrap();
        round.apply(action).unwrap();
    }
    // Stop mid-trick sometimes, so hand sizes differ.
    for _ in 0..seed % 3 {
        let action = round.legal_actions().sample(rng).unwrap();
        round.apply(action).unwrap();
    }
    round
}

/// A world's hidden hands in the shape of `all_consistent_deals` (the observer's hand empty).
fn hidden_hands(world: &Round, observer: usize) -> Vec<CardSet> {
    (0..world.players()).map(|seat| if seat == observer { CardSet::EMPTY } else { world.hand(seat) }).collect()
}

/// Adds one to each (card, seat) placement of `deal`.
fn count_placements(counts: &mut HashMap<(u8, usize), f64>, deal: &[CardSet]) {
    for (seat, hand) in deal.iter().enumerate() {
        for card in hand.iter() {
            *counts.entry((card.index(), seat)).or_default() += 1.0;
        }
    }
}

#[test]
fn card_placements_have_the_right_frequencies() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut checked = 0;
    for seed in 0..500u64 {
        let round = late_position(seed, 4, &mut rng);
        let observer = round.to_act();
        let voids = (0..4).filter(|&s| s != observer && round.void_mask(s) != 0).count();
        if voids < 2 {
            continue;
        }
        let info = InfoSet::new(&round, observer);
        let deals = all_consistent_deals(&info);
        let mut expected: HashMap<(u8, usize), f64> = HashMap::new();
        for deal in &deals {
            count_placements(&mut expected, deal);
        }
        expected.values_mut().for_each(|count| *count /= deals.len() as f64);
        let mut determinizer = Determinizer::new(&info).unwrap();
        let samples = 50_000;
        let mut observed: HashMap<(u8, usize), f64> = HashMap::new();
        for _ in 0..samples {
            count_placements(&mut observed, &hidden_hands(&determinizer.sample(&mut rng), observer));
        }
        for (key, &p) in &expected {
            let seen = observed.get(key).copied().unwrap_or(0.0) / samples as f64;
            let sigma = (p * (1.0 - p) / samples as f64).sqrt();
            assert!((seen - p).abs() <= 5.0 * sigma + 1e-9, "seed {seed}, card {} seat {}: expected {p:.4}, sampled {seen:.4}", key.0, key.1);
        }
        for key in observed.keys() {
            assert!(expected.contains_key(key), "seed {seed}: impossible placement sampled: {key:?}");
        }
        checked += 1;
        if checked == 5 {
            break;
        }
    }
    assert_eq!(checked, 5, "found enough positions with two voids to test");
}

#[test]
fn whole_deals_are_equally_likely() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut checked = 0;
    for seed in 0..500u64 {
        let round = late_position(seed, 3, &mut rng);
        if (0..4).all(|s| round.void_mask(s) == 0) {
            continue;
        }
        let info = InfoSet::new(&round, round.to_act());
        let deals = all_consistent_deals(&info);
        if deals.len() < 3 {
            continue;
        }
        let index: HashMap<Vec<CardSet>, usize> = deals.iter().cloned().enumerate().map(|(i, d)| (d, i)).collect();
        let mut counts = vec![0f64; deals.len()];
        let mut determinizer = Determinizer::new(&info).unwrap();
        let samples = deals.len() * 200;
        for _ in 0..samples {
            let deal = hidden_hands(&determinizer.sample(&mut rng), info.observer());
            counts[*index.get(&deal).expect("sampled deal is consistent")] += 1.0;
        }
        let expected = samples as f64 / deals.len() as f64;
        let chi2: f64 = counts.iter().map(|c| (c - expected).powi(2) / expected).sum();
        let dof = (deals.len() - 1) as f64;
        // Far in the upper tail (mean dof, sd sqrt(2 dof)): 6 sd.
        assert!(chi2 < dof + 6.0 * (2.0 * dof).sqrt(), "seed {seed}: chi2 {chi2:.1} with {dof} dof");
        checked += 1;
        if checked == 5 {
            break;
        }
    }
    assert_eq!(checked, 5, "found enough positions with voids to test");
}

#[test]
fn every_real_position_has_a_consistent_deal() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for seed in 0..300u64 {
        let players = 3 + (seed % 6) as usize;
        let cards = 1 + (seed as usize * 7) % (52 / players);
        let mut round = Round::deal(players, cards, 0, None, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        while !round.is_over() {
            let info = InfoSet::new(&round, round.to_act());
            let world = Determinizer::new(&info).expect("a real position always has a consistent deal").sample(&mut rng);
            assert_eq!(InfoSet::new(&world, round.to_act()), info);
            let action = round.legal_actions().sample(&mut rng).unwrap();
            round.apply(action).unwrap();
        }
    }
}
