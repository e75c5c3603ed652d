//! Retrieval metrics as BEIR and MTEB report them: recall@1/5/10, MRR@10 and nDCG@10 per query,
//! averaged over queries, computed exactly as `pytrec_eval` (trec_eval 9.0.8) computes them, with
//! seeded bootstrap intervals for means and paired differences.
//!
//! trec_eval's rules, followed here (sources: trec_eval `form_res_rels.c`, `m_recall.c`,
//! `m_recip_rank.c`, `m_ndcg_cut.c`; BEIR `EvaluateRetrieval.evaluate` averages pytrec_eval's
//! per-query values over the queries it returns):
//! - A run is re-sorted by score, highest first, **ties broken by document id in descending byte
//!   order** (`strcmp(p2->docno, p1->docno)`); the order the retriever returned is ignored.
//! - A document is relevant when its grade is >= 1 (`relevance_level` 1); grade 0 is judged
//!   non-relevant; a document without a judgment is non-relevant.
//! - recall@k = relevant documents in the first k / relevant documents judged; 0 when the query
//!   has none (`m_recall.c` leaves the value at 0).
//! - MRR@10: BEIR computes it itself; we take trec_eval's `recip_rank` (1 / rank of the first
//!   relevant document, 0 when none) over the first 10 documents of the sorted run, which equals
//!   `recip_rank` on the run cut to its top 10.
//! - nDCG@10 (`ndcg_cut.10`): gains are the grades themselves (linear, **not** 2^grade - 1), the
//!   document at rank r (from 1) is discounted by log2(r + 1); the ideal DCG sorts every judged
//!   grade >= 1 descending and cuts it at 10; a query with an ideal DCG of 0 scores 0.
//! - Averages: a query without any judgment is not evaluated (pytrec_eval leaves it out of its
//!   results); a query whose judgments are all grade 0 is evaluated and scores 0 everywhere.
//!
//! Checked against pytrec_eval on `tests/fixtures/retrieval_metrics.json`
//! (`scripts/golden/make_retrieval_metrics.py`) to 1e-9.

pub mod cells;
pub mod summary;
pub mod table;

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::analysis::stats;
use crate::error::{Error, Result};

/// Relevance judgments of one query: document id -> grade (0 = judged not relevant).
pub type Judgments = BTreeMap<String, u32>;

/// The metrics reported per query and per scope, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Metric {
    #[serde(rename = "recall@1")]
    Recall1,
    #[serde(rename = "recall@5")]
    Recall5,
    #[serde(rename = "recall@10")]
    Recall10,
    #[serde(rename = "mrr@10")]
    Mrr10,
    #[serde(rename = "ndcg@10")]
    Ndcg10,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::Recall1,
        Metric::Recall5,
        Metric::Recall10,
        Metric::Mrr10,
        Metric::Ndcg10,
    ];

    /// The name in tables and files (`recall@5`, `ndcg@10`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Recall1 => "recall@1",
            Metric::Recall5 => "recall@5",
            Metric::Recall10 => "recall@10",
            Metric::Mrr10 => "mrr@10",
            Metric::Ndcg10 => "ndcg@10",
        }
    }
}

/// The ranks a run needs to be scored at all five metrics.
pub const DEPTH: usize = 10;

/// One query's metric values, each in [0, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryScores {
    pub recall_1: f64,
    pub recall_5: f64,
    pub recall_10: f64,
    pub mrr_10: f64,
    pub ndcg_10: f64,
}

impl QueryScores {
    pub fn get(&self, m: Metric) -> f64 {
        match m {
            Metric::Recall1 => self.recall_1,
            Metric::Recall5 => self.recall_5,
            Metric::Recall10 => self.recall_10,
            Metric::Mrr10 => self.mrr_10,
            Metric::Ndcg10 => self.ndcg_10,
        }
    }
}

/// Orders a run as trec_eval does: score descending, ties by id in descending byte order.
pub fn trec_order(a: &(&str, f64), b: &(&str, f64)) -> Ordering {
    b.1.total_cmp(&a.1).then_with(|| b.0.cmp(a.0))
}

