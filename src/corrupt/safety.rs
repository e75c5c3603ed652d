//! Words whose change would change what a sentence asks for: directions, numbers, negations and the
//! words that halt a machine.
//! Noise models may mishear, misread or mistype them (that is the noise), but a table-driven
//! replacement must never turn one of them into another one: no antonym swaps, no other number.

use super::number_words::number_value;

/// Direction and polarity words: a replacement may keep them but never introduce them.
const DIRECTIONS: [&str; 16] = [
    "left",
    "right",
    "forward",
    "forwards",
    "back",
    "backward",
    "backwards",
    "ahead",
    "up",
    "down",
    "north",
    "south",
    "east",
    "west",
    "above",
    "below",
];

const NEGATIONS: [&str; 9] = [
    "no", "not", "never", "don't", "dont", "doesn't", "can't", "cannot", "won't",
];

/// Words that stop a machine: turning any other word into one of them turns a command into its opposite.
const HALTS: [&str; 6] = ["stop", "halt", "freeze", "abort", "cancel", "e-stop"];

/// True when `word` carries direction, number, negation or halt meaning.
pub fn is_guarded(word: &str) -> bool {
    let w = word.to_lowercase();
    DIRECTIONS.contains(&w.as_str())
        || NEGATIONS.contains(&w.as_str())
        || HALTS.contains(&w.as_str())
        || number_value(&w).is_some()
}

/// A word of a replacement as the safety check reads it: lower case, punctuation trimmed (an apostrophe kept).
fn checked_word(w: &str) -> String {
    w.to_lowercase()
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
        .to_string()
}

/// True when some word of `text` carries guarded meaning: a replacement without one is safe whatever it
/// replaces (`replacement_is_safe`), so callers that check many candidates can skip the rest of the check.
pub fn has_guarded_word(text: &str) -> bool {
    text.split_whitespace().any(|w| is_guarded(&checked_word(w)))
}

/// True when replacing `from` by `to` (one or more words) introduces no guarded meaning that `from`
/// lacks: every guarded word of `to` must be a guarded word of `from` or spell the same number.
pub fn replacement_is_safe(from: &str, to: &str) -> bool {
    let source: Vec<String> = from.split_whitespace().map(str::to_lowercase).collect();
    let numbers: Vec<u32> = source.iter().filter_map(|w| number_value(w)).collect();
    to.split_whitespace().all(|w| {
        let w = checked_word(w);
        let w = w.as_str();
        if !is_guarded(w) {
            return true;
        }
        match number_value(w) {
            Some(v) => numbers.contains(&v),
            // Every halt word means the same: "stop" may become "halt".
            None if HALTS.contains(&w) => source.iter().any(|s| HALTS.contains(&s.as_str())),
            None => source.iter().any(|s| s == w),
        }
    })
}

/// Numbers written with digits among the words of `text` (split at spaces and hyphens, outer
/// punctuation trimmed, as the label-safety test reads words).
pub fn digit_numbers(text: &str) -> Vec<u32> {
    text.split(|c: char| c.is_whitespace() || c == '-')
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
        .filter_map(number_value)
        .collect()
}

