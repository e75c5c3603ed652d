//! `shakedown corrupt` (text in, corrupted variants with their measured noise out, as JSON lines) and
//! `shakedown corruptions` (the families, their severity tables and a live example each).

use std::fmt::Write as _;
use std::io::{BufRead, Write};

use rayon::prelude::*;

use super::calibrate::{calibrate, Level};
use super::measure::{align_chars, word_error_rate};
use super::normalise::{normalise, words};
use super::throughput::{measure, Throughput};
use super::{corrupt_chain, corrupt_text, parse_specs, CorruptionSpec, Registry, RegistryOptions, Severity};
use crate::error::{Error, Result};

/// One input line (`n` from 1) of `source` (a file's name or `<stdin>`): a JSON object with a string
/// `text` (and optionally `id`), or plain text. A JSON object without a string `text`, or a line that
/// opens like one and is not valid JSON, is an error rather than text to corrupt (its keys would come
/// back mangled as if they were the text); a byte-order mark opening the input is dropped.
fn parse_line(line: &str, n: usize, source: &str) -> Result<(String, String)> {
    let line = if n == 1 {
        line.trim_start_matches('\u{feff}')
    } else {
        line
    };
    let parsed = serde_json::from_str::<serde_json::Value>(line);
    if let (Err(e), true) = (&parsed, line.trim_start().starts_with('{')) {
        return Err(Error::input(
            format!("{source} line {n}"),
            format!("opens a JSON object but is not valid JSON ({e}); write a text that starts with {{ as {{\"text\": ...}}"),
        ));
    }
    if let Ok(serde_json::Value::Object(obj)) = parsed {
        let Some(text) = obj.get("text").and_then(|t| t.as_str()) else {
            return Err(Error::input(
                format!("{source} line {n}"),
                "a JSON object needs a string field \"text\" (plain lines are corrupted as they are)",
            ));
        };
        let id = match obj.get("id") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) if !v.is_null() => v.to_string(),
            _ => n.to_string(),
        };
        crate::suite::jsonl::not_too_long(text, "text", &format!("{source} line {n}"))?;
        return Ok((id, text.to_string()));
    }
    crate::suite::jsonl::not_too_long(line, "text", &format!("{source} line {n}"))?;
    Ok((n.to_string(), line.to_string()))
}

/// Input lines corrupted per parallel batch: large enough to keep every thread busy, small enough that
/// output starts early and memory stays flat.
const BATCH: usize = 4096;

/// Corrupts every input line under every spec x severity; writes one JSON object per variant, in
/// input order, then spec, then severity. Each variant's RNG depends on (seed, id, family, severity) only,
/// so the bytes are the same whatever the thread count. `source` names the input in errors (the file
/// or `<stdin>`), `sink` the output (a file or `<stdout>`).
pub fn corrupt_lines(
    spec: &str,
    seed: u64,
    options: &RegistryOptions,
    input: impl BufRead,
    source: &str,
    mut output: impl Write,
    sink: &str,
) -> Result<usize> {
    let registry = Registry::with_options(options)?;
    let specs: Vec<CorruptionSpec> = parse_specs(spec, &registry).map_err(|m| Error::input("--corruptions", m))?;
    if specs.is_empty() {
        return Err(Error::input(
            "--corruptions",
            "expected families such as typo:1-5,ocr:3, found an empty list",
        ));
    }
    let jobs: Vec<(&CorruptionSpec, Severity, String)> = specs
        .iter()
        .flat_map(|s| s.severities.iter().map(move |&v| (s, v, s.name())))
        .collect();
    let mut records = 0usize;
    let mut batch: Vec<(String, String)> = Vec::with_capacity(BATCH);
    let write_err = |e: std::io::Error| Error::io(std::path::Path::new(sink), e);
    let mut flush = |batch: &mut Vec<(String, String)>, output: &mut dyn Write| -> Result<()> {
        let chunks: Vec<String> = batch
            .par_iter()
            .map(|(id, text)| records_of(&registry, &jobs, seed, id, text))
            .collect::<Result<_>>()?;
        for c in &chunks {
            output.write_all(c.as_bytes()).map_err(write_err)?;
        }
        records += batch.len() * jobs.len();
        batch.clear();
        Ok(())
    };
    for item in input_lines(input, source) {
        match item {
            Ok(item) => batch.push(item),
            Err(e) => {
                // A stream: the variants of the lines before a bad one are written first.
                flush(&mut batch, &mut output)?;
                output.flush().map_err(write_err)?;
                return Err(e);
            }
        }
        if batch.len() == BATCH {
            flush(&mut batch, &mut output)?;
        }
    }
    flush(&mut batch, &mut output)?;
    output.flush().map_err(write_err)?;
    Ok(records)
}

