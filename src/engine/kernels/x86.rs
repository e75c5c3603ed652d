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
/// Blocks per micro-tile: a tile covers 64 output channels (the packed weights are padded to it).
pub const VNNI_BLOCKS: usize = 4;
/// Output channels per micro-tile.
pub const VNNI_GROUP: usize = VNNI_OUT * VNNI_BLOCKS;
/// Token rows per micro-tile: 6 x 4 = 24 accumulators, 4 weight registers and a broadcast fit the
/// 32 vector registers, so each weight load feeds 6 products and each activation load 4.
pub const VNNI_TOKENS: usize = 6;

/// Packs `[out, in]` int8 weights for `gemm_u8i8_vnni`: blocks of 16 output channels, and within a
/// block, for each group of 4 input channels, the 4 bytes of each of the 16 channels side by side
/// (64 bytes, one register). Outputs are padded with zero channels to whole tiles of 64 and inputs
/// with zeros to `in_padded = ceil(in / 4) * 4`.
pub fn pack_vnni(q: &[i8], out_f: usize, in_f: usize) -> Vec<i8> {
    let in_padded = in_f.div_ceil(4) * 4;
    let blocks = out_f.div_ceil(VNNI_GROUP) * VNNI_BLOCKS;
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

/// Activations of a W8A8 product: rows of `in_padded` bytes shifted to `x + 128`, and each token's scale.
pub struct VnniActivations<'a> {
    pub xu: &'a [u8],
    pub tokens: usize,
    pub in_padded: usize,
    pub sx: &'a [f32],
}

/// What the W8A8 product needs besides the codes, per output channel of one 64-wide tile, padded
/// with zeros past `cols`: `128 * sum(w)` (the correction of the shifted activations) and the scale.
pub struct VnniTileScales<'a> {
    pub correction: &'a [i32],
    pub scale: &'a [f32],
    pub cols: usize,
}

/// One 64-channel tile of the W8A8 product, rescaled: for every token `t` and channel `c < cols`,
/// `out[t * out_stride + c] = (sum_i xu[t][i] * w[c][i] - correction[c]) as f32 * sx[t] * scale[c]`,
/// where `acts.xu` has its row count rounded up to a multiple of `VNNI_TOKENS` with rows of 128 and
/// `tile` holds the packed codes of the tile's 4 blocks. The float steps are those of the scalar path, so the result is the same.
///
/// # Safety
/// The CPU must support AVX-512F, AVX-512BW and AVX-512 VNNI; `in_padded % 4 == 0`,
/// `xu.len() >= tokens.div_ceil(VNNI_TOKENS) * VNNI_TOKENS * in_padded`,
/// `tile.len() == VNNI_GROUP * in_padded`, `sx.len() >= tokens`, `cols <= VNNI_GROUP`,
/// `correction` and `scale` hold `VNNI_GROUP` entries, and `out` is valid for writes at
/// `t * out_stride + c` for every `t < tokens`, `c < cols`, with no other thread writing there.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub unsafe fn gemm_u8i8_vnni(
    acts: &VnniActivations,
    tile: &[i8],
    scales: &VnniTileScales,
    out: *mut f32,
    out_stride: usize,
) {
    let VnniActivations {
        xu,
        tokens,
        in_padded,
        sx,
    } = *acts;
    debug_assert!(in_padded.is_multiple_of(4) && tile.len() == VNNI_GROUP * in_padded);
    debug_assert!(xu.len() >= tokens.div_ceil(VNNI_TOKENS) * VNNI_TOKENS * in_padded && sx.len() >= tokens);
    debug_assert!(scales.correction.len() == VNNI_GROUP && scales.scale.len() == VNNI_GROUP);
    // SAFETY (all loads below): scales hold VNNI_GROUP entries, so offsets b * 16 + 16 stay inside.
    let correction: [__m512i; VNNI_BLOCKS] = std::array::from_fn(|b| unsafe {
        _mm512_loadu_si512(scales.correction.as_ptr().add(b * VNNI_OUT) as *const __m512i)
    });
    let scale: [__m512; VNNI_BLOCKS] =
        std::array::from_fn(|b| unsafe { _mm512_loadu_ps(scales.scale.as_ptr().add(b * VNNI_OUT)) });
    let masks: [__mmask16; VNNI_BLOCKS] = lane_masks(scales.cols);
    let parts = VnniTile {
        xp: xu.as_ptr(),
        wp: tile.as_ptr(),
        in_padded,
        sx,
        correction,
        scale,
        masks,
        out,
        out_stride,
    };
    for t0 in (0..tokens).step_by(VNNI_TOKENS) {
        let live = (tokens - t0).min(VNNI_TOKENS);
        // SAFETY: the caller's guarantees; a tile of T rows from t0 stays inside the rows padded to a
        // multiple of VNNI_TOKENS (t0 is one, and T <= VNNI_TOKENS), and stores only its first `live`.
        unsafe {
            match live {
                1 => vnni_tile::<1>(&parts, t0, live),
                2 => vnni_tile::<2>(&parts, t0, live),
                3 => vnni_tile::<3>(&parts, t0, live),
                _ => vnni_tile::<VNNI_TOKENS>(&parts, t0, live),
            }
        }
    }
}

