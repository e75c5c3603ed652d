//! `asr`: what a modern speech recogniser (Whisper-class) does to a sentence. Not a typo model: it hits the
//! words a recogniser gets wrong (names, rare and out-of-vocabulary words far more than short function
//! words, at the per-class rates measured on a real channel) and replaces them the way a recogniser does,
//! by real words or word sequences that sound alike, found by phonetic search over CMUdict (`search.rs`),
//! often across word boundaries ("my weekend playlist" -> "mike lee can play list"); it drops short words
//! and almost never inserts any. Its output is written as a recogniser writes: sentence case, punctuation,
//! numbers of ten and above in digits. No fillers, no repetitions (those are `disfluent`, a human's).
//!
//! Calibration: each text gets a budget of word edits, `target WER x normalised words` (stochastically
//! rounded); error regions (n clean words heard as m words, shapes drawn from the channel's measured mix,
//! `profile.rs`) are placed at words drawn by class rate, never touching each other, until the budget is
//! spent; a region costs max(n, m) word edits. Format changes cost nothing: WER is counted on normalised text.
//!
//! Label safety: a replacement never brings in a direction, number, negation or halt word the replaced words
//! lack (`safety`), nor a word of the suite's labels (`RegistryOptions::label_words`) the sentence lacks.

pub mod lexicon;
pub mod phones;
pub mod profile;
pub mod search;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use rand::rngs::StdRng;
use rand_distr::{Distribution, Poisson};

use self::lexicon::Lexicon;
use self::profile::{Level, Profile, Shape};
use self::search::Candidate;
use super::normalise::normalise;
use super::number_words::{number_value, CARDINALS, ORDINALS};
use super::safety::{has_guarded_word, replacement_is_safe};
use super::wordclass::{classify, WordClass};
use super::words::{tokens, weighted_index};
use super::{Corrupted, Corruptor, Measure, Severity, Target};
use crate::error::{Error, Result};

/// Target normalised word error rate per severity 1..5.
pub const ASR_WER: [f64; 5] = [0.08, 0.16, 0.26, 0.38, 0.52];

/// Words a recogniser inserts (rarely): short frequent words it hears in noise or at word joins.
const INSERTS: [(&str, f64); 6] = [
    ("the", 3.0),
    ("a", 2.0),
    ("and", 2.0),
    ("to", 1.0),
    ("in", 1.0),
    ("I", 1.0),
];

/// One spoken word of the input, with the punctuation written around it.
#[derive(Clone, Debug)]
struct Unit {
    lead: String,
    word: String,
    trail: String,
    class: WordClass,
}

/// What replaces a stretch of units.
#[derive(Clone, Debug)]
struct Region {
    start: usize,
    n: usize,
    words: Vec<String>,
}

/// Speech-recogniser noise over the lexicon and the measured channel profile.
pub struct Asr {
    profile: Profile,
    /// Words tied to one label of the suite; never introduced.
    label_words: Vec<String>,
}

/// The candidate cache's key: a phone string and the number of words the candidates span.
type CandidateKey = (Vec<u8>, usize);

/// A phonetic candidate with what the per-region checks need of it worked out once: its words as written
/// and in lower case, its text, that text normalised (Whisper's rules), and whether a safety-guarded word
/// (a direction, number, negation or halt word) is among them.
struct Heard {
    words: Vec<&'static str>,
    lower: Vec<String>,
    text: String,
    norm: String,
    guarded: bool,
    weight: f64,
}

/// A thread's prepared candidates per key, and how many candidates it holds.
type CandidateCache = (HashMap<CandidateKey, Rc<Vec<Heard>>>, usize);

/// Prepared candidates a thread keeps before its cache is cleared (some 200 bytes each).
const CACHED_CANDIDATES: usize = 500_000;

thread_local! {
    /// Phonetic candidates per (phone string, word count), and how many are stored: a pure function of its
    /// key, so memoising it changes no output. Cleared when it holds CACHED_CANDIDATES.
    static CANDIDATES: RefCell<CandidateCache> = RefCell::new((HashMap::new(), 0));
}

