//! llama.cpp's Q5_K super-block format, byte for byte as ggml stores it: Q4_K's scales and minimums with
//! a fifth bit per code. Numerics of ggml's reference quantizer `quantize_row_q5_K_ref`
//! (`make_qkx2_quants(32, 31, ..., rmin -0.5, rdelta 0.1, nstep 15)` per sub-block, shared with Q4_K in
//! `q4k::quantize_scales_mins`), `dequantize_row_q5_K`, and the dot with Q8_K activations
//! (`ggml_vec_dot_q5_K_q8_K`). Re-derived from ggml/src/ggml-quants.c and ggml/src/ggml-cpu/quants.c of
//! llama.cpp (github.com/ggml-org/llama.cpp); the Rust is ours.
//!
//! Layout of a super-block of 256 weights (176 bytes, 5.5 bits a weight): f16 `d`, f16 `dmin`, the 12
//! scale bytes of Q4_K (eight 6-bit scales `sc[j]` and minimums `m[j]`), 32 bytes `qh`, then 128 bytes
//! `qs`. Weight `64 * c + l` (`l < 32`) has code `(qs[32 * c + l] & 15) + 16 * bit(qh[l], 2 * c)` and
//! weight `64 * c + 32 + l` has `(qs[32 * c + l] >> 4) + 16 * bit(qh[l], 2 * c + 1)`; sub-block
//! `j = i / 32` gives weight `i` the value `d * sc[j] * code - dmin * m[j]`.

use super::f16_at;
use super::q4k::{self, scale_min, unpack_scales, Q8KRow, QK_K};

/// Bytes a super-block.
pub const BLOCK_BYTES: usize = 4 + 12 + QK_K / 8 + QK_K / 2;
/// Offset of `qh` in a super-block.
pub const QH_AT: usize = 16;
/// Offset of `qs` in a super-block.
pub const QS_AT: usize = QH_AT + QK_K / 8;

/// Quantizes `x` (a multiple of 256 long; a shorter tail is ignored) into Q5_K super-blocks, appending
/// to `out`.
pub fn quantize(x: &[f32], out: &mut Vec<u8>) {
    for xb in x.chunks_exact(QK_K) {
        let (codes, d, dmin, packed) = q4k::quantize_scales_mins(xb, 31, -0.5, 15);
        out.extend_from_slice(&d.to_le_bytes());
        out.extend_from_slice(&dmin.to_le_bytes());
        out.extend_from_slice(&packed);
        let mut qh = [0u8; QK_K / 8];
        for c in 0..QK_K / 64 {
            for (l, h) in qh.iter_mut().enumerate() {
                *h |= (codes[c * 64 + l] >> 4) << (2 * c) | (codes[c * 64 + 32 + l] >> 4) << (2 * c + 1);
            }
        }
        out.extend_from_slice(&qh);
        for c in 0..QK_K / 64 {
            out.extend((0..32).map(|l| (codes[c * 64 + l] & 0x0f) | (codes[c * 64 + 32 + l] << 4)));
        }
    }
}

/// The 256 five-bit codes (0..=31) of a super-block.
#[inline]
pub fn codes(block: &[u8]) -> [u8; QK_K] {
    let (qh, qs) = (&block[QH_AT..QS_AT], &block[QS_AT..BLOCK_BYTES]);
    let mut out = [0u8; QK_K];
    for c in 0..QK_K / 64 {
        for l in 0..32 {
            let q = qs[c * 32 + l];
            out[c * 64 + l] = (q & 0x0f) | ((qh[l] >> (2 * c)) & 1) << 4;
            out[c * 64 + 32 + l] = (q >> 4) | ((qh[l] >> (2 * c + 1)) & 1) << 4;
        }
    }
    out
}

/// Dequantizes Q5_K super-blocks into `out` (`out.len()` weights, a multiple of 256), as ggml does:
/// `(d * sc) * code - dmin * m` in f32.
pub fn dequantize(bytes: &[u8], out: &mut [f32]) {
    for (block, dst) in bytes.chunks_exact(BLOCK_BYTES).zip(out.chunks_exact_mut(QK_K)) {
        let (d, dmin) = (f16_at(block, 0), f16_at(block, 2));
        let codes = codes(block);
        for (j, (dst, codes)) in dst.chunks_exact_mut(32).zip(codes.chunks_exact(32)).enumerate() {
            let (sc, m) = scale_min(j, &block[4..16]);
            let (dj, mj) = (d * sc as f32, dmin * m as f32);
            for (v, &c) in dst.iter_mut().zip(codes) {
                *v = dj * c as f32 - mj;
            }
        }
    }
}

/// The integer parts of one super-block's dot: `sum_j sc[j] * sum(code * q)` and `sum_j m[j] * sum(q of j)`.
#[inline]
pub fn block_sums(block: &[u8], q: &[i8], bsums: &[i16]) -> (i32, i32) {
    let (sc, m) = unpack_scales(&block[4..16]);
    let codes = codes(block);
    let isum = (0..QK_K / 32)
        .map(|j| {
            let sub: i32 = (32 * j..32 * j + 32).map(|i| codes[i] as i32 * q[i] as i32).sum();
            sc[j] as i32 * sub
        })
        .sum();
    let msum = bsums.iter().enumerate().map(|(k, &s)| m[k / 2] as i32 * s as i32).sum();
    (isum, msum)
}

/// Dot product of one Q5_K weight row with one Q8_K activation row, super-block by super-block with
/// int32 sums, combined as Q4_K's are (`q4k::accumulate`).
pub fn dot_row(w: &[u8], x: &Q8KRow) -> f32 {
    let mut total = 0.0f32;
    for (b, block) in w.chunks_exact(BLOCK_BYTES).enumerate() {
        let (isum, msum) = block_sums(block, &x.q[b * QK_K..(b + 1) * QK_K], &x.bsums[b * 16..(b + 1) * 16]);
        total = q4k::accumulate(total, f16_at(block, 0), f16_at(block, 2), x.d[b], isum, msum);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_ggml_s() {
        assert_eq!(BLOCK_BYTES, 176);
        // Codes 0..=31 cycling: pack, then read back by ggml's rule.
        let x: Vec<f32> = (0..QK_K).map(|i| (i % 32) as f32).collect();
        let mut bytes = Vec::new();
        quantize(&x, &mut bytes);
        let mut back = vec![0.0; QK_K];
        dequantize(&bytes, &mut back);
        for (a, b) in x.iter().zip(&back) {
            assert!((a - b).abs() <= 31.0 / 31.0 / 2.0 + 0.1, "{a} vs {b}");
        }
        let got = codes(&bytes);
        for (i, &c) in got.iter().enumerate() {
            let (c64, r) = (i / 64, i % 64);
            let byte = bytes[QS_AT + c64 * 32 + r % 32];
            let nib = if r < 32 { byte & 15 } else { byte >> 4 };
            let bit = (bytes[QH_AT + r % 32] >> (2 * c64 + r / 32)) & 1;
            assert_eq!(c, nib + 16 * bit, "weight {i}");
        }
    }
}
