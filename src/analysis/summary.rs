//! `summary.json`: run metadata, per-scheme metrics (every family x severity cell, with intervals),
//! throughput summaries and the gate's verdict. `build` computes all of it from the result rows and
//! throughput windows, so `shakedown report RUN` recomputes the same summary from a run directory.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::gate::{self, Baseline, GateRule, Verdict};
use crate::analysis::metrics::{Cell, RowIndex};
use crate::analysis::results::{EvalRow, CLEAN};
use crate::corrupt::coverage;
use crate::eval::fidelity::Fidelity;
use crate::eval::sustain::{self, SustainConfig, ThroughputSummary, Window};

/// Storage of one scheme's quantized weights.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightStats {
    pub weight_bytes: usize,
    pub weight_count: usize,
    pub bits_per_weight: f64,
}

/// A scheme of the run, in run order, with its storage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemeInfo {
    pub name: String,
    pub weights: WeightStats,
    /// Closeness to the reference scheme's raw outputs on the clean inputs (absent for the reference,
    /// and in a shard that did not evaluate both schemes' clean inputs).
    #[serde(default)]
    pub fidelity: Option<Fidelity>,
}

/// Where and how a run was made; everything `build` needs besides rows and windows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub tool_version: String,
    pub git_revision: String,
    pub suite: String,
    pub suite_dir: String,
    pub model: String,
    pub model_sha256: String,
    pub classifier: String,
    pub seed: u64,
    pub threads: usize,
    pub limit: Option<usize>,
    pub test_examples: usize,
    pub corruptions: String,
    pub cpu_features: Vec<String>,
    /// The kernel table that ran (`generic` until SIMD kernels land).
    pub kernels: String,
    pub schemes: Vec<SchemeInfo>,
    /// Families and chains in run order.
    pub families: Vec<String>,
    pub gate_rules: Vec<GateRule>,
    pub baseline: Option<Baseline>,
    pub sustain: Option<SustainConfig>,
    /// `K/N` when this directory holds one shard of a run.
    pub shard: Option<String>,
}

impl RunMeta {
    /// Names of the run's schemes in order; the first is the reference for agreement and deltas.
    pub fn scheme_names(&self) -> Vec<String> {
        self.schemes.iter().map(|s| s.name.clone()).collect()
    }
}

/// One family (or chain) under one scheme.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilySummary {
    pub family: String,
    /// All severities of the run pooled.
    pub pooled: Cell,
    pub severities: Vec<Cell>,
    /// Set when the family changed under half of the test texts (at severity 3, else pooled): its accuracy
    /// then says little about robustness (`corrupt::coverage`).
    #[serde(default)]
    pub low_coverage: Option<String>,
}

/// One scheme's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemeSummary {
    pub scheme: String,
    pub weights: WeightStats,
    pub fidelity: Option<Fidelity>,
    pub clean: Cell,
    /// Accuracy pooled over every corrupted variant (None without corruptions).
    pub mean_corrupted_accuracy: Option<f64>,
    pub families: Vec<FamilySummary>,
    pub throughput: Option<ThroughputSummary>,
}

/// The whole `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub meta: RunMeta,
    /// The scheme agreement and deltas are measured against (the run's first scheme).
    pub reference: String,
    pub schemes: Vec<SchemeSummary>,
    pub gate: Verdict,
}

impl Summary {
    /// The summary of `scheme`, if the run has it.
    pub fn scheme(&self, scheme: &str) -> Option<&SchemeSummary> {
        self.schemes.iter().find(|s| s.scheme == scheme)
    }

    /// Every cell: clean, pooled families and single severities, scheme by scheme.
    pub fn cells(&self) -> Vec<&Cell> {
        let mut out = Vec::new();
        for s in &self.schemes {
            out.push(&s.clean);
            for f in &s.families {
                out.push(&f.pooled);
                out.extend(f.severities.iter());
            }
        }
        out
    }
}

