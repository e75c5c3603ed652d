//! `ocr`: what optical character recognition does to printed text: glyph confusions weighted by how
//! often a real OCR engine makes them (rn/m, l/1, e/c, ...; table measured with tesseract, see
//! `corruptions/README.md`), merged and split words, dropped and doubled characters, and line-break
//! hyphenation ("ware- house").
//!
//! Calibration: each text gets a budget of character edits, `target CER x characters`, spent on
//! candidate edits drawn in proportion to their weight (weighted sampling without replacement,
//! Efraimidis and Spirakis 2006) at non-overlapping places, so the measured CER lands on the target.
//! As in the real channel, a share of lines get a mark in the margin, and edits cluster in as few words as
//! the channel's measured characters-per-word-edit ratio says.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::RngExt;

use super::measure::edit_distance;
use super::tables::Confusion;
use super::words::{stochastic_round, weighted_index};
use super::{Corrupted, Corruptor, Measure, Severity, Target};
use crate::error::Result;

/// Target character error rate per severity 1..5: the CER the real tesseract channel
/// (`scripts/ocr_channel.py`) measured at its five degradation settings on the default suite's test split
/// (0.016, 0.048, 0.106, 0.152, 0.223; `corruptions/ocr/channel_stats.json`, `corruptions/README.md`).
pub const OCR_CER: [f64; 5] = [0.016, 0.048, 0.105, 0.15, 0.22];

/// Weight of the generic edits relative to the mean observed confusion count, per place: a space read
/// inside a word (split; tesseract almost never does it on single lines), a doubled character, a line-break
/// hyphen inside a long word (multi-line scans).
const SPLIT_WEIGHT: f64 = 0.05;
const DOUBLE_WEIGHT: f64 = 0.1;
const HYPHEN_WEIGHT: f64 = 0.1;

/// Share of lines where tesseract read a mark in the margin before the first character, per severity
/// (measured on the default suite's test split: 0.131, 0.268, 0.404, 0.351, 0.407).
const LINE_MARK_RATE: [f64; 5] = [0.13, 0.27, 0.40, 0.35, 0.41];

/// Character edits per word edit of the real channel, per severity (measured as above: 1.11, 1.26, 1.51,
/// 1.69, 1.91): OCR errors cluster in the words a blot or blur hits, so at the same CER fewer words break
/// than with errors spread one per word.
const EDITS_PER_WORD: [f64; 5] = [1.11, 1.26, 1.51, 1.69, 1.91];

/// Quote-like marks tesseract reads in the margin before a line.
const STRAY_MARKS: [char; 4] = ['‘', '\'', '"', '“'];

/// OCR model over a weighted glyph-confusion table.
pub struct Ocr {
    by_first: HashMap<char, Vec<(Confusion, usize)>>,
    /// Stray marks read before the first character, with their total weight.
    line_start: Vec<(char, f64)>,
    /// Mean confusion weight: the scale the generic edits are weighed on.
    unit: f64,
}

/// One possible edit: replace `len` characters at `at` by `to`, costing `cost` character edits.
struct Candidate {
    at: usize,
    len: usize,
    to: String,
    cost: usize,
    key: f64,
}

impl Ocr {
    /// An OCR model over a confusion table (see `tables::ocr_confusions`).
    pub fn new(confusions: Vec<Confusion>) -> Self {
        let unit = if confusions.is_empty() {
            1.0
        } else {
            confusions.iter().map(|c| c.weight).sum::<f64>() / confusions.len() as f64
        };
        let mut by_first: HashMap<char, Vec<(Confusion, usize)>> = HashMap::new();
        let mut line_start: Vec<(char, f64)> = Vec::new();
        for c in confusions {
            let Some(&first) = c.from.first() else { continue };
            // "m" read as "‘m": a mark in the margin before the line, recorded with the line's first glyph.
            let mut to = c.to.chars();
            if let Some(mark) = to.next().filter(|m| STRAY_MARKS.contains(m)) {
                if to.as_str().chars().eq(c.from.iter().copied()) {
                    match line_start.iter_mut().find(|(m, _)| *m == mark) {
                        Some((_, w)) => *w += c.weight,
                        None => line_start.push((mark, c.weight)),
                    }
                    continue;
                }
            }
            let to: Vec<char> = c.to.chars().collect();
            let cost = edit_distance(&c.from, &to);
            if cost > 0 {
                by_first.entry(first).or_default().push((c, cost));
            }
        }
        Ocr {
            by_first,
            line_start,
            unit,
        }
    }

