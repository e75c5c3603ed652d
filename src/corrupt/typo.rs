//! `typo`: keyboard slips: adjacent-key substitutions and insertions, deletions, transpositions.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::RngExt;

use super::{Corruptor, Severity};

/// Probability that a letter or digit is hit by a slip, per severity 1..5.
/// Each slip costs one or two character edits, so the measured CER lands near these values.
pub const TYPO_RATE: [f64; 5] = [0.02, 0.05, 0.08, 0.12, 0.18];

/// Keyboard typo model over a layout's neighbour table.
pub struct Typo {
    neighbours: HashMap<char, Vec<char>>,
}

impl Typo {
    /// A typo model over key neighbours (see `tables::keyboard_neighbours`).
    pub fn new(neighbours: HashMap<char, Vec<char>>) -> Self {
        Typo { neighbours }
    }

    fn neighbour(&self, c: char, rng: &mut StdRng) -> Option<char> {
        let lower = c.to_ascii_lowercase();
        let near = self.neighbours.get(&lower).filter(|n| !n.is_empty())?;
        let n = near[rng.random_range(0..near.len())];
        Some(if c.is_ascii_uppercase() {
            n.to_ascii_uppercase()
        } else {
            n
        })
    }
}

impl Corruptor for Typo {
    fn family(&self) -> &'static str {
        "typo"
    }

    fn describe(&self) -> &'static str {
        "keyboard-adjacent substitutions and insertions, deletions, transpositions (QWERTY)"
    }

    fn corrupt(&self, text: &str, severity: Severity, rng: &mut StdRng) -> String {
        let p = TYPO_RATE[severity.index()];
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len() + 8);
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if !c.is_alphanumeric() || rng.random::<f64>() >= p {
                out.push(c);
                i += 1;
                continue;
            }
            match rng.random_range(0..4u8) {
                0 => out.push(self.neighbour(c, rng).unwrap_or(c)),
                1 => {
                    out.push(c);
                    if let Some(n) = self.neighbour(c, rng) {
                        out.push(n);
                    }
                }
                2 => {}
                _ => match chars.get(i + 1) {
                    Some(&next) if next.is_alphanumeric() && next != c => {
                        out.push(next);
                        out.push(c);
                        i += 1;
                    }
                    _ => out.push(self.neighbour(c, rng).unwrap_or(c)),
                },
            }
            i += 1;
        }
        out
    }
}
