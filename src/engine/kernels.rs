//! Matrix-product kernels for every weight format.
//!
//! Each product is `y = x W^T` with `x` as `[tokens, in]` and `W` as `[out, in]`. The f32 path calls
//! the `gemm` crate (which selects AVX2/AVX-512 at run time) on weights laid out `[in, out]`.
//! The integer paths are plain scalar loops for now, written so the compiler vectorises the inner
//! dot product; work is split over output rows with rayon, so the sum order of every output, and
//! hence the result, does not depend on the thread count.

use rayon::prelude::*;

use super::quant::{quantize_row_int8, Int4Weights, Int8Weights};
use super::tensor::Matrix;

/// Outputs computed per rayon task: enough work per task to amortise scheduling.
const OUT_CHUNK: usize = 16;

/// `x [t, k] * w_t [k, n] -> [t, n]` in f32 with `gemm`.
pub fn matmul_f32(x: &Matrix, w_t: &[f32], n: usize) -> Matrix {
    let (m, k) = (x.rows, x.cols);
    assert_eq!(w_t.len(), k * n, "weight shape does not match the input width");
    let mut out = Matrix::zeros(m, n);
    if m == 0 || n == 0 {
        return out;
    }
    let threads = rayon::current_num_threads();
    let parallelism = if threads > 1 && m * n * k > 64 * 64 * 64 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: all three buffers are live, contiguous row-major and sized exactly as the strides
    // below describe: out is m x n (row stride n), x is m x k (row stride k), w_t is k x n (row stride n).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.data.as_mut_ptr(),
            1,
            n as isize,
            false,
            x.data.as_ptr(),
            1,
            k as isize,
            w_t.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
    out
}

/// Dot product of two int8 slices with int32 accumulation.
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).map(|(&x, &y)| x as i32 * y as i32).sum()
}

/// W8A8: quantizes every row of `x` to int8 (per-token scale), multiplies with int8 weights in
/// int32, and rescales: `y[t][o] = sx[t] * sw[o] * sum_i xq[t][i] * wq[o][i]`.
pub fn matmul_int8(x: &Matrix, w: &Int8Weights, out_f: usize) -> Matrix {
    let k = x.cols;
    let mut xq = vec![0i8; x.rows * k];
    let sx: Vec<f32> = xq
        .chunks_mut(k.max(1))
        .enumerate()
        .map(|(t, dst)| quantize_row_int8(x.row(t), dst))
        .collect();
    let mut out_t = vec![0.0f32; out_f * x.rows];
    out_t
        .par_chunks_mut(OUT_CHUNK * x.rows.max(1))
        .enumerate()
        .for_each(|(chunk, dst)| {
            for (j, col) in dst.chunks_mut(x.rows.max(1)).enumerate() {
                let o = chunk * OUT_CHUNK + j;
                let wrow = &w.q[o * k..(o + 1) * k];
                for (t, y) in col.iter_mut().enumerate() {
                    let acc = dot_i8(&xq[t * k..(t + 1) * k], wrow);
                    *y = acc as f32 * sx[t] * w.scale[o];
                }
            }
        });
    transpose_into(&out_t, out_f, x.rows)
}

/// W4A16: dequantizes each 4-bit weight row once into an f32 buffer and multiplies it with every
/// token row in f32, so unpacking is amortised over the batch.
pub fn matmul_int4(x: &Matrix, w: &Int4Weights, out_f: usize) -> Matrix {
    let k = x.cols;
    let mut out_t = vec![0.0f32; out_f * x.rows];
    out_t
        .par_chunks_mut(OUT_CHUNK * x.rows.max(1))
        .enumerate()
        .for_each(|(chunk, dst)| {
            let mut wrow = vec![0.0f32; k];
            for (j, col) in dst.chunks_mut(x.rows.max(1)).enumerate() {
                let o = chunk * OUT_CHUNK + j;
                w.dequantize_row(o, &mut wrow);
                for (t, y) in col.iter_mut().enumerate() {
                    *y = dot_f32(x.row(t), &wrow);
                }
            }
        });
    transpose_into(&out_t, out_f, x.rows)
}

/// Dot product in f32 with eight independent accumulators (vectorises, fixed order).
#[inline]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = a.len() / 8;
    for c in 0..chunks {
        for l in 0..8 {
            acc[l] += a[c * 8 + l] * b[c * 8 + l];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for i in chunks * 8..a.len() {
        sum += a[i] * b[i];
    }
    sum
}

/// Turns an `[n, m]` buffer into an `[m, n]` matrix.
fn transpose_into(src: &[f32], n: usize, m: usize) -> Matrix {
    let mut out = Matrix::zeros(m, n);
    for o in 0..n {
        for t in 0..m {
            out.data[t * n + o] = src[o * m + t];
        }
    }
    out
}