/// What the token tiles of one `gemm_u8i8_vnni` call share.
struct VnniTile<'a> {
    xp: *const u8,
    wp: *const i8,
    in_padded: usize,
    sx: &'a [f32],
    correction: [__m512i; VNNI_BLOCKS],
    scale: [__m512; VNNI_BLOCKS],
    masks: [__mmask16; VNNI_BLOCKS],
    out: *mut f32,
    out_stride: usize,
}

/// Token rows `t0 .. t0 + T` of `gemm_u8i8_vnni`, the first `live` stored: the last tile (a one-token
/// decode's whole product) multiplies only the rows it has, not the padding's zero rows.
///
/// # Safety
/// As `gemm_u8i8_vnni`'s, with `live <= T` and rows `t0 .. t0 + T` inside the padded activations.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn vnni_tile<const T: usize>(p: &VnniTile, t0: usize, live: usize) {
    let (xp, wp, in_padded) = (p.xp, p.wp, p.in_padded);
    let steps = in_padded / 4;
    let block_len = VNNI_OUT * in_padded;
    let mut acc = [[_mm512_setzero_si512(); VNNI_BLOCKS]; T];
    for s in 0..steps {
        // The next tile (right after this one) into L2 meanwhile: its four blocks' lines of this step.
        if t0 == 0 {
            for b in 0..VNNI_BLOCKS {
                prefetch_next_l2(wp, (VNNI_BLOCKS + b) * block_len + s * 64, 1);
            }
        }
        // SAFETY: b * block_len + s * 64 + 64 <= tile.len() = 4 * block_len.
        let w: [__m512i; VNNI_BLOCKS] =
            std::array::from_fn(|b| unsafe { _mm512_loadu_si512(wp.add(b * block_len + s * 64) as *const __m512i) });
        for (t, row) in acc.iter_mut().enumerate() {
            // SAFETY: t0 + t < tokens rounded up to VNNI_TOKENS, a row xu holds; 4-byte unaligned read.
            let four = unsafe { (xp.add((t0 + t) * in_padded + s * 4) as *const i32).read_unaligned() };
            let x = _mm512_set1_epi32(four);
            for (a, wb) in row.iter_mut().zip(&w) {
                *a = _mm512_dpbusd_epi32(*a, x, *wb);
            }
        }
    }
    for (t, row) in acc.iter().enumerate().take(live) {
        let st = _mm512_set1_ps(p.sx[t0 + t]);
        for (b, sums) in row.iter().enumerate() {
            let exact = _mm512_cvtepi32_ps(_mm512_sub_epi32(*sums, p.correction[b]));
            let y = _mm512_mul_ps(_mm512_mul_ps(exact, st), p.scale[b]);
            // SAFETY: the masked lanes are channels below cols of token t0 + t < tokens.
            unsafe { _mm512_mask_storeu_ps(p.out.add((t0 + t) * p.out_stride + b * VNNI_OUT), p.masks[b], y) };
        }
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

/// Store masks of `N` 16-lane registers covering the first `cols` columns.
pub fn lane_masks<const N: usize>(cols: usize) -> [__mmask16; N] {
    std::array::from_fn(|r| {
        let lanes = cols.saturating_sub(r * 16).min(16);
        ((1u32 << lanes) - 1) as __mmask16
    })
}

/// The 4 activation bytes at `step` (of 4 bytes) from `row`, in every 32-bit lane.
///
/// # Safety
/// The CPU must support AVX-512F; `row + step * 4 .. + 4` must be readable.
#[inline]
#[target_feature(enable = "avx512f")]
pub unsafe fn broadcast4(row: *const i8, step: usize) -> __m512i {
    // SAFETY: the caller guarantees the 4 bytes are readable; unaligned read.
    _mm512_set1_epi32(unsafe { (row.add(step * 4) as *const i32).read_unaligned() })
}

/// Asks for `lines` cache lines from `offset` elements past `base` to be brought into L2, without
/// reading them: the strip kernels stream their weights from memory once per call (a decoder's weights
/// are far larger than the caches), and a strip's own loads find each line missing one at a time;
/// requesting the next strip while the current one is multiplied keeps memory busy during the
/// arithmetic (64 x 576 x 1536 f32 on a Xeon from memory: 89 -> 108 GOP/s at one thread; 1 token
/// 3.3 -> 6.3). The address may lie past the buffer (after the last strip): a prefetch never faults,
/// and `wrapping_add` keeps the address computation defined.
#[inline(always)]
pub(crate) fn prefetch_next_l2<T>(base: *const T, offset: usize, lines: usize) {
    let p = base.wrapping_add(offset) as *const i8;
    for l in 0..lines {
        // SAFETY: a prefetch is a hint: it reads nothing and cannot fault, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T1>(p.wrapping_add(l * 64)) };
    }
}

/// Token rows per f32 micro-tile of `gemm_f32_strip_avx512`.
pub const F32_TOKENS: usize = 12;
/// Output columns per f32 strip: two 16-lane registers (12 x 2 accumulators).
pub const F32_STRIP: usize = 32;

/// Lays `[out, in]` f32 weights out in strips of 32 output columns: strip `s` holds, for each input
/// `i`, the weights of columns `32 s .. 32 s + 32` (zero past `out`), so a strip streams contiguously.
pub fn pack_f32_strips(w: &[f32], out_f: usize, in_f: usize) -> Vec<f32> {
    let strips = out_f.div_ceil(F32_STRIP);
    let mut packed = vec![0.0f32; strips * in_f * F32_STRIP];
    for o in 0..out_f {
        let (strip, lane) = (o / F32_STRIP, o % F32_STRIP);
        for i in 0..in_f {
            packed[(strip * in_f + i) * F32_STRIP + lane] = w[o * in_f + i];
        }
    }
    packed
}

/// One strip of up to 32 output columns of `x [tokens, k]` times the weights, in f32: for each input
/// `i` the strip's 32 weights are loaded once per 12 tokens; sums run over `k` in order. The last tile
/// takes exactly the rows left (`f32_strip_tile::<T>`, T = 1..12): a one-token decode step multiplies one
/// row, not twelve, and `x` needs no padding rows.
///
/// # Safety
/// The CPU must support AVX-512F; `x.len() >= tokens * k`, `strip.len() == k * F32_STRIP`,
/// `cols <= F32_STRIP`, and `out` is valid for writes at `t * out_stride + c` for `t < tokens`,
/// `c < cols`, with no other thread writing there.
#[target_feature(enable = "avx512f")]
pub unsafe fn gemm_f32_strip_avx512(
    x: &[f32],
    tokens: usize,
    k: usize,
    strip: &[f32],
    cols: usize,
    out: *mut f32,
    out_stride: usize,
) {
    debug_assert!(x.len() >= tokens * k && strip.len() == k * F32_STRIP);
    let tile = StripTile {
        k,
        masks: lane_masks(cols),
        out_stride,
    };
    for t0 in (0..tokens).step_by(F32_TOKENS) {
        // SAFETY: rows t0 .. t0 + T (T = the rows left, at most 12) lie in x, and out's rows t0.. are the
        // caller's to write under the masks.
        unsafe {
            let (x, out) = (x.as_ptr().add(t0 * k), out.add(t0 * out_stride));
            let first = t0 == 0;
            match tokens - t0 {
                1 => f32_strip_tile::<1>(&tile, x, strip, out, first),
                2 => f32_strip_tile::<2>(&tile, x, strip, out, first),
                3 => f32_strip_tile::<3>(&tile, x, strip, out, first),
                4 => f32_strip_tile::<4>(&tile, x, strip, out, first),
                5 => f32_strip_tile::<5>(&tile, x, strip, out, first),
                6 => f32_strip_tile::<6>(&tile, x, strip, out, first),
                7 => f32_strip_tile::<7>(&tile, x, strip, out, first),
                8 => f32_strip_tile::<8>(&tile, x, strip, out, first),
                9 => f32_strip_tile::<9>(&tile, x, strip, out, first),
                10 => f32_strip_tile::<10>(&tile, x, strip, out, first),
                11 => f32_strip_tile::<11>(&tile, x, strip, out, first),
                _ => f32_strip_tile::<F32_TOKENS>(&tile, x, strip, out, first),
            }
        }
    }
}

/// What every micro-tile of one AVX-512 strip product shares: the inputs `k`, the masks of the live
/// columns and the output's row stride.
pub(super) struct StripTile {
    pub k: usize,
    pub masks: [__mmask16; 2],
    pub out_stride: usize,
}

/// `T` token rows (from `x`, row stride `k`) times one f32 strip, stored at `out`; the first tile of a
/// strip (`first`) also asks the next strip (the packing puts it right after this one) into L2, so its
/// weights do not arrive from memory one demand miss at a time.
///
/// # Safety
/// The CPU must support AVX-512F; `x` is readable for `T * k` floats, `strip` holds `k * 32`, and `out`
/// is writable at `t * out_stride + c` for `t < T` and the masked columns.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn f32_strip_tile<const T: usize>(tile: &StripTile, x: *const f32, strip: &[f32], out: *mut f32, first: bool) {
    let (k, wp) = (tile.k, strip.as_ptr());
    let mut acc = [[_mm512_setzero_ps(); 2]; T];
    for i in 0..k {
        if first {
            prefetch_next_l2(wp, k * F32_STRIP + i * F32_STRIP, 2);
        }
        // SAFETY: i < k, so the 32 floats at i * 32 lie in the strip.
        let w: [__m512; 2] = std::array::from_fn(|r| unsafe { _mm512_loadu_ps(wp.add(i * F32_STRIP + r * 16)) });
        for (t, row) in acc.iter_mut().enumerate() {
            // SAFETY: row t < T of x (the caller's contract).
            let v = _mm512_set1_ps(unsafe { *x.add(t * k + i) });
            for (a, wr) in row.iter_mut().zip(&w) {
                *a = _mm512_fmadd_ps(v, *wr, *a);
            }
        }
    }
    // SAFETY: the caller's contract.
    unsafe { store_strip_tile(&acc, &tile.masks, out, tile.out_stride) };
}

