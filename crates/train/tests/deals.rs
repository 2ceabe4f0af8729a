//! `play_deals` streams each agent's decisions through the batched searcher: its results must
//! not depend on how the deals are scheduled (how many at once, batch cap, overlap), with
//! one agent, two agents and bots at the table.

use game::{HeuristicBot, Round, TRUMP_CYCLE};
use mcts::{BatchedSearcher, DriverConfig, SearchConfig, UniformEvaluator};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use train::deals::{play_deals, play_deals_from, Deal, Dealt, Example, Player};

fn deals(lineups: &[Vec<usize>]) -> Vec<Deal> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    (0..12)
        .map(|d| {
            let lineup = lineups[d % lineups.len()].clone();
            let players = lineup.len();
            let trump = TRUMP_CYCLE[rng.gen_range(0..TRUMP_CYCLE.len())];
            let round = Round::deal(players, 3, d % players, trump, &mut rng).unwrap();
            Deal { dealt: Dealt::Round(round), lineup }
        })
        .collect()
}

/// Two searching agents (player 0 and 2, on evaluators of different values) and HeuristicBot.
fn lineup<'a>(first: &'a mut UniformEvaluator, second: &'a mut UniformEvaluator) -> [Player<'a>; 3] {
    let search = SearchConfig { simulations: 8, ..SearchConfig::light() };
    [
        Player::Agent { search, evaluator: first, play_model: None },
        Player::Bot(Box::new(HeuristicBot)),
        Player::Agent { search, evaluator: second, play_model: None },
    ]
}

/// Final rounds and examples of every deal.
fn play(deals: &[Deal], concurrent: usize, driver: DriverConfig) -> Vec<(Round, Vec<Example>)> {
    let (mut first, mut second) = (UniformEvaluator { value: 0.5 }, UniformEvaluator { value: 0.2 });
    let mut players = lineup(&mut first, &mut second);
    let mut searcher = BatchedSearcher::new(driver).unwrap();
    let mut finished = 0;
    let (played, stats) = play_deals(deals, &mut players, &mut searcher, concurrent, 3, true, |_| finished += 1).unwrap();
    assert_eq!(finished, deals.len());
    assert!(stats.searches > 0);
    played.into_iter().enumerate().map(|(d, p)| {
        assert_eq!(p.deal, d);
        assert!(p.end().is_over());
        (*p.end(), p.examples)
    }).collect()
}

#[test]
fn results_do_not_depend_on_scheduling() {
    for lineups in [vec![vec![0; 4]], vec![vec![0, 1, 2, 1], vec![2, 0, 0], vec![1, 1, 2]]] {
        let deals = deals(&lineups);
        let reference = play(&deals, 1, DriverConfig { max_batch: 4096, overlap: false });
        assert!(reference.iter().any(|(_, examples)| !examples.is_empty()));
        for (concurrent, max_batch, overlap) in [(5, 4096, true), (12, 64, true), (3, 24, false)] {
            let other = play(&deals, concurrent, DriverConfig { max_batch, overlap });
            assert!(other == reference, "concurrent {concurrent}, max batch {max_batch}, overlap {overlap}");
        }
    }
}

/// The arena's whole games: every seating of one game gets the same cards in every round.
#[test]
fn replayed_games_deal_the_same_cards_to_every_seating() {
    let lineups = vec![vec![0, 1, 1, 1], vec![1, 0, 1, 1], vec![1, 1, 0, 1]];
    let deals = train::matches::replayed_games(4, 3, 2, &lineups).unwrap();
    assert_eq!(deals.len(), 6);
    // Two bots that play alike: the seating cannot change what happens, only the cards can.
    let mut players = [Player::Bot(Box::new(HeuristicBot)), Player::Bot(Box::new(HeuristicBot))];
    let mut searcher = BatchedSearcher::new(DriverConfig::default()).unwrap();
    let (played, _) = play_deals(&deals, &mut players, &mut searcher, 4, 11, false, |_| {}).unwrap();
    for game in played.chunks(3) {
        assert_eq!(game[0].rounds.len(), 2 * 3 + 4 - 2, "the whole schedule");
        assert!(game.iter().all(|seating| seating.rounds == game[0].rounds));
    }
    assert_ne!(played[0].rounds[0], played[3].rounds[0], "two games, two deals");
}

/// The arena plays its deals in parts when it learns the other seats between them: each deal
/// is seeded by its number, so the parts make the same choices as one run, and each round's
/// logged actions replay to the round played.
#[test]
fn deals_played_in_parts_match_one_run_and_log_their_actions() {
    let deals = deals(&[vec![0, 1, 2, 1]]);
    let run = |parts: &[std::ops::Range<usize>]| {
        let (mut first, mut second) = (UniformEvaluator { value: 0.5 }, UniformEvaluator { value: 0.2 });
        let mut players = lineup(&mut first, &mut second);
        let mut searcher = BatchedSearcher::new(DriverConfig::default()).unwrap();
        let mut played = Vec::new();
        for part in parts {
            let (results, _) =
                play_deals_from(&deals[part.clone()], part.start, &mut players, &mut searcher, 4, 3, false, |_| {}).unwrap();
            played.extend(results);
        }
        played
    };
    let whole = run(&[0..deals.len()]);
    let parts = run(&[0..5, 5..deals.len()]);
    for (a, b) in whole.iter().zip(&parts) {
        assert_eq!((&a.rounds, &a.actions), (&b.rounds, &b.actions));
    }
    for (played, deal) in whole.iter().zip(&deals) {
        let Dealt::Round(mut round) = deal.dealt else { unreachable!() };
        assert_eq!(played.actions.len(), 1);
        for &action in &played.actions[0] {
            round.apply(action).unwrap();
        }
        assert_eq!(&round, played.end());
    }
}
