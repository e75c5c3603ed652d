//! Text normalisation as speech benchmarks apply it before counting word errors: the rules of Whisper's
//! English normaliser (`EnglishTextNormalizer` in openai-whisper, `whisper/normalizers/english.py`, MIT;
//! Radford et al. 2022, "Robust Speech Recognition via Large-Scale Weak Supervision", appendix C), so that
//! case, punctuation, number spelling ("seven" / "7"), contractions and British spellings are not counted
//! as word errors. Implemented here from the rules, in their order:
//!
//! 1. lower case;
//! 2. drop text between `[..]` or `<..>` and between `(..)`;
//! 3. drop the hesitations `hmm mm mhm mmm uh um` (whole words);
//! 4. join a space before an apostrophe; expand contractions and titles (`won't` -> `will not`, `mr` ->
//!    `mister`, `'s been` -> `has been`, `n't` -> `not`, `'s` -> `is`, ...);
//! 5. drop commas between digits and periods not followed by a digit;
//! 6. NFKD, drop combining marks, map `æ ø ß ł þ ...` to letters, other marks, symbols and punctuation
//!    to spaces, except the numeric symbols `. % $ ¢ € £`;
//! 7. spelled-out numbers to digits (`numbers.rs`), British to American spellings
//!    (`corruptions/normalise/english_spelling.tsv`, Whisper's list);
//! 8. drop numeric symbols that are not next to a digit, collapse whitespace.
//!
//! The result is compared with Whisper's own output on 1,200 texts in `tests/fixtures/whisper_normaliser.jsonl`
//! (`scripts/normaliser_golden/make_golden.py`); it is trimmed (Whisper's can keep an edge space).

mod numbers;

use std::sync::OnceLock;

use rustc_hash::{FxHashMap, FxHashSet};
use unicode_categories::UnicodeCategories;
use unicode_normalization::UnicodeNormalization;

/// British -> American spellings, as Whisper's normaliser lists them.
const SPELLINGS: &str = include_str!("../../../corruptions/normalise/english_spelling.tsv");

fn spellings() -> &'static FxHashMap<&'static str, &'static str> {
    static MAP: OnceLock<FxHashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        SPELLINGS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            // Whisper looks words up one by one, so an entry with a space ("flyer / flier") never applies.
            .filter(|(british, _)| !british.contains(char::is_whitespace))
            .collect()
    })
}

/// Whisper's `\w`: letters, digits (any script) and the underscore.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Hesitations the normaliser drops.
const HESITATIONS: [&str; 6] = ["hmm", "mm", "mhm", "mmm", "uh", "um"];

/// Whole-word replacements (`\bWORD\b`), in Whisper's order; they never overlap each other.
const WORDS: [(&str, &str); 35] = [
    ("won't", "will not"),
    ("can't", "can not"),
    ("let's", "let us"),
    ("ain't", "aint"),
    ("y'all", "you all"),
    ("wanna", "want to"),
    ("gotta", "got to"),
    ("gonna", "going to"),
    ("i'ma", "i am going to"),
    ("imma", "i am going to"),
    ("woulda", "would have"),
    ("coulda", "could have"),
    ("shoulda", "should have"),
    ("ma'am", "madam"),
    ("mr", "mister "),
    ("mrs", "missus "),
    ("st", "saint "),
    ("dr", "doctor "),
    ("prof", "professor "),
    ("capt", "captain "),
    ("gov", "governor "),
    ("ald", "alderman "),
    ("gen", "general "),
    ("sen", "senator "),
    ("rep", "representative "),
    ("pres", "president "),
    ("rev", "reverend "),
    ("hon", "honorable "),
    ("asst", "assistant "),
    ("assoc", "associate "),
    ("lt", "lieutenant "),
    ("col", "colonel "),
    ("jr", "junior "),
    ("sr", "senior "),
    ("esq", "esquire "),
];

/// Suffix replacements (`PATTERN\b`, no boundary before), applied one after the other in this order.
const SUFFIXES: [(&str, &str); 14] = [
    ("'d been", " had been"),
    ("'s been", " has been"),
    ("'d gone", " had gone"),
    ("'s gone", " has gone"),
    ("'d done", " had done"),
    ("'s got", " has got"),
    ("n't", " not"),
    ("'re", " are"),
    ("'s", " is"),
    ("'d", " would"),
    ("'ll", " will"),
    ("'t", " not"),
    ("'ve", " have"),
    ("'m", " am"),
];

