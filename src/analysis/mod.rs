//! What a run's results tables say: per-example rows, metrics with intervals, the summary and the gate.

pub mod gate;
pub mod metrics;
pub mod results;
pub mod retrieval;
pub mod stats;
pub mod summary;
