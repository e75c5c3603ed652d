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
fn digit_numbers(text: &str) -> Vec<u32> {
    text.split(|c: char| c.is_whitespace() || c == '-')
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
        .filter_map(number_value)
        .collect()
}

/// Whether an edit of `chars[at..at + len]` to `to` could change a number, given the `planned` edits:
/// it writes a digit, or the words it touches (to the separators either side) hold a digit or a
/// planned edit that writes one. When false, `edits_keep_numbers` holds without being asked (the
/// cheap test a slip of every text passes first).
pub fn may_touch_numbers<S: AsRef<str>>(
    chars: &[char],
    at: usize,
    len: usize,
    to: &str,
    planned: &[(usize, usize, S)],
) -> bool {
    let writes_digit = |t: &str| t.chars().any(|c| c.is_ascii_digit());
    if writes_digit(to) {
        return true;
    }
    let sep = |c: &char| c.is_whitespace() || *c == '-';
    let end = (at + len).min(chars.len());
    let left = chars[..at.min(chars.len())].iter().rposition(sep).map_or(0, |p| p + 1);
    let right = chars[end..].iter().position(sep).map_or(chars.len(), |p| end + p);
    chars[left..right].iter().any(char::is_ascii_digit)
        || planned
            .iter()
            .any(|(a, l, t)| a + l >= left && *a <= right && writes_digit(t.as_ref()))
}

/// True when applying `edits` (each `(at, len, to)`: `chars[at..at + len]` replaced by `to`; apart,
/// in any order) to `chars` writes no number the text did not hold in the words the last edit
/// touches (the earlier ones were judged when they were planned): character noise may garble a
/// number ("18" -> "l8") but not make another ("18" -> "28", "1 8", "8", "188"), which would change
/// what the text asks for while its expected answer stays the clean text's. Numbers are compared as
/// a multiset (dropping the 1 of "18" beside an "8" still writes a second 8), and with the other
/// edits in those words applied: "of" -> "6f" and then "6f" -> "6" are each harmless alone.
pub fn edits_keep_numbers(chars: &[char], edits: &[(usize, usize, &str)]) -> bool {
    let Some(&(at, len, _)) = edits.last() else {
        return true;
    };
    let sep = |c: &char| c.is_whitespace() || *c == '-';
    let (at, end) = (at.min(chars.len()), (at + len).min(chars.len()));
    let left = chars[..at].iter().rposition(sep).map_or(0, |p| p + 1);
    let right = chars[end..].iter().position(sep).map_or(chars.len(), |p| end + p);
    let mut inside: Vec<&(usize, usize, &str)> = edits
        .iter()
        .filter(|e| e.0 >= left && e.0 < right.max(left + 1))
        .collect();
    inside.sort_by_key(|e| e.0);
    let mut after = String::with_capacity(right - left + 8);
    let mut i = left;
    for &&(at, len, to) in &inside {
        if at < i {
            continue;
        }
        after.extend(&chars[i..at]);
        after.push_str(to);
        i = (at + len).min(chars.len()).max(i);
    }
    after.extend(&chars[i.min(right).max(left)..right.max(i.min(right))]);
    let before: String = chars[left..right].iter().collect();
    let mut held = digit_numbers(&before);
    digit_numbers(&after)
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
        // The cheap pre-test: only edits near a digit, writing one, or beside a planned one are judged.
        let none: &[(usize, usize, &str)] = &[];
        assert!(!may_touch_numbers(&of, 0, 1, "g", none));
        assert!(may_touch_numbers(&of, 9, 1, "", &[(8, 1, "6")]));
        assert!(may_touch_numbers(&chars(text), 5, 1, "", none) && may_touch_numbers(&of, 0, 1, "4", none));
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
