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

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

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

/// A part's best words: (lexicon id, phone distance), best first.
type BestWords = Rc<Vec<(u32, f32)>>;

thread_local! {
    /// `best_words` per (phones, limit): the parts of different stretches repeat ("play" in "play list" and
    /// in "play the"), and the search for a short part is the dearest step. A pure function of its key, so
    /// memoising it changes no output. Cleared when large.
    static PARTS: RefCell<HashMap<(Vec<u8>, u32), BestWords>> = RefCell::new(HashMap::new());
}

/// The PER_PART words nearest `phones` within `limit` by weight (ties by id, so the set is one), best first.
fn best_words(lex: &Lexicon, phones: &[u8], limit: f32) -> BestWords {
    let key = (phones.to_vec(), limit.to_bits());
    if let Some(hit) = PARTS.with(|p| p.borrow().get(&key).cloned()) {
        return hit;
    }
    // A short part is near thousands of words: select the best before sorting, each weight computed once.
    let mut v: Vec<(f64, u32, f32)> = lex
        .near(phones, limit)
        .into_iter()
        .map(|(id, cost)| (weight(lex, &[id], cost), id, cost))
        .collect();
    let order = |x: &(f64, u32, f32), y: &(f64, u32, f32)| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1));
    if v.len() > PER_PART {
        v.select_nth_unstable_by(PER_PART - 1, order);
        v.truncate(PER_PART);
    }
    v.sort_by(order);
    let best = Rc::new(v.into_iter().map(|(_, id, cost)| (id, cost)).collect::<Vec<_>>());
    PARTS.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() > 200_000 {
            p.clear();
        }
        p.insert(key, Rc::clone(&best));
    });
    best
}

/// Candidates of exactly `m` words (1..=3) for the phone string `phones`: every split into `m` parts, each
/// part a word within its own distance, the parts' costs together within `max_cost`.
pub fn candidates(lex: &Lexicon, phones: &[u8], m: usize) -> Vec<Candidate> {
    let limit = max_cost(phones.len());
    let part = |a: usize, b: usize| -> BestWords { best_words(lex, &phones[a..b], limit) };
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
                for &(x, cx) in a.iter() {
                    for &(y, cy) in b.iter() {
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
                    for &(x, cx) in a.iter() {
                        for &(y, cy) in b.iter() {
                            for &(z, cz) in c.iter() {
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
