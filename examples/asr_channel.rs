//! Measures recorded speech-channel transcripts (JSON lines `{"id", "severity", "clean", "text"}`, made by
//! `scripts/asr_validation/record_channel.py`) and compares the `asr` family with them.
//!
//!   cargo run --release --example asr_channel -- profile REC.jsonl [REC2.jsonl ...] [--suite DIR] > corruptions/asr/channel_profile.toml
//!       per channel severity: its per-class error rates and error-region shapes, and the `asr` model's
//!       parameters fitted to reproduce them
//!   cargo run --release --example asr_channel -- compare REC.jsonl [REC2.jsonl ...] [--suite DIR] [--family asr] [--seed 1] [--draws 4]
//!       per channel severity: normalised WER and op mix of the real channel (the counts of every recording
//!       pooled: draws of the channel on the same texts), and of the family at the same WER (interpolated
//!       between the family's severities; the counts of seeds seed..seed+draws pooled, on each text once, as
//!       tests/channel_validation.rs pools them), as a markdown table

use std::collections::BTreeMap;
use std::path::PathBuf;

use shakedown::corrupt::asr::lexicon::Lexicon;
use shakedown::corrupt::asr::profile::{Level, Shape};
use shakedown::corrupt::asr::Asr;
use shakedown::corrupt::opmix::{at_wer, opmix, OpMix};
use shakedown::corrupt::wordclass::WordClass;
use shakedown::corrupt::{corrupt_text, parse_specs, variant_rng, Registry, RegistryOptions, Severity};
use shakedown::suite::Suite;

struct Row {
    id: String,
    severity: u8,
    clean: String,
    text: String,
}

fn read(path: &str) -> Result<Vec<Row>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).map_err(|e| format!("{path}: {e}"))?;
            let s = |k: &str| {
                v[k].as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{path}: no {k} in {l}"))
            };
            Ok(Row {
                id: s("id")?,
                severity: v["severity"].as_u64().ok_or_else(|| format!("{path}: no severity"))? as u8,
                clean: s("clean")?,
                text: s("text")?,
            })
        })
        .collect()
}

fn by_severity(rows: &[Row]) -> BTreeMap<u8, Vec<&Row>> {
    let mut m: BTreeMap<u8, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        m.entry(r.severity).or_default().push(r);
    }
    m
}

/// Shares of each shape within a group's regions.
fn shares(mix: &OpMix, group: &str) -> BTreeMap<String, f64> {
    let Some(t) = mix.shapes.get(group) else {
        return BTreeMap::new();
    };
    let total: usize = t.values().sum();
    t.iter()
        .map(|(k, &v)| (k.clone(), v as f64 / total.max(1) as f64))
        .collect()
}

fn to_shapes(m: &BTreeMap<String, f64>) -> Vec<(Shape, f64)> {
    m.iter()
        .filter_map(|(k, &v)| {
            let (n, mm) = k.split_once('-')?;
            Some((
                Shape {
                    n: n.parse().ok()?,
                    m: mm.parse().ok()?,
                },
                v,
            ))
        })
        .collect()
}

/// Measures the channel per severity, then fits the model's anchor weights, shape mix, function reach and
/// budget scale so that the family, run on the same clean texts at the channel's WER, reproduces the
/// measured class error rates, shape shares, share of function words in multi-word regions and WER
/// (multiplicative updates, damped, FIT_ROUNDS rounds of FIT_DRAWS draws per text).
/// Rounds of the fit, and draws of every text per round.
const FIT_ROUNDS: u64 = 16;
const FIT_DRAWS: u64 = 4;

