//! RMSNorm (Zhang & Sennrich, 2019): `x / sqrt(mean(x^2) + eps) * w`, over whole rows or per head;
//! and BERT's layer normalisation (Ba et al., 2016) of whole rows.

use rayon::prelude::*;

use crate::engine::kernels::kernels;
use crate::engine::tensor::Matrix;

/// Rows per parallel task.
const ROWS_PER_TASK: usize = 8;

/// One slice in place: the scalar reference every caller uses.
pub fn rms_norm_slice(x: &mut [f32], w: &[f32], eps: f32) {
    let mean = x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32;
    let inv = 1.0 / (mean + eps).sqrt();
    for (v, g) in x.iter_mut().zip(w) {
        *v = *v * inv * g;
    }
}

/// Every row of `x` in place, weights `w` (length `x.cols`).
pub fn rms_norm(x: &mut Matrix, w: &[f32], eps: f32) {
    let cols = x.cols.max(1);
    x.data
        .par_chunks_mut(cols * ROWS_PER_TASK)
        .for_each(|rows| rows.chunks_mut(cols).for_each(|r| rms_norm_slice(r, w, eps)));
}

/// Every head of every row in place (query/key normalisation of Gemma 3): each `w.len()` wide slice is
/// normalised on its own with the same weights.
pub fn rms_norm_heads(x: &mut Matrix, w: &[f32], eps: f32) {
    let d = w.len().max(1);
    x.data
        .par_chunks_mut(x.cols.max(1) * ROWS_PER_TASK)
        .for_each(|rows| rows.chunks_mut(d).for_each(|h| rms_norm_slice(h, w, eps)));
}

/// Rows per parallel task of layer normalisation.
const LAYER_NORM_ROWS_PER_TASK: usize = 16;

/// In-place layer normalisation of every row: `(x - mean) / sqrt(var + eps) * gamma + beta`
/// (rows spread over threads, each by the kernel table).
pub fn layer_norm(x: &mut Matrix, gamma: &[f32], beta: &[f32], eps: f32) {
    let k = kernels();
    let cols = x.cols.max(1);
    x.data.par_chunks_mut(cols * LAYER_NORM_ROWS_PER_TASK).for_each(|rows| {
        for row in rows.chunks_mut(cols) {
            k.layer_norm_row(row, gamma, beta, eps);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_to_unit_rms_and_scales() {
        let mut m = Matrix::from_vec(2, 4, vec![1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 2.0]);
        rms_norm(&mut m, &[1.0, 1.0, 1.0, 2.0], 0.0);
        let rms = (m.data[..3].iter().map(|v| v * v).sum::<f32>() + (m.data[3] / 2.0).powi(2)) / 4.0;
        assert!((rms - 1.0).abs() < 1e-6);
        assert!((m.data[7] - 4.0).abs() < 1e-6);
    }

    #[test]
    fn heads_are_normalised_separately() {
        let mut m = Matrix::from_vec(1, 4, vec![1.0, 1.0, 10.0, 10.0]);
        rms_norm_heads(&mut m, &[1.0, 1.0], 0.0);
        assert!(m.data.iter().all(|v| (v - 1.0).abs() < 1e-6));
    }
}