/// True when `noisy` holds no number in digits beyond `held`, the clean text's (`digit_numbers`, read
/// once per text): character noise may garble a number ("18" -> "l8") but not make another ("18" ->
/// "28", "1 8", "8", "188"), which would change what the text asks for while its expected answer stays
/// the clean text's. Numbers are compared as a multiset (dropping the 1 of "18" beside an "8" still
/// writes a second 8). Whole numbers only, as `number_value` reads them ("18", "7th"): "7:45" or "1.5"
/// are not guarded. Edits harmless alone that write a number together ("of" -> "6f" -> "6", "1 i 8" ->
/// "18") are caught because the whole text each family would write is judged.
pub fn keeps_numbers(held: &[u32], noisy: &str) -> bool {
    let mut held = held.to_vec();
    digit_numbers(noisy)
        .into_iter()
        .all(|n| match held.iter().position(|&h| h == n) {
            Some(i) => {
                held.swap_remove(i);
                true
            }
            None => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `keeps_numbers` for `chars` with `edits` (each `(at, len, to)`; apart, in any order) applied.
    fn edits_keep_numbers(chars: &[char], edits: &[(usize, usize, &str)]) -> bool {
        let mut sorted = edits.to_vec();
        sorted.sort_by_key(|e| e.0);
        let (mut after, mut i) = (String::new(), 0);
        for (at, len, to) in sorted {
            after.extend(&chars[i..at]);
            after.push_str(to);
            i = at + len;
        }
        after.extend(&chars[i..]);
        keeps_numbers(&digit_numbers(&chars.iter().collect::<String>()), &after)
    }

    #[test]
    fn character_edits_may_garble_a_number_but_not_make_another() {
        let chars = |t: &str| t.chars().collect::<Vec<_>>();
        let one = |t: &str, at, len, to| edits_keep_numbers(&chars(t), &[(at, len, to)]);
        let text = "bay 18 row 8";
        assert!(one(text, 4, 1, "l"), "18 -> l8: garbled");
        assert!(one(text, 0, 1, "h"), "no number touched");
        assert!(!one(text, 4, 1, "2"), "18 -> 28");
        assert!(!one(text, 4, 1, ""), "18 -> 8 beside another 8");
        assert!(!one(text, 4, 1, "1 "), "18 -> 1 8");
        assert!(!one(text, 5, 1, "88"), "18 -> 188");
        assert!(!one("7 8", 1, 1, ""), "7 8 -> 78");
        assert!(!one("bay I", 4, 1, "1"), "a letter read as a digit");
        assert!(one("bay 5", 4, 1, "5,"), "the same number, punctuated");
        // Two edits harmless alone write a number together: "of" -> "6f" -> "6".
        let of = chars("forward of aisle");
        assert!(edits_keep_numbers(&of, &[(8, 1, "6")]) && edits_keep_numbers(&of, &[(9, 1, "")]));
        assert!(!edits_keep_numbers(&of, &[(8, 1, "6"), (9, 1, "")]));
        // Edits across a separator: "1 i 8" -> "18" by two deletions, "2 x 4" -> "24" by three.
        let spaced = chars("1 i 8");
        assert!(!edits_keep_numbers(&spaced, &[(2, 2, ""), (1, 1, "")]));
        assert!(!edits_keep_numbers(
            &chars("2 x 4"),
            &[(1, 1, ""), (2, 1, ""), (3, 1, "")]
        ));
        // A multiset: "18 ... 8" -> "8 ... 8" writes a second 8.
        assert!(
            !keeps_numbers(&digit_numbers("bay 18 row 8"), "bay 8 row 8")
                && keeps_numbers(&digit_numbers("bay 18 row 8"), "bay l8 row 8")
        );
    }

    #[test]
    fn no_antonyms_or_other_numbers() {
        assert!(replacement_is_safe("left", "LH"));
        assert!(replacement_is_safe("left", "left-hand side"));
        assert!(!replacement_is_safe("left", "right"));
        assert!(!replacement_is_safe("to", "two"));
        assert!(replacement_is_safe("seven", "7th"));
        assert!(!replacement_is_safe("seven", "eleven"));
        assert!(!replacement_is_safe("now", "not"));
        assert!(replacement_is_safe("pallet", "palette"));
        assert!(!replacement_is_safe("stow", "stop"));
        assert!(replacement_is_safe("stop", "halt"));
        // A replacement with no guarded word is safe whatever it replaces.
        for (from, to) in [
            ("left", "palette lift"),
            ("seven", "heaven"),
            ("stop", "shop"),
            ("no", "know"),
            ("left", "right"),
        ] {
            assert_eq!(has_guarded_word(to), !replacement_is_safe(from, to), "{from} -> {to}");
        }
        assert!(has_guarded_word("turn Left.") && has_guarded_word("don't") && !has_guarded_word("pallet"));
    }
}

/// The words a suite's labels hinge on: the words of the label names ("go_dock" -> go, dock) and every
/// content word of the suite's texts used at least three times, most of them under one label (a share of
/// at least 3 / labels, between one half and 0.9). Noise models may garble these words where a sentence has
/// them, but a table-driven replacement never brings one into a sentence that lacks it (no "day" heard as
/// "bay" in a suite where "bay" means go_bay). Sorted, lower case.
pub fn label_words(examples: &[(&str, &str)], labels: &[String]) -> Vec<String> {
    use std::collections::{BTreeSet, HashMap};
    let mut out: BTreeSet<String> = BTreeSet::new();
    for l in labels {
        for part in l.split(|c: char| !c.is_alphanumeric()) {
            if part.chars().filter(|c| c.is_alphabetic()).count() >= 2 {
                out.insert(part.to_lowercase());
            }
        }
    }
    let mut counts: HashMap<String, HashMap<&str, usize>> = HashMap::new();
    for (text, label) in examples {
        for w in text.split_whitespace() {
            let w = w
                .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
                .to_lowercase();
            if w.chars().any(char::is_alphabetic) && !super::wordclass::is_function_word(&w) {
                *counts.entry(w).or_default().entry(label).or_default() += 1;
            }
        }
    }
    let share = (3.0 / labels.len().max(1) as f64).clamp(0.5, 0.9);
    for (w, by_label) in counts {
        let total: usize = by_label.values().sum();
        let top = by_label.values().copied().max().unwrap_or(0);
        if total >= 3 && top as f64 >= share * total as f64 {
            out.insert(w);
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod label_word_tests {
    use super::*;

    #[test]
    fn label_names_and_words_concentrated_under_one_label() {
        let ex = [
            ("go to the dock", "go_dock"),
            ("dock now", "go_dock"),
            ("the dock please", "go_dock"),
            ("charge at the dock", "charge"),
            ("plug in to charge", "charge"),
            ("go charge now", "charge"),
            ("now go", "go_dock"),
            ("now then", "charge"),
            ("now please", "charge"),
        ];
        let labels = vec!["go_dock".to_string(), "charge".to_string()];
        let words = label_words(&ex, &labels);
        assert!(
            words.contains(&"dock".to_string()) && words.contains(&"charge".to_string()),
            "{words:?}"
        );
        assert!(
            !words.contains(&"now".to_string()) && !words.contains(&"the".to_string()),
            "{words:?}"
        );
    }
}
