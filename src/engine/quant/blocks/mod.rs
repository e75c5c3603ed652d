//! llama.cpp's block formats, byte for byte as ggml stores them, and their block dot products with
//! activations quantized on the fly as ggml's CPU path pairs them: Q8_0, Q4_0, Q5_0 with Q8_0; Q4_1,
//! Q5_1 with Q8_1; the K-quants Q4_K, Q5_K, Q6_K (256-weight super-blocks) with Q8_K. Q8_0, Q4_0 and
//! Q4_1 live here (checked against the reference quantizers of the PyPI package `gguf`,
//! `gguf.quants`), Q5_0 and Q5_1 in `q5`, the K-quants in `q4k`, `q5k`, `q6k`; this module dispatches.
//! `BlockFormat::from_ggml_type` maps GGUF tensor type ids, and `dequantize_row` turns one stored row
//! of any of them into f32 with its length checked.
//!
//! Layouts (32 weights a block): Q8_0 = f16 `d` + 32 x i8; Q4_0 = f16 `d` + 16 bytes whose low nibbles
//! hold weights 0..16 and high nibbles 16..32, code `q + 8`; Q4_1 = f16 `d`, f16 `m` + 16 bytes of codes.
//! Numerics: Q8_0 `d = max|x| / 127`, `q = round(x / d)` (half away from zero); Q4_0 `d = x_max / -8`
//! with `x_max` the signed value of largest magnitude, `code = min(15, trunc(x / d + 8.5))`; Q4_1
//! `d = (max - min) / 15`, `code = min(15, trunc((x - min) / d + 0.5))`; in every case the reciprocal
//! `1 / d` is computed once and multiplied, and `d` is stored as f16.

use half::f16;

pub mod q4k;
pub mod q5;
pub mod q5k;
pub mod q6k;

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
    /// 32 weights: f16 scale + 5-bit codes, offset 16 (see `q5`).
    Q5_0,
    /// 32 weights: f16 scale, f16 minimum + 5-bit codes (see `q5`).
    Q5_1,
    /// 256 weights: f16 scale and minimum, 6-bit sub-block scales and minimums, 4-bit codes (see `q4k`).
    Q4K,
    /// 256 weights: Q4_K's scales and minimums with 5-bit codes (see `q5k`).
    Q5K,
    /// 256 weights: f16 scale, signed 8-bit scales per 16 weights, 6-bit codes offset 32 (see `q6k`).
    Q6K,
}

impl BlockFormat {
    /// Every format, in the order `shakedown schemes` lists them.
    pub const ALL: [BlockFormat; 8] = [
        BlockFormat::Q8_0,
        BlockFormat::Q4_0,
        BlockFormat::Q4_1,
        BlockFormat::Q5_0,
        BlockFormat::Q5_1,
        BlockFormat::Q4K,
        BlockFormat::Q5K,
        BlockFormat::Q6K,
    ];

