//! A matrix product for llama.cpp's 32-weight block formats (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) on AVX-512
//! VNNI: many token rows at once instead of one block dot per (row, token) pair.
//!
//! Weights are re-laid out once at load (`pack`): groups of 16 output rows, and per group and block of
//! 32 inputs, the 16 f16 scales (and Q4_1's / Q5_1's 16 minimums) followed by the codes as unsigned
//! bytes, 4 inputs of each of the 16 rows side by side, as `vpdpbusd` reads them. Q8_0 codes are stored
//! as `q + 128`; 4-bit codes (and the low 4 bits of 5-bit codes) stay packed two to a byte (the low
//! nibble holds one step of 4 inputs, the high nibble the next); the fifth bits of a step's 64 codes
//! form one 64-bit mask, added back as 16 with a masked byte add. So the layout costs the same bytes as
//! ggml's. With activations `x` as signed Q8 codes, each block's integer sum is
//! `sum(u * x) - offset * sum(x)` with offset 128 (Q8_0), 8 (Q4_0), 16 (Q5_0) or 0 (Q4_1, Q5_1),
//! exactly the scalar `sum(w * x)`; the float steps per block are the scalar ones, in block order, so
//! results equal `blocks::dot_row` bit for bit.

use std::arch::x86_64::*;

use super::x86::{broadcast4, lane_masks, prefetch_next_l2};

use crate::engine::quant::blocks::{q5, BlockFormat, BLOCK};

/// Output rows of a group: one 512-bit register of lanes.
pub const GROUP: usize = 16;
/// Token rows per micro-tile (8 integer and 8 float accumulators).
pub const TOKENS: usize = 8;

/// True for the formats with an f16 minimum after the scale.
fn has_min(format: BlockFormat) -> bool {
    matches!(format, BlockFormat::Q4_1 | BlockFormat::Q5_1)
}

/// True for the 5-bit formats (a fifth-bit mask per step after the nibbles).
fn five_bit(format: BlockFormat) -> bool {
    matches!(format, BlockFormat::Q5_0 | BlockFormat::Q5_1)
}

/// Bytes of a group's scales (and minimums) for one block, `group` rows a group.
pub(super) fn header_bytes(format: BlockFormat, group: usize) -> usize {
    if has_min(format) {
        4 * group
    } else {
        2 * group
    }
}

/// Bytes of a group's codes (and fifth-bit masks) for one block.
fn code_bytes(format: BlockFormat, group: usize) -> usize {
    match format {
        BlockFormat::Q8_0 => BLOCK * group,
        f if five_bit(f) => BLOCK * group / 2 + mask_bytes(group),
        _ => BLOCK * group / 2,
    }
}

/// Bytes of the fifth-bit masks of a group and block: `4 * group` bits per step of 4 inputs.
fn mask_bytes(group: usize) -> usize {
    BLOCK / 4 * group / 2
}

/// Bytes of one group and block in the packed layout, `group` rows a group (16 for this product, 8 for
/// the AVX2 one in `x86_gguf_gemm_avx2`, which reads the same layout on half-width registers).
pub fn stride(format: BlockFormat, group: usize) -> usize {
    header_bytes(format, group) + code_bytes(format, group)
}

/// True for the formats this product serves.
pub fn supports(format: BlockFormat) -> bool {
    !format.is_k_quant()
}

/// Offset of the codes in a ggml block of `format`.
fn codes_at(format: BlockFormat) -> usize {
    match format {
        BlockFormat::Q5_0 => 6,
        BlockFormat::Q5_1 => 8,
        f if has_min(f) => 4,
        _ => 2,
    }
}

