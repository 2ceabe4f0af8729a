//! The self-play trainer and its tools.

pub mod agent;
pub mod arena;
pub mod bench;
pub mod buffer;
pub mod chart;
pub mod checkpoint;
pub mod config;
pub mod engine;
pub mod learner;
pub mod metrics;
pub mod play;
pub mod replay;
pub mod run;
pub mod seed;
pub mod serve;
pub mod table;
pub mod tournament;
pub mod web_table;
