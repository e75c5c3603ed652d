//! `summary.json`: aggregates of a run's rows per scheme, family and severity, plus run metadata
//! and the gate's verdict. Computed from the rows alone, so a run directory can be re-read.

use serde::{Deserialize, Serialize};

use crate::gate::Verdict;
use crate::results::{accuracy, EvalRow, CLEAN};

/// Where and how a run was made.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
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
}

/// Storage of one scheme's quantized weights.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WeightStats {
    pub weight_bytes: usize,
    pub weight_count: usize,
    pub bits_per_weight: f64,
}

/// Accuracy at one severity of one family.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeverityCell {
    pub severity: u8,
    pub n: usize,
    pub accuracy: f64,
    pub drop_points: f64,
    pub mean_cer: f64,
    pub mean_wer: f64,
}

/// One family (or chain) under one scheme.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FamilySummary {
    pub family: String,
    /// Accuracy pooled over all severities run.
    pub accuracy: f64,
    pub drop_points: f64,
    pub severities: Vec<SeverityCell>,
}

/// One scheme's results.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SchemeSummary {
    pub scheme: String,
    pub weights: WeightStats,
    pub clean_accuracy: f64,
    pub families: Vec<FamilySummary>,
}

/// The whole `summary.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub meta: RunMeta,
    pub schemes: Vec<SchemeSummary>,
    pub gate: Verdict,
}

/// Families in the order they first appear in the rows (clean excluded).
pub fn families(rows: &[EvalRow]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        if r.family != CLEAN && !out.contains(&r.family) {
            out.push(r.family.clone());
        }
    }
    out
}

/// Aggregates one scheme's rows.
pub fn summarize_scheme(rows: &[EvalRow], scheme: &str, weights: WeightStats) -> SchemeSummary {
    let clean = accuracy(rows, scheme, CLEAN, 0, 0).unwrap_or(0.0);
    let families = families(rows)
        .into_iter()
        .map(|family| {
            let mut severities = Vec::new();
            for sev in 1..=5u8 {
                let cell: Vec<&EvalRow> = rows
                    .iter()
                    .filter(|r| r.scheme == scheme && r.family == family && r.severity == sev)
                    .collect();
                if cell.is_empty() {
                    continue;
                }
                let n = cell.len();
                let acc = 100.0 * cell.iter().filter(|r| r.correct).count() as f64 / n as f64;
                severities.push(SeverityCell {
                    severity: sev,
                    n,
                    accuracy: acc,
                    drop_points: clean - acc,
                    mean_cer: cell.iter().map(|r| r.cer).sum::<f64>() / n as f64,
                    mean_wer: cell.iter().map(|r| r.wer).sum::<f64>() / n as f64,
                });
            }
            let acc = accuracy(rows, scheme, &family, 1, 5).unwrap_or(0.0);
            FamilySummary {
                family,
                accuracy: acc,
                drop_points: clean - acc,
                severities,
            }
        })
        .collect();
    SchemeSummary {
        scheme: scheme.into(),
        weights,
        clean_accuracy: clean,
        families,
    }
}

/// The compact terminal table: one line per scheme, clean accuracy then each family's pooled
/// accuracy and its drop from clean in points.
pub fn render_table(summary: &Summary) -> String {
    let fams: Vec<String> = summary
        .schemes
        .first()
        .map(|s| s.families.iter().map(|f| f.family.clone()).collect())
        .unwrap_or_default();
    let mut out = format!("{:<18} {:>7} {:>6}", "scheme", "MB", "clean");
    for f in &fams {
        out.push_str(&format!(" {:>16}", f));
    }
    out.push('\n');
    for s in &summary.schemes {
        out.push_str(&format!(
            "{:<18} {:>7.3} {:>6.1}",
            s.scheme,
            s.weights.weight_bytes as f64 / 1e6,
            s.clean_accuracy
        ));
        for f in &s.families {
            out.push_str(&format!(
                " {:>16}",
                format!("{:.1} ({:+.1})", f.accuracy, -f.drop_points)
            ));
        }
        out.push('\n');
    }
    out.push_str("accuracy in %, (change from clean in points), pooled over the severities run\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_clean_minus_corrupted_per_severity() {
        let mut rows = Vec::new();
        for i in 0..4 {
            rows.push(EvalRow {
                scheme: "f32".into(),
                family: CLEAN.into(),
                correct: true,
                ..Default::default()
            });
            rows.push(EvalRow {
                scheme: "f32".into(),
                family: "ocr".into(),
                severity: 2,
                correct: i < 3,
                cer: 0.1,
                ..Default::default()
            });
        }
        let s = summarize_scheme(&rows, "f32", WeightStats::default());
        assert_eq!(s.clean_accuracy, 100.0);
        let cell = &s.families[0].severities[0];
        assert_eq!(
            (cell.severity, cell.n, cell.accuracy, cell.drop_points),
            (2, 4, 75.0, 25.0)
        );
        assert!((cell.mean_cer - 0.1).abs() < 1e-12);
    }
}
