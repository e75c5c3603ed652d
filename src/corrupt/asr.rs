//! `asr`: what a speech recogniser does to a sentence: words heard as phonetic neighbours and homophones
//! (CMU Pronouncing Dictionary), words split or merged ("forklift" / "fork lift"), short function words
//! dropped, fillers and repetitions inserted, numbers written as spoken or as digits ("seven" / "7" /
//! "seventh"), all in lowercase without punctuation, as recognisers print it.
//!
//! Calibration: the lowercase, unpunctuated output format already costs the words it changes; each text
//! then gets a budget of further word edits so that its WER lands on the severity's target
//! (`target WER x words`, stochastically rounded), spent at distinct words. The mix of edit kinds follows
//! the real channel (espeak-ng + noise + Whisper) measured in `corruptions/asr/channel_stats.json`.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::RngExt;

use super::safety::{number_value, replacement_is_safe, CARDINALS, ORDINALS};
use super::tables::{self, Phonetic, PhoneticKind};
use super::words::{join, shuffled, stochastic_round, tokens, weighted_index, Token};
use super::{Corrupted, Corruptor, Measure, Severity, Target};
use crate::error::{Error, Result};

/// Target word error rate per severity 1..5, near the real Whisper channel's WER at its five noise levels.
pub const ASR_WER: [f64; 5] = [0.06, 0.12, 0.20, 0.30, 0.42];

/// Relative frequency of edit kinds: substitution by a phonetic neighbour or a word the real channel
/// heard instead, number format change, split or merge, dropped function word, inserted filler or
/// repetition. Substitutions dominate in the real channel (see channel_stats.json).
const EDIT_MIX: [f64; 5] = [0.62, 0.08, 0.08, 0.14, 0.08];

/// Short words recognisers drop.
const FUNCTION_WORDS: [&str; 24] = [
    "the", "a", "an", "to", "of", "and", "then", "please", "you", "it", "is", "are", "that", "this", "for", "at", "in",
    "on", "now", "just", "can", "could", "would", "will",
];

/// Hesitations recognisers transcribe.
const FILLERS: [&str; 4] = ["uh", "um", "er", "hmm"];

/// A word a recogniser may hear instead, with its weight.
#[derive(Clone, Debug)]
struct Sound {
    to: String,
    weight: f64,
}

/// Speech-recogniser noise over phonetic and real-channel tables.
pub struct Asr {
    substitutes: HashMap<String, Vec<Sound>>,
    splits: HashMap<String, Vec<Sound>>,
    merges: HashMap<(String, String), Vec<Sound>>,
}

/// What to do at one word.
enum Edit {
    Replace(String),
    Split(String),
    MergeWithNext(String),
    Drop,
    InsertBefore(String),
}

impl Asr {
    /// The model over the shipped tables, keeping only replacements that introduce no direction,
    /// number or negation the source word lacks (`safety`).
    pub fn builtin() -> Result<Self> {
        let phonetic = tables::phonetic(tables::ASR_PHONETIC).map_err(Error::Internal)?;
        let heard = tables::heard(tables::ASR_CHANNEL).map_err(Error::Internal)?;
        let mut all: Vec<Phonetic> = phonetic;
        all.extend(
            heard
                .into_iter()
                .filter(|h| !h.clean.is_empty() && !h.heard.is_empty() && !h.clean.contains(' '))
                .map(|h| Phonetic {
                    from: h.clean,
                    to: h.heard,
                    kind: PhoneticKind::Heard,
                    weight: h.count,
                }),
        );
        Ok(Self::new(all))
    }

    /// The model over a list of confusions.
    pub fn new(confusions: Vec<Phonetic>) -> Self {
        let mut asr = Asr {
            substitutes: HashMap::new(),
            splits: HashMap::new(),
            merges: HashMap::new(),
        };
        for c in confusions {
            let to = c.to.to_lowercase();
            if c.weight <= 0.0 || to.trim().is_empty() || to == c.from || !replacement_is_safe(&c.from, &to) {
                continue;
            }
            let sound = Sound { to, weight: c.weight };
            match c.kind {
                PhoneticKind::Split => asr.splits.entry(c.from).or_default().push(sound),
                PhoneticKind::Merge => {
                    if let Some((a, b)) = c.from.split_once(' ') {
                        asr.merges
                            .entry((a.to_string(), b.to_string()))
                            .or_default()
                            .push(sound);
                    }
                }
                _ if sound.to.contains(' ') => asr.splits.entry(c.from).or_default().push(sound),
                _ => asr.substitutes.entry(c.from).or_default().push(sound),
            }
        }
        asr
    }

