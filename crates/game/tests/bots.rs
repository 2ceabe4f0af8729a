//! Baseline bots play legally, and the heuristic is a real opponent.

use game::{Bot, HeuristicBot, RandomBot, Round, TRUMP_CYCLE};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

mod common;
use common::play;

#[test]
fn bots_always_act_legally() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for seed in 0..400u64 {
        let players = 3 + (seed % 6) as usize;
        let cards = 1 + (seed as usize) % (52 / players);
        let round = Round::deal(players, cards, seed as usize % players, TRUMP_CYCLE[seed as usize % 5], &mut rng).unwrap();
        let mut bots: Vec<Box<dyn Bot>> = (0..players)
            .map(|s| if s % 2 == 0 { Box::new(HeuristicBot) as Box<dyn Bot> } else { Box::new(RandomBot) })
            .collect();
        play(round, &mut bots, &mut rng);
    }
}

#[test]
fn heuristic_beats_random_by_a_wide_margin() {
    // One heuristic seat against three random seats, the seat rotating over the same deals.
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (mut heuristic_total, mut random_total, mut exact) = (0.0, 0.0, 0);
    let deals = 500;
    for d in 0..deals {
        let cards = 1 + d % 8;
        let round = Round::deal(4, cards, d % 4, TRUMP_CYCLE[d % 5], &mut rng).unwrap();
        for hero in 0..4 {
            let mut bots: Vec<Box<dyn Bot>> = (0..4)
                .map(|s| if s == hero { Box::new(HeuristicBot) as Box<dyn Bot> } else { Box::new(RandomBot) })
                .collect();
            let scores = play(round, &mut bots, &mut rng);
            heuristic_total += scores[hero] as f64;
            random_total += scores.iter().enumerate().filter(|(s, _)| *s != hero).map(|(_, &v)| v as f64).sum::<f64>() / 3.0;
            exact += (scores[hero] > 0) as usize;
        }
    }
    let rounds = (deals * 4) as f64;
    let (heuristic_mean, random_mean) = (heuristic_total / rounds, random_total / rounds);
    assert!(heuristic_mean > 1.5 * random_mean, "heuristic {heuristic_mean:.2} vs random {random_mean:.2}");
    assert!(exact as f64 / rounds > 0.45, "heuristic makes its bid in {:.0}% of rounds", 100.0 * exact as f64 / rounds);
}
