//! libFuzzer target `corruption_specs`: the body is `fuzz/bodies/corruption_specs.rs`, shared with the CI pass in `tests/fuzz_pass.rs`.
#![no_main]

#[path = "../bodies/corruption_specs.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