/// Unsigned codes of the 32 inputs of a ggml block (Q8_0's as `q + 128`).
fn block_codes(format: BlockFormat, block: &[u8]) -> [u8; BLOCK] {
    let at = codes_at(format);
    match format {
        BlockFormat::Q8_0 => std::array::from_fn(|i| block[at + i] ^ 0x80),
        f if five_bit(f) => q5::codes(&block[at - 4..]),
        _ => std::array::from_fn(|i| {
            let qs = &block[at..];
            if i < BLOCK / 2 {
                qs[i] & 0x0f
            } else {
                qs[i - BLOCK / 2] >> 4
            }
        }),
    }
}

/// Writes unsigned `codes` into a ggml block of `format` (the inverse of `block_codes`).
fn write_block_codes(format: BlockFormat, codes: &[u8; BLOCK], block: &mut [u8]) {
    let at = codes_at(format);
    match format {
        BlockFormat::Q8_0 => (0..BLOCK).for_each(|i| block[at + i] = codes[i] ^ 0x80),
        f if five_bit(f) => {
            let mut bytes = Vec::with_capacity(4 + BLOCK / 2);
            q5::pack(codes, &mut bytes);
            block[at - 4..at + BLOCK / 2].copy_from_slice(&bytes);
        }
        _ => (0..BLOCK / 2).for_each(|j| block[at + j] = codes[j] | (codes[j + BLOCK / 2] << 4)),
    }
}

/// Position of input `i`'s code in a group's code bytes, and the nibble shift (4- and 5-bit formats).
fn code_at(format: BlockFormat, group: usize, lane: usize, i: usize) -> (usize, u32) {
    let (step, k) = (i / 4, i % 4);
    if format == BlockFormat::Q8_0 {
        (step * 4 * group + lane * 4 + k, 0)
    } else {
        ((step / 2) * 4 * group + lane * 4 + k, 4 * (step % 2) as u32)
    }
}

/// Byte and bit of input `i`'s fifth bit in a group's masks (5-bit formats): bit `4 * lane + k` of the
/// step's mask (`4 * group` bits), `k = i % 4`, matching the code's byte in the step's code bytes.
fn mask_at(group: usize, lane: usize, i: usize) -> (usize, u32) {
    let bit = lane * 4 + i % 4;
    (BLOCK * group / 2 + (i / 4) * group / 2 + bit / 8, (bit % 8) as u32)
}

/// Rows read between two calls of `pack`'s `done` (about 4 MiB).
const DONE_BYTES: usize = 4 << 20;

/// Re-lays out `out_f` rows of ggml blocks (`row_bytes` each) in groups of `group` rows (`GROUP` for
/// `gemm`); rows past `out_f` up to a whole group are zero (scale 0). `done` is handed the rows read so
/// far every few MiB, in order (a mapped file's pages can be given back before the rest is read).
pub fn pack(
    format: BlockFormat,
    data: &[u8],
    row_bytes: usize,
    out_f: usize,
    group: usize,
    done: &mut dyn FnMut(&[u8]),
) -> Vec<u8> {
    let (bb, blocks) = (format.block_bytes(), row_bytes / format.block_bytes());
    let (header, st) = (header_bytes(format, group), stride(format, group));
    let mut packed = vec![0u8; out_f.div_ceil(group) * blocks * st];
    let mut read_from = 0;
    for o in 0..out_f {
        let end = (o + 1) * row_bytes;
        if end - read_from >= DONE_BYTES || o + 1 == out_f {
            // Row o is read below; rows before it are done.
            done(&data[read_from..o * row_bytes]);
            read_from = o * row_bytes;
        }
        let (g, lane) = (o / group, o % group);
        for b in 0..blocks {
            let block = &data[o * row_bytes + b * bb..o * row_bytes + (b + 1) * bb];
            let dst = &mut packed[(g * blocks + b) * st..(g * blocks + b + 1) * st];
            dst[lane * 2..lane * 2 + 2].copy_from_slice(&block[..2]);
            if has_min(format) {
                dst[2 * group + lane * 2..2 * group + lane * 2 + 2].copy_from_slice(&block[2..4]);
            }
            for (i, &c) in block_codes(format, block).iter().enumerate() {
                let (at, shift) = code_at(format, group, lane, i);
                if format == BlockFormat::Q8_0 {
                    dst[header + at] = c;
                } else {
                    dst[header + at] |= (c & 0x0f) << shift;
                }
                if five_bit(format) {
                    let (at, bit) = mask_at(group, lane, i);
                    dst[header + at] |= (c >> 4) << bit;
                }
            }
        }
    }
    done(&data[read_from..out_f * row_bytes]);
    packed
}

