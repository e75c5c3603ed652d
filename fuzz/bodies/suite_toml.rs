//! suite.toml: parsing, validation (tasks, model sources, gate rules and policy, sustain), the
//! suite built with one data line, and the prompt template compiled and rendered under its fuel.

use std::path::PathBuf;

use shakedown::suite::{gate_policy, Suite, SuiteFile};
use shakedown::task::prompt::Prompt;

const DATA: &str = "{\"id\": \"1\", \"text\": \"move left\", \"label\": \"a\", \"split\": \"test\", \
                    \"fields\": {\"action\": \"move\", \"direction\": \"left\"}}\n";

/// One input through the target (the libFuzzer binary and the CI pass of `tests/fuzz_pass.rs` both call it).
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(file) = SuiteFile::parse(text, "suite.toml") else {
        return;
    };
    let _ = gate_policy(&file.gate, "suite.toml");
    if let Some(p) = &file.prompt {
        if let Ok(prompt) = Prompt::new(p, Vec::new(), "suite.toml") {
            let _ = prompt.render("move the pallet left");
        }
    }
    let _ = Suite::from_parts(
        PathBuf::from("s"),
        PathBuf::from("s/suite.toml"),
        text,
        file,
        &[("s/d.jsonl".into(), DATA.into())],
    );
}
