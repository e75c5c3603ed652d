//! `shakedown corrupt` (text in, corrupted variants with their measured noise out, as JSON lines) and
//! `shakedown corruptions` (the families, their severity tables and a live example each).

use std::io::{BufRead, Write};

use rayon::prelude::*;
use serde_json::json;

use super::calibrate::{calibrate, Level};
use super::measure::edit_segments;
use super::throughput::{measure, Throughput};
use super::{corrupt_text, parse_specs, CorruptionSpec, Registry, RegistryOptions, Severity};
use crate::error::{Error, Result};

/// One input line: JSON with `text` (and optionally `id`), or plain text.
fn parse_line(line: &str, n: usize) -> (String, String) {
    if let Ok(serde_json::Value::Object(obj)) = serde_json::from_str::<serde_json::Value>(line) {
        if let Some(text) = obj.get("text").and_then(|t| t.as_str()) {
            let id = match obj.get("id") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) if !v.is_null() => v.to_string(),
                _ => n.to_string(),
            };
            return (id, text.to_string());
        }
    }
    (n.to_string(), line.to_string())
}

/// Corrupts every input line under every spec x severity; writes one JSON object per variant, in
/// input order, then spec, then severity. Each variant's RNG depends on (seed, id, family, severity) only.
pub fn corrupt_lines(
    spec: &str,
    seed: u64,
    options: &RegistryOptions,
    input: impl BufRead,
    mut output: impl Write,
) -> Result<usize> {
    let registry = Registry::with_options(options)?;
    let specs: Vec<CorruptionSpec> = parse_specs(spec, &registry).map_err(|m| Error::input("--corruptions", m))?;
    let lines: Vec<String> = input
        .lines()
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(std::path::Path::new("<input>"), e))?;
    let items: Vec<(String, String)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| parse_line(l, n + 1))
        .collect();
    let jobs: Vec<(&CorruptionSpec, Severity)> = specs
        .iter()
        .flat_map(|s| s.severities.iter().map(move |&v| (s, v)))
        .collect();
    let records: Vec<String> = items
        .par_iter()
        .flat_map_iter(|(id, text)| {
            let registry = &registry;
            jobs.iter().map(move |(spec, severity)| {
                let v = corrupt_text(registry, spec, *severity, seed, id, text)?;
                let mut at = 0usize;
                let mut edits = Vec::new();
                for seg in edit_segments(text, &v.text) {
                    let len = seg.text.chars().count();
                    if seg.changed {
                        edits.push(json!({"start": at, "end": at + len, "text": seg.text}));
                    }
                    at += len;
                }
                Ok(json!({
                    "id": id, "clean": text, "text": v.text, "family": spec.name(), "severity": severity.level(),
                    "seed": seed, "cer": v.cer, "wer": v.wer, "edits": edits,
                })
                .to_string())
            })
        })
        .collect::<Result<_>>()?;
    for r in &records {
        writeln!(output, "{r}").map_err(|e| Error::io(std::path::Path::new("<stdout>"), e))?;
    }
    Ok(records.len())
}

/// The sentence every family's live examples corrupt.
pub const EXAMPLE: &str = "Move the pallet left of bay 7, then pick up the tote from aisle nine.";

/// One family: what it does, its calibration on a suite's texts and an example per severity.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FamilyCard {
    pub family: String,
    pub describe: String,
    pub levels: Vec<Level>,
    pub examples: Vec<String>,
}

/// Every family's card, measured on `texts` (id, text) with `seed`.
pub fn describe_families(options: &RegistryOptions, texts: &[(String, String)], seed: u64) -> Result<Vec<FamilyCard>> {
    let registry = Registry::with_options(options)?;
    registry
        .names()
        .into_iter()
        .map(|name| {
            let c = registry
                .get(name)
                .ok_or_else(|| Error::Internal(format!("family {name} vanished")))?;
            let spec = CorruptionSpec {
                chain: vec![name.to_string()],
                severities: vec![],
            };
            let examples = Severity::all()
                .iter()
                .map(|&sev| Ok(corrupt_text(&registry, &spec, sev, seed, "example", EXAMPLE)?.text))
                .collect::<Result<_>>()?;
            Ok(FamilyCard {
                family: name.to_string(),
                describe: c.describe(),
                levels: calibrate(c, texts, seed)?,
                examples,
            })
        })
        .collect()
}

