//! Shared pieces of the noise models: words with their attached punctuation, noise budgets and
//! seeded choices.

use rand::rngs::StdRng;
use rand::RngExt;

/// One whitespace-separated token split into leading punctuation, the word and trailing punctuation,
/// so that word-level models can match and replace `word` and keep "(bay" or "seven," intact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub lead: String,
    pub word: String,
    pub trail: String,
}

impl Token {
    /// A bare word without punctuation.
    pub fn bare(word: impl Into<String>) -> Self {
        Token {
            lead: String::new(),
            word: word.into(),
            trail: String::new(),
        }
    }

    /// The word in lowercase, for table lookups.
    pub fn key(&self) -> String {
        self.word.to_lowercase()
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '\'' || c == '-' || c == '/'
}

/// Splits `text` on whitespace into tokens (a token with no word characters keeps them all in `lead`).
pub fn tokens(text: &str) -> Vec<Token> {
    text.split_whitespace()
        .map(|t| {
            let start = t.find(|c: char| c.is_alphanumeric()).unwrap_or(t.len());
            let end = t
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_alphanumeric())
                .map(|(i, c)| i + c.len_utf8())
                .unwrap_or(start)
                .max(start);
            let word = &t[start..end];
            // Apostrophes and hyphens inside the word stay; anything else splits it off.
            if word.chars().all(is_word_char) {
                Token {
                    lead: t[..start].to_string(),
                    word: word.to_string(),
                    trail: t[end..].to_string(),
                }
            } else {
                Token {
                    lead: String::new(),
                    word: t.to_string(),
                    trail: String::new(),
                }
            }
        })
        .collect()
}

/// Joins tokens with single spaces; empty tokens vanish.
pub fn join(tokens: &[Token]) -> String {
    let mut out = String::new();
    for t in tokens {
        if t.lead.is_empty() && t.word.is_empty() && t.trail.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&t.lead);
        out.push_str(&t.word);
        out.push_str(&t.trail);
    }
    out
}

/// `x` rounded down or up at random so that its expectation is `x`: the number of edits a sentence gets
/// when the target rate times its length is fractional. Keeps the pooled noise level unbiased on short texts.
pub fn stochastic_round(x: f64, rng: &mut StdRng) -> usize {
    if x <= 0.0 {
        return 0;
    }
    let floor = x.floor();
    floor as usize + usize::from(rng.random::<f64>() < x - floor)
}

/// An index drawn with probability proportional to `weights` (None when all are zero).
pub fn weighted_index(weights: &[f64], rng: &mut StdRng) -> Option<usize> {
    let total: f64 = weights.iter().filter(|w| **w > 0.0).sum();
    if total <= 0.0 {
        return None;
    }
    let mut r = rng.random::<f64>() * total;
    let mut last = None;
    for (i, &w) in weights.iter().enumerate() {
        if w <= 0.0 {
            continue;
        }
        last = Some(i);
        r -= w;
        if r < 0.0 {
            return Some(i);
        }
    }
    last
}

/// The indices 0..n in a seeded random order (Fisher-Yates).
pub fn shuffled(n: usize, rng: &mut StdRng) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
    v
}

/// Copies the capitalisation of `model` onto `word` (all caps, initial capital, or as is).
pub fn match_case(model: &str, word: &str) -> String {
    let letters: Vec<char> = model.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() > 1 && letters.iter().all(|c| c.is_uppercase()) && word.chars().all(|c| !c.is_uppercase()) {
        return word.to_uppercase();
    }
    if letters.first().is_some_and(|c| c.is_uppercase()) && word.chars().all(|c| !c.is_uppercase()) {
        let mut cs = word.chars();
        return match cs.next() {
            Some(f) => f.to_uppercase().chain(cs).collect(),
            None => String::new(),
        };
    }
    word.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn tokens_keep_punctuation_apart_and_join_back() {
        let t = tokens("Move (the) pallet, now!  \"bay-7\" ...");
        assert_eq!(t[1].lead, "(");
        assert_eq!(t[1].word, "the");
        assert_eq!(t[2].trail, ",");
        assert_eq!(t[4].word, "bay-7");
        assert_eq!((t[5].lead.as_str(), t[5].word.as_str()), ("...", ""));
        assert_eq!(join(&t), "Move (the) pallet, now! \"bay-7\" ...");
    }

    #[test]
    fn stochastic_round_is_unbiased() {
        let mut rng = StdRng::seed_from_u64(3);
        let n = 20_000;
        let sum: usize = (0..n).map(|_| stochastic_round(0.3, &mut rng)).sum();
        assert!((sum as f64 / n as f64 - 0.3).abs() < 0.02);
        assert_eq!(stochastic_round(2.0, &mut rng), 2);
        assert_eq!(stochastic_round(-1.0, &mut rng), 0);
    }

    #[test]
    fn weighted_index_follows_weights_and_skips_zeros() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut counts = [0usize; 3];
        for _ in 0..10_000 {
            counts[weighted_index(&[1.0, 0.0, 3.0], &mut rng).unwrap()] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((counts[2] as f64 / counts[0] as f64 - 3.0).abs() < 0.3);
        assert_eq!(weighted_index(&[0.0], &mut rng), None);
    }

    #[test]
    fn case_follows_the_replaced_word() {
        assert_eq!(match_case("Pallet", "skid"), "Skid");
        assert_eq!(match_case("PALLET", "skid"), "SKID");
        assert_eq!(match_case("pallet", "LH"), "LH");
        assert_eq!(match_case("Left", "LH"), "LH");
    }
}
