//! Weight quantizers and the packed formats they produce.
//!
//! Weights arrive PyTorch-style, `[out, in]` row-major. Each format keeps the integers really packed
//! (one byte per int8 weight, two 4-bit weights per byte) and reports its stored bytes.

use super::blocks::round_half_away;

/// Per-output-channel symmetric int8: `w[o][i] ~= scale[o] * q[o][i]`, `q` in -127..=127.
#[derive(Clone, Debug)]
pub struct Int8Weights {
    pub q: Vec<i8>,
    pub scale: Vec<f32>,
    /// `sum(q[o])` per row: the correction term of unsigned x signed (VNNI) products.
    pub row_sum: Vec<i32>,
    /// The same weights in the VNNI block layout, when the CPU's kernel table uses it.
    pub vnni: Option<Vec<i8>>,
}

/// Symmetric scale of a slice for `levels` positive levels (127 for int8, 7 for int4): `max|x| / levels`.
pub(crate) fn symmetric_scale(xs: &[f32], levels: f32) -> f32 {
    let max = xs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max > 0.0 {
        max / levels
    } else {
        1.0
    }
}

/// `x.round().clamp(lo, hi)` bit for bit (half away from zero, NaN as NaN), without `roundf`'s library
/// call per element, so the loops that quantize whole weight matrices vectorize: AWQ's search quantizes
/// every Linear twenty times and this call was a quarter of its time. `lo..=hi` must lie within the
/// `i32` range.
#[inline]
pub fn round_clamped(x: f32, lo: f32, hi: f32) -> f32 {
    let r = rounded(x, lo, hi) as f32;
    if x.is_nan() {
        x
    } else {
        r.copysign(x).clamp(lo, hi)
    }
}

/// `x.round().clamp(lo, hi) as i32` (NaN gives 0, as the cast does), for integer codes.
#[inline]
pub fn round_clamped_i32(x: f32, lo: f32, hi: f32) -> i32 {
    rounded(x, lo, hi).clamp(lo as i32, hi as i32)
}

/// `x` rounded half away from zero (`blocks::round_half_away`) after clamping it one step outside
/// `lo..=hi` (rounding cannot bring a value from there back inside); NaN gives 0.
#[inline(always)]
fn rounded(x: f32, lo: f32, hi: f32) -> i32 {
    debug_assert!(lo > -1e9 && hi < 1e9 && lo <= hi, "code range {lo}..={hi}");
    round_half_away(x.clamp(lo - 1.0, hi + 1.0))
}

/// Quantizes `[out, in]` weights to per-output-channel symmetric int8.
pub fn quantize_int8(w: &[f32], out_f: usize, in_f: usize) -> Int8Weights {
    let mut q = Vec::with_capacity(out_f * in_f);
    let mut scale = Vec::with_capacity(out_f);
    let mut row_sum = Vec::with_capacity(out_f);
    for row in w.chunks_exact(in_f).take(out_f) {
        let s = symmetric_scale(row, 127.0);
        let start = q.len();
        q.extend(row.iter().map(|v| round_clamped_i32(v / s, -127.0, 127.0) as i8));
        row_sum.push(q[start..].iter().map(|&v| v as i32).sum());
        scale.push(s);
    }
    Int8Weights {
        q,
        scale,
        row_sum,
        vnni: None,
    }
}

/// Quantizes one activation row to symmetric int8 (per-token dynamic scale); returns the scale.
/// Rounds half away from zero, as `f32::round`, but without a library call per element (this runs
/// on every activation of every W8A8 layer).
pub fn quantize_row_int8(x: &[f32], out: &mut [i8]) -> f32 {
    let s = symmetric_scale(x, 127.0);
    for (o, v) in out.iter_mut().zip(x) {
        let r = (v / s).clamp(-127.0, 127.0);
        *o = (r + 0.5f32.copysign(r)) as i8;
    }
    s
}

