//! Metrics of one scope (scheme x family x severity range) computed from result rows alone:
//! accuracy with its Wilson interval, paired drop from clean with a bootstrap interval, flip rate,
//! and agreement / accuracy delta / McNemar's test against the run's reference scheme.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::analysis::results::{EvalRow, CLEAN};
use crate::analysis::stats::{mcnemar_exact, paired_bootstrap, wilson};

/// Metrics of one scope. Accuracies, rates and their intervals are in percent; drops and deltas in points.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub scheme: String,
    pub family: String,
    /// Severity range pooled into this cell (0..0 for clean inputs).
    pub severity_lo: u8,
    pub severity_hi: u8,
    pub n: usize,
    pub accuracy: f64,
    pub accuracy_ci: [f64; 2],
    /// Same scheme's clean accuracy minus accuracy here, paired per example.
    pub drop: f64,
    pub drop_ci: [f64; 2],
    /// Percent of inputs whose prediction differs from the same scheme's prediction on the clean text.
    pub flip_rate: f64,
    pub flip_rate_ci: [f64; 2],
    /// Percent of inputs on which this scheme predicts what the reference scheme predicts.
    pub agreement: f64,
    pub agreement_ci: [f64; 2],
    /// Accuracy minus the reference scheme's accuracy on the same inputs, in points.
    pub delta_vs_reference: f64,
    pub delta_vs_reference_ci: [f64; 2],
    /// McNemar's exact p-value of this scheme against the reference on the same inputs.
    pub mcnemar_p: f64,
    pub mean_cer: f64,
    /// Mean normalised word error rate.
    pub mean_wer: f64,
    /// Mean word error rate on the texts as written.
    #[serde(default)]
    pub mean_wer_raw: f64,
    /// Percent of inputs whose text the noise changed at all (100 for clean inputs' own cell is not
    /// meaningful: 0 there). Low coverage makes an accuracy here say little (`corrupt::coverage`).
    #[serde(default)]
    pub changed: f64,
}

/// Index of rows by (scheme, family, severity, example id), for pairing.
pub struct RowIndex<'a> {
    rows: &'a [EvalRow],
    by_key: HashMap<(&'a str, &'a str, u8, &'a str), usize>,
    /// The reference scheme: the first scheme of the run.
    pub reference: String,
    seed: u64,
}

impl<'a> RowIndex<'a> {
    /// Indexes `rows`; the first row's scheme is the reference.
    pub fn new(rows: &'a [EvalRow], seed: u64) -> Self {
        let by_key = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    (r.scheme.as_str(), r.family.as_str(), r.severity, r.example_id.as_str()),
                    i,
                )
            })
            .collect();
        let reference = rows.first().map(|r| r.scheme.clone()).unwrap_or_default();
        RowIndex {
            rows,
            by_key,
            reference,
            seed,
        }
    }

    fn get(&self, scheme: &str, family: &str, severity: u8, id: &str) -> Option<&'a EvalRow> {
        self.by_key.get(&(scheme, family, severity, id)).map(|&i| &self.rows[i])
    }

    /// Metrics of `scheme` on `family` pooled over severities `lo..=hi` (use 0..=0 for clean).
    pub fn cell(&self, scheme: &str, family: &str, lo: u8, hi: u8) -> Cell {
        let (lo, hi) = if family == CLEAN { (0, 0) } else { (lo.max(1), hi) };
        let scope: Vec<&EvalRow> = self
            .rows
            .iter()
            .filter(|r| r.scheme == scheme && r.family == family && r.severity >= lo && r.severity <= hi)
            .collect();
        let n = scope.len();
        let correct: Vec<bool> = scope.iter().map(|r| r.correct).collect();
        let k = correct.iter().filter(|c| **c).count();
        let seed = scope_seed(self.seed, scheme, family, lo, hi);

        let clean: Vec<Option<&EvalRow>> = scope
            .iter()
            .map(|r| self.get(scheme, CLEAN, 0, &r.example_id))
            .collect();
        let clean_correct: Vec<bool> = clean.iter().map(|c| c.is_some_and(|c| c.correct)).collect();
        let flips = scope
            .iter()
            .zip(&clean)
            .filter(|(r, c)| c.is_some_and(|c| c.prediction != r.prediction))
            .count();

        let reference: Vec<Option<&EvalRow>> = scope
            .iter()
            .map(|r| self.get(&self.reference, family, r.severity, &r.example_id))
            .collect();
        let ref_correct: Vec<bool> = reference.iter().map(|c| c.is_some_and(|c| c.correct)).collect();
        let agree = scope
            .iter()
            .zip(&reference)
            .filter(|(r, c)| c.is_some_and(|c| c.prediction == r.prediction))
            .count();
        let (mut only_self, mut only_ref) = (0, 0);
        for (a, b) in correct.iter().zip(&ref_correct) {
            match (a, b) {
                (true, false) => only_self += 1,
                (false, true) => only_ref += 1,
                _ => {}
            }
        }
        let pct = |x: usize| if n == 0 { 0.0 } else { 100.0 * x as f64 / n as f64 };
        let ci = |(a, b): (f64, f64)| [100.0 * a, 100.0 * b];
        let drop_ci = paired_bootstrap(&clean_correct, &correct, seed);
        let delta_ci = paired_bootstrap(&correct, &ref_correct, seed ^ 0x9e37_79b9_7f4a_7c15);
        Cell {
            scheme: scheme.into(),
            family: family.into(),
            severity_lo: lo,
            severity_hi: hi,
            n,
            accuracy: pct(k),
            accuracy_ci: ci(wilson(k, n)),
            drop: pct(clean_correct.iter().filter(|c| **c).count()) - pct(k),
            drop_ci: ci(drop_ci),
            flip_rate: pct(flips),
            flip_rate_ci: ci(wilson(flips, n)),
            agreement: pct(agree),
            agreement_ci: ci(wilson(agree, n)),
            delta_vs_reference: pct(k) - pct(ref_correct.iter().filter(|c| **c).count()),
            delta_vs_reference_ci: ci(delta_ci),
            mcnemar_p: mcnemar_exact(only_self, only_ref),
            mean_cer: if n == 0 {
                0.0
            } else {
                scope.iter().map(|r| r.cer).sum::<f64>() / n as f64
            },
            mean_wer: if n == 0 {
                0.0
            } else {
                scope.iter().map(|r| r.wer).sum::<f64>() / n as f64
            },
            mean_wer_raw: if n == 0 {
                0.0
            } else {
                scope.iter().map(|r| r.wer_raw).sum::<f64>() / n as f64
            },
            changed: pct(scope
                .iter()
                .zip(&clean)
                .filter(|(r, c)| r.family != CLEAN && c.is_some_and(|c| c.text != r.text))
                .count()),
        }
    }
}