/// The candidates of `search::candidates`, prepared; those whose words normalise into another count of words
/// ("it's" -> "it is") are dropped here, as they would change the region's shape.
fn cached_candidates(lex: &'static Lexicon, phones: &[u8], m: usize) -> Rc<Vec<Heard>> {
    CANDIDATES.with(|cell| {
        let (map, stored) = &mut *cell.borrow_mut();
        if let Some(c) = map.get(&(phones.to_vec(), m)) {
            return Rc::clone(c);
        }
        if *stored > CACHED_CANDIDATES {
            map.clear();
            *stored = 0;
        }
        let prepared: Vec<Heard> = search::candidates(lex, phones, m)
            .into_iter()
            .filter_map(|c: Candidate| {
                let words: Vec<&'static str> = c.words.iter().map(|&w| &*lex.entries[w as usize].word).collect();
                let text = words.join(" ");
                let norm = normalise(&text);
                if norm.split_whitespace().count() != words.len() {
                    return None;
                }
                let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
                let guarded = has_guarded_word(&text);
                Some(Heard {
                    words,
                    lower,
                    text,
                    norm,
                    guarded,
                    weight: c.weight,
                })
            })
            .collect();
        *stored += prepared.len() + 1;
        let c = Rc::new(prepared);
        map.insert((phones.to_vec(), m), Rc::clone(&c));
        c
    })
}

/// Splits the text into spoken words: whitespace tokens, split again at hyphens and slashes.
/// True when `words`, written between the untouched units `before` and `after`, would say a word twice in a
/// row ("play the the album"): repetitions are the `disfluent` family's, and a recogniser does not make them.
fn stutters(before: Option<&Unit>, words: &[String], after: Option<&Unit>) -> bool {
    let seq: Vec<String> = before
        .map(|u| u.word.as_str())
        .into_iter()
        .chain(words.iter().map(String::as_str))
        .chain(after.map(|u| u.word.as_str()))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    seq.windows(2).any(|p| p[0] == p[1])
}

fn units(text: &str, lex: &Lexicon) -> Vec<Unit> {
    let mut out = Vec::new();
    for t in tokens(text) {
        let parts: Vec<&str> = t.word.split(['-', '/']).filter(|p| !p.is_empty()).collect();
        if parts.is_empty() {
            out.push(Unit {
                lead: t.lead.clone(),
                word: String::new(),
                trail: t.trail.clone(),
                class: WordClass::Function,
            });
            continue;
        }
        let last = parts.len() - 1;
        for (i, p) in parts.iter().enumerate() {
            out.push(Unit {
                lead: if i == 0 { t.lead.clone() } else { String::new() },
                word: p.to_string(),
                trail: if i == last { t.trail.clone() } else { String::new() },
                class: classify(p, lex),
            });
        }
    }
    out
}

/// True when one word is the other with up to three letters more at its end ("table" / "tables", "deliver" /
/// "delivered", "kitchenaid" / "kitchen"), the shorter of three letters or more.
fn same_stem(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.len() >= 3 && long.len() - short.len() <= 3 && long.starts_with(short)
}

/// How a word sounds: digits are read out ("7:30" as "seven thirty"), words from the lexicon or the rules.
fn pronounce(lex: &Lexicon, word: &str) -> Vec<u8> {
    if !word.chars().any(|c| c.is_ascii_digit()) {
        return lex.pronounce(word);
    }
    let mut out = Vec::new();
    for part in word
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        match digits.parse::<u64>() {
            Ok(v) => {
                for w in spell(v).split_whitespace() {
                    out.extend(lex.pronounce(w));
                }
                let rest = &part[digits.len()..];
                if !rest.is_empty() {
                    out.extend(lex.pronounce(rest));
                }
            }
            Err(_) => out.extend(lex.pronounce(part)),
        }
    }
    out
}

