//! The block-format matrix product on AVX2 (no VNNI): Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 weights, 8 output
//! rows per 256-bit register, up to 4 token rows per micro-tile.
//!
//! The weights use the layout of `x86_gguf_gemm` with groups of 8 rows (`pack(.., GROUP)`): per group and
//! block of 32 inputs, the 8 f16 scales (and Q4_1's 8 minimums), then per step of 4 inputs the 4 codes of
//! each of the 8 rows side by side, so one 32-bit lane holds one row and a step's 4 activation bytes are
//! broadcast to every lane. Prefill then costs per (step, token) one broadcast, one `vpmaddubsw` and one
//! add, where the per-row block dots (`x86_gguf`) pay a sign fix-up, a widening `vpmaddwd`, a conversion
//! and a horizontal sum per row and token; each weight step is unpacked once for all the tile's tokens.
//! This is the idea of ggml's repacked Q4_0 "8x8" AVX2 kernels (interleaved rows, activations broadcast),
//! re-derived here for this layout; no code is shared.
//!
//! Integer sums: 4-bit codes are used unsigned (0..=15), so `vpmaddubsw` (unsigned x signed bytes) takes
//! them as they are; a pair of products is at most 2 * 15 * 127 = 3810, and the 8 steps of a block sum to
//! at most 30480 < 2^15, so a block accumulates in 16-bit lanes and widens once. Q4_0's offset of 8 is
//! taken off as `8 * sum(x)` per block (`Activations::bias`), which is exact. The 5-bit formats add each step's fifth bits
//! (one 32-bit mask a step, spread to a byte per code) as 16 to the nibbles; their codes reach 31, so
//! their 16-bit lanes widen every half block (4 steps: 2 * 4 * 31 * 127 = 31496 < 2^15), and Q5_0's
//! offset of 16 comes off as `16 * sum(x)`. Gemma 3's Q4_K_M files store most of their projections as
//! Q5_0 (rows of 640 inputs cannot hold 256-weight super-blocks). Q8_0 codes are signed: `vpmaddubsw` takes `|w|`
//! against `x * sign(w)` (2 * 127 * 127 < 2^15 per pair) and widens every step. The float steps per block
//! are the scalar ones (`blocks::block_step`: `dw * dx * isum`, then `+ m * s`, in block order), without
//! fused multiply-adds, so results equal the scalar dots bit for bit.

use std::arch::x86_64::*;

use super::x86::prefetch_next_l2;
use super::x86_gguf_gemm::{header_bytes, stride, Activations};
use crate::engine::quant::blocks::{BlockFormat, BLOCK};

/// Output rows of a group: one 256-bit register of 32-bit lanes.
pub const GROUP: usize = 8;
/// Token rows per micro-tile at most (a tile of `T` holds `T` float and `T` integer accumulators).
pub const TOKENS: usize = 4;

/// True for the formats this product serves: the 32-weight block formats (the K-quants keep their dots).
pub fn supports(format: BlockFormat) -> bool {
    !format.is_k_quant()
}

/// One group of 8 output rows: `out[t * out_stride + c] = sum_b dw * dx * isum (+ m * s)` for every token
/// `t < acts.tokens` and row `c < cols`, blocks in order, as the scalar dot.
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C; `format` is one `supports` accepts; `group` holds `acts.blocks`
/// packed blocks of this format in groups of `GROUP`; `acts.q` holds `blocks * 32` codes for each of
/// `acts.tokens` rows, `d` and `s` an entry per (row, block) and, for Q4_0 and Q5_0, `bias` too; `cols <= 8`; `out` is valid for writes
/// at `t * out_stride + c` for `t < tokens`, `c < cols`, with no other thread writing there.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn gemm(
    format: BlockFormat,
    acts: &Activations,
    group: &[u8],
    cols: usize,
    out: *mut f32,
    out_stride: usize,
) {
    debug_assert!(supports(format) && cols <= GROUP);
    debug_assert!(group.len() == acts.blocks * stride(format, GROUP));
    debug_assert!(acts.q.len() >= acts.tokens * acts.blocks * BLOCK);
    let mut t0 = 0;
    while t0 < acts.tokens {
        let live = (acts.tokens - t0).min(TOKENS);
        // SAFETY: forwarded; tokens t0..t0 + live exist.
        unsafe {
            match (format, live) {
                (BlockFormat::Q8_0, 4) => tile_q8::<4>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q8_0, 3) => tile_q8::<3>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q8_0, 2) => tile_q8::<2>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q8_0, _) => tile_q8::<1>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q4_1, 4) => tile_q4::<4, true, false>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q4_1, 3) => tile_q4::<3, true, false>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q4_1, 2) => tile_q4::<2, true, false>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q4_1, _) => tile_q4::<1, true, false>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q5_0, 4) => tile_q4::<4, false, true>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q5_0, 3) => tile_q4::<3, false, true>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q5_0, 2) => tile_q4::<2, false, true>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q5_0, _) => tile_q4::<1, false, true>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q5_1, 4) => tile_q4::<4, true, true>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q5_1, 3) => tile_q4::<3, true, true>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q5_1, 2) => tile_q4::<2, true, true>(acts, group, t0, cols, out, out_stride),
                (BlockFormat::Q5_1, _) => tile_q4::<1, true, true>(acts, group, t0, cols, out, out_stride),
                (_, 4) => tile_q4::<4, false, false>(acts, group, t0, cols, out, out_stride),
                (_, 3) => tile_q4::<3, false, false>(acts, group, t0, cols, out, out_stride),
                (_, 2) => tile_q4::<2, false, false>(acts, group, t0, cols, out, out_stride),
                (_, _) => tile_q4::<1, false, false>(acts, group, t0, cols, out, out_stride),
            }
        }
        t0 += live;
    }
}

