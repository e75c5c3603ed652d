//! Shared by the libFuzzer targets whose library calls catch panics of third-party parsers
//! (`model_files`, `run_tables`); not a target itself (it is not listed in `fuzz/Cargo.toml`).
//!
//! The library turns panics of third-party parsers (polars-parquet, tokenizers) into input errors with
//! `catch_unwind` at its boundary; libfuzzer-sys's panic hook aborts before any unwinding, so it is
//! replaced once by the default hook. A panic the library does not catch still reaches libfuzzer-sys's
//! own `catch_unwind`, which aborts: it remains a crash. The CI pass (`tests/fuzz_pass.rs`) keeps its own
//! silent hook and catches every panic itself, so the bodies leave hooks alone.

pub fn unwind_to_the_library() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| drop(std::panic::take_hook()));
}
