//! Rotary position embeddings (Su et al., 2021, RoFormer): each pair of a head's first `dims`
//! features is rotated by `pos * base^(-2i/dims)`.
//!
//! Two pairings exist. `Interleaved` rotates features (2i, 2i+1): llama.cpp's "normal" RoPE, which
//! GGUF Llama files expect (their converter permutes the rows of the query and key weights). `Halves`
//! rotates (i, i + dims/2): GPT-NeoX's layout and transformers' `rotate_half`, used by Qwen2 and
//! Gemma, and by Llama checkpoints in Hugging Face layout (our loader permutes those to `Interleaved`).

use rayon::prelude::*;

use crate::engine::tensor::Matrix;

/// Which features form a rotated pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RopeStyle {
    Interleaved,
    Halves,
}

/// The rotation of one head size and base.
#[derive(Clone, Debug)]
pub struct Rope {
    pub style: RopeStyle,
    /// Rotated features per head (the rest pass through).
    pub dims: usize,
    /// `base^(-2i/dims)` for every pair, computed in f64.
    inv_freq: Vec<f64>,
    /// The same with LongRoPE's long factors, for rows of sequences that rotate with them.
    long_inv_freq: Option<Vec<f64>>,
    /// Multiplies every sine and cosine (LongRoPE's attention factor; 1 for most models).
    scale: f64,
}

impl Rope {
    /// `factors` (Llama 3 scaling) divide each pair's frequency.
    pub fn new(style: RopeStyle, dims: usize, base: f64, factors: Option<&[f32]>) -> Self {
        Rope {
            style,
            dims,
            inv_freq: inverse_frequencies(dims, base, factors),
            long_inv_freq: None,
            scale: 1.0,
        }
    }

    /// The same rotation with LongRoPE's `long` factors for the rows `at` is told are long (the
    /// factors this was made with are the short ones).
    pub fn with_long_factors(mut self, base: f64, long: Option<&[f32]>) -> Self {
        self.long_inv_freq = long.map(|l| inverse_frequencies(self.dims, base, Some(l)));
        self
    }

    /// The same rotation with its sines and cosines multiplied by `scale` (LongRoPE scales them by
    /// `sqrt(1 + ln(stretch) / ln(original context))`, which scales every attention logit by its square).
    pub fn scaled(mut self, scale: f32) -> Self {
        self.scale = scale as f64;
        self
    }

    /// Rotates one head's features at position `pos` in place.
    pub fn rotate(&self, head: &mut [f32], pos: usize) {
        self.rotate_by(head, &self.angles(pos, false));
    }

    /// `(sin, cos)` of every pair's angle at position `pos` (in f64, rounded to f32), the same for every
    /// head of a row: `Rotation` works them out once a row instead of once a head. `long`: with the
    /// long factors, when there are any.
    fn angles(&self, pos: usize, long: bool) -> Vec<(f32, f32)> {
        let inv_freq = match (&self.long_inv_freq, long) {
            (Some(l), true) => l,
            _ => &self.inv_freq,
        };
        inv_freq
            .iter()
            .map(|&f| {
                let angle = pos as f64 * f;
                ((angle.sin() * self.scale) as f32, (angle.cos() * self.scale) as f32)
            })
            .collect()
    }

    fn rotate_by(&self, head: &mut [f32], angles: &[(f32, f32)]) {
        let half = self.dims / 2;
        for (i, &(sin, cos)) in angles.iter().enumerate() {
            let (a, b) = match self.style {
                RopeStyle::Interleaved => (2 * i, 2 * i + 1),
                RopeStyle::Halves => (i, i + half),
            };
            let (x, y) = (head[a], head[b]);
            head[a] = x * cos - y * sin;
            head[b] = x * sin + y * cos;
        }
    }

    /// The rotation of rows at `positions`: a forward pass works the angles out once and applies
    /// them to the queries and keys of every layer. `long[r]`: row `r`'s sequence rotates with the
    /// long factors (a row past `long`'s end does not).
    pub fn at(&self, positions: &[usize], long: &[bool]) -> Rotation<'_> {
        Rotation {
            rope: self,
            angles: positions
                .iter()
                .enumerate()
                .map(|(r, &p)| self.angles(p, long.get(r).copied().unwrap_or(false)))
                .collect(),
        }
    }
}

/// `base^(-2i/dims) / factor_i` for every rotated pair (factors: Llama 3 and linear scaling, YaRN,
/// LongRoPE's; none: 1).
fn inverse_frequencies(dims: usize, base: f64, factors: Option<&[f32]>) -> Vec<f64> {
    (0..dims / 2)
        .map(|i| base.powf(-2.0 * i as f64 / dims as f64) / factors.and_then(|f| f.get(i)).map_or(1.0, |&f| f as f64))
        .collect()
}

/// A `Rope` at given row positions (`Rope::at`).
pub struct Rotation<'r> {
    rope: &'r Rope,
    /// Per row, `(sin, cos)` of every pair's angle.
    angles: Vec<Vec<(f32, f32)>>,
}

impl Rotation<'_> {
    /// Rotates every head (`head_dim` wide) of every row of `x`.
    pub fn apply(&self, x: &mut Matrix, head_dim: usize) {
        let cols = x.cols;
        x.data.par_chunks_mut(cols).zip(&self.angles).for_each(|(row, angles)| {
            for head in row.chunks_mut(head_dim) {
                self.rope.rotate_by(head, angles);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_zero_is_the_identity_and_norms_are_kept() {
        for style in [RopeStyle::Interleaved, RopeStyle::Halves] {
            let r = Rope::new(style, 8, 10000.0, None);
            let mut h = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
            let orig = h;
            r.rotate(&mut h, 0);
            assert_eq!(h, orig);
            r.rotate(&mut h, 17);
            let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>();
            assert!((n(&h) - n(&orig)).abs() < 1e-3);
        }
    }

    #[test]
    fn relative_positions_give_equal_dot_products() {
        // q at m and k at n score the same as q at m+5 and k at n+5.
        let r = Rope::new(RopeStyle::Halves, 4, 100.0, None);
        let (q0, k0) = ([0.3f32, -1.0, 0.7, 0.2], [1.0f32, 0.5, -0.4, 0.9]);
        let score = |m: usize, n: usize| {
            let (mut q, mut k) = (q0, k0);
            r.rotate(&mut q, m);
            r.rotate(&mut k, n);
            q.iter().zip(&k).map(|(a, b)| a * b).sum::<f32>()
        };
        assert!((score(7, 3) - score(12, 8)).abs() < 1e-5);
    }
}