/// Token rows per full micro-tile of `gemm_f32_strip_avx2`: six rows of two 8-lane accumulators.
pub const F32_TOKENS_AVX2: usize = 6;

/// `gemm_f32_strip_avx512` with AVX2 + FMA, on the same 32-column strips: tiles of 4 to 6 token rows
/// x 16 columns (a half strip, one cache line per input), and the last 1 to 3 rows x all 32 columns,
/// so that a decode step of one sequence computes one row (not six) with four independent sums in
/// flight. Every output sums its `k` products in order, one fused multiply-add each, as the AVX-512
/// kernel and `generic::gemm_f32_strip` do: the same bits on every table and every tile shape, so a
/// row's result does not depend on the other rows of the call (how many, or which).
///
/// # Safety
/// The CPU must support AVX2 and FMA; `x.len() >= tokens * k`, `strip.len() == k * F32_STRIP`,
/// `cols <= F32_STRIP`, and `out` is valid for writes at `t * out_stride + c` for `t < tokens`,
/// `c < cols`, with no other thread writing there.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn gemm_f32_strip_avx2(
    x: &[f32],
    tokens: usize,
    k: usize,
    strip: &[f32],
    cols: usize,
    out: *mut f32,
    out_stride: usize,
) {
    debug_assert!(x.len() >= tokens * k && strip.len() == k * F32_STRIP && cols <= F32_STRIP);
    // The first tile to run streams the strip from memory; it also asks for the next strip (the packing
    // puts it right after this one), as `gemm_f32_strip_avx512` does.
    let mut next = Some(strip.as_ptr().wrapping_add(k * F32_STRIP));
    let mut t0 = 0;
    while tokens - t0 >= 4 {
        let rows = (tokens - t0).min(F32_TOKENS_AVX2);
        for half in 0..cols.div_ceil(16) {
            let live = (cols - half * 16).min(16);
            let (x, w, next) = (&x[t0 * k..], &strip[half * 16..], next.take());
            // SAFETY: rows t0 .. t0 + rows and columns half * 16 .. + live are the caller's; the tile's
            // rows lie in x and w holds k steps of 32 from its first column.
            unsafe {
                let out = out.add(t0 * out_stride + half * 16);
                match rows {
                    4 => strip_tile_avx2::<4, 2>(x, k, w, live, out, out_stride, next),
                    5 => strip_tile_avx2::<5, 2>(x, k, w, live, out, out_stride, next),
                    _ => strip_tile_avx2::<F32_TOKENS_AVX2, 2>(x, k, w, live, out, out_stride, next),
                }
            }
        }
        t0 += rows;
    }
    let (x, next) = (&x[t0 * k..], next.take());
    // SAFETY: as above, for the last rows and the whole strip.
    unsafe {
        let out = out.add(t0 * out_stride);
        match tokens - t0 {
            1 => strip_tile_avx2::<1, 4>(x, k, strip, cols, out, out_stride, next),
            2 => strip_tile_avx2::<2, 4>(x, k, strip, cols, out, out_stride, next),
            3 => strip_tile_avx2::<3, 4>(x, k, strip, cols, out, out_stride, next),
            _ => {}
        }
    }
}

