//! Activation-aware weight quantization (AWQ; Lin et al., MLSys 2024), re-derived from the paper:
//! per input channel a scale `s = mean|x|^alpha` (normalised by `sqrt(max s * min s)`), with alpha
//! searched on a 20-point grid in [0, 1) to minimise the output error `||x (Q(W diag s) diag(1/s))^T - x W^T||`
//! on calibration activations; then, per output row and group, a clipping search over the max range
//! that minimises that group's output error. At inference the activations are multiplied by `1/s`
//! (the paper folds it into the previous operator; applying it to the activation is equivalent).
//! Alpha = 0 is plain round-to-nearest and clip ratio 1 is no clipping, so on the calibration data the
//! result is never worse than RTN.

use rayon::prelude::*;

use crate::engine::kernels::{matmul_dequant_gemm, matmul_f32};
use crate::engine::quant::integer::{quantize_int4_with_scales, round_clamped, symmetric_scale, Int4Weights};
use crate::engine::tensor::{transpose, Matrix};

/// Alpha grid points.
const ALPHAS: usize = 20;
/// Clip ratios tried per group (fraction of the group's max |w|).
const CLIP_RATIOS: [f32; 8] = [1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65];

/// AWQ-quantized weights: int4 codes of `W diag(s)` and the activation multiplier `1/s`.
pub struct AwqWeights {
    pub weights: Int4Weights,
    pub act_scale: Vec<f32>,
    pub alpha: f32,
    /// Mean squared output error on the calibration rows: plain RTN, and AWQ.
    pub rtn_error: f64,
    pub awq_error: f64,
}

fn mse(a: &Matrix, b: &Matrix) -> f64 {
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| ((x - y) as f64).powi(2))
        .sum::<f64>()
        / a.data.len().max(1) as f64
}

/// Symmetric per-group scales `max|w| / 7` of `[out, in]` weights.
fn rtn_scales(w: &[f32], out_f: usize, in_f: usize, group: usize) -> Vec<f32> {
    w.chunks_exact(in_f)
        .take(out_f)
        .flat_map(|row| row.chunks(group).map(|g| symmetric_scale(g, 7.0)))
        .collect()
}

/// Output of `x` through `q` dequantized and divided back by `s` (columns), compared to `reference`.
fn error_of(x: &Matrix, q: &Int4Weights, s: &[f32], out_f: usize, reference: &Matrix) -> f64 {
    let y = matmul_dequant_gemm(x, out_f, |o, row| {
        q.dequantize_row(o, row);
        for (v, si) in row.iter_mut().zip(s) {
            *v /= si;
        }
    });
    mse(&y, reference)
}

/// A group's output error `d^T G d` for weight errors `d` and the Gram matrix `G` (`n x n`) of the group's
/// activation columns; `g_d` is scratch of length `n`. `(G d)_i = sum_j G_ij d_j` is summed over `j` in
/// order for all `i` at once: `G` is symmetric bit for bit (`x_i x_j` and `x_j x_i` round alike and are
/// summed over the same rows), so row `j` holds `G_ij` for every `i`, and the loop over `i` vectorizes
/// where a dot product's sum (a reduction, whose order is its result) cannot: the same bits as the dot
/// products, some ten times faster.
fn group_error(gram: &[f32], d: &[f32], g_d: &mut [f32]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected just above.
        return unsafe { group_error_avx2(gram, d, g_d) };
    }
    group_error_portable(gram, d, g_d)
}

/// `group_error` compiled with AVX2: eight lanes a vector where the baseline target has SSE2's four.
/// Each lane still multiplies, then adds (AVX2 alone brings no fused multiply-add), so the bits are
/// the portable loop's; the clipping search spent a quarter of AWQ's time here.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn group_error_avx2(gram: &[f32], d: &[f32], g_d: &mut [f32]) -> f64 {
    group_error_portable(gram, d, g_d)
}

