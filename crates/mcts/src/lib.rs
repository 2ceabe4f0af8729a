//! Determinized PUCT search (PIMC) for Blob, with parallel leaf expansion under virtual loss
//! and a driver that evaluates the leaves of many searches in one batch.
//!
//! No neural-network dependency: positions are valued through the [`Evaluator`] trait, which
//! takes a batch of [`Leaf`]s (an information set at each leaf, and in game mode the game
//! around the round, see `Search::with_context`) and returns priors over the 52 action indices and a value per absolute seat on the `Round::scaled_scores` scale.
//!
//! Usage by a self-play loop: one slot per concurrent game, each holding the search of that
//! game's pending decision; the driver calls back whenever a slot's search ends, and the loop
//! plays the chosen action and returns the game's next search (forced moves included: they
//! come back at once, with `forced` set and no search done).
//!
//! ```
//! use mcts::{BatchedSearcher, DriverConfig, Search, SearchConfig, UniformEvaluator};
//! use rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! let mut games: Vec<game::Round> =
//!     (0..8).map(|i| game::Round::deal(4, 5, i % 4, None, &mut rng).unwrap()).collect();
//! let config = SearchConfig::light(); // self-play: root noise, temperatures 1
//! // Every decision's randomness from (game, position in the round): reproducible runs.
//! let seed = |game: usize, round: &game::Round| (game as u64) << 32 | (round.bids_made() + round.played().len()) as u64;
//! let search = |game: usize, round: &game::Round| {
//!     Search::new(&round.info_set(round.to_act()), &config, seed(game, round))
//! };
//! let mut slots: Vec<Search> =
//!     games.iter().enumerate().map(|(i, round)| search(i, round)).collect::<Result<_, _>>().unwrap();
//! let mut searcher = BatchedSearcher::new(DriverConfig::default()).unwrap();
//! let mut examples = Vec::new();
//! searcher
//!     .run_streaming(&mut slots, &mut UniformEvaluator::default(), |slot, result| {
//!         let round = &mut games[slot];
//!         if !result.forced {
//!             // The policy target, with the acting player's information set.
//!             examples.push((round.info_set(round.to_act()), result.policy));
//!         }
//!         round.apply_legal(result.action);
//!         // The next decision of this game (a real loop would deal a new round here).
//!         (!round.is_over()).then(|| search(slot, round).unwrap())
//!     })
//!     .unwrap();
//! assert!(games.iter().all(|g| g.is_over()) && !examples.is_empty());
//! println!("{}", searcher.stats());
//! ```
//!
//! `BatchedSearcher::run` is the lock-step form: it runs a set of searches to completion,
//! after which each `Search::result()` holds the chosen action, the policy target (summed
//! root visits, normalised) and the root value per seat.

mod config;
mod driver;
mod evaluator;
mod play_model;
mod search;
mod tree;

pub use config::{
    ConfigError, DriverConfig, OpponentModel, Preset, SearchConfig, SearchKind, MAX_LEAVES_PER_WAVE, MAX_LEGAL_ACTIONS, MAX_SIMULATIONS, MAX_WORLDS,
};
pub use driver::{BatchedSearcher, SearchStats, HISTOGRAM_BUCKETS};
pub use evaluator::{hands_of, uniform_policy, Evaluation, Evaluator, Leaf, RolloutEvaluator, UniformEvaluator};
pub use play_model::{PlayModel, TRUSTED_ACCURACY};
pub use search::{Search, SearchError, SearchResult};
