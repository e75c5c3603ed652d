//! Measured noise: character and word error rates by Levenshtein edit distance, and the edited stretches of a
//! corrupted text.
//!
//! `wer` is the word error rate as speech benchmarks count it: both texts normalised first (`normalise`:
//! Whisper's English rules, so case, punctuation and number spelling are not errors); `wer_raw` counts on the
//! texts as written (whitespace-split tokens, case and punctuation included). `cer` is on the raw characters.

use super::normalise::normalise;

/// Levenshtein distance between two sequences (unit costs), in O(len(b)) memory: two rows on the stack for
/// sentences (up to 63 tokens), on the heap beyond (every variant `corrupt` writes is measured twice).
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    const STACK: usize = 64;
    // A common prefix and suffix are matched at no cost in some optimal alignment (Ukkonen 1985), and most
    // variants leave most words of a sentence as they were: only the middle needs the recurrence.
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[pre..], &b[pre..]);
    let suf = a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[..a.len() - suf], &b[..b.len() - suf]);
    if a.is_empty() || b.is_empty() {
        return a.len().max(b.len());
    }
    if b.len() < STACK {
        let (mut prev, mut cur) = ([0usize; STACK], [0usize; STACK]);
        distance_rows(a, b, &mut prev[..=b.len()], &mut cur[..=b.len()])
    } else {
        distance_rows(a, b, &mut vec![0; b.len() + 1], &mut vec![0; b.len() + 1])
    }
}

/// The Levenshtein recurrence over rows `prev` and `cur` of length len(b) + 1.
fn distance_rows<'r, T: PartialEq>(a: &[T], b: &[T], mut prev: &'r mut [usize], mut cur: &'r mut [usize]) -> usize {
    for (j, p) in prev.iter_mut().enumerate() {
        *p = j;
    }
    for (i, x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(x != y);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Character error rate of `hyp` against `reference`: edits / reference characters.
/// An empty reference gives 0 when `hyp` is empty too, 1 otherwise.
pub fn cer(reference: &str, hyp: &str) -> f64 {
    let r: Vec<char> = reference.chars().collect();
    let h: Vec<char> = hyp.chars().collect();
    rate(align_chars(&r, &h).distance, r.len(), h.is_empty())
}

/// Word error rate after normalisation (see the module doc).
pub fn wer(reference: &str, hyp: &str) -> f64 {
    wer_normalised(&normalise(reference), hyp)
}

/// `wer` with the reference already normalised (a text measured against many variants is normalised once).
pub fn wer_normalised(reference_normalised: &str, hyp: &str) -> f64 {
    wer_raw(reference_normalised, &normalise(hyp))
}

/// Word error rate on the texts as written: whitespace-separated tokens, case and punctuation count.
pub fn wer_raw(reference: &str, hyp: &str) -> f64 {
    let r: Vec<&str> = reference.split_whitespace().collect();
    let h: Vec<&str> = hyp.split_whitespace().collect();
    word_error_rate(&r, &h)
}

/// Word error rate of the tokens `h` against the tokens `r` (`wer_raw` on split texts; an empty reference
/// gives 0 when `h` is empty too, 1 otherwise).
pub fn word_error_rate(r: &[&str], h: &[&str]) -> f64 {
    rate(edit_distance(r, h), r.len(), h.is_empty())
}

fn rate(edits: usize, len: usize, hyp_empty: bool) -> f64 {
    if len == 0 {
        return if hyp_empty { 0.0 } else { 1.0 };
    }
    edits as f64 / len as f64
}

/// A minimal character alignment: the edit distance and, per character of the hypothesis, whether an
/// edit produced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alignment {
    pub distance: usize,
    pub changed: Vec<bool>,
}

/// Levenshtein alignment of `r` and `h` (unit costs; the backtrace prefers matches, then substitutions,
/// then insertions). The common prefix and suffix are matched directly, and the rest is computed in a
/// diagonal band that doubles until it provably holds the optimum (a path leaving a band of half-width `k`
/// costs more than `k`), so a sentence with a few edits costs O(length x edits), not O(length^2).
pub fn align_chars(r: &[char], h: &[char]) -> Alignment {
    align_chars_within(r, h, MAX_BAND_CELLS)
}