/// Inverse of `pack` (groups of `group` rows): `out_f` rows of ggml blocks, `blocks` a row.
pub fn unpack(format: BlockFormat, packed: &[u8], blocks: usize, out_f: usize, group: usize) -> Vec<u8> {
    let row_bytes = blocks * format.block_bytes();
    let mut data = vec![0u8; out_f * row_bytes];
    for (o, row) in data.chunks_exact_mut(row_bytes.max(1)).enumerate().take(out_f) {
        unpack_row(format, packed, blocks, group, o, row);
    }
    data
}

/// Row `o` of `unpack` alone, written into `row` (`blocks` ggml blocks): a tied embedding table looks its
/// rows up in the packed output head instead of keeping the file's copy of them resident.
pub fn unpack_row(format: BlockFormat, packed: &[u8], blocks: usize, group: usize, o: usize, row: &mut [u8]) {
    let (bb, header, st) = (format.block_bytes(), header_bytes(format, group), stride(format, group));
    let (g, lane) = (o / group, o % group);
    for (b, block) in row.chunks_exact_mut(bb).enumerate().take(blocks) {
        let src = &packed[(g * blocks + b) * st..(g * blocks + b + 1) * st];
        block[..2].copy_from_slice(&src[lane * 2..lane * 2 + 2]);
        if has_min(format) {
            block[2..4].copy_from_slice(&src[2 * group + lane * 2..2 * group + lane * 2 + 2]);
        }
        let codes: [u8; BLOCK] = std::array::from_fn(|i| {
            let (at, shift) = code_at(format, group, lane, i);
            if format == BlockFormat::Q8_0 {
                return src[header + at];
            }
            let low = (src[header + at] >> shift) & 0x0f;
            if five_bit(format) {
                let (at, bit) = mask_at(group, lane, i);
                low | ((src[header + at] >> bit) & 1) << 4
            } else {
                low
            }
        });
        write_block_codes(format, &codes, block);
    }
}

/// Q8 activations of every token row, as `gemm` reads them: codes in rows of `blocks * 32` (the row
/// count rounded up to a multiple of `TOKENS` with zero rows), and per (row, block) the scale `d`,
/// Q8_1's `s` and `bias`, what the weights' code offset adds to the block's integer sum (the offset,
/// 128, 8 or 16, times the sum of the codes; empty for the formats without one).
pub struct Activations<'a> {
    pub q: &'a [i8],
    pub d: &'a [f32],
    pub s: &'a [f32],
    pub bias: &'a [i32],
    pub tokens: usize,
    pub blocks: usize,
}

