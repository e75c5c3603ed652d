//! x86_64 AVX2 quantization of activation rows to Q8 blocks, the twin of `blocks::quantize_q8_row`:
//! the same numbers bit for bit (block maximum, `x * (1/d)`, rounding half away from zero, clamping,
//! f16 scale and sum), 32 lanes a block instead of one. A decode step quantizes one row per projection,
//! and the scalar loop was 5 % of a one-thread SmolLM2 decode profile.

use std::arch::x86_64::*;

use half::f16;

use crate::engine::quant::blocks::{Q8Row, BLOCK};

/// `blocks::quantize_q8_row` of `x` (a multiple of 32 long).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn quantize_q8_row(x: &[f32]) -> Q8Row {
    let blocks = x.len() / BLOCK;
    let mut row = Q8Row {
        d: Vec::with_capacity(blocks),
        s: Vec::with_capacity(blocks),
        q: vec![0i8; blocks * BLOCK],
    };
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    // packs works within 128-bit lanes: this dword order puts the codes back in order.
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (b, block) in x.chunks_exact(BLOCK).enumerate() {
        // SAFETY: the block holds 32 floats, four loads of eight.
        let v: [__m256; 4] = std::array::from_fn(|i| unsafe { _mm256_loadu_ps(block.as_ptr().add(8 * i)) });
        // The maximum magnitude; `max_ps(a, acc)` returns acc for a NaN lane, as the scalar fold's f32::max.
        let mut m = _mm256_setzero_ps();
        for vi in v {
            m = _mm256_max_ps(_mm256_and_ps(vi, abs_mask), m);
        }
        let m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
        let m2 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        let m1 = _mm_max_ss(m2, _mm_shuffle_ps::<1>(m2, m2));
        let amax = _mm_cvtss_f32(m1);
        let d = amax / 127.0;
        let id = if d == 0.0 { 0.0 } else { 1.0 / d };
        let idv = _mm256_set1_ps(id);
        let (lo, hi) = (_mm256_set1_epi32(-128), _mm256_set1_epi32(127));
        let mut codes = [_mm256_setzero_si256(); 4];
        let mut sum = _mm256_setzero_si256();
        for (c, vi) in codes.iter_mut().zip(v) {
            let y = _mm256_mul_ps(vi, idv);
            // NaN lanes become 0, as `NaN as i32` does.
            let y = _mm256_and_ps(y, _mm256_cmp_ps::<_CMP_ORD_Q>(y, y));
            // Round half away from zero exactly as the scalar: truncate, then step by the exact remainder.
            let t = _mm256_cvttps_epi32(y);
            let frac = _mm256_sub_ps(y, _mm256_cvtepi32_ps(t));
            let up = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GE_OQ>(frac, _mm256_set1_ps(0.5)));
            let down = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LE_OQ>(frac, _mm256_set1_ps(-0.5)));
            let r = _mm256_add_epi32(_mm256_sub_epi32(t, up), down);
            *c = _mm256_min_epi32(_mm256_max_epi32(r, lo), hi);
            sum = _mm256_add_epi32(sum, *c);
        }
        // Dwords of the packed bytes: c0[0..4], c1[0..4], c2[0..4], c3[0..4], c0[4..8], ...: reordered.
        let words = _mm256_packs_epi32(codes[0], codes[1]);
        let words2 = _mm256_packs_epi32(codes[2], codes[3]);
        let bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(words, words2), order);
        // SAFETY: row.q holds 32 codes for block b.
        unsafe { _mm256_storeu_si256(row.q.as_mut_ptr().add(b * BLOCK).cast(), bytes) };
        let s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256::<1>(sum));
        let s2 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
        let total = _mm_cvtsi128_si32(_mm_add_epi32(s2, _mm_shuffle_epi32::<1>(s2)));
        row.d.push(f16::from_f32(d).to_f32());
        row.s.push(f16::from_f32(d * total as f32).to_f32());
    }
    row
}
