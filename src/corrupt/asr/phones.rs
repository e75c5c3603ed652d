//! The 39 ARPAbet phonemes of CMUdict and how confusable two of them are to a recogniser.
//!
//! A weighted edit distance on phone strings: substitutions inside a voicing pair (p/b, s/z), between vowels,
//! or within a manner class (stops, nasals, fricatives) cost less than across classes; dropping or adding a
//! reduced vowel (AH) or /h/ costs less than other phones. The costs follow the broad confusion structure
//! of English phonemes in noise (Miller & Nicely 1955: voicing and nasality survive noise, place does not;
//! vowel quality is the least robust), coarsened to classes.

/// ARPAbet symbols by id.
pub const PHONES: [&str; 39] = [
    "AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW", // vowels 0..15
    "P", "B", "T", "D", "K", "G", // stops 15..21
    "CH", "JH", // affricates 21..23
    "F", "V", "TH", "DH", "S", "Z", "SH", "ZH", "HH", // fricatives 23..32
    "M", "N", "NG", // nasals 32..35
    "L", "R", // liquids 35..37
    "W", "Y", // glides 37..39
];

const AH: u8 = 2;
const HH: u8 = 31;

/// The id of an ARPAbet symbol (stress digits ignored).
pub fn phone_id(symbol: &str) -> Option<u8> {
    let s = symbol.trim_end_matches(|c: char| c.is_ascii_digit());
    PHONES.iter().position(|p| *p == s).map(|i| i as u8)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Vowel,
    Stop,
    Affricate,
    Fricative,
    Nasal,
    Liquid,
    Glide,
}

fn class(p: u8) -> Class {
    match p {
        0..=14 => Class::Vowel,
        15..=20 => Class::Stop,
        21..=22 => Class::Affricate,
        23..=31 => Class::Fricative,
        32..=34 => Class::Nasal,
        35..=36 => Class::Liquid,
        _ => Class::Glide,
    }
}

/// Voiceless / voiced pairs: P-B, T-D, K-G, CH-JH, F-V, TH-DH, S-Z, SH-ZH.
fn voicing_pair(a: u8, b: u8) -> bool {
    let (lo, hi) = (a.min(b), a.max(b));
    matches!(
        (lo, hi),
        (15, 16) | (17, 18) | (19, 20) | (21, 22) | (23, 24) | (25, 26) | (27, 28) | (29, 30)
    )
}

/// Cost of hearing `a` as `b`.
pub fn sub_cost(a: u8, b: u8) -> f32 {
    if a == b {
        return 0.0;
    }
    if voicing_pair(a, b) {
        return 0.4;
    }
    let (ca, cb) = (class(a), class(b));
    match (ca, cb) {
        (Class::Vowel, Class::Vowel) => 0.5,
        _ if ca == cb => 0.7,
        (Class::Stop, Class::Affricate) | (Class::Affricate, Class::Stop) => 0.8,
        (Class::Fricative, Class::Affricate) | (Class::Affricate, Class::Fricative) => 0.8,
        (Class::Liquid, Class::Glide) | (Class::Glide, Class::Liquid) => 0.8,
        _ => 1.0,
    }
}

/// Cost of missing (or adding) `p`.
pub fn indel_cost(p: u8) -> f32 {
    match p {
        AH | HH => 0.5,
        _ if class(p) == Class::Vowel => 0.8,
        _ => 0.9,
    }
}

/// Weighted edit distance between two phone strings (costs above).
pub fn distance(a: &[u8], b: &[u8]) -> f32 {
    // Two rows of the table; on the stack for the strings words and short phrases make.
    const STACK: usize = 64;
    if b.len() < STACK {
        let (mut prev, mut cur) = ([0.0f32; STACK], [0.0f32; STACK]);
        rows(a, b, &mut prev[..=b.len()], &mut cur[..=b.len()])
    } else {
        rows(a, b, &mut vec![0.0; b.len() + 1], &mut vec![0.0; b.len() + 1])
    }
}

/// The edit-distance table of `a` against `b`, row by row in `prev` and `cur` (each `b.len() + 1` long).
fn rows<'r>(a: &[u8], b: &[u8], mut prev: &'r mut [f32], mut cur: &'r mut [f32]) -> f32 {
    prev[0] = 0.0;
    for (j, &y) in b.iter().enumerate() {
        prev[j + 1] = prev[j] + indel_cost(y);
    }
    for &x in a {
        cur[0] = prev[0] + indel_cost(x);
        for (j, &y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + sub_cost(x, y))
                .min(prev[j + 1] + indel_cost(x))
                .min(cur[j] + indel_cost(y));
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Parses space-separated ARPAbet symbols.
pub fn parse(symbols: &str) -> Option<Vec<u8>> {
    symbols.split_whitespace().map(phone_id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symbol_round_trips_and_classes_order_costs() {
        for (i, p) in PHONES.iter().enumerate() {
            assert_eq!(phone_id(p), Some(i as u8));
        }
        assert_eq!(phone_id("AH0"), Some(AH));
        assert_eq!(phone_id("XX"), None);
        let id = |s| phone_id(s).unwrap();
        assert!(sub_cost(id("P"), id("B")) < sub_cost(id("P"), id("T")));
        assert!(sub_cost(id("P"), id("T")) < sub_cost(id("P"), id("IY")));
        let bay = parse("B EY").unwrap();
        let may = parse("M EY").unwrap();
        let pay = parse("P EY").unwrap();
        assert!(distance(&bay, &pay) < distance(&bay, &may));
        assert_eq!(distance(&bay, &bay), 0.0);
        assert!((distance(&bay, &[]) - (indel_cost(id("B")) + indel_cost(id("EY")))).abs() < 1e-6);
    }
}
