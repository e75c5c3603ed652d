//! x86_64 SIMD twins of the K-quant block dots (`q4k`, `q5k`, `q6k` x Q8_K): AVX2 and AVX-512 VNNI on
//! 256-bit registers through `x86_bytes::ByteDot`, one weight row against a tile of token rows, each
//! super-block unpacked once for all of them.
//!
//! Each super-block's integer sums are computed exactly and combined into the float total by the
//! scalar module's own `accumulate`, so every result is bit for bit the scalar one. Codes are unsigned
//! bytes (Q4_K 0..=15, Q5_K 0..=31, Q6_K 0..=63 with its offset 32 folded out through Q8_K's sums of 16
//! codes: `sum((c - 32) q) = sum(c q) - 32 sum(q)`), multiplied by the signed Q8_K codes (-127..=127);
//! a pair of products fits 16 bits (2 * 63 * 127 < 32767), so `vpmaddubsw` never saturates.

use std::arch::x86_64::*;

use super::x86_bytes::{f16_at, hsum_epi32, load32, ByteDot};
use crate::engine::quant::blocks::q4k::{self, Q8KRow, QK_K};
use crate::engine::quant::blocks::{q5k, q6k};

/// Super-blocks of `bytes` each that every row covers.
fn whole_blocks<const N: usize>(w: &[u8], bytes: usize, xs: &[&Q8KRow; N]) -> usize {
    xs.iter().fold(w.len() / bytes, |n, x| {
        n.min(x.d.len()).min(x.q.len() / QK_K).min(x.bsums.len() / 16)
    })
}

/// The sixteen sums of 16 codes of super-block `b` of `x` times the weights' per-16 `factors`, summed
/// (`sum_k factors[k] * bsums[k]`; each product below 2^19, so `vpmaddwd` is exact).
///
/// # Safety
/// AVX2; `x.bsums` holds 16 values at `16 * b`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn bsums_dot(x: &Q8KRow, b: usize, factors: __m256i) -> i32 {
    // SAFETY: 16 i16 (32 bytes) at 16 * b, guaranteed by the caller.
    let bsums = unsafe { load32(x.bsums.as_ptr().add(b * 16) as *const u8) };
    hsum_epi32(_mm256_madd_epi16(bsums, factors))
}

/// The minimums of a Q4_K / Q5_K super-block, `m[k / 2]` for k in 0..16, as 16-bit lanes.
#[inline]
#[target_feature(enable = "avx2")]
fn mins16(m: [u8; 8]) -> __m256i {
    _mm256_cvtepu8_epi16(_mm_shuffle_epi8(
        _mm_cvtsi64_si128(i64::from_le_bytes(m)),
        _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
    ))
}

/// Q4_K (`FIVE = false`) or Q5_K (`FIVE = true`) weights x `N` Q8_K activation rows, bit for bit
/// `q4k::dot_row` / `q5k::dot_row`. Q5_K's fifth bits of chunk `c` of 64 weights come from bits `2c` and
/// `2c + 1` of its 32 `qh` bytes.
///
/// # Safety
/// AVX2, FMA, F16C and the table's features.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn dot_q45k<M: ByteDot, const FIVE: bool, const N: usize>(w: &[u8], xs: [&Q8KRow; N]) -> [f32; N] {
    let (bytes, qs_at) = if FIVE {
        (q5k::BLOCK_BYTES, q5k::QS_AT)
    } else {
        (q4k::BLOCK_BYTES, 16)
    };
    let (mask, five) = (_mm256_set1_epi8(0x0f), _mm256_set1_epi8(0x10));
    let mut total = [0.0f32; N];
    for b in 0..whole_blocks(w, bytes, &xs) {
        let block = &w[b * bytes..(b + 1) * bytes];
        let (sc, m) = q4k::unpack_scales(&block[4..16]);
        // SAFETY: Q5_K has 32 qh bytes at QH_AT, inside the block (Q4_K reads none).
        let mut qh = if FIVE {
            unsafe { load32(block.as_ptr().add(q5k::QH_AT)) }
        } else {
            _mm256_setzero_si256()
        };
        let mut acc = [_mm256_setzero_si256(); N];
        for c in 0..QK_K / 64 {
            // SAFETY: 128 code bytes at qs_at, so 32 at qs_at + 32 * c are in range.
            let q = unsafe { load32(block.as_ptr().add(qs_at + 32 * c)) };
            let mut lo = _mm256_and_si256(q, mask);
            let mut hi = _mm256_and_si256(_mm256_srli_epi16::<4>(q), mask);
            if FIVE {
                // Bit 0 (then bit 1) of each qh byte moved to bit 4; 16-bit shifts carry bits across
                // the byte boundary only into positions the mask clears.
                lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16::<4>(qh), five));
                hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16::<3>(qh), five));
                qh = _mm256_srli_epi16::<2>(qh);
            }
            // SAFETY (scales, madd_scaled, loads): the table's features come from the caller; b < blocks, so x
            // has 256 codes at b * 256 and 32 bytes at 64 * c and 64 * c + 32 of them are in range.
            let (s1, s2) = unsafe {
                (
                    M::scales(sc[2 * c] as i16, sc[2 * c] as i16),
                    M::scales(sc[2 * c + 1] as i16, sc[2 * c + 1] as i16),
                )
            };
            for (a, x) in acc.iter_mut().zip(&xs) {
                unsafe {
                    let xq = x.q.as_ptr().add(b * QK_K + 64 * c) as *const u8;
                    let p = _mm256_add_epi32(
                        M::madd_scaled(lo, load32(xq), s1),
                        M::madd_scaled(hi, load32(xq.add(32)), s2),
                    );
                    *a = _mm256_add_epi32(*a, p);
                }
            }
        }
        let (d, dmin, m16) = (f16_at(block, 0), f16_at(block, 2), mins16(m));
        for (t, x) in xs.iter().enumerate() {
            // SAFETY: b < blocks, so x.bsums has 16 values at b * 16.
            let msum = unsafe { bsums_dot(x, b, m16) };
            total[t] = q4k::accumulate(total[t], d, dmin, x.d[b], hsum_epi32(acc[t]), msum);
        }
    }
    total
}

