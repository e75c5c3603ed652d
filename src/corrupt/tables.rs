//! The data tables corruption models read, shipped in `corruptions/` and compiled into the binary
//! so the tool runs from any directory.

use std::collections::HashMap;

/// QWERTY rows with their stagger (see the file's header for the source).
pub const QWERTY: &str = include_str!("../../corruptions/keyboard/qwerty.txt");
/// OCR glyph confusions with weights.
pub const OCR_CONFUSIONS: &str = include_str!("../../corruptions/ocr/confusions.tsv");
/// Phonetic neighbours, homophones, splits and merges from the CMU Pronouncing Dictionary.
pub const ASR_PHONETIC: &str = include_str!("../../corruptions/asr/phonetic.tsv");
/// Word substitutions, deletions and insertions a real speech recogniser made on this machine.
pub const ASR_CHANNEL: &str = include_str!("../../corruptions/asr/channel_confusions.tsv");

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

/// What kind of phonetic confusion a table line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoneticKind {
    /// Same pronunciation, other spelling ("for" / "four").
    Homophone,
    /// One phoneme apart ("pallet" / "palette" is a homophone; "left" / "lift" is near).
    Near,
    /// One word heard as two.
    Split,
    /// Two words heard as one.
    Merge,
    /// Seen from the real speech channel.
    Heard,
}

/// One phonetic confusion: `from` (one word, or two for a merge) heard as `to`.
#[derive(Clone, Debug)]
pub struct Phonetic {
    pub from: String,
    pub to: String,
    pub kind: PhoneticKind,
    pub weight: f64,
}

/// Parses the phonetic table (`WORD<TAB>NEIGHBOUR<TAB>KIND<TAB>WEIGHT`).
pub fn phonetic(table: &str) -> Result<Vec<Phonetic>, String> {
    data_lines(table)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let [from, to, kind, weight] = cols.as_slice() else {
                return Err(format!(
                    "phonetic table line '{line}': expected WORD<TAB>NEIGHBOUR<TAB>KIND<TAB>WEIGHT"
                ));
            };
            let kind = match *kind {
                "homophone" => PhoneticKind::Homophone,
                "near" => PhoneticKind::Near,
                "split" => PhoneticKind::Split,
                "merge" => PhoneticKind::Merge,
                other => return Err(format!("phonetic table line '{line}': unknown kind '{other}'")),
            };
            let weight: f64 = weight
                .parse()
                .map_err(|_| format!("phonetic table line '{line}': weight is not a number"))?;
            Ok(Phonetic {
                from: from.to_lowercase(),
                to: to.to_string(),
                kind,
                weight,
            })
        })
        .collect()
}

/// One observation of a real recogniser: `clean` heard as `heard` (either may be empty: an insertion or a
/// deletion), `count` times.
#[derive(Clone, Debug)]
pub struct Heard {
    pub clean: String,
    pub heard: String,
    pub count: f64,
}

/// Parses the real channel's confusion table (`CLEAN<TAB>HEARD<TAB>COUNT`).
pub fn heard(table: &str) -> Result<Vec<Heard>, String> {
    table
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let [clean, heard, count] = cols.as_slice() else {
                return Err(format!(
                    "ASR channel table line '{line}': expected CLEAN<TAB>HEARD<TAB>COUNT"
                ));
            };
            Ok(Heard {
                clean: clean.trim().to_lowercase(),
                heard: heard.trim().to_lowercase(),
                count: count
                    .trim()
                    .parse()
                    .map_err(|_| format!("ASR channel table line '{line}': count is not a number"))?,
            })
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
    fn shipped_asr_tables_parse() {
        assert!(!phonetic(ASR_PHONETIC).unwrap().is_empty());
        assert!(!heard(ASR_CHANNEL).unwrap().is_empty());
    }

    #[test]
    fn shipped_ocr_table_parses() {
        let t = ocr_confusions(OCR_CONFUSIONS).unwrap();
        // The channel's most frequent habits: `o` read as `a`, a dropped `l`, and multi-glyph sources.
        assert!(t.iter().any(|c| c.from == vec!['o'] && c.to == "a"));
        assert!(t.iter().any(|c| c.from == vec!['l'] && c.to.is_empty()));
        assert!(t.iter().any(|c| c.from.len() > 1));
    }
}
