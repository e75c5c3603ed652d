//! How an index stores a vector at each precision, and how a query is prepared to meet it.
//!
//! - `f32`: the vector as little-endian f32, 4 bytes a dimension.
//! - `int8`: symmetric scalar quantization with **one scale per vector**, `s = max|x| / 127`,
//!   `q = round(x / s)` in -127..=127, plus the scale as f32 (d + 4 bytes). Queries are quantized
//!   the same way and a score is `s_q * s_d * sum(q_q * q_d)`: the whole dot runs in int8 with int32
//!   accumulation (the kernel table's `dot_i8_codes`), one multiply per document. A per-dimension
//!   scale (as sentence-transformers' `quantize_embeddings` calibrates min/max ranges per dimension)
//!   would need a scale inside the sum, i.e. an f32 x int8 dot, and ranges learnt from a calibration
//!   set that a device adding documents one by one does not have; sentence embeddings are
//!   L2-normalised, so every vector already spans a similar range and the per-vector scale loses
//!   little (measured by the run's int8-vs-f32 index rows).
//! - `binary`: one sign bit a dimension (`x > 0`, as `quantize_embeddings(..., "ubinary")`), packed
//!   into 64-bit words; candidates are ranked by Hamming distance and rescored with the f32
//!   vectors, which the store keeps beside the bits (see `store`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The precision an index stores its vectors in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    F32,
    Int8,
    Binary,
}

impl Precision {
    pub const ALL: [Precision; 3] = [Precision::F32, Precision::Int8, Precision::Binary];

    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Int8 => "int8",
            Precision::Binary => "binary",
        }
    }

    /// Bytes of one vector's code as the search scans it (int8 includes its f32 scale).
    pub fn code_bytes(self, dim: usize) -> usize {
        match self {
            Precision::F32 => 4 * dim,
            Precision::Int8 => dim + 4,
            Precision::Binary => 8 * words(dim),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Precision::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("unknown index precision \"{s}\"; expected one of f32, int8, binary"))
    }
}

/// 64-bit words of a binary code of `dim` dimensions.
pub fn words(dim: usize) -> usize {
    dim.div_ceil(64)
}

/// A vector quantized to int8 with its scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Int8Code {
    pub codes: Vec<i8>,
    pub scale: f32,
}

/// Symmetric per-vector int8 quantization (a zero vector gets scale 0 and zero codes).
pub fn quantize_int8(x: &[f32]) -> Int8Code {
    let max = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max == 0.0 || !max.is_finite() {
        return Int8Code {
            codes: vec![0; x.len()],
            scale: 0.0,
        };
    }
    let inv = 127.0 / max;
    Int8Code {
        codes: x.iter().map(|v| (v * inv).round().clamp(-127.0, 127.0) as i8).collect(),
        scale: max / 127.0,
    }
}

/// Sign bits (`x > 0` is 1), dimension `i` at bit `i % 64` of word `i / 64`.
pub fn sign_bits(x: &[f32]) -> Vec<u64> {
    let mut out = vec![0u64; words(x.len())];
    for (i, v) in x.iter().enumerate() {
        if *v > 0.0 {
            out[i / 64] |= 1 << (i % 64);
        }
    }
    out
}

/// Appends the stored bytes of one vector's code at `precision` to `out` (little-endian).
pub fn encode(precision: Precision, x: &[f32], out: &mut Vec<u8>) {
    match precision {
        Precision::F32 => x.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        Precision::Int8 => {
            let q = quantize_int8(x);
            out.extend(q.codes.iter().map(|&c| c as u8));
            out.extend_from_slice(&q.scale.to_le_bytes());
        }
        Precision::Binary => sign_bits(x)
            .iter()
            .for_each(|w| out.extend_from_slice(&w.to_le_bytes())),
    }
}

/// Little-endian f32 values of `bytes` into `out` (cleared first); `bytes.len()` must be a
/// multiple of 4.
pub fn f32s_from_le(bytes: &[u8], out: &mut Vec<f32>) {
    out.clear();
    out.extend(
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
    );
}

/// Little-endian u64 words of `bytes` into `out` (cleared first).
pub fn u64s_from_le(bytes: &[u8], out: &mut Vec<u64>) {
    out.clear();
    out.extend(bytes.chunks_exact(8).map(|b| {
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        u64::from_le_bytes(w)
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_round_trips_within_half_a_step_and_keeps_the_extremes() {
        let x = [0.5f32, -0.25, 0.0, 0.1, -0.5];
        let q = quantize_int8(&x);
        assert_eq!(q.codes[0], 127);
        assert_eq!(q.codes[4], -127);
        for (v, c) in x.iter().zip(&q.codes) {
            assert!((v - *c as f32 * q.scale).abs() <= q.scale / 2.0 + 1e-7);
        }
        assert_eq!(
            quantize_int8(&[0.0; 3]),
            Int8Code {
                codes: vec![0; 3],
                scale: 0.0
            }
        );
    }

    #[test]
    fn codes_have_the_sizes_the_precision_promises() {
        let x: Vec<f32> = (0..70)
            .map(|i| if i % 3 == 0 { -1.0 } else { i as f32 / 70.0 })
            .collect();
        for p in Precision::ALL {
            let mut out = Vec::new();
            encode(p, &x, &mut out);
            assert_eq!(out.len(), p.code_bytes(70), "{p}");
            assert_eq!(p.name().parse::<Precision>(), Ok(p));
        }
        let bits = sign_bits(&x);
        assert_eq!(bits.len(), 2);
        assert_eq!(bits[0] & 1, 0, "dimension 0 is negative");
        assert_eq!(bits[0] >> 1 & 1, 1, "dimension 1 is positive");
        assert_eq!(bits[1] >> (68 - 64) & 1, 1, "dimension 68 is positive");
        assert_eq!(bits[1] >> (69 - 64) & 1, 0, "dimension 69 is negative");
        assert!("f16".parse::<Precision>().is_err());
    }
}
