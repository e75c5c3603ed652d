//! llama.cpp's block formats Q8_0, Q4_0 and Q4_1, byte for byte as ggml stores them (checked against the
//! reference quantizers of the PyPI package `gguf`, `gguf.quants`), and their block dot products with
//! activations quantized on the fly to Q8_0 (or Q8_1 for Q4_1), as ggml's CPU path does. The K-quant
//! Q4_K (256-weight super-blocks, Q8_K activations) lives in `q4k`; this module dispatches to it.
//!
//! Layouts (32 weights a block): Q8_0 = f16 `d` + 32 x i8; Q4_0 = f16 `d` + 16 bytes whose low nibbles
//! hold weights 0..16 and high nibbles 16..32, code `q + 8`; Q4_1 = f16 `d`, f16 `m` + 16 bytes of codes.
//! Numerics: Q8_0 `d = max|x| / 127`, `q = round(x / d)` (half away from zero); Q4_0 `d = x_max / -8`
//! with `x_max` the signed value of largest magnitude, `code = min(15, trunc(x / d + 8.5))`; Q4_1
//! `d = (max - min) / 15`, `code = min(15, trunc((x - min) / d + 0.5))`; in every case the reciprocal
//! `1 / d` is computed once and multiplied, and `d` is stored as f16.

use half::f16;

pub mod q4k;

/// Weights a block.
pub const BLOCK: usize = 32;

/// A llama.cpp block format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockFormat {
    /// 32 weights: f16 scale + 32 x i8.
    Q8_0,
    /// 32 weights: f16 scale + 16 bytes of 4-bit codes, offset 8.
    Q4_0,
    /// 32 weights: f16 scale, f16 minimum + 16 bytes of 4-bit codes.
    Q4_1,
    /// 256 weights: f16 scale and minimum, 6-bit sub-block scales and minimums, 4-bit codes (see `q4k`).
    Q4K,
}

impl BlockFormat {
    /// Every format, in the order `shakedown schemes` lists them.
    pub const ALL: [BlockFormat; 4] = [
        BlockFormat::Q8_0,
        BlockFormat::Q4_0,
        BlockFormat::Q4_1,
        BlockFormat::Q4K,
    ];

    /// The name users type and GGUF files use (lowercase): `q8_0`, `q4_0`, `q4_1`, `q4_k`.
    pub fn name(self) -> &'static str {
        match self {
            BlockFormat::Q8_0 => "q8_0",
            BlockFormat::Q4_0 => "q4_0",
            BlockFormat::Q4_1 => "q4_1",
            BlockFormat::Q4K => "q4_k",
        }
    }

    /// Weights of one block.
    pub fn block_weights(self) -> usize {
        match self {
            BlockFormat::Q4K => q4k::QK_K,
            _ => BLOCK,
        }
    }

    /// Bytes of one block.
    pub fn block_bytes(self) -> usize {
        match self {
            BlockFormat::Q8_0 => 2 + BLOCK,
            BlockFormat::Q4_0 => 2 + BLOCK / 2,
            BlockFormat::Q4_1 => 4 + BLOCK / 2,
            BlockFormat::Q4K => q4k::BLOCK_BYTES,
        }
    }

    /// `n` rounded up to whole blocks: the padded row length of a Linear stored in this format.
    pub fn padded(self, n: usize) -> usize {
        n.div_ceil(self.block_weights()) * self.block_weights()
    }
}

/// `x.round()` (half away from zero, as C's `roundf` in ggml's reference) for `|x| < 2^31`, without
/// the library call that `f32::round` costs on baseline x86_64: truncation, then the exact fraction
/// `x - trunc(x)` decides. Activations are quantized with it on every layer.
#[inline]
pub fn round_half_away(x: f32) -> i32 {
    let t = x as i32;
    let frac = x - t as f32;
    t + (frac >= 0.5) as i32 - (frac <= -0.5) as i32
}

fn reciprocal(d: f32) -> f32 {
    if d == 0.0 {
        0.0
    } else {
        1.0 / d
    }
}

