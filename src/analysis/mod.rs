//! What a run's results tables say: per-example rows, metrics with intervals, the summary and the gate.
//! Dependencies point one way: results <- metrics <- summary <- gate, and tables (polars) reads and
//! writes the first two. The gate's rules (what a suite may ask) and the schemes' storage records sit
//! below the summary, which lists them.

pub mod gate;
pub mod metrics;
pub mod parquet_guard;
pub mod results;
pub mod retrieval;
pub mod schemes;
pub mod stats;
pub mod summary;
pub mod tables;
mod thrift_walk;
