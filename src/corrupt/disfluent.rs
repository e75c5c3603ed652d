//! `disfluent`: how people speak when a transcript keeps everything they said: fillers ("uh", "um", "you
//! know"), repetitions ("the the pallet", "pick up pick up") and false starts ("pa- pallet"). Human
//! transcripts and verbatim captions have them; a Whisper-class recogniser drops them, which is why they are
//! not part of `asr`. Chain them where both apply: `disfluent+asr:3` is a recogniser that keeps some.
//!
//! Severity sets disfluencies per sentence (0.5 to 3; spontaneous speech has about six per hundred words,
//! Shriberg 1994, so 1 to 2 per request), placed at distinct word boundaries; the mix of kinds follows
//! Shriberg's counts roughly: fillers most, then repetitions, then false starts.

use rand::rngs::StdRng;
use rand::RngExt;

use super::safety::is_guarded;
use super::words::{join, shuffled, stochastic_round, tokens, weighted_index, Token};
use super::{Corrupted, Corruptor, Measure, Severity, Target};
use crate::error::Result;

/// Disfluencies per sentence at severities 1..5.
pub const DISFLUENCIES: [f64; 5] = [0.5, 1.0, 1.5, 2.0, 3.0];

/// Fillers with their relative frequency.
const FILLERS: [(&str, f64); 9] = [
    ("uh", 4.0),
    ("um", 4.0),
    ("er", 1.0),
    ("hmm", 0.5),
    ("you know", 1.0),
    ("I mean", 0.7),
    ("like", 1.0),
    ("well", 0.7),
    ("so", 0.5),
];

/// Filler, repetition, false start.
const KIND_MIX: [f64; 3] = [0.45, 0.35, 0.20];

/// Human disfluencies; never introduces a word the suite's labels hinge on.
pub struct Disfluent {
    label_words: Vec<String>,
}

impl Disfluent {
    pub fn new(label_words: &[String]) -> Self {
        Disfluent {
            label_words: label_words.iter().map(|w| w.to_lowercase()).collect(),
        }
    }

    /// The start of `word` cut off: at most three letters and at most half the word, e.g. "pal-" of "pallet".
    fn fragment(&self, word: &str, rng: &mut StdRng) -> Option<String> {
        let letters: Vec<char> = word.chars().take_while(|c| c.is_alphabetic()).collect();
        if letters.len() < 4 {
            return None;
        }
        let max = (letters.len() / 2).min(3);
        let n = rng.random_range(1..=max);
        let frag: String = letters[..n].iter().collect::<String>().to_lowercase();
        (!is_guarded(&frag) && !self.label_words.contains(&frag)).then(|| format!("{frag}-"))
    }
}

impl Corruptor for Disfluent {
    fn family(&self) -> &str {
        "disfluent"
    }

    fn describe(&self) -> String {
        "spontaneous speech in a verbatim transcript: fillers (uh, um, you know), repetitions and false starts".into()
    }

    fn target(&self) -> Option<Target> {
        Some(Target {
            measure: Measure::ErrorsPerSentence,
            levels: DISFLUENCIES,
        })
    }

    fn corrupt(&self, text: &str, severity: Severity, rng: &mut StdRng) -> Result<Corrupted> {
        let toks = tokens(text);
        let words: Vec<usize> = (0..toks.len()).filter(|&i| !toks[i].word.is_empty()).collect();
        if words.is_empty() {
            return Ok(Corrupted {
                text: text.to_string(),
                applied: 0,
                opportunities: 0,
            });
        }
        let wanted = stochastic_round(DISFLUENCIES[severity.index()], rng).min(words.len());
        let mut before: Vec<Vec<String>> = vec![Vec::new(); toks.len()];
        let mut applied = 0;
        for k in shuffled(words.len(), rng) {
            if applied >= wanted {
                break;
            }
            let i = words[k];
            let word = &toks[i].word;
            let inserted = match weighted_index(&KIND_MIX, rng) {
                Some(0) => {
                    let w: Vec<f64> = FILLERS.iter().map(|(_, w)| *w).collect();
                    weighted_index(&w, rng).map(|f| format!("{},", FILLERS[f].0))
                }
                Some(1) => {
                    // Repeat this word, or this word and the next when they run on without punctuation.
                    let next = words.get(k + 1).map(|&j| &toks[j]);
                    match next {
                        Some(n) if toks[i].trail.is_empty() && rng.random::<f64>() < 0.3 => {
                            Some(format!("{word} {}", n.word))
                        }
                        _ => Some(word.clone()),
                    }
                }
                _ => self.fragment(word, rng),
            };
            if let Some(s) = inserted {
                before[i].push(s);
                applied += 1;
            }
        }
        let mut out: Vec<Token> = Vec::with_capacity(toks.len() + applied);
        for (t, ins) in toks.into_iter().zip(before) {
            if !ins.is_empty() {
                // Leading punctuation ("(bay") moves in front of the disfluency.
                let mut lead = t.lead.clone();
                for s in ins {
                    out.push(Token {
                        lead: std::mem::take(&mut lead),
                        word: s,
                        trail: String::new(),
                    });
                }
                out.push(Token {
                    lead: String::new(),
                    ..t
                });
            } else {
                out.push(t);
            }
        }
        Ok(Corrupted {
            text: join(&out),
            applied,
            opportunities: words.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn adds_disfluencies_and_keeps_the_sentence() {
        let d = Disfluent::new(&["dock".to_string()]);
        let text = "Move the pallet to dock seven, please.";
        let mut total = 0;
        for seed in 0..200 {
            let mut rng = StdRng::seed_from_u64(seed);
            let out = d.corrupt(text, Severity::new(5).unwrap(), &mut rng).unwrap();
            total += out.applied;
            // Removing the disfluencies gives the sentence back: every original word is there, in order.
            let mut it = out.text.split_whitespace();
            for w in text.split_whitespace() {
                assert!(it.any(|o| o == w), "{w} lost in {}", out.text);
            }
        }
        assert!((total as f64 / 200.0 - 3.0).abs() < 0.2, "{total}");
    }
}