/// The 4 activation bytes at `row + at`, in every 32-bit lane.
///
/// # Safety
/// AVX2; `row + at .. + 4` readable.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn broadcast4(row: *const i8, at: usize) -> __m256i {
    // SAFETY: the caller guarantees the 4 bytes are readable; unaligned read.
    _mm256_set1_epi32(unsafe { (row.add(at) as *const i32).read_unaligned() })
}

/// Block `b`'s 8 scales (or, `at` = 16, minimums) of the group as f32 lanes.
///
/// # Safety
/// AVX2 and F16C; `base + at .. + 16` readable.
#[inline]
#[target_feature(enable = "avx2,f16c")]
unsafe fn halves(base: *const u8, at: usize) -> __m256 {
    // SAFETY: forwarded; unaligned 16-byte load.
    _mm256_cvtph_ps(unsafe { _mm_loadu_si128(base.add(at) as *const __m128i) })
}

/// One token's float term of a block, `(dw * dx) * isum`, then `+ m * s` (`min`), in the scalar dot's
/// order (`blocks::block_step`), added to `acc`.
#[inline]
#[target_feature(enable = "avx2")]
fn add_term(acc: __m256, dw: __m256, dx: f32, isum: __m256i, min: Option<(__m256, f32)>) -> __m256 {
    let mut term = _mm256_mul_ps(_mm256_mul_ps(dw, _mm256_set1_ps(dx)), _mm256_cvtepi32_ps(isum));
    if let Some((m, s)) = min {
        term = _mm256_add_ps(term, _mm256_mul_ps(m, _mm256_set1_ps(s)));
    }
    _mm256_add_ps(acc, term)
}

/// Where the tile's tokens (`t0..t0 + T`) keep their codes, scales, sums and `s` terms: raw pointers to
/// token `t0`'s entries and the distance between tokens. Pointers and one stride rather than a slice per
/// token and field: with `T` = 4 the slices' bounds and lengths took more registers than x86 has, and the
/// spills and bounds tests cost the block loop a third of its time.
struct Rows {
    q: *const i8,
    d: *const f32,
    s: *const f32,
    bias: *const i32,
    /// Blocks per token row.
    n: usize,
}

impl Rows {
    /// Token `t0`'s entries; reading them is the accessors' business (`q` is only an address).
    fn new(acts: &Activations, t0: usize) -> Self {
        let n = acts.blocks;
        // wrapping_add: s and sum may be empty for formats that never read them.
        Rows {
            q: acts.q.as_ptr().wrapping_add(t0 * n * BLOCK),
            d: acts.d.as_ptr().wrapping_add(t0 * n),
            s: acts.s.as_ptr().wrapping_add(t0 * n),
            bias: acts.bias.as_ptr().wrapping_add(t0 * n),
            n,
        }
    }

    /// Token `t`'s codes of block `b`.
    #[inline(always)]
    fn q(&self, t: usize, b: usize) -> *const i8 {
        self.q.wrapping_add((t * self.n + b) * BLOCK)
    }

    /// # Safety
    /// Token `t0 + t` and block `b` exist in `acts.d`.
    #[inline(always)]
    unsafe fn d(&self, t: usize, b: usize) -> f32 {
        // SAFETY: forwarded.
        unsafe { *self.d.add(t * self.n + b) }
    }

