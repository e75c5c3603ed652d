//! The corruption families on the default suite: every severity lands within 25% of its target, noise
//! never falls as severity rises, no family puts another label's word into a sentence, `asr` never stutters
//! or fills, and the variants are the same bytes whatever the thread count.

mod common;

use std::collections::HashSet;

use shakedown::corrupt::calibrate::calibrate;
use shakedown::corrupt::measure::edit_distance;
use shakedown::corrupt::number_words::number_value;
use shakedown::corrupt::{corrupt_text, parse_specs, Registry, RegistryOptions};
use shakedown::suite::Suite;

/// The registry a run of the default suite uses (its domain and label words).
fn registry() -> Registry {
    let suite = Suite::load(&common::default_suite()).unwrap();
    Registry::with_options(&RegistryOptions::for_suite(&suite).unwrap()).unwrap()
}

fn test_texts() -> Vec<(String, String, String)> {
    let suite = Suite::load(&common::default_suite()).unwrap();
    suite
        .split("test")
        .iter()
        .map(|e| (e.id.clone(), e.text.clone(), e.label.clone().unwrap_or_default()))
        .collect()
}

#[test]
fn every_family_hits_its_targets_within_25_percent_and_rises_with_severity() {
    let registry = registry();
    let texts: Vec<(String, String)> = test_texts().into_iter().map(|(id, t, _)| (id, t)).collect();
    for family in common::FAMILIES {
        let levels = calibrate(registry.get(family).unwrap(), &texts, 1).unwrap();
        let mut last: Option<&shakedown::corrupt::calibrate::Level> = None;
        for level in &levels {
            let err = level.relative_error().unwrap();
            assert!(
                err <= 0.25,
                "{family} severity {}: {} {:.4} vs target {:.4} ({:.0}% off)",
                level.severity,
                level.measure,
                level.achieved,
                level.target.unwrap(),
                err * 100.0
            );
            if let Some(prev) = last {
                assert!(
                    level.achieved > prev.achieved
                        && level.mean_wer >= prev.mean_wer
                        && level.mean_cer >= prev.mean_cer,
                    "{family}: severity {} is not noisier than {}: {level:?} vs {prev:?}",
                    level.severity,
                    prev.severity
                );
            }
            last = Some(level);
        }
    }
}

/// The words each label of the default suite hinges on (its direction, place, action or number).
const LABEL_WORDS: [(&str, &[&str]); 10] = [
    ("move_left", &["left", "leftward", "lh"]),
    ("move_right", &["right", "rightward", "rh"]),
    ("move_forward", &["forward", "forwards", "ahead", "onward", "fwd"]),
    ("move_back", &["back", "backward", "backwards", "reverse", "rearward"]),
    ("go_dock", &["dock"]),
    ("go_bay", &["bay"]),
    ("go_aisle", &["aisle"]),
    ("stop", &["stop", "halt", "freeze"]),
    ("charge", &["charge", "charger", "charging", "recharge"]),
    ("put_away", &["stow", "shelve", "store"]),
];

fn l_words(label: &str) -> &'static [&'static str] {
    LABEL_WORDS
        .iter()
        .find(|(l, _)| *l == label)
        .map(|(_, k)| *k)
        .unwrap_or(&[])
}

