//! libFuzzer target `data_jsonl`: the body is `fuzz/bodies/data_jsonl.rs`, shared with the CI pass in `tests/fuzz_pass.rs`.
#![no_main]

#[path = "../bodies/data_jsonl.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
