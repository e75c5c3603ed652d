//! What a speech channel does to words, counted the same way for a real recogniser's transcripts and for the
//! `asr` family's variants: both texts normalised (Whisper's rules), aligned word by word with the fewest word
//! edits (ties broken by the fewest character edits, so similar words pair up), and counted as
//! substitutions, deletions and insertions; maximal runs of edits form error regions (`n` clean words heard as
//! `m` words: 1-1 a substitution, 1-0 a deletion, 1-2 a split, 2-1 a merge, 2-3 ...), multi-word when `n` or
//! `m` is 2 or more; clean words are classed (`wordclass`) to count content words kept and errors on them.

use std::collections::BTreeMap;

use super::asr::lexicon::Lexicon;
use super::measure::edit_distance;
use super::normalise::normalise;
use super::wordclass::{classify, WordClass};

/// One aligned position: a clean word, a heard word, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Match,
    Sub,
    Del,
    Ins,
}

/// Minimum-edit word alignment, preferring among equally short ones the fewest character edits.
pub fn align(clean: &[&str], heard: &[&str]) -> Vec<Op> {
    let (n, m) = (clean.len(), heard.len());
    let chars = |a: &str, b: &str| edit_distance(&a.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>());
    let w = m + 1;
    let mut d = vec![(usize::MAX, usize::MAX); (n + 1) * w];
    d[0] = (0, 0);
    for i in 0..=n {
        for j in 0..=m {
            let mut best = d[i * w + j];
            if i > 0 {
                let p = d[(i - 1) * w + j];
                best = best.min((p.0 + 1, p.1 + clean[i - 1].chars().count()));
            }
            if j > 0 {
                let p = d[i * w + j - 1];
                best = best.min((p.0 + 1, p.1 + heard[j - 1].chars().count()));
            }
            if i > 0 && j > 0 {
                let p = d[(i - 1) * w + j - 1];
                let same = clean[i - 1] == heard[j - 1];
                let c = if same { 0 } else { chars(clean[i - 1], heard[j - 1]) };
                best = best.min((p.0 + usize::from(!same), p.1 + c));
            }
            d[i * w + j] = best;
        }
    }
    let mut ops = Vec::with_capacity(n.max(m));
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        let here = d[i * w + j];
        if i > 0 && j > 0 {
            let p = d[(i - 1) * w + j - 1];
            let same = clean[i - 1] == heard[j - 1];
            let c = if same { 0 } else { chars(clean[i - 1], heard[j - 1]) };
            if here == (p.0 + usize::from(!same), p.1 + c) {
                ops.push(if same { Op::Match } else { Op::Sub });
                i -= 1;
                j -= 1;
                continue;
            }
        }
        if i > 0
            && here
                == (
                    d[(i - 1) * w + j].0 + 1,
                    d[(i - 1) * w + j].1 + clean[i - 1].chars().count(),
                )
        {
            ops.push(Op::Del);
            i -= 1;
        } else {
            ops.push(Op::Ins);
            j -= 1;
        }
    }
    ops.reverse();
    ops
}

/// Counts over a set of (clean, heard) pairs.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct OpMix {
    pub texts: usize,
    /// Mean per-text normalised WER (the `wer` every run reports).
    pub wer: f64,
    pub clean_words: usize,
    pub sub: usize,
    pub del: usize,
    pub ins: usize,
    /// Clean words substituted or deleted, and those of them that are content words.
    pub errors_on_clean: usize,
    pub errors_on_content: usize,
    pub regions: usize,
    /// Regions with two or more words on either side, and those with two or more clean words.
    pub multiword_regions: usize,
    pub clean_multiword_regions: usize,
    pub content_words: usize,
    pub content_kept: usize,
    pub function_words: usize,
    pub function_kept: usize,
    /// Per word class (`WordClass::ALL` order): clean words, and those substituted or deleted.
    pub class_words: [usize; 6],
    pub class_errors: [usize; 6],
    /// Error regions by shape "n-m" (clean words - heard words), split by whether the region's clean words
    /// include a content word ("content") or not ("function", which includes pure insertions).
    pub shapes: BTreeMap<String, BTreeMap<String, usize>>,
    /// Clean words in multi-word regions that hit a content word, and the function words among them: how far
    /// an error around a hard word reaches into the short words beside it.
    pub multi_content_words: usize,
    pub multi_content_function_words: usize,
}

