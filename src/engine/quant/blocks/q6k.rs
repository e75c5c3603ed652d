//! llama.cpp's Q6_K super-block format, byte for byte as ggml stores it, with the numerics of ggml's
//! reference quantizer `quantize_row_q6_K_ref` (and its helper `make_qx_quants` with `rmse_type = 1`),
//! `dequantize_row_q6_K`, and the dot with Q8_K activations (`ggml_vec_dot_q6_K_q8_K`). Re-derived
//! from ggml/src/ggml-quants.c and ggml/src/ggml-cpu/quants.c of llama.cpp
//! (github.com/ggml-org/llama.cpp); the Rust is ours.
//!
//! Layout of a super-block of 256 weights (210 bytes, 6.5625 bits a weight): 128 bytes `ql` (low 4
//! bits), 64 bytes `qh` (high 2 bits), 16 signed 8-bit sub-block scales (one per 16 weights), then the
//! f16 `d` last. For half `h` (128 weights) and `l < 32`, with `ql`/`qh` the half's 64/32 bytes, the
//! unsigned codes (0..=63) of weights `128h + l + 32k`, k = 0..4, are `ql[l] & 15`, `ql[l + 32] & 15`,
//! `ql[l] >> 4`, `ql[l + 32] >> 4`, each plus `16 * ((qh[l] >> 2k) & 3)`. Weight `i` is
//! `d * sc[i / 16] * (code - 32)`.
//!
//! The dot with Q8_K (per 256 values a scale and per 16 values a code sum `bsums`) is
//! `d * yd * sum_j sc[j] * sum((code - 32) * q)`; the integer part is computed exactly, as
//! `sum_j sc[j] * (sum(code * q) - 32 * bsums[j])`, which lets SIMD tables multiply unsigned codes.

use half::f16;

use super::f16_at;
use super::q4k::{nearest_int, Q8KRow, QK_K};

/// Bytes a super-block.
pub const BLOCK_BYTES: usize = QK_K / 2 + QK_K / 4 + QK_K / 16 + 2;
/// Offset of `qh` in a super-block.
pub const QH_AT: usize = QK_K / 2;
/// Offset of the 16 scales in a super-block.
pub const SC_AT: usize = QH_AT + QK_K / 4;
/// Offset of the f16 `d` in a super-block.
pub const D_AT: usize = SC_AT + QK_K / 16;
/// ggml's `GROUP_MAX_EPS`: a group whose largest magnitude is below it counts as all zero.
const GROUP_MAX_EPS: f32 = 1e-15;

