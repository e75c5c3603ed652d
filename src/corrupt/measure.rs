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

#[cfg(test)]
mod tests {
    use super::*;

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
