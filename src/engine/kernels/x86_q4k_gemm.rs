//! A matrix product for llama.cpp's Q4_K on AVX-512 VNNI: many token rows at once instead of one
//! super-block dot per (row, token) pair.
//!
//! Weights are re-laid out once at load (`pack`): groups of 16 output rows, and per group and
//! super-block of 256 inputs, the 16 f16 `d` and 16 f16 `dmin`, the 6-bit sub-block scales and
//! minimums unpacked to one byte each (`[sub-block][row]`, 2.8% more bytes than ggml's 12-byte
//! packing), then the 4-bit codes, 4 inputs of each of the 16 rows side by side and two steps of 4
//! inputs per byte (low and high nibble), as `vpdpbusd` reads them. Per super-block the integer sums
//! `sum_j sc[j] * sum(code * q)` and `sum_j m[j] * sum(q of j)` are exact, and the float steps are
//! those of `q4k::accumulate`, so results equal `q4k::dot_row` bit for bit.

use std::arch::x86_64::*;

use super::x86::{broadcast4, lane_masks, prefetch_next_l2};

use crate::engine::quant::blocks::q4k::{self, BLOCK_BYTES, QK_K};

/// Output rows of a group: one 512-bit register of lanes.
pub const GROUP: usize = 16;
/// Token rows per micro-tile (6 x (sub-block, super-block and float) accumulators).
pub const TOKENS: usize = 6;
/// Sub-blocks of 32 inputs in a super-block.
const SUBS: usize = QK_K / 32;
/// Byte offsets inside one packed (group, super-block).
const MINS_AT: usize = 2 * GROUP;
const SC_AT: usize = 4 * GROUP;
const M_AT: usize = SC_AT + SUBS * GROUP;
const CODES_AT: usize = M_AT + SUBS * GROUP;
/// Bytes of one packed (group, super-block).
pub const STRIDE: usize = CODES_AT + QK_K * GROUP / 2;

/// Code (0..15) of input `i` of a ggml Q4_K block.
fn code(block: &[u8], i: usize) -> u8 {
    let (c, r) = (i / 64, i % 64);
    let qs = &block[16..];
    if r < 32 {
        qs[c * 32 + r] & 0x0f
    } else {
        qs[c * 32 + r - 32] >> 4
    }
}

/// Position of input `i`'s code in a packed super-block, and its nibble shift.
fn code_at(lane: usize, i: usize) -> (usize, u32) {
    let (j, step, k) = (i / 32, (i % 32) / 4, i % 4);
    (
        CODES_AT + j * 256 + (step / 2) * 64 + lane * 4 + k,
        4 * (step % 2) as u32,
    )
}

/// Re-lays out `out_f` rows of Q4_K super-blocks (`row_bytes` each) for `gemm`; rows past `out_f` up to
/// a whole group are zero.
pub fn pack(data: &[u8], row_bytes: usize, out_f: usize) -> Vec<u8> {
    let blocks = row_bytes / BLOCK_BYTES;
    let mut packed = vec![0u8; out_f.div_ceil(GROUP) * blocks * STRIDE];
    for o in 0..out_f {
        let (g, lane) = (o / GROUP, o % GROUP);
        for b in 0..blocks {
            let block = &data[o * row_bytes + b * BLOCK_BYTES..o * row_bytes + (b + 1) * BLOCK_BYTES];
            let dst = &mut packed[(g * blocks + b) * STRIDE..(g * blocks + b + 1) * STRIDE];
            dst[lane * 2..lane * 2 + 2].copy_from_slice(&block[..2]);
            dst[MINS_AT + lane * 2..MINS_AT + lane * 2 + 2].copy_from_slice(&block[2..4]);
            for j in 0..SUBS {
                let (sc, m) = q4k::scale_min(j, &block[4..16]);
                dst[SC_AT + j * GROUP + lane] = sc;
                dst[M_AT + j * GROUP + lane] = m;
            }
            for i in 0..QK_K {
                let (at, shift) = code_at(lane, i);
                dst[at] |= code(block, i) << shift;
            }
        }
    }
    packed
}

/// Inverse of `pack`: `out_f` rows of ggml Q4_K super-blocks, `blocks` a row.
pub fn unpack(packed: &[u8], blocks: usize, out_f: usize) -> Vec<u8> {
    let row_bytes = blocks * BLOCK_BYTES;
    let mut data = vec![0u8; out_f * row_bytes];
    for (o, row) in data.chunks_exact_mut(row_bytes.max(1)).enumerate().take(out_f) {
        unpack_row(packed, blocks, o, row);
    }
    data
}

