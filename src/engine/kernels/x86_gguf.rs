//! x86_64 SIMD twins of the llama.cpp block dots in `gguf` and `q4k`: AVX2 and AVX-512 VNNI (on 256-bit
//! registers, with AVX-512VL), int32 sums inside each block, one weight row against a tile of token rows.
//!
//! Per block the integer dot is exact, as in the scalar code. For the 32-weight formats every lane of
//! the block's int32 vector is scaled by `dw * dx` into a float accumulator (ggml's order, not the
//! scalar one: results agree up to f32 rounding). For Q4_K each super-block's integer sums are reduced
//! exactly and combined by `q4k::accumulate`, so the result is bit for bit the scalar one.
//!
//! Signed x signed bytes: AVX2 `vpmaddubsw` and VNNI `vpdpbusd` take one unsigned operand, so they
//! multiply `|w|` by `x * sign(w)`; weight codes of these formats lie in -127..=127 (Q8_0) or -8..=7
//! (Q4_0), so `|w|` fits a byte and `vpmaddubsw` cannot saturate (2 * 127 * 127 < 32767). The 4-bit codes
//! of Q4_1 and Q4_K are unsigned already.

use std::arch::x86_64::*;

use crate::engine::quant::blocks::q4k::{self, Q8KRow, BLOCK_BYTES as Q4K_BYTES, QK_K};
use crate::engine::quant::blocks::{self, ActRow, BlockFormat, Q8Row, BLOCK};

/// The little-endian f16 at `bytes[at..at + 2]` as f32 (F16C `vcvtph2ps`, exact).
#[inline]
#[target_feature(enable = "f16c")]
fn f16_at(bytes: &[u8], at: usize) -> f32 {
    let bits = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32)))
}

/// The sum of the eight lanes.
#[inline]
#[target_feature(enable = "avx2")]
fn hsum_ps(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

/// The sum of the eight lanes.
#[inline]
#[target_feature(enable = "avx2")]
fn hsum_epi32(v: __m256i) -> i32 {
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
unsafe fn load32(p: *const u8) -> __m256i {
    // SAFETY: the caller guarantees 32 readable bytes; unaligned load.
    unsafe { _mm256_loadu_si256(p as *const __m256i) }
}

/// The 32 4-bit codes of 16 bytes at `p`: low nibbles in bytes 0..16, high nibbles in 16..32.
///
/// # Safety
/// `p..p + 16` must be readable.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn nibbles16(p: *const u8) -> __m256i {
    // SAFETY: the caller guarantees 16 readable bytes; unaligned load.
    let q = unsafe { _mm_loadu_si128(p as *const __m128i) };
    let mask = _mm_set1_epi8(0x0f);
    _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16::<4>(q), mask), _mm_and_si128(q, mask))
}

/// How a table multiplies bytes into int32 lanes: `vpmaddubsw` + `vpmaddwd` (AVX2) or `vpdpbusd` (VNNI).
trait ByteDot {
    /// Eight int32 lanes, each the sum of four products `u[i] * s[i]` (`u` unsigned, `s` signed bytes;
    /// pairs of products must fit 16 bits for AVX2).
    ///
    /// # Safety
    /// The CPU must support the table's features.
    unsafe fn madd_u8i8(u: __m256i, s: __m256i) -> __m256i;

    /// `madd_u8i8(u, s)` times `scale` (0..=63), exact: each lane's sum of products fits 16 bits.
    ///
    /// # Safety
    /// As `madd_u8i8`.
    unsafe fn madd_u8i8_scaled(u: __m256i, s: __m256i, scale: u8) -> __m256i;
}

/// AVX2.
struct Avx2;
/// AVX-512 VNNI on 256-bit registers (AVX-512VL).
struct Vnni;

impl ByteDot for Avx2 {
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn madd_u8i8(u: __m256i, s: __m256i) -> __m256i {
        _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1))
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn madd_u8i8_scaled(u: __m256i, s: __m256i, scale: u8) -> __m256i {
        _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(scale as i16))
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
    unsafe fn madd_u8i8_scaled(u: __m256i, s: __m256i, scale: u8) -> __m256i {
        // Each lane holds a sum that fits 16 bits (4 * 15 * 127), sign-extended: as i16 pairs it is
        // (sum, 0 or -1), so `vpmaddwd` with pairs (scale, 0) gives sum * scale.
        _mm256_madd_epi16(
            _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s),
            _mm256_set1_epi32(scale as i32),
        )
    }
}

