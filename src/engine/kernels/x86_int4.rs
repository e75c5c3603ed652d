//! 4-bit weights (W4A16: RTN and AWQ) in 32-column strips, and the kernels that multiply them: on
//! AVX-512 and AVX2 the codes are decoded in registers inside the f32 strip tiles (`code * d + offset`,
//! the scalar `dequantize_row`'s steps) and summed as the f32 strip kernels sum, so every output is bit
//! for bit the scalar strip product of the dequantized weights; for many token rows a strip is
//! unpacked once instead.

use std::arch::x86_64::*;

use super::x86::{
    fma_step_avx2, lane_masks, prefetch_next_l2, store_strip_tile, store_tile_avx2, StripTile, F32_STRIP, F32_TOKENS,
    F32_TOKENS_AVX2,
};

/// int4 weights laid out for `gemm_int4_strip_avx512`: strips of 32 output columns; per strip and
/// input, 16 bytes whose low nibbles are the codes of columns 0..16 and high nibbles 16..32; per strip
/// and group, the 32 columns' scales (and minimums of the asymmetric format). The same bytes as the
/// row-major codes, reordered.
#[derive(Clone, Debug)]
pub struct Int4Strips {
    pub codes: Vec<u8>,
    pub scale: Vec<f32>,
    pub min: Option<Vec<f32>>,
    pub group: usize,
    pub groups_per_row: usize,
    pub in_f: usize,
    pub out_f: usize,
}

impl Int4Strips {
    /// Re-lays out row-major int4 weights (`quant::Int4Weights`); columns past `out_f` are zero.
    pub fn from_rows(w: &crate::engine::quant::integer::Int4Weights, out_f: usize, in_f: usize) -> Self {
        let strips = out_f.div_ceil(F32_STRIP);
        let gpr = w.groups_per_row;
        let mut codes = vec![0u8; strips * in_f * 16];
        let mut scale = vec![0.0f32; strips * gpr * F32_STRIP];
        let mut min = w.min.as_ref().map(|_| vec![0.0f32; strips * gpr * F32_STRIP]);
        for o in 0..out_f {
            let (s, lane) = (o / F32_STRIP, o % F32_STRIP);
            for i in 0..in_f {
                let byte = w.packed[o * w.row_bytes + i / 2];
                let code = if i % 2 == 0 { byte & 0x0f } else { byte >> 4 };
                codes[(s * in_f + i) * 16 + lane % 16] |= code << (4 * (lane / 16));
            }
            for g in 0..gpr {
                scale[(s * gpr + g) * F32_STRIP + lane] = w.scale[o * gpr + g];
                if let (Some(m), Some(src)) = (min.as_mut(), w.min.as_ref()) {
                    m[(s * gpr + g) * F32_STRIP + lane] = src[o * gpr + g];
                }
            }
        }
        Int4Strips {
            codes,
            scale,
            min,
            group: w.group,
            groups_per_row: gpr,
            in_f,
            out_f,
        }
    }

    /// Row `o` in f32, as `Int4Weights::dequantize_row`: `code * d + offset`, offset `min` or `-8 d`.
    pub fn dequantize_row(&self, o: usize, out: &mut [f32]) {
        let (s, lane) = (o / F32_STRIP, o % F32_STRIP);
        for (i, v) in out.iter_mut().enumerate().take(self.in_f) {
            let code = (self.codes[(s * self.in_f + i) * 16 + lane % 16] >> (4 * (lane / 16))) & 0x0f;
            let at = (s * self.groups_per_row + i / self.group) * F32_STRIP + lane;
            let d = self.scale[at];
            let offset = match &self.min {
                Some(m) => m[at],
                None => -8.0 * d,
            };
            *v = code as f32 * d + offset;
        }
    }

    /// Strip `strip`'s bytes as its kernels read them: the codes (16 bytes an input), and the 32 scales
    /// (and minimums) of each group.
    fn strip(&self, strip: usize) -> (&[u8], &[f32], Option<&[f32]>) {
        let (k, per_strip) = (self.in_f, self.groups_per_row * F32_STRIP);
        let span = strip * per_strip..(strip + 1) * per_strip;
        (
            &self.codes[strip * k * 16..(strip + 1) * k * 16],
            &self.scale[span.clone()],
            self.min.as_ref().map(|m| &m[span]),
        )
    }

    /// Bytes stored (codes, scales, minimums; padding columns included).
    pub fn bytes(&self) -> usize {
        self.codes.len() + (self.scale.len() + self.min.as_ref().map_or(0, Vec::len)) * 4
    }
}

