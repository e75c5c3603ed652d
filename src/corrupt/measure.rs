//! Measured noise: character and word error rates by Levenshtein edit distance.

/// Levenshtein distance between two sequences (unit costs), in O(len(b)) memory.
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
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
    rate(edit_distance(&r, &h), r.len(), h.is_empty())
}

/// Word error rate of `hyp` against `reference`, on whitespace-separated words.
pub fn wer(reference: &str, hyp: &str) -> f64 {
    let r: Vec<&str> = reference.split_whitespace().collect();
    let h: Vec<&str> = hyp.split_whitespace().collect();
    rate(edit_distance(&r, &h), r.len(), h.is_empty())
}

fn rate(edits: usize, len: usize, hyp_empty: bool) -> f64 {
    if len == 0 {
        return if hyp_empty { 0.0 } else { 1.0 };
    }
    edits as f64 / len as f64
}

/// A stretch of the corrupted text: unchanged from the clean text, or produced by an edit.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Segment {
    pub changed: bool,
    pub text: String,
}

/// Splits `hyp` into unchanged and edited stretches by a minimal character alignment with `reference`
/// (Levenshtein backtrace, preferring matches). Deletions leave no text, so they mark nothing.
pub fn edit_segments(reference: &str, hyp: &str) -> Vec<Segment> {
    let r: Vec<char> = reference.chars().collect();
    let h: Vec<char> = hyp.chars().collect();
    let (n, m) = (r.len(), h.len());
    // Full table: inputs here are single sentences shown in a report.
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[i - 1][j - 1] + usize::from(r[i - 1] != h[j - 1]);
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    let mut changed = vec![false; m];
    let (mut i, mut j) = (n, m);
    while j > 0 {
        if i > 0 && r[i - 1] == h[j - 1] && d[i][j] == d[i - 1][j - 1] {
            i -= 1;
            j -= 1;
        } else if i > 0 && d[i][j] == d[i - 1][j - 1] + 1 {
            changed[j - 1] = true;
            i -= 1;
            j -= 1;
        } else if d[i][j] == d[i][j - 1] + 1 {
            changed[j - 1] = true;
            j -= 1;
        } else {
            i -= 1;
        }
    }
    let mut out: Vec<Segment> = Vec::new();
    for (c, flag) in h.iter().zip(changed) {
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
    fn known_distances() {
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
        assert_eq!(edit_distance(b"", b"abc"), 3);
        assert_eq!(edit_distance(b"abc", b"abc"), 0);
    }

    #[test]
    fn rates() {
        assert_eq!(cer("abcd", "abcd"), 0.0);
        assert!((cer("abcd", "abxd") - 0.25).abs() < 1e-12);
        assert!((wer("move the pallet left", "move the palette lift") - 0.5).abs() < 1e-12);
        assert_eq!(cer("", ""), 0.0);
        assert_eq!(cer("", "x"), 1.0);
    }
}