impl OpMix {
    fn share(a: usize, b: usize) -> f64 {
        if b == 0 {
            0.0
        } else {
            a as f64 / b as f64
        }
    }
    /// Substitutions / all word edits.
    pub fn sub_share(&self) -> f64 {
        Self::share(self.sub, self.sub + self.del + self.ins)
    }
    pub fn del_share(&self) -> f64 {
        Self::share(self.del, self.sub + self.del + self.ins)
    }
    pub fn ins_share(&self) -> f64 {
        Self::share(self.ins, self.sub + self.del + self.ins)
    }
    /// Of the clean words in error, the share that are content words.
    pub fn content_error_share(&self) -> f64 {
        Self::share(self.errors_on_content, self.errors_on_clean)
    }
    /// Of the error regions, the share with two or more words on either side.
    pub fn multiword_share(&self) -> f64 {
        Self::share(self.multiword_regions, self.regions)
    }
    /// Of the error regions, the share spanning two or more clean words (merges and re-segmentations, not
    /// one-word splits).
    pub fn clean_multiword_share(&self) -> f64 {
        Self::share(self.clean_multiword_regions, self.regions)
    }
    /// Share of clean content words heard right.
    pub fn content_kept_share(&self) -> f64 {
        Self::share(self.content_kept, self.content_words)
    }
    pub fn function_kept_share(&self) -> f64 {
        Self::share(self.function_kept, self.function_words)
    }
    /// Of the clean words in multi-word regions that hit a content word, the share that are function words.
    pub fn multi_content_function_share(&self) -> f64 {
        Self::share(self.multi_content_function_words, self.multi_content_words)
    }
    /// Per class: share of its clean words in error.
    pub fn class_error_rate(&self, class: WordClass) -> f64 {
        Self::share(self.class_errors[class.index()], self.class_words[class.index()])
    }
}

