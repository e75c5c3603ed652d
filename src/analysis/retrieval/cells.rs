//! A retrieval run's tables and what they aggregate to: one row per query x deployment (query
//! scheme, index precision, shape) x condition (family, severity), one search record per
//! deployment x condition, and per deployment x family x severity the mean of every metric with its
//! bootstrap interval, its paired drop from the same deployment's clean inputs and its paired
//! difference from the reference deployment (the run's first: f32 queries, f32 index, same scheme).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Estimate, Metric, QueryScores};
use crate::analysis::results::CLEAN;
use crate::analysis::stats::{estimate_seed, mean_ci, paired_ci};

/// One query under one deployment and condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrievalRow {
    /// The scheme that embedded the query.
    pub scheme: String,
    /// The index's precision (`f32`, `int8`, `binary`).
    pub index: String,
    /// `same` or `server-f32` (who embedded the corpus).
    pub shape: String,
    pub family: String,
    pub severity: u8,
    pub seed: u64,
    pub query_id: String,
    /// The query as embedded (corrupted when the queries are).
    pub text: String,
    /// Noise of the query against its clean text (0 when the queries are clean).
    pub cer: f64,
    pub wer: f64,
    /// WER before Whisper's normalisation (case and punctuation count).
    pub wer_raw: f64,
    /// Retrieved chunk ids, best first.
    pub retrieved: Vec<String>,
    /// The query's judgments (chunk id -> grade), for reports.
    pub relevant: super::Judgments,
    pub scores: QueryScores,
}

/// One deployment searching one condition's queries: sizes and times.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchRecord {
    pub scheme: String,
    pub index: String,
    pub shape: String,
    pub family: String,
    pub severity: u8,
    pub queries: usize,
    /// Search time of the batch divided by its queries (one pass over the index serves the batch).
    pub search_ms_per_query: f64,
    /// Embedding time of the condition's queries divided by their number (texts the noise left
    /// unchanged are embedded once).
    pub embed_ms_per_query: f64,
    /// Mean noise of the corpus as embedded (0 when the corpus is clean).
    pub corpus_cer: f64,
    pub corpus_wer: f64,
    pub index_scan_bytes: u64,
    pub index_rescore_bytes: u64,
    pub index_file_bytes: u64,
    /// `reused`, `built`, or `rebuilt: <reason>`.
    pub index_provenance: String,
}

/// A measured figure as `summary.json` keeps it: rounded to 6 decimals, so it reads back as the
/// same number and `shakedown report RUN` recomputes the same summary.
pub fn stored(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// One stored index as a run used it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexRecord {
    /// The scheme that embedded the corpus.
    pub corpus_scheme: String,
    pub precision: String,
    /// The corpus condition (`clean` unless the corpus is corrupted).
    pub family: String,
    pub severity: u8,
    pub file: String,
    pub stats: crate::index::IndexStats,
    /// `reused`, `built`, or `rebuilt: <reason>`.
    pub provenance: String,
    /// Embedding and writing the corpus (shared by the precisions built together).
    pub build_seconds: Option<f64>,
    pub verify_seconds: f64,
}

/// One metric in one cell.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricCell {
    pub metric: String,
    pub value: Estimate,
    /// Clean minus here, paired per query, for the same deployment (positive = lost).
    pub drop_vs_clean: Estimate,
    /// Here minus the reference deployment on the same condition, paired per query.
    pub delta_vs_reference: Estimate,
}

/// Aggregates of one deployment x family x severity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrievalCell {
    pub scheme: String,
    pub index: String,
    pub shape: String,
    pub family: String,
    /// The severity, or 0 for clean inputs and for a family's severities pooled (`pooled`).
    pub severity: u8,
    /// True when the cell pools every severity of its family.
    pub pooled: bool,
    pub n: usize,
    pub metrics: Vec<MetricCell>,
    pub mean_cer: f64,
    pub mean_wer: f64,
    pub search: SearchRecord,
}

impl RetrievalCell {
    /// The cell's estimate of `metric`.
    pub fn metric(&self, metric: Metric) -> Option<&MetricCell> {
        self.metrics.iter().find(|m| m.metric == metric.name())
    }
}

type Deploy<'a> = (&'a str, &'a str, &'a str);
type Group<'a> = (Deploy<'a>, &'a str, u8);

fn deployment(r: &RetrievalRow) -> Deploy<'_> {
    (&r.scheme, &r.index, &r.shape)
}

