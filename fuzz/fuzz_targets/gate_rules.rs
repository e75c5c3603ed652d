//! `[[gate.rules]]`: deserialised, validated against an extraction task's metrics, and described.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use shakedown::analysis::gate::GateRule;
use shakedown::task::kind::TaskKind;

#[derive(Deserialize)]
struct Gate {
    #[serde(default)]
    rules: Vec<GateRule>,
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(gate) = toml::from_str::<Gate>(text) else { return };
    let metrics = TaskKind::Extract.metrics(&["action".to_string(), "place".to_string()]);
    for (i, rule) in gate.rules.iter().enumerate() {
        if rule.validate("suite.toml", i, &metrics).is_ok() {
            let _ = rule.describe();
        }
    }
});
