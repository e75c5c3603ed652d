//! `ocr`: what optical character recognition does to printed text: glyph confusions weighted by how
//! often a real OCR engine makes them (o/a, dropped l, l/t, e/c, ...; table measured with tesseract, see
//! `corruptions/README.md`), merged and split words, dropped and doubled characters, and line-break
//! hyphenation ("ware- house").
//!
//! Calibration: each text gets a budget of character edits, `target CER x characters`, spent on
//! edits drawn in proportion to their weight at non-overlapping places, so the measured CER lands on the
//! target.
//! As in the real channel, a share of lines get a mark in the margin, and edits cluster in as few words as
//! the channel's measured characters-per-word-edit ratio says.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::RngExt;

use super::measure::edit_distance;
use super::safety::{digit_numbers, keeps_numbers};
use super::tables::Confusion;
use super::words::{stochastic_round, weighted_index};
use super::{Corrupted, Corruptor, Measure, Severity, Target};
use crate::error::Result;

/// Target character error rate per severity 1..5: the CER the real tesseract channel
/// (`scripts/ocr_channel.py`) measured at its five degradation settings on the default suite's train split
/// (0.0220, 0.0543, 0.1155, 0.1593, 0.2308 on 600 lines; `corruptions/ocr/channel_stats.json`, made by
/// `scripts/derive_ocr_table.py`). The held-out test split measures 0.023, 0.054, 0.115, 0.159, 0.234.
pub const OCR_CER: [f64; 5] = [0.022, 0.054, 0.116, 0.159, 0.231];

/// Weight of the generic edits relative to the mean observed confusion count, per place: a space read
/// inside a word (split; tesseract almost never does it on single lines), a doubled character, a line-break
/// hyphen inside a long word (multi-line scans).
const SPLIT_WEIGHT: f64 = 0.05;
const DOUBLE_WEIGHT: f64 = 0.1;
const HYPHEN_WEIGHT: f64 = 0.1;

/// Share of lines where tesseract read a mark in the margin before the first character, per severity
/// (measured on the default suite's train split as above: 0.143, 0.260, 0.402, 0.327, 0.362).
const LINE_MARK_RATE: [f64; 5] = [0.14, 0.26, 0.40, 0.33, 0.36];

/// Character edits per word edit of the real channel, per severity (measured as above: 1.15, 1.24, 1.49,
/// 1.64, 1.89): OCR errors cluster in the words a blot or blur hits, so at the same CER fewer words break
/// than with errors spread one per word.
const EDITS_PER_WORD: [f64; 5] = [1.15, 1.24, 1.49, 1.64, 1.89];

/// Quote-like marks tesseract reads in the margin before a line.
const STRAY_MARKS: [char; 4] = ['‘', '\'', '"', '“'];

/// The confusions whose source starts with one glyph.
#[derive(Default)]
struct Glyph {
    /// (confusion, its cost in character edits) with a one-glyph source.
    singles: Vec<(Confusion, usize)>,
    /// The same with longer sources ("rn"), which match only where the whole source is.
    multis: Vec<(Confusion, usize)>,
    /// Total weight of the single-glyph sources, which match wherever the glyph is.
    single_weight: f64,
}

/// OCR model over a weighted glyph-confusion table.
pub struct Ocr {
    /// Confusions by first glyph: ASCII by index, the rest in a map.
    ascii: Vec<Glyph>,
    by_first: HashMap<char, Glyph>,
    /// Stray marks read before the first character, with their total weight.
    line_start: Vec<(char, f64)>,
    /// Mean confusion weight: the scale the generic edits are weighed on.
    unit: f64,
}

/// One chosen edit: replace `len` characters at `at` by `to`, costing `cost` character edits.
struct Edit {
    at: usize,
    len: usize,
    to: String,
    cost: usize,
}

/// True when `from` starts at `chars[i]` (an element loop: sources are one to three glyphs long).
fn source_at(chars: &[char], i: usize, from: &[char]) -> bool {
    chars.len() - i >= from.len() && from.iter().zip(&chars[i..]).all(|(a, b)| a == b)
}