/// Reads every line of an input as `corrupt` would, without corrupting it: the first bad line's
/// error, or the number of texts. A file is checked whole first, so its output is not left half written.
pub fn check_lines(input: impl BufRead, source: &str) -> Result<usize> {
    input_lines(input, source).try_fold(0, |n, item| item.map(|_| n + 1))
}

/// The (id, text) of every non-blank line of `input`, in order, or the error of a bad one.
fn input_lines<'a>(input: impl BufRead + 'a, source: &'a str) -> impl Iterator<Item = Result<(String, String)>> + 'a {
    input.split(b'\n').enumerate().filter_map(move |(i, bytes)| {
        let n = i + 1;
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) => return Some(Err(Error::io(std::path::Path::new(source), e))),
        };
        match std::str::from_utf8(&bytes) {
            Ok(line) if line.trim().is_empty() => None,
            Ok(line) => Some(parse_line(line.strip_suffix('\r').unwrap_or(line), n, source)),
            Err(e) => Some(Err(Error::not_utf8_line(source, n, &e))),
        }
    })
}

/// The JSON lines of one input text under every job: keys in alphabetical order (cer, clean, edits, family,
/// id, seed, severity, text, wer, wer_raw); `edits` are the changed character spans of `text`.
fn records_of(
    registry: &Registry,
    jobs: &[(&CorruptionSpec, Severity, String)],
    seed: u64,
    id: &str,
    clean: &str,
) -> Result<String> {
    // The clean side is read once per text: its characters, its words and its normalised words.
    let clean_chars: Vec<char> = clean.chars().collect();
    let clean_norm = normalise(clean);
    let clean_norm_words: Vec<&str> = words(&clean_norm).collect();
    let clean_words: Vec<&str> = words(clean).collect();
    let mut out = String::with_capacity(jobs.len() * (3 * clean.len() + 160));
    let mut hyp: Vec<char> = Vec::new();
    for (spec, severity, name) in jobs {
        let v = corrupt_chain(registry, spec, *severity, seed, id, clean)?;
        hyp.clear();
        hyp.extend(v.text.chars());
        let al = align_chars(&clean_chars, &hyp);
        let cer = if clean_chars.is_empty() {
            f64::from(u8::from(!hyp.is_empty()))
        } else {
            al.distance as f64 / clean_chars.len() as f64
        };
        let hyp_norm = normalise(&v.text);
        let mut hyp_words: Vec<&str> = Vec::with_capacity(clean_words.len() + 8);
        hyp_words.extend(words(&hyp_norm));
        let wer = word_error_rate(&clean_norm_words, &hyp_words);
        hyp_words.clear();
        hyp_words.extend(words(&v.text));
        let wer_raw = word_error_rate(&clean_words, &hyp_words);
        out.push_str("{\"cer\":");
        push_f64(&mut out, cer);
        out.push_str(",\"clean\":");
        push_json_str(&mut out, clean);
        out.push_str(",\"edits\":[");
        let mut first = true;
        let mut i = 0;
        while i < hyp.len() {
            if !al.changed[i] {
                i += 1;
                continue;
            }
            let start = i;
            while i < hyp.len() && al.changed[i] {
                i += 1;
            }
            if !first {
                out.push(',');
            }
            first = false;
            let seg: String = hyp[start..i].iter().collect();
            let mut num = itoa::Buffer::new();
            out.push_str("{\"end\":");
            out.push_str(num.format(i));
            out.push_str(",\"start\":");
            out.push_str(num.format(start));
            out.push_str(",\"text\":");
            push_json_str(&mut out, &seg);
            out.push('}');
        }
        out.push_str("],\"family\":");
        push_json_str(&mut out, name);
        out.push_str(",\"id\":");
        push_json_str(&mut out, id);
        let mut num = itoa::Buffer::new();
        out.push_str(",\"seed\":");
        out.push_str(num.format(seed));
        out.push_str(",\"severity\":");
        out.push_str(num.format(severity.level()));
        out.push_str(",\"text\":");
        push_json_str(&mut out, &v.text);
        out.push_str(",\"wer\":");
        push_f64(&mut out, wer);
        out.push_str(",\"wer_raw\":");
        push_f64(&mut out, wer_raw);
        out.push_str("}\n");
    }
    Ok(out)
}