    fn pick<'a>(sounds: Option<&'a Vec<Sound>>, rng: &mut StdRng) -> Option<&'a str> {
        let sounds = sounds?;
        let w: Vec<f64> = sounds.iter().map(|s| s.weight).collect();
        weighted_index(&w, rng).map(|i| sounds[i].to.as_str())
    }

    /// An edit at word `i` with its cost in word errors, or None when no edit fits there.
    fn edit(&self, words: &[String], i: usize, free_next: bool, rng: &mut StdRng) -> Option<(Edit, usize)> {
        let w = &words[i];
        let mut mix = EDIT_MIX;
        if !self.substitutes.contains_key(w) {
            mix[0] = 0.0;
        }
        if number_value(w).is_none() {
            mix[1] = 0.0;
        }
        let merge = words
            .get(i + 1)
            .filter(|_| free_next)
            .and_then(|n| self.merges.get(&(w.clone(), n.clone())));
        if !self.splits.contains_key(w) && merge.is_none() {
            mix[2] = 0.0;
        }
        if !FUNCTION_WORDS.contains(&w.as_str()) {
            mix[3] = 0.0;
        }
        match weighted_index(&mix, rng)? {
            0 => Some((Edit::Replace(Self::pick(self.substitutes.get(w), rng)?.to_string()), 1)),
            1 => Some((Edit::Replace(respell_number(w, rng)?), 1)),
            2 => match merge {
                Some(m) if !self.splits.contains_key(w) || rng.random::<bool>() => {
                    Some((Edit::MergeWithNext(Self::pick(Some(m), rng)?.to_string()), 2))
                }
                _ => Some((Edit::Split(Self::pick(self.splits.get(w), rng)?.to_string()), 2)),
            },
            3 => Some((Edit::Drop, 1)),
            _ => {
                let filler = if rng.random::<bool>() {
                    FILLERS[rng.random_range(0..FILLERS.len())].to_string()
                } else {
                    w.clone()
                };
                Some((Edit::InsertBefore(filler), 1))
            }
        }
    }
}

/// The same number in another spelling: digits to words, words to digits, cardinal to ordinal.
fn respell_number(word: &str, rng: &mut StdRng) -> Option<String> {
    let v = number_value(word)? as usize;
    let is_digits = word.chars().next().is_some_and(|c| c.is_ascii_digit());
    let is_ordinal = ORDINALS.contains(&word) || (is_digits && word.chars().any(|c| c.is_alphabetic()));
    let mut options: Vec<String> = Vec::new();
    if v < CARDINALS.len() {
        if is_digits || is_ordinal {
            options.push(CARDINALS[v].to_string());
        }
        if !is_ordinal {
            options.push(ORDINALS[v].to_string());
        }
    }
    if !is_digits || is_ordinal {
        options.push(v.to_string());
    }
    if !is_ordinal {
        let suffix = match (v % 100, v % 10) {
            (11..=13, _) => "th",
            (_, 1) => "st",
            (_, 2) => "nd",
            (_, 3) => "rd",
            _ => "th",
        };
        options.push(format!("{v}{suffix}"));
    }
    options.retain(|o| o != word);
    if options.is_empty() {
        return None;
    }
    Some(options.swap_remove(rng.random_range(0..options.len())))
}

/// One input token as a recogniser would print it: lowercase words without punctuation (hyphens and
/// slashes become spaces), beside the token as written.
struct Spoken {
    words: Vec<String>,
    written: String,
}

impl Spoken {
    fn changed(&self) -> bool {
        self.words.len() != 1 || self.words[0] != self.written
    }
}

fn spoken_tokens(text: &str) -> Vec<Spoken> {
    tokens(text)
        .iter()
        .map(|t| {
            let spoken: String = t
                .word
                .chars()
                .map(|c| if c == '-' || c == '/' { ' ' } else { c })
                .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == ' ')
                .collect::<String>()
                .to_lowercase();
            Spoken {
                words: spoken.split_whitespace().map(str::to_string).collect(),
                written: format!("{}{}{}", t.lead, t.word, t.trail),
            }
        })
        .collect()
}

/// The words to corrupt, in recogniser format where the budget allows: printing a token in lowercase
/// without punctuation is itself a word edit, so at most `budget` tokens are reformatted (chosen at
/// random; the rest keep their writing, as recognisers that print case and punctuation do).
/// Returns the words and the edits spent.
fn spoken_words(text: &str, budget: usize, rng: &mut StdRng) -> (Vec<String>, usize) {
    let spoken = spoken_tokens(text);
    let changed: Vec<usize> = (0..spoken.len()).filter(|&i| spoken[i].changed()).collect();
    let mut reformat = vec![true; spoken.len()];
    if changed.len() > budget {
        for k in shuffled(changed.len(), rng).into_iter().skip(budget) {
            reformat[changed[k]] = false;
        }
    }
    let spent = changed.len().min(budget);
    let mut words = Vec::with_capacity(spoken.len());
    for (s, r) in spoken.into_iter().zip(reformat) {
        if r {
            words.extend(s.words);
        } else {
            words.push(s.written);
        }
    }
    (words, spent)
}

