//! Shakedown: corrupt a suite's inputs, run them through a built-in quantized inference engine
//! under several schemes, compare clean against corrupted accuracy, gate and report.

pub mod analysis;
pub mod corrupt;
pub mod engine;
pub mod error;
pub mod eval;
pub mod files;
pub mod index;
pub mod memory;
pub mod probe;
pub mod progress;
pub mod report;
pub mod run;
pub mod suite;
pub mod task;
pub mod threads;

pub use error::{Error, Result};