/// Scores one query's run (`(document id, score)` in any order) against its judgments.
/// Returns `None` when the query has no judgment at all (pytrec_eval does not evaluate it), and an
/// error when a document appears twice in the run (trec_eval refuses such a run).
pub fn score_query(run: &[(&str, f64)], judgments: &Judgments) -> Result<Option<QueryScores>> {
    if judgments.is_empty() {
        return Ok(None);
    }
    let mut seen = HashSet::with_capacity(run.len());
    if let Some((dup, _)) = run.iter().find(|(id, _)| !seen.insert(*id)) {
        return Err(Error::Internal(format!("retrieval run lists document \"{dup}\" twice")));
    }
    let mut sorted = run.to_vec();
    sorted.sort_by(trec_order);
    let grades: Vec<u32> = sorted
        .iter()
        .take(DEPTH)
        .map(|(id, _)| judgments.get(*id).copied().unwrap_or(0))
        .collect();
    let num_rel = judgments.values().filter(|&&g| g >= 1).count();
    let recall = |k: usize| {
        if num_rel == 0 {
            0.0
        } else {
            grades.iter().take(k).filter(|&&g| g >= 1).count() as f64 / num_rel as f64
        }
    };
    let mrr_10 = grades
        .iter()
        .position(|&g| g >= 1)
        .map_or(0.0, |i| 1.0 / (i + 1) as f64);
    let dcg = |gains: &mut dyn Iterator<Item = u32>| -> f64 {
        gains
            .take(DEPTH)
            .enumerate()
            .filter(|(_, g)| *g > 0)
            .map(|(i, g)| g as f64 / ((i + 2) as f64).log2())
            .sum()
    };
    let mut ideal: Vec<u32> = judgments.values().copied().filter(|&g| g >= 1).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg = dcg(&mut ideal.into_iter());
    let ndcg_10 = if idcg > 0.0 {
        dcg(&mut grades.iter().copied()) / idcg
    } else {
        0.0
    };
    Ok(Some(QueryScores {
        recall_1: recall(1),
        recall_5: recall(5),
        recall_10: recall(10),
        mrr_10,
        ndcg_10,
    }))
}

/// Mean of a metric over queries with its 95% bootstrap interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci: [f64; 2],
}

/// The mean of per-query `values` in [0, 1] with its 95% interval, by the rule every table of a run
/// uses (`stats::mean_interval`: Wilson's for 0/1 values, else the seeded bootstrap), so a scheme's
/// own deployment reads the same in the scheme table and the deployments table. An empty slice
/// gives a mean of 0 and the interval [0, 0].
pub fn mean_estimate(values: &[f64], seed: u64) -> Estimate {
    estimate(values, |v| stats::mean_interval(v, seed))
}

/// The mean of `values` with a 95% percentile bootstrap interval (`stats::bootstrap_mean`). An
/// empty slice gives a mean of 0 and the interval [0, 0].
pub fn bootstrap_mean(values: &[f64], seed: u64) -> Estimate {
    estimate(values, |v| stats::bootstrap_mean(v, seed))
}

