//! The corruption families on the default suite: every severity lands within 25% of its target, noise
//! never falls as severity rises, and no family puts another label's word into a sentence.

mod common;

use std::collections::HashSet;

use shakedown::corrupt::calibrate::calibrate;
use shakedown::corrupt::measure::edit_distance;
use shakedown::corrupt::safety::number_value;
use shakedown::corrupt::{corrupt_text, parse_specs, Registry, RegistryOptions};
use shakedown::suite::Suite;

const FAMILIES: [&str; 8] = ["typo", "ocr", "asr", "jargon", "l2", "l2-es", "l2-zh", "l2-hi"];

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
    let registry = Registry::builtin().unwrap();
    let texts: Vec<(String, String)> = test_texts().into_iter().map(|(id, t, _)| (id, t)).collect();
    for family in FAMILIES {
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

fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn no_family_puts_another_labels_word_into_a_sentence() {
    let registry = Registry::with_options(&RegistryOptions::default()).unwrap();
    let examples = test_texts();
    let mut checked = 0usize;
    for family in FAMILIES.iter().chain(&["asr+jargon", "l2+asr"]) {
        let spec = parse_specs(&format!("{family}:1-5"), &registry).unwrap().remove(0);
        let char_level = ["typo", "ocr"].contains(family);
        for (id, clean, label) in &examples {
            let clean_words: HashSet<String> = words(clean).into_iter().collect();
            let clean_numbers: HashSet<u32> = clean_words.iter().filter_map(|w| number_value(w)).collect();
            for &sev in &spec.severities {
                let v = corrupt_text(&registry, &spec, sev, 1, id, clean).unwrap();
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
                    if let Some(n) = number_value(&w) {
                        assert!(
                            clean_numbers.contains(&n) || accidental,
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