/// A finite f64 as a JSON number (shortest form that reads back the same).
fn push_f64(out: &mut String, x: f64) {
    if x.is_finite() {
        let _ = write!(out, "{x}");
    } else {
        out.push_str("null");
    }
}

/// A JSON string literal: quotes, backslashes and control characters escaped, everything else as is.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut rest = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[rest..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        rest = i + 1;
    }
    out.push_str(&s[rest..]);
    out.push('"');
}

/// The sentence the live examples corrupt when a suite has no text the family changes.
pub const EXAMPLE: &str = "Move the pallet left of bay 7, then pick up the tote from aisle nine.";

/// Suite texts tried, in order, for one the family changes at severity 3 (so the examples show its noise).
const EXAMPLE_TRIES: usize = 200;

/// One family: what it does, its calibration on a suite's texts and an example per severity.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FamilyCard {
    pub family: String,
    pub describe: String,
    pub levels: Vec<Level>,
    /// The clean text the examples corrupt: the first of the suite's texts (up to 200 tried) the family
    /// changes at severity 3, else `EXAMPLE`.
    pub example_input: String,
    pub examples: Vec<String>,
}

/// Every family's card, measured on `texts` (id, text) with `seed`.
pub fn describe_families(options: &RegistryOptions, texts: &[(String, String)], seed: u64) -> Result<Vec<FamilyCard>> {
    let registry = Registry::with_options(options)?;
    let mid = Severity::new(3).ok_or_else(|| Error::Internal("severity 3".into()))?;
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
            let mut example = (String::from("example"), EXAMPLE.to_string());
            for (id, text) in texts.iter().take(EXAMPLE_TRIES) {
                if corrupt_text(&registry, &spec, mid, seed, id, text)?.text != *text {
                    example = (id.clone(), text.clone());
                    break;
                }
            }
            let examples = Severity::all()
                .iter()
                .map(|&sev| Ok(corrupt_text(&registry, &spec, sev, seed, &example.0, &example.1)?.text))
                .collect::<Result<_>>()?;
            Ok(FamilyCard {
                family: name.to_string(),
                describe: c.describe(),
                levels: calibrate(c, texts, seed)?,
                example_input: example.1,
                examples,
            })
        })
        .collect()
}

