//! Every terminal table the binary prints. Figures are rounded for people; the files in a run
//! directory keep full precision.

use shakedown::analysis::gate::{round2, Verdict};
use shakedown::analysis::metrics::Cell;
use shakedown::analysis::results::CLEAN;
use shakedown::analysis::retrieval::cells::RetrievalCell;
use shakedown::analysis::retrieval::summary::RetrievalSummary;
use shakedown::analysis::retrieval::Metric;
use shakedown::analysis::summary::{partial_range, FamilySummary, Summary};
use shakedown::probe::bench::BenchRow;
use shakedown::probe::inspect::{DecoderInspection, Inspection};
use shakedown::report::numbers::{percent, signed_points};
use shakedown::report::{verdict_rows, UNSETTLED_LEGEND};
use shakedown::run::compare::{significance, Comparison, Line};

/// A change in points with its sign, never "-0.0".
/// The change from clean of a figure whose drop is `drop`; "-" when the run holds no clean inputs to
/// pair it with (a shard's).
fn change(drop: Option<f64>) -> String {
    drop.map_or_else(|| "-".to_string(), |d| shakedown::report::numbers::signed(-d, 1))
}

/// The severity range the gate judges for `family` (from the first rule naming it, or `*`, with a
/// severity), if any.
fn judged_range(summary: &Summary, family: &str) -> Option<(u8, u8, String)> {
    summary
        .meta
        .gate_rules
        .iter()
        .filter(|r| r.family == family || r.family == "*")
        .find_map(|r| {
            let s = r.severity.as_ref()?;
            let (a, b) = s.split_once('-').unwrap_or((s, s));
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?, s.clone()))
        })
}

/// The primary metric and drop over severities `lo..=hi` of a family: the mean of its single
/// severities (every severity holds the same examples, so this is the pooled figure).
fn judged(f: &FamilySummary, lo: u8, hi: u8) -> Option<(f64, Option<f64>)> {
    let cells: Vec<&Cell> = f.cells_in(lo, hi).collect();
    if cells.is_empty() {
        return None;
    }
    let n = cells.len() as f64;
    Some((
        cells.iter().map(|c| c.primary().value).sum::<f64>() / n,
        cells.iter().map(|c| c.drop).sum::<Option<f64>>().map(|d| d / n),
    ))
}