/// Generic edits possible at `chars[i]`: (weight relative to `unit`, replacement, cost).
fn generic_edits(chars: &[char], i: usize, word_len: usize) -> [(f64, usize); 3] {
    let c = chars[i];
    if !c.is_alphanumeric() {
        return [(0.0, 1), (0.0, 1), (0.0, 2)];
    }
    let next_alpha = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
    let hyphen = word_len >= 3 && next_alpha && chars.get(i + 3).is_some_and(|n| n.is_alphanumeric());
    [
        (DOUBLE_WEIGHT, 1),
        (if next_alpha { SPLIT_WEIGHT } else { 0.0 }, 1),
        (if hyphen { HYPHEN_WEIGHT } else { 0.0 }, 2),
    ]
}

impl Ocr {
    /// An OCR model over a confusion table (see `tables::ocr_confusions`).
    pub fn new(confusions: Vec<Confusion>) -> Self {
        let unit = if confusions.is_empty() {
            1.0
        } else {
            confusions.iter().map(|c| c.weight).sum::<f64>() / confusions.len() as f64
        };
        let mut by_first: HashMap<char, Glyph> = HashMap::new();
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
            if cost > 0 && c.weight > 0.0 {
                let g = by_first.entry(first).or_default();
                if c.from.len() == 1 {
                    g.single_weight += c.weight;
                    g.singles.push((c, cost));
                } else {
                    g.multis.push((c, cost));
                }
            }
        }
        let ascii = (0..128u8)
            .map(|b| by_first.remove(&char::from(b)).unwrap_or_default())
            .collect();
        Ocr {
            ascii,
            by_first,
            line_start,
            unit,
        }
    }

    fn glyph(&self, c: char) -> Option<&Glyph> {
        if c.is_ascii() {
            self.ascii.get(c as usize)
        } else {
            self.by_first.get(&c)
        }
    }

    /// Total weight of every edit that can start at each character.
    fn position_weights(&self, chars: &[char]) -> Vec<f64> {
        let mut word_len = 0;
        (0..chars.len())
            .map(|i| {
                let c = chars[i];
                word_len = if c.is_alphanumeric() { word_len + 1 } else { 0 };
                let mut w: f64 = generic_edits(chars, i, word_len).iter().map(|g| g.0).sum::<f64>() * self.unit;
                if let Some(g) = self.glyph(c) {
                    w += g.single_weight;
                    w += g
                        .multis
                        .iter()
                        .filter(|(conf, _)| source_at(chars, i, &conf.from))
                        .map(|(conf, _)| conf.weight)
                        .sum::<f64>();
                }
                w
            })
            .collect()
    }

    /// One edit at `chars[i]`, drawn by weight among the table's confusions and the generic edits.
    fn edit_at(&self, chars: &[char], i: usize, rng: &mut StdRng) -> Option<Edit> {
        let c = chars[i];
        let word_len = chars[..=i].iter().rev().take_while(|c| c.is_alphanumeric()).count();
        let generic = generic_edits(chars, i, word_len);
        let table: Vec<&(Confusion, usize)> = self
            .glyph(c)
            .map(|g| {
                g.singles
                    .iter()
                    .chain(g.multis.iter().filter(|(conf, _)| source_at(chars, i, &conf.from)))
                    .collect()
            })
            .unwrap_or_default();
        let mut weights: Vec<f64> = table.iter().map(|(conf, _)| conf.weight).collect();
        weights.extend(generic.iter().map(|g| g.0 * self.unit));
        let k = weighted_index(&weights, rng)?;
        Some(match table.get(k) {
            Some((conf, cost)) => Edit {
                at: i,
                len: conf.from.len(),
                to: conf.to.clone(),
                cost: *cost,
            },
            None => {
                let (to, cost) = match k - table.len() {
                    0 => (format!("{c}{c}"), generic[0].1),
                    1 => (format!("{c} "), generic[1].1),
                    _ => (format!("{c}- "), generic[2].1),
                };
                Edit {
                    at: i,
                    len: 1,
                    to,
                    cost,
                }
            }
        })
    }
}

