//! A suite's data files: JSON lines checked against a classify suite and an extract suite.

use std::path::PathBuf;

use shakedown::suite::{Suite, SuiteFile};

const CLASSIFY: &str = "name = \"c\"\nlabels = [\"a\", \"b\"]\ndata = [\"d.jsonl\"]\nsplits = [\"handwritten\"]\n";
const EXTRACT: &str = "name = \"e\"\ntask = \"extract\"\ndata = [\"d.jsonl\"]\n[prompt]\ntemplate = \"{{ text }}\"\nfewshot = 1\n\
                       [extract]\nfields = [\"action\", \"direction\"]\n[extract.values]\naction = [\"move\", \"stop\"]\n";

/// One input through the target (the libFuzzer binary and the CI pass of `tests/fuzz_pass.rs` both call it).
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for toml in [CLASSIFY, EXTRACT] {
        let file = SuiteFile::parse(toml, "s/suite.toml").expect("the fixed suites are valid");
        let _ = Suite::from_parts(
            PathBuf::from("s"),
            PathBuf::from("s/suite.toml"),
            toml,
            file,
            &[("s/d.jsonl".into(), text.into())],
        );
    }
}