/// Letters NFKD does not split, as Whisper maps them.
fn extra_diacritic(c: char) -> Option<&'static str> {
    Some(match c {
        'œ' => "oe",
        'Œ' => "OE",
        'ø' => "o",
        'Ø' => "O",
        'æ' => "ae",
        'Æ' => "AE",
        'ß' => "ss",
        'ẞ' => "SS",
        'đ' | 'ð' => "d",
        'Đ' | 'Ð' => "D",
        'þ' | 'Þ' => "th",
        'ł' => "l",
        'Ł' => "L",
        _ => return None,
    })
}

/// `text` normalised as Whisper's English normaliser does (see the module doc), trimmed.
///
/// Each rule rebuilds the text only when the text holds what the rule looks for (a hesitation's letters,
/// an apostrophe, a title word, a digit, a currency sign): a variant is normalised for every record
/// `shakedown corrupt` writes, and most rules find nothing to do in most sentences.
pub fn normalise(text: &str) -> String {
    let mut s = if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    };
    if s.contains(['[', '<', '(']) {
        s = drop_bracketed(&s);
    }
    if may_hold_hesitation(&s) {
        s = drop_hesitations(&s);
    }
    if s.contains('\'') {
        s = join_space_apostrophe(&s);
    }
    if s.contains('\'') || has_word_to_replace(&s) {
        s = replace_words(&s);
    }
    if s.contains('\'') {
        for (pattern, with) in SUFFIXES {
            if s.contains(pattern) {
                s = replace_suffix(&s, pattern, with);
            }
        }
    }
    if s.contains(',') {
        s = drop_digit_commas(&s);
    }
    if s.contains('.') {
        s = drop_periods(&s);
    }
    s = symbols_and_diacritics(&s);
    s = numbers::standardise(&s);
    let map = spellings();
    let mut out = String::with_capacity(s.len());
    for w in words(&s) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(map.get(w).copied().unwrap_or(w));
    }
    if out.contains(['.', '$', '¢', '€', '£', '%']) {
        out = drop_lone_symbols(&out);
        return out.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    // Joined from whitespace-split words by single spaces; a spelling holds no whitespace.
    out
}

/// `s.split_whitespace()`, byte-wise when `s` is ASCII (the same words; Unicode's whitespace test per
/// character costs more than the rest of a word's normalisation). The one ASCII character Unicode counts
/// as whitespace and `split_ascii_whitespace` does not, the vertical tab, keeps the Unicode split.
pub fn words(s: &str) -> Words<'_> {
    if s.is_ascii() && !s.contains('\x0B') {
        Words::Ascii(s.split_ascii_whitespace())
    } else {
        Words::Unicode(s.split_whitespace())
    }
}

/// The words of a text (`words`).
pub enum Words<'a> {
    Ascii(std::str::SplitAsciiWhitespace<'a>),
    Unicode(std::str::SplitWhitespace<'a>),
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        match self {
            Words::Ascii(w) => w.next(),
            Words::Unicode(w) => w.next(),
        }
    }
}

/// False when no hesitation can be in `s`: each of them holds one of these letter pairs.
fn may_hold_hesitation(s: &str) -> bool {
    s.as_bytes()
        .windows(2)
        .any(|p| matches!(p, b"hm" | b"mm" | b"mh" | b"uh" | b"um"))
}

/// True when a word run of `s` is one of the whole-word patterns without an apostrophe (those with one are
/// looked for whenever `s` has an apostrophe).
fn has_word_to_replace(s: &str) -> bool {
    static PLAIN: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    let plain = PLAIN.get_or_init(|| WORDS.iter().map(|(p, _)| *p).filter(|p| !p.contains('\'')).collect());
    let mut found = false;
    for_word_runs(s, |w| found |= plain.contains(w));
    found
}

/// Calls `f` on each maximal run of word characters.
fn for_word_runs(s: &str, mut f: impl FnMut(&str)) {
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        if is_word(c) {
            start.get_or_insert(i);
        } else if let Some(st) = start.take() {
            f(&s[st..i]);
        }
    }
    if let Some(st) = start {
        f(&s[st..]);
    }
}