    fn candidates(&self, chars: &[char], rng: &mut StdRng) -> Vec<Candidate> {
        let mut out = Vec::new();
        // Efraimidis-Spirakis: key = ln(u) / w; the largest keys form a weighted sample without replacement.
        let mut push = |at: usize, len: usize, to: String, cost: usize, weight: f64, rng: &mut StdRng| {
            if weight > 0.0 {
                let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
                out.push(Candidate {
                    at,
                    len,
                    to,
                    cost,
                    key: u.ln() / weight,
                });
            }
        };
        let mut word_len = 0;
        for i in 0..chars.len() {
            let c = chars[i];
            if let Some(list) = self.by_first.get(&c) {
                for (conf, cost) in list {
                    if chars[i..].starts_with(&conf.from) {
                        push(i, conf.from.len(), conf.to.clone(), *cost, conf.weight, rng);
                    }
                }
            }
            word_len = if c.is_alphanumeric() { word_len + 1 } else { 0 };
            let next_alpha = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
            if c.is_alphanumeric() {
                push(i, 1, format!("{c}{c}"), 1, DOUBLE_WEIGHT * self.unit, rng);
                if word_len >= 1 && next_alpha {
                    push(i, 1, format!("{c} "), 1, SPLIT_WEIGHT * self.unit, rng);
                }
                if word_len >= 3 && next_alpha && chars.get(i + 3).is_some_and(|n| n.is_alphanumeric()) {
                    push(i, 1, format!("{c}- "), 2, HYPHEN_WEIGHT * self.unit, rng);
                }
            }
        }
        out.sort_by(|a, b| b.key.total_cmp(&a.key).then(a.at.cmp(&b.at)));
        out
    }
}

impl Corruptor for Ocr {
    fn family(&self) -> &str {
        "ocr"
    }

    fn describe(&self) -> String {
        "glyph confusions weighted as tesseract makes them (rn/m, l/1, e/c, ...), merged and split words, \
         dropped and doubled characters, line-break hyphenation"
            .into()
    }

    fn target(&self) -> Option<Target> {
        Some(Target {
            measure: Measure::Cer,
            levels: OCR_CER,
        })
    }

    fn corrupt(&self, text: &str, severity: Severity, rng: &mut StdRng) -> Result<Corrupted> {
        let chars: Vec<char> = text.chars().collect();
        let budget = stochastic_round(OCR_CER[severity.index()] * chars.len() as f64, rng);
        let mut chosen: Vec<Candidate> = Vec::new();
        let mut spent = 0;
        // A mark in the margin, as often as the real channel prints one.
        let weights: Vec<f64> = self.line_start.iter().map(|m| m.1).collect();
        if budget > 0 && rng.random::<f64>() < LINE_MARK_RATE[severity.index()] {
            if let (Some(i), Some(&first)) = (weighted_index(&weights, rng), chars.first()) {
                chosen.push(Candidate {
                    at: 0,
                    len: 1,
                    to: format!("{}{first}", self.line_start[i].0),
                    cost: 1,
                    key: 0.0,
                });
                spent = 1;
            }
        }
        if budget > spent {
            // Word of each character (spaces belong to the word before them), to cluster edits in few words.
            let mut word_of = Vec::with_capacity(chars.len());
            let mut w = 0usize;
            for (i, c) in chars.iter().enumerate() {
                if !c.is_whitespace() && i > 0 && chars[i - 1].is_whitespace() {
                    w += 1;
                }
                word_of.push(w);
            }
            let max_words = ((budget - spent) as f64 / EDITS_PER_WORD[severity.index()])
                .round()
                .max(1.0) as usize;
            let mut words_hit: Vec<usize> = Vec::new();
            let mut used = vec![false; chars.len()];
            if !chosen.is_empty() {
                used[0] = true;
            }
            for cand in self.candidates(&chars, rng) {
                if spent >= budget {
                    break;
                }
                let span = cand.at..cand.at + cand.len;
                if spent + cand.cost > budget || used[span.clone()].iter().any(|u| *u) {
                    continue;
                }
                let word = word_of[cand.at];
                if !words_hit.contains(&word) {
                    if words_hit.len() >= max_words {
                        continue;
                    }
                    words_hit.push(word);
                }
                used[span].iter_mut().for_each(|u| *u = true);
                spent += cand.cost;
                chosen.push(cand);
            }
        }
        chosen.sort_by_key(|c| c.at);
        let mut out = String::with_capacity(text.len() + 8);
        let mut i = 0;
        let mut next = chosen.iter().peekable();
        while i < chars.len() {
            match next.peek() {
                Some(c) if c.at == i => {
                    out.push_str(&c.to);
                    i += c.len;
                    next.next();
                }
                _ => {
                    out.push(chars[i]);
                    i += 1;
                }
            }
        }
        let applied = chosen.iter().map(|c| c.cost).sum();
        Ok(Corrupted {
            text: out,
            applied,
            opportunities: chars.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrupt::tables::{ocr_confusions, OCR_CONFUSIONS};

    #[test]
    fn margin_marks_go_before_the_line_only() {
        let table = "m\t‘m\t5\nrn\tm\t3\n";
        let ocr = Ocr::new(ocr_confusions(table).unwrap());
        assert_eq!(ocr.line_start, vec![('‘', 5.0)]);
        assert_eq!(ocr.by_first.len(), 1);
        let shipped = Ocr::new(ocr_confusions(OCR_CONFUSIONS).unwrap());
        assert!(!shipped.line_start.is_empty());
    }
}
