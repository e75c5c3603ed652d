//! `shakedown compare RUN_A RUN_B [...]`: side-by-side accuracy by scheme, family and severity, with
//! deltas against the first run, significance marks from McNemar's exact test on paired examples,
//! and throughput ratios.

use std::collections::HashMap;

use serde::Serialize;

use crate::analysis::results::{EvalRow, CLEAN};
use crate::analysis::stats::mcnemar_exact;
use crate::run::rundir::LoadedRun;

/// One scope compared across runs.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    pub scheme: String,
    pub family: String,
    /// "clean", "all" (severities pooled) or a level.
    pub severity: String,
    /// Accuracy in percent per run (None where the run lacks the scope).
    pub accuracy: Vec<Option<f64>>,
    /// Points against the first run.
    pub delta: Vec<Option<f64>>,
    /// McNemar p-value against the first run on the examples both share.
    pub p_value: Vec<Option<f64>>,
}

/// Sustained throughput per scheme across runs.
#[derive(Clone, Debug, Serialize)]
pub struct ThroughputLine {
    pub scheme: String,
    pub sustained_items_per_s: Vec<Option<f64>>,
    /// Ratio to the first run.
    pub ratio: Vec<Option<f64>>,
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub runs: Vec<String>,
    pub lines: Vec<Line>,
    pub throughput: Vec<ThroughputLine>,
}

type Key<'a> = (&'a str, &'a str, u8, &'a str);

fn index(rows: &[EvalRow]) -> HashMap<Key<'_>, bool> {
    rows.iter()
        .map(|r| {
            (
                (r.scheme.as_str(), r.family.as_str(), r.severity, r.example_id.as_str()),
                r.correct,
            )
        })
        .collect()
}

/// Compares runs; the first is the base of every delta and ratio.
pub fn compare(runs: &[LoadedRun]) -> Comparison {
    let indexes: Vec<HashMap<Key, bool>> = runs.iter().map(|r| index(&r.rows)).collect();
    // Scopes in the order of the first run that has them.
    let mut scopes: Vec<(String, String, Option<u8>)> = Vec::new();
    for run in runs {
        for s in run.summary.meta.scheme_names() {
            let mut push = |scope: (String, String, Option<u8>)| {
                if !scopes.contains(&scope) {
                    scopes.push(scope);
                }
            };
            push((s.clone(), CLEAN.into(), Some(0)));
            for f in &run.summary.meta.families {
                push((s.clone(), f.clone(), None));
                let mut sevs: Vec<u8> = run
                    .rows
                    .iter()
                    .filter(|r| r.scheme == s && &r.family == f)
                    .map(|r| r.severity)
                    .collect();
                sevs.sort_unstable();
                sevs.dedup();
                for sev in sevs {
                    push((s.clone(), f.clone(), Some(sev)));
                }
            }
        }
    }
    let lines = scopes
        .into_iter()
        .map(|(scheme, family, severity)| {
            let in_scope = |k: &Key| k.0 == scheme && k.1 == family && severity.is_none_or(|s| k.2 == s);
            let accuracy: Vec<Option<f64>> = indexes
                .iter()
                .map(|ix| {
                    let v: Vec<bool> = ix.iter().filter(|(k, _)| in_scope(k)).map(|(_, c)| *c).collect();
                    (!v.is_empty()).then(|| 100.0 * v.iter().filter(|c| **c).count() as f64 / v.len() as f64)
                })
                .collect();
            let base = accuracy[0];
            let delta = accuracy.iter().map(|a| Some((*a)? - base?)).collect();
            let p_value = indexes
                .iter()
                .map(|ix| {
                    let (mut b, mut c, mut pairs) = (0, 0, 0);
                    for (k, now) in ix.iter().filter(|(k, _)| in_scope(k)) {
                        if let Some(before) = indexes[0].get(k) {
                            pairs += 1;
                            match (before, now) {
                                (true, false) => b += 1,
                                (false, true) => c += 1,
                                _ => {}
                            }
                        }
                    }
                    (pairs > 0).then(|| mcnemar_exact(b, c))
                })
                .collect();
            let label = match severity {
                Some(0) => "clean".to_string(),
                Some(s) => s.to_string(),
                None => "all".to_string(),
            };
            Line {
                scheme,
                family,
                severity: label,
                accuracy,
                delta,
                p_value,
            }
        })
        .collect();
    let mut schemes: Vec<String> = Vec::new();
    for run in runs {
        for s in run.summary.meta.scheme_names() {
            if !schemes.contains(&s) {
                schemes.push(s);
            }
        }
    }
    let throughput = schemes
        .into_iter()
        .map(|scheme| {
            let values: Vec<Option<f64>> = runs
                .iter()
                .map(|r| {
                    r.summary
                        .scheme(&scheme)
                        .and_then(|s| s.throughput.as_ref())
                        .map(|t| t.sustained_items_per_s)
                })
                .collect();
            let base = values[0];
            let ratio = values
                .iter()
                .map(|v| Some((*v)? / base.filter(|b| *b > 0.0)?))
                .collect();
            ThroughputLine {
                scheme,
                sustained_items_per_s: values,
                ratio,
            }
        })
        .collect();
    Comparison {
        runs: runs.iter().map(|r| r.dir.display().to_string()).collect(),
        lines,
        throughput,
    }
}