/// `[<\[][^>\]]*[>\]]` and then `\(([^)]+?)\)` removed.
fn drop_bracketed(s: &str) -> String {
    let cs: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < cs.len() {
        if cs[i] == '[' || cs[i] == '<' {
            if let Some(end) = cs[i + 1..].iter().position(|&c| c == '>' || c == ']') {
                i += end + 2;
                continue;
            }
        }
        out.push(cs[i]);
        i += 1;
    }
    let cs: Vec<char> = out.chars().collect();
    let mut out = String::with_capacity(cs.len());
    let mut i = 0;
    while i < cs.len() {
        if cs[i] == '(' {
            if let Some(end) = cs[i + 1..].iter().position(|&c| c == ')') {
                if end > 0 {
                    i += end + 2;
                    continue;
                }
            }
        }
        out.push(cs[i]);
        i += 1;
    }
    out
}

/// Calls `f` on each maximal run of word characters (with its byte range) and copies everything else.
fn map_word_runs(s: &str, mut f: impl FnMut(&str, &mut String)) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        if is_word(c) {
            start.get_or_insert(i);
        } else {
            if let Some(st) = start.take() {
                f(&s[st..i], &mut out);
            }
            out.push(c);
        }
    }
    if let Some(st) = start {
        f(&s[st..], &mut out);
    }
    out
}

fn drop_hesitations(s: &str) -> String {
    map_word_runs(s, |w, out| {
        if !HESITATIONS.contains(&w) {
            out.push_str(w);
        }
    })
}

/// `\s+'` -> `'`.
fn join_space_apostrophe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = String::new();
    for c in s.chars() {
        if c.is_whitespace() {
            pending.push(c);
        } else {
            if c != '\'' {
                out.push_str(&pending);
            }
            pending.clear();
            out.push(c);
        }
    }
    out.push_str(&pending);
    out
}

/// The whole-word replacements. A pattern with an apostrophe spans two word runs (`won`, `'`, `t`), so
/// matching works on the text: an occurrence counts when no word character touches it on either side.
fn replace_words(s: &str) -> String {
    let mut s = s.to_string();
    for (pattern, with) in WORDS {
        if s.contains(pattern) {
            s = replace_bounded(&s, pattern, with, true);
        }
    }
    s
}

fn replace_suffix(s: &str, pattern: &str, with: &str) -> String {
    replace_bounded(s, pattern, with, false)
}