/// The cards as text: per family its severity table (target, achieved on the suite, CER, WER, share of texts
/// changed), its examples and any low-coverage warning.
pub fn render_families(cards: &[FamilyCard], suite: &str) -> String {
    let mut out = String::new();
    for card in cards {
        out.push_str(&format!("{}: {}\n", card.family, card.describe));
        out.push_str(&format!(
            "  severity  {:>18}  {:>7}  {:>8}  {:>6}  {:>6}  {:>7}  example: {}\n",
            "measure", "target", "achieved", "CER", "WER", "changed", card.example_input
        ));
        for (level, example) in card.levels.iter().zip(&card.examples) {
            let target = level.target.map(|t| format!("{t:.3}")).unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "  {:>8}  {:>18}  {:>7}  {:>8.3}  {:>6.3}  {:>6.3}  {:>6.0}%  {}\n",
                level.severity,
                level.measure,
                target,
                level.achieved,
                level.mean_cer,
                level.mean_wer,
                100.0 * level.changed,
                example
            ));
        }
        for level in &card.levels {
            if let Some(w) = &level.low_coverage {
                out.push_str(&format!("  WARNING: {w}\n"));
            }
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "achieved: measured on the test split of suite '{suite}' (WER after normalisation: case, punctuation and \
         number spelling do not count); changed: share of its texts the family changed\n\
         chains apply in order, e.g. asr+jargon:3; the channel family runs an external command (`run` and `corrupt` take it as --channel-cmd, a suite as [channel])\n"
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
        let input = "{\"id\": \"a\", \"text\": \"move the \\\"pallet\\\" left\\tnow\"}\nplain text line here\n\n";
        let mut out = Vec::new();
        let opts = RegistryOptions::default();
        let n = corrupt_lines(
            "typo:5,ocr:1-2",
            7,
            &opts,
            input.as_bytes(),
            "<stdin>",
            &mut out,
            "<stdout>",
        )
        .unwrap();
        assert_eq!(n, 2 * 3);
        let records: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(records[0]["id"], "a");
        assert_eq!(records[3]["id"], "2", "plain lines are numbered");
        for r in &records {
            let (clean, hyp) = (r["clean"].as_str().unwrap(), r["text"].as_str().unwrap());
            // serde_json reads floats to within an ulp.
            let close = |k: &str, v: f64| assert!((r[k].as_f64().unwrap() - v).abs() < 1e-12, "{k}: {r}");
            close("cer", crate::corrupt::measure::cer(clean, hyp));
            close("wer", crate::corrupt::measure::wer(clean, hyp));
            close("wer_raw", crate::corrupt::measure::wer_raw(clean, hyp));
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
        corrupt_lines(
            "typo:5,ocr:1-2",
            7,
            &opts,
            input.as_bytes(),
            "<stdin>",
            &mut again,
            "<stdout>",
        )
        .unwrap();
        let mut first = Vec::new();
        corrupt_lines(
            "typo:5,ocr:1-2",
            7,
            &opts,
            input.as_bytes(),
            "<stdin>",
            &mut first,
            "<stdout>",
        )
        .unwrap();
        assert_eq!(first, again, "same seed, same bytes");
    }

    #[test]
    fn json_lines_need_a_text_and_an_opening_byte_order_mark_is_dropped() {
        let options = RegistryOptions::default();
        let run = |input: &str, spec: &str| {
            let mut out = Vec::new();
            corrupt_lines(spec, 1, &options, input.as_bytes(), "<stdin>", &mut out, "<stdout>")
                .map(|_| String::from_utf8(out).unwrap())
        };
        for bad in ["{\"id\":\"a\"}\n", "{\"id\":\"a\",\"text\":5}\n"] {
            let e = run(bad, "typo:1").unwrap_err().to_string();
            assert!(e.contains("line 1") && e.contains("\"text\""), "{e}");
        }
        let out = run("\u{feff}{\"id\":\"a\",\"text\":\"move left\"}\n", "typo:1").unwrap();
        let r: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!((r["id"].as_str(), r["clean"].as_str()), (Some("a"), Some("move left")));
        assert!(run("move left\n", " ").unwrap_err().to_string().contains("empty list"));
    }

    #[test]
    fn family_listing_shows_every_family_and_severity() {
        let texts = vec![("a".to_string(), "move the pallet left of bay seven please".to_string())];
        let cards = describe_families(&RegistryOptions::default(), &texts, 1).unwrap();
        let text = render_families(&cards, "t");
        for family in [
            "typo",
            "ocr",
            "asr",
            "disfluent",
            "jargon",
            "l2",
            "l2-es",
            "l2-zh",
            "l2-hi",
        ] {
            assert!(text.contains(&format!("{family}: ")), "{family} missing");
        }
        assert!(cards.iter().all(|c| c.levels.len() == 5 && c.examples.len() == 5));
    }
}