    /// The name users type and GGUF files use (lowercase): `q8_0`, `q4_0`, `q4_1`, `q5_0`, `q5_1`,
    /// `q4_k`, `q5_k`, `q6_k`.
    pub fn name(self) -> &'static str {
        match self {
            BlockFormat::Q8_0 => "q8_0",
            BlockFormat::Q4_0 => "q4_0",
            BlockFormat::Q4_1 => "q4_1",
            BlockFormat::Q5_0 => "q5_0",
            BlockFormat::Q5_1 => "q5_1",
            BlockFormat::Q4K => "q4_k",
            BlockFormat::Q5K => "q5_k",
            BlockFormat::Q6K => "q6_k",
        }
    }

    /// llama.cpp's `ggml_type` id of the format, as GGUF tensor infos store it (gguf-py's
    /// `GGMLQuantizationType`: Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q4_K = 12, Q5_K = 13,
    /// Q6_K = 14).
    pub fn ggml_type(self) -> u32 {
        match self {
            BlockFormat::Q4_0 => 2,
            BlockFormat::Q4_1 => 3,
            BlockFormat::Q5_0 => 6,
            BlockFormat::Q5_1 => 7,
            BlockFormat::Q8_0 => 8,
            BlockFormat::Q4K => 12,
            BlockFormat::Q5K => 13,
            BlockFormat::Q6K => 14,
        }
    }

    /// The block format of a `ggml_type` id; `None` for ids that are not one of these formats (F32 = 0,
    /// F16 = 1 and BF16 = 30 are plain floats; others are formats the engine does not know).
    pub fn from_ggml_type(id: u32) -> Option<BlockFormat> {
        BlockFormat::ALL.into_iter().find(|f| f.ggml_type() == id)
    }

    /// True for the K-quants (256-weight super-blocks, Q8_K activations).
    pub fn is_k_quant(self) -> bool {
        matches!(self, BlockFormat::Q4K | BlockFormat::Q5K | BlockFormat::Q6K)
    }

    /// Weights of one block.
    pub fn block_weights(self) -> usize {
        if self.is_k_quant() {
            q4k::QK_K
        } else {
            BLOCK
        }
    }

    /// Bytes of one block.
    pub fn block_bytes(self) -> usize {
        match self {
            BlockFormat::Q8_0 => 2 + BLOCK,
            BlockFormat::Q4_0 => 2 + BLOCK / 2,
            BlockFormat::Q4_1 => 4 + BLOCK / 2,
            BlockFormat::Q5_0 => q5::Q5_0_BYTES,
            BlockFormat::Q5_1 => q5::Q5_1_BYTES,
            BlockFormat::Q4K => q4k::BLOCK_BYTES,
            BlockFormat::Q5K => q5k::BLOCK_BYTES,
            BlockFormat::Q6K => q6k::BLOCK_BYTES,
        }
    }

    /// Stored bits per weight of whole blocks (`8 * block_bytes / block_weights`): 8.5 for Q8_0, 4.5
    /// for Q4_0 and Q4_K, 5 for Q4_1, 5.5 for Q5_0 and Q5_K, 6 for Q5_1, 6.5625 for Q6_K.
    pub fn bits_per_weight(self) -> f64 {
        8.0 * self.block_bytes() as f64 / self.block_weights() as f64
    }

    /// The format llama.cpp's quantizer stores a row of `n` weights in when asked for this one
    /// (`tensor_type_fallback` in llama.cpp's src/llama-quant.cpp): this format where `n` is a whole
    /// number of its blocks, else Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0 where `n` is a multiple of
    /// 32; `None` where no block format fits (llama.cpp then stores F16).
    pub fn for_row_length(self, n: usize) -> Option<BlockFormat> {
        let fallback = match self {
            f if n.is_multiple_of(f.block_weights()) => return Some(f),
            BlockFormat::Q4K => BlockFormat::Q5_0,
            BlockFormat::Q5K => BlockFormat::Q5_1,
            BlockFormat::Q6K => BlockFormat::Q8_0,
            _ => return None,
        };
        n.is_multiple_of(BLOCK).then_some(fallback)
    }

    /// Bytes of a row of `weights` weights, or `None` when `weights` is not a whole number of blocks
    /// (ggml stores no partial blocks).
    pub fn row_bytes(self, weights: usize) -> Option<usize> {
        weights
            .is_multiple_of(self.block_weights())
            .then(|| weights / self.block_weights() * self.block_bytes())
    }

    /// `n` rounded up to whole blocks: the padded row length of a Linear stored in this format.
    pub fn padded(self, n: usize) -> usize {
        n.div_ceil(self.block_weights()) * self.block_weights()
    }
}

/// `x.round()` (half away from zero, as C's `roundf` in ggml's reference) for `|x| < 2^31`, without
/// the library call that `f32::round` costs on baseline x86_64: truncation, then the exact fraction
/// `x - trunc(x)` decides. Activations are quantized with it on every layer. Beyond that range it
/// saturates as `x.round() as i32` does (a corrupt model's activations reach infinity).
#[inline]
pub fn round_half_away(x: f32) -> i32 {
    let t = x as i32;
    let frac = x - t as f32;
    t.saturating_add((frac >= 0.5) as i32 - (frac <= -0.5) as i32)
}

/// `1 / d`, or 0 for `d = 0` (ggml's `d ? 1.0f/d : 0.0f`).
fn reciprocal(d: f32) -> f32 {
    if d == 0.0 {
        0.0
    } else {
        1.0 / d
    }
}

