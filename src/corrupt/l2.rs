//! `l2` (and `l2-es`, `l2-zh`, `l2-hi`): non-native syntax by first-language profile: articles dropped,
//! inserted or swapped, prepositions substituted, agreement and tense errors (including over-regularised
//! past tenses such as "putted"), word-order changes, pronoun drop, plural errors, copula drop. A profile
//! (`corruptions/l2/*.toml`) weighs the error types; severity sets the errors per sentence.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::RngExt;
use serde::Deserialize;

use super::number_words::number_value;
use super::safety::is_guarded;
use super::words::{join, stochastic_round, tokens, weighted_index, Token};
use super::{Corrupted, Corruptor, Measure, Severity, Target};
use crate::error::{Error, Result};

/// Errors per sentence per severity 1..5.
pub const L2_ERRORS: [f64; 5] = [0.5, 1.0, 1.5, 2.0, 3.0];

const PROFILES: [(&str, &str); 4] = [
    ("generic.toml", include_str!("../../corruptions/l2/generic.toml")),
    ("es.toml", include_str!("../../corruptions/l2/es.toml")),
    ("zh.toml", include_str!("../../corruptions/l2/zh.toml")),
    ("hi.toml", include_str!("../../corruptions/l2/hi.toml")),
];

/// The error types, in the order of `ErrorWeights`' fields.
const KINDS: usize = 10;

/// Relative weight of each error type in a profile.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorWeights {
    pub article_drop: f64,
    pub article_insert: f64,
    pub article_swap: f64,
    pub preposition: f64,
    pub agreement: f64,
    pub tense: f64,
    pub word_order: f64,
    pub pronoun_drop: f64,
    pub plural: f64,
    pub copula_drop: f64,
}

impl ErrorWeights {
    fn as_array(&self) -> [f64; KINDS] {
        [
            self.article_drop,
            self.article_insert,
            self.article_swap,
            self.preposition,
            self.agreement,
            self.tense,
            self.word_order,
            self.pronoun_drop,
            self.plural,
            self.copula_drop,
        ]
    }
}

/// A first-language profile.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The family name (`l2`, `l2-es`, ...).
    pub name: String,
    pub description: String,
    pub weights: ErrorWeights,
    /// Preposition substitutions this first language invites.
    pub prepositions: BTreeMap<String, Vec<String>>,
}

/// The shipped profiles.
pub fn builtin_profiles() -> Result<Vec<Profile>> {
    PROFILES
        .iter()
        .map(|(file, text)| {
            toml::from_str::<Profile>(text)
                .map_err(|e| Error::Internal(format!("corruptions/l2/{file}: {}", e.message())))
        })
        .collect()
}

const ARTICLES: [&str; 3] = ["the", "a", "an"];
const PRONOUNS: [&str; 9] = ["it", "you", "i", "we", "he", "she", "they", "me", "them"];
const COPULAS: [&str; 5] = ["is", "are", "am", "was", "were"];
const AGREEMENT: [(&str, &str); 8] = [
    ("is", "are"),
    ("are", "is"),
    ("was", "were"),
    ("were", "was"),
    ("has", "have"),
    ("have", "has"),
    ("does", "do"),
    ("do", "does"),
];
/// Irregular verbs learners regularise ("putted", "goed").
const IRREGULAR: [(&str, &str); 12] = [
    ("put", "putted"),
    ("go", "goed"),
    ("take", "taked"),
    ("bring", "bringed"),
    ("send", "sended"),
    ("drive", "drived"),
    ("hold", "holded"),
    ("leave", "leaved"),
    ("get", "getted"),
    ("give", "gived"),
    ("run", "runned"),
    ("come", "comed"),
];
/// Regular command verbs that take a wrong tense.
const VERBS: [&str; 16] = [
    "move", "pick", "drop", "raise", "lower", "stop", "return", "turn", "park", "check", "open", "close", "restart",
    "reset", "lift", "carry",
];
/// Words learners place elsewhere in the sentence.
const MOVABLE: [&str; 9] = [
    "please",
    "now",
    "then",
    "again",
    "also",
    "slowly",
    "quickly",
    "carefully",
    "first",
];
const PREPOSITIONS: [&str; 10] = ["of", "to", "into", "from", "at", "in", "on", "with", "for", "by"];

/// Non-native syntax under one profile.
pub struct L2 {
    profile: Profile,
}

