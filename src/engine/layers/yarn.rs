//! YaRN (Peng et al., 2023, "YaRN: Efficient Context Window Extension of Large Language Models"): a
//! model trained on `original` positions reads `factor` times more by "NTK-by-parts" interpolation.
//! A rotated pair whose wavelength is short against the original context (it turns more than
//! `beta_fast` times over it) keeps its frequency (extrapolation); one that turns fewer than `beta_slow`
//! times is slowed by `factor` (interpolation, as linear scaling does); the pairs between are blended
//! along a linear ramp of the pair index. Sines and cosines are then scaled by `0.1 ln(factor) + 1`
//! (the paper's attention temperature, applied to both q and k), unless the model says otherwise.
//!
//! The scaling is static: every position rotates with the same frequencies, as transformers
//! (`_compute_yarn_parameters`) and llama.cpp (`rope_yarn`, ext_factor 1) both apply it.

/// YaRN's settings for one model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Yarn {
    /// How many times the original context is stretched (`rope_scaling.factor`).
    pub factor: f64,
    /// The context the model was trained on (`original_max_position_embeddings`).
    pub original: f64,
    /// Pairs that turn more often than this over the original context are kept (default 32).
    pub beta_fast: f64,
    /// Pairs that turn less often than this are fully interpolated (default 1).
    pub beta_slow: f64,
    /// Round the ramp's ends out to whole pairs (transformers' `truncate`, default true; llama.cpp always).
    pub truncate: bool,
}

impl Yarn {
    /// A stretch of `factor` (at least 1) over an `original` context (positive), with the paper's betas;
    /// the error says what a file's settings must be, for its reader to name the field.
    pub fn new(factor: f64, original: f64) -> Result<Self, &'static str> {
        if !(factor.is_finite() && factor >= 1.0 && original.is_finite() && original > 0.0) {
            return Err("expected a stretch of at least 1 over a positive original context (YaRN)");
        }
        Ok(Yarn {
            factor,
            original,
            beta_fast: 32.0,
            beta_slow: 1.0,
            truncate: true,
        })
    }

    /// The factor dividing each pair's frequency, for `dims` rotated features with RoPE base `base`:
    /// 1 where the pair extrapolates, `factor` where it interpolates, a blend between.
    pub fn frequency_divisors(&self, dims: usize, base: f64) -> Vec<f32> {
        // The pair index at which a pair turns `rotations` times over the original context.
        let pair_turning = |rotations: f64| {
            dims as f64 * (self.original / (rotations * 2.0 * std::f64::consts::PI)).ln() / (2.0 * base.ln())
        };
        let (mut low, mut high) = (pair_turning(self.beta_fast), pair_turning(self.beta_slow));
        if self.truncate {
            (low, high) = (low.floor(), high.ceil());
        }
        let (low, high) = (low.max(0.0), high.min(dims as f64 - 1.0));
        (0..dims / 2)
            .map(|i| {
                let ramp = ((i as f64 - low) / (high - low).max(0.001)).clamp(0.0, 1.0);
                let extrapolated = 1.0 - ramp;
                let speed = (1.0 - extrapolated) / self.factor + extrapolated;
                (1.0 / speed) as f32
            })
            .collect()
    }

    /// The paper's scale of sines and cosines for a stretch `factor`, `0.1 m ln(factor) + 1` (1 for no
    /// stretch); transformers' `yarn_get_mscale`.
    pub fn mscale(factor: f64, m: f64) -> f64 {
        if factor <= 1.0 {
            1.0
        } else {
            0.1 * m * factor.ln() + 1.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Long wavelengths slowed by the factor, short ones kept, a ramp between: with 16 rotated features,
    /// base 1e4 and an original context of 256, pair 0 (turning 40 times) is kept and pairs 4 to 7
    /// (turning fewer than once) are slowed 4 times; 1 to 3 are blended (transformers' numbers).
    #[test]
    fn divisors_ramp_from_kept_to_interpolated() {
        let d = Yarn::new(4.0, 256.0).unwrap().frequency_divisors(16, 10_000.0);
        assert_eq!(d.len(), 8);
        assert_eq!(d[0], 1.0);
        assert!(d[4..].iter().all(|&x| x == 4.0), "{d:?}");
        // low 0, high 4: pair i extrapolates by 1 - i/4, so it runs at (i/4)/4 + (1 - i/4).
        for (i, &x) in d.iter().enumerate().take(4).skip(1) {
            let e = 1.0 - i as f64 / 4.0;
            assert!((x as f64 - 1.0 / ((1.0 - e) / 4.0 + e)).abs() < 1e-6, "{i}: {x}");
        }
        assert!((Yarn::mscale(4.0, 1.0) - (1.0 + 0.1 * 4f64.ln())).abs() < 1e-12);
        assert_eq!(Yarn::mscale(1.0, 1.0), 1.0);
        assert!(Yarn::new(0.5, 256.0).is_err() && Yarn::new(4.0, 0.0).is_err());
    }
}