    /// # Safety
    /// Token `t0 + t` and block `b` exist in `acts.s`.
    #[inline(always)]
    unsafe fn s(&self, t: usize, b: usize) -> f32 {
        // SAFETY: forwarded.
        unsafe { *self.s.add(t * self.n + b) }
    }

    /// # Safety
    /// Token `t0 + t` and block `b` exist in `acts.bias`.
    #[inline(always)]
    unsafe fn bias(&self, t: usize, b: usize) -> i32 {
        // SAFETY: forwarded.
        unsafe { *self.bias.add(t * self.n + b) }
    }
}

/// Stores each token's 8 lanes (the first `cols`) at its output row.
///
/// # Safety
/// AVX2; `out + (t0 + t) * out_stride .. + cols` writable for `t < T`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn store<const T: usize>(facc: &[__m256; T], t0: usize, cols: usize, out: *mut f32, out_stride: usize) {
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols as i32), lanes);
    for (t, f) in facc.iter().enumerate() {
        // SAFETY: the masked lanes are the group's rows below cols of token t0 + t.
        unsafe { _mm256_maskstore_ps(out.add((t0 + t) * out_stride), mask, *f) };
    }
}

/// The 32 bytes of one step's codes that have their fifth bit set (`mask` bit `j` for byte `j`: row
/// `j / 4`, input `j % 4`, as `x86_gguf_gemm::pack` sets them) hold 16, the others 0.
#[inline]
#[target_feature(enable = "avx2")]
fn fifth_bits(mask: u32) -> __m256i {
    // Byte j takes mask byte j / 8 (within each 128-bit lane the broadcast holds all four), then its bit j % 8.
    let spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(mask as i32),
        _mm256_setr_epi8(
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
        ),
    );
    let bits = _mm256_set1_epi64x(0x8040_2010_0804_0201u64 as i64);
    let set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bits), bits);
    _mm256_and_si256(set, _mm256_set1_epi8(16))
}

/// The 4- and 5-bit formats for `T` tokens: Q4_0 (codes offset by 8), Q4_1 (`WITH_MIN`, a minimum per
/// block), Q5_0 (`FIVE`, offset by 16) and Q5_1 (`WITH_MIN` and `FIVE`).
///
/// # Safety
/// As `gemm`, for tokens `t0..t0 + T`.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn tile_q4<const T: usize, const WITH_MIN: bool, const FIVE: bool>(
    acts: &Activations,
    group: &[u8],
    t0: usize,
    cols: usize,
    out: *mut f32,
    out_stride: usize,
) {
    let format = match (WITH_MIN, FIVE) {
        (false, false) => BlockFormat::Q4_0,
        (true, false) => BlockFormat::Q4_1,
        (false, true) => BlockFormat::Q5_0,
        (true, true) => BlockFormat::Q5_1,
    };
    let (header, st) = (header_bytes(format, GROUP), stride(format, GROUP));
    // The fifth-bit masks follow the block's 16 bytes of nibbles per row, 4 bytes a step.
    let masks_at = header + BLOCK * GROUP / 2;
    let (nibble, ones) = (_mm256_set1_epi8(0x0f), _mm256_set1_epi16(1));
    let rows = Rows::new(acts, t0);
    let mut facc = [_mm256_setzero_ps(); T];
    for b in 0..acts.blocks {
        // SAFETY (loads from base): block b of the group spans st bytes at b * st, inside group.
        let base = unsafe { group.as_ptr().add(b * st) };
        // The next group of rows (right after this one) asked for while this one streams in, when one
        // tile is all there is (decoding): the group then comes from memory and feeds only a few tokens.
        // With more tokens the group is reused from cache and the hint only takes room: on an AMD EPYC
        // (where T1 hints fill L1 too) a 64-sequence decode lost 9% with it (Q4_1, 262 vs 290 tok/s,
        // 10 alternated rounds) and one token gained 19-23%.
        if acts.tokens <= TOKENS {
            prefetch_next_l2(group.as_ptr(), (acts.blocks + b) * st, st.div_ceil(64));
        }
        let mut acc16 = [_mm256_setzero_si256(); T];
        let mut acc32 = [_mm256_setzero_si256(); T];
        for pair in 0..BLOCK / 8 {
            // SAFETY: the 32 code bytes of this pair of steps lie inside the block's st bytes.
            let raw = unsafe { _mm256_loadu_si256(base.add(header + pair * 32) as *const __m256i) };
            let mut lo = _mm256_and_si256(raw, nibble);
            let mut hi = _mm256_and_si256(_mm256_srli_epi16::<4>(raw), nibble);
            if FIVE {
                // SAFETY: the masks of steps 2 pair and 2 pair + 1 lie inside the block's st bytes.
                let (m_lo, m_hi) = unsafe {
                    let masks = base.add(masks_at + pair * 8) as *const u32;
                    (masks.read_unaligned(), masks.add(1).read_unaligned())
                };
                lo = _mm256_add_epi8(lo, fifth_bits(m_lo));
                hi = _mm256_add_epi8(hi, fifth_bits(m_hi));
            }
            for (t, a) in acc16.iter_mut().enumerate() {
                // SAFETY: steps 2 pair and 2 pair + 1 of block b lie in the token's row.
                let (x0, x1) = unsafe {
                    let row = rows.q(t, b);
                    (broadcast4(row, pair * 8), broadcast4(row, pair * 8 + 4))
                };
                *a = _mm256_add_epi16(*a, _mm256_maddubs_epi16(lo, x0));
                *a = _mm256_add_epi16(*a, _mm256_maddubs_epi16(hi, x1));
            }
            if FIVE && pair % 2 == 1 {
                for (w, a) in acc32.iter_mut().zip(acc16.iter_mut()) {
                    *w = _mm256_add_epi32(*w, _mm256_madd_epi16(*a, ones));
                    *a = _mm256_setzero_si256();
                }
            }
        }
        // SAFETY: the scales (and Q4_1's minimums after them) open the block.
        let (dw, m) = unsafe {
            (
                halves(base, 0),
                if WITH_MIN {
                    halves(base, 2 * GROUP)
                } else {
                    _mm256_setzero_ps()
                },
            )
        };
        for (t, (f, a)) in facc.iter_mut().zip(&acc16).enumerate() {
            let mut isum = if FIVE { acc32[t] } else { _mm256_madd_epi16(*a, ones) };
            // SAFETY: token t0 + t has d, s (read with a minimum) and sum (read without) for block b.
            unsafe {
                if !WITH_MIN {
                    isum = _mm256_sub_epi32(isum, _mm256_set1_epi32(rows.bias(t, b)));
                }
                let min = if WITH_MIN { Some((m, rows.s(t, b))) } else { None };
                *f = add_term(*f, dw, rows.d(t, b), isum, min);
            }
        }
    }
    // SAFETY: forwarded from the caller.
    unsafe { store(&facc, t0, cols, out, out_stride) };
}

