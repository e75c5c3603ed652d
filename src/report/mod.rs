//! The outputs people and CI read: the self-contained HTML report (template in `reports/report.html`,
//! compiled in; charts as inline SVG), `junit.xml` and `summary.md`. Suite text is untrusted: the
//! template engine escapes every value; only our own SVG is inserted raw.
//!
//! The report answers "which scheme?": it opens with the per-scheme verdicts and the recommendation,
//! then shows what each scheme's quantization adds to the noise's damage against the reference
//! scheme, then the details.

pub mod charts;
pub mod examples;
pub mod junit;
pub mod markdown;
pub mod numbers;
pub mod retrieval;

use minijinja::{context, Environment};
use serde::Serialize;

use crate::analysis::gate::{round2, Check, SchemeVerdict, Status, Verdict};
use crate::analysis::metrics::Cell;
use crate::analysis::results::EvalRow;
use crate::analysis::summary::{Memory, Summary};
use crate::error::{Error, Result};
use crate::eval::sustain::{Window, NOISY_STABILITY};

const TEMPLATE: &str = include_str!("../../reports/report.html");

/// Says what "unsettled" means wherever a verdict counts such checks.
pub const UNSETTLED_LEGEND: &str = "unsettled: checks whose 95% interval crosses their bound, so the sample cannot \
     tell a pass from a fail (a rule with on = \"settled\" fails them)";

/// One line of the verdict table.
#[derive(Serialize)]
pub struct VerdictRow {
    pub scheme: String,
    /// "pass", "fail", or "not gated" (shards, sustain runs).
    pub verdict: String,
    pub failing: Vec<String>,
    pub skipped: usize,
    /// Its checks whose interval crosses their bound (`Check::unsettled`).
    pub unsettled: usize,
    /// The verdict as people read it: "pass (2 unsettled)" (`SchemeVerdict::describe`), "not gated".
    pub verdict_text: String,
    /// None for a scheme the run did not build (a shard's scheme whose work is all in other shards).
    pub bits_per_weight: Option<f64>,
    pub weight_mb: Option<f64>,
    /// A decoder's output head format.
    pub head: Option<String>,
    pub sustained: Option<f64>,
    pub noisy: bool,
    pub peak_rss_mb: Option<f64>,
    /// `Memory::serving_bytes` in MB.
    pub serving_mb: Option<f64>,
}

/// The verdict table's rows, in run order.
pub fn verdict_rows(summary: &Summary, gate: Option<&Verdict>) -> Vec<VerdictRow> {
    summary
        .schemes
        .iter()
        .map(|s| {
            let judged = gate.and_then(|g| g.schemes.iter().find(|v| v.scheme == s.scheme));
            let verdict = judged.map_or("not gated", |v| if v.passed { "pass" } else { "fail" });
            let mine = |status: Status| {
                gate.into_iter()
                    .flat_map(|g| g.checks.iter())
                    .filter(move |c| c.scheme == s.scheme && c.status == status)
            };
            VerdictRow {
                scheme: s.scheme.clone(),
                verdict: verdict.into(),
                failing: mine(Status::Fail).map(Check::line).collect(),
                skipped: mine(Status::Skip).count(),
                unsettled: judged.map_or(0, |v| v.unsettled),
                verdict_text: judged.map_or("not gated".to_string(), SchemeVerdict::describe),
                bits_per_weight: s.weights.built().then_some(s.weights.bits_per_weight),
                weight_mb: s.weights.built().then(|| s.weights.shipped_bytes() as f64 / 1e6),
                head: s.weights.head.clone(),
                sustained: s.throughput.as_ref().map(|t| t.sustained_items_per_s),
                noisy: s.throughput.as_ref().is_some_and(|t| t.noisy),
                peak_rss_mb: s.memory.as_ref().and_then(|m| m.peak_rss_bytes).map(|b| b as f64 / 1e6),
                serving_mb: s
                    .memory
                    .as_ref()
                    .and_then(Memory::serving_bytes)
                    .map(|b| b as f64 / 1e6),
            }
        })
        .collect()
}

/// One scheme against the reference, for the "what quantization adds" section: a row per severity
/// (clean, each level, all pooled), a cell per family.
#[derive(Serialize)]
struct VsReference<'a> {
    scheme: &'a str,
    clean: &'a Cell,
    /// (severity label, one cell per family of the run, None where the family lacks that level).
    rows: Vec<(String, Vec<Option<&'a Cell>>)>,
}