#[inline(always)]
fn group_error_portable(gram: &[f32], d: &[f32], g_d: &mut [f32]) -> f64 {
    let n = d.len();
    g_d.iter_mut().for_each(|v| *v = 0.0);
    // Four rows of G per pass over `g_d` (each element still adds its terms in j order, one at a
    // time: the same bits), so the accumulators are loaded and stored a quarter as often.
    let quads = n / 4 * 4;
    for j in (0..quads).step_by(4) {
        let (d0, d1, d2, d3) = (d[j], d[j + 1], d[j + 2], d[j + 3]);
        let rows = &gram[j * n..(j + 4) * n];
        let (r0, rest) = rows.split_at(n);
        let (r1, rest) = rest.split_at(n);
        let (r2, r3) = rest.split_at(n);
        for ((((acc, g0), g1), g2), g3) in g_d.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
            *acc = *acc + g0 * d0 + g1 * d1 + g2 * d2 + g3 * d3;
        }
    }
    for (j, &dj) in d.iter().enumerate().skip(quads) {
        for (acc, gv) in g_d.iter_mut().zip(&gram[j * n..(j + 1) * n]) {
            *acc += gv * dj;
        }
    }
    d.iter().zip(g_d.iter()).map(|(dv, gd)| *dv as f64 * *gd as f64).sum()
}

