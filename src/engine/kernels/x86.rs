//! x86_64 SIMD kernels: AVX2 (+FMA) and AVX-512 VNNI. Each is `unsafe` because it needs its CPU
//! features; the kernel table only hands out the safe wrappers after run-time feature detection.
//!
//! The int8 products follow the usual tricks (as in the VNNI and AVX2 papers/manuals, and in
//! ggml/onednn kernels; re-derived here): VNNI `vpdpbusd` multiplies unsigned by signed bytes, so
//! activations are shifted to `x + 128` and the product corrected by `128 * sum(w)`; AVX2
//! `vpmaddubsw` needs one unsigned operand, so it multiplies `|x|` by `w * sign(x)`, which cannot
//! saturate for values in -127..=127 (2 * 127 * 127 < 32767).

use std::arch::x86_64::*;

/// int8 dot with AVX2 (`vpsignb` + `vpmaddubsw` + `vpmaddwd`).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn dot_i8_avx2(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let chunks = n / 32;
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_si256();
    for c in 0..chunks {
        // SAFETY: c * 32 + 32 <= n, within both slices; unaligned loads.
        let (va, vb) = unsafe {
            (
                _mm256_loadu_si256(a.as_ptr().add(c * 32) as *const __m256i),
                _mm256_loadu_si256(b.as_ptr().add(c * 32) as *const __m256i),
            )
        };
        let abs_a = _mm256_sign_epi8(va, va);
        let signed_b = _mm256_sign_epi8(vb, va);
        let pairs = _mm256_maddubs_epi16(abs_a, signed_b);
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
    }
    let mut lanes = [0i32; 8];
    // SAFETY: lanes has room for 8 i32.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, acc) };
    let mut sum: i32 = lanes.iter().sum();
    for i in chunks * 32..n {
        sum += a[i] as i32 * b[i] as i32;
    }
    sum
}

/// Unsigned x signed int8 dot with AVX-512 VNNI (`vpdpbusd`).
///
/// # Safety
/// The CPU must support AVX-512F, AVX-512BW and AVX-512 VNNI.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub unsafe fn dot_u8i8_vnni(a: &[u8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let chunks = n / 64;
    let mut acc = _mm512_setzero_si512();
    for c in 0..chunks {
        // SAFETY: c * 64 + 64 <= n, within both slices; unaligned loads.
        let (va, vb) = unsafe {
            (
                _mm512_loadu_si512(a.as_ptr().add(c * 64) as *const __m512i),
                _mm512_loadu_si512(b.as_ptr().add(c * 64) as *const __m512i),
            )
        };
        acc = _mm512_dpbusd_epi32(acc, va, vb);
    }
    let mut sum = _mm512_reduce_add_epi32(acc);
    for i in chunks * 64..n {
        sum += a[i] as i32 * b[i] as i32;
    }
    sum
}

/// f32 dot with AVX2 + FMA, four 8-lane accumulators.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_f32_fma(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let chunks = n / 32;
    let mut acc = [_mm256_setzero_ps(); 4];
    for c in 0..chunks {
        for (l, slot) in acc.iter_mut().enumerate() {
            let at = c * 32 + l * 8;
            // SAFETY: at + 8 <= n, within both slices; unaligned loads.
            let (va, vb) = unsafe { (_mm256_loadu_ps(a.as_ptr().add(at)), _mm256_loadu_ps(b.as_ptr().add(at))) };
            *slot = _mm256_fmadd_ps(va, vb, *slot);
        }
    }
    let sum4 = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let mut lanes = [0.0f32; 8];
    // SAFETY: lanes has room for 8 f32.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum4) };
    let mut sum: f32 = lanes.iter().sum();
    for i in chunks * 32..n {
        sum += a[i] * b[i];
    }
    sum
}

/// Output channels per VNNI block: one 512-bit register of i32 accumulators.
pub const VNNI_OUT: usize = 16;
/// Token rows per micro-tile.
const VNNI_TOKENS: usize = 8;

/// Packs `[out, in]` int8 weights for `gemm_u8i8_vnni`: blocks of 16 output channels, and within a
/// block, for each group of 4 input channels, the 4 bytes of each of the 16 channels side by side
/// (64 bytes, one register). Missing channels and inputs are zero. `in_padded = ceil(in / 4) * 4`.
pub fn pack_vnni(q: &[i8], out_f: usize, in_f: usize) -> Vec<i8> {
    let in_padded = in_f.div_ceil(4) * 4;
    let blocks = out_f.div_ceil(VNNI_OUT);
    let mut packed = vec![0i8; blocks * VNNI_OUT * in_padded];
    for o in 0..out_f {
        let (block, lane) = (o / VNNI_OUT, o % VNNI_OUT);
        for i in 0..in_f {
            let at = block * VNNI_OUT * in_padded + (i / 4) * 64 + lane * 4 + i % 4;
            packed[at] = q[o * in_f + i];
        }
    }
    packed
}

