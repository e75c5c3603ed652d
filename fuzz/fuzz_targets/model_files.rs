//! libFuzzer target `model_files`: the body is `fuzz/bodies/model_files.rs`, shared with the CI pass in `tests/fuzz_pass.rs`.
#![no_main]

#[path = "../bodies/model_files.rs"]
mod body;
mod unwind_hook;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    unwind_hook::unwind_to_the_library();
    body::run(data)
});