/// Quantizes `x` (a multiple of the format's block length) into blocks of `format`, appending to `out`.
pub fn quantize(format: BlockFormat, x: &[f32], out: &mut Vec<u8>) {
    if format == BlockFormat::Q4K {
        return q4k::quantize(x, out);
    }
    for block in x.chunks(BLOCK) {
        match format {
            BlockFormat::Q8_0 => {
                let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let d = amax / 127.0;
                let id = reciprocal(d);
                out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
                out.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
            }
            BlockFormat::Q4_0 => {
                // The first value of largest magnitude, with its sign.
                let max = block.iter().fold(0.0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
                let d = max / -8.0;
                let id = reciprocal(d);
                out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
                let code = |v: f32| ((v * id + 8.5) as u8).min(15);
                for j in 0..BLOCK / 2 {
                    out.push(code(block[j]) | (code(block[j + BLOCK / 2]) << 4));
                }
            }
            BlockFormat::Q4_1 => {
                let (min, max) = block
                    .iter()
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
                let d = (max - min) / 15.0;
                let id = reciprocal(d);
                out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
                out.extend_from_slice(&f16::from_f32(min).to_le_bytes());
                let code = |v: f32| (((v - min) * id + 0.5) as u8).min(15);
                for j in 0..BLOCK / 2 {
                    out.push(code(block[j]) | (code(block[j + BLOCK / 2]) << 4));
                }
            }
            BlockFormat::Q4K => {} // handled above, whole super-blocks at a time
        }
    }
}

fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

/// Dequantizes blocks of `format` into `out` (`out.len()` weights).
pub fn dequantize(format: BlockFormat, bytes: &[u8], out: &mut [f32]) {
    if format == BlockFormat::Q4K {
        return q4k::dequantize(bytes, out);
    }
    for (block, dst) in bytes.chunks(format.block_bytes()).zip(out.chunks_mut(BLOCK)) {
        match format {
            BlockFormat::Q8_0 => {
                let d = f16_at(block, 0);
                for (v, q) in dst.iter_mut().zip(&block[2..]) {
                    *v = *q as i8 as f32 * d;
                }
            }
            BlockFormat::Q4_0 | BlockFormat::Q4_1 => {
                let d = f16_at(block, 0);
                let (m, qs) = if format == BlockFormat::Q4_1 {
                    (f16_at(block, 2), &block[4..])
                } else {
                    (-8.0 * d, &block[2..])
                };
                for j in 0..BLOCK / 2 {
                    dst[j] = (qs[j] & 0x0f) as f32 * d + m;
                    dst[j + BLOCK / 2] = (qs[j] >> 4) as f32 * d + m;
                }
            }
            BlockFormat::Q4K => {} // handled above, whole super-blocks at a time
        }
    }
}

/// One token row quantized to Q8 blocks: per block the f16-rounded scale, `d * sum(q)` (Q8_1's `s`),
/// and the codes.
pub struct Q8Row {
    /// Scale of each block, rounded to f16.
    pub d: Vec<f32>,
    /// `d * sum(q)` of each block, rounded to f16.
    pub s: Vec<f32>,
    /// Codes, 32 a block.
    pub q: Vec<i8>,
}

/// Quantizes an activation row (a multiple of 32 long) to Q8_0/Q8_1 blocks.
pub fn quantize_q8_row(x: &[f32]) -> Q8Row {
    let blocks = x.len() / BLOCK;
    let mut row = Q8Row {
        d: Vec::with_capacity(blocks),
        s: Vec::with_capacity(blocks),
        q: Vec::with_capacity(x.len()),
    };
    for block in x.chunks(BLOCK) {
        let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = reciprocal(d);
        let start = row.q.len();
        row.q
            .extend(block.iter().map(|v| round_half_away(v * id).clamp(-128, 127) as i8));
        let sum: i32 = row.q[start..].iter().map(|&q| q as i32).sum();
        let d16 = f16::from_f32(d).to_f32();
        row.d.push(d16);
        row.s.push(f16::from_f32(d * sum as f32).to_f32());
    }
    row
}

/// An activation row quantized for the integer block dot of one weight format; the variant names
/// that format, so a row is never dotted with weights of another.
pub enum ActRow {
    /// Q8_0 blocks for Q8_0 weights.
    Q8_0(Q8Row),
    /// Q8_0 blocks for Q4_0 weights.
    Q4_0(Q8Row),
    /// Q8_1 blocks (Q8_0 plus `s`) for Q4_1 weights.
    Q4_1(Q8Row),
    /// Q8_K super-blocks for Q4_K weights.
    Q4K(q4k::Q8KRow),
}

impl ActRow {
    /// The weight format this row is quantized for.
    pub fn format(&self) -> BlockFormat {
        match self {
            ActRow::Q8_0(_) => BlockFormat::Q8_0,
            ActRow::Q4_0(_) => BlockFormat::Q4_0,
            ActRow::Q4_1(_) => BlockFormat::Q4_1,
            ActRow::Q4K(_) => BlockFormat::Q4K,
        }
    }
}

/// Quantizes an activation row (a multiple of the format's block length) for dots with `format` weights.
pub fn quantize_activations(format: BlockFormat, x: &[f32]) -> ActRow {
    match format {
        BlockFormat::Q8_0 => ActRow::Q8_0(quantize_q8_row(x)),
        BlockFormat::Q4_0 => ActRow::Q4_0(quantize_q8_row(x)),
        BlockFormat::Q4_1 => ActRow::Q4_1(quantize_q8_row(x)),
        BlockFormat::Q4K => ActRow::Q4K(q4k::quantize_q8k_row(x)),
    }
}

/// Dot product of one weight row, in the format `x` was quantized for, with the activation row `x`,
/// block by block with int32 sums (the scalar reference of every kernel table).
pub fn dot_row(w: &[u8], x: &ActRow) -> f32 {
    match x {
        ActRow::Q8_0(x) => dot_q8_0(w, x),
        ActRow::Q4_0(x) => dot_q4_0(w, x),
        ActRow::Q4_1(x) => dot_q4_1(w, x),
        ActRow::Q4K(x) => q4k::dot_row(w, x),
    }
}

/// Q8_0 weights x Q8_0 activations: `sum_b dw * dx * sum(w * x)`.
pub fn dot_q8_0(w: &[u8], x: &Q8Row) -> f32 {
    let mut sum = 0.0f32;
    for (b, block) in w.chunks_exact(BlockFormat::Q8_0.block_bytes()).enumerate() {
        let xq = &x.q[b * BLOCK..(b + 1) * BLOCK];
        let acc: i32 = block[2..]
            .iter()
            .zip(xq)
            .map(|(&w, &x)| w as i8 as i32 * x as i32)
            .sum();
        sum += f16_at(block, 0) * x.d[b] * acc as f32;
    }
    sum
}

/// Q4_0 weights x Q8_0 activations: `sum_b dw * dx * sum((code - 8) * x)`.
pub fn dot_q4_0(w: &[u8], x: &Q8Row) -> f32 {
    let mut sum = 0.0f32;
    for (b, block) in w.chunks_exact(BlockFormat::Q4_0.block_bytes()).enumerate() {
        let (xq, qs) = (&x.q[b * BLOCK..(b + 1) * BLOCK], &block[2..]);
        let acc: i32 = (0..BLOCK / 2)
            .map(|j| ((qs[j] & 0x0f) as i32 - 8) * xq[j] as i32 + ((qs[j] >> 4) as i32 - 8) * xq[j + BLOCK / 2] as i32)
            .sum();
        sum += f16_at(block, 0) * x.d[b] * acc as f32;
    }
    sum
}

/// Q4_1 weights x Q8_1 activations: `sum_b dw * dx * sum(code * x) + m * s`.
pub fn dot_q4_1(w: &[u8], x: &Q8Row) -> f32 {
    let mut sum = 0.0f32;
    for (b, block) in w.chunks_exact(BlockFormat::Q4_1.block_bytes()).enumerate() {
        let (xq, m, qs) = (&x.q[b * BLOCK..(b + 1) * BLOCK], f16_at(block, 2), &block[4..]);
        let acc: i32 = (0..BLOCK / 2)
            .map(|j| (qs[j] & 0x0f) as i32 * xq[j] as i32 + (qs[j] >> 4) as i32 * xq[j + BLOCK / 2] as i32)
            .sum();
        sum += f16_at(block, 0) * x.d[b] * acc as f32 + m * x.s[b];
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_without_the_library_call_is_roundf() {
        let mut cases = vec![
            0.0f32,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            126.5,
            -127.5,
            0.499_999_97,
            -0.499_999_97,
        ];
        cases.extend((0..200_000).map(|i| (i as f32 - 100_000.0) * 0.001_3));
        cases.extend(
            [0.5f32, 1.0, 100.0]
                .iter()
                .flat_map(|&v| [f32::from_bits(v.to_bits() - 1), f32::from_bits(v.to_bits() + 1)]),
        );
        for x in cases {
            assert_eq!(round_half_away(x), x.round() as i32, "{x}");
        }
    }

    #[test]
    fn block_sizes_match_ggml() {
        assert_eq!(BlockFormat::Q8_0.block_bytes(), 34);
        assert_eq!(BlockFormat::Q4_0.block_bytes(), 18);
        assert_eq!(BlockFormat::Q4_1.block_bytes(), 20);
        assert_eq!(BlockFormat::Q4K.block_bytes(), 144);
        assert_eq!(BlockFormat::Q4K.padded(384), 512);
    }

    #[test]
    fn round_trip_error_is_within_one_step_and_block_dot_matches_dequantized_dot() {
        let x: Vec<f32> = (0..96).map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0).collect();
        let act: Vec<f32> = (0..96).map(|i| ((i * 13 % 17) as f32 - 8.0) / 5.0).collect();
        let q8 = quantize_q8_row(&act);
        let act_deq: Vec<f32> =
            q8.q.iter()
                .enumerate()
                .map(|(i, q)| *q as f32 * q8.d[i / BLOCK])
                .collect();
        for format in [BlockFormat::Q8_0, BlockFormat::Q4_0, BlockFormat::Q4_1] {
            let mut bytes = Vec::new();
            quantize(format, &x, &mut bytes);
            assert_eq!(bytes.len(), 3 * format.block_bytes());
            let mut back = vec![0.0; 96];
            dequantize(format, &bytes, &mut back);
            let step = if format == BlockFormat::Q8_0 {
                11.0 / 7.0 / 127.0
            } else {
                22.0 / 7.0 / 15.0
            };
            for (a, b) in x.iter().zip(&back) {
                assert!((a - b).abs() <= step * 1.01, "{format:?}: {a} vs {b}");
            }
            let want: f32 = back.iter().zip(&act_deq).map(|(a, b)| a * b).sum();
            let got = dot_row(&bytes, &quantize_activations(format, &act));
            assert!(
                (got - want).abs() < 1e-2 * (1.0 + want.abs()),
                "{format:?}: {got} vs {want}"
            );
        }
    }
}
