//! Commands that probe a model directly, outside a run: speed (`bench`, and `bench --retrieval`), per-layer error
//! (`inspect`) and single predictions (`predict`).

pub mod bench;
pub mod bench_decoder;
pub mod bench_retrieval;
pub mod inspect;
pub mod predict;
