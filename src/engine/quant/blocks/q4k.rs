//! llama.cpp's Q4_K super-block format, byte for byte as ggml stores it, with the numerics of ggml's
//! reference quantizer `quantize_row_q4_K_ref` (and its helper `make_qkx2_quants`), ggml's
//! `dequantize_row_q4_K`, and the dot product with activations quantized to Q8_K
//! (`quantize_row_q8_K_ref`, `ggml_vec_dot_q4_K_q8_K`). Re-derived from ggml/src/ggml-quants.c and
//! ggml/src/ggml-cpu/quants.c of llama.cpp (github.com/ggml-org/llama.cpp, read in 2026); the Rust is ours.
//!
//! Layout of a super-block of 256 weights (144 bytes, 4.5 bits a weight): f16 `d`, f16 `dmin`, 12 bytes
//! holding eight 6-bit sub-block scales and eight 6-bit sub-block minimums, then 128 bytes of 4-bit
//! codes. Weight `32 * j + l` of sub-block `j` is `d * sc[j] * code - dmin * m[j]`. The codes of
//! weights `64 * c + l` (low nibble) and `64 * c + 32 + l` (high nibble) share byte `32 * c + l`.
//! Scale bytes: for `j < 4`, byte `j` holds `sc[j]` and byte `j + 4` holds `m[j]` in their low 6 bits;
//! for `j >= 4`, byte `j + 4` holds the low 4 bits of `sc[j]` (low nibble) and `m[j]` (high nibble),
//! and the top 2 bits of `sc[j]` and `m[j]` sit in the top 2 bits of bytes `j - 4` and `j`.
//!
//! Q8_K (the activations): per 256 values an f32 `d = -max / 127` (with `max` the signed value of
//! largest magnitude), 256 i8 codes `round(x / d)`, and 16 i16 sums of 16 codes each, which fold the
//! sub-block minimums into the dot: `sum_j dmin * m[j] * sum(x of j)`.

use half::f16;

use super::f16_at;

/// Weights a super-block.
pub const QK_K: usize = 256;
/// Bytes a super-block.
pub const BLOCK_BYTES: usize = 4 + 12 + QK_K / 2;
/// Weights a sub-block (one scale and one minimum).
pub(super) const SUB: usize = 32;

/// ggml's `nearest_int`: round to nearest, ties to even, by adding 1.5 * 2^23 and reading the mantissa
/// (exact for |v| < 2^22; other inputs give ggml's same garbage instead of a panic).
#[inline]
pub(super) fn nearest_int(v: f32) -> i32 {
    let bits = (v + 12_582_912.0f32).to_bits() as i32;
    (bits & 0x007f_ffff) - 0x0040_0000
}