/// One strip of 32 output columns of `x [tokens, k]` times int4 weights, decoding each input's 32
/// codes in registers (`code * d + offset`, the scalar `dequantize_row` steps) and multiplying as
/// `gemm_f32_strip_avx512` does, 12 tokens at a time and the last tile exactly the rows left.
///
/// # Safety
/// The CPU must support AVX-512F; `x.len() >= tokens * w.in_f`; `strip` is strip `s` of `w`
/// (`s < w.out_f.div_ceil(32)`); `cols <= 32`; `out` is valid for writes at `t * out_stride + c` for
/// `t < tokens`, `c < cols`, with no other thread writing there.
#[target_feature(enable = "avx512f")]
pub unsafe fn gemm_int4_strip_avx512(
    x: &[f32],
    tokens: usize,
    w: &Int4Strips,
    strip: usize,
    cols: usize,
    out: *mut f32,
    out_stride: usize,
) {
    let k = w.in_f;
    debug_assert!(x.len() >= tokens * k);
    let tile = StripTile {
        k,
        masks: lane_masks(cols),
        out_stride,
    };
    let strip = w.strip(strip);
    for t0 in (0..tokens).step_by(F32_TOKENS) {
        // SAFETY: rows t0 .. t0 + T (T = the rows left, at most 12) lie in x, and out's rows t0.. are the
        // caller's to write under the masks.
        unsafe {
            let (x, out) = (x.as_ptr().add(t0 * k), out.add(t0 * out_stride));
            let first = t0 == 0;
            match tokens - t0 {
                1 => int4_tile::<1>(&tile, w, strip, x, out, first),
                2 => int4_tile::<2>(&tile, w, strip, x, out, first),
                3 => int4_tile::<3>(&tile, w, strip, x, out, first),
                4 => int4_tile::<4>(&tile, w, strip, x, out, first),
                5 => int4_tile::<5>(&tile, w, strip, x, out, first),
                6 => int4_tile::<6>(&tile, w, strip, x, out, first),
                7 => int4_tile::<7>(&tile, w, strip, x, out, first),
                8 => int4_tile::<8>(&tile, w, strip, x, out, first),
                9 => int4_tile::<9>(&tile, w, strip, x, out, first),
                10 => int4_tile::<10>(&tile, w, strip, x, out, first),
                11 => int4_tile::<11>(&tile, w, strip, x, out, first),
                _ => int4_tile::<F32_TOKENS>(&tile, w, strip, x, out, first),
            }
        }
    }
}

/// `T` token rows (from `x`, row stride `k`) times one int4 strip (its codes, scales and minimums), stored
/// at `out`; the first tile of a strip also asks the next strip's bytes into L2.
///
/// # Safety
/// The CPU must support AVX-512F; `x` is readable for `T * k` floats, `strip` is a strip of `w`, and
/// `out` is writable at `t * out_stride + c` for `t < T` and the masked columns.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn int4_tile<const T: usize>(
    tile: &StripTile,
    w: &Int4Strips,
    (codes, scales, mins): (&[u8], &[f32], Option<&[f32]>),
    x: *const f32,
    out: *mut f32,
    first: bool,
) {
    let (k, gpr) = (tile.k, w.groups_per_row);
    let (nibble, minus8) = (_mm_set1_epi8(0x0f), _mm512_set1_ps(-8.0));
    let mut acc = [[_mm512_setzero_ps(); 2]; T];
    for g in 0..gpr {
        let at = g * F32_STRIP;
        // The next strip's scales (and minimums) into L2 meanwhile, as its codes below.
        if first {
            prefetch_next_l2(scales.as_ptr(), gpr * F32_STRIP + at, 2);
            if let Some(m) = mins {
                prefetch_next_l2(m.as_ptr(), gpr * F32_STRIP + at, 2);
            }
        }
        // SAFETY: scales (and mins) hold 32 entries for each of the strip's gpr groups.
        let d: [__m512; 2] = std::array::from_fn(|r| unsafe { _mm512_loadu_ps(scales.as_ptr().add(at + r * 16)) });
        let offset: [__m512; 2] = std::array::from_fn(|r| match mins {
            // SAFETY: as above.
            Some(m) => unsafe { _mm512_loadu_ps(m.as_ptr().add(at + r * 16)) },
            None => _mm512_mul_ps(minus8, d[r]),
        });
        for i in g * w.group..((g + 1) * w.group).min(k) {
            if first {
                prefetch_next_l2(codes.as_ptr(), (k + i) * 16, 1);
            }
            // SAFETY: 16 code bytes of input i < k lie in the strip's codes.
            let raw = unsafe { _mm_loadu_si128(codes.as_ptr().add(i * 16) as *const __m128i) };
            let lo = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(raw, nibble)));
            let hi = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16::<4>(raw), nibble)));
            let wv = [
                _mm512_add_ps(_mm512_mul_ps(lo, d[0]), offset[0]),
                _mm512_add_ps(_mm512_mul_ps(hi, d[1]), offset[1]),
            ];
            for (t, row) in acc.iter_mut().enumerate() {
                // SAFETY: row t < T of x (the caller's contract).
                let v = _mm512_set1_ps(unsafe { *x.add(t * k + i) });
                for (a, wr) in row.iter_mut().zip(&wv) {
                    *a = _mm512_fmadd_ps(v, *wr, *a);
                }
            }
        }
    }
    // SAFETY: the caller's contract.
    unsafe { store_strip_tile(&acc, &tile.masks, out, tile.out_stride) };
}