/// Q8_0, Q4_0 or Q4_1 weights (`format`) x `N` Q8 activation rows: each weight block is loaded and
/// unpacked once for all `N` rows. Each row's sums are the same as with `N = 1`.
///
/// # Safety
/// AVX2, FMA, F16C and the table's features.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_blocks<M: ByteDot, const N: usize>(format: BlockFormat, w: &[u8], xs: [&Q8Row; N]) -> [f32; N] {
    let bytes = format.block_bytes();
    let blocks = xs
        .iter()
        .fold(w.len() / bytes, |n, x| n.min(x.d.len()).min(x.q.len() / BLOCK));
    let mut acc = [_mm256_setzero_ps(); N];
    let mut mins = [0.0f32; N];
    for b in 0..blocks {
        let block = &w[b * bytes..(b + 1) * bytes];
        // SAFETY: the block's bytes are in `block` (2 + 32 for Q8_0, 2 + 16 for Q4_0, 4 + 16 for Q4_1).
        let wv = unsafe {
            match format {
                BlockFormat::Q8_0 => load32(block.as_ptr().add(2)),
                BlockFormat::Q4_0 => _mm256_sub_epi8(nibbles16(block.as_ptr().add(2)), _mm256_set1_epi8(8)),
                _ => nibbles16(block.as_ptr().add(4)),
            }
        };
        let signed = format != BlockFormat::Q4_1;
        // Signed weights: multiply |w| by x * sign(w).
        let uw = if signed { _mm256_sign_epi8(wv, wv) } else { wv };
        let (dw, mw) = (f16_at(block, 0), if signed { 0.0 } else { f16_at(block, 2) });
        for (t, x) in xs.iter().enumerate() {
            // SAFETY: b < blocks, so 32 codes of x are at b * 32; the table's features come from the caller.
            let lanes = unsafe {
                let xv = load32(x.q.as_ptr().add(b * BLOCK) as *const u8);
                M::madd_u8i8(uw, if signed { _mm256_sign_epi8(xv, wv) } else { xv })
            };
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * x.d[b]), _mm256_cvtepi32_ps(lanes), acc[t]);
            if !signed {
                mins[t] += mw * x.s[b];
            }
        }
    }
    let mut out = [0.0f32; N];
    for t in 0..N {
        out[t] = hsum_ps(acc[t]) + mins[t];
    }
    out
}

/// Q4_K weights x `N` Q8_K activation rows, each super-block unpacked once for all rows; integer sums
/// per super-block, combined as the scalar code does (bit for bit).
///
/// # Safety
/// AVX2, FMA, F16C and the table's features.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_q4k<M: ByteDot, const N: usize>(w: &[u8], xs: [&Q8KRow; N]) -> [f32; N] {
    let blocks = xs.iter().fold(w.len() / Q4K_BYTES, |n, x| {
        n.min(x.d.len()).min(x.q.len() / QK_K).min(x.bsums.len() / 16)
    });
    let mask = _mm256_set1_epi8(0x0f);
    let mut total = [0.0f32; N];
    for b in 0..blocks {
        let block = &w[b * Q4K_BYTES..(b + 1) * Q4K_BYTES];
        let (sc, m) = q4k::unpack_scales(&block[4..16]);
        let qs = &block[16..];
        let mut acc = [_mm256_setzero_si256(); N];
        for c in 0..QK_K / 64 {
            // SAFETY: qs has 128 bytes, so 32 at 32 * c are in range.
            let q = unsafe { load32(qs.as_ptr().add(32 * c)) };
            let lo = _mm256_and_si256(q, mask);
            let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(q), mask);
            for (t, x) in xs.iter().enumerate() {
                // SAFETY: b < blocks, so x has 256 codes at b * 256 and 32 bytes at 64 * c and 64 * c + 32
                // of them are in range; the table's features come from the caller.
                unsafe {
                    let xq = x.q.as_ptr().add(b * QK_K + 64 * c) as *const u8;
                    let s1 = M::madd_u8i8_scaled(lo, load32(xq), sc[2 * c]);
                    let s2 = M::madd_u8i8_scaled(hi, load32(xq.add(32)), sc[2 * c + 1]);
                    acc[t] = _mm256_add_epi32(acc[t], _mm256_add_epi32(s1, s2));
                }
            }
        }
        // The minimums: the 16 sums of 16 codes times m[k / 2], in 16-bit pairs (|sum * m| < 2^17 fits
        // the int32 of each pair).
        let m16 = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(
            _mm_cvtsi64_si128(i64::from_le_bytes(m)),
            _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
        ));
        let (d, dmin) = (f16_at(block, 0), f16_at(block, 2));
        for (t, x) in xs.iter().enumerate() {
            // SAFETY: x.bsums has 16 values (32 bytes) at b * 16 because b < blocks.
            let bsums = unsafe { load32(x.bsums.as_ptr().add(b * 16) as *const u8) };
            let isum = hsum_epi32(acc[t]);
            let msum = hsum_epi32(_mm256_madd_epi16(bsums, m16));
            total[t] = q4k::accumulate(total[t], d, dmin, x.d[b], isum, msum);
        }
    }
    total
}

