//! A retrieval run's `summary.json`: metadata, every deployment x family x severity cell and the
//! pooled cells with intervals, the searches' sizes and times and the indexes used; `build` computes
//! it from the rows and records alone, so `shakedown report RUN` recomputes the same summary.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::cells::{cells, IndexRecord, RetrievalCell, RetrievalRow, SearchRecord};
use crate::analysis::results::CLEAN;
use crate::analysis::schemes::SchemeInfo;

/// Where and how a retrieval run was made.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrievalMeta {
    /// Always `retrieve`: tells a retrieval summary from a classification one.
    pub task: String,
    pub tool_version: String,
    pub git_revision: String,
    pub suite: String,
    pub suite_dir: String,
    pub model: String,
    pub model_sha256: String,
    pub seed: u64,
    pub threads: usize,
    pub limit: Option<usize>,
    /// `--sample`: a seeded random sample of this many examples (absent in runs before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<usize>,
    /// Test queries and corpus chunks.
    pub queries: usize,
    pub chunks: usize,
    pub corruptions: String,
    pub families: Vec<String>,
    /// `queries`, `corpus` or `both`.
    pub corrupt: String,
    /// Chunks retrieved per query.
    pub depth: usize,
    pub cpu_model: String,
    pub cpu_features: Vec<String>,
    pub kernels: String,
    pub schemes: Vec<SchemeInfo>,
    pub index_dir: String,
    /// Wall time of the whole run, and the part spent embedding the corpus and writing, verifying
    /// and opening indexes.
    pub wall_seconds: f64,
    pub index_seconds: f64,
    /// SHA-256 of the rows `retrieval.parquet` holds (`run::consistency::digest`), which `report`
    /// recomputes this section from: another run's table is refused rather than reported as this
    /// run (absent in directories written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_sha256: Option<String>,
}

/// The whole `summary.json` of a retrieval run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrievalSummary {
    pub meta: RetrievalMeta,
    /// The deployment every delta is measured against (the first: f32 queries, f32 index, same).
    pub reference: String,
    /// Every deployment x family x severity (clean included).
    pub cells: Vec<RetrievalCell>,
    /// Clean and every family with its severities pooled, per deployment.
    pub pooled: Vec<RetrievalCell>,
    pub searches: Vec<SearchRecord>,
    pub indexes: Vec<IndexRecord>,
    /// Per corrupted condition of the reference deployment, the query that lost the most nDCG@10.
    #[serde(default)]
    pub examples: Vec<WorstQuery>,
}

/// A query beside its clean self: what the report shows of a condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorstQuery {
    pub clean: RetrievalRow,
    pub corrupted: RetrievalRow,
}

/// Computes the summary from the run's rows and records.
pub fn build(
    meta: RetrievalMeta,
    rows: &[RetrievalRow],
    searches: Vec<SearchRecord>,
    indexes: Vec<IndexRecord>,
) -> RetrievalSummary {
    let reference = rows
        .first()
        .map(|r| format!("{} / {} index / {}", r.scheme, r.index, r.shape))
        .unwrap_or_default();
    RetrievalSummary {
        cells: cells(rows, &searches, meta.seed, false),
        pooled: cells(rows, &searches, meta.seed, true),
        examples: worst_queries(rows),
        meta,
        reference,
        searches,
        indexes,
    }
}

/// Per family x severity of the reference deployment (the first row's), the query whose nDCG@10
/// fell most from its clean run (ties: the smallest query id).
fn worst_queries(rows: &[RetrievalRow]) -> Vec<WorstQuery> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let reference: Vec<&RetrievalRow> = rows
        .iter()
        .filter(|r| (&r.scheme, &r.index, &r.shape) == (&first.scheme, &first.index, &first.shape))
        .collect();
    let clean: HashMap<&str, &RetrievalRow> = reference
        .iter()
        .filter(|r| r.family == CLEAN)
        .map(|r| (r.query_id.as_str(), *r))
        .collect();
    let mut conditions: Vec<(&str, u8)> = Vec::new();
    for r in reference.iter().filter(|r| r.family != CLEAN) {
        if !conditions.contains(&(r.family.as_str(), r.severity)) {
            conditions.push((r.family.as_str(), r.severity));
        }
    }
    conditions
        .into_iter()
        .filter_map(|(family, severity)| {
            reference
                .iter()
                .filter(|r| r.family == family && r.severity == severity)
                .filter_map(|r| clean.get(r.query_id.as_str()).map(|k| (*r, *k)))
                .max_by(|(a, ka), (b, kb)| {
                    (ka.scores.ndcg_10 - a.scores.ndcg_10)
                        .total_cmp(&(kb.scores.ndcg_10 - b.scores.ndcg_10))
                        .then(b.query_id.cmp(&a.query_id))
                })
                .map(|(r, k)| WorstQuery {
                    clean: k.clone(),
                    corrupted: r.clone(),
                })
        })
        .collect()
}

impl RetrievalSummary {
    /// The pooled (or clean) cell of a deployment and family.
    pub fn pooled_cell(&self, scheme: &str, index: &str, shape: &str, family: &str) -> Option<&RetrievalCell> {
        self.pooled
            .iter()
            .find(|c| c.scheme == scheme && c.index == index && c.shape == shape && c.family == family)
    }

    /// The deployments in run order.
    pub fn deployments(&self) -> Vec<(&str, &str, &str)> {
        let mut out: Vec<(&str, &str, &str)> = Vec::new();
        for c in &self.pooled {
            let d = (c.scheme.as_str(), c.index.as_str(), c.shape.as_str());
            if !out.contains(&d) {
                out.push(d);
            }
        }
        out
    }
}