/// The run's table: one line per scheme; the primary metric on clean inputs, then per family the
/// figure at the severities the gate judges (when a rule names some) and pooled over all severities
/// run, each with its change from clean; then sustained throughput and the verdict.
pub fn run_table(summary: &Summary, gate: Option<&Verdict>) -> String {
    let fams = &summary.meta.families;
    let headers: Vec<String> = fams
        .iter()
        .map(|f| match judged_range(summary, f) {
            Some((lo, hi, s)) => {
                // A range the run covers in part names what it judged, as the gate's check does.
                let held: std::collections::BTreeSet<u8> = summary
                    .schemes
                    .iter()
                    .flat_map(|sc| sc.families.iter().filter(|x| &x.family == f))
                    .flat_map(|x| x.cells_in(lo, hi).map(|c| c.severity_lo))
                    .collect();
                let held: Vec<u8> = held.into_iter().collect();
                match partial_range(&held, lo, hi) {
                    Some(part) => format!("{f}@{part} | all"),
                    None => format!("{f}@{s} | all"),
                }
            }
            None => f.clone(),
        })
        .collect();
    let cells: Vec<Vec<String>> = summary
        .schemes
        .iter()
        .map(|s| {
            s.families
                .iter()
                .map(|f| {
                    // A shard holds only its own cells; the others have no results and show "-", and
                    // a change from clean needs the clean cell, which may be another shard's.
                    let pooled = if f.pooled.n == 0 {
                        "-".to_string()
                    } else {
                        format!("{:.1} ({})", f.pooled.primary().value, change(f.pooled.drop))
                    };
                    // The header names the judged severities whenever a rule does: a run without
                    // them shows "-" there, so the pooled figure is never read as the judged one.
                    match judged_range(summary, &f.family) {
                        Some((lo, hi, _)) => match judged(f, lo, hi) {
                            Some((v, d)) => format!("{v:.1} ({}) | {pooled}", change(d)),
                            None => format!("- | {pooled}"),
                        },
                        None => pooled,
                    }
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            cells
                .iter()
                .filter_map(|c| c.get(i).map(|x| x.chars().count()))
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let verdicts = verdict_rows(summary, gate);
    let mut out = format!("{:<18} {:>5} {:>7} {:>6}", "scheme", "bits", "MB", "clean");
    for (h, w) in headers.iter().zip(&widths) {
        out.push_str(&format!("  {h:>w$}"));
    }
    out.push_str(&format!(" {:>10}  verdict\n", "items/s"));
    for ((s, c), v) in summary.schemes.iter().zip(&cells).zip(&verdicts) {
        let clean = if s.clean.n == 0 {
            "-".to_string()
        } else {
            format!("{:.1}", s.clean.primary().value)
        };
        let (bits, mb) = match s.weights.built() {
            true => (
                format!("{:.2}", s.weights.bits_per_weight),
                format!("{:.3}", s.weights.shipped_bytes() as f64 / 1e6),
            ),
            false => ("-".to_string(), "-".to_string()),
        };
        out.push_str(&format!("{:<18} {bits:>5} {mb:>7} {clean:>6}", s.scheme));
        for (x, w) in c.iter().zip(&widths) {
            out.push_str(&format!("  {x:>w$}"));
        }
        let speed = s.throughput.as_ref().map_or("-".to_string(), |t| {
            format!("{:.1}{}", t.sustained_items_per_s, if t.noisy { "!" } else { "" })
        });
        out.push_str(&format!(" {speed:>10}  {}\n", v.verdict_text));
    }
    out.push_str(&format!(
        "{} in %, (change from clean in points); family@N: at the severities the gate judges | all: pooled over the severities run\n",
        summary.primary()
    ));
    if summary.schemes.len() > 1 {
        out.push_str(&format!(
            "reference (agreement, delta_vs_reference, extra_drop): {}\n",
            summary.reference
        ));
    }
    if summary.schemes.iter().any(|s| s.weights.model_bytes.is_some()) {
        out.push_str("bits: per weight of the quantized Linears; MB: every weight matrix stored (Linears, output head, embeddings)\n");
    }
    let heads: Vec<String> = summary
        .schemes
        .iter()
        .filter_map(|s| Some(format!("{} {}", s.scheme, s.weights.head.as_deref()?)))
        .collect();
    if !heads.is_empty() {
        out.push_str(&format!("output head (not the scheme's): {}\n", heads.join(", ")));
    }
    if summary
        .schemes
        .iter()
        .any(|s| s.throughput.as_ref().is_some_and(|t| t.noisy))
    {
        out.push_str("items/s sustained; ! noisy: the windows varied by more than 20% (busy or throttling machine)\n");
    }
    if verdicts.iter().any(|v| v.unsettled > 0) {
        out.push_str(UNSETTLED_LEGEND);
        out.push('\n');
    }
    for w in summary.warnings() {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

/// The verdict: failing checks per scheme, skipped checks counted, the recommendation and the
/// run's verdict under its policy.
pub fn verdict(gate: &Verdict) -> String {
    let mut out = String::new();
    for c in gate.failing() {
        out.push_str(&format!("FAIL {} [{}]\n", c.line(), c.scheme));
    }
    let skipped = gate.skipped().count();
    if skipped > 0 {
        out.push_str(&format!(
            "{skipped} checks skipped: their scheme, family, severity or phase is not in this run (junit.xml lists them)\n"
        ));
    }
    match &gate.recommendation {
        Some(r) => {
            out.push_str(&format!("recommended: {}, {}", r.scheme, r.reason));
            if let (Some(t), Some(m)) = (&r.tightest, r.margin) {
                out.push_str(&format!("; tightest check {t}, margin {}", round2(m)));
            }
            out.push('\n');
            for u in &r.unjudged {
                out.push_str(&format!("  not judged for {}: {u}\n", r.scheme));
            }
            for c in &r.interval_only {
                out.push_str(&format!("  passed on its interval only for {}: {c}\n", r.scheme));
            }
            for c in &r.unsettled {
                out.push_str(&format!("  unsettled pass for {}: {c}\n", r.scheme));
            }
            match (&r.settled_pick, &r.settled_reason) {
                (Some(_), Some(why)) => out.push_str(&format!("  settled on every check: {why}\n")),
                (None, Some(why)) => out.push_str(&format!("  {why}\n")),
                _ => {}
            }
        }
        None => out.push_str("recommended: none, no scheme passes every rule that judged it\n"),
    }
    let unsettled = gate.checks.iter().filter(|c| c.unsettled()).count();
    out.push_str(&format!(
        "gate: {} ({}){}\n",
        if gate.passed { "PASSED" } else { "FAILED" },
        gate.policy.describe(),
        match unsettled {
            0 => String::new(),
            n => format!("; {n} of its checks unsettled at this sample size"),
        }
    ));
    out
}

/// `shakedown sustain`'s table.
pub fn sustain(summary: &Summary) -> String {
    let mut out = format!(
        "{:<18} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>12} {:>10}\n",
        "scheme", "sustained", "burst", "stability", "p50 ms", "p95 ms", "p99 ms", "serving MiB", "peak MiB"
    );
    for s in &summary.schemes {
        if let Some(t) = &s.throughput {
            let memory = s.memory.as_ref();
            let (serving, peak) = (
                mib(memory.and_then(|m| m.serving_bytes())),
                mib(memory.and_then(|m| m.peak_rss_bytes)),
            );
            out.push_str(&format!(
                "{:<18} {:>10.1} {:>10.1} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>12} {:>10}\n",
                s.scheme,
                t.sustained_items_per_s,
                t.burst_items_per_s,
                format!("{:.2}{}", t.stability, if t.noisy { "!" } else { "" }),
                t.latency_p50_ms,
                t.latency_p95_ms,
                t.latency_p99_ms,
                serving,
                peak
            ));
        }
    }
    out.push_str(
        "items/s; sustained = median of the last third of the windows, stability = slowest / fastest window \
         (! below 0.8: noisy machine); serving MiB = resident memory the scheme added while it answered (its \
         built model and working memory, over what the process held before its build; build temporaries and \
         earlier schemes' leftovers are not in it); peak MiB = the process's resident peak while the scheme was \
         built and ran, which includes what it held before\n",
    );
    let generating: Vec<_> = summary
        .schemes
        .iter()
        .filter_map(|s| s.throughput.as_ref().map(|t| (s, t)))
        .filter(|(_, t)| t.sustained_generated_tokens_per_s.is_some())
        .collect();
    if !generating.is_empty() {
        out.push_str(&format!(
            "\n{:<18} {:>12} {:>12} {:>12} {:>14}\n",
            "scheme", "gen tok/s", "TTFT p50 ms", "TTFT p95 ms", "request p95 ms"
        ));
        let ms = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.0}"));
        for (s, t) in generating {
            out.push_str(&format!(
                "{:<18} {:>12} {:>12} {:>12} {:>14}\n",
                s.scheme,
                t.sustained_generated_tokens_per_s
                    .map_or("-".to_string(), |x| format!("{x:.1}")),
                ms(t.ttft_p50_ms),
                ms(t.ttft_p95_ms),
                ms(t.request_p95_ms)
            ));
        }
        out.push_str(
            "generated tokens/s and per-request times (first token, last token) from the start of the request's \
             batch, medians over the last third of the windows\n",
        );
    }
    out
}

fn compare_cell(line: &Line, i: usize) -> String {
    let Some(v) = line.value[i] else { return "-".into() };
    if i == 0 {
        return format!("{v:.1}");
    }
    let ci = line.delta_ci[i]
        .map(|[a, b]| format!(" [{a:.1}, {b:.1}]"))
        .unwrap_or_default();
    match line.delta[i] {
        Some(d) => format!(
            "{v:.1} ({}{}{ci})",
            shakedown::report::numbers::signed(d, 1),
            significance(line.p_value[i])
        ),
        None => format!("{v:.1}"),
    }
}

/// The examples of a scope: one figure when every run holds as many, else each run's ("840/40").
fn compare_n(line: &Line) -> String {
    match line.n.split_first() {
        Some((first, rest)) if rest.iter().all(|n| n == first) => first.to_string(),
        _ => line.n.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("/"),
    }
}

/// `shakedown compare` as a terminal table (`markdown = false`) or a Markdown table.
pub fn compare(c: &Comparison, markdown: bool) -> String {
    let mut out = String::new();
    let names: Vec<String> = (0..c.runs.len())
        .map(|i| {
            if i == 0 {
                "A (base)".to_string()
            } else {
                ((b'A' + (i % 26) as u8) as char).to_string()
            }
        })
        .collect();
    for (i, run) in c.runs.iter().enumerate() {
        out.push_str(&format!("{}: {}\n", names[i], run));
    }
    for n in &c.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out.push('\n');
    let header: Vec<String> = ["scheme", "family", "severity", "n"]
        .iter()
        .map(|s| s.to_string())
        .chain(names.iter().cloned())
        .collect();
    let mut table: Vec<Vec<String>> = c
        .lines
        .iter()
        .map(|l| {
            let mut row = vec![l.scheme.clone(), l.family.clone(), l.severity.clone(), compare_n(l)];
            row.extend((0..c.runs.len()).map(|i| compare_cell(l, i)));
            row
        })
        .collect();
    out.push_str(&grid(&header, &table, markdown));
    let test = shakedown::analysis::metrics::mcnemar_legend(&c.metric);
    let interval = if c.notes.iter().any(|n| n.contains("no paired test")) {
        "95% interval: paired over the shared examples, or Newcombe's for runs on other inputs (none for pooled severities)"
    } else {
        "95% interval: paired over the shared examples"
    };
    out.push_str(&format!(
        "\n{} %, n examples per run; (points vs A [{interval}]; * p<0.05, ** p<0.01, *** p<0.001 by {test})\n\n",
        c.metric
    ));
    let header: Vec<String> = ["scheme".to_string()]
        .into_iter()
        .chain(names.iter().map(|n| format!("{n} items/s")))
        .collect();
    table = c
        .throughput
        .iter()
        .map(|t| {
            let mut row = vec![t.scheme.clone()];
            for i in 0..c.runs.len() {
                let flag = if t.noisy[i] { "!" } else { "" };
                row.push(match (t.sustained_items_per_s[i], t.ratio[i]) {
                    (Some(v), Some(r)) if i > 0 => format!("{v:.1}{flag} (x{r:.2})"),
                    (Some(v), _) => format!("{v:.1}{flag}"),
                    _ => "-".into(),
                });
            }
            row
        })
        .collect();
    out.push_str(&grid(&header, &table, markdown));
    out.push_str("\nsustained throughput (ratio to A); ! noisy: the run's windows varied by more than 20%\n");
    if c.decisions.iter().any(|d| d.passed.is_some()) {
        out.push('\n');
        let header: Vec<String> = ["scheme".to_string()]
            .into_iter()
            .chain(names.iter().map(|n| format!("{n} verdict")))
            .collect();
        let mut schemes: Vec<&str> = Vec::new();
        for d in &c.decisions {
            for v in &d.verdicts {
                if !schemes.contains(&v.scheme.as_str()) {
                    schemes.push(&v.scheme);
                }
            }
        }
        let table: Vec<Vec<String>> = schemes
            .iter()
            .map(|s| {
                let mut row = vec![s.to_string()];
                row.extend(c.decisions.iter().map(|d| {
                    d.verdicts
                        .iter()
                        .find(|v| v.scheme == *s)
                        .map_or("-".to_string(), |v| v.verdict.clone())
                }));
                row
            })
            .collect();
        out.push_str(&grid(&header, &table, markdown));
        out.push('\n');
        for (name, d) in names.iter().zip(&c.decisions) {
            out.push_str(&format!("{name}: {}\n", d.describe()));
        }
        // Only runs with a gate made a decision (a `sustain` run, a shard or a suite without rules did not).
        let gated: Vec<_> = c.decisions.iter().filter(|d| d.passed.is_some()).collect();
        if gated
            .iter()
            .any(|d| d.passed != gated[0].passed || d.recommended != gated[0].recommended)
        {
            out.push_str("the ship decision differs between the runs\n");
        }
    }
    if !c.missing.is_empty() {
        out.push_str(&format!("\nnot in every run ({}):\n", c.missing.len()));
        for m in &c.missing {
            out.push_str(&format!("  {m}\n"));
        }
    }
    out
}

fn grid(header: &[String], rows: &[Vec<String>], markdown: bool) -> String {
    let mut out = String::new();
    if markdown {
        out.push_str(&format!("| {} |\n", header.join(" | ")));
        out.push_str(&format!("|{}\n", header.iter().map(|_| "---|").collect::<String>()));
        for r in rows {
            out.push_str(&format!(
                "| {} |\n",
                r.iter().map(|c| c.replace('|', "\\|")).collect::<Vec<_>>().join(" | ")
            ));
        }
        return out;
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| if i < 3 { format!("{c:<w$}") } else { format!("{c:>w$}") })
            .collect::<Vec<_>>()
            .join("  ")
    };
    out.push_str(&line(header));
    out.push('\n');
    for r in rows {
        out.push_str(line(r).trim_end());
        out.push('\n');
    }
    out
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "-".into(), |b| format!("{:.1}", b as f64 / (1 << 20) as f64))
}

/// `shakedown bench`'s table.
pub fn bench(rows: &[BenchRow], kernels: &str) -> String {
    let mut out = format!(
        "kernel table: {kernels}\n{:<34} {:<16} {:>7} {:>5} {:>12} {:>12} {:>8} {:>12} {:>13} {:>10}\n",
        "what", "scheme", "threads", "batch", "value", "unit", "x f32", "weight bytes", "peak RSS MiB", "start MiB"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<34} {:<16} {:>7} {:>5} {:>12.2} {:>12} {:>8.2} {:>12} {:>13} {:>10}\n",
            r.what,
            r.scheme,
            r.threads,
            r.batch,
            r.value,
            r.unit,
            r.ratio_vs_f32,
            r.weight_bytes,
            mib(r.peak_rss_bytes),
            mib(r.rss_at_start_bytes)
        ));
    }
    if rows.iter().any(|r| r.peak_rss_scope == "process") {
        out.push_str("peak RSS: the process's high-water mark after each scheme (the kernel refused to reset it)\n");
    } else {
        out.push_str(
            "peak RSS: VmHWM while each scheme was built and measured, reset before each (after freed memory \
             was handed back); it includes what the process held at the start (start MiB: binary, f32 source \
             weights)\n",
        );
    }
    out
}