/// One micro-tile of `gemm_f32_strip_avx2`: `T` token rows of `x` (row stride `k`) times `8 C`
/// columns of a strip (`w[i * 32 ..][..8 C]` for input `i`), the first `live` columns stored. With
/// `next`, the strip that starts there is asked into L2 step by step (`prefetch_next_l2`).
///
/// # Safety
/// The CPU must support AVX2 and FMA; `x` holds `T` rows of `k`, `w` holds `(k - 1) * 32 + 8 C`
/// floats, and `out` is valid for writes at `t * out_stride + c` for `t < T`, `c < live <= 8 C`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn strip_tile_avx2<const T: usize, const C: usize>(
    x: &[f32],
    k: usize,
    w: &[f32],
    live: usize,
    out: *mut f32,
    out_stride: usize,
    next: Option<*const f32>,
) {
    debug_assert!(x.len() >= T * k && (k == 0 || w.len() >= (k - 1) * F32_STRIP + 8 * C) && live <= 8 * C);
    let (xp, wp) = (x.as_ptr(), w.as_ptr());
    let mut acc = [[_mm256_setzero_ps(); C]; T];
    for i in 0..k {
        if let Some(next) = next {
            prefetch_next_l2(next, i * F32_STRIP, 2);
        }
        // SAFETY: i < k, so the 8 C floats at i * 32 lie in w.
        let wv: [__m256; C] = std::array::from_fn(|c| unsafe { _mm256_loadu_ps(wp.add(i * F32_STRIP + 8 * c)) });
        // SAFETY: T rows of k floats lie in x and i < k.
        unsafe { fma_step_avx2(&mut acc, xp, k, i, &wv) };
    }
    // SAFETY: forwarded from the caller.
    unsafe { store_tile_avx2(&acc, live, out, out_stride) };
}