/// Counts the edits of every (clean, heard) pair.
pub fn opmix<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>, lexicon: &Lexicon) -> OpMix {
    let mut mix = OpMix::default();
    let mut wer_sum = 0.0;
    for (clean, heard) in pairs {
        let (nc, nh) = (normalise(clean), normalise(heard));
        let c: Vec<&str> = nc.split_whitespace().collect();
        let h: Vec<&str> = nh.split_whitespace().collect();
        let classes: Vec<WordClass> = c.iter().map(|w| classify(w, lexicon)).collect();
        let ops = align(&c, &h);
        mix.texts += 1;
        mix.clean_words += c.len();
        // An open region: clean words, heard words, whether it hits a content word, function words in it.
        let (mut i, mut region): (usize, Option<(usize, usize, bool, usize)>) = (0, None);
        let close = |region: &mut Option<(usize, usize, bool, usize)>, mix: &mut OpMix| {
            if let Some((n, m, content, function)) = region.take() {
                mix.regions += 1;
                if n >= 2 || m >= 2 {
                    mix.multiword_regions += 1;
                }
                if n >= 2 {
                    mix.clean_multiword_regions += 1;
                }
                if content && n >= 2 {
                    mix.multi_content_words += n;
                    mix.multi_content_function_words += function;
                }
                let group = if content { "content" } else { "function" };
                *mix.shapes
                    .entry(group.to_string())
                    .or_default()
                    .entry(format!("{n}-{m}"))
                    .or_default() += 1;
            }
        };
        let mut edits = 0;
        for op in &ops {
            let class = matches!(op, Op::Match | Op::Sub | Op::Del).then(|| classes[i]);
            if let Some(cl) = class {
                mix.class_words[cl.index()] += 1;
                if cl.is_content() {
                    mix.content_words += 1;
                } else {
                    mix.function_words += 1;
                }
            }
            match op {
                Op::Match => {
                    close(&mut region, &mut mix);
                    if let Some(cl) = class {
                        if cl.is_content() {
                            mix.content_kept += 1;
                        } else {
                            mix.function_kept += 1;
                        }
                    }
                }
                Op::Sub | Op::Del | Op::Ins => {
                    edits += 1;
                    match op {
                        Op::Sub => mix.sub += 1,
                        Op::Del => mix.del += 1,
                        _ => mix.ins += 1,
                    }
                    let r = region.get_or_insert((0, 0, false, 0));
                    if let Some(cl) = class {
                        r.0 += 1;
                        r.2 |= cl.is_content();
                        r.3 += usize::from(!cl.is_content());
                        mix.errors_on_clean += 1;
                        mix.class_errors[cl.index()] += 1;
                        if cl.is_content() {
                            mix.errors_on_content += 1;
                        }
                    }
                    if matches!(op, Op::Sub | Op::Ins) {
                        r.1 += 1;
                    }
                }
            }
            if class.is_some() {
                i += 1;
            }
        }
        close(&mut region, &mut mix);
        wer_sum += if c.is_empty() {
            if h.is_empty() {
                0.0
            } else {
                1.0
            }
        } else {
            edits as f64 / c.len() as f64
        };
    }
    mix.wer = if mix.texts == 0 {
        0.0
    } else {
        wer_sum / mix.texts as f64
    };
    mix
}

/// The value of a curve of (WER, value) points at `wer`, linearly interpolated between the two points that
/// bracket it (the points sorted by WER); None outside the curve.
pub fn at_wer(curve: &[(f64, f64)], wer: f64) -> Option<f64> {
    let mut pts = curve.to_vec();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts.windows(2).find(|w| w[0].0 <= wer && wer <= w[1].0).map(|w| {
        let span = w[1].0 - w[0].0;
        if span <= 0.0 {
            w[0].1
        } else {
            w[0].1 + (w[1].1 - w[0].1) * (wer - w[0].0) / span
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_pairs_similar_words_and_regions_have_shapes() {
        assert_eq!(
            align(
                &["my", "weekend", "playlist"],
                &["mike", "lee", "can", "play", "listen"]
            )
            .len(),
            5
        );
        let lex = Lexicon::get().unwrap();
        let mix = opmix(
            [
                ("Play the 80s classic hits", "play made in classic kids"),
                ("add it to my playlist", "and it to my play list."),
                ("call Mike now", "Call Mike now."),
            ],
            lex,
        );
        assert_eq!(mix.texts, 3);
        // "the 80s" -> "made in": 2-2; "hits" -> "kids": 1-1; "add" -> "and": 1-1; "playlist" -> "play list": 1-2.
        assert_eq!(mix.regions, 4);
        assert_eq!(mix.multiword_regions, 2);
        assert_eq!(mix.clean_multiword_regions, 1, "the split 1-2 has one clean word");
        assert_eq!((mix.sub, mix.del, mix.ins), (5, 0, 1));
        assert_eq!(mix.shapes["content"]["1-2"], 1);
        assert!(mix.content_kept < mix.content_words);
        assert_eq!(mix.function_words - mix.function_kept, 1, "{mix:?}");
        // The one multi-word region on a content word ("the 80s") holds one function word of two.
        assert_eq!((mix.multi_content_words, mix.multi_content_function_words), (2, 1));
        assert!((mix.multi_content_function_share() - 0.5).abs() < 1e-12);
        assert!((mix.wer - (3.0 / 5.0 + 3.0 / 5.0) / 3.0).abs() < 1e-9, "{}", mix.wer);
    }
}