/// One group of 16 output rows: `out[t * out_stride + c] = sum_b dw * dx * isum (+ m * s)` for every
/// token `t` and row `c < cols`, blocks in order, as the scalar dot. Token rows go 8 at a time; the last
/// tile (and a one-token decode, the whole product) multiplies only as many rows as it has, rounded up
/// to 1, 2, 4 or 8: the padded rows are zeros whose products are never stored, and computing all 8 for
/// one token made a decode step do eight times the integer work it needs.
///
/// # Safety
/// The CPU must support AVX-512F, AVX-512BW and AVX-512 VNNI; `format` is a 32-weight format; `group`
/// holds `acts.blocks` packed blocks of this format; `acts.q` holds `blocks * 32` codes for each of
/// `tokens.div_ceil(TOKENS) * TOKENS` rows and `d`, `s` an entry per (row < tokens, block), `bias` too
/// for Q8_0, Q4_0 and Q5_0 (empty otherwise); `cols <= 16`; `out` is valid for writes at `t * out_stride + c` for `t < tokens`, `c < cols`, with
/// no other thread writing there.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub unsafe fn gemm(
    format: BlockFormat,
    acts: &Activations,
    group: &[u8],
    cols: usize,
    out: *mut f32,
    out_stride: usize,
) {
    let tokens = acts.tokens;
    debug_assert!(
        group.len() == acts.blocks * stride(format, GROUP)
            && acts.q.len() >= tokens.div_ceil(TOKENS) * TOKENS * acts.blocks * BLOCK
    );
    let call = Call {
        format,
        acts,
        group,
        cols,
        out,
        out_stride,
    };
    for t0 in (0..tokens).step_by(TOKENS) {
        let live = (tokens - t0).min(TOKENS);
        // SAFETY: the caller's guarantees; a tile of T rows from t0 stays inside the rows padded to a
        // multiple of TOKENS (t0 is one, and T <= TOKENS), and stores only its first `live`.
        unsafe {
            match live {
                1 => tile::<1>(&call, t0, live),
                2 => tile::<2>(&call, t0, live),
                3 | 4 => tile::<4>(&call, t0, live),
                _ => tile::<TOKENS>(&call, t0, live),
            }
        }
    }
}

/// The arguments of one `gemm` call, handed to its tiles.
struct Call<'a> {
    format: BlockFormat,
    acts: &'a Activations<'a>,
    group: &'a [u8],
    cols: usize,
    out: *mut f32,
    out_stride: usize,
}

