//! libFuzzer target `run_tables`: the body is `fuzz/bodies/run_tables.rs`, shared with the CI pass in `tests/fuzz_pass.rs`.
#![no_main]

#[path = "../bodies/run_tables.rs"]
mod body;
mod unwind_hook;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    unwind_hook::unwind_to_the_library();
    body::run(data)
});
