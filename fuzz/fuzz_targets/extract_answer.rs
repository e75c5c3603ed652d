//! libFuzzer target `extract_answer`: the body is `fuzz/bodies/extract_answer.rs`, shared with the CI pass in `tests/fuzz_pass.rs`.
#![no_main]

#[path = "../bodies/extract_answer.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
