//! x86_64 SIMD kernels: AVX2 (+FMA) and AVX-512 VNNI. Each is `unsafe` because it needs its CPU
//! features; the kernel table only hands out the safe wrappers after run-time feature detection.
//!
//! The int8 products follow the usual tricks (as in the VNNI and AVX2 papers/manuals, and in
//! ggml/onednn kernels; re-derived here): VNNI `vpdpbusd` multiplies unsigned by signed bytes, so
//! activations are shifted to `x + 128` and the product corrected by `128 * sum(w)`; AVX2
//! `vpmaddubsw` needs one unsigned operand, so it multiplies `|x|` by `w * sign(x)`, which cannot
//! saturate for values in -127..=127 (2 * 127 * 127 < 32767).

use std::arch::x86_64::*;

/// int8 dot with AVX2 (`vpsignb` + `vpmaddubsw` + `vpmaddwd`).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn dot_i8_avx2(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let chunks = n / 32;
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_si256();
    for c in 0..chunks {
        // SAFETY: c * 32 + 32 <= n, within both slices; unaligned loads.
        let (va, vb) = unsafe {
            (
                _mm256_loadu_si256(a.as_ptr().add(c * 32) as *const __m256i),
                _mm256_loadu_si256(b.as_ptr().add(c * 32) as *const __m256i),
            )
        };
        let abs_a = _mm256_sign_epi8(va, va);
        let signed_b = _mm256_sign_epi8(vb, va);
        let pairs = _mm256_maddubs_epi16(abs_a, signed_b);
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
    }
    let mut lanes = [0i32; 8];
    // SAFETY: lanes has room for 8 i32.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, acc) };
    let mut sum: i32 = lanes.iter().sum();
    for i in chunks * 32..n {
        sum += a[i] as i32 * b[i] as i32;
    }
    sum
}

/// Unsigned x signed int8 dot with AVX-512 VNNI (`vpdpbusd`).
///
/// # Safety
/// The CPU must support AVX-512F, AVX-512BW and AVX-512 VNNI.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub unsafe fn dot_u8i8_vnni(a: &[u8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let chunks = n / 64;
    let mut acc = _mm512_setzero_si512();
    for c in 0..chunks {
        // SAFETY: c * 64 + 64 <= n, within both slices; unaligned loads.
        let (va, vb) = unsafe {
            (
                _mm512_loadu_si512(a.as_ptr().add(c * 64) as *const __m512i),
                _mm512_loadu_si512(b.as_ptr().add(c * 64) as *const __m512i),
            )
        };
        acc = _mm512_dpbusd_epi32(acc, va, vb);
    }
    let mut sum = _mm512_reduce_add_epi32(acc);
    for i in chunks * 64..n {
        sum += a[i] as i32 * b[i] as i32;
    }
    sum
}

/// f32 dot with AVX2 + FMA, four 8-lane accumulators.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_f32_fma(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let chunks = n / 32;
    let mut acc = [_mm256_setzero_ps(); 4];
    for c in 0..chunks {
        for (l, slot) in acc.iter_mut().enumerate() {
            let at = c * 32 + l * 8;
            // SAFETY: at + 8 <= n, within both slices; unaligned loads.
            let (va, vb) = unsafe { (_mm256_loadu_ps(a.as_ptr().add(at)), _mm256_loadu_ps(b.as_ptr().add(at))) };
            *slot = _mm256_fmadd_ps(va, vb, *slot);
        }
    }
    let sum4 = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let mut lanes = [0.0f32; 8];
    // SAFETY: lanes has room for 8 f32.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum4) };
    let mut sum: f32 = lanes.iter().sum();
    for i in chunks * 32..n {
        sum += a[i] * b[i];
    }
    sum
}