/// One input `i` of an AVX2 strip micro-tile: `acc[t][c] += x[t * k + i] * wv[c]`, one FMA each.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `xp` points at `T` rows of `k` floats and `i < k`.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn fma_step_avx2<const T: usize, const C: usize>(
    acc: &mut [[__m256; C]; T],
    xp: *const f32,
    k: usize,
    i: usize,
    wv: &[__m256; C],
) {
    for (t, row) in acc.iter_mut().enumerate() {
        // SAFETY: t < T rows of k floats lie at xp.
        let v = _mm256_set1_ps(unsafe { *xp.add(t * k + i) });
        for (a, wr) in row.iter_mut().zip(wv) {
            *a = _mm256_fmadd_ps(v, *wr, *a);
        }
    }
}

/// Writes the first `live` columns of an AVX2 strip micro-tile's `T` token rows.
///
/// # Safety
/// The CPU must support AVX2; `out` is valid for writes at `t * out_stride + c` for `t < T`, `c < live <= 8 C`.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn store_tile_avx2<const T: usize, const C: usize>(
    acc: &[[__m256; C]; T],
    live: usize,
    out: *mut f32,
    out_stride: usize,
) {
    for (t, row) in acc.iter().enumerate() {
        let mut lanes = [0.0f32; F32_STRIP];
        for (c, a) in row.iter().enumerate() {
            // SAFETY: lanes has room for four 8-lane registers and c < C <= 4.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr().add(8 * c), *a) };
        }
        for (c, v) in lanes.iter().enumerate().take(live) {
            // SAFETY: t < T and c < live are the caller's to write.
            unsafe { out.add(t * out_stride + c).write(*v) };
        }
    }
}

/// Stores the `T` token rows of a strip micro-tile (two 16-lane registers a row) under `masks`.
///
/// # Safety
/// The CPU must support AVX-512F; `out` is valid for writes at `t * out_stride + c` for `t < T` and
/// every column `c` the masks select.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn store_strip_tile<const T: usize>(
    acc: &[[__m512; 2]; T],
    masks: &[__mmask16; 2],
    out: *mut f32,
    out_stride: usize,
) {
    for (t, row) in acc.iter().enumerate() {
        for (r, a) in row.iter().enumerate() {
            // SAFETY: masked lanes are columns the caller may write, of row t < T.
            unsafe { _mm512_mask_storeu_ps(out.add(t * out_stride + r * 16), masks[r], *a) };
        }
    }
}