/// Group-wise 4-bit round-to-nearest, two weights a byte (low nibble = even input index).
///
/// Row `o` is split into groups of `group` input weights (the whole row for per-channel).
/// Symmetric: scale `d = max|w| / 7`, codes `q = clamp(round(w / d), -8, 7)` stored as `q + 8`,
/// `w ~= (code - 8) * d`. Asymmetric: `d = (max - min) / 15`, `code = clamp(round((w - min) / d), 0, 15)`,
/// `w ~= code * d + min`. Rows are padded to a whole byte, so `row_bytes = ceil(in / 2)`.
#[derive(Clone, Debug)]
pub struct Int4Weights {
    pub packed: Vec<u8>,
    pub scale: Vec<f32>,
    /// Per-group minimums of the asymmetric format.
    pub min: Option<Vec<f32>>,
    pub group: usize,
    pub row_bytes: usize,
    pub groups_per_row: usize,
}

/// Quantizes `[out, in]` weights to group-wise int4, symmetric or asymmetric.
pub fn quantize_int4(w: &[f32], out_f: usize, in_f: usize, group: usize, asym: bool) -> Int4Weights {
    let group = group.clamp(1, in_f.max(1));
    let row_bytes = in_f.div_ceil(2);
    let groups_per_row = in_f.div_ceil(group);
    let mut packed = vec![0u8; out_f * row_bytes];
    let mut scale = Vec::with_capacity(out_f * groups_per_row);
    let mut mins = Vec::with_capacity(if asym { out_f * groups_per_row } else { 0 });
    for (o, row) in w.chunks_exact(in_f).take(out_f).enumerate() {
        let dst = &mut packed[o * row_bytes..(o + 1) * row_bytes];
        for (g, chunk) in row.chunks(group).enumerate() {
            let codes: Box<dyn Iterator<Item = u8>> = if asym {
                let lo = chunk.iter().copied().fold(f32::INFINITY, f32::min);
                let hi = chunk.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let d = if hi > lo { (hi - lo) / 15.0 } else { 1.0 };
                scale.push(d);
                mins.push(lo);
                Box::new(
                    chunk
                        .iter()
                        .map(move |v| round_clamped_i32((v - lo) / d, 0.0, 15.0) as u8),
                )
            } else {
                let d = symmetric_scale(chunk, 7.0);
                scale.push(d);
                Box::new(
                    chunk
                        .iter()
                        .map(move |v| (round_clamped_i32(v / d, -8.0, 7.0) + 8) as u8),
                )
            };
            for (j, code) in codes.enumerate() {
                let i = g * group + j;
                dst[i / 2] |= if i.is_multiple_of(2) { code } else { code << 4 };
            }
        }
    }
    Int4Weights {
        packed,
        scale,
        min: asym.then_some(mins),
        group,
        row_bytes,
        groups_per_row,
    }
}

/// Symmetric group-wise int4 with given per-group scales (one per row x group, row-major), e.g.
/// scales chosen by a clipping search: `code = clamp(round(w / d), -8, 7) + 8`.
pub fn quantize_int4_with_scales(w: &[f32], out_f: usize, in_f: usize, group: usize, scales: &[f32]) -> Int4Weights {
    let group = group.clamp(1, in_f.max(1));
    let row_bytes = in_f.div_ceil(2);
    let groups_per_row = in_f.div_ceil(group);
    let mut packed = vec![0u8; out_f * row_bytes];
    // A row's codes first (a loop per group that vectorizes), then packed two a byte.
    let mut codes = vec![0u8; row_bytes * 2];
    for (o, row) in w.chunks_exact(in_f).take(out_f).enumerate() {
        int4_codes(
            row,
            &scales[o * groups_per_row..(o + 1) * groups_per_row],
            group,
            &mut codes,
        );
        for (byte, pair) in packed[o * row_bytes..(o + 1) * row_bytes]
            .iter_mut()
            .zip(codes.chunks_exact(2))
        {
            *byte = pair[0] | pair[1] << 4;
        }
    }
    Int4Weights {
        packed,
        scale: scales.to_vec(),
        min: None,
        group,
        row_bytes,
        groups_per_row,
    }
}

