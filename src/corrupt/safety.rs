//! Words whose change would change what a sentence asks for: directions, numbers, negations and the
//! words that halt a machine.
//! Noise models may mishear, misread or mistype them (that is the noise), but a table-driven
//! replacement must never turn one of them into another one: no antonym swaps, no other number.

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

/// Cardinal number words 0..=20 by value.
pub const CARDINALS: [&str; 21] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

/// Ordinal number words 0..=20 by value (index 0 unused).
pub const ORDINALS: [&str; 21] = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
];

/// The number a word spells ("seven", "7", "7th", "seventh"), if any.
pub fn number_value(word: &str) -> Option<u32> {
    let w = word.to_lowercase();
    if let Some(v) = CARDINALS.iter().position(|c| *c == w) {
        return Some(v as u32);
    }
    if let Some(v) = ORDINALS.iter().position(|c| *c == w) {
        return Some(v as u32);
    }
    let digits: String = w.chars().take_while(|c| c.is_ascii_digit()).collect();
    let rest = &w[digits.len()..];
    if !digits.is_empty() && (rest.is_empty() || ["st", "nd", "rd", "th"].contains(&rest)) {
        return digits.parse().ok();
    }
    None
}

/// True when `word` carries direction, number, negation or halt meaning.
pub fn is_guarded(word: &str) -> bool {
    let w = word.to_lowercase();
    DIRECTIONS.contains(&w.as_str())
        || NEGATIONS.contains(&w.as_str())
        || HALTS.contains(&w.as_str())
        || number_value(&w).is_some()
}

/// True when replacing `from` by `to` (one or more words) introduces no guarded meaning that `from`
/// lacks: every guarded word of `to` must be a guarded word of `from` or spell the same number.
pub fn replacement_is_safe(from: &str, to: &str) -> bool {
    let source: Vec<String> = from.split_whitespace().map(str::to_lowercase).collect();
    let numbers: Vec<u32> = source.iter().filter_map(|w| number_value(w)).collect();
    to.split_whitespace().all(|w| {
        let w = w.to_lowercase();
        let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_all_spellings() {
        assert_eq!(number_value("Seven"), Some(7));
        assert_eq!(number_value("7th"), Some(7));
        assert_eq!(number_value("seventh"), Some(7));
        assert_eq!(number_value("13"), Some(13));
        assert_eq!(number_value("7a"), None);
        assert_eq!(number_value("pallet"), None);
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