/// Q8_0 for `T` tokens (codes stored as `q + 128` by `pack`).
///
/// # Safety
/// As `gemm`, for tokens `t0..t0 + T`.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn tile_q8<const T: usize>(
    acts: &Activations,
    group: &[u8],
    t0: usize,
    cols: usize,
    out: *mut f32,
    out_stride: usize,
) {
    let (header, st) = (header_bytes(BlockFormat::Q8_0, GROUP), stride(BlockFormat::Q8_0, GROUP));
    let (flip, ones) = (_mm256_set1_epi8(-128), _mm256_set1_epi16(1));
    let rows = Rows::new(acts, t0);
    let mut facc = [_mm256_setzero_ps(); T];
    for b in 0..acts.blocks {
        // SAFETY (loads from base): block b of the group spans st bytes at b * st, inside group.
        let base = unsafe { group.as_ptr().add(b * st) };
        // As in `tile_q4`.
        if acts.tokens <= TOKENS {
            prefetch_next_l2(group.as_ptr(), (acts.blocks + b) * st, st.div_ceil(64));
        }
        let mut isum = [_mm256_setzero_si256(); T];
        for step in 0..BLOCK / 4 {
            // SAFETY: the 32 code bytes of this step lie inside the block's st bytes.
            let w = _mm256_xor_si256(
                unsafe { _mm256_loadu_si256(base.add(header + step * 32) as *const __m256i) },
                flip,
            );
            let magnitude = _mm256_sign_epi8(w, w);
            for (t, a) in isum.iter_mut().enumerate() {
                // SAFETY: step < 8 of block b lies in the token's row.
                let x = unsafe { broadcast4(rows.q(t, b), step * 4) };
                let pairs = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(x, w));
                *a = _mm256_add_epi32(*a, _mm256_madd_epi16(pairs, ones));
            }
        }
        // SAFETY: the scales open the block.
        let dw = unsafe { halves(base, 0) };
        for (t, (f, i)) in facc.iter_mut().zip(&isum).enumerate() {
            // SAFETY: token t0 + t has a scale for block b.
            *f = add_term(*f, dw, unsafe { rows.d(t, b) }, *i, None);
        }
    }
    // SAFETY: forwarded from the caller.
    unsafe { store(&facc, t0, cols, out, out_stride) };
}