impl L2 {
    /// The model for `profile`; its weights must be non-negative with a positive sum.
    pub fn new(profile: Profile) -> Result<Self> {
        let w = profile.weights.as_array();
        if w.iter().any(|x| !x.is_finite() || *x < 0.0) || w.iter().sum::<f64>() <= 0.0 {
            return Err(Error::Internal(format!(
                "L2 profile '{}': weights must be non-negative with a positive sum",
                profile.name
            )));
        }
        Ok(L2 { profile })
    }

    /// Positions where error type `kind` can apply.
    fn sites(&self, kind: usize, t: &[Token], keys: &[String]) -> Vec<usize> {
        let key = |i: usize| keys[i].as_str();
        let n = t.len();
        (0..n)
            .filter(|&i| {
                let k: &str = key(i);
                match kind {
                    0 => ARTICLES.contains(&k),
                    1 => {
                        i > 0
                            && PREPOSITIONS.contains(&key(i - 1))
                            && t[i - 1].trail.is_empty()
                            && !ARTICLES.contains(&k)
                            && !PRONOUNS.contains(&k)
                            && number_value(k).is_none()
                            && k.chars().all(|c| c.is_alphabetic())
                    }
                    2 => ARTICLES.contains(&k),
                    3 => self.profile.prepositions.contains_key(k),
                    4 => {
                        AGREEMENT.iter().any(|(a, _)| *a == k)
                            || (i > 0
                                && ["it", "he", "she", "this", "that"].contains(&key(i - 1))
                                && k.len() > 3
                                && k.ends_with('s')
                                && !k.ends_with("ss"))
                    }
                    5 => {
                        IRREGULAR.iter().any(|(v, _)| *v == k)
                            || VERBS.contains(&k)
                            || (k.len() > 4 && k.ends_with("ed"))
                    }
                    6 => MOVABLE.contains(&k) || (i + 1 < n && swappable(&t[i]) && swappable(&t[i + 1])),
                    7 => PRONOUNS.contains(&k),
                    8 => {
                        let after_number = i > 0 && number_value(key(i - 1)).is_some_and(|v| v != 1);
                        k.len() > 3
                            && k.chars().all(|c| c.is_alphabetic())
                            && ((after_number && k.ends_with('s') && !k.ends_with("ss"))
                                || (i > 0 && key(i - 1) == "the" && !k.ends_with('s') && !is_guarded(k)))
                    }
                    _ => COPULAS.contains(&k),
                }
            })
            .collect()
    }

    /// Applies error type `kind` at token `i`.
    fn apply(&self, kind: usize, t: &mut Vec<Token>, i: usize, rng: &mut StdRng) {
        let k = t[i].key();
        match kind {
            0 | 7 | 9 => remove_word(t, i),
            1 => t.insert(i, Token::bare("the")),
            2 => {
                let to = if k == "the" {
                    if t.get(i + 1)
                        .is_some_and(|n| n.key().starts_with(['a', 'e', 'i', 'o', 'u']))
                    {
                        "an"
                    } else {
                        "a"
                    }
                } else {
                    "the"
                };
                set_word(&mut t[i], to);
            }
            3 => {
                let options = &self.profile.prepositions[&k];
                if !options.is_empty() {
                    let to = options[rng.random_range(0..options.len())].clone();
                    set_word(&mut t[i], &to);
                }
            }
            4 => match AGREEMENT.iter().find(|(a, _)| *a == k) {
                Some((_, to)) => set_word(&mut t[i], to),
                None => {
                    let stem = t[i].word[..t[i].word.len() - 1].to_string();
                    t[i].word = stem;
                }
            },
            5 => {
                let to = if let Some((_, past)) = IRREGULAR.iter().find(|(v, _)| *v == k) {
                    past.to_string()
                } else if VERBS.contains(&k.as_str()) {
                    if rng.random::<bool>() {
                        format!("{}ing", k.strip_suffix('e').unwrap_or(&k))
                    } else if k.ends_with('e') {
                        format!("{k}d")
                    } else {
                        format!("{k}ed")
                    }
                } else {
                    // Bare past: "moved" -> "move", "picked" -> "pick".
                    let stem = &k[..k.len() - 2];
                    if stem.ends_with(['v', 'c', 's', 'z']) {
                        format!("{stem}e")
                    } else {
                        stem.to_string()
                    }
                };
                set_word(&mut t[i], &to);
            }
            6 => {
                if MOVABLE.contains(&k.as_str()) && t.len() > 2 {
                    let word = t.remove(i);
                    let mut j = rng.random_range(0..=t.len());
                    if j == i {
                        j = if i == t.len() { 0 } else { t.len() };
                    }
                    let moved = Token::bare(word.word);
                    if j == t.len() {
                        // Keep the sentence's final punctuation at the end.
                        let trail = std::mem::take(&mut t[j - 1].trail);
                        t.push(Token { trail, ..moved });
                    } else {
                        t.insert(j, moved);
                    }
                } else if i + 1 < t.len() {
                    let (a, b) = (t[i].word.clone(), t[i + 1].word.clone());
                    t[i].word = b;
                    t[i + 1].word = a;
                }
            }
            _ => {
                let w = t[i].word.clone();
                t[i].word = match w.strip_suffix('s') {
                    Some(stem) => stem.to_string(),
                    None => format!("{w}s"),
                };
            }
        }
    }
}

