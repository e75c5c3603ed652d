//! Portable scalar kernels: the reference every SIMD kernel is tested against.

/// Dot product of two int8 slices with int32 accumulation.
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).map(|(&x, &y)| x as i32 * y as i32).sum()
}

/// Dot product of an unsigned (activation + 128) and a signed int8 slice, int32 accumulation.
pub fn dot_u8i8(a: &[u8], b: &[i8]) -> i32 {
    a.iter().zip(b).map(|(&x, &y)| x as i32 * y as i32).sum()
}

/// Dot product in f32 with eight independent accumulators (a fixed summation order).
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut acc = [0.0f32; 8];
    let chunks = n / 8;
    for c in 0..chunks {
        for l in 0..8 {
            acc[l] += a[c * 8 + l] * b[c * 8 + l];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for i in chunks * 8..n {
        sum += a[i] * b[i];
    }
    sum
}

/// `cols` output columns of weights laid out in a strip `width` columns wide: element `(i, c)` (input
/// `i`, column `c`) at `w[i * width + c]`.
pub struct Strip<'a> {
    pub w: &'a [f32],
    pub width: usize,
    pub cols: usize,
}

/// The f32 strip product in scalar code (the reference of the SIMD strip kernels): for `tokens` rows
/// of `x [tokens, k]`, every column of `strip` summed over `k` in order, one fused multiply-add a
/// product, written to `out[t * out_stride + c]`.
pub fn gemm_f32_strip(x: &[f32], tokens: usize, k: usize, strip: &Strip, out: &mut [f32], out_stride: usize) {
    for t in 0..tokens {
        for c in 0..strip.cols {
            let mut acc = 0.0f32;
            for i in 0..k {
                acc = x[t * k + i].mul_add(strip.w[i * strip.width + c], acc);
            }
            out[t * out_stride + c] = acc;
        }
    }
}