/// Left-to-right, non-overlapping replacement of `pattern` where no word character follows it (and, with
/// `lead`, none precedes it): `\bPATTERN\b` / `PATTERN\b` for patterns that start and end with a word
/// character (or start with an apostrophe, where `\b` before it is not asked).
fn replace_bounded(s: &str, pattern: &str, with: &str, lead: bool) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = 0;
    let mut from = 0;
    while let Some(off) = s[from..].find(pattern) {
        let at = from + off;
        let end = at + pattern.len();
        let before_ok = !lead || !s[..at].chars().next_back().is_some_and(is_word);
        let after_ok = !s[end..].chars().next().is_some_and(is_word);
        if before_ok && after_ok {
            out.push_str(&s[rest..at]);
            out.push_str(with);
            rest = end;
            from = end;
        } else {
            from = at + s[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out.push_str(&s[rest..]);
    out
}

/// `(\d),(\d)` -> `\1\2`, non-overlapping.
fn drop_digit_commas(s: &str) -> String {
    let cs: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < cs.len() {
        if i + 2 < cs.len() && is_digit(cs[i]) && cs[i + 1] == ',' && is_digit(cs[i + 2]) {
            out.push(cs[i]);
            out.push(cs[i + 2]);
            i += 3;
        } else {
            out.push(cs[i]);
            i += 1;
        }
    }
    out
}

/// Python's `\d` (a Unicode decimal digit); `is_numeric` is a close stand-in for the scripts seen here.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
}

/// `\.([^0-9]|$)` -> ` \1`: a period followed by a non-digit (which the match consumes) or the end.
fn drop_periods(s: &str) -> String {
    let cs: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < cs.len() {
        if cs[i] == '.' {
            match cs.get(i + 1) {
                None => {
                    out.push(' ');
                    i += 1;
                    continue;
                }
                Some(&n) if !n.is_ascii_digit() => {
                    out.push(' ');
                    out.push(n);
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(cs[i]);
        i += 1;
    }
    out
}

/// NFKD; combining marks dropped, other marks, symbols and punctuation to spaces except `. % $ ¢ € £`.
fn symbols_and_diacritics(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let keep = |c: char| matches!(c, '.' | '%' | '$' | '¢' | '€' | '£');
    if s.is_ascii() {
        for c in s.chars() {
            out.push(
                if keep(c) || c.is_ascii_alphanumeric() || c.is_ascii_whitespace() || c.is_ascii_control() {
                    c
                } else {
                    ' '
                },
            );
        }
        return out;
    }
    for c in s.nfkd() {
        // An ASCII character's categories are those of the ASCII branch above (letters, digits, spaces and
        // controls kept; punctuation and symbols spaced); only the others need Unicode's tables.
        if c.is_ascii() {
            out.push(
                if keep(c) || c.is_ascii_alphanumeric() || c.is_ascii_whitespace() || c.is_ascii_control() {
                    c
                } else {
                    ' '
                },
            );
        } else if keep(c) {
            out.push(c);
        } else if let Some(m) = extra_diacritic(c) {
            out.push_str(m);
        } else if c.is_mark_nonspacing() {
        } else if c.is_mark() || c.is_symbol() || c.is_punctuation() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// `[.$¢€£]([^0-9])` -> ` \1`, then `([^0-9])%` -> `\1 `.
fn drop_lone_symbols(s: &str) -> String {
    let cs: Vec<char> = s.chars().collect();
    let mut a = String::with_capacity(s.len());
    let mut i = 0;
    while i < cs.len() {
        if matches!(cs[i], '.' | '$' | '¢' | '€' | '£') {
            if let Some(&n) = cs.get(i + 1) {
                if !n.is_ascii_digit() {
                    a.push(' ');
                    a.push(n);
                    i += 2;
                    continue;
                }
            }
        }
        a.push(cs[i]);
        i += 1;
    }
    let cs: Vec<char> = a.chars().collect();
    let mut b = String::with_capacity(a.len());
    let mut i = 0;
    while i < cs.len() {
        if i + 1 < cs.len() && !cs[i].is_ascii_digit() && cs[i + 1] == '%' {
            b.push(cs[i]);
            b.push(' ');
            i += 2;
            continue;
        }
        b.push(cs[i]);
        i += 1;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_punctuation_numbers_and_spellings_are_standardised() {
        assert_eq!(
            normalise("Move the pallet left of bay 7, then pick up the tote from aisle nine."),
            "move the pallet left of bay 7 then pick up the tote from aisle 9"
        );
        assert_eq!(normalise("Colour of the THEATRE?"), "color of the theater");
        assert_eq!(normalise("He won't go, Mr. Smith."), "he will not go mister smith");
        assert_eq!(normalise("um, [noise] so (laughs) yes"), "so yes");
        assert_eq!(normalise("Crème brûlée in Zürich"), "creme brulee in zurich");
        assert_eq!(normalise(""), "");
    }

    #[test]
    fn words_split_as_split_whitespace_does() {
        for s in ["a b\tc\nd", "a\x0Bb  c", " x\x0C y\r", "é  \u{2003}ü", ""] {
            assert_eq!(
                words(s).collect::<Vec<_>>(),
                s.split_whitespace().collect::<Vec<_>>(),
                "{s:?}"
            );
        }
        assert_eq!(normalise("left\x0Bright"), "left right");
    }

    #[test]
    fn spellings_are_single_words() {
        // `normalise` returns the spelled words joined by single spaces as they are.
        assert!(spellings()
            .values()
            .all(|v| !v.is_empty() && !v.contains(char::is_whitespace)));
    }

    #[test]
    fn bounded_replacement_needs_word_edges() {
        assert_eq!(
            replace_bounded("the st. mst st", "st", "saint ", true),
            "the saint . mst saint "
        );
        assert_eq!(replace_bounded("don't isn't", "n't", " not", false), "do not is not");
    }
}

#[cfg(test)]
mod golden {
    use super::normalise;

    /// Whisper's own normaliser on 1,200 texts (tricky cases, both suites, recorded channel transcripts).
    #[test]
    fn matches_whispers_normaliser_on_the_golden_texts() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/whisper_normaliser.jsonl");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut failures = Vec::new();
        let mut n = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            let (input, want) = (row["in"].as_str().unwrap(), row["out"].as_str().unwrap());
            let got = normalise(input);
            if got != want {
                failures.push(format!("{input:?}\n   want {want:?}\n   got  {got:?}"));
            }
            n += 1;
        }
        assert!(n > 1000, "only {n} golden lines");
        assert!(
            failures.is_empty(),
            "{} of {n} differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