/// Q6_K weights x `N` Q8_K activation rows, bit for bit `q6k::dot_row`: per half of 128 weights, four
/// vectors of 32 unsigned 6-bit codes from 64 `ql` and 32 `qh` bytes, each half of a vector (16 codes)
/// with its own signed scale; then `- 32 * sum_j sc[j] * bsums[j]`.
///
/// # Safety
/// AVX2, FMA, F16C and the table's features.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn dot_q6k<M: ByteDot, const N: usize>(w: &[u8], xs: [&Q8KRow; N]) -> [f32; N] {
    let bytes = q6k::BLOCK_BYTES;
    let (mask, two) = (_mm256_set1_epi8(0x0f), _mm256_set1_epi8(0x30));
    let mut total = [0.0f32; N];
    for b in 0..whole_blocks(w, bytes, &xs) {
        let block = &w[b * bytes..(b + 1) * bytes];
        let sc = q6k::scales(block);
        let mut acc = [_mm256_setzero_si256(); N];
        for h in 0..QK_K / 128 {
            // SAFETY: 128 ql bytes at 0 and 64 qh bytes at QH_AT: 64 at 64 * h and 32 at QH_AT + 32 * h.
            let (ql0, ql1, qh) = unsafe {
                let p = block.as_ptr();
                (
                    load32(p.add(64 * h)),
                    load32(p.add(64 * h + 32)),
                    load32(p.add(q6k::QH_AT + 32 * h)),
                )
            };
            // Bits 2k, 2k + 1 of each qh byte moved to bits 4, 5 (masked after 16-bit shifts).
            let codes = [
                _mm256_or_si256(
                    _mm256_and_si256(ql0, mask),
                    _mm256_and_si256(_mm256_slli_epi16::<4>(qh), two),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(ql1, mask),
                    _mm256_and_si256(_mm256_slli_epi16::<2>(qh), two),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16::<4>(ql0), mask),
                    _mm256_and_si256(qh, two),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16::<4>(ql1), mask),
                    _mm256_and_si256(_mm256_srli_epi16::<2>(qh), two),
                ),
            ];
            for (k, u) in codes.iter().enumerate() {
                let j = 8 * h + 2 * k;
                // SAFETY: the table's features come from the caller; b < blocks, so x has 256 codes at
                // b * 256 and the 32 at 128 * h + 32 * k of them are in range.
                let s = unsafe { M::scales(sc[j] as i16, sc[j + 1] as i16) };
                for (a, x) in acc.iter_mut().zip(&xs) {
                    unsafe {
                        let xq = x.q.as_ptr().add(b * QK_K + 128 * h + 32 * k) as *const u8;
                        *a = _mm256_add_epi32(*a, M::madd_scaled(*u, load32(xq), s));
                    }
                }
            }
        }
        // SAFETY: the 16 scale bytes at SC_AT are inside the block.
        let sc16 = _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(block.as_ptr().add(q6k::SC_AT) as *const __m128i) });
        let d = f16_at(block, q6k::D_AT);
        for (t, x) in xs.iter().enumerate() {
            // SAFETY: b < blocks, so x.bsums has 16 values at b * 16.
            let offset = unsafe { bsums_dot(x, b, sc16) };
            total[t] = q6k::accumulate(total[t], d, x.d[b], hsum_epi32(acc[t]) - 32 * offset);
        }
    }
    total
}
