//! A retrieval run's `summary.json`: metadata, every deployment x family x severity cell and the
//! pooled cells with intervals, the searches' sizes and times and the indexes used; `build` computes
//! it from the rows and records alone, so `shakedown report RUN` recomputes the same summary.

use serde::{Deserialize, Serialize};

use super::cells::{cells, IndexRecord, RetrievalCell, RetrievalRow, SearchRecord};
use super::Metric;
use crate::analysis::results::CLEAN;
use crate::analysis::summary::SchemeInfo;

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
        meta,
        reference,
        searches,
        indexes,
    }
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

fn value(cell: Option<&RetrievalCell>, m: Metric) -> Option<(f64, f64)> {
    let mc = cell?.metric(m)?;
    Some((mc.value.mean, mc.drop_vs_clean.mean))
}

/// A terminal table: per deployment, the index's scanned size, search time, clean recall@5 and
/// nDCG@10, and nDCG@10 per family with its severities pooled (change from clean).
pub fn render_table(s: &RetrievalSummary) -> String {
    let fams = &s.meta.families;
    let mut out = format!(
        "{:<16} {:<6} {:<10} {:>9} {:>8} {:>6} {:>7}",
        "scheme", "index", "shape", "index KB", "ms/query", "R@5", "nDCG@10"
    );
    for f in fams {
        out.push_str(&format!(" {:>16}", format!("{f} nDCG@10")));
    }
    out.push('\n');
    for (scheme, index, shape) in s.deployments() {
        let clean = s.pooled_cell(scheme, index, shape, CLEAN);
        let search = clean.map(|c| &c.search);
        out.push_str(&format!(
            "{:<16} {:<6} {:<10} {:>9.1} {:>8.3} {:>6.3} {:>7.3}",
            scheme,
            index,
            shape,
            search.map_or(0.0, |r| r.index_scan_bytes as f64 / 1e3),
            search.map_or(0.0, |r| r.search_ms_per_query),
            value(clean, Metric::Recall5).map_or(f64::NAN, |v| v.0),
            value(clean, Metric::Ndcg10).map_or(f64::NAN, |v| v.0),
        ));
        for f in fams {
            let cell = value(s.pooled_cell(scheme, index, shape, f), Metric::Ndcg10);
            out.push_str(&format!(
                " {:>16}",
                cell.map_or("-".to_string(), |(v, drop)| format!("{v:.3} ({:+.3})", -drop))
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "{} test queries, {} chunks; corruption on the {}; metrics in [0, 1], (change from clean) pooled over the \
         severities run; index KB = codes a search scans; ms/query = search time of a batch / its queries\n",
        s.meta.queries, s.meta.chunks, s.meta.corrupt
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::retrieval::QueryScores;

    #[test]
    fn the_table_has_a_row_per_deployment_with_clean_and_pooled_family_values() {
        let mut rows = Vec::new();
        for (family, severity, hit) in [(CLEAN, 0, 1.0), ("asr", 1, 1.0), ("asr", 2, 0.0)] {
            for q in 0..4 {
                rows.push(RetrievalRow {
                    scheme: "f32".into(),
                    index: "int8".into(),
                    shape: "same".into(),
                    family: family.into(),
                    severity,
                    query_id: format!("q{q}"),
                    scores: QueryScores {
                        ndcg_10: hit,
                        recall_5: hit,
                        ..Default::default()
                    },
                    ..Default::default()
                });
            }
        }
        let meta = RetrievalMeta {
            families: vec!["asr".into()],
            corrupt: "queries".into(),
            ..Default::default()
        };
        let s = build(meta, &rows, Vec::new(), Vec::new());
        assert_eq!(s.reference, "f32 / int8 index / same");
        assert_eq!((s.cells.len(), s.pooled.len()), (3, 2));
        let table = render_table(&s);
        assert!(table.contains("0.500 (-0.500)"), "{table}");
        assert!(table.contains("asr nDCG@10"), "{table}");
    }
}
