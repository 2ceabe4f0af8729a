//! The self-play trainer and the tools around it, split as KataGo splits its program from its
//! commands: [`program`] is the training run (`train`), [`tools`] the `blob` subcommands.
//! Both play through [`deals`] (many deals at once, agents' searches batched) and score
//! through [`matches`]; [`agent`] is one player (a network with search, or a bot) for the
//! tools that answer one decision at a time.

pub mod agent;
pub mod deals;
pub mod matches;
pub mod program;
pub mod seed;
pub mod tools;