/// Quantizes `x` (a multiple of the format's block length) into blocks of `format`, appending to `out`.
pub fn quantize(format: BlockFormat, x: &[f32], out: &mut Vec<u8>) {
    match format {
        BlockFormat::Q5_0 => return q5::quantize_q5_0(x, out),
        BlockFormat::Q5_1 => return q5::quantize_q5_1(x, out),
        BlockFormat::Q4K => return q4k::quantize(x, out),
        BlockFormat::Q5K => return q5k::quantize(x, out),
        BlockFormat::Q6K => return q6k::quantize(x, out),
        BlockFormat::Q8_0 | BlockFormat::Q4_0 | BlockFormat::Q4_1 => {}
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
            _ => {} // handled above
        }
    }
}

/// The little-endian f16 at `bytes[at..at + 2]` as f32.
fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

/// Dequantizes blocks of `format` into `out` (`out.len()` weights).
pub fn dequantize(format: BlockFormat, bytes: &[u8], out: &mut [f32]) {
    match format {
        BlockFormat::Q5_0 => return q5::dequantize_q5_0(bytes, out),
        BlockFormat::Q5_1 => return q5::dequantize_q5_1(bytes, out),
        BlockFormat::Q4K => return q4k::dequantize(bytes, out),
        BlockFormat::Q5K => return q5k::dequantize(bytes, out),
        BlockFormat::Q6K => return q6k::dequantize(bytes, out),
        BlockFormat::Q8_0 | BlockFormat::Q4_0 | BlockFormat::Q4_1 => {}
    }
    for (block, dst) in bytes.chunks(format.block_bytes()).zip(out.chunks_mut(BLOCK)) {
        match format {
            BlockFormat::Q8_0 => {
                let d = f16_at(block, 0);
                for (v, q) in dst.iter_mut().zip(&block[2..]) {
                    *v = *q as i8 as f32 * d;
                }
            }
            // ggml: `(code - 8) * d` (a zero code times a negative `d` is -0, as there).
            BlockFormat::Q4_0 => {
                let (d, qs) = (f16_at(block, 0), &block[2..]);
                for j in 0..BLOCK / 2 {
                    dst[j] = ((qs[j] & 0x0f) as i32 - 8) as f32 * d;
                    dst[j + BLOCK / 2] = ((qs[j] >> 4) as i32 - 8) as f32 * d;
                }
            }
            BlockFormat::Q4_1 => {
                let (d, m, qs) = (f16_at(block, 0), f16_at(block, 2), &block[4..]);
                for j in 0..BLOCK / 2 {
                    dst[j] = (qs[j] & 0x0f) as f32 * d + m;
                    dst[j + BLOCK / 2] = (qs[j] >> 4) as f32 * d + m;
                }
            }
            _ => {} // handled above
        }
    }
}

/// A stored row whose length does not fit its format: what `dequantize_row` was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowShapeError {
    pub format: BlockFormat,
    pub weights: usize,
    pub bytes: usize,
}

impl std::fmt::Display for RowShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (format, n) = (self.format, self.format.block_weights());
        match self.format.row_bytes(self.weights) {
            None => write!(
                f,
                "{} weights are not a whole number of {} blocks of {n}",
                self.weights,
                format.name()
            ),
            Some(want) => write!(
                f,
                "{} weights of {} take {want} bytes, got {}",
                self.weights,
                format.name(),
                self.bytes
            ),
        }
    }
}

impl std::error::Error for RowShapeError {}

/// Dequantizes one stored row (or any run of whole blocks) of `format` into `out`, exactly as ggml's
/// `dequantize_row_*` (and gguf-py's `gguf.quants.dequantize`) do: the GGUF loader's entry point.
/// `out.len()` must be a whole number of blocks and `bytes` exactly their size, else nothing is written.
pub fn dequantize_row(format: BlockFormat, bytes: &[u8], out: &mut [f32]) -> Result<(), RowShapeError> {
    if format.row_bytes(out.len()) != Some(bytes.len()) {
        return Err(RowShapeError {
            format,
            weights: out.len(),
            bytes: bytes.len(),
        });
    }
    dequantize(format, bytes, out);
    Ok(())
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
    /// Q8_0 blocks for Q5_0 weights.
    Q5_0(Q8Row),
    /// Q8_1 blocks for Q5_1 weights.
    Q5_1(Q8Row),
    /// Q8_K super-blocks for Q4_K weights.
    Q4K(q4k::Q8KRow),
    /// Q8_K super-blocks for Q5_K weights.
    Q5K(q4k::Q8KRow),
    /// Q8_K super-blocks for Q6_K weights.
    Q6K(q4k::Q8KRow),
}

