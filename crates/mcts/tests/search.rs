//! Search behaviour on hand-built positions, batching and determinism.

use std::sync::{Arc, Mutex};

use game::{Action, CardSet, Determinizer, GameContext, InfoSet, Round, Suit};
use mcts::{
    BatchedSearcher, DriverConfig, Evaluation, Evaluator, Leaf, OpponentModel, Preset, RolloutEvaluator, Search,
    SearchConfig, SearchError, SearchKind, SearchResult, SearchStats, UniformEvaluator,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn cards(text: &str) -> CardSet {
    text.parse().unwrap()
}

fn card(text: &str) -> Action {
    Action::Play(text.parse().unwrap())
}

fn apply_all(round: &mut Round, actions: &[Action]) {
    for &action in actions {
        round.apply(action).unwrap_or_else(|e| panic!("{action}: {e}"));
    }
}

fn search_one(info: &InfoSet, config: &SearchConfig, seed: u64, evaluator: &mut dyn Evaluator) -> SearchResult {
    let mut searcher = BatchedSearcher::new(DriverConfig::default()).unwrap();
    searcher.decide(Search::new(info, config, seed).unwrap(), evaluator).unwrap()
}

/// Two cards each, spades trump, dealer 0. Hearts are led to trick 1 and seat 0, void in
/// hearts and last to play, holds A♠ and A♦:
/// - A♦ loses trick 1 for sure, then A♠ wins trick 2 for sure: exactly one trick;
/// - A♠ wins trick 1, then A♦ is led to trick 2 and wins unless one of the three opponents'
///   last cards is a spade (about 60% of deals): one or two tricks.
fn two_aces(dealer_bid: u8) -> Round {
    let hands = [cards("As Ad"), cards("5h 2c"), cards("9h 3c"), cards("7h 4c")];
    let mut round = Round::new(4, 2, 0, Some(Suit::Spades), &hands).unwrap();
    // The hook: the others' bids must not leave the dealer's bid as the forbidden one.
    let first = if dealer_bid == 1 { 0 } else { 1 };
    apply_all(
        &mut round,
        &[Action::Bid(first), Action::Bid(0), Action::Bid(0), Action::Bid(dealer_bid), card("5h"), card("9h"), card("7h")],
    );
    assert_eq!(round.to_act(), 0);
    round
}

/// One card each, spades trump, dealer 0; seats 1 and 2 bid 1, seat 3 holds A♠ and bids:
/// bid 1 scores for sure (11/11), bid 0 fails for sure, whatever the dealer then bids.
fn ace_single() -> Round {
    let hands = [cards("2c"), cards("3c"), cards("4c"), cards("As")];
    let mut round = Round::new(4, 1, 0, Some(Suit::Spades), &hands).unwrap();
    apply_all(&mut round, &[Action::Bid(1), Action::Bid(1)]);
    assert_eq!(round.to_act(), 3);
    round
}

#[test]
fn search_finds_the_play_that_makes_the_bid() {
    let config = SearchConfig { worlds: 16, simulations: 40, ..SearchConfig::medium().for_play() };
    let mut evaluator = RolloutEvaluator::new(4, 1);
    for seed in 0..3 {
        // Bid 1: duck with A♦ (certain) rather than win with A♠ (fails ~40% of deals).
        let round = two_aces(1);
        let result = search_one(&round.info_set(0), &config, seed, &mut evaluator);
        assert_eq!(result.action, card("Ad"), "bid 1, seed {seed}: {:?}", result.policy);
        assert!(result.policy[card("Ad").index()] > result.policy[card("As").index()], "{:?}", result.policy);
        // Bid 2: A♦ first can never make it; A♠ first makes it in ~40% of deals.
        let round = two_aces(2);
        let result = search_one(&round.info_set(0), &config, seed, &mut evaluator);
        assert_eq!(result.action, card("As"), "bid 2, seed {seed}: {:?}", result.policy);
        assert!(result.policy[card("As").index()] > result.policy[card("Ad").index()], "{:?}", result.policy);
    }
    // The root value of seat 0 approaches the 11/12 of the sure line.
    let result = search_one(&two_aces(1).info_set(0), &config, 0, &mut evaluator);
    let value = result.root_values.unwrap()[0];
    assert!(value > 0.7 && value <= 11.0 / 12.0 + 1e-5, "root value of seat 0: {value}");
}

/// Seat 2 bids after the searcher (seat 1) in a five-card round of three (long enough that the
/// search stays among the evaluator's leaves rather than finished rounds). Its prior says it
/// bids 0 nine times in ten; inside the world its values say bid 1 (worth 1 to it and 0 to the
/// searcher, against bid 0's 0 and 1).
struct TemptedOpponent;

impl Evaluator for TemptedOpponent {
    fn evaluate(&mut self, batch: &[Leaf], out: &mut [Evaluation]) {
        for (leaf, eval) in batch.iter().zip(out.iter_mut()) {
            eval.policy = [0.0; game::ACTIONS];
            eval.policy[Action::Bid(0).index()] = 0.9;
            eval.policy[Action::Bid(1).index()] = 0.1;
            eval.values = [0.5; game::MAX_PLAYERS];
            match leaf.info.view().bid(2) {
                Some(1) => (eval.values[1], eval.values[2]) = (0.0, 1.0),
                Some(_) => (eval.values[1], eval.values[2]) = (1.0, 0.0),
                None => {}
            }
        }
    }
}

#[test]
fn opponents_follow_their_prior_under_the_policy_model() {
    let hands = [cards("2c 3c 4c 5c 6c"), cards("7c 8c 9c Tc Jc"), cards("Qc Kc Ac 2d 3d")];
    let round = Round::new(3, 5, 0, None, &hands).unwrap();
    let base = SearchConfig { worlds: 1, simulations: 400, leaves_per_wave: 1, ..SearchConfig::medium().for_play() };
    let value = |opponent_model| {
        let config = SearchConfig { opponent_model, ..base };
        search_one(&round.info_set(1), &config, 1, &mut TemptedOpponent).root_values.unwrap()[1]
    };
    // PUCT: seat 2 soon finds its bid 1, which leaves the searcher nothing.
    let searching = value(OpponentModel::Search);
    assert!(searching < 0.2, "searcher's root value {searching}");
    // As its prior says: bid 0 in about 9 of 10 visits, so the searcher expects about 0.9.
    let following = value(OpponentModel::Policy);
    assert!((following - 0.9).abs() < 0.06, "searcher's root value {following}");
    assert_eq!("policy".parse::<OpponentModel>(), Ok(OpponentModel::Policy));
    assert!("minimax".parse::<OpponentModel>().unwrap_err().contains("search or policy"));
}

/// Every prior on the first legal action, and seat 1's value its own bid / 10: PUCT spends its
/// visits where the prior points, a one-ply search plays the best value.
struct LowPriorHighBid;

impl Evaluator for LowPriorHighBid {
    fn evaluate(&mut self, batch: &[Leaf], out: &mut [Evaluation]) {
        for (leaf, eval) in batch.iter().zip(out.iter_mut()) {
            *eval = Evaluation::default();
            let first = leaf.info.view().legal_actions().iter().next().unwrap();
            eval.policy[first.index()] = 1.0;
            eval.values[1] = leaf.info.view().bid(1).map_or(0.5, |b| b as f32 / 10.0);
        }
    }
}

#[test]
fn one_ply_values_each_action_once_per_world_and_plays_the_best_mean() {
    let config = SearchConfig { worlds: 7, leaves_per_wave: 3, kind: SearchKind::OnePly, ..SearchConfig::medium().for_play() };
    // Seat 1 bids first in a 5-card round: bids 0..=5, the evaluator prefers 5.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let round = Round::deal(4, 5, 0, Some(Suit::Hearts), &mut rng).unwrap();
    let one_ply = search_one(&round.info_set(1), &config, 2, &mut LowPriorHighBid);
    assert_eq!(one_ply.action, Action::Bid(5));
    for bid in 0..=5u8 {
        assert_eq!(one_ply.visits[Action::Bid(bid).index()], 7, "bid {bid}: one visit per world");
    }
    assert_eq!(one_ply.visits.iter().sum::<u32>(), 7 * 6);
    let puct = SearchConfig { kind: SearchKind::Puct, simulations: 12, ..config };
    assert_eq!(search_one(&round.info_set(1), &puct, 2, &mut LowPriorHighBid).action, Action::Bid(0));
    // Terminal children score exactly: the dealer holds 2♣, which never takes the trick, so
    // bid 0 scores 10/11 and bid 1 nothing, in every world, whatever the evaluator says.
    let mut dealer = ace_single();
    dealer.apply(Action::Bid(1)).unwrap();
    let result = search_one(&dealer.info_set(0), &config, 5, &mut UniformEvaluator { value: 0.9 });
    assert_eq!(result.action, Action::Bid(0));
    assert_eq!((result.visits[Action::Bid(0).index()], result.visits[Action::Bid(1).index()]), (7, 7));
    assert_eq!("one-ply".parse::<SearchKind>(), Ok(SearchKind::OnePly));
    assert!("two-ply".parse::<SearchKind>().unwrap_err().contains("puct, one-ply or rollout"));
}

#[test]
fn search_finds_the_bid_that_is_made() {
    // Two cards, spades trump, seat 1 (first to bid and to lead) holds A♠ K♠: it takes both
    // tricks whatever happens, so bid 2 is the only bid that scores.
    let hands = [cards("2c 3d"), cards("As Ks"), cards("4c 5d"), cards("6c 7d")];
    let round = Round::new(4, 2, 0, Some(Suit::Spades), &hands).unwrap();
    let config = SearchConfig { worlds: 4, simulations: 300, ..SearchConfig::medium().for_play() };
    let result = search_one(&round.info_set(1), &config, 3, &mut RolloutEvaluator::new(2, 7));
    assert_eq!(result.action, Action::Bid(2), "{:?}", &result.policy[..3]);
    assert!(result.policy[2] > 0.5, "{:?}", &result.policy[..3]);
}

#[test]
fn visits_follow_terminal_scores_for_every_preset_even_when_k_reaches_s() {
    let round = ace_single();
    let info = round.info_set(3);
    for preset in Preset::ALL {
        let base = SearchConfig::preset(preset).for_play();
        let s = base.simulations;
        for k in [1, 4, s, 3 * s] {
            let config = SearchConfig { leaves_per_wave: k, ..base };
            for seed in 0..2 {
                let result = search_one(&info, &config, seed, &mut UniformEvaluator::default());
                let total: u32 = result.visits.iter().sum();
                assert_eq!(total, config.worlds * s, "{preset:?} K={k}: every world gets exactly S");
                assert_eq!(result.action, Action::Bid(1), "{preset:?} K={k}: {:?}", &result.visits[..2]);
                assert!(
                    result.policy[1] >= 0.6,
                    "{preset:?} K={k}: the sure bid should dominate, got {:?}",
                    &result.policy[..2]
                );
            }
        }
    }
    // With self-play settings (noise, temperature) the visits still lean the same way.
    let result = search_one(&info, &SearchConfig::light(), 5, &mut UniformEvaluator::default());
    assert!(result.visits[1] > result.visits[0], "{:?}", &result.visits[..2]);
}

/// A mid-round position of a random 4 x 5 deal.
fn midgame(seed: u64, moves: usize) -> Round {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut round = Round::deal(4, 5, seed as usize % 4, Some(Suit::Hearts), &mut rng).unwrap();
    for _ in 0..moves {
        let action = round.legal_actions().sample(&mut rng).unwrap();
        round.apply_legal(action);
    }
    while round.legal_actions().len() == 1 {
        let action = round.legal_actions().sample(&mut rng).unwrap();
        round.apply_legal(action);
    }
    round
}

fn l1(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

#[test]
fn parallel_expansion_agrees_with_sequential_search() {
    // Tolerance: the L1 distance between the K = 1 and K > 1 root policies must stay within
    // 0.15 (out of a possible 2) at 400 simulations per world, with the same worlds. For
    // scale: two sequential searches of these positions whose rollouts are seeded differently
    // differ by 0.04 to 0.5; K = 4 measured under 0.02 and K = 16 under 0.07.
    const TOLERANCE: f32 = 0.15;
    for (seed, moves) in [(1, 4), (2, 6), (3, 9)] {
        let round = midgame(seed, moves);
        let info = round.info_set(round.to_act());
        let base = SearchConfig { worlds: 4, simulations: 400, leaves_per_wave: 1, ..SearchConfig::default().for_play() };
        let mut evaluator = RolloutEvaluator::new(2, seed);
        let sequential = search_one(&info, &base, seed, &mut evaluator);
        for k in [4, 16] {
            let parallel = search_one(&info, &SearchConfig { leaves_per_wave: k, ..base }, seed, &mut evaluator);
            let distance = l1(&sequential.policy, &parallel.policy);
            assert!(
                distance <= TOLERANCE,
                "seed {seed} K={k}: L1 {distance}\nK=1 {:?}\nK={k} {:?}",
                sequential.policy,
                parallel.policy
            );
        }
    }
}

/// A round with the same public history and the same hand for `observer` as `round`, but
/// other hidden hands.
fn other_deal(round: &Round, history: &[Action], observer: usize, seed: u64) -> Round {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let now = Determinizer::new(&round.info_set(observer)).unwrap().sample(&mut rng);
    // The sampled world shares the round's public history, so its deal differs only in the
    // hidden cards.
    let mut other = now.as_dealt();
    apply_all(&mut other, history);
    other
}

#[test]
fn results_depend_on_the_information_set_and_seed_only() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let mut round = Round::deal(4, 5, 2, Some(Suit::Clubs), &mut rng).unwrap();
    let mut history = Vec::new();
    for _ in 0..9 {
        let action = round.legal_actions().sample(&mut rng).unwrap();
        round.apply_legal(action);
        history.push(action);
    }
    while round.legal_actions().len() == 1 {
        let action = round.legal_actions().sample(&mut rng).unwrap();
        round.apply_legal(action);
        history.push(action);
    }
    let observer = round.to_act();
    let config = SearchConfig::medium();
    let reference = search_one(&round.info_set(observer), &config, 99, &mut RolloutEvaluator::new(1, 0));
    for seed in 0..4 {
        let other = other_deal(&round, &history, observer, seed);
        assert_ne!(other, round, "the hidden hands differ");
        let info = other.info_set(observer);
        assert_eq!(info, round.info_set(observer));
        let result = search_one(&info, &config, 99, &mut RolloutEvaluator::new(1, 0));
        assert_eq!(result, reference);
    }
    let different_seed = search_one(&round.info_set(observer), &config, 100, &mut RolloutEvaluator::new(1, 0));
    assert_ne!(different_seed.visits, reference.visits, "the seed drives the worlds");
}

/// Records every batch's information sets, and the game contexts that came with them.
struct Recording<E> {
    inner: E,
    batches: Arc<Mutex<Vec<Vec<InfoSet>>>>,
    contexts: Vec<Option<GameContext>>,
}

impl<E: Evaluator> Evaluator for Recording<E> {
    fn evaluate(&mut self, batch: &[Leaf], out: &mut [Evaluation]) {
        self.batches.lock().unwrap().push(batch.iter().map(|leaf| leaf.info).collect());
        self.contexts.extend(batch.iter().map(|leaf| leaf.game));
        self.inner.evaluate(batch, out);
    }
}

/// Decisions of many deals, a few of them forced.
fn decisions(count: u64) -> Vec<InfoSet> {
    let mut infos = Vec::new();
    for seed in 0..count {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let players = 3 + seed as usize % 6;
        let mut round = Round::deal(players, 4, seed as usize % players, None, &mut rng).unwrap();
        for _ in 0..rng.gen_range(0..players * 3) {
            let action = round.legal_actions().sample(&mut rng).unwrap();
            round.apply_legal(action);
        }
        infos.push(round.info_set(round.to_act()));
    }
    infos
}

fn run_all(
    infos: &[InfoSet],
    config: &SearchConfig,
    driver: DriverConfig,
    evaluator: &mut dyn Evaluator,
) -> (Vec<SearchResult>, SearchStats) {
    let mut searches: Vec<Search> =
        infos.iter().enumerate().map(|(i, info)| Search::new(info, config, i as u64).unwrap()).collect();
    let mut searcher = BatchedSearcher::new(driver).unwrap();
    let stats = searcher.run(&mut searches, evaluator).unwrap();
    assert_eq!(searcher.stats(), &stats, "one run: totals equal the run");
    (searches.iter().map(|s| *s.result().unwrap()).collect(), stats)
}

#[test]
fn the_driver_batches_across_searches_and_its_statistics_add_up() {
    let infos = decisions(40);
    let forced = infos.iter().filter(|i| i.view().legal_actions().len() == 1).count() as u64;
    let config = SearchConfig { worlds: 3, simulations: 30, leaves_per_wave: 4, ..SearchConfig::medium() };
    let batches = Arc::new(Mutex::new(Vec::new()));
    let mut evaluator = Recording { inner: UniformEvaluator::default(), batches: batches.clone(), contexts: Vec::new() };
    let (results, stats) = run_all(&infos, &config, DriverConfig::default(), &mut evaluator);
    let batches = batches.lock().unwrap();
    let sizes: Vec<u64> = batches.iter().map(|b| b.len() as u64).collect();
    let searched = infos.len() as u64 - forced;

    let one_tree = (config.worlds * config.leaves_per_wave) as u64;
    assert!(*sizes.iter().max().unwrap() > 4 * one_tree, "batches span searches: {sizes:?}");
    assert_eq!(stats.batches, sizes.len() as u64);
    assert_eq!(stats.evaluations, sizes.iter().sum::<u64>());
    assert_eq!(stats.largest_batch, *sizes.iter().max().unwrap());
    assert_eq!(stats.batch_histogram.iter().sum::<u64>(), stats.batches);
    assert_eq!(stats.searches, searched);
    assert_eq!(stats.forced, forced);
    assert_eq!(stats.simulations, searched * (config.worlds * config.simulations) as u64);
    // Every simulation is either an evaluated leaf or a terminal position; each search also
    // evaluates its root once.
    assert_eq!(stats.evaluations, stats.simulations - stats.terminal_simulations + searched);
    assert_eq!(stats.invalid_evaluations, 0);
    assert!(stats.evaluator_busy <= stats.wall && stats.cpu_busy <= stats.wall);
    assert!((0.0..=1.0).contains(&stats.evaluator_busy_fraction()));
    // The evaluator only sees the acting player's information sets.
    assert!(batches.iter().flatten().all(|info| info.observer() == info.view().to_act()));
    // Every root is evaluated before any other leaf: the first batches hold only roots.
    let roots: usize = batches.iter().take(2).map(Vec::len).sum();
    assert_eq!(roots as u64, searched);
    assert!(evaluator.contexts.iter().all(Option::is_none), "lone rounds carry no game context");
    assert!(batches.iter().take(2).flatten().all(|info| infos.contains(info)));
    for (info, result) in infos.iter().zip(&results) {
        assert!(info.view().legal_actions().contains(result.action));
        let total: u32 = result.visits.iter().sum();
        assert_eq!(total, if result.forced { 0 } else { config.worlds * config.simulations });
    }
    println!("{stats}");
}

#[test]
fn batching_does_not_change_results() {
    let infos = decisions(24);
    let config = SearchConfig { worlds: 3, simulations: 30, leaves_per_wave: 5, ..SearchConfig::medium() };
    let reference = run_all(&infos, &config, DriverConfig::default(), &mut RolloutEvaluator::new(1, 3)).0;
    for driver in [
        DriverConfig { max_batch: 15, overlap: false },
        DriverConfig { max_batch: 15, overlap: true },
        DriverConfig { max_batch: 100, overlap: true },
        DriverConfig { max_batch: 100_000, overlap: false },
    ] {
        let (results, stats) = run_all(&infos, &config, driver, &mut RolloutEvaluator::new(1, 3));
        assert_eq!(results, reference, "{driver:?}");
        assert!(stats.largest_batch <= driver.max_batch as u64);
    }
    // Searching one decision alone gives its result in the crowd.
    let alone = run_all(&infos[5..6], &config, DriverConfig::default(), &mut RolloutEvaluator::new(1, 3)).0;
    let alone_search = Search::new(&infos[5], &config, 5).unwrap();
    let mut searches = vec![alone_search];
    BatchedSearcher::new(DriverConfig::default()).unwrap().run(&mut searches, &mut RolloutEvaluator::new(1, 3)).unwrap();
    assert_eq!(*searches[0].result().unwrap(), reference[5]);
    assert_eq!(alone.len(), 1);
}

#[test]
fn a_batch_cap_below_one_search_wave_is_an_error() {
    let infos = decisions(4);
    let config = SearchConfig { worlds: 3, simulations: 30, leaves_per_wave: 8, ..SearchConfig::medium() };
    let mut searches: Vec<Search> = infos
        .iter()
        .filter(|i| i.view().legal_actions().len() > 1)
        .map(|info| Search::new(info, &config, 0).unwrap())
        .collect();
    let mut searcher = BatchedSearcher::new(DriverConfig { max_batch: 23, overlap: true }).unwrap();
    assert_eq!(
        searcher.run(&mut searches, &mut UniformEvaluator::default()),
        Err(SearchError::BatchTooSmall { needed: 24, max_batch: 23 })
    );
    assert!(BatchedSearcher::new(DriverConfig { max_batch: 0, overlap: true }).is_err());
}

#[test]
fn forced_moves_are_played_without_search() {
    struct Never;
    impl Evaluator for Never {
        fn evaluate(&mut self, _: &[Leaf], _: &mut [Evaluation]) {
            panic!("a forced move must not be evaluated");
        }
    }
    let hands = [cards("As Ad"), cards("5h 2c"), cards("9h 3c"), cards("7h 4c")];
    let mut round = Round::new(4, 2, 3, None, &hands).unwrap();
    apply_all(&mut round, &[Action::Bid(0), Action::Bid(0), Action::Bid(0), Action::Bid(1), card("As")]);
    let info = round.info_set(1);
    assert_eq!(info.view().legal_actions().len(), 2, "void in spades: free choice");
    apply_all(&mut round, &[card("5h"), card("9h"), card("7h")]);
    // Seat 0 took the trick and leads its last card: every remaining move is forced.
    let seat = round.to_act();
    let mut searches = vec![Search::new(&round.info_set(seat), &SearchConfig::heavy(), 0).unwrap()];
    assert!(searches[0].is_done());
    let stats =
        BatchedSearcher::new(DriverConfig::default()).unwrap().run(&mut searches, &mut Never).unwrap();
    let result = searches[0].result().unwrap();
    assert!(result.forced && result.root_values.is_none());
    assert_eq!(result.policy[result.action.index()], 1.0);
    assert_eq!((stats.forced, stats.searches, stats.batches), (1, 0, 0));
}

/// One decision's search seed: a function of the game and its history only.
fn decision_seed(game: usize, round: &Round) -> u64 {
    (game as u64) << 32 | (round.bids_made() + round.played().len()) as u64
}

fn deals(count: usize) -> Vec<Round> {
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    (0..count).map(|i| Round::deal(3 + i % 4, 3, i % 3, Some(Suit::Diamonds), &mut rng).unwrap()).collect()
}

#[test]
fn streaming_plays_the_same_games_as_lock_step_runs() {
    let config = SearchConfig { worlds: 2, simulations: 16, leaves_per_wave: 4, ..SearchConfig::light() };
    let new_search = |game: usize, round: &Round| {
        Search::new(&round.info_set(round.to_act()), &config, decision_seed(game, round)).unwrap()
    };

    // Lock-step: every step searches one decision of every unfinished game.
    let mut lock_step = deals(10);
    let mut searcher = BatchedSearcher::new(DriverConfig { max_batch: 64, overlap: true }).unwrap();
    let mut decisions = 0;
    while lock_step.iter().any(|r| !r.is_over()) {
        let live: Vec<usize> = (0..lock_step.len()).filter(|&i| !lock_step[i].is_over()).collect();
        let mut searches: Vec<Search> = live.iter().map(|&i| new_search(i, &lock_step[i])).collect();
        searcher.run(&mut searches, &mut RolloutEvaluator::new(1, 0)).unwrap();
        for (&i, search) in live.iter().zip(&searches) {
            lock_step[i].apply_legal(search.result().unwrap().action);
            decisions += 1;
        }
    }

    // Streaming: each slot's next decision joins as soon as its last one is played.
    let mut streamed = deals(10);
    let mut slots: Vec<Search> = streamed.iter().enumerate().map(|(i, r)| new_search(i, r)).collect();
    let mut searcher = BatchedSearcher::new(DriverConfig { max_batch: 64, overlap: true }).unwrap();
    let mut calls = 0;
    let stats = searcher
        .run_streaming(&mut slots, &mut RolloutEvaluator::new(1, 0), |slot, result| {
            calls += 1;
            let round = &mut streamed[slot];
            round.apply_legal(result.action);
            (!round.is_over()).then(|| new_search(slot, round))
        })
        .unwrap();
    assert_eq!(streamed, lock_step, "same seeds, same games");
    assert_eq!(calls, decisions);
    assert_eq!(stats.searches + stats.forced, decisions as u64);
    assert_eq!(stats.simulations, stats.searches * (config.worlds * config.simulations) as u64);
    assert!(stats.largest_batch <= 64);
    assert!(slots.iter().all(Search::is_done));
}

#[test]
fn a_refill_larger_than_its_slot_is_refused() {
    let rounds = deals(2);
    let small = SearchConfig { worlds: 2, simulations: 16, leaves_per_wave: 4, ..SearchConfig::light() };
    let large = SearchConfig { worlds: 4, ..small };
    let mut slots: Vec<Search> = rounds.iter().map(|r| Search::new(&r.info_set(r.to_act()), &small, 1).unwrap()).collect();
    let mut searcher = BatchedSearcher::new(DriverConfig::default()).unwrap();
    let outcome = searcher.run_streaming(&mut slots, &mut UniformEvaluator::default(), |slot, _| {
        let round = &rounds[slot];
        Some(Search::new(&round.info_set(round.to_act()), &large, 2).unwrap())
    });
    assert_eq!(outcome, Err(SearchError::BatchTooSmall { needed: 16, max_batch: 4096 }));
}

#[test]
fn a_search_in_a_game_hands_its_context_with_every_leaf_and_searches_alike() {
    let info = decisions(3)[2];
    let context = GameContext { round_index: 4, rounds: 9, totals: [11, 0, 23, 12, 0, 0, 0, 0] };
    let config = SearchConfig { worlds: 2, simulations: 20, ..SearchConfig::light() };
    let mut searcher = BatchedSearcher::new(DriverConfig::default()).unwrap();
    let mut evaluator = Recording { inner: RolloutEvaluator::new(1, 3), batches: Arc::default(), contexts: Vec::new() };
    let mut in_game = [Search::with_context(&info, Some(context), &config, 5).unwrap()];
    assert_eq!(in_game[0].game(), Some(&context));
    searcher.run(&mut in_game, &mut evaluator).unwrap();
    assert!(evaluator.contexts.len() > 1);
    assert!(evaluator.contexts.iter().all(|game| *game == Some(context)));
    // The context is for the evaluator only: with the same values, the search is the same.
    let mut alone = [Search::new(&info, &config, 5).unwrap()];
    searcher.run(&mut alone, &mut RolloutEvaluator::new(1, 3)).unwrap();
    assert_eq!(in_game[0].result(), alone[0].result());
}

#[test]
fn a_rollout_search_plays_every_action_out_in_every_world_and_plays_the_best_mean() {
    let config = SearchConfig { worlds: 16, kind: SearchKind::Rollout, rollout_temperature: 0.0, ..SearchConfig::medium().for_play() };
    for seed in 0..3 {
        // Bid 1: duck with A♦ (certain) rather than win with A♠ (fails in some deals).
        let result = search_one(&two_aces(1).info_set(0), &config, seed, &mut UniformEvaluator::default());
        assert_eq!(result.action, card("Ad"), "seed {seed}");
        assert_eq!((result.visits[card("Ad").index()], result.visits[card("As").index()]), (16, 16), "one playout per world");
        assert_eq!(result.policy[card("Ad").index()], 1.0, "temperature 0: all on the best");
        // The sure line's exact score: one trick of a 2-card round bid 1, 11 / 12.
        assert!((result.root_values.unwrap()[0] - 11.0 / 12.0).abs() < 1e-6, "{:?}", result.root_values);
        // Bid 2: A♦ first can never make it; A♠ first makes it in some deals.
        let result = search_one(&two_aces(2).info_set(0), &config, seed, &mut UniformEvaluator::default());
        assert_eq!(result.action, card("As"), "seed {seed}");
        let made = result.root_values.unwrap()[0];
        assert!(made > 0.0 && made < 1.0, "A♠ first makes 2 in some deals only: {made}");
    }
    // The policy is a softmax of the actions' values: nearly even at a high temperature,
    // leaning to the sure line at a small one, and the move follows it when sampled.
    let info = two_aces(1).info_set(0);
    let soft = |rollout_temperature| {
        let config = SearchConfig { rollout_temperature, ..config };
        search_one(&info, &config, 1, &mut UniformEvaluator::default()).policy[card("Ad").index()]
    };
    assert!((soft(1000.0) - 0.5).abs() < 1e-3, "{}", soft(1000.0));
    assert!(soft(0.05) > 0.9 && soft(0.05) < 1.0, "{}", soft(0.05));
    let sampled = SearchConfig { rollout_temperature: 1000.0, play_temperature: 1.0, ..config };
    let moves: Vec<Action> =
        (0..40).map(|seed| search_one(&info, &sampled, seed, &mut UniformEvaluator::default()).action).collect();
    assert!(moves.contains(&card("Ad")) && moves.contains(&card("As")), "an even policy samples both");
    assert_eq!("rollout".parse::<SearchKind>(), Ok(SearchKind::Rollout));
}

#[test]
fn rollout_searches_are_the_same_whatever_the_batching() {
    let infos = decisions(24);
    let config = SearchConfig { worlds: 3, kind: SearchKind::Rollout, ..SearchConfig::medium() };
    let reference = run_all(&infos, &config, DriverConfig::default(), &mut RolloutEvaluator::new(1, 3)).0;
    for driver in [DriverConfig { max_batch: 54, overlap: false }, DriverConfig { max_batch: 100, overlap: true }] {
        let (results, stats) = run_all(&infos, &config, driver, &mut RolloutEvaluator::new(1, 3));
        assert_eq!(results, reference, "{driver:?}");
        assert!(stats.largest_batch <= driver.max_batch as u64);
    }
    for (info, result) in infos.iter().zip(&reference) {
        let legal = info.view().legal_actions();
        assert!(legal.contains(result.action));
        if !result.forced {
            assert!(legal.iter().all(|a| result.visits[a.index()] == config.worlds), "one playout per world and action");
            assert!((result.policy.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }
    assert_eq!(config.largest_wave(), 3 * 18, "every legal action of a world at once");
}