/// `*` p < 0.05, `**` p < 0.01, `***` p < 0.001.
pub fn significance(p: Option<f64>) -> &'static str {
    match p {
        Some(p) if p < 0.001 => "***",
        Some(p) if p < 0.01 => "**",
        Some(p) if p < 0.05 => "*",
        _ => "",
    }
}

fn fmt_cell(c: &Comparison, line: &Line, i: usize) -> String {
    let Some(acc) = line.accuracy[i] else { return "-".into() };
    if i == 0 {
        return format!("{acc:.1}");
    }
    let _ = c;
    match line.delta[i] {
        Some(d) => format!("{acc:.1} ({d:+.1}{})", significance(line.p_value[i])),
        None => format!("{acc:.1}"),
    }
}

/// A terminal table (`markdown = false`) or a Markdown table.
pub fn render(c: &Comparison, markdown: bool) -> String {
    let mut out = String::new();
    let names: Vec<String> = (0..c.runs.len())
        .map(|i| {
            if i == 0 {
                "A (base)".to_string()
            } else {
                ((b'A' + i as u8) as char).to_string()
            }
        })
        .collect();
    for (i, run) in c.runs.iter().enumerate() {
        out.push_str(&format!("{}: {}\n", names[i], run));
    }
    out.push('\n');
    let header: Vec<String> = ["scheme", "family", "severity"]
        .iter()
        .map(|s| s.to_string())
        .chain(names.iter().cloned())
        .collect();
    let mut table: Vec<Vec<String>> = c
        .lines
        .iter()
        .map(|l| {
            let mut row = vec![l.scheme.clone(), l.family.clone(), l.severity.clone()];
            row.extend((0..c.runs.len()).map(|i| fmt_cell(c, l, i)));
            row
        })
        .collect();
    out.push_str(&grid(&header, &table, markdown));
    out.push_str(
        "\naccuracy %, (points vs A; * p<0.05, ** p<0.01, *** p<0.001 by McNemar's exact test on paired examples)\n\n",
    );
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
                row.push(match (t.sustained_items_per_s[i], t.ratio[i]) {
                    (Some(v), Some(r)) if i > 0 => format!("{v:.1} (x{r:.2})"),
                    (Some(v), _) => format!("{v:.1}"),
                    _ => "-".into(),
                });
            }
            row
        })
        .collect();
    out.push_str(&grid(&header, &table, markdown));
    out.push_str("\nsustained throughput (ratio to A)\n");
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
