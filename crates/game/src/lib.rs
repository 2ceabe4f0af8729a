//! Blob (Oh Hell) rules as small `Copy` types: cards and bitboard card sets, a `Round` whose
//! `apply` is cheap, the game schedule, information sets, the one checked way from outside
//! input to a position (`Observation`), determinization, baseline bots (random, heuristic,
//! PIMC search) and game records (`record`). The contract is `shared/RULES.md`.
//!
//! Every item has one path: the root, except the record format's items under `record`.

mod bots;
mod card;
mod determinize;
mod game;
mod info;
mod observed;
mod pimc;
pub mod record;
mod round;
mod stable_hash;

pub use bots::{Bot, HeuristicBot, RandomBot};
pub use card::{Card, CardSet, ParseCardError, Suit};
pub use determinize::{determinize, DeterminizeError, Determinizer};
pub use game::{Game, GameContext, RoundSpec, Schedule, TRUMP_CYCLE};
pub use info::InfoSet;
pub use observed::{Observation, ObservationError};
pub use pimc::{rule_playout, PimcBot, PimcError};
pub use round::{
    beats, check_table, max_cards, Action, Actions, DealError, ParseActionError, Phase, Round, RuleError, Trick, ACTIONS,
    MAX_PLAYERS, MIN_PLAYERS,
};
pub use stable_hash::stable_hash;