fn vs_reference<'a>(s: &'a crate::analysis::summary::SchemeSummary) -> VsReference<'a> {
    let mut levels: Vec<u8> = s
        .families
        .iter()
        .flat_map(|f| f.severities.iter().map(|c| c.severity_lo))
        .collect();
    levels.sort_unstable();
    levels.dedup();
    let mut rows: Vec<(String, Vec<Option<&Cell>>)> = levels
        .iter()
        .map(|&l| {
            let cells = s
                .families
                .iter()
                .map(|f| f.severities.iter().find(|c| c.severity_lo == l))
                .collect();
            (l.to_string(), cells)
        })
        .collect();
    rows.push(("all".into(), s.families.iter().map(|f| Some(&f.pooled)).collect()));
    VsReference {
        scheme: &s.scheme,
        clean: &s.clean,
        rows,
    }
}

/// Renders the report page.
pub fn render_html(summary: &Summary, gate: Option<&Verdict>, rows: &[EvalRow], windows: &[Window]) -> Result<String> {
    let schemes = summary.meta.scheme_names();
    let shown = examples::choose(rows, &schemes, summary.meta.seed);
    let vs_reference: Vec<VsReference> = summary
        .schemes
        .iter()
        .filter(|s| s.scheme != summary.reference)
        .map(vs_reference)
        .collect();
    let safe = minijinja::Value::from_safe_string;
    let mut env = Environment::new();
    env.add_filter("round2", |x: f64| round2(x));
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| Error::Internal(format!("report template: {e}")))?;
    let tpl = env
        .get_template("report.html")
        .map_err(|e| Error::Internal(format!("report template: {e}")))?;
    let accuracy_svgs: Vec<String> = if summary.meta.sustain_only {
        Vec::new()
    } else {
        charts::metric_by_severity(summary)?
    };
    let retrieval = match &summary.retrieval {
        Some(r) => Some(safe(retrieval::render_section(r)?)),
        None => None,
    };
    tpl.render(context! {
        retrieval => retrieval,
        summary => summary,
        warnings => summary.warnings(),
        gate => gate,
        primary => summary.primary(),
        mcnemar => crate::analysis::metrics::mcnemar_legend(summary.primary()),
        measures => &summary.meta.task.measures,
        verdicts => verdict_rows(summary, gate),
        failing => gate.map(|g| g.failing().map(Check::line).collect::<Vec<_>>()).unwrap_or_default(),
        vs_reference => vs_reference,
        accuracy_svgs => accuracy_svgs.into_iter().map(safe).collect::<Vec<_>>(),
        heatmap => charts::drop_heatmap(summary),
        throughput_svg => charts::throughput_over_time(summary, windows)?.map(safe),
        noisy_threshold => NOISY_STABILITY,
        unsettled_legend => UNSETTLED_LEGEND,
        subset_note => summary.meta.subset_note(),
        shown => shown,
        max_flips => examples::MAX_FLIPS,
        max_disagreements => examples::MAX_DISAGREEMENTS,
    })
    .map_err(|e| Error::Internal(format!("rendering report: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::results::CLEAN;
    use crate::analysis::summary::{build, RunMeta, SchemeInfo, TaskInfo};

    /// A run of scheme f32 under the typo family, scored by accuracy.
    fn f32_typo_accuracy() -> RunMeta {
        RunMeta {
            schemes: vec![SchemeInfo {
                name: "f32".into(),
                ..Default::default()
            }],
            families: vec!["typo".into()],
            task: TaskInfo {
                measures: vec!["accuracy".into()],
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn suite_text_is_escaped() {
        let evil = "<script>alert('x')</script> \"quoted\" & more";
        let rows = vec![
            EvalRow {
                scheme: "f32".into(),
                example_id: "1".into(),
                family: CLEAN.into(),
                expected: evil.into(),
                prediction: evil.into(),
                correct: true,
                measures: vec![1.0],
                text: evil.into(),
                ..Default::default()
            },
            EvalRow {
                scheme: "f32".into(),
                example_id: "1".into(),
                family: "typo".into(),
                severity: 1,
                expected: evil.into(),
                prediction: "x".into(),
                raw_output: Some(format!("{evil}<iframe>")),
                measures: vec![0.0],
                cer: 0.1,
                text: format!("{evil}<img src=x onerror=alert(2)>"),
                ..Default::default()
            },
        ];
        let plain = f32_typo_accuracy();
        let meta = RunMeta {
            suite: evil.into(),
            task: TaskInfo {
                method: evil.into(),
                ..plain.task.clone()
            },
            ..plain
        };
        let summary = build(meta, &rows, &[]);
        let html = render_html(&summary, None, &rows, &[]).unwrap();
        assert!(!html.contains("<script>alert"), "raw script tag leaked");
        assert!(!html.contains("<img") && !html.contains("<iframe"), "raw tags leaked");
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("\"quoted\""));
        assert!(html.contains("<svg"));
        assert!(html.contains("<mark>"), "edits are highlighted");
    }

    /// A drop without an interval (a summary written before intervals, or merged without one) shows
    /// the drop alone, never a made-up `[0.0, 0.0]`.
    #[test]
    fn the_heatmap_prints_an_interval_only_where_the_drop_has_one() {
        let row = |family: &str, severity: u8, ok: bool| {
            EvalRow::labelled("f32", family, severity, "1", if ok { "a" } else { "b" })
        };
        let rows = vec![row(CLEAN, 0, true), row("typo", 1, false)];
        let mut summary = build(f32_typo_accuracy(), &rows, &[]);
        let heatmap = |s: &Summary| {
            let html = render_html(s, None, &rows, &[]).unwrap();
            let at = html.find("<table id=\"heatmap\">").unwrap();
            html[at..at + html[at..].find("</table>").unwrap()].to_string()
        };
        assert!(
            heatmap(&summary).contains("100.0 <span class=\"ci\">["),
            "{}",
            heatmap(&summary)
        );
        summary.schemes[0].families[0].pooled.drop_ci = None;
        let table = heatmap(&summary);
        assert!(
            table.contains(">100.0</td>") && !table.contains("class=\"ci\""),
            "{table}"
        );
    }

    /// f32 and int8 on 20 commands, clean and at typo 1 (`right(i)`: f32 clean, f32 typo, int8 clean,
    /// int8 typo for command i): int8's pooled typo cell and the report's "what quantization adds"
    /// section.
    fn vs_reference_section(right: impl Fn(usize) -> [bool; 4]) -> (Cell, String) {
        let mut rows = Vec::new();
        for i in 0..20 {
            let row = |scheme: &str, family: &str, severity: u8, ok: bool| {
                EvalRow::labelled(scheme, family, severity, &i.to_string(), if ok { "a" } else { "b" })
            };
            let [f32_clean, f32_typo, int8_clean, int8_typo] = right(i);
            rows.push(row("f32", CLEAN, 0, f32_clean));
            rows.push(row("f32", "typo", 1, f32_typo));
            rows.push(row("int8", CLEAN, 0, int8_clean));
            rows.push(row("int8", "typo", 1, int8_typo));
        }
        let mut meta = f32_typo_accuracy();
        meta.schemes.push(SchemeInfo {
            name: "int8".into(),
            ..Default::default()
        });
        let summary = build(meta, &rows, &[]);
        let html = render_html(&summary, None, &rows, &[]).unwrap();
        let at = html.find("<div id=\"vs-reference\">").unwrap();
        let section = html[at..at + html[at..].find("</div>").unwrap()].to_string();
        (summary.schemes[1].families[0].pooled.clone(), section)
    }

    /// A scheme that starts lower has less to lose: its smaller drop is not painted green while it
    /// stays behind the reference under the noise (a broken 4-bit build was painted green).
    #[test]
    fn a_smaller_drop_from_a_lower_start_is_marked_not_green() {
        // f32: all right clean, 8 right under typo (drop 60). int8: 8 right clean, 6 under typo
        // (drop 10, extra drop -50), still 10 points behind f32 there.
        let (cell, section) = vs_reference_section(|i| [true, i < 8, i < 8, i < 6]);
        assert!(
            cell.extra_drop_ci.unwrap()[1] < 0.0 && cell.delta_vs_reference.unwrap() < 0.0,
            "{cell:?}"
        );
        assert!(section.contains("-50.0<sup class=\"lower-start\">†</sup>"), "{section}");
        assert!(!section.contains("class=\"good\""), "{section}");
    }

    /// The mirror: a scheme that starts higher has more to lose, and its larger drop is not painted
    /// red while it stays level with the reference under the noise.
    #[test]
    fn a_larger_drop_from_a_higher_start_is_marked_not_red() {
        // f32: 12 of 20 right clean, 8 under typo. int8: all 20 right clean, the same 8 under typo.
        let (cell, section) = vs_reference_section(|i| [i < 12, i < 8, true, i < 8]);
        assert!(
            cell.extra_drop_ci.unwrap()[0] > 0.0 && cell.delta_vs_reference == Some(0.0),
            "{cell:?}"
        );
        assert!(
            section.contains("+40.0<sup class=\"higher-start\">‡</sup>"),
            "{section}"
        );
        assert!(!section.contains("class=\"bad\""), "{section}");
    }
}