impl ActRow {
    /// The weight format this row is quantized for.
    pub fn format(&self) -> BlockFormat {
        match self {
            ActRow::Q8_0(_) => BlockFormat::Q8_0,
            ActRow::Q4_0(_) => BlockFormat::Q4_0,
            ActRow::Q4_1(_) => BlockFormat::Q4_1,
            ActRow::Q5_0(_) => BlockFormat::Q5_0,
            ActRow::Q5_1(_) => BlockFormat::Q5_1,
            ActRow::Q4K(_) => BlockFormat::Q4K,
            ActRow::Q5K(_) => BlockFormat::Q5K,
            ActRow::Q6K(_) => BlockFormat::Q6K,
        }
    }

    /// The Q8_0 / Q8_1 blocks of a row quantized for a 32-weight format.
    pub fn q8(&self) -> Option<&Q8Row> {
        match self {
            ActRow::Q8_0(r) | ActRow::Q4_0(r) | ActRow::Q4_1(r) | ActRow::Q5_0(r) | ActRow::Q5_1(r) => Some(r),
            ActRow::Q4K(_) | ActRow::Q5K(_) | ActRow::Q6K(_) => None,
        }
    }

    /// The Q8_K super-blocks of a row quantized for a K-quant.
    pub fn q8k(&self) -> Option<&q4k::Q8KRow> {
        match self {
            ActRow::Q4K(r) | ActRow::Q5K(r) | ActRow::Q6K(r) => Some(r),
            _ => None,
        }
    }

    /// The activations as the integer dot sees them: each code times its block's scale.
    pub fn dequantized(&self) -> Vec<f32> {
        match (self.q8(), self.q8k()) {
            (Some(r), _) => {
                r.q.iter()
                    .enumerate()
                    .map(|(i, &q)| q as f32 * r.d[i / BLOCK])
                    .collect()
            }
            (None, Some(r)) => {
                r.q.iter()
                    .enumerate()
                    .map(|(i, &q)| q as f32 * r.d[i / q4k::QK_K])
                    .collect()
            }
            (None, None) => Vec::new(),
        }
    }
}

/// Quantizes an activation row (a multiple of the format's block length) for dots with `format` weights.
pub fn quantize_activations(format: BlockFormat, x: &[f32]) -> ActRow {
    quantize_activations_with(format, x, quantize_q8_row)
}

/// `quantize_activations` with the Q8 rows of the 32-weight formats made by `q8` (a kernel table's twin
/// of `quantize_q8_row`).
pub fn quantize_activations_with(format: BlockFormat, x: &[f32], q8: impl Fn(&[f32]) -> Q8Row) -> ActRow {
    match format {
        BlockFormat::Q8_0 => ActRow::Q8_0(q8(x)),
        BlockFormat::Q4_0 => ActRow::Q4_0(q8(x)),
        BlockFormat::Q4_1 => ActRow::Q4_1(q8(x)),
        BlockFormat::Q5_0 => ActRow::Q5_0(q8(x)),
        BlockFormat::Q5_1 => ActRow::Q5_1(q8(x)),
        BlockFormat::Q4K => ActRow::Q4K(q4k::quantize_q8k_row(x)),
        BlockFormat::Q5K => ActRow::Q5K(q4k::quantize_q8k_row(x)),
        BlockFormat::Q6K => ActRow::Q6K(q4k::quantize_q8k_row(x)),
    }
}

/// Dot product of one weight row, in the format `x` was quantized for, with the activation row `x`,
/// block by block with int32 sums (the scalar reference of every kernel table).
pub fn dot_row(w: &[u8], x: &ActRow) -> f32 {
    match x {
        ActRow::Q8_0(x) => dot_q8_0(w, x),
        ActRow::Q4_0(x) => dot_q4_0(w, x),
        ActRow::Q4_1(x) => dot_q4_1(w, x),
        ActRow::Q5_0(x) => q5::dot_q5_0(w, x),
        ActRow::Q5_1(x) => q5::dot_q5_1(w, x),
        ActRow::Q4K(x) => q4k::dot_row(w, x),
        ActRow::Q5K(x) => q5k::dot_row(w, x),
        ActRow::Q6K(x) => q6k::dot_row(w, x),
    }
}

