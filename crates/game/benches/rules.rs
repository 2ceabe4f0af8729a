//! Rules-engine throughput: random playouts of whole rounds, determinization samples, and the
//! time per decision of the PIMC baseline bot.
//! Run: `cargo bench -p game --bench rules` (single thread; numbers are per core).

use std::hint::black_box;
use std::time::Instant;

use game::{Bot, Determinizer, HeuristicBot, InfoSet, PimcBot, Round, TRUMP_CYCLE};
use rand::rngs::SmallRng;
use rand::SeedableRng;

fn rate(label: &str, count: usize, seconds: f64) {
    println!("{label:<58} {:>12.0} /s  ({count} in {seconds:.2} s)", count as f64 / seconds);
}

fn playouts(rng: &mut SmallRng, count: usize) -> f64 {
    let start = Instant::now();
    let mut checksum = 0i64;
    for i in 0..count {
        let mut round = Round::deal(4, 5, i % 4, TRUMP_CYCLE[i % 5], rng).unwrap();
        while !round.is_over() {
            let action = round.legal_actions().sample(rng).unwrap();
            round.apply_legal(action);
        }
        checksum += round.score(0) as i64;
    }
    black_box(checksum);
    start.elapsed().as_secs_f64()
}

/// Mid-round positions (4 players x 5 cards, after bidding and two tricks), some with voids.
fn mid_round_infos(rng: &mut SmallRng, count: usize) -> Vec<InfoSet> {
    (0..count)
        .map(|i| {
            let mut round = Round::deal(4, 5, i % 4, TRUMP_CYCLE[i % 5], rng).unwrap();
            while round.tricks_done() < 2 || round.current_trick().cards().len() < i % 3 {
                let action = round.legal_actions().sample(rng).unwrap();
                round.apply_legal(action);
            }
            InfoSet::new(&round, round.to_act())
        })
        .collect()
}

/// PimcBot at its defaults in one seat (rotating) against three HeuristicBots, 4 players,
/// 1-8 cards: seconds spent in its decisions, decisions made, and how many were forced.
fn pimc_decisions(rng: &mut SmallRng, deals: usize) -> (f64, usize, usize) {
    let mut pimc = PimcBot::default();
    let (mut seconds, mut decisions, mut forced) = (0.0, 0, 0);
    for d in 0..deals {
        let mut round = Round::deal(4, 1 + d % 8, d % 4, TRUMP_CYCLE[d % 5], rng).unwrap();
        let hero = (d / 8) % 4;
        while !round.is_over() {
            let seat = round.to_act();
            let info = round.info_set(seat);
            let action = if seat == hero {
                forced += (info.view().legal_actions().len() == 1) as usize;
                let start = Instant::now();
                let action = pimc.act(&info, rng);
                seconds += start.elapsed().as_secs_f64();
                decisions += 1;
                action
            } else {
                HeuristicBot.act(&info, rng)
            };
            round.apply_legal(action);
        }
    }
    (seconds, decisions, forced)
}

fn main() {
    let mut rng = SmallRng::seed_from_u64(1);
    playouts(&mut rng, 50_000); // warm-up
    let count = 1_000_000;
    rate("random playouts, 4 players x 5 cards (deal to score)", count, playouts(&mut rng, count));

    let infos = mid_round_infos(&mut rng, 10_000);
    let with_voids = infos.iter().filter(|i| (0..4).any(|s| i.view().void_mask(s) != 0)).count();
    // One determinizer per information set, several samples each (as a search draws D worlds).
    for per_set in [1usize, 3, 30] {
        let start = Instant::now();
        let mut checksum = 0u64;
        for info in &infos {
            let mut determinizer = Determinizer::new(info).unwrap();
            for _ in 0..per_set {
                checksum ^= determinizer.sample(&mut rng).hand((info.observer() + 1) % 4).0;
            }
        }
        black_box(checksum);
        rate(
            &format!("determinizations, 4x5 mid-round, {per_set} per information set"),
            infos.len() * per_set,
            start.elapsed().as_secs_f64(),
        );
    }
    println!("({with_voids} of {} positions have a shown void)", infos.len());

    // 128 deals: every size 1-8 sixteen times, the PimcBot seat rotating over the sizes.
    let (seconds, decisions, forced) = pimc_decisions(&mut rng, 128);
    println!(
        "PimcBot {}x{}, 4 players x 1-8 cards vs 3 HeuristicBots: {:.2} ms per decision \
         ({:.2} ms per unforced one; {decisions} decisions, {forced} forced, {seconds:.2} s)",
        PimcBot::DEFAULT_WORLDS,
        PimcBot::DEFAULT_PLAYOUTS,
        1e3 * seconds / decisions as f64,
        1e3 * seconds / (decisions - forced) as f64,
    );
}
