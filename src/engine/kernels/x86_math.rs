//! x86_64 AVX2 + FMA element-wise math: GELU (erf, and the tanh form of GeGLU gates), softmax, layer
//! normalisation and the
//! `y += a * x` of attention, eight lanes at a time. They follow the scalar reference in `tensor`
//! step for step (same polynomials, same range reduction), so they differ from it only by the
//! rounding of fused multiply-adds and of lane-wise sums.

use std::arch::x86_64::*;

/// `e^x` for lanes `x <= 0`: the range reduction and degree-6 polynomial of `tensor::exp_approx`;
/// lanes below -87 give 0.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn exp_nonpositive(x_in: __m256) -> __m256 {
    let x = _mm256_max_ps(x_in, _mm256_set1_ps(-87.0));
    let n = _mm256_cvtepi32_ps(_mm256_cvttps_epi32(_mm256_sub_ps(
        _mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::LOG2_E)),
        _mm256_set1_ps(0.5),
    )));
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_145_75), x);
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428_606_8e-6), r);
    let mut p = _mm256_set1_ps(1.0 / 720.0);
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
    }
    let pow2 = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
        _mm256_cvtps_epi32(n),
        _mm256_set1_epi32(127),
    )));
    let keep = _mm256_cmp_ps::<_CMP_GE_OQ>(x_in, _mm256_set1_ps(-87.0));
    _mm256_and_ps(_mm256_mul_ps(pow2, p), keep)
}

/// GELU (`x * Phi(x)` with the erf of `tensor::erf`) of eight lanes.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn gelu8(v: __m256) -> __m256 {
    let sign_mask = _mm256_set1_ps(-0.0);
    let z = _mm256_mul_ps(v, _mm256_set1_ps(std::f32::consts::FRAC_1_SQRT_2));
    let a = _mm256_andnot_ps(sign_mask, z);
    let one = _mm256_set1_ps(1.0);
    let t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.327_591_1), a, one));
    let mut poly = _mm256_set1_ps(1.061_405_4);
    for c in [-1.453_152_1, 1.421_413_8, -0.284_496_74, 0.254_829_6] {
        poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(c));
    }
    poly = _mm256_mul_ps(poly, t);
    let e = exp_nonpositive(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
    let erf_abs = _mm256_fnmadd_ps(poly, e, one);
    let erf = _mm256_or_ps(erf_abs, _mm256_and_ps(z, sign_mask));
    _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5), v), _mm256_add_ps(one, erf))
}

/// `tensor::gelu_tanh` of eight lanes: `x * sigmoid(2u)`, the sigmoid from the exponential of `-|2u|`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn gelu_tanh8(x: __m256) -> __m256 {
    let cube = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.044_715), x), _mm256_mul_ps(x, x));
    let a = _mm256_mul_ps(
        _mm256_set1_ps(2.0 * crate::engine::tensor::SQRT_2_OVER_PI),
        _mm256_add_ps(x, cube),
    );
    let sign_mask = _mm256_set1_ps(-0.0);
    let e = exp_nonpositive(_mm256_or_ps(a, sign_mask));
    let one = _mm256_set1_ps(1.0);
    let denominator = _mm256_add_ps(one, e);
    let positive = _mm256_cmp_ps::<_CMP_GE_OQ>(a, _mm256_setzero_ps());
    let numerator = _mm256_blendv_ps(e, one, positive);
    _mm256_mul_ps(x, _mm256_div_ps(numerator, denominator))
}

/// `g = gelu_tanh(g) * u` over two slices of the same length (`tensor::gelu_tanh_mul` is the scalar
/// reference).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn gelu_tanh_mul_avx2(g: &mut [f32], u: &[f32]) {
    let n = g.len().min(u.len());
    let full = n / 8 * 8;
    for i in (0..full).step_by(8) {
        // SAFETY: i + 8 <= n, inside both slices; unaligned loads and store.
        unsafe {
            let y = _mm256_mul_ps(
                gelu_tanh8(_mm256_loadu_ps(g.as_ptr().add(i))),
                _mm256_loadu_ps(u.as_ptr().add(i)),
            );
            _mm256_storeu_ps(g.as_mut_ptr().add(i), y);
        }
    }
    if full < n {
        let (mut a, mut b) = ([0.0f32; 8], [0.0f32; 8]);
        a[..n - full].copy_from_slice(&g[full..n]);
        b[..n - full].copy_from_slice(&u[full..n]);
        // SAFETY: a and b hold 8 floats each.
        let y = unsafe { _mm256_mul_ps(gelu_tanh8(_mm256_loadu_ps(a.as_ptr())), _mm256_loadu_ps(b.as_ptr())) };
        // SAFETY: as above.
        unsafe { _mm256_storeu_ps(a.as_mut_ptr(), y) };
        g[full..n].copy_from_slice(&a[..n - full]);
    }
}

