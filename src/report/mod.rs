//! The outputs people and CI read: the self-contained HTML report (template in `reports/report.html`,
//! compiled in; charts as inline SVG), `junit.xml` and `summary.md`. Suite text is untrusted: the
//! template engine escapes every value; only our own SVG is inserted raw.

pub mod charts;
pub mod junit;
pub mod markdown;
pub mod retrieval;

use std::collections::HashMap;

use minijinja::{context, Environment};
use serde::Serialize;

use crate::analysis::results::{EvalRow, CLEAN};
use crate::analysis::summary::Summary;
use crate::corrupt::measure::{edit_segments, Segment};
use crate::error::{Error, Result};
use crate::eval::sustain::Window;

const TEMPLATE: &str = include_str!("../../reports/report.html");

/// Flipped examples shown at most.
const MAX_FLIPS: usize = 60;

/// One scheme's predictions on the clean and the corrupted text.
#[derive(Serialize)]
struct Prediction {
    scheme: String,
    clean: String,
    corrupted: String,
    correct: bool,
    flipped: bool,
}

/// A corrupted example with the clean text beside it and the edits marked.
#[derive(Serialize)]
struct Example {
    family: String,
    severity: u8,
    label: String,
    clean: String,
    segments: Vec<Segment>,
    cer: f64,
    wer: f64,
    predictions: Vec<Prediction>,
}

/// Every corrupted variant with all schemes' predictions: (family, severity, id) -> rows in scheme order.
fn variants<'a>(rows: &'a [EvalRow], schemes: &[String]) -> Vec<Vec<&'a EvalRow>> {
    let mut order: Vec<(&str, u8, &str)> = Vec::new();
    let mut by_key: HashMap<(&str, u8, &str), Vec<&EvalRow>> = HashMap::new();
    for r in rows.iter().filter(|r| r.family != CLEAN) {
        let key = (r.family.as_str(), r.severity, r.example_id.as_str());
        let entry = by_key.entry(key).or_default();
        if entry.is_empty() {
            order.push(key);
        }
        entry.push(r);
    }
    order
        .into_iter()
        .filter_map(|k| by_key.remove(&k))
        .map(|mut v| {
            v.sort_by_key(|r| schemes.iter().position(|s| *s == r.scheme));
            v
        })
        .collect()
}

fn example(variant: &[&EvalRow], clean: &HashMap<(&str, &str), &EvalRow>) -> Option<Example> {
    let first = variant.first()?;
    let clean_text = clean
        .get(&(first.scheme.as_str(), first.example_id.as_str()))
        .map(|r| r.text.clone())
        .unwrap_or_default();
    Some(Example {
        family: first.family.clone(),
        severity: first.severity,
        label: first.label.clone(),
        segments: edit_segments(&clean_text, &first.text),
        clean: clean_text,
        cer: first.cer,
        wer: first.wer,
        predictions: variant
            .iter()
            .map(|r| {
                let before = clean
                    .get(&(r.scheme.as_str(), r.example_id.as_str()))
                    .map(|c| c.prediction.clone())
                    .unwrap_or_default();
                Prediction {
                    scheme: r.scheme.clone(),
                    flipped: before != r.prediction,
                    clean: before,
                    corrupted: r.prediction.clone(),
                    correct: r.correct,
                }
            })
            .collect(),
    })
}

/// (per family x severity: one example, preferring one the noise flipped; flipped examples, at most MAX_FLIPS)
fn examples(rows: &[EvalRow], schemes: &[String]) -> (Vec<Example>, Vec<Example>, usize) {
    let clean: HashMap<(&str, &str), &EvalRow> = rows
        .iter()
        .filter(|r| r.family == CLEAN)
        .map(|r| ((r.scheme.as_str(), r.example_id.as_str()), r))
        .collect();
    let all = variants(rows, schemes);
    let flipped_of = |v: &Vec<&EvalRow>| {
        v.iter().any(|r| {
            clean
                .get(&(r.scheme.as_str(), r.example_id.as_str()))
                .is_some_and(|c| c.prediction != r.prediction)
        })
    };
    let mut per_cell: Vec<Example> = Vec::new();
    let mut cells: Vec<(String, u8)> = Vec::new();
    for v in &all {
        let key = (v[0].family.clone(), v[0].severity);
        if !cells.contains(&key) {
            cells.push(key);
        }
    }
    for (family, severity) in cells {
        let in_cell: Vec<&Vec<&EvalRow>> = all
            .iter()
            .filter(|v| v[0].family == family && v[0].severity == severity)
            .collect();
        let pick = in_cell
            .iter()
            .find(|v| flipped_of(v))
            .or_else(|| in_cell.iter().find(|v| v[0].cer > 0.0))
            .or(in_cell.first());
        if let Some(e) = pick.and_then(|v| example(v, &clean)) {
            per_cell.push(e);
        }
    }
    let flipped: Vec<&Vec<&EvalRow>> = all.iter().filter(|v| flipped_of(v)).collect();
    let total = flipped.len();
    let shown = flipped
        .into_iter()
        .take(MAX_FLIPS)
        .filter_map(|v| example(v, &clean))
        .collect();
    (per_cell, shown, total)
}

/// Renders the report page.
pub fn render_html(summary: &Summary, rows: &[EvalRow], windows: &[Window]) -> Result<String> {
    let schemes = summary.meta.scheme_names();
    let (per_cell, flipped, flipped_total) = examples(rows, &schemes);
    let safe = minijinja::Value::from_safe_string;
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| Error::Internal(format!("report template: {e}")))?;
    let tpl = env
        .get_template("report.html")
        .map_err(|e| Error::Internal(format!("report template: {e}")))?;
    tpl.render(context! {
        summary => summary,
        accuracy_svg => safe(charts::accuracy_by_severity(summary)?),
        heatmap_svg => safe(charts::drop_heatmap(summary)?),
        throughput_svg => charts::throughput_over_time(summary, windows)?.map(safe),
        examples => per_cell,
        flipped => flipped,
        flipped_total => flipped_total,
        max_flips => MAX_FLIPS,
    })
    .map_err(|e| Error::Internal(format!("rendering report: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::{build, RunMeta, SchemeInfo};

    #[test]
    fn suite_text_is_escaped() {
        let evil = "<script>alert('x')</script> \"quoted\" & more";
        let rows = vec![
            EvalRow {
                scheme: "f32".into(),
                example_id: "1".into(),
                family: CLEAN.into(),
                label: evil.into(),
                prediction: evil.into(),
                correct: true,
                text: evil.into(),
                ..Default::default()
            },
            EvalRow {
                scheme: "f32".into(),
                example_id: "1".into(),
                family: "typo".into(),
                severity: 1,
                label: evil.into(),
                prediction: "x".into(),
                cer: 0.1,
                text: format!("{evil}<img src=x onerror=alert(2)>"),
                ..Default::default()
            },
        ];
        let meta = RunMeta {
            suite: evil.into(),
            schemes: vec![SchemeInfo {
                name: "f32".into(),
                ..Default::default()
            }],
            families: vec!["typo".into()],
            ..Default::default()
        };
        let summary = build(meta, &rows, &[]);
        let html = render_html(&summary, &rows, &[]).unwrap();
        assert!(!html.contains("<script>alert"), "raw script tag leaked");
        assert!(!html.contains("<img"), "raw img tag leaked");
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("\"quoted\""));
        assert!(html.contains("<svg"));
        assert!(html.contains("<mark>"), "edits are highlighted");
    }
}
