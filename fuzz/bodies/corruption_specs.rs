//! Corruption specs (`typo:1-5,asr+jargon:2,ocr:1,3`): what parses prints back to the same specs.

use std::sync::OnceLock;

use shakedown::corrupt::{parse_specs, Registry};
use shakedown::run::describe_specs;

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| Registry::builtin().expect("built-in tables load"))
}

/// One input through the target (the libFuzzer binary and the CI pass of `tests/fuzz_pass.rs` both call it).
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(specs) = parse_specs(text, registry()) {
        let again = parse_specs(&describe_specs(&specs), registry()).expect("described specs parse");
        let names = |s: &[shakedown::corrupt::CorruptionSpec]| {
            s.iter().map(|x| (x.name(), x.severities.clone())).collect::<Vec<_>>()
        };
        assert_eq!(names(&again), names(&specs));
    }
}
