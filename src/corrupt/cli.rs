//! `shakedown corrupt` (text in, corrupted variants with their measured noise out, as JSON lines) and
//! `shakedown corruptions` (the families, their severity tables and a live example each).

use std::io::{BufRead, Write};

use rayon::prelude::*;
use serde_json::json;

use super::measure::edit_segments;
use super::{corrupt_text, parse_specs, CorruptionSpec, Registry, Severity};
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
pub fn corrupt_lines(spec: &str, seed: u64, input: impl BufRead, mut output: impl Write) -> Result<usize> {
    let registry = Registry::builtin()?;
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
                let v = corrupt_text(registry, spec, *severity, seed, id, text);
                let mut at = 0usize;
                let mut edits = Vec::new();
                for seg in edit_segments(text, &v.text) {
                    let len = seg.text.chars().count();
                    if seg.changed {
                        edits.push(json!({"start": at, "end": at + len, "text": seg.text}));
                    }
                    at += len;
                }
                json!({
                    "id": id, "clean": text, "text": v.text, "family": spec.name(), "severity": severity.level(),
                    "seed": seed, "cer": v.cer, "wer": v.wer, "edits": edits,
                })
                .to_string()
            })
        })
        .collect();
    for r in &records {
        writeln!(output, "{r}").map_err(|e| Error::io(std::path::Path::new("<stdout>"), e))?;
    }
    Ok(records.len())
}

/// The families with their per-severity rates and an example of each severity.
pub fn describe_families() -> Result<String> {
    let registry = Registry::builtin()?;
    let example = "Move the pallet left of bay 7, then pick up tote 12 from aisle nine.";
    let mut out = String::new();
    for name in registry.names() {
        let Some(c) = registry.get(name) else { continue };
        out.push_str(&format!("{name}: {}\n", c.describe()));
        let rates = match name {
            "typo" => super::typo::TYPO_RATE,
            _ => super::ocr::OCR_RATE,
        };
        let spec = CorruptionSpec {
            chain: vec![name.to_string()],
            severities: vec![],
        };
        for (i, rate) in rates.iter().enumerate() {
            let Some(sev) = Severity::new(i as u8 + 1) else {
                continue;
            };
            let v = corrupt_text(&registry, &spec, sev, 1, "example", example);
            out.push_str(&format!(
                "  severity {}: error rate {rate:.2}/char   CER {:.3}  {}\n",
                i + 1,
                v.cer,
                v.text
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "example input: {example}\nchains apply in order, e.g. typo+ocr:3\n"
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_plain_lines_give_one_record_per_variant_with_edit_spans() {
        let input = "{\"id\": \"a\", \"text\": \"move the pallet left\"}\nplain text line here\n\n";
        let mut out = Vec::new();
        let n = corrupt_lines("typo:5,ocr:1-2", 7, input.as_bytes(), &mut out).unwrap();
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
        corrupt_lines("typo:5,ocr:1-2", 7, input.as_bytes(), &mut again).unwrap();
        let mut first = Vec::new();
        corrupt_lines("typo:5,ocr:1-2", 7, input.as_bytes(), &mut first).unwrap();
        assert_eq!(first, again, "same seed, same bytes");
    }

    #[test]
    fn family_listing_shows_every_family_and_severity() {
        let text = describe_families().unwrap();
        assert!(text.contains("typo:") && text.contains("ocr:") && text.matches("severity 5").count() == 2);
    }
}
