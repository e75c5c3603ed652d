//! Which examples of a split a run evaluates: all of them, the first N (`--limit`, a quick look), or a
//! seeded random sample of N (`--sample`).
//!
//! Why a sample and not only a prefix: suite files are often written in generator or template order,
//! so the first N examples are not a fair draw (the default suite's first 200 commands lose 13.0 points
//! to ocr at severity 1, the other 640 lose 6.1). A sample drawn from the run's seed is a fair draw of
//! the split, the same for every scheme, shard and thread count, and another seed draws another.

use rand::rngs::StdRng;
use rand::SeedableRng;
use sha2::{Digest, Sha256};

/// The examples to keep of `items` (in file order): the first `limit`, or `sample` of them drawn
/// without replacement from `seed` and the split's name, kept in file order so that results read
/// like the file. A sample at least as large as the split keeps it whole.
pub fn pick<T>(mut items: Vec<T>, limit: Option<usize>, sample: Option<usize>, seed: u64, split: &str) -> Vec<T> {
    if let Some(n) = limit {
        items.truncate(n);
    }
    let Some(n) = sample else { return items };
    if n >= items.len() {
        return items;
    }
    let mut chosen = rand::seq::index::sample(&mut sample_rng(seed, split), items.len(), n).into_vec();
    chosen.sort_unstable();
    let mut keep = vec![false; items.len()];
    for i in chosen {
        keep[i] = true;
    }
    items
        .into_iter()
        .zip(keep)
        .filter_map(|(item, k)| k.then_some(item))
        .collect()
}

/// The sample's own RNG stream: derived from the seed under a label no corruption family uses, so
/// drawing the sample does not shift any variant's text (each variant has its own stream already).
fn sample_rng(seed: u64, split: &str) -> StdRng {
    let mut h = Sha256::new();
    h.update(b"shakedown --sample\0");
    h.update(seed.to_le_bytes());
    h.update(split.as_bytes());
    StdRng::from_seed(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_is_seeded_in_file_order_and_not_a_prefix() {
        let items: Vec<usize> = (0..840).collect();
        let a = pick(items.clone(), None, Some(200), 1, "test");
        assert_eq!(a.len(), 200);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "kept in file order");
        assert_eq!(
            a,
            pick(items.clone(), None, Some(200), 1, "test"),
            "same seed, same sample"
        );
        assert_ne!(
            a,
            pick(items.clone(), None, Some(200), 2, "test"),
            "another seed, another sample"
        );
        assert_ne!(a, (0..200).collect::<Vec<_>>(), "not the first 200");
        // Spread over the whole split: a fair draw has about a quarter of its picks in each quarter.
        for q in 0..4 {
            let inside = a.iter().filter(|&&i| i / 210 == q).count();
            assert!((30..=70).contains(&inside), "quarter {q} holds {inside} of 200");
        }
    }

    #[test]
    fn limit_takes_a_prefix_and_a_sample_as_large_as_the_split_keeps_it_whole() {
        let items: Vec<usize> = (0..10).collect();
        assert_eq!(pick(items.clone(), Some(3), None, 1, "test"), vec![0, 1, 2]);
        assert_eq!(pick(items.clone(), None, Some(10), 1, "test"), items);
        assert_eq!(pick(items.clone(), None, Some(50), 1, "test"), items);
        assert_eq!(pick(items.clone(), None, None, 1, "test"), items);
        // The split's name is part of the stream: a hand-written split is not sampled like the test one.
        let big: Vec<usize> = (0..500).collect();
        assert_ne!(
            pick(big.clone(), None, Some(20), 1, "test"),
            pick(big, None, Some(20), 1, "handwritten")
        );
    }
}
