//! `summary.md`: a compact table for a pull-request comment.

use crate::analysis::summary::Summary;

/// Markdown-safe cell text: pipes and angle brackets escaped, newlines removed.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

/// Renders the verdict, the per-scheme table and the failing checks.
pub fn render(summary: &Summary) -> String {
    let verdict = if summary.meta.shard.is_some() {
        "shard (gate evaluated at merge)".to_string()
    } else if summary.gate.passed {
        "✅ gate passed".to_string()
    } else {
        "❌ gate failed".to_string()
    };
    let mut out = format!("### Shakedown: {}: {verdict}\n\n", cell(&summary.meta.suite));
    out.push_str("| scheme | bits/w | weights MB | clean % |");
    for f in &summary.meta.families {
        out.push_str(&format!(" {} % (drop) |", cell(f)));
    }
    out.push_str(" sustained items/s |\n|---|---:|---:|---:|");
    for _ in &summary.meta.families {
        out.push_str("---:|");
    }
    out.push_str("---:|\n");
    for s in &summary.schemes {
        out.push_str(&format!(
            "| {} | {:.2} | {:.3} | {:.1} |",
            cell(&s.scheme),
            s.weights.bits_per_weight,
            s.weights.weight_bytes as f64 / 1e6,
            s.clean.accuracy
        ));
        for f in &s.families {
            out.push_str(&format!(" {:.1} ({:+.1}) |", f.pooled.accuracy, -f.pooled.drop));
        }
        match &s.throughput {
            Some(t) => out.push_str(&format!(" {:.1} |\n", t.sustained_items_per_s)),
            None => out.push_str(" - |\n"),
        }
    }
    let failing: Vec<_> = summary.gate.checks.iter().filter(|c| !c.passed).collect();
    if !failing.is_empty() {
        out.push_str("\n**Failing gate checks**\n\n");
        for c in failing {
            out.push_str(&format!(
                "- {} [{}, {}]: {}\n",
                cell(&c.rule),
                cell(&c.scheme),
                cell(&c.family),
                cell(&c.reason)
            ));
        }
    }
    out.push_str(&format!(
        "\n<sub>{} test examples, corruptions `{}`, seed {}, model sha256 {}</sub>\n",
        summary.meta.test_examples,
        cell(&summary.meta.corruptions),
        summary.meta.seed,
        summary.meta.model_sha256.get(..12).unwrap_or("")
    ));
    out
}
