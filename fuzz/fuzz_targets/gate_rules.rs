//! libFuzzer target `gate_rules`: the body is `fuzz/bodies/gate_rules.rs`, shared with the CI pass in `tests/fuzz_pass.rs`.
#![no_main]

#[path = "../bodies/gate_rules.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
