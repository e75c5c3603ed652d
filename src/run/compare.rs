//! `shakedown compare RUN_A RUN_B [...]`: the primary metric side by side by scheme, family and
//! severity, with deltas against the first run, McNemar's exact test on paired examples, and
//! throughput ratios. Runs must be comparable (same suite content, seed, limit, split, corruptions,
//! task, model, tool version) unless the caller allows otherwise; then the paired tests are dropped
//! where the runs' inputs differ, and the comparison says so.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::analysis::results::{EvalRow, CLEAN};
use crate::analysis::stats::{estimate_seed, mcnemar_clustered, mcnemar_exact, paired_ci, wilson};
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
    /// The examples each run holds in the scope (a pooled line counts each example once).
    pub n: Vec<usize>,
    /// Points against the first run.
    pub delta: Vec<Option<f64>>,
    /// 95% interval of the delta: over the examples both runs hold when their inputs are the same
    /// (Newcombe's paired interval for right/wrong answers, else a bootstrap over examples), else
    /// Newcombe's hybrid score interval for two independent proportions (right/wrong metrics on one
    /// severity or clean; None otherwise).
    pub delta_ci: Vec<Option<[f64; 2]>>,
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
    /// The run flagged the scheme's throughput noisy (its windows varied by more than a fifth).
    pub noisy: Vec<bool>,
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
    /// Each run's gate: verdict per scheme and recommendation, to show a decision that changed.
    pub decisions: Vec<Decision>,
}

/// One run's ship decision, as its summary.json records it.
#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    /// None for a run that was not gated (no rules, a shard, a sustain-only run).
    pub passed: Option<bool>,
    pub recommended: Option<String>,
    /// Each scheme's verdict in the run's order.
    pub verdicts: Vec<SchemeDecision>,
}

/// A scheme's verdict in one run.
#[derive(Clone, Debug, Serialize)]
pub struct SchemeDecision {
    pub scheme: String,
    /// "pass", "fail", or either with the count of its unsettled checks ("pass (2 unsettled)").
    pub verdict: String,
}

impl Decision {
    fn of(run: &LoadedRun) -> Self {
        let Some(gate) = &run.gate else {
            return Decision {
                passed: None,
                recommended: None,
                verdicts: Vec::new(),
            };
        };
        let verdicts = gate
            .schemes
            .iter()
            .map(|v| SchemeDecision {
                scheme: v.scheme.clone(),
                verdict: v.describe(),
            })
            .collect();
        Decision {
            passed: Some(gate.passed),
            recommended: gate.recommendation.as_ref().map(|r| r.scheme.clone()),
            verdicts,
        }
    }

    /// "gate PASSED, recommends q4_0".
    pub fn describe(&self) -> String {
        match self.passed {
            None => "not gated".into(),
            Some(p) => format!(
                "gate {}, recommends {}",
                if p { "PASSED" } else { "FAILED" },
                self.recommended.as_deref().unwrap_or("nothing")
            ),
        }
    }
}

type Key<'a> = (&'a str, &'a str, u8, &'a str);

/// (primary value, right by the primary metric, the input's text) of one row.
type Answer<'a> = (f64, bool, &'a str);

/// Each row's answer by its key.
fn index(rows: &[EvalRow]) -> HashMap<Key<'_>, Answer<'_>> {
    rows.iter()
        .map(|r| {
            (
                (r.scheme.as_str(), r.family.as_str(), r.severity, r.example_id.as_str()),
                (r.measures.first().copied().unwrap_or(0.0), r.correct, r.text.as_str()),
            )
        })
        .collect()
}

/// The inputs of a run in a scope, with their texts, in key order.
fn inputs<'a>(ix: &HashMap<Key<'a>, Answer<'a>>, in_scope: &dyn Fn(&Key) -> bool) -> Vec<(Key<'a>, &'a str)> {
    let mut v: Vec<(Key, &str)> = ix.iter().filter(|(k, _)| in_scope(k)).map(|(k, a)| (*k, a.2)).collect();
    v.sort_unstable();
    v
}