/// Band cells (four bytes each) an alignment may hold at once: 64 MiB. A longer text with many edits
/// (a 24 KB line at `jargon:3` asked for 400 MB, a 93 KB line for gigabytes) is divided instead.
const MAX_BAND_CELLS: usize = 1 << 24;

/// `align_chars` holding at most `cells` band cells: beyond that the problem is divided in two at the
/// reference's middle, where a forward and a backward row of distances meet at their smallest sum
/// (Hirschberg, CACM 1975), until each part fits. The distance is the same; where several minimal
/// alignments exist, a divided one may mark other characters than the band's backtrace would.
fn align_chars_within(r: &[char], h: &[char], cells: usize) -> Alignment {
    let pre = r.iter().zip(h).take_while(|(a, b)| a == b).count();
    let suf = r[pre..]
        .iter()
        .rev()
        .zip(h[pre..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (rm, hm) = (&r[pre..r.len() - suf], &h[pre..h.len() - suf]);
    let mut changed = vec![false; h.len()];
    if rm.is_empty() || hm.is_empty() {
        changed[pre..pre + hm.len()].iter_mut().for_each(|c| *c = true);
        return Alignment {
            distance: rm.len().max(hm.len()),
            changed,
        };
    }
    let diff = rm.len().abs_diff(hm.len());
    let mut k = diff.max(2);
    loop {
        if (rm.len() + 1) * (2 * k + 3) > cells {
            let (distance, flags) = divided(rm, hm, cells);
            changed[pre..pre + hm.len()].copy_from_slice(&flags);
            return Alignment { distance, changed };
        }
        let (distance, flags) = banded(rm, hm, k);
        if distance <= k || k >= rm.len().max(hm.len()) {
            changed[pre..pre + hm.len()].copy_from_slice(&flags);
            return Alignment { distance, changed };
        }
        k *= 2;
    }
}

/// Edit distance and hypothesis edit flags of `r` and `h` in memory for two rows of distances plus what
/// a part that fits `cells` holds: split `r` at its middle, find where in `h` the best path crosses it,
/// and align the two halves apart.
fn divided(r: &[char], h: &[char], cells: usize) -> (usize, Vec<bool>) {
    let full = |r: &[char], h: &[char]| banded(r, h, r.len().max(h.len()));
    if r.len() <= 1 || (r.len() + 1) * (2 * r.len().max(h.len()) + 3) <= cells {
        return full(r, h);
    }
    let mid = r.len() / 2;
    let forward = last_row(r[..mid].iter(), h.iter());
    let backward = last_row(r[mid..].iter().rev(), h.iter().rev());
    let m = h.len();
    let split = (0..=m).min_by_key(|&j| forward[j] + backward[m - j]).unwrap_or(0);
    let (d1, mut f1) = divided(&r[..mid], &h[..split], cells);
    let (d2, f2) = divided(&r[mid..], &h[split..], cells);
    f1.extend(f2);
    (d1 + d2, f1)
}

/// The last row of the Levenshtein table of `r` against `h`: the distance of all of `r` to each prefix of `h`.
fn last_row<'a>(r: impl Iterator<Item = &'a char>, h: impl Iterator<Item = &'a char> + Clone) -> Vec<usize> {
    let mut row: Vec<usize> = (0..=h.clone().count()).collect();
    for (i, a) in r.enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, b) in h.clone().enumerate() {
            let next = (diag + usize::from(a != b)).min(row[j] + 1).min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row
}

/// Edit distance and hypothesis edit flags computed inside |i - j| <= k (cells outside count as infinite).
fn banded(r: &[char], h: &[char], k: usize) -> (usize, Vec<bool>) {
    let (n, m) = (r.len(), h.len());
    const INF: u32 = u32::MAX / 2;
    // Row i holds columns j = i - k - 1 ..= i + k + 1 at offsets 0..width: the band and one cell of
    // padding on each side that stays infinite, so the three neighbours of a band cell are read without
    // bounds tests (diagonal at -width, left at -1, up at -width + 1).
    let width = 2 * k + 3;
    let mut d = vec![INF; (n + 1) * width];
    let index = |i: usize, j: usize| i * width + j + k + 1 - i;
    for j in 0..=m.min(k) {
        d[index(0, j)] = j as u32;
    }
    for i in 1..=n {
        let lo = i.saturating_sub(k);
        let hi = (i + k).min(m);
        let ri = r[i - 1];
        for j in lo..=hi {
            let p = index(i, j);
            let mut best = d[p - width + 1] + 1;
            if j == 0 {
                best = best.min(i as u32);
            } else {
                best = best.min(d[p - width] + u32::from(ri != h[j - 1])).min(d[p - 1] + 1);
            }
            d[p] = best;
        }
    }
    let cell = |i: usize, j: usize| {
        if j + k + 1 < i || j > i + k + 1 {
            INF
        } else {
            d[index(i, j)]
        }
    };
    let distance = cell(n, m);
    let mut changed = vec![false; m];
    let (mut i, mut j) = (n, m);
    while j > 0 && distance < INF {
        let here = cell(i, j);
        if i > 0 && r[i - 1] == h[j - 1] && here == cell(i - 1, j - 1) {
            i -= 1;
            j -= 1;
        } else if i > 0 && here == cell(i - 1, j - 1).saturating_add(1) {
            changed[j - 1] = true;
            i -= 1;
            j -= 1;
        } else if here == cell(i, j - 1).saturating_add(1) {
            changed[j - 1] = true;
            j -= 1;
        } else {
            i -= 1;
        }
    }
    (distance as usize, changed)
}

/// A stretch of the corrupted text: unchanged from the clean text, or produced by an edit.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Segment {
    pub changed: bool,
    pub text: String,
}

