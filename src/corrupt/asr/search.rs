//! Phonetic search: the real words, or sequences of real words, that sound like a stretch of speech.
//!
//! A stretch of `n` words is one phone string; its candidates are sequences of `m` lexicon words whose
//! concatenated pronunciations are within a weighted phone distance of it (one word: the lexicon's near
//! search; two or three words: every split of the string into parts, each part a word pronounced exactly
//! as it or within one edit, at most one part inexact). That covers homophones ("for" / "four"), one-phone
//! slips ("bay" / "pay"), splits ("playlist" / "play list"), merges ("my cell" / "myself") and
//! re-segmentation across word boundaries ("my weekend" / "mike lee can"). Each candidate is weighted by
//! how close it sounds and how often the recogniser writes its words (vocabulary rank): a recogniser's
//! language model prefers frequent words.

use super::lexicon::Lexicon;

/// A sequence of words that sounds like the stretch, with its weight.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Lexicon entry ids, in order.
    pub words: Vec<u32>,
    pub cost: f32,
    pub weight: f64,
}

/// Phone distance allowed for a stretch of `len` phones: about one phone in four, at least one phone.
pub fn max_cost(len: usize) -> f32 {
    (0.3 * len as f32).max(1.0)
}

/// Prior of a word from its vocabulary rank: frequent words are written far more readily.
fn prior(rank: u32) -> f64 {
    1.0 / (1.0 + rank as f64 / 400.0)
}

/// How sharply closeness matters: weight falls by e for every `TEMPERATURE` of phone distance.
const TEMPERATURE: f64 = 0.35;

fn weight(lex: &Lexicon, words: &[u32], cost: f32) -> f64 {
    let p: f64 = words.iter().map(|&w| prior(lex.entries[w as usize].rank)).product();
    p * (-(cost as f64) / TEMPERATURE).exp()
}

/// Words kept per part of a split (best weight first), so that products of parts stay small.
const PER_PART: usize = 8;

/// Candidates of exactly `m` words (1..=3) for the phone string `phones`: every split into `m` parts, each
/// part a word within its own distance, the parts' costs together within `max_cost`.
pub fn candidates(lex: &Lexicon, phones: &[u8], m: usize) -> Vec<Candidate> {
    let limit = max_cost(phones.len());
    let mut parts: std::collections::HashMap<(usize, usize), Vec<(u32, f32)>> = std::collections::HashMap::new();
    let mut part = |a: usize, b: usize| -> Vec<(u32, f32)> {
        parts
            .entry((a, b))
            .or_insert_with(|| {
                let mut v = lex.near(&phones[a..b], limit);
                v.sort_by(|x, y| {
                    weight(lex, &[y.0], y.1)
                        .total_cmp(&weight(lex, &[x.0], x.1))
                        .then(x.0.cmp(&y.0))
                });
                v.truncate(PER_PART);
                v
            })
            .clone()
    };
    let mut out: Vec<Candidate> = Vec::new();
    let mut push = |words: Vec<u32>, cost: f32| {
        if cost <= limit {
            let weight = weight(lex, &words, cost);
            out.push(Candidate { words, cost, weight });
        }
    };
    let len = phones.len();
    match m {
        1 => {
            for (id, cost) in lex.near(phones, limit) {
                push(vec![id], cost);
            }
        }
        2 => {
            for s1 in 1..len {
                let (a, b) = (part(0, s1), part(s1, len));
                for &(x, cx) in &a {
                    for &(y, cy) in &b {
                        push(vec![x, y], cx + cy);
                    }
                }
            }
        }
        3 => {
            for s1 in 1..len {
                let a = part(0, s1);
                if a.is_empty() {
                    continue;
                }
                for s2 in s1 + 1..len {
                    let (b, c) = (part(s1, s2), part(s2, len));
                    for &(x, cx) in &a {
                        for &(y, cy) in &b {
                            for &(z, cz) in &c {
                                push(vec![x, y, z], cx + cy + cz);
                            }
                        }
                    }
                }
            }
        }
        _ => {}
    }
    // The same words can come from several splits; keep each sequence once, at its lowest cost.
    out.sort_by(|a, b| a.words.cmp(&b.words).then(a.cost.total_cmp(&b.cost)));
    out.dedup_by(|a, b| a.words == b.words);
    out.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.words.cmp(&b.words)));
    out.truncate(64);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(lex: &Lexicon, c: &Candidate) -> String {
        c.words
            .iter()
            .map(|&w| lex.entries[w as usize].word.to_lowercase())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn finds_neighbours_splits_and_resegmentations() {
        let lex = Lexicon::get().unwrap();
        let one: Vec<String> = candidates(lex, &lex.pronounce("bay"), 1)
            .iter()
            .map(|c| words(lex, c))
            .collect();
        assert!(
            one.contains(&"pay".to_string()) && one.contains(&"day".to_string()),
            "{one:?}"
        );
        let split: Vec<String> = candidates(lex, &lex.pronounce("playlist"), 2)
            .iter()
            .map(|c| words(lex, c))
            .collect();
        assert!(split.contains(&"play list".to_string()), "{split:?}");
        let mut phones = lex.pronounce("my");
        phones.extend(lex.pronounce("weekend"));
        let three: Vec<String> = candidates(lex, &phones, 3).iter().map(|c| words(lex, c)).collect();
        // Re-segmented across the word boundary.
        assert!(three.contains(&"my week end".to_string()), "{three:?}");
        let two: Vec<String> = candidates(lex, &phones, 2).iter().map(|c| words(lex, c)).collect();
        assert!(two.iter().any(|s| s != "my weekend"), "{two:?}");
    }
}
