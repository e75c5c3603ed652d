//! A suite's data files: JSON lines checked against a classify suite and an extract suite.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use shakedown::suite::{Suite, SuiteFile};

const CLASSIFY: &str = "name = \"c\"\nlabels = [\"a\", \"b\"]\ndata = [\"d.jsonl\"]\nsplits = [\"handwritten\"]\n";
const EXTRACT: &str = "name = \"e\"\ntask = \"extract\"\ndata = [\"d.jsonl\"]\n[prompt]\ntemplate = \"{{ text }}\"\nfewshot = 1\n\
                       [extract]\nfields = [\"action\", \"direction\"]\n[extract.values]\naction = [\"move\", \"stop\"]\n";

fuzz_target!(|data: &[u8]| {
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
});
