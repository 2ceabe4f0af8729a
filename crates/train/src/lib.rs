//! The self-play trainer and its tools.

pub mod replay;