/// The text `edits` (apart, in any order) write over `chars`.
fn render<'e>(chars: &[char], edits: impl Iterator<Item = &'e Edit>) -> String {
    let mut edits: Vec<&Edit> = edits.collect();
    edits.sort_by_key(|e| e.at);
    let mut out = String::with_capacity(chars.len() + 8);
    let mut i = 0;
    let mut next = edits.into_iter().peekable();
    while i < chars.len() {
        match next.peek() {
            Some(e) if e.at == i => {
                out.push_str(&e.to);
                i += e.len;
                next.next();
            }
            _ => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

impl Corruptor for Ocr {
    fn family(&self) -> &str {
        "ocr"
    }

    fn describe(&self) -> String {
        "glyph confusions weighted as tesseract makes them (o/a, dropped l, l/t, e/c, ...), merged and split words, \
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
        let text_has_digits = chars.iter().any(char::is_ascii_digit);
        // Whether a chosen edit wrote a digit: later edits beside it are judged with it.
        let mut wrote_digit = false;
        // The clean text's numbers, read once for the edits judged against them.
        let mut clean_numbers: Option<Vec<u32>> = None;
        let budget = stochastic_round(OCR_CER[severity.index()] * chars.len() as f64, rng);
        let mut chosen: Vec<Edit> = Vec::new();
        let mut spent = 0;
        // A mark in the margin, as often as the real channel prints one.
        let marks: Vec<f64> = self.line_start.iter().map(|m| m.1).collect();
        if budget > 0 && rng.random::<f64>() < LINE_MARK_RATE[severity.index()] {
            if let (Some(i), Some(&first)) = (weighted_index(&marks, rng), chars.first()) {
                chosen.push(Edit {
                    at: 0,
                    len: 1,
                    to: format!("{}{first}", self.line_start[i].0),
                    cost: 1,
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
            // Places drawn by the total weight of the edits that can start there (with replacement; a place
            // already edited or an edit that does not fit is drawn again), then an edit drawn at the place.
            let mut cumulative = self.position_weights(&chars);
            for i in 1..cumulative.len() {
                cumulative[i] += cumulative[i - 1];
            }
            let total = cumulative.last().copied().unwrap_or(0.0);
            let mut attempts = 0;
            while spent < budget && total > 0.0 && attempts < 20 + 10 * budget {
                attempts += 1;
                let r = rng.random::<f64>() * total;
                let i = cumulative.partition_point(|&c| c <= r).min(chars.len() - 1);
                if used[i] || (words_hit.len() >= max_words && !words_hit.contains(&word_of[i])) {
                    continue;
                }
                let Some(edit) = self.edit_at(&chars, i, rng) else {
                    continue;
                };
                // Tesseract misreads digits as digits too (1 as 2, 5 as 8): real, but the expected answer
                // stays the clean text's, so such a variant would score a right reading as wrong.
                let writes_digit = edit.to.chars().any(|c| c.is_ascii_digit());
                if text_has_digits || wrote_digit || writes_digit {
                    let held = clean_numbers.get_or_insert_with(|| digit_numbers(text));
                    if !keeps_numbers(held, &render(&chars, chosen.iter().chain([&edit]))) {
                        continue;
                    }
                }
                let span = edit.at..edit.at + edit.len;
                if spent + edit.cost > budget || used[span.clone()].iter().any(|u| *u) {
                    continue;
                }
                let word = word_of[edit.at];
                if !words_hit.contains(&word) {
                    if words_hit.len() >= max_words {
                        continue;
                    }
                    words_hit.push(word);
                }
                used[span].iter_mut().for_each(|u| *u = true);
                wrote_digit |= writes_digit;
                spent += edit.cost;
                chosen.push(edit);
            }
        }
        let out = render(&chars, chosen.iter());
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
        assert_eq!(ocr.glyph('r').map(|g| g.multis.len()), Some(1));
        assert!(ocr.glyph('m').is_some_and(|g| g.singles.is_empty()));
        let shipped = Ocr::new(ocr_confusions(OCR_CONFUSIONS).unwrap());
        assert!(!shipped.line_start.is_empty());
    }
}