/// Cells for every deployment x family x severity in the order the rows first name them; with
/// `pool`, one cell per deployment x family with its severities pooled (clean stays as it is).
pub fn cells(rows: &[RetrievalRow], searches: &[SearchRecord], seed: u64, pool: bool) -> Vec<RetrievalCell> {
    let reference = rows.first().map(deployment);
    let level = |r: &RetrievalRow| if pool { 0 } else { r.severity };
    let mut order: Vec<Group> = Vec::new();
    let mut groups: HashMap<Group, Vec<&RetrievalRow>> = HashMap::new();
    let mut by_query: HashMap<(Group, &str), &RetrievalRow> = HashMap::new();
    for r in rows {
        let g = (deployment(r), r.family.as_str(), level(r));
        groups
            .entry(g)
            .or_insert_with(|| {
                order.push(g);
                Vec::new()
            })
            .push(r);
        by_query.insert(((deployment(r), r.family.as_str(), r.severity), &r.query_id), r);
    }
    let find = |d: Deploy<'_>, family: &str, severity: u8, q: &str| -> Option<&RetrievalRow> {
        by_query.get(&((d, family, severity), q)).copied()
    };
    order
        .iter()
        .map(|&g| {
            let (d, family, severity) = g;
            let scope = &groups[&g];
            let n = scope.len();
            let pooled = pool && family != CLEAN;
            let clean: Vec<Option<&RetrievalRow>> = scope.iter().map(|r| find(d, CLEAN, 0, &r.query_id)).collect();
            let refs: Vec<Option<&RetrievalRow>> = scope
                .iter()
                .map(|r| reference.and_then(|rd| find(rd, family, r.severity, &r.query_id)))
                .collect();
            let metrics = Metric::ALL
                .iter()
                .map(|&m| {
                    let here: Vec<f64> = scope.iter().map(|r| r.scores.get(m)).collect();
                    // Pairs only where the counterpart exists (a shard may lack it): (query, value
                    // there, value here).
                    let paired = |other: &[Option<&RetrievalRow>]| -> Vec<(&str, f64, f64)> {
                        other
                            .iter()
                            .zip(scope.iter().zip(&here))
                            .filter_map(|(o, (r, h))| o.map(|o| (r.query_id.as_str(), o.scores.get(m), *h)))
                            .collect()
                    };
                    let (with_clean, with_ref) = (paired(&clean), paired(&refs));
                    let seed_of = |what: &str| estimate_seed(seed, &format!("{what}/{}", m.name()));
                    // The rules of every table of a run (`stats::mean_ci`, `stats::paired_ci`): a query's
                    // severities pooled are variants of one query, so intervals rest on queries, not rows.
                    let here_k: Vec<(&str, f64)> = scope
                        .iter()
                        .map(|r| r.query_id.as_str())
                        .zip(here.iter().copied())
                        .collect();
                    let drop_k: Vec<(&str, f64, f64)> = with_clean.iter().map(|&(q, c, h)| (q, c, h)).collect();
                    let delta_k: Vec<(&str, f64, f64)> = with_ref.iter().map(|&(q, f, h)| (q, h, f)).collect();
                    let estimate = |mean: f64, (lo, hi): (f64, f64)| Estimate { mean, ci: [lo, hi] };
                    let avg = |v: &mut dyn Iterator<Item = f64>, n: usize| {
                        if n == 0 {
                            0.0
                        } else {
                            v.sum::<f64>() / n as f64
                        }
                    };
                    MetricCell {
                        metric: m.name().into(),
                        value: estimate(
                            avg(&mut here.iter().copied(), here.len()),
                            mean_ci(&here_k, estimate_seed(seed, m.name()), (0.0, 1.0)),
                        ),
                        // A row paired with itself (the clean cell's drop, the reference's own delta)
                        // is exactly 0: [0, 0], as in the scheme table.
                        drop_vs_clean: match family == CLEAN {
                            true => Estimate::default(),
                            false => estimate(
                                avg(&mut drop_k.iter().map(|d| d.1 - d.2), drop_k.len()),
                                paired_ci(&drop_k, seed_of("drop")),
                            ),
                        },
                        delta_vs_reference: match reference == Some(d) {
                            true => Estimate::default(),
                            false => estimate(
                                avg(&mut delta_k.iter().map(|d| d.1 - d.2), delta_k.len()),
                                paired_ci(&delta_k, seed_of("delta")),
                            ),
                        },
                    }
                })
                .collect();
            let mean = |f: &dyn Fn(&RetrievalRow) -> f64| {
                if n == 0 {
                    0.0
                } else {
                    scope.iter().map(|r| f(r)).sum::<f64>() / n as f64
                }
            };
            let mine: Vec<&SearchRecord> = searches
                .iter()
                .filter(|s| {
                    (s.scheme.as_str(), s.index.as_str(), s.shape.as_str()) == d
                        && s.family == family
                        && (s.severity == severity || (pool && family != CLEAN))
                })
                .collect();
            RetrievalCell {
                scheme: d.0.into(),
                index: d.1.into(),
                shape: d.2.into(),
                family: family.into(),
                severity,
                pooled,
                n,
                metrics,
                mean_cer: mean(&|r| r.cer),
                mean_wer: mean(&|r| r.wer),
                search: merge_searches(&mine),
            }
        })
        .collect()
}