/// Token rows `t0 .. t0 + T` of `gemm`, the first `live` stored.
///
/// # Safety
/// As `gemm`'s, with `live <= T` and rows `t0 .. t0 + T` inside the padded activation codes.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn tile<const T: usize>(call: &Call, t0: usize, live: usize) {
    let Call {
        format,
        acts,
        group,
        cols,
        out,
        out_stride,
    } = *call;
    let blocks = acts.blocks;
    let width = blocks * BLOCK;
    let (header, st) = (header_bytes(format, GROUP), stride(format, GROUP));
    // The caller built the offset terms for exactly the formats whose codes carry one.
    let has_offset = !acts.bias.is_empty();
    let (nibble, sixteen) = (_mm512_set1_epi8(0x0f), _mm512_set1_epi8(16));
    let masks_at = header + BLOCK * GROUP / 2;
    let (five_bit, with_min) = (five_bit(format), has_min(format));
    let [mask] = lane_masks::<1>(cols.min(GROUP));
    let (xp, gp) = (acts.q.as_ptr(), group.as_ptr());
    let mut facc = [_mm512_setzero_ps(); T];
    for b in 0..blocks {
        // SAFETY (loads from gp): block b of the group spans st bytes at b * st, inside group.
        let base = unsafe { gp.add(b * st) };
        // The next group of rows (right after this one) into L2 meanwhile, block by block.
        if t0 == 0 {
            prefetch_next_l2(gp, (blocks + b) * st, st.div_ceil(64));
        }
        let dw = _mm512_cvtph_ps(unsafe { _mm256_loadu_si256(base as *const __m256i) });
        let mut iacc = [_mm512_setzero_si512(); T];
        // SAFETY (every broadcast4 call): t0 + t < the padded row count and step < 8, so the 4 bytes lie in acts.q.
        let row = |t: usize| unsafe { xp.add((t0 + t) * width + b * BLOCK) };
        if format == BlockFormat::Q8_0 {
            for step in 0..BLOCK / 4 {
                // SAFETY: 64 code bytes of this step lie inside the block's st bytes.
                let w = unsafe { _mm512_loadu_si512(base.add(header + step * 64) as *const __m512i) };
                for (t, a) in iacc.iter_mut().enumerate() {
                    *a = _mm512_dpbusd_epi32(*a, w, unsafe { broadcast4(row(t), step) });
                }
            }
        } else {
            for pair in 0..BLOCK / 8 {
                // SAFETY: 64 code bytes of this pair of steps lie inside the block's st bytes.
                let raw = unsafe { _mm512_loadu_si512(base.add(header + pair * 64) as *const __m512i) };
                let mut lo = _mm512_and_si512(raw, nibble);
                let mut hi = _mm512_and_si512(_mm512_srli_epi16::<4>(raw), nibble);
                if five_bit {
                    // SAFETY: the 8 fifth-bit masks of the block follow its code bytes, inside st.
                    let (k_lo, k_hi) = unsafe {
                        let masks = base.add(masks_at + pair * 16) as *const u64;
                        (masks.read_unaligned(), masks.add(1).read_unaligned())
                    };
                    lo = _mm512_mask_add_epi8(lo, k_lo, lo, sixteen);
                    hi = _mm512_mask_add_epi8(hi, k_hi, hi, sixteen);
                }
                for (t, a) in iacc.iter_mut().enumerate() {
                    *a = _mm512_dpbusd_epi32(*a, lo, unsafe { broadcast4(row(t), 2 * pair) });
                    *a = _mm512_dpbusd_epi32(*a, hi, unsafe { broadcast4(row(t), 2 * pair + 1) });
                }
            }
        }
        let m = if with_min {
            // SAFETY: Q4_1 and Q5_1 blocks hold 16 f16 minimums after the 16 scales.
            _mm512_cvtph_ps(unsafe { _mm256_loadu_si256(base.add(2 * GROUP) as *const __m256i) })
        } else {
            _mm512_setzero_ps()
        };
        for (t, (f, a)) in facc.iter_mut().zip(&iacc).enumerate().take(live) {
            let at = (t0 + t) * blocks + b;
            let exact = if has_offset {
                _mm512_sub_epi32(*a, _mm512_set1_epi32(acts.bias[at]))
            } else {
                *a
            };
            let mut term = _mm512_mul_ps(_mm512_mul_ps(dw, _mm512_set1_ps(acts.d[at])), _mm512_cvtepi32_ps(exact));
            if with_min {
                term = _mm512_add_ps(term, _mm512_mul_ps(m, _mm512_set1_ps(acts.s[at])));
            }
            *f = _mm512_add_ps(*f, term);
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
    use crate::engine::quant::blocks;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn packing_round_trips_every_byte() {
        let mut rng = StdRng::seed_from_u64(3);
        for format in BlockFormat::ALL.into_iter().filter(|&f| supports(f)) {
            for (&(out_f, blocks), group) in [(1, 1), (5, 2), (16, 3), (17, 1), (40, 4)]
                .iter()
                .zip([16, 8, 16, 8, 16])
            {
                let mut data = Vec::new();
                let mut row = vec![0.0f32; blocks * BLOCK];
                for _ in 0..out_f {
                    row.iter_mut().for_each(|v| *v = rng.random_range(-2.0f32..2.0));
                    blocks::quantize(format, &row, &mut data);
                }
                let row_bytes = blocks * format.block_bytes();
                let packed = pack(format, &data, row_bytes, out_f, group, &mut |_| {});
                assert_eq!(packed.len(), out_f.div_ceil(group) * blocks * stride(format, group));
                assert_eq!(
                    unpack(format, &packed, blocks, out_f, group),
                    data,
                    "{} {out_f}x{blocks} group {group}",
                    format.name()
                );
                // One row at a time, into a buffer holding other bytes.
                for o in 0..out_f {
                    let mut row = vec![0xa5u8; row_bytes];
                    unpack_row(format, &packed, blocks, group, o, &mut row);
                    assert_eq!(
                        row,
                        data[o * row_bytes..(o + 1) * row_bytes],
                        "{} row {o}",
                        format.name()
                    );
                }
            }
        }
    }
}