fn swappable(t: &Token) -> bool {
    t.lead.is_empty() && t.trail.is_empty() && t.word.chars().all(|c| c.is_alphabetic()) && !is_guarded(&t.word)
}

/// Replaces a token's word, keeping the capital of a sentence-initial word.
fn set_word(t: &mut Token, to: &str) {
    t.word = super::words::match_case(&t.word, to);
}

/// Removes a word; its punctuation moves to a neighbour so that "it." does not vanish with the full stop.
fn remove_word(t: &mut Vec<Token>, i: usize) {
    let gone = t.remove(i);
    if !gone.trail.is_empty() && i > 0 {
        t[i - 1].trail.push_str(&gone.trail);
    } else if !gone.lead.is_empty() && i < t.len() {
        t[i].lead.insert_str(0, &gone.lead);
    }
    if i == 0 && gone.word.chars().next().is_some_and(char::is_uppercase) {
        if let Some(first) = t.first_mut() {
            first.word = super::words::match_case(&gone.word, &first.word);
        }
    }
}

impl Corruptor for L2 {
    fn family(&self) -> &str {
        &self.profile.name
    }

    fn describe(&self) -> String {
        format!(
            "{}: article omission/insertion/swap, preposition substitution, agreement and tense errors, \
             word order, pronoun drop, plural errors, copula drop",
            self.profile.description
        )
    }

    fn target(&self) -> Option<Target> {
        Some(Target {
            measure: Measure::ErrorsPerSentence,
            levels: L2_ERRORS,
        })
    }

    fn corrupt(&self, text: &str, severity: Severity, rng: &mut StdRng) -> Result<Corrupted> {
        let mut t = tokens(text);
        let wanted = stochastic_round(L2_ERRORS[severity.index()], rng);
        let weights = self.profile.weights.as_array();
        let mut applied = 0;
        for _ in 0..wanted {
            let keys: Vec<String> = t.iter().map(Token::key).collect();
            let sites: Vec<Vec<usize>> = (0..KINDS).map(|k| self.sites(k, &t, &keys)).collect();
            let w: Vec<f64> = (0..KINDS)
                .map(|k| if sites[k].is_empty() { 0.0 } else { weights[k] })
                .collect();
            let Some(kind) = weighted_index(&w, rng) else { break };
            let i = sites[kind][rng.random_range(0..sites[kind].len())];
            self.apply(kind, &mut t, i, rng);
            applied += 1;
        }
        let text = if applied == 0 { text.to_string() } else { join(&t) };
        Ok(Corrupted {
            text,
            applied,
            opportunities: 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn profiles_load_with_distinct_names() {
        let p = builtin_profiles().unwrap();
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["l2", "l2-es", "l2-zh", "l2-hi"]);
    }

    #[test]
    fn each_error_type_does_what_it_says() {
        let l2 = L2::new(builtin_profiles().unwrap().remove(0)).unwrap();
        let mut rng = StdRng::seed_from_u64(2);
        let run = |kind: usize, text: &str, rng: &mut StdRng| {
            let mut t = tokens(text);
            let keys: Vec<String> = t.iter().map(Token::key).collect();
            let i = l2.sites(kind, &t, &keys)[0];
            l2.apply(kind, &mut t, i, rng);
            join(&t)
        };
        assert_eq!(run(0, "Move the pallet left.", &mut rng), "Move pallet left.");
        assert_eq!(run(1, "go to bay seven", &mut rng), "go to the bay seven");
        assert_eq!(run(2, "take an apple", &mut rng), "take the apple");
        assert_eq!(run(4, "it is full", &mut rng), "it are full");
        assert_eq!(run(5, "put it back", &mut rng), "putted it back");
        assert_eq!(run(7, "pick it up", &mut rng), "pick up");
        assert_eq!(run(8, "two pallets here", &mut rng), "two pallet here");
        assert_eq!(run(9, "the bay is full", &mut rng), "the bay full");
        assert_eq!(run(0, "The pallet is here", &mut rng), "Pallet is here");
    }
}
