//! A run directory as `report`, `compare` and `merge` read it back: results.parquet,
//! throughput.parquet and summary.json (then the summary recomputed, gated and rendered, as
//! `report` does). The first byte picks the file.

use shakedown::analysis::summary::build;
use shakedown::analysis::tables::{results_from_bytes, throughput_from_bytes};
use shakedown::run::rundir::{judge, parse_summary};

/// One input through the target (the libFuzzer binary and the CI pass of `tests/fuzz_pass.rs` both call it).
pub fn run(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => {
            let _ = results_from_bytes(rest, "results.parquet");
        }
        1 => {
            let _ = throughput_from_bytes(rest, "throughput.parquet");
        }
        _ => {
            let Ok(text) = std::str::from_utf8(rest) else { return };
            let Ok(file) = parse_summary(text, "summary.json") else {
                return;
            };
            let summary = build(file.summary.meta, &[], &[]);
            let gate = judge(&summary, &[]);
            let _ = shakedown::report::markdown::render(&summary, gate.as_ref());
            let _ = shakedown::report::junit::render(&summary, gate.as_ref());
        }
    }
}