/// Lowercase words without surrounding punctuation; hyphenated compounds ("forty-five") count as their
/// parts, as a recogniser writes them ("forty five").
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '-')
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn no_family_puts_another_labels_word_into_a_sentence() {
    let registry = registry();
    let examples = test_texts();
    let mut checked = 0usize;
    for family in common::FAMILIES
        .iter()
        .chain(&["asr+jargon", "l2+asr", "disfluent+asr"])
    {
        let spec = parse_specs(&format!("{family}:1-5"), &registry).unwrap().remove(0);
        let char_level = ["typo", "ocr"].contains(family);
        for (id, clean, label) in &examples {
            let clean_words: HashSet<String> = words(clean).into_iter().collect();
            let clean_numbers: HashSet<u32> = clean_words.iter().filter_map(|w| number_value(w)).collect();
            for &sev in &spec.severities {
                let v = corrupt_text(&registry, &spec, sev, 1, id, clean).unwrap();
                // Numbers in digits as a multiset: a typo or ocr variant holds no more of any number than
                // the clean text, spelled or in digits ("18 ... 8" -> "8 ... 8" writes a second 8; "twelve" -> "12"
                // writes none).
                let numbers = |t: &str, digits_only: bool| -> Vec<u32> {
                    words(t)
                        .iter()
                        .filter(|w| !digits_only || w.chars().any(|c| c.is_ascii_digit()))
                        .filter_map(|w| number_value(w))
                        .collect()
                };
                let digit_numbers = |t: &str| numbers(t, true);
                let mut held = numbers(clean, false);
                // (Character noise only: `disfluent` repeats a word, a number too, by design.)
                for n in digit_numbers(&v.text).into_iter().filter(|_| char_level) {
                    let at = held.iter().position(|&h| h == n);
                    assert!(
                        at.is_some(),
                        "{family}:{} wrote a number {n} more than {id} held: '{clean}' -> '{}'",
                        sev.level(),
                        v.text
                    );
                    held.swap_remove(at.unwrap_or(0));
                }
                for w in words(&v.text) {
                    if clean_words.contains(&w) {
                        continue;
                    }
                    // Keyboard and glyph noise may hit another word by accident, one or two edits away from
                    // a word that was there; a table-driven family may never introduce one.
                    let accidental = char_level
                        && clean_words.iter().any(|c| {
                            edit_distance(&c.chars().collect::<Vec<_>>(), &w.chars().collect::<Vec<_>>()) <= 2
                        });
                    // A synonym of a word the sentence already had ("back" -> "reverse") changes no label.
                    let synonym = |keys: &[&str]| keys.iter().any(|k| clean_words.contains(*k));
                    for (other, keys) in LABEL_WORDS.iter().filter(|(l, _)| l != label && !synonym(l_words(l))) {
                        assert!(
                            !keys.contains(&w.as_str()) || accidental,
                            "{family}:{} put '{w}' ({other}) into {id} ({label}): '{clean}' -> '{}'",
                            sev.level(),
                            v.text
                        );
                    }
                    // A number in digits is never another's, not even by accident: the expected answer
                    // would be wrong for the variant. A spelled one ("tow" -> "two") may be a slip.
                    if let Some(n) = number_value(&w) {
                        let digits = w.chars().any(|c| c.is_ascii_digit());
                        assert!(
                            clean_numbers.contains(&n) || (accidental && !digits),
                            "{family}:{} put the number {n} into {id}: '{clean}' -> '{}'",
                            sev.level(),
                            v.text
                        );
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10_000, "only {checked} changed words checked");
}

/// A recogniser drops hesitations and does not stutter: `asr` output has no filler and no word repeated
/// right after itself unless the clean text had that repeat; `disfluent` has them.
#[test]
fn asr_has_no_fillers_or_repetitions_and_disfluent_has_them() {
    let registry = registry();
    let fillers = ["uh", "um", "er", "hmm", "mm", "erm"];
    let mut disfluent_marks = 0usize;
    for (id, clean, _) in test_texts() {
        let clean_words = words(&clean);
        let clean_repeats = clean_words.windows(2).filter(|p| p[0] == p[1]).count();
        for sev in shakedown::corrupt::Severity::all() {
            let spec = parse_specs("asr", &registry).unwrap().remove(0);
            let v = corrupt_text(&registry, &spec, sev, 1, &id, &clean).unwrap();
            let w = words(&v.text);
            let count_fillers = |ws: &[String]| ws.iter().filter(|x| fillers.contains(&x.as_str())).count();
            // A filler the clean text already has ("hmm level 1 on the forks") may stay; none is added.
            assert!(
                count_fillers(&w) <= count_fillers(&clean_words),
                "filler in asr:{}: '{clean}' -> '{}'",
                sev.level(),
                v.text
            );
            assert!(
                w.windows(2).filter(|p| p[0] == p[1]).count() <= clean_repeats,
                "repetition in asr:{}: '{clean}' -> '{}'",
                sev.level(),
                v.text
            );
            let spec = parse_specs("disfluent", &registry).unwrap().remove(0);
            let d = words(&corrupt_text(&registry, &spec, sev, 1, &id, &clean).unwrap().text);
            disfluent_marks += d.iter().filter(|x| fillers.contains(&x.as_str())).count()
                + d.windows(2)
                    .filter(|p| p[0] == p[1])
                    .count()
                    .saturating_sub(clean_repeats);
        }
    }
    assert!(
        disfluent_marks > 1000,
        "disfluent made only {disfluent_marks} fillers and repetitions"
    );
}

/// `shakedown corrupt` writes the same bytes on one thread and on two.
#[test]
fn corrupt_output_is_the_same_bytes_on_one_and_two_threads() {
    let input: String = test_texts()
        .iter()
        .take(300)
        .map(|(id, t, _)| {
            format!(
                "{{\"id\": \"{id}\", \"text\": {}}}\n",
                serde_json::to_string(t).unwrap()
            )
        })
        .collect();
    let run = |threads: &str| {
        let o = common::shakedown_stdin(
            &[
                "corrupt",
                "--corruptions",
                "typo:2,asr:1-5,disfluent:3,asr+jargon:4",
                "--threads",
                threads,
            ],
            &input,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    let one = run("1");
    assert_eq!(one.iter().filter(|&&b| b == b'\n').count(), 300 * 8);
    assert_eq!(one, run("2"));
}

/// A suite folder beside the default suite's data and model, with `extra` appended to its suite.toml.
fn suite_with(extra: &str, lexicon: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let default = common::default_suite();
    std::fs::copy(default.join("data.jsonl"), dir.path().join("data.jsonl")).unwrap();
    let toml = format!(
        "name = \"own-jargon\"\nlabels = {}\ndata = [\"data.jsonl\"]\nmodel = {:?}\n{extra}\n",
        serde_json::to_string(&Suite::load(&default).unwrap().file.labels).unwrap(),
        default.join("model").to_str().unwrap()
    );
    std::fs::write(dir.path().join("suite.toml"), toml).unwrap();
    if let Some(l) = lexicon {
        std::fs::write(dir.path().join("jargon.tsv"), l).unwrap();
    }
    dir
}

fn jargon_of(dir: &std::path::Path, text: &str) -> String {
    let suite = Suite::load(dir).unwrap();
    let registry = Registry::with_options(&RegistryOptions::for_suite(&suite).unwrap()).unwrap();
    let spec = parse_specs("jargon:5", &registry).unwrap().remove(0);
    corrupt_text(&registry, &spec, spec.severities[0], 1, "x", text)
        .unwrap()
        .text
}

/// `[jargon] lexicon` adds a team's own terms to the domain's (merge) or stands alone (replace).
#[test]
fn a_suites_own_lexicon_merges_with_or_replaces_the_domain() {
    let own = "tote\tblue bin\tslang\n";
    let text = "pick up the tote from the pallet";
    let merged = suite_with(
        "domain = \"warehouse\"\n[jargon]\nlexicon = \"jargon.tsv\"\n",
        Some(own),
    );
    let out = jargon_of(merged.path(), text);
    assert!(out.contains("blue bin") && !out.contains("pallet"), "merge: {out}");
    let replaced = suite_with(
        "domain = \"warehouse\"\n[jargon]\nlexicon = \"jargon.tsv\"\nmode = \"replace\"\n",
        Some(own),
    );
    let out = jargon_of(replaced.path(), text);
    assert!(out.contains("blue bin") && out.contains("pallet"), "replace: {out}");
    // `corrupt --suite` uses the suite's lexicon as a run does; without it, the built-in domain's.
    let corrupt = |extra: &[&str]| {
        let mut args = vec!["corrupt", "--corruptions", "jargon:5"];
        args.extend_from_slice(extra);
        let o = common::shakedown_stdin(&args, format!("{text}\n"));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let line: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        line["text"].as_str().unwrap().to_string()
    };
    let out = corrupt(&["--suite", replaced.path().to_str().unwrap()]);
    assert!(
        out.contains("blue bin") && out.contains("pallet"),
        "corrupt --suite: {out}"
    );
    assert!(!corrupt(&[]).contains("blue bin"));
    // A broken lexicon names its file and line; a missing one names the suite field.
    let broken = suite_with("[jargon]\nlexicon = \"jargon.tsv\"\n", Some("tote\tblue bin\n"));
    let suite = Suite::load(broken.path()).unwrap();
    let e = RegistryOptions::for_suite(&suite).unwrap_err().to_string();
    assert!(e.contains("jargon.tsv") && e.contains("line 1"), "{e}");
    let missing = suite_with("[jargon]\nlexicon = \"nope.tsv\"\n", None);
    let e = RegistryOptions::for_suite(&Suite::load(missing.path()).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("[jargon] lexicon") && e.contains("nope.tsv"), "{e}");
}

/// A family that changes under half of the texts is flagged by `corruptions` and by a run (terminal table
/// and summary.json), instead of its "100.0 (-0.0)" reading as robustness.
#[test]
fn low_coverage_is_flagged_by_corruptions_and_by_runs() {
    let dir = suite_with("domain = \"clinical\"\n", None);
    let o = common::shakedown(&["corruptions", "--suite", dir.path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("WARNING: jargon changed only"), "{stdout}");
    assert!(!stdout.contains("WARNING: typo"), "{stdout}");
    let out = dir.path().join("run");
    let o = common::shakedown(&[
        "run",
        "--suite",
        dir.path().to_str().unwrap(),
        "--schemes",
        "f32",
        "--no-sustain",
        "--limit",
        "60",
        "--corruptions",
        "jargon:3,typo:3",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.code().unwrap_or(3) <= 1,
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("warning: jargon changed only"), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let families = summary["schemes"][0]["families"].as_array().unwrap();
    assert!(families[0]["low_coverage"]
        .as_str()
        .unwrap()
        .contains("jargon changed only"));
    assert!(families[1]["low_coverage"].is_null());
    assert!(families[1]["severities"][0]["changed"].as_f64().unwrap() > 50.0);
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("jargon changed only"));
}
