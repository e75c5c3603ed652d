//! `summary.md`: a compact page for a pull-request comment: the verdict per scheme and the
//! recommendation first, then the primary metric per family.

use crate::analysis::gate::{round2, Verdict};
use crate::analysis::summary::Summary;
use crate::report::{verdict_rows, UNSETTLED_LEGEND};

/// Markdown-safe cell text: pipes and angle brackets escaped, newlines removed.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

/// Renders the verdict, the per-scheme tables and the failing checks.
pub fn render(summary: &Summary, gate: Option<&Verdict>) -> String {
    let meta = &summary.meta;
    let verdict = match (gate, &meta.shard) {
        (_, Some(_)) => "shard (gate evaluated at merge)".to_string(),
        (None, None) if meta.sustain_only => "throughput only (no gate)".to_string(),
        (None, None) => "not gated (the suite has no gate rules)".to_string(),
        (Some(g), None) if g.passed => format!("✅ gate passed ({})", g.policy.describe()),
        (Some(g), None) => format!("❌ gate failed ({})", g.policy.describe()),
    };
    let mut out = format!("### Shakedown: {}: {}\n\n", cell(&meta.suite), cell(&verdict));
    if let Some(r) = gate.and_then(|g| g.recommendation.as_ref()) {
        out.push_str(&format!("**Recommended: `{}`**, {}", cell(&r.scheme), cell(&r.reason)));
        if let (Some(t), Some(m)) = (&r.tightest, r.margin) {
            out.push_str(&format!("; tightest check {} (margin {})", cell(t), round2(m)));
        }
        out.push('.');
        if !r.unjudged.is_empty() {
            let list: Vec<String> = r.unjudged.iter().map(|u| cell(u)).collect();
            out.push_str(&format!(" Not judged in this run: {}.", list.join("; ")));
        }
        if !r.interval_only.is_empty() {
            let list: Vec<String> = r.interval_only.iter().map(|c| cell(c)).collect();
            out.push_str(&format!(" Passed on its interval only: {}.", list.join("; ")));
        }
        if !r.unsettled.is_empty() {
            let list: Vec<String> = r.unsettled.iter().map(|c| cell(c)).collect();
            out.push_str(&format!(" Unsettled passes: {}.", list.join("; ")));
        }
        match (&r.settled_pick, &r.settled_reason) {
            (Some(_), Some(why)) => out.push_str(&format!(" Settled on every check: {}.", cell(why))),
            (None, Some(why)) => {
                let mut chars = why.chars();
                let first: String = chars.next().into_iter().flat_map(char::to_uppercase).collect();
                out.push_str(&format!(" {first}{}.", cell(chars.as_str())));
            }
            _ => {}
        }
        out.push_str("\n\n");
    } else if gate.is_some() {
        out.push_str("**No scheme passes the gate.**\n\n");
    }
    out.push_str("| scheme | verdict | failing checks | bits/w | weights MB | sustained items/s |\n|---|---|---|---:|---:|---:|\n");
    let rows = verdict_rows(summary, gate);
    for v in &rows {
        let failing = if v.failing.is_empty() {
            "-".to_string()
        } else {
            v.failing.iter().map(|f| cell(f)).collect::<Vec<_>>().join("<br>")
        };
        out.push_str(&format!(
            "| {} | {} | {failing} | {} | {} | {} |\n",
            cell(&v.scheme),
            v.verdict_text,
            v.bits_per_weight.map_or("-".into(), |b| format!("{b:.2}")),
            v.weight_mb.map_or("-".into(), |m| format!("{m:.3}")),
            v.sustained
                .map(|s| format!("{s:.1}{}", if v.noisy { " (noisy)" } else { "" }))
                .unwrap_or_else(|| "-".into())
        ));
    }
    if rows.iter().any(|v| v.unsettled > 0) {
        out.push_str(&format!("\n{}.\n", cell(UNSETTLED_LEGEND)));
    }
    if !meta.sustain_only {
        let primary = cell(summary.primary());
        out.push_str(&format!("\n| scheme | clean {primary} % |"));
        for f in &meta.families {
            out.push_str(&format!(" {}, severities pooled % (change) |", cell(f)));
        }
        out.push_str("\n|---|---:|");
        for _ in &meta.families {
            out.push_str("---:|");
        }
        out.push('\n');
        for s in &summary.schemes {
            // A shard holds only its own cells; the others have no results and show "-".
            let clean = if s.clean.n == 0 {
                "-".to_string()
            } else {
                format!("{:.1}", s.clean.primary().value)
            };
            out.push_str(&format!("| {} | {clean} |", cell(&s.scheme)));
            for f in &s.families {
                if f.pooled.n == 0 {
                    out.push_str(" - |");
                    continue;
                }
                // The change from clean needs the clean cell, which a shard may not hold.
                let change = f
                    .pooled
                    .drop
                    .map_or_else(|| "-".to_string(), |d| super::numbers::signed(-d, 1));
                out.push_str(&format!(" {:.1} ({change}) |", f.pooled.primary().value));
            }
            out.push('\n');
        }
    }
    if let Some(g) = gate {
        let skipped = g.skipped().count();
        if skipped > 0 {
            out.push_str(&format!(
                "\n{skipped} checks skipped (scopes this run did not ask for); junit.xml lists them.\n"
            ));
        }
    }
    for w in summary.warnings() {
        out.push_str(&format!("\n**Warning**: {}.\n", cell(&w)));
    }
    let corruptions = if meta.corruptions.is_empty() {
        "none".to_string()
    } else {
        format!("`{}`", cell(&meta.corruptions))
    };
    out.push_str(&format!(
        "\n<sub>{} {} examples{}, corruptions {corruptions}, seed {}, model sha256 {}, {}; reference scheme {}</sub>\n",
        meta.test_examples,
        cell(&meta.split),
        meta.subset_note(),
        meta.seed,
        meta.model_sha256.get(..12).unwrap_or(""),
        cell(&meta.task.method),
        cell(&summary.reference)
    ));
    if let Some(r) = &summary.retrieval {
        out.push('\n');
        out.push_str(&crate::report::retrieval::render_markdown(r));
    }
    out
}