/// Quantizes `[out, in]` weights with AWQ against calibration inputs `x` (`[tokens, in]`).
pub fn awq_quantize(w: &[f32], out_f: usize, in_f: usize, group: usize, x: &Matrix) -> AwqWeights {
    let group = group.clamp(1, in_f.max(1));
    let reference = matmul_f32(x, &transpose(w, out_f, in_f), out_f);
    let mean_abs: Vec<f32> = (0..in_f)
        .map(|i| (0..x.rows).map(|t| x.row(t)[i].abs()).sum::<f32>() / x.rows.max(1) as f32)
        .collect();
    let quantize_scaled = |s: &[f32]| {
        let mut ws = w[..(out_f * in_f).min(w.len())].to_vec();
        for row in ws.chunks_exact_mut(in_f) {
            row.iter_mut().zip(s).for_each(|(v, si)| *v *= si);
        }
        let scales = rtn_scales(&ws, out_f, in_f, group);
        (quantize_int4_with_scales(&ws, out_f, in_f, group, &scales), ws)
    };
    let candidates: Vec<(f32, Vec<f32>, f64)> = (0..ALPHAS)
        .into_par_iter()
        .map(|a| {
            let alpha = a as f32 / ALPHAS as f32;
            let mut s: Vec<f32> = mean_abs.iter().map(|m| m.max(1e-4).powf(alpha)).collect();
            let (lo, hi) = s
                .iter()
                .fold((f32::INFINITY, 0.0f32), |(l, h), v| (l.min(*v), h.max(*v)));
            let norm = (lo * hi).sqrt().max(1e-12);
            s.iter_mut().for_each(|v| *v /= norm);
            let (q, _) = quantize_scaled(&s);
            let err = error_of(x, &q, &s, out_f, &reference);
            (alpha, s, err)
        })
        .collect();
    let rtn_error = candidates[0].2;
    let (alpha, s, _) =
        candidates
            .into_iter()
            .min_by(|a, b| a.2.total_cmp(&b.2))
            .unwrap_or((0.0, vec![1.0; in_f], 0.0));

    // Clipping search per (row, group) on the scaled weights, by that group's output error
    // d^T G d with G the Gram matrix of the scaled activations' group columns.
    let (_, ws) = quantize_scaled(&s);
    let xs: Vec<Vec<f32>> = (0..x.rows)
        .map(|t| x.row(t).iter().zip(&s).map(|(v, si)| v / si).collect())
        .collect();
    let groups = in_f.div_ceil(group);
    let grams: Vec<Vec<f32>> = (0..groups)
        .into_par_iter()
        .map(|g| {
            let (a, b) = (g * group, ((g + 1) * group).min(in_f));
            let n = b - a;
            let mut gram = vec![0.0f32; n * n];
            for row in &xs {
                let seg = &row[a..b];
                for (i, xi) in seg.iter().enumerate() {
                    for (j, xj) in seg.iter().enumerate() {
                        gram[i * n + j] += xi * xj;
                    }
                }
            }
            gram
        })
        .collect();
    let scales: Vec<f32> = ws
        .par_chunks(in_f)
        .flat_map_iter(|row| {
            let grams = &grams;
            row.chunks(group).enumerate().map(move |(g, chunk)| {
                let max = chunk.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                if max == 0.0 {
                    return 1.0;
                }
                let gram = &grams[g];
                let n = chunk.len();
                let mut best = (f64::INFINITY, max / 7.0);
                let mut diff = vec![0.0f32; n];
                let mut g_diff = vec![0.0f32; n];
                for ratio in CLIP_RATIOS {
                    let d = max * ratio / 7.0;
                    for (df, v) in diff.iter_mut().zip(chunk) {
                        *df = v - round_clamped(v / d, -8.0, 7.0) * d;
                    }
                    let err = group_error(gram, &diff, &mut g_diff);
                    if err < best.0 {
                        best = (err, d);
                    }
                }
                best.1
            })
        })
        .collect();
    let weights = quantize_int4_with_scales(&ws, out_f, in_f, group, &scales);
    let awq_error = error_of(x, &weights, &s, out_f, &reference);
    AwqWeights {
        weights,
        act_scale: s.iter().map(|v| 1.0 / v).collect(),
        alpha,
        rtn_error,
        awq_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn the_group_error_is_the_dot_products_bit_for_bit() {
        let mut rng = StdRng::seed_from_u64(5);
        for n in [1, 7, 33, 128] {
            let rows: Vec<Vec<f32>> = (0..50)
                .map(|_| (0..n).map(|_| rng.random_range(-3.0f32..3.0)).collect())
                .collect();
            let mut gram = vec![0.0f32; n * n];
            for row in &rows {
                for (i, xi) in row.iter().enumerate() {
                    for (j, xj) in row.iter().enumerate() {
                        gram[i * n + j] += xi * xj;
                    }
                }
            }
            let d: Vec<f32> = (0..n).map(|_| rng.random_range(-0.1f32..0.1)).collect();
            // The twin: d_i times the dot product of row i of G with d, summed in order.
            let want: f64 = (0..n)
                .map(|i| d[i] as f64 * gram[i * n..(i + 1) * n].iter().zip(&d).map(|(g, v)| g * v).sum::<f32>() as f64)
                .sum();
            let got = group_error(&gram, &d, &mut vec![0.0; n]);
            assert_eq!(got.to_bits(), want.to_bits(), "n = {n}");
        }
    }

    #[test]
    fn awq_beats_rtn_when_a_few_channels_carry_large_activations() {
        let mut rng = StdRng::seed_from_u64(3);
        let (tokens, in_f, out_f) = (96, 128, 48);
        // Channels 0..4 are outliers in the activations, as in real transformer layers.
        let x = Matrix::from_vec(
            tokens,
            in_f,
            (0..tokens * in_f)
                .map(|i| rng.random_range(-1.0f32..1.0) * if i % in_f < 4 { 40.0 } else { 1.0 })
                .collect(),
        );
        let w: Vec<f32> = (0..out_f * in_f).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let awq = awq_quantize(&w, out_f, in_f, 32, &x);
        assert!(awq.alpha > 0.0, "a non-trivial scale should win");
        assert!(
            awq.awq_error < awq.rtn_error * 0.8,
            "awq {} vs rtn {}",
            awq.awq_error,
            awq.rtn_error
        );
        assert_eq!(awq.act_scale.len(), in_f);
    }
}
