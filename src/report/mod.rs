//! The self-contained HTML report: template in `reports/report.html` (compiled in), charts as inline SVG.
//! Suite text is untrusted: the template engine escapes every value; only our own SVG is inserted raw.

pub mod charts;

use minijinja::{context, Environment};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::results::{EvalRow, CLEAN};
use crate::summary::Summary;

const TEMPLATE: &str = include_str!("../../reports/report.html");

/// One corrupted example shown side by side with its clean text.
#[derive(Serialize)]
struct Example {
    family: String,
    severity: u8,
    label: String,
    clean: String,
    corrupted: String,
    cer: f64,
    predictions: Vec<(String, String, bool)>,
}

/// Picks, per family and severity, the first example whose prediction flipped under some scheme
/// (or the first example when none flipped), with every scheme's prediction.
fn examples(rows: &[EvalRow], schemes: &[String]) -> Vec<Example> {
    let clean_text = |id: &str| {
        rows.iter()
            .find(|r| r.family == CLEAN && r.example_id == id)
            .map(|r| r.text.clone())
            .unwrap_or_default()
    };
    let first = schemes.first().cloned().unwrap_or_default();
    let mut out = Vec::new();
    let mut cells: Vec<(String, u8)> = Vec::new();
    for r in rows.iter().filter(|r| r.family != CLEAN && r.scheme == first) {
        if !cells.contains(&(r.family.clone(), r.severity)) {
            cells.push((r.family.clone(), r.severity));
        }
    }
    for (family, severity) in cells {
        let in_cell: Vec<&EvalRow> = rows
            .iter()
            .filter(|r| r.family == family && r.severity == severity)
            .collect();
        let pick = in_cell
            .iter()
            .find(|r| !r.correct && r.cer > 0.0)
            .or_else(|| in_cell.iter().find(|r| r.cer > 0.0))
            .or(in_cell.first());
        let Some(pick) = pick else { continue };
        let predictions = schemes
            .iter()
            .filter_map(|s| {
                in_cell
                    .iter()
                    .find(|r| &r.scheme == s && r.example_id == pick.example_id)
                    .map(|r| (s.clone(), r.prediction.clone(), r.correct))
            })
            .collect();
        out.push(Example {
            family,
            severity,
            label: pick.label.clone(),
            clean: clean_text(&pick.example_id),
            corrupted: pick.text.clone(),
            cer: pick.cer,
            predictions,
        });
    }
    out
}

/// Renders the report page.
pub fn render_html(summary: &Summary, rows: &[EvalRow]) -> Result<String> {
    let chart = charts::accuracy_by_severity(summary)?;
    let schemes: Vec<String> = summary.schemes.iter().map(|s| s.scheme.clone()).collect();
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| Error::Internal(format!("report template: {e}")))?;
    let tpl = env
        .get_template("report.html")
        .map_err(|e| Error::Internal(format!("report template: {e}")))?;
    tpl.render(context! {
        summary => summary,
        chart_svg => minijinja::Value::from_safe_string(chart),
        examples => examples(rows, &schemes),
    })
    .map_err(|e| Error::Internal(format!("rendering report: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Verdict;
    use crate::summary::{summarize_scheme, RunMeta, WeightStats};

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
                text: format!("{evil}!"),
                ..Default::default()
            },
        ];
        let summary = Summary {
            meta: RunMeta {
                suite: evil.into(),
                ..Default::default()
            },
            schemes: vec![summarize_scheme(&rows, "f32", WeightStats::default())],
            gate: Verdict {
                passed: true,
                checks: vec![],
            },
        };
        let html = render_html(&summary, &rows).unwrap();
        assert!(!html.contains("<script>alert"), "raw script tag leaked");
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("\"quoted\""));
        assert!(html.contains("<svg"));
    }
}
