//! Causal self-attention with a key/value cache (Vaswani et al., 2017), grouped-query heads (Ainslie
//! et al., 2023), an optional sliding window (Gemma's local layers) and an optional soft cap on the
//! scores (Gemma 2).
//!
//! A batch is packed: the new tokens of every sequence are stacked into one matrix, the Linears run
//! once over all of them, and attention runs per sequence over that sequence's cache only. Each query
//! row is independent of the others, so rows are spread over threads and results do not depend on
//! how the batch was formed or on the thread count.

use std::sync::Arc;

use rayon::prelude::*;

use crate::engine::kernels::kernels;
use crate::engine::tensor::Matrix;

/// Keys and values of one layer of one sequence: `[positions, kv_heads * head_dim]` each.
#[derive(Clone, Debug, Default)]
pub struct LayerKv {
    pub k: Vec<f32>,
    pub v: Vec<f32>,
}

/// Everything one sequence has seen: one `LayerKv` per layer and the number of positions. A cache made
/// `on` a shared base (the prompt prefix every sequence of a batch starts with) reads the base's
/// positions in place and holds only the positions after them: 64 sequences do not each copy, and each
/// decode step does not stream 64 copies of, the same prefix's keys and values.
#[derive(Clone, Debug, Default)]
pub struct KvCache {
    pub layers: Vec<LayerKv>,
    pub len: usize,
    /// Positions `0..base.len`, shared; `layers` then holds positions `base.len..len`.
    base: Option<Arc<KvCache>>,
    /// The sequence rotates with LongRoPE's long factors (`LongRope`): chosen when it starts, kept by
    /// every cache on it, so its keys are rotated one way throughout.
    pub long_rope: bool,
}

impl KvCache {
    pub fn new(layers: usize) -> Self {
        KvCache {
            layers: vec![LayerKv::default(); layers],
            len: 0,
            base: None,
            long_rope: false,
        }
    }

    /// This empty cache for a sequence that rotates with LongRoPE's long factors when `long`.
    pub fn with_long_rope(mut self, long: bool) -> Self {
        self.long_rope = long;
        self
    }

    /// A cache that starts where `base` ends, reading its positions in place. A base that is itself
    /// on a base is copied whole first, so a cache reads at most two segments.
    pub fn on(base: Arc<KvCache>) -> Self {
        let base = match base.base {
            Some(_) => Arc::new(base.flattened()),
            None => base,
        };
        KvCache {
            layers: vec![LayerKv::default(); base.layers.len()],
            len: base.len,
            long_rope: base.long_rope,
            base: Some(base),
        }
    }

    /// This cache with its base's positions copied in.
    fn flattened(&self) -> KvCache {
        let Some(base) = &self.base else {
            return self.clone();
        };
        let layers = base
            .layers
            .iter()
            .zip(&self.layers)
            .map(|(b, own)| LayerKv {
                k: [b.k.as_slice(), own.k.as_slice()].concat(),
                v: [b.v.as_slice(), own.v.as_slice()].concat(),
            })
            .collect();
        KvCache {
            layers,
            len: self.len,
            base: None,
            long_rope: self.long_rope,
        }
    }

    /// Positions read from the shared base.
    fn shared(&self) -> usize {
        self.base.as_ref().map_or(0, |b| b.len)
    }

    /// Bytes held by this cache (a shared base's are counted once, by its owner).
    pub fn bytes(&self) -> usize {
        self.layers.iter().map(|l| (l.k.len() + l.v.len()) * 4).sum()
    }

    /// Makes room for `positions` in all, `width` floats each (`kv_heads * head_dim`), in every
    /// layer, so a sequence whose final length is known never reallocates: a growing `Vec` doubles,
    /// and a 40-token prompt generating 30 tokens would otherwise hold room for 80 positions.
    pub fn reserve(&mut self, positions: usize, width: usize) {
        let want = positions.saturating_sub(self.shared()).saturating_mul(width);
        for l in &mut self.layers {
            l.k.reserve_exact(want.saturating_sub(l.k.len()));
            l.v.reserve_exact(want.saturating_sub(l.v.len()));
        }
    }

    /// Layer `layer`'s keys and values of positions `from..to` (`kv_dim` floats a position, starting at
    /// float `offset` of each, the caller's head): the shared base's part, then this cache's, each as
    /// (positions, keys, values). Keys and values run to the end of their last position's row.
    fn segments(&self, layer: usize, from: usize, to: usize, kv_dim: usize, offset: usize) -> [Segment<'_>; 2] {
        let cut = |l, a, b| stretch(l, a, b, kv_dim, offset);
        let shared = self.shared();
        let base = match &self.base {
            Some(base) => cut(&base.layers[layer], from.min(shared), to.min(shared)),
            None => (0, &[][..], &[][..]),
        };
        let own = cut(&self.layers[layer], from.max(shared) - shared, to.max(shared) - shared);
        [base, own]
    }
}

/// Positions, keys and values of one stretch of a cache.
type Segment<'a> = (usize, &'a [f32], &'a [f32]);

