//! libFuzzer target `scheme_names`: the body is `fuzz/bodies/scheme_names.rs`, shared with the CI pass in `tests/fuzz_pass.rs`.
#![no_main]

#[path = "../bodies/scheme_names.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