/// `shakedown inspect`'s table for a decoder.
pub fn inspect_decoder(i: &DecoderInspection) -> String {
    let f = &i.fidelity;
    format!(
        "scheme {} against f32, next-token distributions over {} prompts with their answers ({} positions; {} repeats of an earlier prompt's opening scored once)\n\n\
         mean KL divergence   {:.6} \u{b1} {:.6}\n\
         KL median / p90 / p99 / max   {:.6} / {:.6} / {:.6} / {:.6}\n\
         same top-1 token     {:.2} %\n\
         delta p(next token)  mean {:+.5}, RMS {:.5}\n\
         perplexity           {:.4} (f32 {:.4})\n\
         as llama-perplexity --kl-divergence reports them\n",
        i.scheme,
        i.streams,
        f.positions,
        f.repeated,
        f.mean_kl,
        f.mean_kl_stderr,
        f.kl_median,
        f.kl_p90,
        f.kl_p99,
        f.kl_max,
        f.same_top1 * 100.0,
        f.mean_delta_p,
        f.rms_delta_p,
        f.perplexity,
        f.perplexity_reference
    )
}

/// `shakedown inspect`'s table.
pub fn inspect(i: &Inspection) -> String {
    let mut out = format!(
        "scheme {} against f32\n\nisolated error of each Linear (same f32 input):\n",
        i.scheme
    );
    for l in &i.linears {
        out.push_str(&format!(
            "  {:<44} {:>5} x {:<5} {:>10.5}\n",
            l.name, l.rows, l.cols, l.relative_error
        ));
    }
    out.push_str("\ncumulative error of each encoder layer's output (model run end to end):\n");
    for l in &i.layers {
        out.push_str(&format!(
            "  {:<44} {:>5} x {:<5} {:>10.5}\n",
            l.name, l.rows, l.cols, l.relative_error
        ));
    }
    out.push_str("relative error = ||y - y_f32|| / ||y_f32||\n");
    out
}

