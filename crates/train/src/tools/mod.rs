//! The `blob` subcommands: play in the terminal or the browser, the engine protocol, records
//! replay, benchmarks. (`blob arena` is [`crate::matches::run_arena`].)

pub mod bench;
pub mod engine;
pub mod play;
pub mod replay;
pub mod serve;
pub mod web_table;