/// Compares runs; the first is the base of every delta and ratio. Runs that differ in what was run
/// are refused unless `allow_mismatch`.
pub fn compare(runs: &[LoadedRun], allow_mismatch: bool) -> Result<Comparison> {
    let mut notes = Vec::new();
    if let Some(first) = runs.first() {
        for run in runs.iter().skip(1) {
            let origin = run.dir.display().to_string();
            let found = comparable::check(&first.summary.meta, &run.summary.meta, &origin, allow_mismatch)?;
            for m in &found {
                notes.push(format!("{}: {}", origin, m.describe()));
            }
            if found.iter().any(|m| m.breaks_pairing) {
                notes.push(format!(
                    "{origin}: its inputs may differ from the first run's: a line is paired (McNemar, paired \
                     interval) only where both runs hold the same inputs, texts and all; no paired test is shown \
                     for the others, which are compared as independent samples"
                ));
            }
        }
    }
    let indexes: Vec<HashMap<Key, Answer>> = runs.iter().map(|r| index(&r.rows)).collect();
    let seeds: Vec<u64> = runs.iter().map(|r| r.summary.meta.seed).collect();
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
            // A pooled line of runs made comparable with --allow-mismatch may pool other severities in
            // each: severities 1-3 against severity 1 alone is no change of the model.
            let levels = |ix: &HashMap<Key, Answer>| {
                let mut l: Vec<u8> = ix.keys().filter(|k| in_scope(k)).map(|k| k.2).collect();
                l.sort_unstable();
                l.dedup();
                l
            };
            let base_levels = levels(&indexes[0]);
            let same_levels: Vec<bool> = indexes
                .iter()
                .map(|ix| severity.is_some() || levels(ix) == base_levels)
                .collect();
            let base = value[0];
            let delta = value
                .iter()
                .zip(&same_levels)
                .map(|(a, same)| Some((*a)? - base.filter(|_| *same)?))
                .collect();
            // Examples, not rows: a pooled line holds each example once per severity, and its
            // intervals resample examples.
            let n: Vec<usize> = indexes
                .iter()
                .map(|ix| {
                    ix.keys()
                        .filter(|k| in_scope(k))
                        .map(|k| k.3)
                        .collect::<HashSet<_>>()
                        .len()
                })
                .collect();
            // A run is paired with the first on this line when it holds the same inputs: the same
            // examples at the same severities with the same texts (whatever the suite file, limit or
            // seed said: a gate-only suite edit, or a limit equal to the split, pairs).
            let base_inputs = inputs(&indexes[0], &in_scope);
            let paired: Vec<bool> = indexes
                .iter()
                .map(|ix| !base_inputs.is_empty() && inputs(ix, &in_scope) == base_inputs)
                .collect();
            let delta_ci: Vec<Option<[f64; 2]>> = indexes
                .iter()
                .zip(&paired)
                .enumerate()
                .map(|(i, (ix, &paired))| {
                    if i == 0 {
                        return None;
                    }
                    let what = format!("compare/{scheme}/{family}/{severity:?}");
                    if paired {
                        // The inputs both runs hold, by the rule a run's own paired figures follow
                        // (`stats::paired_ci`; the bootstrap sorts its values, so the map's order does
                        // not reach the interval): two runs that answered alike are not a certain zero.
                        let both: Vec<(&str, f64, f64)> = ix
                            .iter()
                            .filter(|(k, _)| in_scope(k))
                            .filter_map(|(k, now)| indexes[0].get(k).map(|before| (k.3, now.0, before.0)))
                            .collect();
                        if both.is_empty() {
                            return None;
                        }
                        let (lo, hi) = paired_ci(&both, estimate_seed(seeds[i], &what));
                        Some([100.0 * lo, 100.0 * hi])
                    } else if severity.is_none() {
                        // Severities pooled are several variants of each example; Newcombe's interval
                        // takes every answer as an independent draw, which they are not.
                        None
                    } else {
                        let tally = |ix: &HashMap<Key, Answer>| -> Option<(usize, usize)> {
                            let v: Vec<f64> = ix.iter().filter(|(k, _)| in_scope(k)).map(|(_, c)| c.0).collect();
                            let binary = v.iter().all(|x| *x == 0.0 || *x == 1.0);
                            (binary && !v.is_empty()).then(|| (v.iter().filter(|x| **x == 1.0).count(), v.len()))
                        };
                        let (k0, n0) = tally(&indexes[0])?;
                        let (k1, n1) = tally(ix)?;
                        let (lo, hi) = newcombe(k1, n1, k0, n0);
                        Some([100.0 * lo, 100.0 * hi])
                    }
                })
                .collect();
            let p_value: Vec<Option<f64>> = indexes
                .iter()
                .zip(&paired)
                .map(|(ix, &paired)| {
                    // Discordant pairs per example: a pooled line holds each example once per
                    // severity, not independent pairs (Durkalski's clustered test, as a run's own).
                    let mut per_example: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
                    let mut pairs = 0;
                    for (k, now) in ix.iter().filter(|(k, _)| in_scope(k)) {
                        if let Some(before) = indexes[0].get(k) {
                            pairs += 1;
                            let e = per_example.entry(k.3).or_default();
                            match (before.1, now.1) {
                                (true, false) => e.0 += 1,
                                (false, true) => e.1 += 1,
                                _ => {}
                            }
                        }
                    }
                    let clustered = per_example.len() < pairs;
                    (paired && pairs > 0).then(|| match clustered {
                        true => mcnemar_clustered(&per_example.values().copied().collect::<Vec<_>>()),
                        false => {
                            let (b, c) = per_example.values().fold((0, 0), |(b, c), (x, y)| (b + x, c + y));
                            mcnemar_exact(b, c)
                        }
                    })
                })
                .collect();
            let label = match severity {
                Some(0) => "clean".to_string(),
                Some(s) => s.to_string(),
                None => "all".to_string(),
            };
            let delta_ci: Vec<Option<[f64; 2]>> = delta_ci
                .into_iter()
                .zip(&same_levels)
                .map(|(ci, same)| ci.filter(|_| *same))
                .collect();
            let p_value: Vec<Option<f64>> = p_value
                .into_iter()
                .zip(&same_levels)
                .map(|(p, same)| p.filter(|_| *same))
                .collect();
            for (i, ix) in indexes.iter().enumerate() {
                if !same_levels[i] && value[i].is_some() && base.is_some() {
                    let list = |l: &[u8]| l.iter().map(u8::to_string).collect::<Vec<_>>().join(", ");
                    notes.push(format!(
                        "{}: {scheme} {family} pooled over severities {}, the first run over {}: no delta",
                        runs[i].dir.display(),
                        list(&levels(ix)),
                        list(&base_levels)
                    ));
                }
            }
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
                n,
                delta,
                delta_ci,
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
            let timed: Vec<_> = runs
                .iter()
                .map(|r| r.summary.scheme(&scheme).and_then(|s| s.throughput.as_ref()))
                .collect();
            let values: Vec<Option<f64>> = timed.iter().map(|t| t.map(|t| t.sustained_items_per_s)).collect();
            let base = values[0];
            let ratio = values
                .iter()
                .map(|v| Some((*v)? / base.filter(|b| *b > 0.0)?))
                .collect();
            let noisy = timed.iter().map(|t| t.is_some_and(|t| t.noisy)).collect();
            ThroughputLine {
                scheme,
                sustained_items_per_s: values,
                ratio,
                noisy,
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
        decisions: runs.iter().map(Decision::of).collect(),
    })
}

/// Newcombe's hybrid score interval for the difference of two independent proportions k1/n1 - k0/n0
/// (Newcombe 1998, "Interval estimation for the difference between independent proportions", method
/// 10): each proportion's Wilson interval, combined. Fractions.
fn newcombe(k1: usize, n1: usize, k0: usize, n0: usize) -> (f64, f64) {
    let (p1, p0) = (k1 as f64 / n1 as f64, k0 as f64 / n0 as f64);
    let ((l1, u1), (l0, u0)) = (wilson(k1, n1), wilson(k0, n0));
    let d = p1 - p0;
    (
        d - ((p1 - l1).powi(2) + (u0 - p0).powi(2)).sqrt(),
        d + ((u1 - p1).powi(2) + (p0 - l0).powi(2)).sqrt(),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newcombes_interval_matches_his_published_example() {
        // Newcombe (1998), table II, example (a): 56/70 vs 48/80, difference 0.1750, method 10
        // gives 0.0524 to 0.3339.
        let (lo, hi) = newcombe(56, 70, 48, 80);
        assert!((lo - 0.0524).abs() < 5e-4 && (hi - 0.3339).abs() < 5e-4, "{lo} {hi}");
    }
}