/// Row `o` of `unpack` alone, written into `row` (`blocks` ggml super-blocks): a tied embedding table
/// looks its rows up in the packed output head instead of keeping the file's copy resident.
pub fn unpack_row(packed: &[u8], blocks: usize, o: usize, row: &mut [u8]) {
    let (g, lane) = (o / GROUP, o % GROUP);
    for (b, block) in row.chunks_exact_mut(BLOCK_BYTES).enumerate().take(blocks) {
        // The scales and codes below are or-ed in.
        block.fill(0);
        let src = &packed[(g * blocks + b) * STRIDE..(g * blocks + b + 1) * STRIDE];
        block[..2].copy_from_slice(&src[lane * 2..lane * 2 + 2]);
        block[2..4].copy_from_slice(&src[MINS_AT + lane * 2..MINS_AT + lane * 2 + 2]);
        // ggml's 12-byte packing of eight 6-bit scales and minimums (the inverse of `scale_min`).
        for j in 0..SUBS {
            let (sc, m) = (src[SC_AT + j * GROUP + lane], src[M_AT + j * GROUP + lane]);
            let s = &mut block[4..16];
            if j < 4 {
                s[j] |= sc;
                s[j + 4] |= m;
            } else {
                s[j + 4] |= (sc & 0x0f) | ((m & 0x0f) << 4);
                s[j - 4] |= (sc >> 4) << 6;
                s[j] |= (m >> 4) << 6;
            }
        }
        for i in 0..QK_K {
            let (at, shift) = code_at(lane, i);
            let u = (src[at] >> shift) & 0x0f;
            let (c, r) = (i / 64, i % 64);
            if r < 32 {
                block[16 + c * 32 + r] |= u;
            } else {
                block[16 + c * 32 + r - 32] |= u << 4;
            }
        }
    }
}

/// Q8_K activations of every token row, as `gemm` reads them: codes in rows of `blocks * 256` (the
/// row count rounded up to a multiple of `TOKENS` with zero rows), per (row, super-block) the scale,
/// and per (row, super-block, sub-block) the sum of the sub-block's 32 codes.
pub struct Activations<'a> {
    pub q: &'a [i8],
    pub d: &'a [f32],
    pub sub_sums: &'a [i32],
    pub tokens: usize,
    pub blocks: usize,
}

/// 16 unsigned bytes widened to the 16 i32 lanes.
///
/// # Safety
/// The CPU must support AVX-512F; 16 bytes at `p` must be readable.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn widen16(p: *const u8) -> __m512i {
    // SAFETY: the caller guarantees the 16 bytes are readable.
    _mm512_cvtepu8_epi32(unsafe { _mm_loadu_si128(p as *const __m128i) })
}

/// One group of 16 output rows of the Q4_K product for every token, super-blocks in order, as
/// `q4k::dot_row`. Token rows go 6 at a time; the last tile (a one-token decode's whole product)
/// multiplies only as many rows as it has, rounded up to 1, 2, 3 or 6, not the padding's zero rows.
///
/// # Safety
/// The CPU must support AVX-512F, AVX-512BW and AVX-512 VNNI; `group` holds `acts.blocks` packed
/// super-blocks; `acts.q` holds `blocks * 256` codes for each of `tokens.div_ceil(TOKENS) * TOKENS`
/// rows, `d` an entry per (row < tokens, super-block) and `sub_sums` 8; `cols <= 16`; `out` is valid
/// for writes at `t * out_stride + c` for `t < tokens`, `c < cols`, with no other thread writing there.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub unsafe fn gemm(acts: &Activations, group: &[u8], cols: usize, out: *mut f32, out_stride: usize) {
    let tokens = acts.tokens;
    debug_assert!(
        group.len() == acts.blocks * STRIDE && acts.q.len() >= tokens.div_ceil(TOKENS) * TOKENS * acts.blocks * QK_K
    );
    for t0 in (0..tokens).step_by(TOKENS) {
        let live = (tokens - t0).min(TOKENS);
        // SAFETY: the caller's guarantees; a tile of T rows from t0 stays inside the rows padded to a
        // multiple of TOKENS (t0 is one, and T <= TOKENS), and stores only its first `live`.
        unsafe {
            match live {
                1 => tile::<1>(acts, group, cols, out, out_stride, t0, live),
                2 => tile::<2>(acts, group, cols, out, out_stride, t0, live),
                3 => tile::<3>(acts, group, cols, out, out_stride, t0, live),
                _ => tile::<TOKENS>(acts, group, cols, out, out_stride, t0, live),
            }
        }
    }
}