static NO_Q8: Q8Row = Q8Row {
    d: Vec::new(),
    s: Vec::new(),
    q: Vec::new(),
};
static NO_Q8K: Q8KRow = Q8KRow {
    d: Vec::new(),
    q: Vec::new(),
    bsums: Vec::new(),
};

/// The rows' Q8_K data when every row is quantized for Q4_K.
fn q8k_rows<const N: usize>(xs: [&ActRow; N]) -> Option<[&Q8KRow; N]> {
    let mut out = [&NO_Q8K; N];
    for (o, x) in out.iter_mut().zip(xs) {
        match x {
            ActRow::Q4K(r) => *o = r,
            _ => return None,
        }
    }
    Some(out)
}

/// The rows' Q8 data when every row is quantized for `format`.
fn q8_rows<const N: usize>(format: BlockFormat, xs: [&ActRow; N]) -> Option<[&Q8Row; N]> {
    let mut out = [&NO_Q8; N];
    for (o, x) in out.iter_mut().zip(xs) {
        match x {
            ActRow::Q8_0(r) | ActRow::Q4_0(r) | ActRow::Q4_1(r) if x.format() == format => *o = r,
            _ => return None,
        }
    }
    Some(out)
}

/// `N` block dots of one weight row with the table `M`; rows quantized for different formats (never
/// made by Linear) fall back to the scalar dots.
///
/// # Safety
/// AVX2, FMA, F16C and the table's features.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_rows<M: ByteDot, const N: usize>(w: &[u8], xs: [&ActRow; N]) -> [f32; N] {
    let Some(format) = xs.first().map(|x| x.format()) else {
        return [0.0; N];
    };
    // SAFETY: forwarded from the caller.
    unsafe {
        if let Some(rows) = q8k_rows(xs) {
            return dot_q4k::<M, N>(w, rows);
        }
        if let Some(rows) = q8_rows(format, xs) {
            return dot_blocks::<M, N>(format, w, rows);
        }
    }
    xs.map(|x| blocks::dot_row(w, x))
}

/// `blocks::dot_row` of one weight row with each of `N` activation rows, with AVX2.
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_rows_avx2<const N: usize>(w: &[u8], xs: [&ActRow; N]) -> [f32; N] {
    // SAFETY: the caller guarantees AVX2, FMA and F16C, all the Avx2 table needs.
    unsafe { dot_rows::<Avx2, N>(w, xs) }
}

/// `blocks::dot_row` of one weight row with each of `N` activation rows, with AVX-512 VNNI on 256-bit
/// registers.
///
/// # Safety
/// The CPU must support AVX2, FMA, F16C, AVX-512F, AVX-512VL and AVX-512 VNNI.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512vl,avx512vnni")]
pub unsafe fn dot_rows_vnni<const N: usize>(w: &[u8], xs: [&ActRow; N]) -> [f32; N] {
    // SAFETY: the caller guarantees every feature the Vnni table needs.
    unsafe { dot_rows::<Vnni, N>(w, xs) }
}