/// A bootstrap seed per scope, derived from the run seed, so intervals are reproducible.
fn scope_seed(seed: u64, scheme: &str, family: &str, lo: u8, hi: u8) -> u64 {
    // FNV-1a over the scope's name.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in scheme.bytes().chain([0]).chain(family.bytes()).chain([0, lo, hi]) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scheme: &str, family: &str, severity: u8, id: usize, prediction: &str) -> EvalRow {
        EvalRow {
            scheme: scheme.into(),
            example_id: id.to_string(),
            family: family.into(),
            severity,
            label: "a".into(),
            correct: prediction == "a",
            prediction: prediction.into(),
            ..Default::default()
        }
    }

    #[test]
    fn paired_metrics_against_clean_and_reference() {
        let mut rows = Vec::new();
        for id in 0..10 {
            rows.push(row("f32", CLEAN, 0, id, "a"));
        }
        for id in 0..10 {
            rows.push(row("f32", "typo", 1, id, if id < 8 { "a" } else { "b" }));
        }
        for id in 0..10 {
            rows.push(row("int8", CLEAN, 0, id, if id < 9 { "a" } else { "c" }));
        }
        for id in 0..10 {
            rows.push(row("int8", "typo", 1, id, if id < 6 { "a" } else { "b" }));
        }
        let index = RowIndex::new(&rows, 1);
        assert_eq!(index.reference, "f32");
        let f = index.cell("f32", "typo", 1, 5);
        assert_eq!(
            (f.n, f.accuracy, f.drop, f.flip_rate, f.agreement),
            (10, 80.0, 20.0, 20.0, 100.0)
        );
        assert!(f.accuracy_ci[0] < 80.0 && f.accuracy_ci[1] > 80.0);
        let q = index.cell("int8", "typo", 1, 5);
        assert_eq!((q.accuracy, q.delta_vs_reference, q.agreement), (60.0, -20.0, 80.0));
        assert!((q.drop - 30.0).abs() < 1e-9, "paired with int8's own clean predictions");
        // Example 9 flipped from c to b: a flip, though wrong both times.
        assert!((q.flip_rate - 40.0).abs() < 1e-9);
        assert!((q.mcnemar_p - 0.5).abs() < 1e-12, "b=0, c=2 -> p = 2 * 1/4");
        let c = index.cell("int8", CLEAN, 1, 5);
        assert_eq!((c.severity_lo, c.n, c.accuracy, c.drop), (0, 10, 90.0, 0.0));
    }
}