/// `gemm_int4_strip_avx512` for AVX2 + FMA: the tiles of `gemm_f32_strip_avx2` (up to 6 tokens times
/// 16 columns, the last 1-3 tokens times 32), each input's codes decoded in registers as the scalar
/// `dequantize_row` does (`code * d + offset`, two roundings) and summed over the inputs in order with
/// one FMA each, so every output is bit for bit the f32 strip product of the dequantized weights,
/// whatever the tile shape or the other rows of the call. Without it, W4A16 on AVX2 unpacked every
/// weight row to f32 before each dot, and its answers depended on the batch.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `x.len() >= tokens * w.in_f`; `strip` is a strip of `w`
/// (`strip < w.out_f.div_ceil(32)`); `cols <= 32`; `out` is valid for writes at `t * out_stride + c`
/// for `t < tokens`, `c < cols`, with no other thread writing there.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn gemm_int4_strip_avx2(
    x: &[f32],
    tokens: usize,
    w: &Int4Strips,
    strip: usize,
    cols: usize,
    out: *mut f32,
    out_stride: usize,
) {
    let k = w.in_f;
    debug_assert!(x.len() >= tokens * k && cols <= F32_STRIP && strip < w.out_f.div_ceil(F32_STRIP));
    let (codes, scales, mins) = w.strip(strip);
    let part = Int4Part {
        codes,
        scales,
        mins,
        group: w.group,
        k,
        // The first tile to run streams the strip from memory; it also asks for the next one.
        prefetch: std::cell::Cell::new(true),
    };
    let mut t0 = 0;
    while tokens - t0 >= 4 {
        let rows = (tokens - t0).min(F32_TOKENS_AVX2);
        for half in 0..cols.div_ceil(16) {
            let (x, live) = (&x[t0 * k..], (cols - half * 16).min(16));
            // SAFETY: rows t0 .. t0 + rows and columns half * 16 .. + live are the caller's.
            unsafe {
                let out = out.add(t0 * out_stride + half * 16);
                match rows {
                    4 => int4_tile_avx2::<4, 2>(x, &part, half * 16, live, out, out_stride),
                    5 => int4_tile_avx2::<5, 2>(x, &part, half * 16, live, out, out_stride),
                    _ => int4_tile_avx2::<F32_TOKENS_AVX2, 2>(x, &part, half * 16, live, out, out_stride),
                }
            }
        }
        t0 += rows;
    }
    let x = &x[t0 * k..];
    // SAFETY: as above, for the last rows and the whole strip.
    unsafe {
        let out = out.add(t0 * out_stride);
        match tokens - t0 {
            1 => int4_tile_avx2::<1, 4>(x, &part, 0, cols, out, out_stride),
            2 => int4_tile_avx2::<2, 4>(x, &part, 0, cols, out, out_stride),
            3 => int4_tile_avx2::<3, 4>(x, &part, 0, cols, out, out_stride),
            _ => {}
        }
    }
}

/// One strip of `Int4Strips` as `int4_tile_avx2` reads it.
struct Int4Part<'a> {
    /// 16 bytes per input: low nibbles columns 0..16, high nibbles 16..32.
    codes: &'a [u8],
    /// 32 scales (and minimums) per group.
    scales: &'a [f32],
    mins: Option<&'a [f32]>,
    group: usize,
    k: usize,
    /// Set until a tile has asked for the next strip's bytes.
    prefetch: std::cell::Cell<bool>,
}