/// Positions `a..b` of `l` (`kv_dim` floats a position, from float `offset` of the first).
fn stretch(l: &LayerKv, a: usize, b: usize, kv_dim: usize, offset: usize) -> Segment<'_> {
    if a < b {
        let r = a * kv_dim + offset..b * kv_dim;
        (b - a, &l.k[r.clone()], &l.v[r])
    } else {
        (0, &[], &[])
    }
}

/// Head layout of an attention layer.
#[derive(Clone, Copy, Debug)]
pub struct Heads {
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    /// Multiplies `q . k` before the softmax (usually `1/sqrt(head_dim)`).
    pub scale: f32,
    /// Keys further back than this many positions are not attended to (sliding-window layers).
    pub window: Option<usize>,
    /// Gemma 2 soft-caps each scaled score, `cap * tanh(score / cap)`, before the softmax.
    pub softcap: Option<f32>,
}

/// One sequence's part of a packed batch: its rows `start..start + count`, which sit at positions
/// `cache.len..` of that sequence (before this call appends them).
pub struct Span {
    pub start: usize,
    pub count: usize,
}

/// Appends the new keys and values of each sequence to its cache for `layer`, then computes the
/// attention context `[tokens, heads * head_dim]` of the new queries. Call once per layer, with
/// each cache's `len` still the length before this batch (the caller advances it after the last layer).
pub fn attend(
    h: Heads,
    layer: usize,
    q: &Matrix,
    k: &Matrix,
    v: &Matrix,
    caches: &mut [&mut KvCache],
    spans: &[Span],
) -> Matrix {
    let kv_dim = h.kv_heads * h.head_dim;
    for (cache, span) in caches.iter_mut().zip(spans) {
        let l = &mut cache.layers[layer];
        l.k.extend_from_slice(&k.data[span.start * kv_dim..(span.start + span.count) * kv_dim]);
        l.v.extend_from_slice(&v.data[span.start * kv_dim..(span.start + span.count) * kv_dim]);
    }
    // Which sequence and position each row is.
    let mut owner = Vec::with_capacity(q.rows);
    for (s, (cache, span)) in caches.iter().zip(spans).enumerate() {
        for i in 0..span.count {
            owner.push((s, cache.len + i));
        }
    }
    let caches: Vec<&KvCache> = caches.iter().map(|c| &**c).collect();
    let qd = h.heads * h.head_dim;
    let group = h.heads / h.kv_heads.max(1);
    let k_table = kernels();
    let mut ctx = Matrix::zeros(q.rows, qd);
    ctx.data
        .par_chunks_mut(qd.max(1))
        .zip(owner.par_iter())
        .enumerate()
        .for_each_init(Vec::new, |scores, (row, (out, &(s, pos)))| {
            let cache = caches[s];
            let first = match h.window {
                Some(w) => (pos + 1).saturating_sub(w),
                None => 0,
            };
            scores.resize(pos + 1 - first, 0.0);
            for hd in 0..h.heads {
                let kvh = hd / group;
                let qh = &q.row(row)[hd * h.head_dim..(hd + 1) * h.head_dim];
                // This head's keys and values of positions first..=pos (rows of kv_dim floats), in the
                // shared prefix and then the sequence's own: each score is its own dot, and the weighted sum
                // adds the values in position order across the two, so the split changes no bit.
                let segments = cache.segments(layer, first, pos + 1, kv_dim, kvh * h.head_dim);
                let mut at = 0;
                for &(n, keys, _) in &segments {
                    if n > 0 {
                        k_table.scores(qh, keys, kv_dim, h.scale, &mut scores[at..at + n]);
                    }
                    at += n;
                }
                if let Some(cap) = h.softcap {
                    scores.iter_mut().for_each(|s| *s = cap * (*s / cap).tanh());
                }
                k_table.softmax(scores);
                let o = &mut out[hd * h.head_dim..(hd + 1) * h.head_dim];
                let mut at = 0;
                for &(n, _, values) in &segments {
                    if n > 0 {
                        k_table.weighted_sum(&scores[at..at + n], values, kv_dim, o);
                    }
                    at += n;
                }
            }
        });
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain attention over full matrices: the reference.
    fn naive(h: Heads, q: &[Vec<f32>], k: &[Vec<f32>], v: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let group = h.heads / h.kv_heads;
        let d = h.head_dim;
        (0..q.len())
            .map(|i| {
                let mut out = vec![0.0; h.heads * d];
                for hd in 0..h.heads {
                    let kvh = hd / group;
                    let lo = h.window.map_or(0, |w| (i + 1).saturating_sub(w));
                    let s: Vec<f64> = (lo..=i)
                        .map(|j| {
                            (0..d)
                                .map(|c| q[i][hd * d + c] as f64 * k[j][kvh * d + c] as f64)
                                .sum::<f64>()
                                * h.scale as f64
                        })
                        .map(|x| h.softcap.map_or(x, |c| c as f64 * (x / c as f64).tanh()))
                        .collect();
                    let m = s.iter().cloned().fold(f64::MIN, f64::max);
                    let z: f64 = s.iter().map(|x| (x - m).exp()).sum();
                    for (t, j) in (lo..=i).enumerate() {
                        let p = (s[t] - m).exp() / z;
                        for c in 0..d {
                            out[hd * d + c] += (p * v[j][kvh * d + c] as f64) as f32;
                        }
                    }
                }
                out
            })
            .collect()
    }

    /// A cache on a shared base reads the base in place and gives the same bits as a copy of it, with
    /// and without a sliding window (whose first position falls before, at and after the base's end),
    /// and on the 32-, 8- and 1-float paths of the kernels (head width 43).
    #[test]
    fn a_cache_on_a_shared_base_equals_a_copy_bit_for_bit() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(11);
        for window in [None, Some(2), Some(5), Some(9)] {
            let h = Heads {
                heads: 4,
                kv_heads: 2,
                head_dim: 43,
                scale: 0.3,
                window,
                softcap: None,
            };
            let (qd, kd) = (4 * 43, 2 * 43);
            let mut m = |rows: usize, w: usize| {
                Matrix::from_vec(rows, w, (0..rows * w).map(|_| rng.random_range(-1.0f32..1.0)).collect())
            };
            let prefix = 6;
            let mut base = KvCache::new(1);
            let (q, k, v) = (m(prefix, qd), m(prefix, kd), m(prefix, kd));
            attend(
                h,
                0,
                &q,
                &k,
                &v,
                &mut [&mut base],
                &[Span {
                    start: 0,
                    count: prefix,
                }],
            );
            base.len = prefix;
            let mut copy = base.clone();
            let mut on = KvCache::on(Arc::new(base));
            assert_eq!(on.len, prefix);
            for count in [3, 1, 1] {
                let (q, k, v) = (m(count, qd), m(count, kd), m(count, kd));
                let span = [Span { start: 0, count }];
                let want = attend(h, 0, &q, &k, &v, &mut [&mut copy], &span);
                let got = attend(h, 0, &q, &k, &v, &mut [&mut on], &span);
                assert_eq!(got.data, want.data, "{window:?} at {}", on.len);
                copy.len += count;
                on.len += count;
            }
            assert_eq!(on.bytes(), 5 * kd * 2 * 4, "only the own positions are held");
            assert_eq!(on.flattened().layers[0].k, copy.layers[0].k);
            // A cache on a cache that is itself on a base reads one flattened base.
            let again = KvCache::on(Arc::new(on.clone()));
            assert_eq!((again.len, again.shared()), (on.len, on.len));
            assert!(again.base.as_ref().is_some_and(|b| b.base.is_none()));
        }
    }

    /// With and without a sliding window and a soft cap on the scores.
    #[test]
    fn incremental_packed_attention_equals_full_causal_attention() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(5);
        for (window, softcap) in [(None, None), (Some(3), None), (None, Some(0.5)), (Some(2), Some(1.5))] {
            let h = Heads {
                heads: 4,
                kv_heads: 2,
                head_dim: 3,
                scale: 0.7,
                window,
                softcap,
            };
            let n = 7;
            let mut r = |w: usize| -> Vec<Vec<f32>> {
                (0..n)
                    .map(|_| (0..w).map(|_| rng.random_range(-1.0f32..1.0)).collect())
                    .collect()
            };
            let (q, k, v) = (r(12), r(6), r(6));
            let want = naive(h, &q, &k, &v);
            // Two sequences with the same content fed in different chunkings, packed together.
            let mut a = KvCache::new(1);
            let mut b = KvCache::new(1);
            let mut got_a = Vec::new();
            let mut got_b = Vec::new();
            let (mut ia, mut ib) = (0, 0);
            for (ca, cb) in [(3, 1), (1, 4), (3, 2)] {
                let rows = |src: &[Vec<f32>], from: usize, cnt: usize| -> Vec<f32> { src[from..from + cnt].concat() };
                let (ca, cb) = (ca.min(n - ia), cb.min(n - ib));
                let m = |src: &[Vec<f32>], w: usize| {
                    let mut d = rows(src, ia, ca);
                    d.extend(rows(src, ib, cb));
                    Matrix::from_vec(ca + cb, w, d)
                };
                let spans = [Span { start: 0, count: ca }, Span { start: ca, count: cb }];
                let ctx = attend(h, 0, &m(&q, 12), &m(&k, 6), &m(&v, 6), &mut [&mut a, &mut b], &spans);
                for r in 0..ca {
                    got_a.push(ctx.row(r).to_vec());
                }
                for r in 0..cb {
                    got_b.push(ctx.row(ca + r).to_vec());
                }
                a.len += ca;
                b.len += cb;
                ia += ca;
                ib += cb;
            }
            for (g, w) in got_a
                .iter()
                .chain(got_b[..got_b.len()].iter())
                .zip(want.iter().chain(want.iter()))
            {
                for (x, y) in g.iter().zip(w) {
                    assert!((x - y).abs() < 1e-5, "{window:?} {softcap:?}: {x} vs {y}");
                }
            }
        }
    }
}
