//! x86_64 SIMD twins of the llama.cpp block dots in `blocks` (32-weight formats Q8_0, Q4_0, Q4_1, Q5_0,
//! Q5_1, here; the K-quants in `x86_gguf_k`): AVX2 and AVX-512 VNNI (on 256-bit registers, with
//! AVX-512VL), int32 sums inside each block, one weight row against a tile of token rows.
//!
//! Per block the integer dot is exact, as in the scalar code. For the 32-weight formats every lane of
//! the block's int32 vector is scaled by `dw * dx` into a float accumulator (ggml's AVX2 order, not the
//! scalar one: results agree up to f32 rounding).
//!
//! Signed x signed bytes: AVX2 `vpmaddubsw` and VNNI `vpdpbusd` take one unsigned operand, so they
//! multiply `|w|` by `x * sign(w)`; weight codes of these formats lie in -127..=127 (Q8_0), -8..=7
//! (Q4_0) or -16..=15 (Q5_0), so `|w|` fits a byte and `vpmaddubsw` cannot saturate
//! (2 * 127 * 127 < 32767). The codes of Q4_1 and Q5_1 are unsigned already; the fifth bits of Q5_0 and
//! Q5_1 are spread from the 32-bit `qh` to bytes by a shuffle and a bit test.

use std::arch::x86_64::*;

use super::x86_bytes::{f16_at, hsum_ps, load32, Avx2, ByteDot, Vnni};
use super::x86_gguf_k;
use crate::engine::quant::blocks::q4k::Q8KRow;
use crate::engine::quant::blocks::{self, ActRow, BlockFormat, Q8Row, BLOCK};

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

/// 0x10 in byte `i` where bit `i` of `qh` is set, else 0: the fifth bits of a Q5_0 / Q5_1 block, placed
/// as `nibbles16` places the low four.
#[inline]
#[target_feature(enable = "avx2")]
fn fifth_bits(qh: u32) -> __m256i {
    // Byte i gets byte i / 8 of qh, then keeps bit i % 8.
    let spread = _mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
    );
    let bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(qh as i32), spread);
    let bit = _mm256_set1_epi64x(0x8040_2010_0804_0201u64 as i64);
    let set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
    _mm256_and_si256(set, _mm256_set1_epi8(0x10))
}

/// The 32-weight formats as a const parameter of `dot_blocks`, so that each format gets its own loop with
/// the unpacking chosen at compile time and no format test inside the block loop.
const Q8_0: u8 = 0;
const Q4_0: u8 = 1;
const Q4_1: u8 = 2;
const Q5_0: u8 = 3;
const Q5_1: u8 = 4;

/// 32-weight block weights (format `F`: Q8_0, Q4_0, Q4_1, Q5_0 or Q5_1) x `N` Q8 activation rows: each
/// weight block is loaded and unpacked once for all `N` rows. Even and odd blocks accumulate apart (two
/// float chains per row, summed at the end, as ggml's AVX2 dots do), so a single row (decode) does not
/// wait on one fused multiply-add chain. Each row's sums are the same as with `N = 1`.
///
/// # Safety
/// AVX2, FMA, F16C and the table's features.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_blocks<M: ByteDot, const N: usize, const F: u8>(w: &[u8], xs: [&Q8Row; N]) -> [f32; N] {
    let bytes = block_bytes::<F>();
    let blocks = xs.iter().fold(w.len() / bytes, |n, x| {
        n.min(x.d.len())
            .min(x.q.len() / BLOCK)
            .min(if F == Q4_1 || F == Q5_1 { x.s.len() } else { n })
    });
    let mut even = [_mm256_setzero_ps(); N];
    let mut odd = [_mm256_setzero_ps(); N];
    let mut mins = [0.0f32; N];
    let mut b = 0;
    while b + 1 < blocks {
        // SAFETY: b + 1 < blocks, which is at most the weight rows' and every activation row's block count.
        unsafe {
            block_step::<M, N, F>(w, &xs, b, &mut even, &mut mins);
            block_step::<M, N, F>(w, &xs, b + 1, &mut odd, &mut mins);
        }
        b += 2;
    }
    if b < blocks {
        // SAFETY: as above.
        unsafe { block_step::<M, N, F>(w, &xs, b, &mut even, &mut mins) };
    }
    let mut out = [0.0f32; N];
    for t in 0..N {
        out[t] = hsum_ps(_mm256_add_ps(even[t], odd[t])) + mins[t];
    }
    out
}

