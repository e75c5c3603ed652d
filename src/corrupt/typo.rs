//! `typo`: keyboard slips: adjacent-key substitutions and insertions, deletions, transpositions, case
//! slips and whitespace noise (a missed or doubled space).
//!
//! Calibration: each text gets a budget of character edits, `target CER x characters` (stochastically
//! rounded), spent at distinct, non-adjacent positions so that edits do not cancel; the measured CER
//! therefore lands on the target on average (tests check it over the default suite).

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::RngExt;

use super::safety::{digit_numbers, keeps_numbers};
use super::words::{shuffled, stochastic_round, weighted_index};
use super::{Corrupted, Corruptor, Measure, Severity, Target};
use crate::error::Result;

/// Target character error rate per severity 1..5: from a light slip per sentence or two (2%) to the
/// error rates reported for hurried thumb typing on phones (~15-20%).
pub const TYPO_CER: [f64; 5] = [0.02, 0.05, 0.08, 0.12, 0.18];

/// Relative frequency of the slips at a letter or digit: substitution by a neighbour key, insertion of a
/// neighbour key, deletion, transposition with the next character, case slip.
const LETTER_OPS: [f64; 5] = [4.0, 2.0, 2.0, 1.0, 1.0];

#[derive(Clone, Copy)]
enum Slip {
    Substitute(char),
    Insert(char),
    Delete,
    Transpose,
    Case,
    DoubleSpace,
}

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

    /// A slip at `chars[i]` with its cost in character edits.
    fn slip(&self, chars: &[char], i: usize, rng: &mut StdRng) -> Option<(Slip, usize)> {
        let c = chars[i];
        if c == ' ' {
            // Whitespace noise: a missed space (words run together) or a doubled one.
            return Some(if rng.random::<bool>() {
                (Slip::Delete, 1)
            } else {
                (Slip::DoubleSpace, 1)
            });
        }
        if !c.is_alphanumeric() {
            return None;
        }
        let next_ok = chars
            .get(i + 1)
            .is_some_and(|&n| n.is_alphanumeric() && n.to_lowercase().ne(c.to_lowercase()));
        let mut weights = LETTER_OPS;
        if !next_ok {
            weights[3] = 0.0;
        }
        if !c.is_alphabetic() {
            weights[4] = 0.0;
        }
        Some(match weighted_index(&weights, rng)? {
            0 => (Slip::Substitute(self.neighbour(c, rng)?), 1),
            1 => (Slip::Insert(self.neighbour(c, rng)?), 1),
            2 => (Slip::Delete, 1),
            3 => (Slip::Transpose, 2),
            _ => (Slip::Case, 1),
        })
    }
}

/// The text `plan` writes: each planned slip applied at its character.
fn render(chars: &[char], plan: &[Option<Slip>]) -> String {
    let mut out = String::with_capacity(chars.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match plan[i] {
            None => out.push(c),
            Some(Slip::Substitute(n)) => out.push(n),
            Some(Slip::Insert(n)) => {
                out.push(c);
                out.push(n);
            }
            Some(Slip::Delete) => {}
            Some(Slip::DoubleSpace) => out.push_str("  "),
            Some(Slip::Case) => {
                if c.is_uppercase() {
                    out.extend(c.to_lowercase());
                } else {
                    out.extend(c.to_uppercase());
                }
            }
            Some(Slip::Transpose) => {
                out.push(chars[i + 1]);
                out.push(c);
                i += 1;
            }
        }
        i += 1;
    }
    out
}

impl Corruptor for Typo {
    fn family(&self) -> &str {
        "typo"
    }

    fn describe(&self) -> String {
        "keyboard-adjacent substitutions and insertions, deletions, transpositions (QWERTY), case slips, \
         missed or doubled spaces"
            .into()
    }

    fn target(&self) -> Option<Target> {
        Some(Target {
            measure: Measure::Cer,
            levels: TYPO_CER,
        })
    }

    fn corrupt(&self, text: &str, severity: Severity, rng: &mut StdRng) -> Result<Corrupted> {
        let chars: Vec<char> = text.chars().collect();
        let budget = stochastic_round(TYPO_CER[severity.index()] * chars.len() as f64, rng);
        let mut plan: Vec<Option<Slip>> = vec![None; chars.len()];
        let mut blocked = vec![false; chars.len() + 1];
        let mut spent = 0;
        let mut wrote_digit = false;
        // The clean text's numbers, read once for the slips judged against them.
        let mut clean_numbers: Option<Vec<u32>> = None;
        let text_has_digits = chars.iter().any(char::is_ascii_digit);
        for i in shuffled(chars.len(), rng) {
            if spent >= budget {
                break;
            }
            // Neighbouring edits would merge into fewer measured edits; keep them apart.
            if blocked[i] || (i > 0 && blocked[i - 1]) || blocked[i + 1] {
                continue;
            }
            let Some((slip, cost)) = self.slip(&chars, i, rng) else {
                continue;
            };
            if spent + cost > budget {
                continue;
            }
            // A slip may garble a number ("18" -> "1w8") but never type another ("28", "8", "81", "7 8" ->
            // "78", "I" -> "9"), which would change what the text asks for while its expected answer
            // stays the clean text's: judged on the whole text the plan writes with it. Cheap first: a
            // slip that writes no digit, in a text without one where no planned slip wrote one, cannot
            // (most slips of most texts).
            let writes_digit = matches!(slip, Slip::Substitute(n) | Slip::Insert(n) if n.is_ascii_digit());
            if writes_digit || wrote_digit || text_has_digits {
                plan[i] = Some(slip);
                let held = clean_numbers.get_or_insert_with(|| digit_numbers(text));
                let kept = keeps_numbers(held, &render(&chars, &plan));
                plan[i] = None;
                if !kept {
                    continue;
                }
            }
            wrote_digit |= writes_digit;
            plan[i] = Some(slip);
            blocked[i] = true;
            if matches!(slip, Slip::Transpose) {
                blocked[i + 1] = true;
            }
            spent += cost;
        }
        let out = render(&chars, &plan);
        Ok(Corrupted {
            text: out,
            applied: spent,
            opportunities: chars.len(),
        })
    }
}
