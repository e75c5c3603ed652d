//! `[[gate.rules]]`: deserialised, validated against an extraction task's metrics, and described.

use serde::Deserialize;
use shakedown::analysis::gate::GateRule;
use shakedown::task::kind::TaskKind;

#[derive(Deserialize)]
struct Gate {
    #[serde(default)]
    rules: Vec<GateRule>,
}

/// One input through the target (the libFuzzer binary and the CI pass of `tests/fuzz_pass.rs` both call it).
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(gate) = toml::from_str::<Gate>(text) else { return };
    let metrics = TaskKind::Extract.metrics(&["action".to_string(), "place".to_string()]);
    for (i, rule) in gate.rules.iter().enumerate() {
        if rule.validate("suite.toml", i, &metrics).is_ok() {
            let _ = rule.describe();
        }
    }
}
