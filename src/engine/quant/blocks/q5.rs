//! llama.cpp's 5-bit block formats Q5_0 and Q5_1 (32 weights a block), byte for byte as ggml stores
//! them, with the numerics of ggml's reference quantizers `quantize_row_q5_0_ref` and
//! `quantize_row_q5_1_ref` (mirrored by `gguf.quants.Q5_0` / `Q5_1`), ggml's `dequantize_row_q5_0` /
//! `_q5_1`, and the CPU dots `ggml_vec_dot_q5_0_q8_0` / `ggml_vec_dot_q5_1_q8_1` (generic order:
//! per block `(dw * dx) * isum`, plus `m * s` for Q5_1). Re-derived from ggml/src/ggml-quants.c and
//! ggml/src/ggml-cpu/quants.c of llama.cpp (github.com/ggml-org/llama.cpp); the Rust is ours.
//!
//! Layouts: Q5_0 = f16 `d`, 4 bytes `qh`, 16 bytes `qs` (22 bytes, 5.5 bits a weight); Q5_1 = f16 `d`,
//! f16 `m`, `qh`, `qs` (24 bytes, 6 bits). The 5-bit code of weight `j < 16` is the low nibble of
//! `qs[j]` plus bit `j` of the little-endian u32 `qh` as its fifth bit; weight `j + 16` takes the high
//! nibble of `qs[j]` and bit `j + 16`. So bit `i` of `qh` is the fifth bit of weight `i`.
//!
//! Numerics: Q5_0 `d = x_max / -16` (`x_max` the first value of largest magnitude, signed),
//! `code = min(31, trunc(x / d + 16.5))`, weight `(code - 16) * d`; Q5_1 `d = (max - min) / 31`,
//! `code = min(31, trunc((x - min) / d + 0.5))`, weight `code * d + min`. As in the 4-bit formats, the
//! reciprocal `1 / d` is computed once and multiplied, and `d` (and `min`) are stored as f16. Q5_0 pairs
//! with Q8_0 activations, Q5_1 with Q8_1 (whose `s = d * sum(q)` folds the minimum into the dot).

use half::f16;

use super::{f16_at, reciprocal, Q8Row, BLOCK};

/// Bytes of a Q5_0 block.
pub const Q5_0_BYTES: usize = 2 + 4 + BLOCK / 2;
/// Bytes of a Q5_1 block.
pub const Q5_1_BYTES: usize = 4 + 4 + BLOCK / 2;

/// Packs 32 five-bit codes into ggml's `qh` (fifth bits) and `qs` (nibbles), appending to `out`.
pub fn pack(codes: &[u8; BLOCK], out: &mut Vec<u8>) {
    let qh = codes
        .iter()
        .enumerate()
        .fold(0u32, |qh, (i, &c)| qh | (((c >> 4) & 1) as u32) << i);
    out.extend_from_slice(&qh.to_le_bytes());
    out.extend((0..BLOCK / 2).map(|j| (codes[j] & 0x0f) | (codes[j + BLOCK / 2] << 4)));
}

/// The 32 five-bit codes (0..=31) of a block's `qh` (4 bytes) and `qs` (16 bytes).
#[inline]
pub fn codes(qh_qs: &[u8]) -> [u8; BLOCK] {
    let qh = u32::from_le_bytes([qh_qs[0], qh_qs[1], qh_qs[2], qh_qs[3]]);
    let qs = &qh_qs[4..4 + BLOCK / 2];
    let mut out = [0u8; BLOCK];
    for j in 0..BLOCK / 2 {
        out[j] = (qs[j] & 0x0f) | (((qh >> j) & 1) << 4) as u8;
        out[j + BLOCK / 2] = (qs[j] >> 4) | (((qh >> (j + BLOCK / 2)) & 1) << 4) as u8;
    }
    out
}

