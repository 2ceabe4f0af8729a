//! The training run: configuration, the self-play / training / evaluation loop, the run
//! directory with its checkpoints and checks, the replay buffer, the learner, the metrics and
//! their chart, and the chunks of self-play that actors send a learner.

pub mod actor;
pub mod buffer;
pub mod chart;
pub mod chunk;
pub mod config;
pub mod learner;
pub mod metrics;
pub mod nats;
pub mod run;
pub mod run_dir;
