//! The two inner loops of attention on AVX2 + FMA: a query against many cached keys (`scores`), and the
//! probability-weighted sum of many cached values (`weighted_sum`).
//!
//! A head is short (64 floats for SmolLM2, 256 for Gemma 3), so one call per key (a dot, a horizontal sum
//! through memory, a table dispatch) cost more than the arithmetic: at 512 prompt tokens these loops took a
//! fifth of a prefill. Here four keys share each load of the query and their four sums are reduced together
//! in registers; the weighted sum keeps 32 output floats in registers across all values instead of loading
//! and storing the output once per value. The weighted sum adds the values in key order with one fused
//! multiply-add each, exactly as a loop of `axpy_avx2` calls did, so it gives the same bits.

use std::arch::x86_64::*;

/// The four sums of `a`, `b`, `c`, `d`'s lanes, as `[sum a, sum b, sum c, sum d]`.
#[inline]
#[target_feature(enable = "avx2")]
fn hsum4(a: __m256, b: __m256, c: __m256, d: __m256) -> __m128 {
    let ab = _mm256_hadd_ps(a, b);
    let cd = _mm256_hadd_ps(c, d);
    let abcd = _mm256_hadd_ps(ab, cd);
    _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps::<1>(abcd))
}

/// `out[j] = scale * (q . keys[j * stride .. j * stride + q.len()])` for every `j < out.len()`.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `keys` holds `(out.len() - 1) * stride + q.len()` floats at least
/// (checked by the caller).
#[target_feature(enable = "avx2,fma")]
pub unsafe fn scores(q: &[f32], keys: &[f32], stride: usize, scale: f32, out: &mut [f32]) {
    let d = q.len();
    let whole = d / 8 * 8;
    let (qp, kp) = (q.as_ptr(), keys.as_ptr());
    let tail = |j: usize| -> f32 { (whole..d).map(|i| q[i] * keys[j * stride + i]).sum() };
    let mut j = 0;
    while j + 4 <= out.len() {
        let mut acc = [_mm256_setzero_ps(); 4];
        for i in (0..whole).step_by(8) {
            // SAFETY: i + 8 <= d; key j + k's floats lie in keys (the caller's guarantee).
            unsafe {
                let qv = _mm256_loadu_ps(qp.add(i));
                for (k, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kp.add((j + k) * stride + i)), *a);
                }
            }
        }
        let mut sums = [0.0f32; 4];
        // SAFETY: sums has room for 4 floats.
        unsafe { _mm_storeu_ps(sums.as_mut_ptr(), hsum4(acc[0], acc[1], acc[2], acc[3])) };
        for (k, s) in sums.iter().enumerate() {
            out[j + k] = (s + tail(j + k)) * scale;
        }
        j += 4;
    }
    while j < out.len() {
        let mut acc = _mm256_setzero_ps();
        for i in (0..whole).step_by(8) {
            // SAFETY: as above, for key j.
            unsafe { acc = _mm256_fmadd_ps(_mm256_loadu_ps(qp.add(i)), _mm256_loadu_ps(kp.add(j * stride + i)), acc) };
        }
        let zero = _mm256_setzero_ps();
        out[j] = (_mm_cvtss_f32(hsum4(acc, zero, zero, zero)) + tail(j)) * scale;
        j += 1;
    }
}

/// `o[i] += sum_j p[j] * values[j * stride + i]`, values added in order `j = 0, 1, ..` (one fused
/// multiply-add each; the last `o.len() % 8` floats with a separate multiply and add, as `axpy_avx2`).
///
/// # Safety
/// The CPU must support AVX2 and FMA; `values` holds `(p.len() - 1) * stride + o.len()` floats at least
/// (checked by the caller).
#[target_feature(enable = "avx2,fma")]
pub unsafe fn weighted_sum(p: &[f32], values: &[f32], stride: usize, o: &mut [f32]) {
    let n = o.len();
    let (vp, op) = (values.as_ptr(), o.as_mut_ptr());
    let mut c = 0;
    while c + 32 <= n {
        // SAFETY: c + 32 <= n for o; each value row holds n floats from j * stride (the caller's guarantee).
        unsafe {
            let mut acc = [0usize, 8, 16, 24].map(|k| _mm256_loadu_ps(op.add(c + k)));
            for (j, &pj) in p.iter().enumerate() {
                let w = _mm256_set1_ps(pj);
                for (k, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(w, _mm256_loadu_ps(vp.add(j * stride + c + 8 * k)), *a);
                }
            }
            for (k, a) in acc.iter().enumerate() {
                _mm256_storeu_ps(op.add(c + 8 * k), *a);
            }
        }
        c += 32;
    }
    while c + 8 <= n {
        // SAFETY: as above, for 8 floats.
        unsafe {
            let mut acc = _mm256_loadu_ps(op.add(c));
            for (j, &pj) in p.iter().enumerate() {
                acc = _mm256_fmadd_ps(_mm256_set1_ps(pj), _mm256_loadu_ps(vp.add(j * stride + c)), acc);
            }
            _mm256_storeu_ps(op.add(c), acc);
        }
        c += 8;
    }
    for (i, out) in o.iter_mut().enumerate().skip(c) {
        for (j, &pj) in p.iter().enumerate() {
            *out += pj * values[j * stride + i];
        }
    }
}