/// Quantizes 32-weight blocks of `x` (a multiple of 32 long) to Q5_0, appending to `out`.
pub fn quantize_q5_0(x: &[f32], out: &mut Vec<u8>) {
    for block in x.chunks_exact(BLOCK) {
        // The first value of largest magnitude, with its sign.
        let max = block.iter().fold(0.0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
        let d = max / -16.0;
        let id = reciprocal(d);
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        let mut codes = [0u8; BLOCK];
        for (c, &v) in codes.iter_mut().zip(block) {
            *c = ((v * id + 16.5) as u8).min(31);
        }
        pack(&codes, out);
    }
}

/// Quantizes 32-weight blocks of `x` (a multiple of 32 long) to Q5_1, appending to `out`.
pub fn quantize_q5_1(x: &[f32], out: &mut Vec<u8>) {
    for block in x.chunks_exact(BLOCK) {
        let (min, max) = block
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let d = (max - min) / 31.0;
        let id = reciprocal(d);
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        out.extend_from_slice(&f16::from_f32(min).to_le_bytes());
        let mut codes = [0u8; BLOCK];
        for (c, &v) in codes.iter_mut().zip(block) {
            *c = (((v - min) * id + 0.5) as u8).min(31);
        }
        pack(&codes, out);
    }
}

/// Dequantizes Q5_0 blocks into `out` (`out.len()` weights): `(code - 16) * d`.
pub fn dequantize_q5_0(bytes: &[u8], out: &mut [f32]) {
    for (block, dst) in bytes.chunks_exact(Q5_0_BYTES).zip(out.chunks_exact_mut(BLOCK)) {
        let d = f16_at(block, 0);
        for (v, c) in dst.iter_mut().zip(codes(&block[2..])) {
            *v = (c as i32 - 16) as f32 * d;
        }
    }
}

/// Dequantizes Q5_1 blocks into `out` (`out.len()` weights): `code * d + m`.
pub fn dequantize_q5_1(bytes: &[u8], out: &mut [f32]) {
    for (block, dst) in bytes.chunks_exact(Q5_1_BYTES).zip(out.chunks_exact_mut(BLOCK)) {
        let (d, m) = (f16_at(block, 0), f16_at(block, 2));
        for (v, c) in dst.iter_mut().zip(codes(&block[4..])) {
            *v = c as f32 * d + m;
        }
    }
}

/// Q5_0 weights x Q8_0 activations: `sum_b (dw * dx) * sum((code - 16) * x)`.
pub fn dot_q5_0(w: &[u8], x: &Q8Row) -> f32 {
    let mut sum = 0.0f32;
    for (b, block) in w.chunks_exact(Q5_0_BYTES).enumerate() {
        let xq = &x.q[b * BLOCK..(b + 1) * BLOCK];
        let acc: i32 = codes(&block[2..])
            .iter()
            .zip(xq)
            .map(|(&c, &q)| (c as i32 - 16) * q as i32)
            .sum();
        sum = super::block_step(sum, f16_at(block, 0), x.d[b], acc, None);
    }
    sum
}

/// Q5_1 weights x Q8_1 activations: `sum_b (dw * dx) * sum(code * x) + m * s`.
pub fn dot_q5_1(w: &[u8], x: &Q8Row) -> f32 {
    let mut sum = 0.0f32;
    for (b, block) in w.chunks_exact(Q5_1_BYTES).enumerate() {
        let xq = &x.q[b * BLOCK..(b + 1) * BLOCK];
        let acc: i32 = codes(&block[4..])
            .iter()
            .zip(xq)
            .map(|(&c, &q)| c as i32 * q as i32)
            .sum();
        sum = super::block_step(sum, f16_at(block, 0), x.d[b], acc, Some((f16_at(block, 2), x.s[b])));
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifth_bits_pack_and_unpack() {
        let mut want = [0u8; BLOCK];
        for (i, c) in want.iter_mut().enumerate() {
            *c = ((i * 7 + 3) % 32) as u8;
        }
        let mut bytes = Vec::new();
        pack(&want, &mut bytes);
        assert_eq!(bytes.len(), 4 + BLOCK / 2);
        assert_eq!(codes(&bytes), want);
        // Bit i of qh is the fifth bit of weight i.
        let qh = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        for (i, &c) in want.iter().enumerate() {
            assert_eq!((qh >> i) & 1, (c >> 4) as u32, "weight {i}");
        }
    }

    #[test]
    fn codes_span_the_range_and_round_trip_within_half_a_step() {
        // A block holding -16 d .. 15 d exactly: every code 0..=31 appears and dequantizes exactly.
        let x: Vec<f32> = (0..32).map(|i| (i as f32 - 16.0) * -0.25).collect();
        let mut bytes = Vec::new();
        quantize_q5_0(&x, &mut bytes);
        let mut back = vec![0.0; 32];
        dequantize_q5_0(&bytes, &mut back);
        assert_eq!(back, x);
        let mut sorted = codes(&bytes[2..]).to_vec();
        sorted.sort();
        assert_eq!(sorted, (0..32).collect::<Vec<u8>>());
        let x: Vec<f32> = (0..64).map(|i| ((i * 29 % 31) as f32 - 9.0) / 3.0).collect();
        let mut bytes = Vec::new();
        quantize_q5_1(&x, &mut bytes);
        assert_eq!(bytes.len(), 2 * Q5_1_BYTES);
        let mut back = vec![0.0; 64];
        dequantize_q5_1(&bytes, &mut back);
        for (a, b) in x.iter().zip(&back) {
            assert!((a - b).abs() <= 0.5 * 10.0 / 31.0 * 1.01, "{a} vs {b}");
        }
    }
}