/// ggml's `make_qkx2_quants` with `use_mad = false`: codes `l` in `0..=nmax` and `(scale, min)` with
/// `x ~ scale * l - min`, minimising the `weights`-weighted squared error over a grid of `nstep + 1`
/// inverse scales `(rmin + rdelta * is + nmax) / (max - min)`, each followed by a weighted
/// least-squares fit of scale and offset. Returns `(scale, -min)` (the second is >= 0).
fn make_qkx2_quants(
    x: &[f32],
    weights: &[f32],
    nmax: i32,
    rmin: f32,
    rdelta: f32,
    nstep: i32,
    codes: &mut [u8],
) -> (f32, f32) {
    let n = x.len();
    let (mut min, mut max) = (x[0], x[0]);
    let mut sum_w = weights[0];
    let mut sum_x = sum_w * x[0];
    for i in 1..n {
        if x[i] < min {
            min = x[i];
        }
        if x[i] > max {
            max = x[i];
        }
        let w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if min > 0.0 {
        min = 0.0;
    }
    if max == min {
        codes.iter_mut().for_each(|l| *l = 0);
        return (0.0, -min);
    }
    let mut iscale = nmax as f32 / (max - min);
    let mut scale = 1.0 / iscale;
    let mut best_error = 0.0f32;
    for i in 0..n {
        let l = nearest_int(iscale * (x[i] - min)).clamp(0, nmax);
        codes[i] = l as u8;
        let diff = scale * l as f32 + min - x[i];
        best_error += weights[i] * (diff * diff);
    }
    let mut aux = [0u8; SUB];
    let aux = &mut aux[..n.min(SUB)];
    for is in 0..=nstep {
        iscale = (rmin + rdelta * is as f32 + nmax as f32) / (max - min);
        let (mut sum_l, mut sum_l2, mut sum_xl) = (0.0f32, 0.0f32, 0.0f32);
        for i in 0..aux.len() {
            let l = nearest_int(iscale * (x[i] - min)).clamp(0, nmax);
            aux[i] = l as u8;
            let (w, l) = (weights[i], l as f32);
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        let det = sum_w * sum_l2 - sum_l * sum_l;
        if det > 0.0 {
            let mut this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
            let mut this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
            if this_min > 0.0 {
                this_min = 0.0;
                this_scale = sum_xl / sum_l2;
            }
            let mut cur_error = 0.0f32;
            for i in 0..aux.len() {
                let diff = this_scale * aux[i] as f32 + this_min - x[i];
                cur_error += weights[i] * (diff * diff);
            }
            if cur_error < best_error {
                codes[..aux.len()].copy_from_slice(aux);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    (scale, -min)
}

/// The 6-bit scale and minimum of sub-block `j` (ggml's `get_scale_min_k4`).
#[inline]
pub fn scale_min(j: usize, s: &[u8]) -> (u8, u8) {
    if j < 4 {
        (s[j] & 63, s[j + 4] & 63)
    } else {
        (
            (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4),
            (s[j + 4] >> 4) | ((s[j] >> 6) << 4),
        )
    }
}

/// All eight 6-bit scales and minimums of a super-block at once (the same values as `scale_min`), with
/// ggml's 32-bit mask shuffle of the 12 bytes: scales end up in bytes 0..8, minimums in 8..16.
#[inline]
pub fn unpack_scales(s: &[u8]) -> ([u8; 8], [u8; 8]) {
    const LOW6: u32 = 0x3f3f_3f3f;
    const LOW4: u32 = 0x0f0f_0f0f;
    const LOW2: u32 = 0x0303_0303;
    let word = |i: usize| u32::from_le_bytes([s[4 * i], s[4 * i + 1], s[4 * i + 2], s[4 * i + 3]]);
    let (w0, w1, w2) = (word(0), word(1), word(2));
    let sc_lo = w0 & LOW6;
    let sc_hi = (w2 & LOW4) | (((w0 >> 6) & LOW2) << 4);
    let m_lo = w1 & LOW6;
    let m_hi = ((w2 >> 4) & LOW4) | (((w1 >> 6) & LOW2) << 4);
    let mut sc = [0u8; 8];
    let mut m = [0u8; 8];
    sc[..4].copy_from_slice(&sc_lo.to_le_bytes());
    sc[4..].copy_from_slice(&sc_hi.to_le_bytes());
    m[..4].copy_from_slice(&m_lo.to_le_bytes());
    m[4..].copy_from_slice(&m_hi.to_le_bytes());
    (sc, m)
}

/// One super-block of 256 weights quantized with a 6-bit scale and minimum per sub-block of 32, as
/// ggml's `quantize_row_q4_K_ref` and `quantize_row_q5_K_ref` share it: per sub-block
/// `make_qkx2_quants` with weights `sqrt(mean(x^2)) + |x|` (grid `rmin + 0.1 * is`, `is` in
/// `0..=nstep`), the scales and minimums rounded to 6 bits against their maxima (`d = max_scale / 63`,
/// `dmin = max_min / 63`, stored as f16), then every code recomputed from the stored values:
/// `code = clamp(round((x + dmin * m) / (d * sc)), 0, nmax)`. Returns the codes, `d`, `dmin` and the
/// 12 packed scale bytes.
pub(super) fn quantize_scales_mins(xb: &[f32], nmax: i32, rmin: f32, nstep: i32) -> ([u8; QK_K], f16, f16, [u8; 12]) {
    let mut codes = [0u8; QK_K];
    let mut scales = [0.0f32; QK_K / SUB];
    let mut mins = [0.0f32; QK_K / SUB];
    let (mut max_scale, mut max_min) = (0.0f32, 0.0f32);
    for j in 0..QK_K / SUB {
        let xs = &xb[j * SUB..(j + 1) * SUB];
        let mut sum_x2 = 0.0f32;
        for v in xs {
            sum_x2 += v * v;
        }
        let av_x = (sum_x2 / SUB as f32).sqrt();
        let mut weights = [0.0f32; SUB];
        for (w, v) in weights.iter_mut().zip(xs) {
            *w = av_x + v.abs();
        }
        let (scale, min) = make_qkx2_quants(xs, &weights, nmax, rmin, 0.1, nstep, &mut codes[j * SUB..(j + 1) * SUB]);
        scales[j] = scale;
        mins[j] = min;
        if scale > max_scale {
            max_scale = scale;
        }
        if min > max_min {
            max_min = min;
        }
    }
    let inv_scale = if max_scale > 0.0 { 63.0 / max_scale } else { 0.0 };
    let inv_min = if max_min > 0.0 { 63.0 / max_min } else { 0.0 };
    let mut packed = [0u8; 12];
    for j in 0..QK_K / SUB {
        // `as u8` wraps like C's conversion to uint8_t before the clamp to 63.
        let ls = (nearest_int(inv_scale * scales[j]) as u8).min(63);
        let lm = (nearest_int(inv_min * mins[j]) as u8).min(63);
        if j < 4 {
            packed[j] = ls;
            packed[j + 4] = lm;
        } else {
            packed[j + 4] = (ls & 0x0f) | ((lm & 0x0f) << 4);
            packed[j - 4] |= (ls >> 4) << 6;
            packed[j] |= (lm >> 4) << 6;
        }
    }
    let d = f16::from_f32(max_scale / 63.0);
    let dmin = f16::from_f32(max_min / 63.0);
    // Requantize every sub-block against its 6-bit scale and minimum as stored.
    for j in 0..QK_K / SUB {
        let (sc, m) = scale_min(j, &packed);
        let dj = d.to_f32() * sc as f32;
        if dj == 0.0 {
            continue;
        }
        let dm = dmin.to_f32() * m as f32;
        for l in 0..SUB {
            codes[j * SUB + l] = nearest_int((xb[j * SUB + l] + dm) / dj).clamp(0, nmax) as u8;
        }
    }
    (codes, d, dmin, packed)
}

/// Quantizes `x` (a multiple of 256 long; a shorter tail is ignored) into Q4_K super-blocks, appending
/// to `out` (ggml's `make_qkx2_quants(32, 15, ..., -1, 0.1, 20)` per sub-block).
pub fn quantize(x: &[f32], out: &mut Vec<u8>) {
    for xb in x.chunks_exact(QK_K) {
        let (codes, d, dmin, packed) = quantize_scales_mins(xb, 15, -1.0, 20);
        out.extend_from_slice(&d.to_le_bytes());
        out.extend_from_slice(&dmin.to_le_bytes());
        out.extend_from_slice(&packed);
        for c in 0..QK_K / 64 {
            out.extend((0..32).map(|l| codes[c * 64 + l] | (codes[c * 64 + 32 + l] << 4)));
        }
    }
}

/// Dequantizes Q4_K super-blocks into `out` (`out.len()` weights, a multiple of 256), as ggml does:
/// `(d * sc) * code - dmin * m` in f32.
pub fn dequantize(bytes: &[u8], out: &mut [f32]) {
    for (block, dst) in bytes.chunks_exact(BLOCK_BYTES).zip(out.chunks_exact_mut(QK_K)) {
        let (d, dmin) = (f16_at(block, 0), f16_at(block, 2));
        let (scales, qs) = (&block[4..16], &block[16..]);
        for c in 0..QK_K / 64 {
            let (sc1, m1) = scale_min(2 * c, scales);
            let (sc2, m2) = scale_min(2 * c + 1, scales);
            let (d1, m1) = (d * sc1 as f32, dmin * m1 as f32);
            let (d2, m2) = (d * sc2 as f32, dmin * m2 as f32);
            for l in 0..32 {
                let q = qs[c * 32 + l];
                dst[c * 64 + l] = d1 * (q & 0x0f) as f32 - m1;
                dst[c * 64 + 32 + l] = d2 * (q >> 4) as f32 - m2;
            }
        }
    }
}

/// One activation row quantized to Q8_K: per super-block of 256 the scale `d`, and per 16 codes their sum.
#[derive(Clone, Debug, Default)]
pub struct Q8KRow {
    /// Scale of each super-block.
    pub d: Vec<f32>,
    /// Codes, 256 a super-block.
    pub q: Vec<i8>,
    /// Sum of each run of 16 codes (16 a super-block).
    pub bsums: Vec<i16>,
}

/// Quantizes an activation row (a multiple of 256 long; a shorter tail is ignored) to Q8_K as ggml's
/// `quantize_row_q8_K_ref` does (an all-zero block gets `d = 0` and zero codes and sums).
pub fn quantize_q8k_row(x: &[f32]) -> Q8KRow {
    let blocks = x.len() / QK_K;
    let mut row = Q8KRow {
        d: Vec::with_capacity(blocks),
        q: Vec::with_capacity(blocks * QK_K),
        bsums: Vec::with_capacity(blocks * QK_K / 16),
    };
    for xb in x.chunks_exact(QK_K) {
        let (mut max, mut amax) = (0.0f32, 0.0f32);
        for &v in xb {
            if v.abs() > amax {
                amax = v.abs();
                max = v;
            }
        }
        if amax == 0.0 {
            row.d.push(0.0);
            row.q.extend(std::iter::repeat_n(0i8, QK_K));
            row.bsums.extend(std::iter::repeat_n(0i16, QK_K / 16));
            continue;
        }
        let iscale = -127.0 / max;
        let start = row.q.len();
        row.q.extend(xb.iter().map(|&v| nearest_int(iscale * v).min(127) as i8));
        let codes = &row.q[start..];
        row.bsums
            .extend(codes.chunks_exact(16).map(|c| c.iter().map(|&q| q as i16).sum::<i16>()));
        row.d.push(1.0 / iscale);
    }
    row
}

/// The integer parts of one super-block's dot: `sum_j sc[j] * sum(code * q)` and `sum_j m[j] * sum(q of j)`.
#[inline]
pub fn block_sums(block: &[u8], q: &[i8], bsums: &[i16]) -> (i32, i32) {
    let (sc, m) = unpack_scales(&block[4..16]);
    let qs = &block[16..BLOCK_BYTES];
    let mut isum = 0i32;
    for c in 0..QK_K / 64 {
        let (mut lo, mut hi) = (0i32, 0i32);
        for l in 0..32 {
            let b = qs[c * 32 + l];
            lo += (b & 0x0f) as i32 * q[c * 64 + l] as i32;
            hi += (b >> 4) as i32 * q[c * 64 + 32 + l] as i32;
        }
        isum += sc[2 * c] as i32 * lo + sc[2 * c + 1] as i32 * hi;
    }
    let msum = bsums.iter().enumerate().map(|(k, &s)| m[k / 2] as i32 * s as i32).sum();
    (isum, msum)
}

/// Combines one super-block's integer sums into the running float total, in one fixed order that every
/// kernel table shares: `d * yd * isum - dmin * yd * msum` (`d`, `dmin` the block's f16 values as f32).
#[inline]
pub fn accumulate(total: f32, d: f32, dmin: f32, yd: f32, isum: i32, msum: i32) -> f32 {
    total + d * yd * isum as f32 - dmin * yd * msum as f32
}

/// Dot product of one Q4_K weight row with one Q8_K activation row, super-block by super-block with
/// int32 sums (ggml's `ggml_vec_dot_q4_K_q8_K`).
pub fn dot_row(w: &[u8], x: &Q8KRow) -> f32 {
    let mut total = 0.0f32;
    for (b, block) in w.chunks_exact(BLOCK_BYTES).enumerate() {
        let (isum, msum) = block_sums(block, &x.q[b * QK_K..(b + 1) * QK_K], &x.bsums[b * 16..(b + 1) * 16]);
        total = accumulate(total, f16_at(block, 0), f16_at(block, 2), x.d[b], isum, msum);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_int_rounds_half_to_even_like_ggml() {
        for (v, want) in [
            (0.5f32, 0),
            (1.5, 2),
            (2.5, 2),
            (-0.5, 0),
            (-1.5, -2),
            (14.49, 14),
            (-3.7, -4),
        ] {
            assert_eq!(nearest_int(v), want, "{v}");
        }
    }

    #[test]
    fn scales_and_minimums_pack_and_unpack() {
        // Pack 6-bit values the way `quantize` does and read them back.
        let sc: [u8; 8] = [1, 63, 17, 40, 0, 33, 62, 5];
        let m: [u8; 8] = [63, 0, 9, 48, 31, 2, 60, 16];
        let mut packed = [0u8; 12];
        for j in 0..8 {
            if j < 4 {
                packed[j] = sc[j];
                packed[j + 4] = m[j];
            } else {
                packed[j + 4] = (sc[j] & 0x0f) | ((m[j] & 0x0f) << 4);
                packed[j - 4] |= (sc[j] >> 4) << 6;
                packed[j] |= (m[j] >> 4) << 6;
            }
        }
        for j in 0..8 {
            assert_eq!(scale_min(j, &packed), (sc[j], m[j]), "sub-block {j}");
        }
        assert_eq!(unpack_scales(&packed), (sc, m));
        // Any 12 bytes: the word-wise unpacking agrees with the per-sub-block one.
        let mut state = 0x2545_f491u32;
        for _ in 0..1000 {
            let bytes: Vec<u8> = (0..12)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            let (sc, m) = unpack_scales(&bytes);
            for j in 0..8 {
                assert_eq!(scale_min(j, &bytes), (sc[j], m[j]), "{bytes:?} sub-block {j}");
            }
        }
    }

    #[test]
    fn zero_blocks_quantize_to_zero() {
        let mut bytes = Vec::new();
        quantize(&[0.0; 256], &mut bytes);
        assert!(bytes.iter().all(|&b| b == 0));
        let q8 = quantize_q8k_row(&[0.0; 256]);
        assert_eq!(q8.d, vec![0.0]);
        assert_eq!(dot_row(&bytes, &q8), 0.0);
    }
}