/// Symmetric int4 codes `clamp(round(w / d), -8, 7) + 8` of one row, `d` per group of `group`.
fn int4_codes(row: &[f32], scales: &[f32], group: usize, codes: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected just above.
        return unsafe { int4_codes_avx2(row, scales, group, codes) };
    }
    int4_codes_portable(row, scales, group, codes)
}

/// `int4_codes` compiled with AVX2 (the same operations per element, eight a vector): AWQ's search
/// quantizes every Linear twenty-one times.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn int4_codes_avx2(row: &[f32], scales: &[f32], group: usize, codes: &mut [u8]) {
    int4_codes_portable(row, scales, group, codes)
}

#[inline(always)]
fn int4_codes_portable(row: &[f32], scales: &[f32], group: usize, codes: &mut [u8]) {
    for ((chunk, dst), &d) in row.chunks(group).zip(codes.chunks_mut(group)).zip(scales) {
        for (c, v) in dst.iter_mut().zip(chunk) {
            *c = (round_clamped_i32(v / d, -8.0, 7.0) + 8) as u8;
        }
    }
}

impl Int8Weights {
    /// Dequantizes row `o` into `out`.
    pub fn dequantize_row(&self, o: usize, out: &mut [f32]) {
        let width = out.len();
        for (v, q) in out.iter_mut().zip(&self.q[o * width..(o + 1) * width]) {
            *v = *q as f32 * self.scale[o];
        }
    }
}