/// ggml's `make_qx_quants` with `rmse_type = 1` and no importance weights (so each value weighs
/// `x^2`): signed codes `l` in `-nmax..nmax` (stored as `l + nmax`) and the scale minimising the
/// weighted error `sum x^2 (x - scale * l)^2` over the grid of inverse scales `-(nmax + 0.1 is) / max`,
/// `is` in `-9..=9`, where `max` is the signed value of largest magnitude; the scale of each grid point
/// is the least-squares one, `sum(w x l) / sum(w l^2)`.
fn make_qx_quants(x: &[f32], nmax: i32, codes: &mut [u8]) -> f32 {
    let (mut max, mut amax) = (0.0f32, 0.0f32);
    for &v in x {
        if v.abs() > amax {
            amax = v.abs();
            max = v;
        }
    }
    if amax < GROUP_MAX_EPS {
        codes.iter_mut().for_each(|c| *c = 0);
        return 0.0;
    }
    let sums = |iscale: f32| {
        let (mut sumlx, mut suml2) = (0.0f32, 0.0f32);
        for &v in x {
            let l = nearest_int(iscale * v).clamp(-nmax, nmax - 1) as f32;
            let w = v * v;
            sumlx += w * v * l;
            suml2 += w * l * l;
        }
        (sumlx, suml2)
    };
    let fill = |iscale: f32, codes: &mut [u8]| {
        for (c, &v) in codes.iter_mut().zip(x) {
            *c = (nmax + nearest_int(iscale * v).clamp(-nmax, nmax - 1)) as u8;
        }
    };
    let iscale = -(nmax as f32) / max;
    fill(iscale, codes);
    let (sumlx, suml2) = sums(iscale);
    let mut scale = if suml2 != 0.0 { sumlx / suml2 } else { 0.0 };
    let mut best = scale * sumlx;
    for is in -9..=9 {
        if is == 0 {
            continue;
        }
        let iscale = -(nmax as f32 + 0.1 * is as f32) / max;
        let (sumlx, suml2) = sums(iscale);
        if suml2 > 0.0 && sumlx * sumlx > best * suml2 {
            fill(iscale, codes);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    scale
}

/// Quantizes `x` (a multiple of 256 long; a shorter tail is ignored) into Q6_K super-blocks, appending
/// to `out`: a scale per 16 weights by `make_qx_quants(16, 32)`, the scales rounded to signed 8 bits
/// against the one of largest magnitude (`d = max_scale / -128`, stored as f16,
/// `sc = min(127, round(-128 * scale / max_scale))`), then every code recomputed from the stored
/// values, `clamp(round(x / (d * sc)), -32, 31) + 32`. An all-zero super-block is all zero bytes.
pub fn quantize(x: &[f32], out: &mut Vec<u8>) {
    for xb in x.chunks_exact(QK_K) {
        let mut codes = [0u8; QK_K];
        let mut scales = [0.0f32; QK_K / 16];
        let (mut max_scale, mut max_abs_scale) = (0.0f32, 0.0f32);
        for (ib, s) in scales.iter_mut().enumerate() {
            *s = make_qx_quants(&xb[16 * ib..16 * ib + 16], 32, &mut codes[16 * ib..16 * ib + 16]);
            if s.abs() > max_abs_scale {
                max_abs_scale = s.abs();
                max_scale = *s;
            }
        }
        if max_abs_scale < GROUP_MAX_EPS {
            out.extend(std::iter::repeat_n(0u8, BLOCK_BYTES));
            continue;
        }
        let iscale = -128.0 / max_scale;
        let d = f16::from_f32(1.0 / iscale);
        // C converts the int to int8_t: the clamp is only from above (the value is >= -128 anyway).
        let sc: [i8; QK_K / 16] = std::array::from_fn(|ib| nearest_int(iscale * scales[ib]).min(127) as i8);
        for (j, &s) in sc.iter().enumerate() {
            let dj = d.to_f32() * s as f32;
            if dj == 0.0 {
                continue;
            }
            for i in 16 * j..16 * j + 16 {
                codes[i] = (nearest_int(xb[i] / dj).clamp(-32, 31) + 32) as u8;
            }
        }
        let start = out.len();
        out.resize(start + BLOCK_BYTES, 0);
        let block = &mut out[start..];
        for h in 0..QK_K / 128 {
            let c = &codes[128 * h..128 * h + 128];
            for l in 0..32 {
                block[64 * h + l] = (c[l] & 0x0f) | (c[l + 64] << 4);
                block[64 * h + l + 32] = (c[l + 32] & 0x0f) | (c[l + 96] << 4);
                block[QH_AT + 32 * h + l] =
                    (c[l] >> 4) | (c[l + 32] >> 4) << 2 | (c[l + 64] >> 4) << 4 | (c[l + 96] >> 4) << 6;
            }
        }
        for (dst, &s) in block[SC_AT..D_AT].iter_mut().zip(&sc) {
            *dst = s as u8;
        }
        block[D_AT..].copy_from_slice(&d.to_le_bytes());
    }
}

/// The 256 unsigned codes (0..=63, the weight's `code - 32` plus 32) of a super-block.
#[inline]
pub fn codes(block: &[u8]) -> [u8; QK_K] {
    let mut out = [0u8; QK_K];
    for h in 0..QK_K / 128 {
        let (ql, qh) = (&block[64 * h..64 * h + 64], &block[QH_AT + 32 * h..QH_AT + 32 * h + 32]);
        let c = &mut out[128 * h..128 * h + 128];
        for l in 0..32 {
            c[l] = (ql[l] & 0x0f) | (qh[l] & 3) << 4;
            c[l + 32] = (ql[l + 32] & 0x0f) | ((qh[l] >> 2) & 3) << 4;
            c[l + 64] = (ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4;
            c[l + 96] = (ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4;
        }
    }
    out
}

/// The 16 signed sub-block scales of a super-block.
#[inline]
pub fn scales(block: &[u8]) -> [i8; QK_K / 16] {
    std::array::from_fn(|j| block[SC_AT + j] as i8)
}

/// Dequantizes Q6_K super-blocks into `out` (`out.len()` weights, a multiple of 256), as ggml does:
/// `(d * sc) * (code - 32)` in f32.
pub fn dequantize(bytes: &[u8], out: &mut [f32]) {
    for (block, dst) in bytes.chunks_exact(BLOCK_BYTES).zip(out.chunks_exact_mut(QK_K)) {
        let d = f16_at(block, D_AT);
        let (codes, sc) = (codes(block), scales(block));
        for (i, v) in dst.iter_mut().enumerate() {
            *v = d * sc[i / 16] as f32 * (codes[i] as i32 - 32) as f32;
        }
    }
}

/// The integer part of one super-block's dot, `sum_j sc[j] * sum((code - 32) * q)`, from the code sums
/// `bsums` of Q8_K (one per 16 values, as the scales).
#[inline]
pub fn block_sum(block: &[u8], q: &[i8], bsums: &[i16]) -> i32 {
    let (codes, sc) = (codes(block), scales(block));
    (0..QK_K / 16)
        .map(|j| {
            let sub: i32 = (16 * j..16 * j + 16).map(|i| codes[i] as i32 * q[i] as i32).sum();
            sc[j] as i32 * (sub - 32 * bsums[j] as i32)
        })
        .sum()
}

/// Combines one super-block's integer sum into the running float total, in the one order every kernel
/// table shares: `total + d * yd * isum` (ggml's `(d * yd) * isum`).
#[inline]
pub fn accumulate(total: f32, d: f32, yd: f32, isum: i32) -> f32 {
    total + d * yd * isum as f32
}

/// Dot product of one Q6_K weight row with one Q8_K activation row, super-block by super-block with
/// int32 sums.
pub fn dot_row(w: &[u8], x: &Q8KRow) -> f32 {
    let mut total = 0.0f32;
    for (b, block) in w.chunks_exact(BLOCK_BYTES).enumerate() {
        let isum = block_sum(block, &x.q[b * QK_K..(b + 1) * QK_K], &x.bsums[b * 16..(b + 1) * 16]);
        total = accumulate(total, f16_at(block, D_AT), x.d[b], isum);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_ggml_s() {
        assert_eq!(BLOCK_BYTES, 210);
        let x: Vec<f32> = (0..QK_K).map(|i| ((i * 7) % 64) as f32 - 32.0).collect();
        let mut bytes = Vec::new();
        quantize(&x, &mut bytes);
        let codes = codes(&bytes);
        for (i, &c) in codes.iter().enumerate() {
            let (h, r) = (i / 128, i % 128);
            let (k, l) = (r / 32, r % 32);
            let byte = bytes[64 * h + l + 32 * (k % 2)];
            let nib = if k < 2 { byte & 15 } else { byte >> 4 };
            let hi = (bytes[QH_AT + 32 * h + l] >> (2 * k)) & 3;
            assert_eq!(c, nib | hi << 4, "weight {i}");
        }
        let mut back = vec![0.0; QK_K];
        dequantize(&bytes, &mut back);
        for (a, b) in x.iter().zip(&back) {
            assert!((a - b).abs() <= 0.5, "{a} vs {b}");
        }
    }

    #[test]
    fn zero_blocks_quantize_to_zero_bytes() {
        let mut bytes = Vec::new();
        quantize(&[0.0; 256], &mut bytes);
        assert_eq!(bytes, vec![0u8; BLOCK_BYTES]);
    }
}