/// A number in words ("2400" -> "two thousand four hundred"), for its sound.
fn spell(v: u64) -> String {
    const TENS: [&str; 10] = [
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    fn below_thousand(v: u64, out: &mut Vec<&'static str>) {
        if v >= 100 {
            out.push(CARDINALS[(v / 100) as usize]);
            out.push("hundred");
        }
        let r = v % 100;
        if r > 20 {
            out.push(TENS[(r / 10) as usize]);
            if !r.is_multiple_of(10) {
                out.push(CARDINALS[(r % 10) as usize]);
            }
        } else if r > 0 || v == 0 {
            out.push(CARDINALS[r as usize]);
        }
    }
    let mut out = Vec::new();
    let groups = [(1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand")];
    let mut rest = v;
    for (unit, name) in groups {
        if rest >= unit {
            below_thousand((rest / unit) % 1000, &mut out);
            out.push(name);
            rest %= unit;
        }
    }
    if rest > 0 || out.is_empty() {
        below_thousand(rest, &mut out);
    }
    out.join(" ")
}

/// A number word of ten or more as a recogniser writes it ("twelve" -> "12", "fifteenth" -> "15th").
fn as_digits(word: &str) -> Option<String> {
    let lower = word.to_lowercase();
    let v = number_value(&lower)?;
    if v < 10 || lower.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    if CARDINALS.contains(&lower.as_str()) {
        return Some(v.to_string());
    }
    if ORDINALS.contains(&lower.as_str()) {
        let suffix = match (v % 100, v % 10) {
            (11..=13, _) => "th",
            (_, 1) => "st",
            (_, 2) => "nd",
            (_, 3) => "rd",
            _ => "th",
        };
        return Some(format!("{v}{suffix}"));
    }
    None
}

impl Asr {
    /// The model over the shipped lexicon and channel profile; `label_words` are never introduced.
    pub fn builtin(label_words: &[String]) -> Result<Self> {
        Ok(Asr {
            profile: Profile::builtin().map_err(Error::Internal)?,
            label_words: label_words.iter().map(|w| w.to_lowercase()).collect(),
        })
    }

    /// The shipped pronouncing lexicon, read on first use rather than with the family: unpacking its
    /// 130,000 entries takes a tenth of a second, which every command building the registry (a `corrupt`
    /// run of `typo` alone) paid before.
    fn lexicon() -> Result<&'static Lexicon> {
        Lexicon::get().map_err(Error::Internal)
    }

    /// True when `word` is a label word, or one built on it ("charger" on "charge"), that `sentence` lacks.
    fn brings_label_word(&self, word: &str, sentence: &[String]) -> bool {
        let w = word.to_lowercase();
        if sentence.contains(&w) {
            return false;
        }
        self.label_words.iter().any(|p| {
            w == *p || (p.len() >= 3 && w.starts_with(p.as_str())) || (p.len() >= 4 && w.ends_with(p.as_str()))
        })
    }

    /// Replacement words for units `span` (m >= 1), drawn among the phonetic candidates: one search over
    /// the whole stretch when it fits (up to three words each side), else unit by unit, the m words shared
    /// out as evenly as the units allow.
    fn replacement(&self, units: &[Unit], m: usize, sentence: &[String], rng: &mut StdRng) -> Option<Vec<String>> {
        if units.len() <= 3 && m <= 3 {
            return self.search_replacement(units, m, sentence, rng);
        }
        let n = units.len();
        let mut out = Vec::with_capacity(m);
        for (i, u) in units.iter().enumerate() {
            let share = (m * (i + 1) / n - m * i / n).min(3);
            if share > 0 {
                out.extend(self.search_replacement(std::slice::from_ref(u), share, sentence, rng)?);
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// Replacement words for the stretch `units` from one phonetic search for `m` words.
    fn search_replacement(
        &self,
        units: &[Unit],
        m: usize,
        sentence: &[String],
        rng: &mut StdRng,
    ) -> Option<Vec<String>> {
        // `corrupt_at` loaded the lexicon before any search.
        let lex = Self::lexicon().ok()?;
        let mut phones = Vec::new();
        for u in units {
            phones.extend(pronounce(lex, &u.word));
        }
        if phones.is_empty() {
            return None;
        }
        let span_text = units.iter().map(|u| u.word.as_str()).collect::<Vec<_>>().join(" ");
        let span_lower: Vec<String> = units.iter().map(|u| u.word.to_lowercase()).collect();
        let span_content: Vec<&String> = units
            .iter()
            .zip(&span_lower)
            .filter(|(u, _)| u.class.is_content())
            .map(|(_, w)| w)
            .collect();
        let span_norm = normalise(&span_text);
        let all = cached_candidates(lex, &phones, m);
        let ok: Vec<&Heard> = all
            .iter()
            .filter(|h| {
                h.lower.iter().all(|w| !span_lower.contains(w))
                    && h.norm != span_norm
                    && (!h.guarded || replacement_is_safe(&span_text, &h.text))
                    && !h.lower.iter().any(|w| self.brings_label_word(w, sentence))
            })
            .collect();
        let weights: Vec<f64> = ok
            .iter()
            .map(|h| {
                if h.lower.iter().any(|w| span_content.iter().any(|s| same_stem(s, w))) {
                    h.weight * STEM_WEIGHT
                } else {
                    h.weight
                }
            })
            .collect();
        let pick = weighted_index(&weights, rng)?;
        Some(ok[pick].words.iter().map(|w| w.to_string()).collect())
    }

    /// Where a region of `shape` around unit `anchor` starts: each start whose span covers the anchor,
    /// weighted by the other words it takes in (a function word by `function_reach`, a content word by 1).
    /// An insertion goes before its anchor.
    fn place(units: &[Unit], anchor: usize, shape: Shape, function_reach: f64, rng: &mut StdRng) -> Option<usize> {
        if shape.n == 0 {
            return Some(anchor);
        }
        if shape.n > units.len() {
            return None;
        }
        let first = anchor.saturating_sub(shape.n - 1);
        let last = anchor.min(units.len() - shape.n);
        let reach: Vec<f64> = (first..=last)
            .map(|s| {
                (s..s + shape.n)
                    .filter(|&i| i != anchor)
                    .map(|i| {
                        if units[i].class.is_content() {
                            1.0
                        } else {
                            function_reach
                        }
                    })
                    .product()
            })
            .collect();
        Some(first + weighted_index(&reach, rng)?)
    }

    /// Tries to make a region of `shape` starting at unit `start` (an insertion: before it).
    fn region(
        &self,
        units: &[Unit],
        taken: &[bool],
        start: usize,
        shape: Shape,
        sentence: &[String],
        rng: &mut StdRng,
    ) -> Option<Region> {
        let free = |i: usize| !taken.get(i).copied().unwrap_or(false);
        if shape.n == 0 {
            let anchor = start;
            // An insertion before the anchor.
            if !free(anchor) || (anchor > 0 && !free(anchor - 1)) {
                return None;
            }
            let w: Vec<f64> = INSERTS.iter().map(|(_, w)| *w).collect();
            let words: Vec<String> = (0..shape.m)
                .filter_map(|_| weighted_index(&w, rng).map(|i| INSERTS[i].0.to_string()))
                .collect();
            let before = anchor.checked_sub(1).map(|i| &units[i]);
            if stutters(before, &words, units.get(anchor)) {
                return None;
            }
            return Some(Region {
                start: anchor,
                n: 0,
                words,
            });
        }
        if start + shape.n > units.len() {
            return None;
        }
        let span = &units[start..start + shape.n];
        let touches = (start > 0 && !free(start - 1)) || !free(start + shape.n);
        if touches || (start..start + shape.n).any(|i| !free(i)) || span.iter().any(|u| u.word.is_empty()) {
            return None;
        }
        let (before, after) = (start.checked_sub(1).map(|i| &units[i]), units.get(start + shape.n));
        if shape.m == 0 {
            if stutters(before, &[], after) {
                return None;
            }
            return Some(Region {
                start,
                n: shape.n,
                words: Vec::new(),
            });
        }
        let words = self.replacement(span, shape.m, sentence, rng)?;
        if stutters(before, &words, after) {
            return None;
        }
        Some(Region {
            start,
            n: shape.n,
            words,
        })
    }

    /// Writes the units with the regions applied, as a recogniser prints.
    fn render(units: &[Unit], regions: &[Region]) -> String {
        let mut out: Vec<String> = Vec::with_capacity(units.len() + 4);
        let mut by_start: Vec<Option<&Region>> = vec![None; units.len() + 1];
        for r in regions {
            by_start[r.start] = Some(r);
        }
        let mut i = 0;
        while i <= units.len() {
            if let Some(r) = by_start[i] {
                let (lead, trail) = match r.n {
                    0 => (String::new(), String::new()),
                    n => (units[i].lead.clone(), units[i + n - 1].trail.clone()),
                };
                if r.words.is_empty() {
                    // A dropped stretch keeps the punctuation around it.
                    let p = format!("{lead}{trail}");
                    if !p.trim().is_empty() {
                        if let Some(last) = out.last_mut() {
                            last.push_str(trail.trim());
                        }
                    }
                } else {
                    let k = r.words.len();
                    for (j, w) in r.words.iter().enumerate() {
                        let mut s = String::new();
                        if j == 0 {
                            s.push_str(&lead);
                        }
                        s.push_str(w);
                        if j + 1 == k {
                            s.push_str(&trail);
                        }
                        out.push(s);
                    }
                }
                if r.n > 0 {
                    i += r.n;
                    continue;
                }
            }
            if i == units.len() {
                break;
            }
            let u = &units[i];
            let word = as_digits(&u.word).unwrap_or_else(|| u.word.clone());
            let s = format!("{}{word}{}", u.lead, u.trail);
            if !s.is_empty() {
                out.push(s);
            }
            i += 1;
        }
        let mut text = out.join(" ");
        // Sentence case and a final stop, as a recogniser prints a sentence.
        if let Some((at, c)) = text.char_indices().find(|(_, c)| c.is_alphabetic()) {
            if c.is_lowercase() {
                let upper: String = c.to_uppercase().collect();
                text.replace_range(at..at + c.len_utf8(), &upper);
            }
        }
        if !text.is_empty() && !text.ends_with(['.', '?', '!']) {
            text.push('.');
        }
        text
    }
}

impl Corruptor for Asr {
    fn family(&self) -> &str {
        "asr"
    }

    fn describe(&self) -> String {
        "speech recogniser: names, rare and content words heard as real words that sound alike (CMUdict \
         phonetic search), splits and merges across word boundaries, dropped short words; sentence case, \
         punctuation and digits as Whisper prints; rates measured on Whisper"
            .into()
    }

    fn target(&self) -> Option<Target> {
        Some(Target {
            measure: Measure::Wer,
            levels: ASR_WER,
        })
    }

    fn corrupt(&self, text: &str, severity: Severity, rng: &mut StdRng) -> Result<Corrupted> {
        let target = ASR_WER[severity.index()];
        self.corrupt_at(text, target, &self.profile.at(target), rng)
    }
}

/// Weight of a candidate that keeps a replaced content word's stem ("table" heard as "tables"), against its
/// phonetic weight (function words are left out: "the" / "then" is no inflection). CMUdict is full of such
/// neighbours (11.5 % of the model's content-word substitutions on the spoken-requests train texts without
/// this weight) but the real channel makes few (3.6 % on the train recording, 4.4 % on calibration); at 0.1
/// the model makes 4.3 % on the train texts. An inflected word keeps most of a sentence's meaning, so too
/// many of them made the family milder than the channel.
const STEM_WEIGHT: f64 = 0.1;

/// Tries per error region: a new anchor (and shape) when one does not fit.
const REGION_TRIES: usize = 4;

impl Asr {
    /// The profile the model draws from.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// `text` as the channel at `level` would hear it at normalised WER `target`.
    ///
    /// The number of error regions is Poisson with mean `target x words / expected region cost` (a
    /// recogniser leaves some sentences whole and breaks others in several places); each is anchored on a
    /// word drawn by its class's anchor weight, takes a shape drawn from the level's mix for that class
    /// (content or function), and is realised by phonetic search (else as a one-word substitution, else
    /// another anchor is tried). Regions never touch, so each costs max(n, m) word edits.
    pub fn corrupt_at(&self, text: &str, target: f64, level: &Level, rng: &mut StdRng) -> Result<Corrupted> {
        let lex = Self::lexicon()?;
        let units = units(text, lex);
        let n_words = normalise(text).split_whitespace().count();
        let sentence: Vec<String> = units.iter().map(|u| u.word.to_lowercase()).collect();
        let mut weights: Vec<f64> = units
            .iter()
            .map(|u| {
                if u.word.is_empty() {
                    0.0
                } else {
                    level.anchor_weight[u.class.index()]
                }
            })
            .collect();
        let expected_cost = |shapes: &[(Shape, f64)]| -> f64 {
            let total: f64 = shapes.iter().map(|(_, w)| w).sum();
            shapes.iter().map(|(s, w)| s.cost() as f64 * w).sum::<f64>() / total.max(1e-12)
        };
        let (content_cost, function_cost) = (
            expected_cost(&level.content_shapes),
            expected_cost(&level.function_shapes),
        );
        let weight_sum: f64 = weights.iter().sum();
        let mean_cost = if weight_sum > 0.0 {
            units
                .iter()
                .zip(&weights)
                .map(|(u, w)| {
                    w * if u.class.is_content() {
                        content_cost
                    } else {
                        function_cost
                    }
                })
                .sum::<f64>()
                / weight_sum
        } else {
            1.0
        };
        let lambda = level.budget_scale * target * n_words as f64 / mean_cost.max(1.0);
        let regions_wanted = match Poisson::new(lambda) {
            Ok(p) if lambda > 0.0 => p.sample(rng) as usize,
            _ => 0,
        };
        let mut taken = vec![false; units.len()];
        let mut regions: Vec<Region> = Vec::new();
        let mut spent = 0;
        'regions: for _ in 0..regions_wanted {
            for _ in 0..REGION_TRIES {
                let Some(anchor) = weighted_index(&weights, rng) else {
                    break 'regions;
                };
                weights[anchor] = 0.0;
                let table = if units[anchor].class.is_content() {
                    &level.content_shapes
                } else {
                    &level.function_shapes
                };
                let drawn: Vec<f64> = table.iter().map(|(_, w)| *w).collect();
                let Some(first) = weighted_index(&drawn, rng).map(|i| table[i].0) else {
                    continue;
                };
                for shape in [first, Shape { n: 1, m: 1 }] {
                    let Some(start) = Self::place(&units, anchor, shape, level.function_reach, rng) else {
                        continue;
                    };
                    if let Some(r) = self.region(&units, &taken, start, shape, &sentence, rng) {
                        for t in &mut taken[r.start..r.start + r.n.max(1)] {
                            *t = true;
                        }
                        spent += shape.cost();
                        regions.push(r);
                        continue 'regions;
                    }
                }
            }
        }
        regions.sort_by_key(|r| (r.start, r.n));
        Ok(Corrupted {
            text: Self::render(&units, &regions),
            applied: spent,
            opportunities: n_words,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn asr() -> Asr {
        Asr::builtin(&["dock".to_string(), "charge".to_string()]).unwrap()
    }

    #[test]
    fn writes_as_a_recogniser_and_keeps_meaning_words_safe() {
        let a = asr();
        let mut rng = StdRng::seed_from_u64(3);
        let out = a
            .corrupt("move to bay twelve", Severity::new(1).unwrap(), &mut rng)
            .unwrap();
        assert!(out.text.starts_with('M') && out.text.ends_with('.'), "{}", out.text);
        let clean_out = Asr::render(&units("move to bay twelve", Asr::lexicon().unwrap()), &[]);
        assert_eq!(clean_out, "Move to bay 12.");
        assert_eq!(spell(2400), "two thousand four hundred");
        assert_eq!(spell(7), "seven");
        assert_eq!(spell(35), "thirty five");
        for seed in 0..300 {
            let mut rng = StdRng::seed_from_u64(seed);
            let out = a
                .corrupt("take the doc to the large bay now", Severity::new(5).unwrap(), &mut rng)
                .unwrap();
            let lower = out.text.to_lowercase();
            assert!(!lower.contains("dock") && !lower.contains("charge"), "{}", out.text);
        }
    }

    #[test]
    fn a_stem_is_a_word_and_up_to_three_letters_more() {
        assert!(same_stem("table", "tables") && same_stem("delivered", "deliver"));
        assert!(same_stem("kitchenaid", "kitchen") && !same_stem("kitchenette", "kitchen"));
        assert!(!same_stem("an", "and"), "two letters are no stem");
        assert!(!same_stem("table", "stable") && !same_stem("jazz", "dance"));
    }

    #[test]
    fn a_region_around_a_hard_word_reaches_into_the_words_beside_it_by_their_class() {
        let u = units("play the Velvet Foxes", Asr::lexicon().unwrap());
        assert!(!u[1].class.is_content() && u[3].class.is_content());
        let two = Shape { n: 2, m: 2 };
        let starts = |reach: f64| -> [usize; 4] {
            let mut count = [0; 4];
            for seed in 0..2000 {
                let mut rng = StdRng::seed_from_u64(seed);
                count[Asr::place(&u, 2, two, reach, &mut rng).unwrap()] += 1;
            }
            count
        };
        // Anchored on "Velvet": the span starts at "the" (1) or at "Velvet" (2), never elsewhere.
        let even = starts(1.0);
        assert_eq!(even[0] + even[3], 0);
        assert!((even[1] as f64 / 2000.0 - 0.5).abs() < 0.05, "{even:?}");
        let shy = starts(0.25);
        assert!((shy[1] as f64 / 2000.0 - 0.2).abs() < 0.04, "{shy:?}");
        // Spans stay inside the sentence; a one-word region is its anchor; an insertion goes before it.
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(Asr::place(&u, 0, Shape { n: 3, m: 1 }, 0.5, &mut rng), Some(0));
        assert_eq!(Asr::place(&u, 3, Shape { n: 1, m: 2 }, 0.5, &mut rng), Some(3));
        assert_eq!(Asr::place(&u, 3, Shape { n: 0, m: 1 }, 0.5, &mut rng), Some(3));
        assert_eq!(Asr::place(&u, 3, Shape { n: 5, m: 1 }, 0.5, &mut rng), None);
    }

    #[test]
    fn hits_rare_words_more_than_function_words_and_never_stutters() {
        let a = asr();
        let text = "please play the Velvet Foxes album Hollow Citadel on Spotify for me";
        let (mut rare, mut function) = (0, 0);
        for seed in 0..400 {
            let mut rng = StdRng::seed_from_u64(seed);
            let out = a.corrupt(text, Severity::new(3).unwrap(), &mut rng).unwrap();
            let words: Vec<String> = normalise(&out.text).split_whitespace().map(str::to_string).collect();
            for w in ["velvet", "foxes", "hollow", "citadel", "spotify"] {
                rare += usize::from(!words.contains(&w.to_string()));
            }
            for w in ["the", "on", "for", "me"] {
                function += usize::from(!words.contains(&w.to_string()));
            }
            assert!(words.windows(2).all(|p| p[0] != p[1]), "repetition in {}", out.text);
            for f in ["uh", "um", "er", "hmm"] {
                assert!(!out
                    .text
                    .to_lowercase()
                    .split_whitespace()
                    .any(|w| w.trim_matches('.') == f));
            }
        }
        assert!(
            rare as f64 / 5.0 > 1.5 * function as f64 / 4.0,
            "rare {rare} vs function {function}"
        );
    }
}
