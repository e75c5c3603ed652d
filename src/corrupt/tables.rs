//! The data tables corruption models read, shipped in `corruptions/` and compiled into the binary
//! so the tool runs from any directory.

use std::collections::HashMap;

/// QWERTY rows with their stagger (see the file's header for the source).
pub const QWERTY: &str = include_str!("../../corruptions/keyboard/qwerty.txt");
/// OCR glyph confusions with weights.
pub const OCR_CONFUSIONS: &str = include_str!("../../corruptions/ocr/confusions.tsv");

fn data_lines(table: &str) -> impl Iterator<Item = &str> {
    table
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

/// Keyboard neighbours of every key of a layout table: keys whose centres are at most 1.25 key widths apart.
pub fn keyboard_neighbours(table: &str) -> Result<HashMap<char, Vec<char>>, String> {
    let mut keys: Vec<(char, f64, f64)> = Vec::new();
    for (row, line) in data_lines(table).enumerate() {
        let (offset, chars) = line
            .split_once(' ')
            .ok_or_else(|| format!("keyboard table line '{line}': expected 'OFFSET KEYS'"))?;
        let offset: f64 = offset
            .parse()
            .map_err(|_| format!("keyboard table line '{line}': offset is not a number"))?;
        for (col, c) in chars.trim().chars().enumerate() {
            keys.push((c, offset + col as f64, row as f64));
        }
    }
    let mut out: HashMap<char, Vec<char>> = HashMap::new();
    for &(a, ax, ay) in &keys {
        let mut near: Vec<char> = keys
            .iter()
            .filter(|&&(b, bx, by)| b != a && ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt() <= 1.25)
            .map(|&(b, _, _)| b)
            .collect();
        near.sort_unstable();
        out.insert(a, near);
    }
    Ok(out)
}

/// One OCR confusion: `from` read as `to`, with a relative weight.
#[derive(Clone, Debug)]
pub struct Confusion {
    pub from: Vec<char>,
    pub to: String,
    pub weight: f64,
}

/// Parses a tab-separated confusion table (`from`, `to`, `weight`).
pub fn ocr_confusions(table: &str) -> Result<Vec<Confusion>, String> {
    data_lines(table)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            match cols.as_slice() {
                [from, to, w] if !from.is_empty() => Ok(Confusion {
                    from: from.chars().collect(),
                    to: to.to_string(),
                    weight: w
                        .parse()
                        .map_err(|_| format!("OCR table line '{line}': weight is not a number"))?,
                }),
                _ => Err(format!("OCR table line '{line}': expected FROM<TAB>TO<TAB>WEIGHT")),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qwerty_neighbours_are_physical_neighbours() {
        let n = keyboard_neighbours(QWERTY).unwrap();
        for c in ['w', 'e', 'a', 's', 'd'] {
            assert!(n[&'s'].contains(&c) || c == 's', "s should neighbour {c}");
        }
        assert!(!n[&'s'].contains(&'p'));
        assert!(n[&'q'].contains(&'w') && n[&'q'].contains(&'a'));
    }

    #[test]
    fn shipped_ocr_table_parses() {
        let t = ocr_confusions(OCR_CONFUSIONS).unwrap();
        assert!(t.iter().any(|c| c.from == vec!['r', 'n'] && c.to == "m"));
    }
}
