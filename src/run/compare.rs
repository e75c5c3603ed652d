//! `shakedown compare RUN_A RUN_B [...]`: the primary metric side by side by scheme, family and
//! severity, with deltas against the first run, McNemar's exact test on paired examples, and
//! throughput ratios. Runs must be comparable (same suite content, seed, limit, split, corruptions,
//! task, model, tool version) unless the caller allows otherwise; then the paired tests are dropped
//! where the runs' inputs differ, and the comparison says so.

use std::collections::HashMap;

use serde::Serialize;

use crate::analysis::results::{EvalRow, CLEAN};
use crate::analysis::stats::mcnemar_exact;
use crate::error::Result;
use crate::run::comparable;
use crate::run::rundir::LoadedRun;

/// One scope compared across runs.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    pub scheme: String,
    pub family: String,
    /// "clean", "all" (severities pooled) or a level.
    pub severity: String,
    /// The primary metric in percent per run (None where the run lacks the scope).
    pub value: Vec<Option<f64>>,
    /// Points against the first run.
    pub delta: Vec<Option<f64>>,
    /// McNemar p-value against the first run on the examples both share (None where the runs'
    /// inputs differ).
    pub p_value: Vec<Option<f64>>,
}

/// Sustained throughput per scheme across runs.
#[derive(Clone, Debug, Serialize)]
pub struct ThroughputLine {
    pub scheme: String,
    pub sustained_items_per_s: Vec<Option<f64>>,
    /// Ratio to the first run.
    pub ratio: Vec<Option<f64>>,
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub runs: Vec<String>,
    /// The metric compared (the first run's primary metric).
    pub metric: String,
    pub lines: Vec<Line>,
    pub throughput: Vec<ThroughputLine>,
    /// How the runs differ where comparing anyway was allowed, and what that costs.
    pub notes: Vec<String>,
    /// Schemes and scopes some run lacks, listed rather than silently left out.
    pub missing: Vec<String>,
}

type Key<'a> = (&'a str, &'a str, u8, &'a str);

/// (primary value, right by the primary metric) per row.
fn index(rows: &[EvalRow]) -> HashMap<Key<'_>, (f64, bool)> {
    rows.iter()
        .map(|r| {
            (
                (r.scheme.as_str(), r.family.as_str(), r.severity, r.example_id.as_str()),
                (r.measures.first().copied().unwrap_or(0.0), r.correct),
            )
        })
        .collect()
}

/// Compares runs; the first is the base of every delta and ratio. Runs that differ in what was run
/// are refused unless `allow_mismatch`.
pub fn compare(runs: &[LoadedRun], allow_mismatch: bool) -> Result<Comparison> {
    let mut notes = Vec::new();
    let mut paired = vec![true; runs.len()];
    if let Some(first) = runs.first() {
        for (i, run) in runs.iter().enumerate().skip(1) {
            let origin = run.dir.display().to_string();
            let found = comparable::check(&first.summary.meta, &run.summary.meta, &origin, allow_mismatch)?;
            for m in &found {
                notes.push(format!("{}: {}", origin, m.describe()));
            }
            if found.iter().any(|m| m.breaks_pairing) {
                paired[i] = false;
                notes.push(format!(
                    "{origin}: its inputs differ from the first run's, so no paired test (McNemar) is shown for it"
                ));
            }
        }
    }
    let indexes: Vec<HashMap<Key, (f64, bool)>> = runs.iter().map(|r| index(&r.rows)).collect();
    // Scopes in the order of the first run that has them.
    let mut scopes: Vec<(String, String, Option<u8>)> = Vec::new();
    for run in runs {
        for s in run.summary.meta.scheme_names() {
            let mut push = |scope: (String, String, Option<u8>)| {
                if !scopes.contains(&scope) {
                    scopes.push(scope);
                }
            };
            push((s.clone(), CLEAN.into(), Some(0)));
            for f in &run.summary.meta.families {
                push((s.clone(), f.clone(), None));
                let mut sevs: Vec<u8> = run
                    .rows
                    .iter()
                    .filter(|r| r.scheme == s && &r.family == f)
                    .map(|r| r.severity)
                    .collect();
                sevs.sort_unstable();
                sevs.dedup();
                for sev in sevs {
                    push((s.clone(), f.clone(), Some(sev)));
                }
            }
        }
    }
    let mut missing = Vec::new();
    let lines: Vec<Line> = scopes
        .into_iter()
        .map(|(scheme, family, severity)| {
            let in_scope = |k: &Key| k.0 == scheme && k.1 == family && severity.is_none_or(|s| k.2 == s);
            let value: Vec<Option<f64>> = indexes
                .iter()
                .map(|ix| {
                    let v: Vec<f64> = ix.iter().filter(|(k, _)| in_scope(k)).map(|(_, c)| c.0).collect();
                    (!v.is_empty()).then(|| 100.0 * v.iter().sum::<f64>() / v.len() as f64)
                })
                .collect();
            let base = value[0];
            let delta = value.iter().map(|a| Some((*a)? - base?)).collect();
            let p_value = indexes
                .iter()
                .zip(&paired)
                .map(|(ix, &paired)| {
                    let (mut b, mut c, mut pairs) = (0, 0, 0);
                    for (k, now) in ix.iter().filter(|(k, _)| in_scope(k)) {
                        if let Some(before) = indexes[0].get(k) {
                            pairs += 1;
                            match (before.1, now.1) {
                                (true, false) => b += 1,
                                (false, true) => c += 1,
                                _ => {}
                            }
                        }
                    }
                    (paired && pairs > 0).then(|| mcnemar_exact(b, c))
                })
                .collect();
            let label = match severity {
                Some(0) => "clean".to_string(),
                Some(s) => s.to_string(),
                None => "all".to_string(),
            };
            for (i, v) in value.iter().enumerate() {
                if v.is_none() {
                    missing.push(format!(
                        "{}: no {scheme} results for {family} at severity {label}",
                        runs[i].dir.display()
                    ));
                }
            }
            Line {
                scheme,
                family,
                severity: label,
                value,
                delta,
                p_value,
            }
        })
        .collect();
    let mut schemes: Vec<String> = Vec::new();
    for run in runs {
        for s in run.summary.meta.scheme_names() {
            if !schemes.contains(&s) {
                schemes.push(s);
            }
        }
    }
    let throughput = schemes
        .into_iter()
        .map(|scheme| {
            let values: Vec<Option<f64>> = runs
                .iter()
                .map(|r| {
                    r.summary
                        .scheme(&scheme)
                        .and_then(|s| s.throughput.as_ref())
                        .map(|t| t.sustained_items_per_s)
                })
                .collect();
            let base = values[0];
            let ratio = values
                .iter()
                .map(|v| Some((*v)? / base.filter(|b| *b > 0.0)?))
                .collect();
            ThroughputLine {
                scheme,
                sustained_items_per_s: values,
                ratio,
            }
        })
        .collect();
    Ok(Comparison {
        runs: runs.iter().map(|r| r.dir.display().to_string()).collect(),
        metric: runs
            .first()
            .map(|r| r.summary.primary().to_string())
            .unwrap_or_default(),
        lines,
        throughput,
        notes,
        missing,
    })
}

/// `*` p < 0.05, `**` p < 0.01, `***` p < 0.001.
pub fn significance(p: Option<f64>) -> &'static str {
    match p {
        Some(p) if p < 0.001 => "***",
        Some(p) if p < 0.01 => "**",
        Some(p) if p < 0.05 => "*",
        _ => "",
    }
}
