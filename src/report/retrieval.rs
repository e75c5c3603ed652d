//! The retrieval section of a run's report: the HTML section (template `reports/retrieval.html`,
//! every value escaped by the template engine) inserted into the report page, and its part of
//! `summary.md`.

use minijinja::{context, Environment};
use serde::Serialize;

use crate::analysis::results::CLEAN;
use crate::analysis::retrieval::cells::{IndexRecord, MetricCell, RetrievalCell, RetrievalRow, SearchRecord};
use crate::analysis::retrieval::summary::RetrievalSummary;
use crate::analysis::retrieval::Metric;
use crate::corrupt::measure::{edit_segments, Segment};
use crate::error::{Error, Result};
use crate::report::numbers::{percent, signed_points};

const TEMPLATE: &str = include_str!("../../reports/retrieval.html");

/// One deployment's line of the pooled table.
#[derive(Serialize)]
struct DeploymentLine<'a> {
    scheme: &'a str,
    index: &'a str,
    shape: &'a str,
    search: SearchRecord,
    /// Scanned codes, rescoring vectors and file, in kB.
    kb: [f64; 3],
    clean: Vec<MetricCell>,
    /// Per family: recall@5 and nDCG@10 (None when the run lacks the cell).
    families: Vec<[Option<MetricCell>; 2]>,
}

/// One metric's table of deployments x (clean, family severity...).
#[derive(Serialize)]
struct MetricTable {
    metric: &'static str,
    columns: Vec<String>,
    /// Per column, the noise measured on the corpus when the run corrupted it (empty otherwise): the
    /// run's CER and WER columns are the queries'.
    corpus_noise: Vec<String>,
    rows: Vec<MetricRow>,
}

#[derive(Serialize)]
struct MetricRow {
    name: String,
    values: Vec<Option<MetricCell>>,
}

/// A corrupted query beside its clean text.
#[derive(Serialize)]
struct Example {
    family: String,
    severity: u8,
    clean: String,
    segments: Vec<Segment>,
    relevant: String,
    top_clean: String,
    top_corrupted: String,
    ndcg_clean: f64,
    ndcg_corrupted: f64,
}

/// An index as the page shows it.
#[derive(Serialize)]
struct IndexLine<'a> {
    r: &'a IndexRecord,
    count: usize,
    dim: usize,
    kb: [f64; 3],
}

/// A scheme with its weights in the page's units.
#[derive(Serialize)]
struct SchemeLine<'a> {
    name: &'a str,
    bits: f64,
    mb: f64,
}

fn kb(bytes: [u64; 3]) -> [f64; 3] {
    bytes.map(|b| b as f64 / 1e3)
}

fn metric(cell: Option<&RetrievalCell>, m: Metric) -> Option<MetricCell> {
    cell.and_then(|c| c.metric(m)).cloned()
}

fn deployments(s: &RetrievalSummary) -> Vec<DeploymentLine<'_>> {
    s.deployments()
        .into_iter()
        .map(|(scheme, index, shape)| {
            let clean = s.pooled_cell(scheme, index, shape, CLEAN);
            let search = clean.map(|c| c.search.clone()).unwrap_or_default();
            DeploymentLine {
                scheme,
                index,
                shape,
                kb: kb([
                    search.index_scan_bytes,
                    search.index_rescore_bytes,
                    search.index_file_bytes,
                ]),
                search,
                clean: Metric::ALL.iter().filter_map(|&m| metric(clean, m)).collect(),
                families: s
                    .meta
                    .families
                    .iter()
                    .map(|f| {
                        let c = s.pooled_cell(scheme, index, shape, f);
                        [metric(c, Metric::Recall5), metric(c, Metric::Ndcg10)]
                    })
                    .collect(),
            }
        })
        .collect()
}