/// Bytes of one block of format `F`.
#[inline(always)]
fn block_bytes<const F: u8>() -> usize {
    match F {
        Q8_0 => BlockFormat::Q8_0,
        Q4_0 => BlockFormat::Q4_0,
        Q4_1 => BlockFormat::Q4_1,
        Q5_0 => BlockFormat::Q5_0,
        _ => BlockFormat::Q5_1,
    }
    .block_bytes()
}

/// Block `b` of weight row `w` (format `F`) against each of the `N` rows, into `acc` (and `mins`, the
/// minimum terms of the unsigned formats).
///
/// # Safety
/// AVX2, FMA, F16C and the table's features; `b` below the block count of `w` and of every row (scales,
/// minimum sums and codes).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn block_step<M: ByteDot, const N: usize, const F: u8>(
    w: &[u8],
    xs: &[&Q8Row; N],
    b: usize,
    acc: &mut [__m256; N],
    mins: &mut [f32; N],
) {
    let bytes = block_bytes::<F>();
    let signed = F == Q8_0 || F == Q4_0 || F == Q5_0;
    // SAFETY (every unchecked access below): the caller guarantees b is below every block count.
    let block = unsafe { w.get_unchecked(b * bytes..(b + 1) * bytes) };
    let qh = |at: usize| u32::from_le_bytes([block[at], block[at + 1], block[at + 2], block[at + 3]]);
    // SAFETY: every format's codes lie inside the block's bytes read here.
    let wv = unsafe {
        match F {
            Q8_0 => load32(block.as_ptr().add(2)),
            Q4_0 => _mm256_sub_epi8(nibbles16(block.as_ptr().add(2)), _mm256_set1_epi8(8)),
            Q5_0 => _mm256_sub_epi8(
                _mm256_or_si256(nibbles16(block.as_ptr().add(6)), fifth_bits(qh(2))),
                _mm256_set1_epi8(16),
            ),
            Q5_1 => _mm256_or_si256(nibbles16(block.as_ptr().add(8)), fifth_bits(qh(4))),
            _ => nibbles16(block.as_ptr().add(4)),
        }
    };
    // Signed codes: maddubs needs an unsigned left side, so |w| times sign(w)-adjusted x.
    let uw = if signed { _mm256_sign_epi8(wv, wv) } else { wv };
    let (dw, mw) = (f16_at(block, 0), if signed { 0.0 } else { f16_at(block, 2) });
    for (t, x) in xs.iter().enumerate() {
        // SAFETY: see above.
        let (lanes, xd) = unsafe {
            let xv = load32(x.q.as_ptr().add(b * BLOCK) as *const u8);
            (
                M::madd_u8i8(uw, if signed { _mm256_sign_epi8(xv, wv) } else { xv }),
                *x.d.get_unchecked(b),
            )
        };
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * xd), _mm256_cvtepi32_ps(lanes), acc[t]);
        if !signed {
            // SAFETY: see above.
            mins[t] += mw * unsafe { *x.s.get_unchecked(b) };
        }
    }
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
    if xs.iter().any(|x| x.format() != format) {
        return xs.map(|x| blocks::dot_row(w, x));
    }
    let q8k = xs.map(|x| x.q8k().unwrap_or(&NO_Q8K));
    // SAFETY: forwarded from the caller.
    unsafe {
        match format {
            BlockFormat::Q4K => x86_gguf_k::dot_q45k::<M, false, N>(w, q8k),
            BlockFormat::Q5K => x86_gguf_k::dot_q45k::<M, true, N>(w, q8k),
            BlockFormat::Q6K => x86_gguf_k::dot_q6k::<M, N>(w, q8k),
            BlockFormat::Q8_0 => dot_blocks::<M, N, Q8_0>(w, xs.map(|x| x.q8().unwrap_or(&NO_Q8))),
            BlockFormat::Q4_0 => dot_blocks::<M, N, Q4_0>(w, xs.map(|x| x.q8().unwrap_or(&NO_Q8))),
            BlockFormat::Q4_1 => dot_blocks::<M, N, Q4_1>(w, xs.map(|x| x.q8().unwrap_or(&NO_Q8))),
            BlockFormat::Q5_0 => dot_blocks::<M, N, Q5_0>(w, xs.map(|x| x.q8().unwrap_or(&NO_Q8))),
            BlockFormat::Q5_1 => dot_blocks::<M, N, Q5_1>(w, xs.map(|x| x.q8().unwrap_or(&NO_Q8))),
        }
    }
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