/// Computes the summary of a run from its rows and throughput windows.
pub fn build(meta: RunMeta, rows: &[EvalRow], windows: &[Window]) -> Summary {
    let index = RowIndex::new(rows, meta.seed);
    let severities_of = |scheme: &str, family: &str| -> Vec<u8> {
        let mut v: Vec<u8> = rows
            .iter()
            .filter(|r| r.scheme == scheme && r.family == family)
            .map(|r| r.severity)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let schemes: Vec<SchemeSummary> = meta
        .schemes
        .par_iter()
        .map(|info| {
            let families: Vec<FamilySummary> = meta
                .families
                .iter()
                .map(|family| {
                    let pooled = index.cell(&info.name, family, 1, 5);
                    let severities: Vec<Cell> = severities_of(&info.name, family)
                        .into_iter()
                        .map(|s| index.cell(&info.name, family, s, s))
                        .collect();
                    let judged = severities
                        .iter()
                        .find(|c| c.severity_lo == coverage::COVERAGE_SEVERITY)
                        .unwrap_or(&pooled);
                    let severity = if judged.severity_lo == judged.severity_hi {
                        judged.severity_lo.to_string()
                    } else {
                        format!("{}-{}", judged.severity_lo, judged.severity_hi)
                    };
                    FamilySummary {
                        family: family.clone(),
                        low_coverage: coverage::warning(family, &severity, judged.changed / 100.0, judged.n),
                        pooled,
                        severities,
                    }
                })
                .collect();
            let corrupted: Vec<&EvalRow> = rows
                .iter()
                .filter(|r| r.scheme == info.name && r.family != CLEAN)
                .collect();
            let mean_corrupted_accuracy = (!corrupted.is_empty())
                .then(|| 100.0 * corrupted.iter().filter(|r| r.correct).count() as f64 / corrupted.len() as f64);
            let has_windows = windows.iter().any(|w| w.scheme == info.name);
            SchemeSummary {
                scheme: info.name.clone(),
                weights: info.weights.clone(),
                fidelity: info.fidelity.clone(),
                clean: index.cell(&info.name, CLEAN, 0, 0),
                mean_corrupted_accuracy,
                families,
                throughput: has_windows.then(|| sustain::summarize(&info.name, windows)),
            }
        })
        .collect();
    let mut summary = Summary {
        reference: meta.schemes.first().map(|s| s.name.clone()).unwrap_or_default(),
        meta,
        schemes,
        gate: Verdict {
            passed: true,
            checks: vec![],
        },
    };
    // A shard holds part of the rows: its gate is evaluated when the shards are merged.
    if summary.meta.shard.is_none() {
        summary.gate = gate::evaluate(&summary, &index);
    }
    summary
}

/// The compact terminal table: one line per scheme; clean accuracy, then each family's pooled
/// accuracy and its drop from clean in points, then sustained throughput.
pub fn render_table(summary: &Summary) -> String {
    let fams = &summary.meta.families;
    let mut out = format!("{:<18} {:>5} {:>7} {:>6}", "scheme", "bits", "MB", "clean");
    for f in fams {
        out.push_str(&format!(" {:>16}", f));
    }
    out.push_str(&format!(" {:>10}\n", "items/s"));
    for s in &summary.schemes {
        out.push_str(&format!(
            "{:<18} {:>5.2} {:>7.3} {:>6.1}",
            s.scheme,
            s.weights.bits_per_weight,
            s.weights.weight_bytes as f64 / 1e6,
            s.clean.accuracy
        ));
        for f in &s.families {
            out.push_str(&format!(
                " {:>16}",
                format!("{:.1} ({:+.1})", f.pooled.accuracy, -f.pooled.drop)
            ));
        }
        match &s.throughput {
            Some(t) => out.push_str(&format!(" {:>10.1}\n", t.sustained_items_per_s)),
            None => out.push_str(&format!(" {:>10}\n", "-")),
        }
    }
    out.push_str("accuracy in %, (change from clean in points) pooled over the severities run; items/s sustained\n");
    if let Some(s) = summary.schemes.first() {
        for f in &s.families {
            if let Some(w) = &f.low_coverage {
                out.push_str(&format!("warning: {w}\n"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_pools_families_and_keeps_every_severity() {
        let mut rows = Vec::new();
        for i in 0..4 {
            let id = i.to_string();
            rows.push(EvalRow {
                scheme: "f32".into(),
                example_id: id.clone(),
                family: CLEAN.into(),
                correct: true,
                ..Default::default()
            });
            for sev in [2u8, 4] {
                rows.push(EvalRow {
                    scheme: "f32".into(),
                    example_id: id.clone(),
                    family: "ocr".into(),
                    severity: sev,
                    correct: i < 3 || sev == 2,
                    cer: 0.1,
                    ..Default::default()
                });
            }
        }
        let meta = RunMeta {
            schemes: vec![SchemeInfo {
                name: "f32".into(),
                ..Default::default()
            }],
            families: vec!["ocr".into()],
            ..Default::default()
        };
        let s = build(meta, &rows, &[]);
        let f = &s.schemes[0].families[0];
        assert_eq!(
            f.severities
                .iter()
                .map(|c| (c.severity_lo, c.accuracy))
                .collect::<Vec<_>>(),
            vec![(2, 100.0), (4, 75.0)]
        );
        assert_eq!((f.pooled.n, f.pooled.accuracy, f.pooled.drop), (8, 87.5, 12.5));
        assert_eq!(s.schemes[0].mean_corrupted_accuracy, Some(87.5));
        assert!(s.gate.passed && s.gate.checks.is_empty());
    }
}