fn estimate(values: &[f64], interval: impl FnOnce(&[f64]) -> (f64, f64)) -> Estimate {
    if values.is_empty() {
        return Estimate::default();
    }
    let (lo, hi) = interval(values);
    Estimate {
        mean: values.iter().sum::<f64>() / values.len() as f64,
        ci: [lo, hi],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pairs: &[(&str, u32)]) -> Judgments {
        pairs.iter().map(|(d, g)| (d.to_string(), *g)).collect()
    }

    #[test]
    fn ties_are_broken_by_descending_id_and_gains_are_linear() {
        // Same case as pytrec_eval: d9, d3, d2 all at 0.5 -> order d9, d3, d2.
        let s = score_query(
            &[("d3", 0.5), ("d2", 0.5), ("d9", 0.5)],
            &judged(&[("d2", 2), ("d3", 1)]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.mrr_10, 0.5);
        assert_eq!((s.recall_1, s.recall_5), (0.0, 1.0));
        let dcg = 1.0 / 3f64.log2() + 2.0 / 4f64.log2();
        let idcg = 2.0 + 1.0 / 3f64.log2();
        assert!((s.ndcg_10 - dcg / idcg).abs() < 1e-15, "{}", s.ndcg_10);
        assert!((s.ndcg_10 - 0.6199062332840657).abs() < 1e-12, "pytrec_eval's value");
    }

    #[test]
    fn queries_without_judgments_are_skipped_and_all_zero_judgments_score_zero() {
        assert_eq!(score_query(&[("d1", 1.0)], &Judgments::new()).unwrap(), None);
        let zero = score_query(&[("d1", 1.0)], &judged(&[("d1", 0)])).unwrap().unwrap();
        assert_eq!(zero, QueryScores::default());
    }

    #[test]
    fn cutoffs_ignore_documents_below_rank_ten() {
        let run: Vec<(String, f64)> = (0..12).map(|i| (format!("d{i:02}"), 1.0 - i as f64 / 100.0)).collect();
        let run: Vec<(&str, f64)> = run.iter().map(|(d, s)| (d.as_str(), *s)).collect();
        let s = score_query(&run, &judged(&[("d11", 1)])).unwrap().unwrap();
        assert_eq!(s, QueryScores::default());
        let s = score_query(&run, &judged(&[("d09", 1), ("d10", 3)])).unwrap().unwrap();
        assert_eq!((s.recall_10, s.mrr_10), (0.5, 0.1));
        let expect = (1.0 / 11f64.log2()) / (3.0 + 1.0 / 3f64.log2());
        assert!((s.ndcg_10 - expect).abs() < 1e-15);
    }

    /// pytrec_eval's per-query values and means on the committed fixture.
    #[test]
    fn agrees_with_pytrec_eval_on_the_fixture() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/retrieval_metrics.json")).unwrap();
        let qrels = fixture["qrels"].as_object().unwrap();
        let mut all = Vec::new();
        let mut evaluated = 0;
        for (qid, docs) in fixture["run"].as_object().unwrap() {
            let run: Vec<(&str, f64)> = docs
                .as_object()
                .unwrap()
                .iter()
                .map(|(d, s)| (d.as_str(), s.as_f64().unwrap()))
                .collect();
            let judgments: Judgments = qrels[qid]
                .as_object()
                .unwrap()
                .iter()
                .map(|(d, g)| (d.clone(), g.as_u64().unwrap() as u32))
                .collect();
            let expected = &fixture["per_query"][qid];
            match score_query(&run, &judgments).unwrap() {
                None => assert!(expected.is_null(), "{qid}: pytrec_eval evaluated it"),
                Some(s) => {
                    evaluated += 1;
                    for m in Metric::ALL {
                        let want = expected[m.name()].as_f64().unwrap();
                        assert!(
                            (s.get(m) - want).abs() < 1e-9,
                            "{qid} {}: {} vs {want}",
                            m.name(),
                            s.get(m)
                        );
                    }
                    all.push(s);
                }
            }
        }
        assert_eq!(evaluated, fixture["per_query"].as_object().unwrap().len());
        for m in Metric::ALL {
            let e = mean_estimate(&all.iter().map(|s| s.get(m)).collect::<Vec<f64>>(), 1);
            let want = fixture["mean"][m.name()].as_f64().unwrap();
            assert!((e.mean - want).abs() < 1e-9, "mean {}: {} vs {want}", m.name(), e.mean);
        }
    }

    #[test]
    fn a_duplicate_document_is_refused() {
        assert!(score_query(&[("d1", 1.0), ("d1", 0.5)], &judged(&[("d1", 1)])).is_err());
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_mean() {
        let values: Vec<f64> = (0..200).map(|i| (i % 4) as f64 / 3.0).collect();
        let e = bootstrap_mean(&values, 7);
        assert!(e.ci[0] < e.mean && e.mean < e.ci[1], "{e:?}");
        assert_eq!(bootstrap_mean(&values, 7), e);
        assert_eq!(bootstrap_mean(&[], 7), Estimate::default());
    }
}
