//! Weight quantizers and the packed formats they produce.
//!
//! Weights arrive PyTorch-style, `[out, in]` row-major. Each format keeps the integers really packed
//! (one byte per int8 weight, two 4-bit weights per byte) and reports its stored bytes.

/// Per-output-channel symmetric int8: `w[o][i] ~= scale[o] * q[o][i]`, `q` in -127..=127.
#[derive(Clone, Debug)]
pub struct Int8Weights {
    pub q: Vec<i8>,
    pub scale: Vec<f32>,
}

/// Symmetric scale of a slice for `levels` positive levels (127 for int8, 7 for int4): `max|x| / levels`.
fn symmetric_scale(xs: &[f32], levels: f32) -> f32 {
    let max = xs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max > 0.0 {
        max / levels
    } else {
        1.0
    }
}

/// Quantizes `[out, in]` weights to per-output-channel symmetric int8.
pub fn quantize_int8(w: &[f32], out_f: usize, in_f: usize) -> Int8Weights {
    let mut q = Vec::with_capacity(out_f * in_f);
    let mut scale = Vec::with_capacity(out_f);
    for row in w.chunks_exact(in_f).take(out_f) {
        let s = symmetric_scale(row, 127.0);
        q.extend(row.iter().map(|v| (v / s).round().clamp(-127.0, 127.0) as i8));
        scale.push(s);
    }
    Int8Weights { q, scale }
}

/// Quantizes one activation row to symmetric int8 (per-token dynamic scale); returns the scale.
pub fn quantize_row_int8(x: &[f32], out: &mut [i8]) -> f32 {
    let s = symmetric_scale(x, 127.0);
    for (o, v) in out.iter_mut().zip(x) {
        *o = (v / s).round().clamp(-127.0, 127.0) as i8;
    }
    s
}

/// Group-wise symmetric 4-bit round-to-nearest, two weights a byte.
///
/// Row `o` is split into groups of `group` input weights, each with scale `d = max|w| / 7` and
/// codes `q = clamp(round(w / d), -8, 7)` stored as the nibble `q + 8` (low nibble = even input index).
/// Rows are padded to a whole byte, so `row_bytes = ceil(in / 2)`.
#[derive(Clone, Debug)]
pub struct Int4Weights {
    pub packed: Vec<u8>,
    pub scale: Vec<f32>,
    pub group: usize,
    pub row_bytes: usize,
    pub groups_per_row: usize,
}

/// Quantizes `[out, in]` weights to group-wise symmetric int4.
pub fn quantize_int4(w: &[f32], out_f: usize, in_f: usize, group: usize) -> Int4Weights {
    let row_bytes = in_f.div_ceil(2);
    let groups_per_row = in_f.div_ceil(group);
    let mut packed = vec![0u8; out_f * row_bytes];
    let mut scale = Vec::with_capacity(out_f * groups_per_row);
    for (o, row) in w.chunks_exact(in_f).take(out_f).enumerate() {
        let dst = &mut packed[o * row_bytes..(o + 1) * row_bytes];
        for (g, chunk) in row.chunks(group).enumerate() {
            let d = symmetric_scale(chunk, 7.0);
            scale.push(d);
            for (j, v) in chunk.iter().enumerate() {
                let i = g * group + j;
                let code = ((v / d).round().clamp(-8.0, 7.0) as i32 + 8) as u8;
                dst[i / 2] |= if i.is_multiple_of(2) { code } else { code << 4 };
            }
        }
    }
    Int4Weights {
        packed,
        scale,
        group,
        row_bytes,
        groups_per_row,
    }
}

impl Int4Weights {
    /// Dequantizes row `o` into `out` (length `in`).
    pub fn dequantize_row(&self, o: usize, out: &mut [f32]) {
        let bytes = &self.packed[o * self.row_bytes..(o + 1) * self.row_bytes];
        let scales = &self.scale[o * self.groups_per_row..(o + 1) * self.groups_per_row];
        for (i, v) in out.iter_mut().enumerate() {
            let byte = bytes[i / 2];
            let code = if i.is_multiple_of(2) { byte & 0x0f } else { byte >> 4 };
            *v = (code as i32 - 8) as f32 * scales[i / self.group];
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
        let q = quantize_int4(&w, out_f, in_f, group);
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
    fn all_zero_weights_quantize_to_zero() {
        let q = quantize_int4(&[0.0; 8], 1, 8, 32);
        let mut row = vec![1.0; 8];
        q.dequantize_row(0, &mut row);
        assert!(row.iter().all(|v| *v == 0.0));
        let q8 = quantize_int8(&[0.0; 8], 1, 8);
        assert!(q8.q.iter().all(|v| *v == 0));
    }
}