fn profile(args: &[String]) -> Result<(), String> {
    let paths = recordings(args);
    if paths.is_empty() {
        return Err("profile: expected one or more recordings".into());
    }
    let path = paths.join(" ");
    let suite_dir = flag(args, "--suite").unwrap_or_else(|| "suites/spoken-requests".into());
    let suite = Suite::load(&PathBuf::from(&suite_dir)).map_err(|e| e.to_string())?;
    let options = RegistryOptions::for_suite(&suite).map_err(|e| e.to_string())?;
    let asr = Asr::builtin(&options.label_words).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for p in &paths {
        rows.extend(read(p)?);
    }
    let lex = Lexicon::get()?;
    let groups = by_severity(&rows);
    let sevs: Vec<String> = groups.keys().map(|s| s.to_string()).collect();
    println!("# The real speech channel as the asr family copies it (src/corrupt/asr/profile.rs): one [[level]] per");
    println!("# channel severity (SNR) recorded, interpolated in WER between them.");
    println!("# Made by `cargo run --release --example asr_channel -- profile {path} --suite {suite_dir}`");
    println!(
        "# from {} transcripts (channel severities {}) of scripts/asr_channel.py:",
        rows.len(),
        sevs.join(", ")
    );
    println!("# espeak-ng -> pink noise -> Whisper tiny.en; texts and transcripts normalised (Whisper's rules).");
    println!("# class_error_rate and measured_shapes are measured; anchor_weight, shapes, function_reach and budget_scale are");
    println!("# fitted so that the model reproduces them on the same texts. License: measured by the project, CC0.");
    println!("source = {:?}", format!("{path}: {} transcripts", rows.len()));
    for (sev, rs) in &groups {
        let real = opmix(rs.iter().map(|r| (r.clean.as_str(), r.text.as_str())), lex);
        let mut level = Level {
            wer: real.wer,
            anchor_weight: std::array::from_fn(|k| real.class_error_rate(WordClass::ALL[k]).max(1e-3)),
            budget_scale: 1.0,
            function_reach: 1.0,
            content_shapes: to_shapes(&shares(&real, "content")),
            function_shapes: to_shapes(&shares(&real, "function")),
        };
        // Shape weights: the measured shares times three fitted factors, for shapes of two or more clean words
        // (which more often find no place or no word that sounds alike and fall back to a one-word
        // substitution), shapes that add words (m > n) and shapes that lose words (m < n). A one-word split
        // (1-2) places as easily as a substitution: it takes only the factor for adding words.
        let measured = (level.content_shapes.clone(), level.function_shapes.clone());
        let (mut multi, mut adds, mut loses) = (1.0f64, 1.0f64, 1.0f64);
        let reweigh = |v: &[(Shape, f64)], multi: f64, adds: f64, loses: f64| -> Vec<(Shape, f64)> {
            v.iter()
                .map(|&(s, w)| {
                    let mut w = w;
                    if s.n >= 2 {
                        w *= multi;
                    }
                    if s.m > s.n {
                        w *= adds;
                    }
                    if s.m < s.n {
                        w *= loses;
                    }
                    (s, w)
                })
                .collect()
        };
        for round in 0..FIT_ROUNDS {
            level.content_shapes = reweigh(&measured.0, multi, adds, loses);
            level.function_shapes = reweigh(&measured.1, multi, adds, loses);
            // Several draws per text: the shares of rare operations (deletions are ~5 % of the edits) are
            // otherwise measured from a few dozen events and the fit chases their noise.
            let outs: Vec<(String, String)> = (0..FIT_DRAWS)
                .flat_map(|draw| {
                    rs.iter().map(move |r| {
                        let rng = variant_rng(round * FIT_DRAWS + draw, &r.id, "asr-fit", Severity::new(1).unwrap());
                        (r.clean.clone(), (r.clean.as_str(), rng))
                    })
                })
                .map(|(clean, (text, mut rng))| {
                    let heard = asr
                        .corrupt_at(text, level.wer, &level, &mut rng)
                        .map_err(|e| e.to_string())?
                        .text;
                    Ok((clean, heard))
                })
                .collect::<Result<_, String>>()?;
            let synth = opmix(outs.iter().map(|(a, b)| (a.as_str(), b.as_str())), lex);
            eprintln!("severity {sev} round {round}: {}", line("fit", &synth));
            eprintln!(
                "  class error rates real / fit: {}; function share in multi-word content regions {:.3} / {:.3}",
                WordClass::ALL
                    .iter()
                    .map(|&c| format!(
                        "{} {:.3}/{:.3}",
                        c.name(),
                        real.class_error_rate(c),
                        synth.class_error_rate(c)
                    ))
                    .collect::<Vec<_>>()
                    .join(", "),
                real.multi_content_function_share(),
                synth.multi_content_function_share()
            );
            let damp = |r: f64, s: f64| {
                if r > 0.0 && s > 0.0 {
                    (r / s).clamp(0.25, 4.0).powf(0.6)
                } else {
                    1.0
                }
            };
            for c in WordClass::ALL {
                level.anchor_weight[c.index()] *= damp(real.class_error_rate(c), synth.class_error_rate(c));
            }
            level.budget_scale *= damp(real.wer, synth.wer);
            level.function_reach = (level.function_reach
                * damp(
                    real.multi_content_function_share(),
                    synth.multi_content_function_share(),
                ))
            .clamp(1e-3, 1e3);
            multi *= damp(real.clean_multiword_share(), synth.clean_multiword_share());
            adds *= damp(real.ins_share(), synth.ins_share());
            loses *= damp(real.del_share(), synth.del_share());
        }
        eprintln!(
            "severity {sev}: multi-word x{multi:.3}, adding x{adds:.3}, losing x{loses:.3}, function reach {:.3} \
             (real share of function words in multi-word content regions {:.3})",
            level.function_reach,
            real.multi_content_function_share()
        );
        println!();
        println!(
            "# Channel severity {sev}: {} clean words, {} error regions.",
            real.clean_words, real.regions
        );
        println!("[[level]]");
        println!("wer = {:.4}", real.wer);
        println!("texts = {}", real.texts);
        println!("budget_scale = {:.4}", level.budget_scale);
        println!(
            "function_reach = {:.4}  # fitted: multi-word regions on content words are {:.3} function words",
            level.function_reach,
            real.multi_content_function_share()
        );
        println!("[level.class_error_rate]  # measured: share of the class's clean words substituted or deleted");
        for c in WordClass::ALL {
            println!(
                "{} = {:.4}  # of {} words",
                c.name(),
                real.class_error_rate(c),
                real.class_words[c.index()]
            );
        }
        println!("[level.anchor_weight]  # fitted");
        for c in WordClass::ALL {
            println!("{} = {:.4}", c.name(), level.anchor_weight[c.index()]);
        }
        for (group, shapes) in &real.shapes {
            println!("[level.measured_shapes.{group}]  # error regions N-M (N clean words heard as M): counts");
            for (shape, n) in shapes {
                println!("\"{shape}\" = {n}");
            }
        }
        for (group, shapes) in [("content", &level.content_shapes), ("function", &level.function_shapes)] {
            let total: f64 = shapes.iter().map(|(_, w)| w).sum();
            println!("[level.shapes.{group}]  # fitted: shares drawn");
            for (shape, w) in shapes {
                println!("\"{}-{}\" = {:.4}", shape.n, shape.m, w / total.max(1e-12));
            }
        }
    }
    Ok(())
}