/// The cards as text: per family its severity table (target, achieved on the suite, CER, WER) and examples.
pub fn render_families(cards: &[FamilyCard], suite: &str) -> String {
    let mut out = String::new();
    for card in cards {
        out.push_str(&format!("{}: {}\n", card.family, card.describe));
        out.push_str(&format!(
            "  severity  {:>18}  {:>7}  {:>8}  {:>6}  {:>6}  example\n",
            "measure", "target", "achieved", "CER", "WER"
        ));
        for (level, example) in card.levels.iter().zip(&card.examples) {
            let target = level.target.map(|t| format!("{t:.3}")).unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "  {:>8}  {:>18}  {:>7}  {:>8.3}  {:>6.3}  {:>6.3}  {}\n",
                level.severity, level.measure, target, level.achieved, level.mean_cer, level.mean_wer, example
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "achieved: measured on the test split of suite '{suite}'; example input: {EXAMPLE}\n\
         chains apply in order, e.g. asr+jargon:3; the channel family runs an external command (--channel-cmd)\n"
    ));
    out
}

/// Every family's speed on `texts` at severity 3, one thread each.
pub fn throughput(options: &RegistryOptions, texts: &[(String, String)], seconds: f64) -> Result<Vec<Throughput>> {
    let registry = Registry::with_options(options)?;
    let sev = Severity::new(3).ok_or_else(|| Error::Internal("severity 3".into()))?;
    registry
        .names()
        .into_iter()
        .filter_map(|name| registry.get(name))
        .map(|c| measure(c, texts, sev, seconds))
        .collect()
}

/// The throughput rows as a table.
pub fn render_throughput(rows: &[Throughput], suite: &str) -> String {
    let mut out = format!(
        "{:<10} {:>8} {:>10} {:>12}\n",
        "family", "severity", "MB/s", "input bytes"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<10} {:>8} {:>10.2} {:>12}\n",
            r.family, r.severity, r.mb_per_s, r.bytes
        ));
    }
    out.push_str(&format!(
        "one thread; input: the test split of suite '{suite}', repeated; includes the per-variant seeded RNG\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_plain_lines_give_one_record_per_variant_with_edit_spans() {
        let input = "{\"id\": \"a\", \"text\": \"move the pallet left\"}\nplain text line here\n\n";
        let mut out = Vec::new();
        let opts = RegistryOptions::default();
        let n = corrupt_lines("typo:5,ocr:1-2", 7, &opts, input.as_bytes(), &mut out).unwrap();
        assert_eq!(n, 2 * 3);
        let records: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(records[0]["id"], "a");
        assert_eq!(records[3]["id"], "2", "plain lines are numbered");
        for r in &records {
            let text: Vec<char> = r["text"].as_str().unwrap().chars().collect();
            for e in r["edits"].as_array().unwrap() {
                let (s, t) = (
                    e["start"].as_u64().unwrap() as usize,
                    e["end"].as_u64().unwrap() as usize,
                );
                assert_eq!(text[s..t].iter().collect::<String>(), e["text"].as_str().unwrap());
            }
        }
        let mut again = Vec::new();
        corrupt_lines("typo:5,ocr:1-2", 7, &opts, input.as_bytes(), &mut again).unwrap();
        let mut first = Vec::new();
        corrupt_lines("typo:5,ocr:1-2", 7, &opts, input.as_bytes(), &mut first).unwrap();
        assert_eq!(first, again, "same seed, same bytes");
    }

    #[test]
    fn family_listing_shows_every_family_and_severity() {
        let texts = vec![("a".to_string(), "move the pallet left of bay seven please".to_string())];
        let cards = describe_families(&RegistryOptions::default(), &texts, 1).unwrap();
        let text = render_families(&cards, "t");
        for family in ["typo", "ocr", "asr", "jargon", "l2", "l2-es", "l2-zh", "l2-hi"] {
            assert!(text.contains(&format!("{family}: ")), "{family} missing");
        }
        assert!(cards.iter().all(|c| c.levels.len() == 5 && c.examples.len() == 5));
    }
}