/// One record for several searches of a deployment (pooled severities): sizes of the first, times
/// and corpus noise averaged.
fn merge_searches(records: &[&SearchRecord]) -> SearchRecord {
    let Some(first) = records.first() else {
        return SearchRecord::default();
    };
    let n = records.len() as f64;
    let avg = |f: &dyn Fn(&SearchRecord) -> f64| records.iter().map(|r| f(r)).sum::<f64>() / n;
    SearchRecord {
        severity: if records.len() == 1 { first.severity } else { 0 },
        queries: records.iter().map(|r| r.queries).sum(),
        search_ms_per_query: avg(&|r| r.search_ms_per_query),
        embed_ms_per_query: avg(&|r| r.embed_ms_per_query),
        corpus_cer: avg(&|r| r.corpus_cer),
        corpus_wer: avg(&|r| r.corpus_wer),
        ..(*first).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scheme: &str, family: &str, severity: u8, q: usize, hit: bool) -> RetrievalRow {
        let v = if hit { 1.0 } else { 0.0 };
        RetrievalRow {
            scheme: scheme.into(),
            index: "f32".into(),
            shape: "same".into(),
            family: family.into(),
            severity,
            query_id: format!("q{q}"),
            scores: QueryScores {
                recall_1: v,
                recall_5: v,
                recall_10: v,
                mrr_10: v,
                ndcg_10: v,
            },
            ..Default::default()
        }
    }

    #[test]
    fn drops_pair_with_the_same_deployments_clean_rows_and_deltas_with_the_reference() {
        let mut rows = Vec::new();
        for q in 0..20 {
            rows.push(row("f32", CLEAN, 0, q, true));
        }
        for q in 0..20 {
            rows.push(row("f32", "asr", 2, q, q < 15));
        }
        for q in 0..20 {
            rows.push(row("int8", CLEAN, 0, q, q < 18));
        }
        for q in 0..20 {
            rows.push(row("int8", "asr", 2, q, q < 10));
        }
        let searches = vec![SearchRecord {
            scheme: "int8".into(),
            index: "f32".into(),
            shape: "same".into(),
            family: "asr".into(),
            severity: 2,
            search_ms_per_query: 0.5,
            ..Default::default()
        }];
        let cells = cells(&rows, &searches, 3, false);
        assert_eq!(cells.len(), 4);
        let c = &cells[3];
        assert_eq!(
            (c.scheme.as_str(), c.family.as_str(), c.severity, c.n),
            ("int8", "asr", 2, 20)
        );
        let r5 = c.metric(Metric::Recall5).unwrap();
        assert!((r5.value.mean - 0.5).abs() < 1e-12);
        assert!((r5.drop_vs_clean.mean - 0.4).abs() < 1e-12, "int8 clean 0.9 -> 0.5");
        assert!((r5.delta_vs_reference.mean + 0.25).abs() < 1e-12, "f32 asr 0.75");
        assert!(r5.value.ci[0] < 0.5 && r5.value.ci[1] > 0.5);
        assert_eq!(c.search.search_ms_per_query, 0.5);
        let clean = &cells[0];
        assert_eq!(clean.metric(Metric::Ndcg10).unwrap().drop_vs_clean, Estimate::default());
        assert_eq!(cells, super::cells(&rows, &searches, 3, false), "seeded");
        let pooled = super::cells(&rows, &searches, 3, true);
        assert_eq!(pooled.len(), 4);
        assert!(pooled[3].pooled && !pooled[2].pooled, "clean cells are not pooled");
        assert_eq!(pooled[3].metric(Metric::Recall5).unwrap().value.mean, r5.value.mean);
    }

    #[test]
    fn pooled_severities_resample_queries_not_rows() {
        // 20 queries answered the same at five severities: the pooled cell's intervals are those
        // of 20 queries, as wide as one severity's, not of 100 independent rows.
        let mut rows: Vec<RetrievalRow> = (0..20).map(|q| row("f32", CLEAN, 0, q, true)).collect();
        for sev in 1..=5 {
            rows.extend((0..20).map(|q| row("f32", "asr", sev, q, q < 14)));
        }
        let width = |e: Estimate| e.ci[1] - e.ci[0];
        let one = super::cells(&rows, &[], 3, false);
        let pooled = super::cells(&rows, &[], 3, true);
        let (one, pooled) = (
            one[1].metric(Metric::Recall5).unwrap(),
            pooled[1].metric(Metric::Recall5).unwrap(),
        );
        assert_eq!(pooled.value.mean, one.value.mean);
        let (p, o) = (width(pooled.drop_vs_clean), width(one.drop_vs_clean));
        assert!((p - o).abs() < 0.25 * o, "pooled {p} vs one severity {o}");
    }
}