/// The positional arguments before the first flag: recording files.
fn recordings(args: &[String]) -> Vec<String> {
    args.iter().take_while(|a| !a.starts_with("--")).cloned().collect()
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn line(label: &str, m: &OpMix) -> String {
    format!(
        "| {label} | {:.3} | {:.2} / {:.2} / {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
        m.wer,
        m.sub_share(),
        m.del_share(),
        m.ins_share(),
        m.content_error_share(),
        m.multiword_share(),
        m.content_kept_share(),
        m.function_kept_share()
    )
}

fn compare(args: &[String]) -> Result<(), String> {
    let paths = recordings(args);
    if paths.is_empty() {
        return Err("compare: expected one or more recordings".into());
    }
    let suite_dir = PathBuf::from(flag(args, "--suite").unwrap_or_else(|| "suites/spoken-requests".into()));
    let family = flag(args, "--family").unwrap_or_else(|| "asr".into());
    let seed: u64 = flag(args, "--seed")
        .unwrap_or_else(|| "1".into())
        .parse()
        .map_err(|_| "--seed: a number")?;
    let draws: u64 = flag(args, "--draws")
        .unwrap_or_else(|| "4".into())
        .parse()
        .ok()
        .filter(|&d| d >= 1)
        .ok_or("--draws: a number of seeds, at least 1")?;
    let last_seed = seed.checked_add(draws).ok_or("--seed + --draws: too large")?;
    let suite = Suite::load(&suite_dir).map_err(|e| e.to_string())?;
    let options = RegistryOptions::for_suite(&suite).map_err(|e| e.to_string())?;
    let registry = Registry::with_options(&options).map_err(|e| e.to_string())?;
    let spec = parse_specs(&format!("{family}:1-5"), &registry)?.remove(0);
    let lex = Lexicon::get()?;
    let mut rows = Vec::new();
    for p in &paths {
        rows.extend(read(p)?);
    }
    let groups = by_severity(&rows);
    println!("| | WER | sub / del / ins | errors on content | multi-word | content kept | function kept |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (sev, rs) in &groups {
        let real = opmix(rs.iter().map(|r| (r.clean.as_str(), r.text.as_str())), lex);
        let synth: Vec<OpMix> = Severity::all()
            .iter()
            .map(|&s| {
                // Each text once, however many draws of the channel recorded it.
                let mut seen = std::collections::HashSet::new();
                let texts: Vec<&&Row> = rs.iter().filter(|r| seen.insert(r.id.as_str())).collect();
                let outs: Vec<(String, String)> = (seed..last_seed)
                    .flat_map(|seed| texts.iter().map(move |r| (seed, r)))
                    .map(|(seed, r)| {
                        let v = corrupt_text(&registry, &spec, s, seed, &r.id, &r.clean).map_err(|e| e.to_string())?;
                        Ok((r.clean.clone(), v.text))
                    })
                    .collect::<Result<_, String>>()?;
                Ok(opmix(outs.iter().map(|(a, b)| (a.as_str(), b.as_str())), lex))
            })
            .collect::<Result<_, String>>()?;
        println!("{}", line(&format!("channel {sev}"), &real));
        let curve = |f: &dyn Fn(&OpMix) -> f64| -> Vec<(f64, f64)> { synth.iter().map(|m| (m.wer, f(m))).collect() };
        let at = |f: &dyn Fn(&OpMix) -> f64| at_wer(&curve(f), real.wer).map_or("-".to_string(), |v| format!("{v:.2}"));
        println!(
            "| {family} at WER {:.3} | | {} / {} / {} | {} | {} | {} | {} |",
            real.wer,
            at(&OpMix::sub_share),
            at(&OpMix::del_share),
            at(&OpMix::ins_share),
            at(&OpMix::content_error_share),
            at(&OpMix::multiword_share),
            at(&OpMix::content_kept_share),
            at(&OpMix::function_kept_share),
        );
        if *sev == *groups.keys().next().unwrap_or(&0) {
            for (s, m) in synth.iter().enumerate() {
                eprintln!("{}", line(&format!("{family} severity {}", s + 1), m));
            }
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("profile") => profile(&args[1..]),
        Some("compare") => compare(&args[1..]),
        _ => {
            Err("usage: asr_channel profile REC.jsonl... | compare REC.jsonl... [--suite DIR] [--family F] [--seed N] [--draws N]".into())
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