fn retrieval_value(cell: Option<&RetrievalCell>, m: Metric) -> Option<(f64, f64)> {
    let mc = cell?.metric(m)?;
    Some((mc.value.mean, mc.drop_vs_clean.mean))
}

/// A terminal table: per deployment, the index's scanned size, search time, clean recall@5 and
/// nDCG@10, and nDCG@10 per family with its severities pooled (change from clean).
pub fn retrieval(s: &RetrievalSummary) -> String {
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
            "{:<16} {:<6} {:<10} {:>9.1} {:>8.3} {:>6} {:>7}",
            scheme,
            index,
            shape,
            search.map_or(0.0, |r| r.index_scan_bytes as f64 / 1e3),
            search.map_or(0.0, |r| r.search_ms_per_query),
            retrieval_value(clean, Metric::Recall5).map_or("-".into(), |v| percent(v.0)),
            retrieval_value(clean, Metric::Ndcg10).map_or("-".into(), |v| percent(v.0)),
        ));
        for f in fams {
            let cell = retrieval_value(s.pooled_cell(scheme, index, shape, f), Metric::Ndcg10);
            out.push_str(&format!(
                " {:>16}",
                cell.map_or("-".to_string(), |(v, drop)| format!(
                    "{} ({})",
                    percent(v),
                    signed_points(-drop)
                ))
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "{} test queries, {} chunks; corruption on {}; metrics in %, (change from clean in points) \
         pooled over the severities run; index KB = codes a search scans; ms/query = search time of a batch / its queries\n",
        s.meta.queries,
        s.meta.chunks,
        shakedown::report::numbers::corrupted_side(&s.meta.corrupt)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scheme: &str, scope: &str) -> BenchRow {
        BenchRow {
            what: "end-to-end encoder".into(),
            scheme: scheme.into(),
            threads: 1,
            batch: 1,
            value: 10.0,
            unit: "sentences/s".into(),
            ratio_vs_f32: 1.0,
            weight_bytes: 1234,
            peak_rss_bytes: Some(3 << 20),
            rss_at_start_bytes: None,
            peak_rss_scope: scope.into(),
        }
    }

    #[test]
    fn the_bench_table_shows_weight_bytes_and_peak_rss_and_says_what_the_peak_covers() {
        let table = bench(&[row("q4_k", "scheme")], "generic");
        assert!(table.contains("peak RSS MiB") && table.contains("1234") && table.contains("3.0"));
        assert!(table.contains("reset before each"), "{table}");
        let table = bench(&[row("q4_k", "process")], "generic");
        assert!(table.contains("high-water mark after each scheme"), "{table}");
    }

    #[test]
    fn the_retrieval_summary_pools_severities_and_its_table_has_a_row_per_deployment() {
        use shakedown::analysis::retrieval::cells::RetrievalRow;
        use shakedown::analysis::retrieval::summary::{build, RetrievalMeta};
        use shakedown::analysis::retrieval::QueryScores;
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
        assert_eq!(
            (s.cells.len(), s.pooled.len()),
            (3, 2),
            "clean, asr 1, asr 2; clean, asr pooled"
        );
        let table = retrieval(&s);
        assert!(table.contains("50.0 (-50.0)"), "{table}");
        assert!(table.contains("asr nDCG@10") && table.contains("f32"), "{table}");
    }
}