/// One micro-tile of `gemm_int4_strip_avx2`: `T` token rows of `x` (row stride `part.k`) times the `8 C`
/// strip columns from `c0` (0 or 16 with `C` 2, 0 with `C` 4), the first `live` stored.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `x` holds `T` rows of `part.k`; `c0 + 8 C <= 32`; `out` is valid
/// for writes at `t * out_stride + c` for `t < T`, `c < live <= 8 C`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn int4_tile_avx2<const T: usize, const C: usize>(
    x: &[f32],
    part: &Int4Part,
    c0: usize,
    live: usize,
    out: *mut f32,
    out_stride: usize,
) {
    let k = part.k;
    debug_assert!(x.len() >= T * k && c0 + 8 * C <= F32_STRIP && live <= 8 * C);
    let prefetch = part.prefetch.replace(false);
    let (xp, cp) = (x.as_ptr(), part.codes.as_ptr());
    let minus8 = _mm256_set1_ps(-8.0);
    let mut acc = [[_mm256_setzero_ps(); C]; T];
    for g in 0..part.scales.len() / F32_STRIP {
        let at = g * F32_STRIP + c0;
        if prefetch {
            let next = part.scales.len();
            prefetch_next_l2(part.scales.as_ptr(), next + g * F32_STRIP, 2);
            if let Some(m) = part.mins {
                prefetch_next_l2(m.as_ptr(), next + g * F32_STRIP, 2);
            }
        }
        // SAFETY: the scales (and minimums) hold 32 entries per group and at + 8 C <= g * 32 + 32.
        let d: [__m256; C] = std::array::from_fn(|c| unsafe { _mm256_loadu_ps(part.scales.as_ptr().add(at + 8 * c)) });
        let offset: [__m256; C] = std::array::from_fn(|c| match part.mins {
            // SAFETY: as above.
            Some(m) => unsafe { _mm256_loadu_ps(m.as_ptr().add(at + 8 * c)) },
            None => _mm256_mul_ps(minus8, d[c]),
        });
        for i in g * part.group..((g + 1) * part.group).min(k) {
            if prefetch {
                prefetch_next_l2(cp, (k + i) * 16, 1);
            }
            // SAFETY: input i < k has its 16 code bytes in the strip, and c0 + 8 C <= 32.
            let wv: [__m256; C] =
                std::array::from_fn(|c| unsafe { decode8_avx2(cp.add(i * 16), c0 + 8 * c, d[c], offset[c]) });
            // SAFETY: T rows of k floats lie in x and i < k.
            unsafe { fma_step_avx2(&mut acc, xp, k, i, &wv) };
        }
    }
    // SAFETY: forwarded from the caller.
    unsafe { store_tile_avx2(&acc, live, out, out_stride) };
}

/// The 8 weights of columns `col .. col + 8` of one input of an int4 strip (`codes`: its 16 bytes), as
/// the scalar `dequantize_row` computes them: `code * d + offset`, two roundings.
///
/// # Safety
/// The CPU must support AVX2; `codes` points at 16 readable bytes; `col` is 0, 8, 16 or 24.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn decode8_avx2(codes: *const u8, col: usize, d: __m256, offset: __m256) -> __m256 {
    // SAFETY: the 8 bytes at col % 16 lie in the 16.
    let raw = _mm256_cvtepu8_epi32(unsafe { _mm_loadl_epi64(codes.add(col % 16) as *const __m128i) });
    let codes = if col < 16 { raw } else { _mm256_srli_epi32::<4>(raw) };
    let code = _mm256_cvtepi32_ps(_mm256_and_si256(codes, _mm256_set1_epi32(0x0f)));
    _mm256_add_ps(_mm256_mul_ps(code, d), offset)
}

/// Strip `strip` of `w` in f32, in the `prepare_f32` strip layout (`out[i * 32 + lane]`), each weight
/// as `dequantize_row` gives it (padding columns have zero scales and come out 0): for the f32 strip
/// kernel when a product has enough token rows to amortise unpacking once.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `strip < w.out_f.div_ceil(32)`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn unpack_int4_strip_avx2(w: &Int4Strips, strip: usize, out: &mut [f32]) {
    let (k, gpr) = (w.in_f, w.groups_per_row);
    assert!(out.len() >= k * F32_STRIP, "strip buffer");
    let codes = &w.codes[strip * k * 16..(strip + 1) * k * 16];
    let scales = &w.scale[strip * gpr * F32_STRIP..(strip + 1) * gpr * F32_STRIP];
    let mins = w
        .min
        .as_ref()
        .map(|m| &m[strip * gpr * F32_STRIP..(strip + 1) * gpr * F32_STRIP]);
    for g in 0..gpr {
        let at = g * F32_STRIP;
        // SAFETY: 32 scales (and minimums) per group.
        let d: [__m256; 4] = std::array::from_fn(|c| unsafe { _mm256_loadu_ps(scales.as_ptr().add(at + 8 * c)) });
        let offset: [__m256; 4] = std::array::from_fn(|c| match mins {
            // SAFETY: as above.
            Some(m) => unsafe { _mm256_loadu_ps(m.as_ptr().add(at + 8 * c)) },
            None => _mm256_mul_ps(_mm256_set1_ps(-8.0), d[c]),
        });
        for i in g * w.group..((g + 1) * w.group).min(k) {
            for c in 0..4 {
                // SAFETY: input i < k has 16 code bytes in the strip; out holds k x 32 floats (asserted).
                unsafe {
                    let v = decode8_avx2(codes.as_ptr().add(i * 16), 8 * c, d[c], offset[c]);
                    _mm256_storeu_ps(out.as_mut_ptr().add(i * F32_STRIP + 8 * c), v);
                }
            }
        }
    }
}