/// Token rows `t0 .. t0 + T` of `gemm`, the first `live` stored.
///
/// # Safety
/// As `gemm`'s, with `live <= T` and rows `t0 .. t0 + T` inside the padded activation codes.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn tile<const T: usize>(
    acts: &Activations,
    group: &[u8],
    cols: usize,
    out: *mut f32,
    out_stride: usize,
    t0: usize,
    live: usize,
) {
    let blocks = acts.blocks;
    let width = blocks * QK_K;
    let nibble = _mm512_set1_epi8(0x0f);
    let [mask] = lane_masks::<1>(cols.min(GROUP));
    let (xp, gp) = (acts.q.as_ptr(), group.as_ptr());
    let mut facc = [_mm512_setzero_ps(); T];
    for b in 0..blocks {
        // SAFETY (all loads from base): super-block b of the group spans STRIDE bytes at b * STRIDE.
        let base = unsafe { gp.add(b * STRIDE) };
        // The next group of rows (right after this one) into L2 meanwhile, super-block by super-block.
        if t0 == 0 {
            prefetch_next_l2(gp, (blocks + b) * STRIDE, STRIDE.div_ceil(64));
        }
        let mut isum = [_mm512_setzero_si512(); T];
        for j in 0..SUBS {
            let mut sub = [_mm512_setzero_si512(); T];
            for v in 0..4 {
                // SAFETY: 64 code bytes of this pair of steps lie inside the super-block.
                let raw = unsafe { _mm512_loadu_si512(base.add(CODES_AT + j * 256 + v * 64) as *const __m512i) };
                let lo = _mm512_and_si512(raw, nibble);
                let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(raw), nibble);
                for (t, a) in sub.iter_mut().enumerate() {
                    // SAFETY: row t0 + t is inside the padded codes; steps 2v, 2v + 1 < 8 of sub-block j.
                    let row = unsafe { xp.add((t0 + t) * width + b * QK_K + j * 32) };
                    *a = _mm512_dpbusd_epi32(*a, lo, unsafe { broadcast4(row, 2 * v) });
                    *a = _mm512_dpbusd_epi32(*a, hi, unsafe { broadcast4(row, 2 * v + 1) });
                }
            }
            // SAFETY: 16 scale bytes of sub-block j.
            let sc = unsafe { widen16(base.add(SC_AT + j * GROUP)) };
            for (i, s) in isum.iter_mut().zip(&sub) {
                *i = _mm512_add_epi32(*i, _mm512_mullo_epi32(*s, sc));
            }
        }
        // SAFETY: 16 f16 `d` and 16 f16 `dmin` at the start of the super-block.
        let d = _mm512_cvtph_ps(unsafe { _mm256_loadu_si256(base as *const __m256i) });
        let dmin = _mm512_cvtph_ps(unsafe { _mm256_loadu_si256(base.add(MINS_AT) as *const __m256i) });
        for (t, (f, i)) in facc.iter_mut().zip(&isum).enumerate().take(live) {
            let at = (t0 + t) * blocks + b;
            let mut msum = _mm512_setzero_si512();
            for j in 0..SUBS {
                // SAFETY: 16 minimum bytes of sub-block j.
                let m = unsafe { widen16(base.add(M_AT + j * GROUP)) };
                msum = _mm512_add_epi32(
                    msum,
                    _mm512_mullo_epi32(m, _mm512_set1_epi32(acts.sub_sums[at * SUBS + j])),
                );
            }
            let yd = _mm512_set1_ps(acts.d[at]);
            let plus = _mm512_mul_ps(_mm512_mul_ps(d, yd), _mm512_cvtepi32_ps(*i));
            let minus = _mm512_mul_ps(_mm512_mul_ps(dmin, yd), _mm512_cvtepi32_ps(msum));
            *f = _mm512_sub_ps(_mm512_add_ps(*f, plus), minus);
        }
    }
    for (t, f) in facc.iter().enumerate().take(live) {
        // SAFETY: the masked lanes are rows below cols of token t0 + t < tokens.
        unsafe { _mm512_mask_storeu_ps(out.add((t0 + t) * out_stride), mask, *f) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::quant::blocks::{self, BlockFormat};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn packing_round_trips_every_byte() {
        let mut rng = StdRng::seed_from_u64(5);
        for &(out_f, blocks) in &[(1, 1), (5, 2), (16, 1), (17, 2), (33, 1)] {
            let mut data = Vec::new();
            let mut row = vec![0.0f32; blocks * QK_K];
            for _ in 0..out_f {
                row.iter_mut().for_each(|v| *v = rng.random_range(-2.0f32..2.0));
                blocks::quantize(BlockFormat::Q4K, &row, &mut data);
            }
            let packed = pack(&data, blocks * BLOCK_BYTES, out_f);
            assert_eq!(packed.len(), out_f.div_ceil(GROUP) * blocks * STRIDE);
            assert_eq!(unpack(&packed, blocks, out_f), data, "{out_f}x{blocks}");
            // One row at a time, into a buffer holding other bytes.
            let row_bytes = blocks * BLOCK_BYTES;
            for o in 0..out_f {
                let mut row = vec![0xa5u8; row_bytes];
                unpack_row(&packed, blocks, o, &mut row);
                assert_eq!(row, data[o * row_bytes..(o + 1) * row_bytes], "row {o}");
            }
        }
    }
}
