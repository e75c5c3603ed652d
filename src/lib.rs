//! Shakedown: corrupt a suite's inputs, run them through a built-in quantized inference engine
//! under several schemes, compare clean against corrupted accuracy, gate and report.

pub mod bench;
pub mod compare;
pub mod corrupt;
pub mod engine;
pub mod error;
pub mod eval;
pub mod fidelity;
pub mod gate;
pub mod inspect;
pub mod memory;
pub mod merge;
pub mod metrics;
pub mod predict;
pub mod report;
pub mod results;
pub mod run;
pub mod rundir;
pub mod stats;
pub mod suite;
pub mod summary;
pub mod sustain;
pub mod task;

pub use error::{Error, Result};