/// Splits `hyp` into unchanged and edited stretches by a minimal character alignment with `reference`.
/// Deletions leave no text, so they mark nothing.
pub fn edit_segments(reference: &str, hyp: &str) -> Vec<Segment> {
    let r: Vec<char> = reference.chars().collect();
    let h: Vec<char> = hyp.chars().collect();
    segments(&h, &align_chars(&r, &h).changed)
}

/// The stretches of `h` by its edit flags.
pub fn segments(h: &[char], changed: &[bool]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for (c, &flag) in h.iter().zip(changed) {
        match out.last_mut() {
            Some(seg) if seg.changed == flag => seg.text.push(*c),
            _ => out.push(Segment {
                changed: flag,
                text: c.to_string(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn segments_mark_exactly_the_edits() {
        let segs = edit_segments("move the pallet left", "move the palette lift");
        let joined: String = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(joined, "move the palette lift");
        let marked: usize = segs.iter().filter(|s| s.changed).map(|s| s.text.chars().count()).sum();
        let distance = edit_distance(
            &"move the pallet left".chars().collect::<Vec<_>>(),
            &"move the palette lift".chars().collect::<Vec<_>>(),
        );
        assert!(marked >= 2 && marked <= distance, "{segs:?}");
        assert!(!segs.iter().any(|s| s.changed && s.text.contains("move")));
        assert!(edit_segments("same", "same").iter().all(|s| !s.changed));
        assert!(edit_segments("", "").is_empty());
    }

    #[test]
    fn banded_alignment_equals_the_full_table_on_random_pairs() {
        let mut rng = StdRng::seed_from_u64(11);
        let alphabet: Vec<char> = "ab cdé".chars().collect();
        for _ in 0..3000 {
            let n = rng.random_range(0..40);
            let a: Vec<char> = (0..n).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect();
            let mut b = a.clone();
            for _ in 0..rng.random_range(0..12) {
                let c = alphabet[rng.random_range(0..alphabet.len())];
                match rng.random_range(0..3) {
                    0 if !b.is_empty() => {
                        let i = rng.random_range(0..b.len());
                        b[i] = c;
                    }
                    1 if !b.is_empty() => {
                        b.remove(rng.random_range(0..b.len()));
                    }
                    _ => b.insert(rng.random_range(0..=b.len()), c),
                }
            }
            // The band, and the same divided until parts of a few cells (as a long line is).
            for al in [align_chars(&a, &b), align_chars_within(&a, &b, 16)] {
                assert_eq!(al.distance, edit_distance(&a, &b), "{a:?} {b:?}");
                // Every unmarked character is matched: removing the marked ones leaves a subsequence of `a`.
                let kept: Vec<char> = b
                    .iter()
                    .zip(&al.changed)
                    .filter(|(_, c)| !**c)
                    .map(|(x, _)| *x)
                    .collect();
                let mut it = a.iter();
                assert!(kept.iter().all(|k| it.any(|x| x == k)), "{a:?} {b:?} {al:?}");
                assert!(al.changed.iter().filter(|c| **c).count() <= al.distance);
                assert_eq!(al.changed.len(), b.len());
            }
        }
    }

    #[test]
    fn a_long_line_with_many_edits_is_divided_not_held_in_one_band() {
        // 20,000 characters with an edit every 10: the band would need some 8e7 cells (330 MB).
        let a: Vec<char> = "move the pallet left of bay seven "
            .chars()
            .cycle()
            .take(20_000)
            .collect();
        let b: Vec<char> = a
            .iter()
            .enumerate()
            .map(|(i, c)| if i % 10 == 3 { 'x' } else { *c })
            .collect();
        let al = align_chars(&a, &b);
        let subs = a.iter().zip(&b).filter(|(x, y)| x != y).count();
        assert_eq!(al.distance, subs);
        assert_eq!(al.changed.iter().filter(|c| **c).count(), subs);
    }

    #[test]
    fn trimming_the_common_ends_keeps_the_distance_of_the_full_table() {
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..5000 {
            let word = |rng: &mut StdRng| ["the", "bay", "7", "left", "of"][rng.random_range(0..5)];
            let a: Vec<&str> = (0..rng.random_range(0..12)).map(|_| word(&mut rng)).collect();
            let mut b = a.clone();
            for _ in 0..rng.random_range(0..4) {
                let w = word(&mut rng);
                match rng.random_range(0..3) {
                    0 if !b.is_empty() => {
                        let i = rng.random_range(0..b.len());
                        b[i] = w;
                    }
                    1 if !b.is_empty() => {
                        b.remove(rng.random_range(0..b.len()));
                    }
                    _ => b.insert(rng.random_range(0..=b.len()), w),
                }
            }
            let full = distance_rows(&a, &b, &mut vec![0; b.len() + 1], &mut vec![0; b.len() + 1]);
            assert_eq!(edit_distance(&a, &b), full, "{a:?} {b:?}");
        }
    }

    #[test]
    fn known_distances() {
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
        assert_eq!(edit_distance(b"", b"abc"), 3);
        assert_eq!(edit_distance(b"abc", b"abc"), 0);
    }

    #[test]
    fn rates_normalised_and_raw() {
        assert_eq!(cer("abcd", "abcd"), 0.0);
        assert!((cer("abcd", "abxd") - 0.25).abs() < 1e-12);
        assert!((wer("move the pallet left", "move the palette lift") - 0.5).abs() < 1e-12);
        assert_eq!(cer("", ""), 0.0);
        assert_eq!(cer("", "x"), 1.0);
        // Case, punctuation and number spelling are no word errors after normalisation, but are raw ones.
        let (clean, heard) = ("move to bay seven", "Move to Bay 7.");
        assert_eq!(wer(clean, heard), 0.0);
        assert!((wer_raw(clean, heard) - 0.75).abs() < 1e-12);
    }
}