/// Inverse of `pack_vnni`: the row-major `[out, in]` codes.
pub fn unpack_vnni(packed: &[i8], out_f: usize, in_f: usize) -> Vec<i8> {
    let in_padded = in_f.div_ceil(4) * 4;
    let mut q = vec![0i8; out_f * in_f];
    for o in 0..out_f {
        let (block, lane) = (o / VNNI_OUT, o % VNNI_OUT);
        for i in 0..in_f {
            q[o * in_f + i] = packed[block * VNNI_OUT * in_padded + (i / 4) * 64 + lane * 4 + i % 4];
        }
    }
    q
}

/// Integer products of shifted activations (`x + 128` as bytes, rows of `in_padded`) with one packed
/// block of 16 output channels: `out[t * 16 + lane] = sum_i xu[t][i] * w[lane][i]`.
///
/// # Safety
/// The CPU must support AVX-512F, AVX-512BW and AVX-512 VNNI; `xu.len() == tokens * in_padded`,
/// `block.len() == 16 * in_padded`, `out.len() == tokens * 16`, and `in_padded % 4 == 0`.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub unsafe fn gemm_u8i8_vnni(xu: &[u8], tokens: usize, in_padded: usize, block: &[i8], out: &mut [i32]) {
    debug_assert!(xu.len() == tokens * in_padded && block.len() == VNNI_OUT * in_padded);
    debug_assert!(out.len() == tokens * VNNI_OUT && in_padded.is_multiple_of(4));
    let steps = in_padded / 4;
    let mut t0 = 0;
    while t0 < tokens {
        let tile = (tokens - t0).min(VNNI_TOKENS);
        let mut acc = [_mm512_setzero_si512(); VNNI_TOKENS];
        for s in 0..steps {
            // SAFETY: s * 64 + 64 <= block.len() because block holds 16 * in_padded = steps * 64 bytes.
            let w = unsafe { _mm512_loadu_si512(block.as_ptr().add(s * 64) as *const __m512i) };
            for (t, a) in acc.iter_mut().enumerate().take(tile) {
                // SAFETY: (t0 + t) * in_padded + s * 4 + 4 <= xu.len(); an unaligned 4-byte read.
                let four = unsafe { (xu.as_ptr().add((t0 + t) * in_padded + s * 4) as *const i32).read_unaligned() };
                *a = _mm512_dpbusd_epi32(*a, _mm512_set1_epi32(four), w);
            }
        }
        for (t, a) in acc.iter().enumerate().take(tile) {
            // SAFETY: (t0 + t) * 16 + 16 <= out.len().
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().add((t0 + t) * VNNI_OUT) as *mut __m512i, *a) };
        }
        t0 += tile;
    }
}

/// Per-token symmetric int8 quantization of one activation row, written shifted (`q + 128` as a byte)
/// for `vpdpbusd`; returns the scale `max|x| / 127` (1 for an all-zero row). Same numbers as
/// `quant::quantize_row_int8`: `q = clamp(x / s)` rounded half away from zero.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512BW; `out.len() >= x.len()`.
#[target_feature(enable = "avx512f,avx512bw")]
pub unsafe fn quantize_shift_row_avx512(x: &[f32], out: &mut [u8]) -> f32 {
    let n = x.len();
    let chunks = n / 16;
    let abs_mask = _mm512_set1_epi32(0x7fff_ffff);
    let mut vmax = _mm512_setzero_ps();
    for c in 0..chunks {
        // SAFETY: c * 16 + 16 <= n.
        let v = unsafe { _mm512_loadu_ps(x.as_ptr().add(c * 16)) };
        vmax = _mm512_max_ps(
            vmax,
            _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), abs_mask)),
        );
    }
    let mut max = _mm512_reduce_max_ps(vmax);
    for v in &x[chunks * 16..] {
        max = max.max(v.abs());
    }
    let s = if max > 0.0 { max / 127.0 } else { 1.0 };
    let (vs, lo, hi) = (_mm512_set1_ps(s), _mm512_set1_ps(-127.0), _mm512_set1_ps(127.0));
    let (half, sign_mask, shift) = (_mm512_set1_ps(0.5), _mm512_set1_epi32(i32::MIN), _mm_set1_epi8(-128));
    for c in 0..chunks {
        // SAFETY: c * 16 + 16 <= n <= out.len().
        let v = unsafe { _mm512_loadu_ps(x.as_ptr().add(c * 16)) };
        let r = _mm512_min_ps(_mm512_max_ps(_mm512_div_ps(v, vs), lo), hi);
        let signed_half = _mm512_castsi512_ps(_mm512_or_si512(
            _mm512_castps_si512(half),
            _mm512_and_si512(_mm512_castps_si512(r), sign_mask),
        ));
        let q = _mm512_cvttps_epi32(_mm512_add_ps(r, signed_half));
        let bytes = _mm_xor_si128(_mm512_cvtepi32_epi8(q), shift);
        // SAFETY: 16 bytes at c * 16 fit in out.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().add(c * 16) as *mut __m128i, bytes) };
    }
    for (o, v) in out[chunks * 16..n].iter_mut().zip(&x[chunks * 16..]) {
        let r = (v / s).clamp(-127.0, 127.0);
        *o = ((r + 0.5f32.copysign(r)) as i8 as u8) ^ 0x80;
    }
    s
}
