//! Rules-engine throughput (criterion): random playouts of whole rounds, determinization
//! samples, and the time per decision of the PIMC baseline bot.
//! Run: `cargo bench -p game --bench rules` (single thread; times are per core).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use game::{Bot, Determinizer, HeuristicBot, InfoSet, PimcBot, Round, TRUMP_CYCLE};
use rand::rngs::SmallRng;
use rand::SeedableRng;

/// One random round, 4 players x 5 cards, from the deal to the score.
fn playout(rng: &mut SmallRng, i: usize) -> i32 {
    let mut round = Round::deal(4, 5, i % 4, TRUMP_CYCLE[i % 5], rng).unwrap();
    while !round.is_over() {
        let action = round.legal_actions().sample(rng).unwrap();
        round.apply_legal(action);
    }
    round.score(0)
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

/// The unforced decisions PimcBot meets in one seat (rotating) against three HeuristicBots,
/// 4 players, every size of 1-8 cards: its information sets, taken from HeuristicBot's play.
fn pimc_positions(rng: &mut SmallRng, deals: usize) -> Vec<InfoSet> {
    let mut positions = Vec::new();
    for d in 0..deals {
        let mut round = Round::deal(4, 1 + d % 8, d % 4, TRUMP_CYCLE[d % 5], rng).unwrap();
        let hero = (d / 8) % 4;
        while !round.is_over() {
            let info = round.info_set(round.to_act());
            if round.to_act() == hero && info.view().legal_actions().len() > 1 {
                positions.push(info);
            }
            round.apply_legal(HeuristicBot.act(&info, rng));
        }
    }
    positions
}

fn playouts(c: &mut Criterion) {
    let mut rng = SmallRng::seed_from_u64(1);
    let mut i = 0;
    let mut group = c.benchmark_group("playout");
    group.throughput(Throughput::Elements(1));
    group.bench_function("random round, 4 players x 5 cards, deal to score", |b| {
        b.iter(|| {
            i += 1;
            black_box(playout(&mut rng, i))
        })
    });
    group.finish();
}

fn determinizations(c: &mut Criterion) {
    let mut rng = SmallRng::seed_from_u64(2);
    let infos = mid_round_infos(&mut rng, 1_000);
    let mut group = c.benchmark_group("determinize");
    // One determinizer per information set, several samples each (as a search draws D worlds).
    for per_set in [1usize, 3, 30] {
        group.throughput(Throughput::Elements(per_set as u64));
        let mut next = infos.iter().cycle();
        group.bench_function(format!("4x5 mid-round, {per_set} per information set"), |b| {
            b.iter(|| {
                let info = next.next().expect("a cycle");
                let mut determinizer = Determinizer::new(info).unwrap();
                (0..per_set).map(|_| determinizer.sample(&mut rng).hand((info.observer() + 1) % 4).0).fold(0, |a, h| a ^ h)
            })
        });
    }
    group.finish();
}

fn pimc_decisions(c: &mut Criterion) {
    let mut rng = SmallRng::seed_from_u64(3);
    // 128 deals: every size 1-8 sixteen times, the PimcBot seat rotating over the sizes.
    let positions = pimc_positions(&mut rng, 128);
    let mut pimc = PimcBot::default();
    let mut next = positions.iter().cycle();
    let mut group = c.benchmark_group("pimc");
    group.sample_size(20);
    let label = format!(
        "PimcBot {}x{}, unforced decision, 4 players x 1-8 cards",
        PimcBot::DEFAULT_WORLDS,
        PimcBot::DEFAULT_PLAYOUTS
    );
    group.bench_function(label, |b| {
        b.iter_batched(|| *next.next().expect("a cycle"), |info| pimc.act(&info, &mut rng), BatchSize::SmallInput)
    });
    group.finish();
}

criterion_group!(benches, playouts, determinizations, pimc_decisions);
criterion_main!(benches);