impl Corruptor for Asr {
    fn family(&self) -> &str {
        "asr"
    }

    fn describe(&self) -> String {
        "speech recogniser: phonetic neighbours and homophones, words split and merged, dropped function \
         words, fillers and repetitions, numbers spoken or written, lowercase without punctuation"
            .into()
    }

    fn target(&self) -> Option<Target> {
        Some(Target {
            measure: Measure::Wer,
            levels: ASR_WER,
        })
    }

    fn corrupt(&self, text: &str, severity: Severity, rng: &mut StdRng) -> Result<Corrupted> {
        let n = text.split_whitespace().count();
        let wanted = stochastic_round(ASR_WER[severity.index()] * n as f64, rng);
        let (words, format_edits) = spoken_words(text, wanted, rng);
        let budget = wanted - format_edits;
        let mut plan: Vec<Option<Edit>> = (0..words.len()).map(|_| None).collect();
        let mut spent = 0;
        for i in shuffled(words.len(), rng) {
            if spent >= budget {
                break;
            }
            let busy = |j: usize| plan.get(j).is_some_and(|p| p.is_some());
            if busy(i) || (i > 0 && busy(i - 1)) || busy(i + 1) {
                continue;
            }
            let free_next = !busy(i + 2);
            let Some((edit, cost)) = self.edit(&words, i, free_next, rng) else {
                continue;
            };
            if spent + cost > budget + 1 {
                continue;
            }
            spent += cost;
            plan[i] = Some(edit);
        }
        let mut out: Vec<Token> = Vec::with_capacity(words.len() + 4);
        let mut skip_next = false;
        for (w, edit) in words.iter().zip(&plan) {
            if std::mem::take(&mut skip_next) {
                continue;
            }
            match edit {
                None => out.push(Token::bare(w.clone())),
                Some(Edit::Replace(r)) | Some(Edit::Split(r)) => out.push(Token::bare(r.clone())),
                Some(Edit::MergeWithNext(r)) => {
                    out.push(Token::bare(r.clone()));
                    skip_next = true;
                }
                Some(Edit::Drop) => {}
                Some(Edit::InsertBefore(f)) => {
                    out.push(Token::bare(f.clone()));
                    out.push(Token::bare(w.clone()));
                }
            }
        }
        Ok(Corrupted {
            text: join(&out),
            applied: spent + format_edits,
            opportunities: n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn numbers_change_spelling_not_value() {
        let mut rng = StdRng::seed_from_u64(5);
        for w in ["seven", "7", "seventh", "7th", "13", "twenty"] {
            for _ in 0..20 {
                let r = respell_number(w, &mut rng).unwrap();
                assert_ne!(r, w);
                assert_eq!(number_value(&r), number_value(w), "{w} -> {r}");
            }
        }
        assert_eq!(respell_number("pallet", &mut rng), None);
    }

    #[test]
    fn output_is_lowercase_without_punctuation_as_the_budget_allows() {
        let mut rng = StdRng::seed_from_u64(5);
        let (words, spent) = spoken_words("Move the pallet, LEFT of bay-7!", 10, &mut rng);
        assert_eq!(words, ["move", "the", "pallet", "left", "of", "bay", "7"]);
        assert_eq!(spent, 4);
        let (words, spent) = spoken_words("Move the pallet, LEFT of bay-7!", 1, &mut rng);
        assert_eq!(spent, 1);
        assert_eq!(
            words
                .iter()
                .filter(|w| w.chars().any(|c| c.is_uppercase() || c == ',' || c == '!' || c == '-'))
                .count(),
            3
        );
    }

    #[test]
    fn unsafe_table_entries_are_ignored() {
        let asr = Asr::new(vec![
            Phonetic {
                from: "to".into(),
                to: "two".into(),
                kind: PhoneticKind::Homophone,
                weight: 3.0,
            },
            Phonetic {
                from: "left".into(),
                to: "lift".into(),
                kind: PhoneticKind::Near,
                weight: 1.0,
            },
        ]);
        assert!(!asr.substitutes.contains_key("to"));
        assert_eq!(asr.substitutes["left"][0].to, "lift");
    }
}
