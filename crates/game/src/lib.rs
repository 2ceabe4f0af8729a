//! Blob (Oh Hell) rules as small `Copy` types: cards and bitboard card sets, a `Round` whose
//! `apply` is cheap, the game schedule, information sets, determinization, baseline bots (random, heuristic, PIMC search) and
//! game records. The contract is `shared/RULES.md`.

pub mod bots;
pub mod card;
pub mod determinize;
pub mod game;
pub mod info;
pub mod pimc;
pub mod record;
pub mod round;
pub mod stable_hash;

pub use bots::{Bot, HeuristicBot, RandomBot};
pub use card::{Card, CardSet, ParseCardError, Suit};
pub use determinize::{determinize, DeterminizeError, Determinizer};
pub use game::{Game, GameContext, RoundSpec, Schedule, TRUMP_CYCLE};
pub use info::InfoSet;
pub use pimc::{PimcBot, PimcError};
pub use stable_hash::stable_hash;
pub use round::{max_cards, Action, Actions, DealError, Phase, Round, RuleError, Trick, MAX_PLAYERS, MIN_PLAYERS};
