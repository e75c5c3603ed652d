//! x86_64 AVX2 W8A8 product (int8 weights, int8 activations per token) without VNNI.
//!
//! Before this kernel, AVX2 machines multiplied every (token, output) pair with its own `dot_i8_avx2`
//! (each activation row reloaded per output, a horizontal sum per pair), which made `int8` prefill
//! slower than `f32` on them. Here both operands are widened to i16 (activations once per call,
//! weights once per micro-tile step) and `vpmaddwd` sums pairs of products into i32 lanes: a tile of
//! 3 tokens x 3 output rows keeps 9 accumulators, so each weight load feeds 3 products and each
//! activation load 3. The `vpmaddubsw` sign trick of `dot_i8_avx2` costs the same two multiplies per
//! 32 products but needs an extra `vpsignb` per pair; widening needs none. Products of values in
//! -127..=127 summed in i32 are exact, so the result is the scalar one bit for bit.

use std::arch::x86_64::*;

use super::x86::prefetch_next_l2;

/// Token rows per micro-tile.
pub const I8_TOKENS: usize = 3;
/// Weight rows per micro-tile.
pub const I8_ROWS: usize = 3;
/// Weight rows per column tile of the parallel product (a multiple of `I8_ROWS`): 24 rows of 576
/// inputs (SmolLM2, MiniLM's 384) stay in L1 while every token block passes over them.
pub const I8_TILE: usize = 24;
/// Inputs per step: one ymm of 16 i16.
const STEP: usize = 16;

/// Activations of the product: each token's int8 codes widened to i16 in rows of `in_padded` (a
/// multiple of 16, zeros past the input width), and each token's scale.
pub struct WideActivations<'a> {
    pub x: &'a [i16],
    pub tokens: usize,
    pub in_padded: usize,
    pub sx: &'a [f32],
}

/// Rows of int8 codes widened to i16, each padded with zeros to a multiple of 16.
pub fn widen_rows(q: &[i8], tokens: usize, in_f: usize) -> (Vec<i16>, usize) {
    let in_padded = in_f.div_ceil(STEP) * STEP;
    let mut x = vec![0i16; tokens * in_padded];
    for (dst, src) in x.chunks_exact_mut(in_padded.max(1)).zip(q.chunks_exact(in_f.max(1))) {
        dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s as i16);
    }
    (x, in_padded)
}

/// `rows` consecutive output channels of the W8A8 product, rescaled: for every token `t` and row
/// `r < rows`, `out[t * out_stride + r] = (sum_i x[t][i] * w[r][i]) as f32 * sx[t] * scale[r]`, the
/// scalar path's float steps. `w` holds the rows' int8 codes row-major (`in_f` each), and the bytes
/// right after them (the next tile's rows, if any) are asked into L2 while the first token block
/// streams these.
///
/// # Safety
/// The CPU must support AVX2; `w.len() >= rows * in_f`, `scale.len() >= rows`,
/// `acts.in_padded >= in_f` is a multiple of 16, `acts.x.len() >= tokens * in_padded`,
/// `acts.sx.len() >= tokens`, and `out` is valid for writes at `t * out_stride + r` for `t < tokens`,
/// `r < rows`, with no other thread writing there.
#[target_feature(enable = "avx2")]
pub unsafe fn gemm_i8_rows_avx2(
    acts: &WideActivations,
    w: &[i8],
    in_f: usize,
    scale: &[f32],
    rows: usize,
    out: *mut f32,
    out_stride: usize,
) {
    debug_assert!(w.len() >= rows * in_f && scale.len() >= rows);
    debug_assert!(acts.in_padded >= in_f && acts.in_padded.is_multiple_of(STEP));
    debug_assert!(acts.x.len() >= acts.tokens * acts.in_padded && acts.sx.len() >= acts.tokens);
    let mut t0 = 0;
    while t0 < acts.tokens {
        let tt = (acts.tokens - t0).min(I8_TOKENS);
        let mut r0 = 0;
        while r0 < rows {
            let rr = (rows - r0).min(I8_ROWS);
            let tile = Tile {
                acts,
                t0,
                w,
                r0,
                in_f,
                next: if t0 == 0 { Some(rows) } else { None },
            };
            // SAFETY: tokens t0 .. t0 + tt and rows r0 .. r0 + rr are the caller's.
            let sums = unsafe {
                match (tt, rr) {
                    (3, 3) => tile.sums::<3, 3>(),
                    (3, 2) => tile.sums::<3, 2>(),
                    (3, _) => tile.sums::<3, 1>(),
                    (2, 3) => tile.sums::<2, 3>(),
                    (2, 2) => tile.sums::<2, 2>(),
                    (2, _) => tile.sums::<2, 1>(),
                    (_, 3) => tile.sums::<1, 3>(),
                    (_, 2) => tile.sums::<1, 2>(),
                    _ => tile.sums::<1, 1>(),
                }
            };
            for (t, row) in sums.iter().enumerate().take(tt) {
                for (r, &acc) in row.iter().enumerate().take(rr) {
                    let y = acc as f32 * acts.sx[t0 + t] * scale[r0 + r];
                    // SAFETY: token t0 + t < tokens and row r0 + r < rows, the caller's writes.
                    unsafe { out.add((t0 + t) * out_stride + r0 + r).write(y) };
                }
            }
            r0 += rr;
        }
        t0 += tt;
    }
}