/// One block's float step of a 32-weight format's dot, the order every kernel table follows:
/// `sum + ((dw * dx) * isum + m * s)`, the minimum's term only for the formats with one, each operation
/// rounded (no fused multiply-add). Fusing the block's term into the sum would save a GEMM one vector
/// operation per (token, block), but moved SmolLM2's Q4_1 logits away from llama.cpp's: top-1
/// agreement on the golden fixtures fell from 94.7 % to 92.7 % (`tests/decoder_golden.rs`).
#[inline]
pub fn block_step(sum: f32, dw: f32, dx: f32, isum: i32, min: Option<(f32, f32)>) -> f32 {
    let term = dw * dx * isum as f32;
    match min {
        Some((m, s)) => sum + (term + m * s),
        None => sum + term,
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
        sum = block_step(sum, f16_at(block, 0), x.d[b], acc, None);
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
        sum = block_step(sum, f16_at(block, 0), x.d[b], acc, None);
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
        sum = block_step(sum, f16_at(block, 0), x.d[b], acc, Some((m, x.s[b])));
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

    /// Found by the `gguf` fuzz target: a block whose largest magnitude is subnormal has an infinite
    /// `1 / d`, its codes round infinity, and `i32::MAX + 1` overflowed.
    #[test]
    fn rounding_saturates_beyond_i32_and_q8_survives_subnormal_blocks() {
        for x in [
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MAX,
            -f32::MAX,
            3e9,
            -3e9,
        ] {
            assert_eq!(round_half_away(x), x.round() as i32, "{x}");
        }
        let mut x = vec![0.0f32; 32];
        x[3] = f32::from_bits(1);
        x[4] = -f32::from_bits(1);
        let row = quantize_q8_row(&x);
        assert_eq!(row.q.len(), 32);
    }

    #[test]
    fn block_sizes_match_ggml() {
        assert_eq!(BlockFormat::Q8_0.block_bytes(), 34);
        assert_eq!(BlockFormat::Q4_0.block_bytes(), 18);
        assert_eq!(BlockFormat::Q4_1.block_bytes(), 20);
        assert_eq!(BlockFormat::Q4K.block_bytes(), 144);
        assert_eq!(BlockFormat::Q4K.padded(384), 512);
        // ggml-common.h: block_q5_0 22, block_q5_1 24, block_q5_K 176, block_q6_K 210 bytes.
        assert_eq!(BlockFormat::Q5_0.block_bytes(), 22);
        assert_eq!(BlockFormat::Q5_1.block_bytes(), 24);
        assert_eq!(BlockFormat::Q5K.block_bytes(), 176);
        assert_eq!(BlockFormat::Q6K.block_bytes(), 210);
        let bits: Vec<f64> = BlockFormat::ALL.iter().map(|f| f.bits_per_weight()).collect();
        assert_eq!(bits, vec![8.5, 4.5, 5.0, 5.5, 6.0, 4.5, 5.5, 6.5625]);
    }

    #[test]
    fn k_quants_round_trip_within_a_step_and_dot_like_the_dequantized_dot() {
        let x: Vec<f32> = (0..512).map(|i| ((i * 37 % 101) as f32 - 40.0) / 17.0).collect();
        let act: Vec<f32> = (0..512).map(|i| ((i * 13 % 29) as f32 - 14.0) / 5.0).collect();
        let range = 100.0 / 17.0;
        // Error bound: one code step over each sub-block's range (plus the rounding of 6-bit / 8-bit
        // scales and minimums, which the one-step bound absorbs on this input).
        for (format, steps) in [
            (BlockFormat::Q4K, 15.0),
            (BlockFormat::Q5K, 31.0),
            (BlockFormat::Q6K, 32.0),
        ] {
            let mut bytes = Vec::new();
            quantize(format, &x, &mut bytes);
            assert_eq!(bytes.len(), 2 * format.block_bytes());
            let mut back = vec![0.0; 512];
            dequantize(format, &bytes, &mut back);
            for (a, b) in x.iter().zip(&back) {
                assert!((a - b).abs() <= range / steps, "{format:?}: {a} vs {b}");
            }
            let acts = quantize_activations(format, &act);
            let want: f64 = back
                .iter()
                .zip(acts.dequantized())
                .map(|(a, b)| *a as f64 * b as f64)
                .sum();
            let got = dot_row(&bytes, &acts) as f64;
            assert!(
                (got - want).abs() < 1e-3 * (1.0 + want.abs()),
                "{format:?}: {got} vs {want}"
            );
            let q8k = acts.q8k().unwrap();
            for (c, s) in q8k.q.chunks(16).zip(&q8k.bsums) {
                assert_eq!(c.iter().map(|&v| v as i16).sum::<i16>(), *s);
            }
        }
    }

    #[test]
    fn ggml_type_ids_are_gguf_py_s_and_round_trip() {
        // gguf-py's GGMLQuantizationType.
        let ids: Vec<u32> = BlockFormat::ALL.iter().map(|f| f.ggml_type()).collect();
        assert_eq!(ids, vec![8, 2, 3, 6, 7, 12, 13, 14]);
        for f in BlockFormat::ALL {
            assert_eq!(BlockFormat::from_ggml_type(f.ggml_type()), Some(f));
        }
        // F32, F16, Q8_1, Q2_K, Q3_K, Q8_K, BF16 and unknown ids are not block formats of the engine.
        for id in [0, 1, 4, 5, 9, 10, 11, 15, 16, 30, 39, u32::MAX] {
            assert_eq!(BlockFormat::from_ggml_type(id), None, "{id}");
        }
    }

    #[test]
    fn rows_that_are_no_whole_super_block_fall_back_as_llama_cpp_does() {
        // Gemma-3-270M's 640-wide rows: its Q4_K_M file stores them as Q5_0 (Q4_K asked) and Q8_0 (Q6_K).
        assert_eq!(BlockFormat::Q4K.for_row_length(640), Some(BlockFormat::Q5_0));
        assert_eq!(BlockFormat::Q5K.for_row_length(640), Some(BlockFormat::Q5_1));
        assert_eq!(BlockFormat::Q6K.for_row_length(640), Some(BlockFormat::Q8_0));
        assert_eq!(BlockFormat::Q6K.for_row_length(2048), Some(BlockFormat::Q6K));
        assert_eq!(BlockFormat::Q4_0.for_row_length(576), Some(BlockFormat::Q4_0));
        assert_eq!(BlockFormat::Q4K.for_row_length(100), None);
        assert_eq!(BlockFormat::Q8_0.for_row_length(33), None);
    }

    #[test]
    fn dequantize_row_checks_the_row_length() {
        let x: Vec<f32> = (0..256).map(|i| (i as f32 - 128.0) / 32.0).collect();
        for f in BlockFormat::ALL {
            let mut bytes = Vec::new();
            quantize(f, &x, &mut bytes);
            assert_eq!(f.row_bytes(256), Some(bytes.len()));
            let mut out = vec![f32::NAN; 256];
            dequantize_row(f, &bytes, &mut out).unwrap();
            let mut want = vec![0.0; 256];
            dequantize(f, &bytes, &mut want);
            assert_eq!(out, want);
            let short = dequantize_row(f, &bytes[..bytes.len() - 1], &mut out).unwrap_err();
            assert!(short.to_string().contains("bytes"), "{short}");
            let mut odd = vec![0.0; 255];
            let partial = dequantize_row(f, &bytes, &mut odd).unwrap_err();
            assert!(partial.to_string().contains("whole number"), "{partial}");
        }
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
        for format in [
            BlockFormat::Q8_0,
            BlockFormat::Q4_0,
            BlockFormat::Q4_1,
            BlockFormat::Q5_0,
            BlockFormat::Q5_1,
        ] {
            let mut bytes = Vec::new();
            quantize(format, &x, &mut bytes);
            assert_eq!(bytes.len(), 3 * format.block_bytes());
            let mut back = vec![0.0; 96];
            dequantize(format, &bytes, &mut back);
            let step = match format {
                BlockFormat::Q8_0 => 11.0 / 7.0 / 127.0,
                BlockFormat::Q5_0 | BlockFormat::Q5_1 => 22.0 / 7.0 / 31.0,
                _ => 22.0 / 7.0 / 15.0,
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