/// In-place GELU of a slice.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn gelu_avx2(xs: &mut [f32]) {
    let mut chunks = xs.chunks_exact_mut(8);
    for c in &mut chunks {
        // SAFETY: c holds exactly 8 floats; unaligned load and store.
        unsafe { _mm256_storeu_ps(c.as_mut_ptr(), gelu8(_mm256_loadu_ps(c.as_ptr()))) };
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let mut lanes = [0.0f32; 8];
        lanes[..rest.len()].copy_from_slice(rest);
        // SAFETY: lanes holds 8 floats.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), gelu8(_mm256_loadu_ps(lanes.as_ptr()))) };
        let n = rest.len();
        rest.copy_from_slice(&lanes[..n]);
    }
}

/// Sum of the eight lanes.
#[inline]
#[target_feature(enable = "avx2")]
fn lane_sum(v: __m256) -> f32 {
    let mut lanes = [0.0f32; 8];
    // SAFETY: lanes holds 8 floats.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), v) };
    lanes.iter().sum()
}

/// In-place numerically stable softmax of a slice.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn softmax_avx2(xs: &mut [f32]) {
    let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let vmax = _mm256_set1_ps(max);
    let mut vsum = _mm256_setzero_ps();
    let mut chunks = xs.chunks_exact_mut(8);
    for c in &mut chunks {
        // SAFETY: c holds exactly 8 floats.
        let e = exp_nonpositive(_mm256_sub_ps(unsafe { _mm256_loadu_ps(c.as_ptr()) }, vmax));
        // SAFETY: as above.
        unsafe { _mm256_storeu_ps(c.as_mut_ptr(), e) };
        vsum = _mm256_add_ps(vsum, e);
    }
    let rest = chunks.into_remainder();
    let mut sum = 0.0;
    if !rest.is_empty() {
        // Padding lanes hold -inf, whose exponential is 0.
        let mut lanes = [f32::NEG_INFINITY; 8];
        lanes[..rest.len()].copy_from_slice(rest);
        // SAFETY: lanes holds 8 floats.
        let e = exp_nonpositive(_mm256_sub_ps(unsafe { _mm256_loadu_ps(lanes.as_ptr()) }, vmax));
        // SAFETY: as above.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), e) };
        let n = rest.len();
        rest.copy_from_slice(&lanes[..n]);
        sum = lanes.iter().sum();
    }
    let inv = 1.0 / (lane_sum(vsum) + sum);
    for v in xs.iter_mut() {
        *v *= inv;
    }
}

/// Layer normalisation of one row: `(x - mean) / sqrt(var + eps) * gamma + beta`.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `gamma` and `beta` are at least as long as `row`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn layer_norm_row_avx2(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let n = row.len();
    debug_assert!(gamma.len() >= n && beta.len() >= n);
    let whole = n / 8 * 8;
    let p = row.as_mut_ptr();
    let mut vsum = _mm256_setzero_ps();
    for i in (0..whole).step_by(8) {
        // SAFETY: i + 8 <= n.
        vsum = _mm256_add_ps(vsum, unsafe { _mm256_loadu_ps(p.add(i)) });
    }
    let mean = (lane_sum(vsum) + row[whole..].iter().sum::<f32>()) / n as f32;
    let vmean = _mm256_set1_ps(mean);
    let mut vvar = _mm256_setzero_ps();
    for i in (0..whole).step_by(8) {
        // SAFETY: i + 8 <= n.
        let d = _mm256_sub_ps(unsafe { _mm256_loadu_ps(p.add(i)) }, vmean);
        vvar = _mm256_fmadd_ps(d, d, vvar);
    }
    let tail_var: f32 = row[whole..].iter().map(|v| (v - mean) * (v - mean)).sum();
    let inv = 1.0 / ((lane_sum(vvar) + tail_var) / n as f32 + eps).sqrt();
    let vinv = _mm256_set1_ps(inv);
    for i in (0..whole).step_by(8) {
        // SAFETY: i + 8 <= n <= gamma.len(), beta.len().
        unsafe {
            let d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(p.add(i)), vmean), vinv);
            let y = _mm256_fmadd_ps(
                d,
                _mm256_loadu_ps(gamma.as_ptr().add(i)),
                _mm256_loadu_ps(beta.as_ptr().add(i)),
            );
            _mm256_storeu_ps(p.add(i), y);
        }
    }
    for i in whole..n {
        row[i] = (row[i] - mean) * inv * gamma[i] + beta[i];
    }
}

/// `y += a * x`.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `x` is at least as long as `y`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn axpy_avx2(a: f32, x: &[f32], y: &mut [f32]) {
    let n = y.len();
    debug_assert!(x.len() >= n);
    let whole = n / 8 * 8;
    let va = _mm256_set1_ps(a);
    for i in (0..whole).step_by(8) {
        // SAFETY: i + 8 <= n <= x.len().
        unsafe {
            let v = _mm256_fmadd_ps(
                va,
                _mm256_loadu_ps(x.as_ptr().add(i)),
                _mm256_loadu_ps(y.as_ptr().add(i)),
            );
            _mm256_storeu_ps(y.as_mut_ptr().add(i), v);
        }
    }
    for i in whole..n {
        y[i] += a * x[i];
    }
}
