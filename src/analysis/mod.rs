//! What a run's results tables say: per-example rows, metrics with intervals, the summary and the gate.
//! Dependencies point one way: results <- metrics <- summary <- gate, and tables (polars) reads and
//! writes the first two.

pub mod gate;
pub mod metrics;
pub mod parquet_guard;
pub mod results;
pub mod retrieval;
pub mod stats;
pub mod summary;
pub mod tables;
mod thrift_walk;