impl Int4Weights {
    /// Dequantizes row `o` into `out` (length `in`).
    pub fn dequantize_row(&self, o: usize, out: &mut [f32]) {
        let bytes = &self.packed[o * self.row_bytes..(o + 1) * self.row_bytes];
        let groups = o * self.groups_per_row..(o + 1) * self.groups_per_row;
        let scales = &self.scale[groups.clone()];
        let mins = self.min.as_ref().map(|m| &m[groups]);
        // Code of weight i: low nibble for even i, high for odd. Groups start at even indices unless
        // the group size is odd, so unpack by group and fall back to per-index nibbles when needed.
        for (g, chunk) in out.chunks_mut(self.group).enumerate() {
            let (d, offset) = match mins {
                Some(m) => (scales[g], m[g]),
                None => (scales[g], -8.0 * scales[g]),
            };
            let start = g * self.group;
            if start.is_multiple_of(2) {
                let src = &bytes[start / 2..];
                let tail_byte = src.get(chunk.len() / 2).copied().unwrap_or(0);
                let mut pairs = chunk.chunks_exact_mut(2);
                for (pair, &byte) in (&mut pairs).zip(src) {
                    pair[0] = (byte & 0x0f) as f32 * d + offset;
                    pair[1] = (byte >> 4) as f32 * d + offset;
                }
                let rest = pairs.into_remainder();
                if let Some(last) = rest.first_mut() {
                    *last = (tail_byte & 0x0f) as f32 * d + offset;
                }
            } else {
                for (j, v) in chunk.iter_mut().enumerate() {
                    let i = start + j;
                    let byte = bytes[i / 2];
                    let code = if i.is_multiple_of(2) { byte & 0x0f } else { byte >> 4 };
                    *v = code as f32 * d + offset;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_round_trip_error_is_within_half_a_step() {
        let w: Vec<f32> = (0..3 * 5).map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.1).collect();
        let q = quantize_int8(&w, 3, 5);
        for o in 0..3 {
            for i in 0..5 {
                let back = q.q[o * 5 + i] as f32 * q.scale[o];
                assert!((back - w[o * 5 + i]).abs() <= q.scale[o] * 0.5 + 1e-7);
            }
        }
    }

    #[test]
    fn int4_packs_two_weights_a_byte_and_round_trips_within_half_a_step() {
        let (out_f, in_f, group) = (3, 67, 32);
        let w: Vec<f32> = (0..out_f * in_f)
            .map(|i| ((i * 7919 % 101) as f32 - 50.0) / 37.0)
            .collect();
        let q = quantize_int4(&w, out_f, in_f, group, false);
        assert_eq!(q.packed.len(), out_f * 34);
        assert_eq!(q.scale.len(), out_f * 3);
        let mut row = vec![0.0; in_f];
        for o in 0..out_f {
            q.dequantize_row(o, &mut row);
            for i in 0..in_f {
                let d = q.scale[o * 3 + i / group];
                assert!((row[i] - w[o * in_f + i]).abs() <= d * 0.5 + 1e-6, "o={o} i={i}");
            }
        }
    }

    #[test]
    fn asymmetric_int4_round_trips_within_half_a_step_and_beats_symmetric_on_shifted_weights() {
        let (out_f, in_f) = (2, 70);
        // All-positive weights: the symmetric format wastes half its codes.
        let w: Vec<f32> = (0..out_f * in_f).map(|i| 1.0 + (i * 31 % 17) as f32 / 16.0).collect();
        let asym = quantize_int4(&w, out_f, in_f, 32, true);
        let sym = quantize_int4(&w, out_f, in_f, 32, false);
        let (mut row_a, mut row_s) = (vec![0.0; in_f], vec![0.0; in_f]);
        let (mut err_a, mut err_s) = (0.0f32, 0.0f32);
        for o in 0..out_f {
            asym.dequantize_row(o, &mut row_a);
            sym.dequantize_row(o, &mut row_s);
            for i in 0..in_f {
                let d = asym.scale[o * 3 + i / 32];
                assert!((row_a[i] - w[o * in_f + i]).abs() <= d * 0.5 + 1e-6);
                err_a += (row_a[i] - w[o * in_f + i]).powi(2);
                err_s += (row_s[i] - w[o * in_f + i]).powi(2);
            }
        }
        assert!(err_a < err_s, "asym {err_a} vs sym {err_s}");
    }

    #[test]
    fn activation_rounding_matches_round_half_away_from_zero() {
        let x: Vec<f32> = (-300..=300)
            .map(|i| i as f32 * 0.4237 + 0.5)
            .chain([127.0, -127.0, 0.0, 63.5, -63.5])
            .collect();
        let mut q = vec![0i8; x.len()];
        let s = quantize_row_int8(&x, &mut q);
        for (v, q) in x.iter().zip(&q) {
            assert_eq!(*q as f32, (v / s).round().clamp(-127.0, 127.0), "{v}");
        }
    }

    #[test]
    fn round_clamped_is_round_then_clamp_bit_for_bit_and_as_integer() {
        let mut xs: Vec<f32> = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            7.5,
            -8.5,
            6.5,
            -7.5,
            0.49999997,
            -0.49999997,
            8388607.5,
            -8388609.0,
            1e30,
            -1e30,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
        ];
        // Every float in a band around the ends, and a sweep with many exact halves.
        xs.extend((-2000..2000).map(|i| i as f32 * 0.25));
        xs.extend((0..200_000u32).map(|i| f32::from_bits(0x4100_0000 - 100_000 + i)));
        xs.extend((0..200_000u32).map(|i| -f32::from_bits(0x3f00_0000 - 100_000 + i)));
        for (lo, hi) in [(-8.0, 7.0), (0.0, 15.0), (-127.0, 127.0)] {
            for &x in &xs {
                let (want, got) = (x.round().clamp(lo, hi), round_clamped(x, lo, hi));
                assert!(
                    want.to_bits() == got.to_bits() || (want.is_nan() && got.is_nan()),
                    "{x} in {lo}..{hi}: {want} vs {got}"
                );
                assert_eq!(want as i32, round_clamped_i32(x, lo, hi), "{x} in {lo}..{hi}");
            }
        }
    }

    #[test]
    fn all_zero_weights_quantize_to_zero() {
        let q = quantize_int4(&[0.0; 8], 1, 8, 32, false);
        let mut row = vec![1.0; 8];
        q.dequantize_row(0, &mut row);
        assert!(row.iter().all(|v| *v == 0.0));
        let q8 = quantize_int8(&[0.0; 8], 1, 8);
        assert!(q8.q.iter().all(|v| *v == 0));
    }
}
