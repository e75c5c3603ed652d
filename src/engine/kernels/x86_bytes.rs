//! The x86_64 pieces every block-format dot shares: f16 scales, horizontal sums, 32-byte loads, and
//! `ByteDot`, how a kernel table multiplies unsigned by signed bytes into int32 lanes (AVX2
//! `vpmaddubsw` + `vpmaddwd`, or VNNI `vpdpbusd`).

use std::arch::x86_64::*;

/// The little-endian f16 at `bytes[at..at + 2]` as f32 (F16C `vcvtph2ps`, exact).
#[inline]
#[target_feature(enable = "f16c")]
pub(super) fn f16_at(bytes: &[u8], at: usize) -> f32 {
    let bits = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32)))
}

/// The sum of the eight lanes.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn hsum_ps(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

/// The sum of the eight lanes.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn hsum_epi32(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
    _mm_cvtsi128_si32(s)
}

/// 32 bytes at `p`.
///
/// # Safety
/// `p..p + 32` must be readable.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn load32(p: *const u8) -> __m256i {
    // SAFETY: the caller guarantees 32 readable bytes; unaligned load.
    unsafe { _mm256_loadu_si256(p as *const __m256i) }
}

/// How a table multiplies bytes into int32 lanes: `vpmaddubsw` + `vpmaddwd` (AVX2) or `vpdpbusd` (VNNI).
pub(super) trait ByteDot {
    /// Eight int32 lanes, each the sum of four products `u[i] * s[i]` (`u` unsigned, `s` signed bytes;
    /// pairs of products must fit 16 bits for AVX2).
    ///
    /// # Safety
    /// The CPU must support the table's features.
    unsafe fn madd_u8i8(u: __m256i, s: __m256i) -> __m256i;

    /// The scale vector `madd_scaled` takes: `lo` for the products of bytes 0..16, `hi` for 16..32.
    ///
    /// # Safety
    /// As `madd_u8i8`.
    unsafe fn scales(lo: i16, hi: i16) -> __m256i;

    /// `madd_u8i8(u, s)` with each product times the scale of its half (`scales`), exact while each
    /// lane's sum of four products fits 16 bits (4 * 63 * 127 at most here) and scales lie in -128..=127.
    ///
    /// # Safety
    /// As `madd_u8i8`.
    unsafe fn madd_scaled(u: __m256i, s: __m256i, scales: __m256i) -> __m256i;
}

/// AVX2.
pub(super) struct Avx2;
/// AVX-512 VNNI on 256-bit registers (AVX-512VL).
pub(super) struct Vnni;

impl ByteDot for Avx2 {
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn madd_u8i8(u: __m256i, s: __m256i) -> __m256i {
        _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1))
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn scales(lo: i16, hi: i16) -> __m256i {
        // 16-bit lanes 0..8 hold the pair sums of bytes 0..16.
        _mm256_setr_m128i(_mm_set1_epi16(lo), _mm_set1_epi16(hi))
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn madd_scaled(u: __m256i, s: __m256i, scales: __m256i) -> __m256i {
        _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), scales)
    }
}

impl ByteDot for Vnni {
    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
    unsafe fn madd_u8i8(u: __m256i, s: __m256i) -> __m256i {
        _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s)
    }

    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
    unsafe fn scales(lo: i16, hi: i16) -> __m256i {
        // 32-bit lanes 0..4 hold the sums of bytes 0..16; each scale in the low half of its lane.
        _mm256_setr_m128i(_mm_set1_epi32(lo as u16 as i32), _mm_set1_epi32(hi as u16 as i32))
    }

    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
    unsafe fn madd_scaled(u: __m256i, s: __m256i, scales: __m256i) -> __m256i {
        // Each lane holds a sum that fits 16 bits, sign-extended: as i16 pairs it is (sum, 0 or -1), so
        // `vpmaddwd` with pairs (scale, 0) gives sum * scale.
        _mm256_madd_epi16(_mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s), scales)
    }
}
