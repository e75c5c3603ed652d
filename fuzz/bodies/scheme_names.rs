//! Scheme names and lists: every name that parses prints back to a name that parses to the same scheme.

use shakedown::engine::quant::scheme::parse_scheme_list;
use shakedown::engine::Scheme;

/// One input through the target (the libFuzzer binary and the CI pass of `tests/fuzz_pass.rs` both call it).
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(s) = text.parse::<Scheme>() {
        assert_eq!(s.to_string().parse::<Scheme>(), Ok(s));
    }
    if let Ok(list) = parse_scheme_list(text) {
        assert!(!list.is_empty());
    }
}