fn metric_tables(s: &RetrievalSummary) -> Vec<MetricTable> {
    let mut conditions: Vec<(&str, u8)> = Vec::new();
    for c in s.cells.iter().filter(|c| c.family != CLEAN) {
        if !conditions.contains(&(c.family.as_str(), c.severity)) {
            conditions.push((c.family.as_str(), c.severity));
        }
    }
    let cell = |d: (&str, &str, &str), family: &str, severity: u8| {
        s.cells.iter().find(|c| {
            (c.scheme.as_str(), c.index.as_str(), c.shape.as_str()) == d && c.family == family && c.severity == severity
        })
    };
    [Metric::Recall5, Metric::Ndcg10]
        .into_iter()
        .map(|m| MetricTable {
            metric: m.name(),
            columns: conditions.iter().map(|(f, sev)| format!("{f} {sev}")).collect(),
            corpus_noise: conditions
                .iter()
                .map(|&(f, sev)| {
                    s.searches
                        .iter()
                        .find(|r| r.family == f && r.severity == sev)
                        .filter(|_| s.meta.corrupt != "queries")
                        .map_or(String::new(), |r| {
                            format!("corpus CER {:.3}, WER {:.3}", r.corpus_cer, r.corpus_wer)
                        })
                })
                .collect(),
            rows: s
                .deployments()
                .into_iter()
                .map(|d| MetricRow {
                    name: format!("{} / {} / {}", d.0, d.1, d.2),
                    values: std::iter::once(metric(cell(d, CLEAN, 0), m))
                        .chain(conditions.iter().map(|&(f, sev)| metric(cell(d, f, sev), m)))
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

fn top3(r: &RetrievalRow) -> String {
    r.retrieved
        .iter()
        .take(3)
        .map(|id| match r.relevant.get(id) {
            Some(g) if *g > 0 => format!("{id} ({g})"),
            _ => id.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The worst query of each condition, as the page shows it.
fn examples(s: &RetrievalSummary) -> Vec<Example> {
    s.examples
        .iter()
        .map(|w| {
            let (k, r) = (&w.clean, &w.corrupted);
            Example {
                family: r.family.clone(),
                severity: r.severity,
                segments: edit_segments(&k.text, &r.text),
                clean: k.text.clone(),
                relevant: r
                    .relevant
                    .iter()
                    .map(|(id, g)| format!("{id} ({g})"))
                    .collect::<Vec<_>>()
                    .join(", "),
                top_clean: top3(k),
                top_corrupted: top3(r),
                ndcg_clean: k.scores.ndcg_10,
                ndcg_corrupted: r.scores.ndcg_10,
            }
        })
        .collect()
}

/// Renders the retrieval section of the run's report page (from the summary alone, so
/// `shakedown report RUN` renders the same bytes).
pub fn render_section(s: &RetrievalSummary) -> Result<String> {
    let mut env = Environment::new();
    // Metrics in percent, changes in points with their sign (minijinja's `format` has no `+` flag).
    env.add_filter("pct", percent);
    env.add_filter("signed_pct", signed_points);
    env.add_template("retrieval.html", TEMPLATE)
        .map_err(|e| Error::Internal(format!("retrieval report template: {e}")))?;
    let tpl = env
        .get_template("retrieval.html")
        .map_err(|e| Error::Internal(format!("retrieval report template: {e}")))?;
    tpl.render(context! {
        s => s,
        corrupted_side => crate::report::numbers::corrupted_side(&s.meta.corrupt),
        deployments => deployments(s),
        metric_tables => metric_tables(s),
        examples => examples(s),
        indexes => s.indexes.iter().map(|r| IndexLine {
            r,
            count: r.stats.count,
            dim: r.stats.dim,
            kb: kb([r.stats.scan_bytes, r.stats.rescore_bytes, r.stats.file_bytes]),
        }).collect::<Vec<_>>(),
        schemes => s.meta.schemes.iter().map(|sc| SchemeLine {
            name: &sc.name,
            bits: sc.weights.bits_per_weight,
            mb: sc.weights.weight_bytes as f64 / 1e6,
        }).collect::<Vec<_>>(),
    })
    .map_err(|e| Error::Internal(format!("rendering the retrieval report: {e}")))
}

/// Markdown-safe cell text.
fn md(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

/// `summary.md`: per deployment, index size, search time, clean recall@5 and nDCG@10, and per
/// family (severities pooled) the same with the change from clean.
pub fn render_markdown(s: &RetrievalSummary) -> String {
    let mut out = format!(
        "### Shakedown retrieval: {}\n\n{} test queries, {} chunks, corruption on {}\n\n| deployment | index KB | search ms | clean R@5 | clean nDCG@10 |",
        md(&s.meta.suite),
        s.meta.queries,
        s.meta.chunks,
        md(&crate::report::numbers::corrupted_side(&s.meta.corrupt))
    );
    for f in &s.meta.families {
        out.push_str(&format!(" {0} R@5 | {0} nDCG@10 |", md(f)));
    }
    out.push_str("\n|---|---:|---:|---:|---:|");
    for _ in &s.meta.families {
        out.push_str("---:|---:|");
    }
    out.push('\n');
    let fmt = |c: Option<&RetrievalCell>, m: Metric, with_drop: bool| {
        c.and_then(|c| c.metric(m)).map_or("-".to_string(), |v| {
            if with_drop {
                format!("{} ({})", percent(v.value.mean), signed_points(-v.drop_vs_clean.mean))
            } else {
                percent(v.value.mean)
            }
        })
    };
    for (scheme, index, shape) in s.deployments() {
        let clean = s.pooled_cell(scheme, index, shape, CLEAN);
        let search = clean.map(|c| &c.search);
        out.push_str(&format!(
            "| {} / {} / {} | {:.1} | {:.3} | {} | {} |",
            md(scheme),
            md(index),
            md(shape),
            search.map_or(0.0, |r| r.index_scan_bytes as f64 / 1e3),
            search.map_or(0.0, |r| r.search_ms_per_query),
            fmt(clean, Metric::Recall5, false),
            fmt(clean, Metric::Ndcg10, false),
        ));
        for f in &s.meta.families {
            let c = s.pooled_cell(scheme, index, shape, f);
            out.push_str(&format!(
                " {} | {} |",
                fmt(c, Metric::Recall5, true),
                fmt(c, Metric::Ndcg10, true)
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\n<sub>severities pooled, (change from clean); model sha256 {}, seed {}, {}</sub>\n",
        s.meta.model_sha256.get(..12).unwrap_or(""),
        s.meta.seed,
        md(&s.meta.cpu_model)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::retrieval::summary::{build, RetrievalMeta};
    use crate::analysis::retrieval::QueryScores;

    #[test]
    fn suite_text_is_escaped_and_examples_show_the_edits() {
        let evil = "<script>alert('x')</script> \"quoted\" & more";
        let row = |family: &str, severity: u8, text: String, ndcg: f64| RetrievalRow {
            scheme: "f32".into(),
            index: "f32".into(),
            shape: "same".into(),
            family: family.into(),
            severity,
            query_id: "q1".into(),
            text,
            retrieved: vec![format!("{evil}-chunk")],
            relevant: [(format!("{evil}-chunk"), 2)].into_iter().collect(),
            scores: QueryScores {
                ndcg_10: ndcg,
                ..Default::default()
            },
            ..Default::default()
        };
        let rows = vec![
            row(CLEAN, 0, evil.into(), 1.0),
            row("asr", 2, format!("{evil}<img src=x onerror=alert(2)>"), 0.0),
        ];
        let meta = RetrievalMeta {
            suite: evil.into(),
            families: vec!["asr".into()],
            ..Default::default()
        };
        let s = build(meta, &rows, Vec::new(), Vec::new());
        let html = render_section(&s).unwrap();
        assert!(
            !html.contains("<script>alert") && !html.contains("<img"),
            "raw markup leaked"
        );
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<mark>"), "edits are marked");
        assert!(html.contains("100.0 → 0.0"), "the example's nDCG change, in percent");
        let md = render_markdown(&s);
        assert!(!md.contains("<script>") && md.contains("&lt;script&gt;"), "{md}");
    }
}