/// One micro-tile: tokens from `t0`, weight rows from `r0`.
struct Tile<'a> {
    acts: &'a WideActivations<'a>,
    t0: usize,
    w: &'a [i8],
    r0: usize,
    in_f: usize,
    /// Rows of the whole column tile, when this tile is in the first token block and asks for the
    /// next column tile's bytes (which start `rows * in_f` bytes after the first row).
    next: Option<usize>,
}

impl Tile<'_> {
    /// The exact i32 sums of `T` tokens x `R` rows, returned as `[[i32; 3]; 3]` (the first `T` x `R` live).
    ///
    /// # Safety
    /// The CPU must support AVX2; tokens `t0 .. t0 + T` and rows `r0 .. r0 + R` lie in the product.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn sums<const T: usize, const R: usize>(&self) -> [[i32; I8_ROWS]; I8_TOKENS] {
        let (in_f, in_padded) = (self.in_f, self.acts.in_padded);
        let xp = self.acts.x.as_ptr().wrapping_add(self.t0 * in_padded);
        let wp = self.w.as_ptr().wrapping_add(self.r0 * in_f);
        let full = in_f / STEP;
        let mut acc = [[_mm256_setzero_si256(); R]; T];
        for c in 0..full {
            if let Some(rows) = self.next {
                if c % 4 == 0 {
                    for r in 0..R {
                        prefetch_next_l2(wp, (rows + r) * in_f + c * STEP, 1);
                    }
                }
            }
            // SAFETY: row r0 + r < rows has in_f >= c * 16 + 16 bytes; a 16-byte unaligned load.
            let wv: [__m256i; R] = std::array::from_fn(|r| unsafe {
                _mm256_cvtepi8_epi16(_mm_loadu_si128(wp.add(r * in_f + c * STEP) as *const __m128i))
            });
            for (t, row) in acc.iter_mut().enumerate() {
                // SAFETY: token t0 + t has in_padded >= c * 16 + 16 widened codes.
                let xv = unsafe { _mm256_loadu_si256(xp.add(t * in_padded + c * STEP) as *const __m256i) };
                for (a, &wr) in row.iter_mut().zip(&wv) {
                    *a = _mm256_add_epi32(*a, _mm256_madd_epi16(wr, xv));
                }
            }
        }
        let mut sums = [[0i32; I8_ROWS]; I8_TOKENS];
        for t in 0..T {
            for r in 0..R {
                let mut s = hsum_epi32(acc[t][r]);
                for i in full * STEP..in_f {
                    // SAFETY: i < in_f <= in_padded: inside the token's row and the weight row.
                    s += unsafe { *xp.add(t * in_padded + i) as i32 * *wp.add(r * in_f + i) as i32 };
                }
                sums[t][r] = s;
            }
        }
        sums
    }
}

/// The sum of a register's eight i32 lanes (exact: wrapping adds of values whose sum fits).
#[inline]
#[target_feature(enable = "avx2")]
fn hsum_epi32(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01>(s));
    _mm_cvtsi128_si32(s)
}
