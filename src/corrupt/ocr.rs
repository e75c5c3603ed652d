//! `ocr`: what optical character recognition does to printed text: glyph confusions (rn/m, l/1, O/0,
//! cl/d, ...), split and merged words, dropped and doubled characters.

use rand::rngs::StdRng;
use rand::RngExt;

use super::tables::Confusion;
use super::{Corruptor, Severity};

/// Probability per character that a recognition error starts there, per severity 1..5.
pub const OCR_RATE: [f64; 5] = [0.02, 0.05, 0.08, 0.12, 0.18];

/// OCR model over a weighted glyph-confusion table.
pub struct Ocr {
    confusions: Vec<Confusion>,
}

impl Ocr {
    /// An OCR model over a confusion table (see `tables::ocr_confusions`).
    pub fn new(confusions: Vec<Confusion>) -> Self {
        Ocr { confusions }
    }

    /// A confusion whose source glyphs start at `chars[i]`, chosen by weight.
    fn pick(&self, chars: &[char], i: usize, rng: &mut StdRng) -> Option<&Confusion> {
        let matching: Vec<&Confusion> = self
            .confusions
            .iter()
            .filter(|c| chars[i..].starts_with(&c.from))
            .collect();
        let total: f64 = matching.iter().map(|c| c.weight).sum();
        if total <= 0.0 {
            return None;
        }
        let mut r = rng.random::<f64>() * total;
        for c in &matching {
            r -= c.weight;
            if r < 0.0 {
                return Some(c);
            }
        }
        matching.last().copied()
    }
}

impl Corruptor for Ocr {
    fn family(&self) -> &'static str {
        "ocr"
    }

    fn describe(&self) -> &'static str {
        "glyph confusions (rn/m, l/1, O/0, cl/d, ...), split and merged words, dropped and doubled characters"
    }

    fn corrupt(&self, text: &str, severity: Severity, rng: &mut StdRng) -> String {
        let p = OCR_RATE[severity.index()];
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len() + 8);
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if rng.random::<f64>() >= p {
                out.push(c);
                i += 1;
                continue;
            }
            if c.is_whitespace() {
                // Merged words: the recogniser misses the gap.
                i += 1;
                continue;
            }
            if let Some(conf) = self.pick(&chars, i, rng) {
                out.push_str(&conf.to);
                i += conf.from.len();
                continue;
            }
            let prev_alpha = i > 0 && chars[i - 1].is_alphabetic();
            match rng.random_range(0..3u8) {
                0 if prev_alpha && c.is_alphabetic() => {
                    // Split word: a gap read inside a word.
                    out.push(' ');
                    out.push(c);
                }
                1 => {}
                _ => {
                    out.push(c);
                    out.push(c);
                }
            }
            i += 1;
        }
        out
    }
}
