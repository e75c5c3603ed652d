//! The matrix products of the non-block formats behind the kernel table: f32 (AVX2 and AVX-512 strip
//! kernels; the `gemm` crate for the generic table), int8 W8A8 (per-row dots on the generic table,
//! AVX2 tiles of i16 products, or AVX-512 VNNI tiles),
//! int4 and the weight-only formats dequantized a row at a time, and the parallel drivers they share
//! with the block formats (outputs in chunks over threads, or tiles of output columns).

use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
use super::x86;
#[cfg(target_arch = "x86_64")]
use super::x86_int4;
#[cfg(target_arch = "x86_64")]
use super::x86_int8;
use super::{kernels, Isa, Kernels, OUT_CHUNK};
use crate::engine::quant::integer::{quantize_row_int8, Int4Weights, Int8Weights};
use crate::engine::tensor::Matrix;

/// `x [t, k] * w_t [k, n] -> [t, n]` in f32 with `gemm`.
pub fn matmul_f32(x: &Matrix, w_t: &[f32], n: usize) -> Matrix {
    assert_eq!(w_t.len(), x.cols * n, "weight shape does not match the input width");
    gemm_f32(x, w_t, n, 1, n)
}

/// Re-lays `[out, in]` f32 weights out for the kernel table: on AVX2 and AVX-512, strips of 32 output
/// columns for `matmul_f32_packed`; `None` where the table uses `gemm` on the transposed weights.
pub fn prepare_f32(k: Kernels, w: &[f32], out_f: usize, in_f: usize) -> Option<Vec<f32>> {
    #[cfg(target_arch = "x86_64")]
    if matches!(k.isa, Isa::Avx2 | Isa::Avx512Vnni) {
        return Some(x86::pack_f32_strips(w, out_f, in_f));
    }
    let _ = (k, w, out_f, in_f);
    None
}

/// Row `row` of the `[out, in]` weights `prepare_f32` laid out (`in_f` wide) into `out`: the values
/// given, read back from their strip.
pub fn prepared_f32_row(packed: &[f32], in_f: usize, row: usize, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        use x86::F32_STRIP;
        let (strip, lane) = (row / F32_STRIP, row % F32_STRIP);
        let strip = &packed[strip * in_f * F32_STRIP..(strip + 1) * in_f * F32_STRIP];
        for (o, w) in out.iter_mut().zip(strip.chunks_exact(F32_STRIP)) {
            *o = w[lane];
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (packed, in_f, row, out);
}

/// `x [t, k]` times f32 weights prepared by `prepare_f32`, `n` output columns: strips spread over
/// threads, each streaming its weights once per 12 tokens (AVX-512) or 6 (AVX2) (`gemm` re-packs the
/// weights on every call, which costs more than the product at a sentence or two). Both strip
/// kernels sum every output over `k` in order, so a row's result is the same whatever rows share the
/// call: a decoder's answer does not depend on which requests were batched with it, nor on `--limit`
/// (through `gemm`, whose blocking follows the row count, it did). Another table (tests) gets the
/// transposed weights back and calls `gemm`.
pub fn matmul_f32_packed(k: Kernels, x: &Matrix, packed: &[f32], n: usize) -> Matrix {
    let (tokens, width) = (x.rows, x.cols);
    #[cfg(target_arch = "x86_64")]
    {
        use x86::F32_STRIP;
        assert_eq!(
            packed.len(),
            n.div_ceil(F32_STRIP) * width * F32_STRIP,
            "packed weight length"
        );
        if matches!(k.isa, Isa::Avx512Vnni | Isa::Avx2) {
            let avx512 = k.isa == Isa::Avx512Vnni;
            let rows = &x.data;
            let strip_len = width * F32_STRIP;
            return column_tiles(
                tokens,
                n,
                F32_STRIP,
                || (),
                |_, o0, cols, out| {
                    let strip = &packed[o0 * width..o0 * width + strip_len];
                    // SAFETY: the table's ISA was detected before it was built; rows holds the tokens, the
                    // strip has width x 32 weights (asserted above), and column_tiles hands out its columns.
                    unsafe {
                        if avx512 {
                            x86::gemm_f32_strip_avx512(rows, tokens, width, strip, cols, out, n)
                        } else {
                            x86::gemm_f32_strip_avx2(rows, tokens, width, strip, cols, out, n)
                        }
                    };
                },
            );
        }
        let mut w_t = vec![0.0f32; width * n];
        for o in 0..n {
            for i in 0..width {
                w_t[i * n + o] = packed[((o / F32_STRIP) * width + i) * F32_STRIP + o % F32_STRIP];
            }
        }
        gemm_f32(x, &w_t, n, 1, n)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (k, tokens, width, packed, n);
        unreachable!("prepare_f32 packs weights only on x86_64")
    }
}

/// `x [t, k]` times the `k x n` matrix `rhs` whose element (i, j) is at `rhs[i * row_stride + j * col_stride]`.
fn gemm_f32(x: &Matrix, rhs: &[f32], n: usize, col_stride: usize, row_stride: usize) -> Matrix {
    let (m, k) = (x.rows, x.cols);
    let mut out = Matrix::zeros(m, n);
    if m == 0 || n == 0 || k == 0 {
        return out;
    }
    assert!(
        (k - 1) * row_stride + (n - 1) * col_stride < rhs.len(),
        "weight buffer too small for its shape"
    );
    let threads = rayon::current_num_threads();
    let parallelism = if threads > 1 && m * n * k > 64 * 64 * 64 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: all three buffers are live and the strides stay inside them: out is m x n (row stride n),
    // x is m x k (row stride k), and the assertion above bounds the largest rhs offset.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.data.as_mut_ptr(),
            1,
            n as isize,
            false,
            x.data.as_ptr(),
            1,
            k as isize,
            rhs.as_ptr(),
            col_stride as isize,
            row_stride as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
    out
}

/// Computes `y[t][o] = f(o, t)` for every output and token, outputs spread over threads.
pub fn matmul_rows(tokens: usize, out_f: usize, f: impl Fn(usize, usize) -> f32 + Sync) -> Matrix {
    matmul_columns(tokens, out_f, |o, col| {
        for (t, y) in col.iter_mut().enumerate() {
            *y = f(o, t);
        }
    })
}

/// Fills the output column of every output `o` (its value for each token, `fill(o, column)`), outputs
/// spread over threads in chunks, and returns the token-major matrix.
pub(super) fn matmul_columns(tokens: usize, out_f: usize, fill: impl Fn(usize, &mut [f32]) + Sync) -> Matrix {
    let rows = tokens.max(1);
    let mut out_t = vec![0.0f32; out_f * tokens];
    out_t
        .par_chunks_mut(OUT_CHUNK * rows)
        .enumerate()
        .for_each(|(chunk, dst)| {
            for (j, col) in dst.chunks_mut(rows).enumerate() {
                fill(chunk * OUT_CHUNK + j, col);
            }
        });
    transpose_into(&out_t, out_f, tokens)
}

/// int4 weights as the kernel table multiplies them: row-major codes, or (AVX-512, AVX2) 32-column strips
/// that the int4 strip kernel decodes in registers (the same bytes, reordered).
#[derive(Clone, Debug)]
pub enum Int4Store {
    Rows(Int4Weights),
    #[cfg(target_arch = "x86_64")]
    Strips(x86_int4::Int4Strips),
}

impl Int4Store {
    /// Row `o` in f32 (the scalar reference of both layouts).
    pub fn dequantize_row(&self, o: usize, out: &mut [f32]) {
        match self {
            Int4Store::Rows(w) => w.dequantize_row(o, out),
            #[cfg(target_arch = "x86_64")]
            Int4Store::Strips(w) => w.dequantize_row(o, out),
        }
    }

    /// True for the strips (their kernel sums each output in order at every row count); rows go
    /// through `matmul_dequant`, whose path changes with the row count.
    pub fn rows_independent(&self) -> bool {
        !matches!(self, Int4Store::Rows(_))
    }

    /// Bytes stored: codes, scales and minimums.
    pub fn bytes(&self) -> usize {
        match self {
            Int4Store::Rows(w) => w.packed.len() + (w.scale.len() + w.min.as_ref().map_or(0, Vec::len)) * 4,
            #[cfg(target_arch = "x86_64")]
            Int4Store::Strips(w) => w.bytes(),
        }
    }
}

/// Lays int4 weights out for the kernel table: strips on AVX-512 and AVX2, rows elsewhere.
pub fn prepare_int4(k: Kernels, w: Int4Weights, out_f: usize, in_f: usize) -> Int4Store {
    #[cfg(target_arch = "x86_64")]
    if matches!(k.isa, Isa::Avx512Vnni | Isa::Avx2) {
        return Int4Store::Strips(x86_int4::Int4Strips::from_rows(&w, out_f, in_f));
    }
    let _ = (k, out_f, in_f);
    Int4Store::Rows(w)
}

/// W4A16 product: on AVX-512 or AVX2 (strips) the table's int4 strip kernel, strips spread over
/// threads; otherwise the weight-only path of `matmul_dequant`.
///
/// From `DEQUANT_GEMM_MIN_ROWS` token rows on (AVX2) or `INT4_UNPACK_MIN_ROWS_AVX512` (AVX-512), each
/// strip is unpacked once to f32 and goes through the f32 strip kernel instead: the int4 kernels decode
/// the codes again for every tile of tokens (6 x 16 on AVX2, 12 x 32 on AVX-512), which halved the AVX2
/// kernel's speed on 128 rows (MiniLM kernel bench, AMD EPYC: 35 GOP/s against 57 for
/// unpack-then-multiply) while it doubled it at a sentence. Both give the scalar strip product of the
/// dequantized weights bit for bit, so a row's answer still does not depend on its batch.
pub fn matmul_int4(x: &Matrix, w: &Int4Store, out_f: usize) -> Matrix {
    #[cfg(target_arch = "x86_64")]
    let isa = kernels().isa;
    match w {
        #[cfg(target_arch = "x86_64")]
        Int4Store::Strips(strips) if matches!(isa, Isa::Avx512Vnni | Isa::Avx2) => {
            use x86::F32_STRIP;
            let avx512 = isa == Isa::Avx512Vnni;
            let unpack = x.rows
                >= if avx512 {
                    INT4_UNPACK_MIN_ROWS_AVX512
                } else {
                    DEQUANT_GEMM_MIN_ROWS
                };
            let (rows, width) = (&x.data, x.cols);
            column_tiles(
                x.rows,
                out_f,
                F32_STRIP,
                || {
                    if unpack {
                        vec![0.0f32; width * F32_STRIP]
                    } else {
                        Vec::new()
                    }
                },
                |buffer, o0, cols, out| {
                    let s = o0 / F32_STRIP;
                    // SAFETY: the table's ISA was detected before it was built (AVX-512 machines have AVX2 and
                    // FMA); rows holds the tokens of the strips' width, s is a strip of w, the buffer has width
                    // x 32 weights when unpacking, and column_tiles hands out the strip's columns.
                    unsafe {
                        match (unpack, avx512) {
                            (true, _) => {
                                x86_int4::unpack_int4_strip_avx2(strips, s, buffer);
                                if avx512 {
                                    x86::gemm_f32_strip_avx512(rows, x.rows, width, buffer, cols, out, out_f)
                                } else {
                                    x86::gemm_f32_strip_avx2(rows, x.rows, width, buffer, cols, out, out_f)
                                }
                            }
                            (false, true) => {
                                x86_int4::gemm_int4_strip_avx512(rows, x.rows, strips, s, cols, out, out_f)
                            }
                            (false, false) => x86_int4::gemm_int4_strip_avx2(rows, x.rows, strips, s, cols, out, out_f),
                        }
                    };
                },
            )
        }
        _ => matmul_dequant(x, out_f, |o, row| w.dequantize_row(o, row)),
    }
}

/// Token rows from which weight-only formats unpack their weights for a matrix product.
pub const DEQUANT_GEMM_MIN_ROWS: usize = 24;

/// Token rows from which W4A16 on AVX-512 unpacks a strip once rather than decoding its codes in every
/// 12-row tile: 1.14x at 64 rows (SmolLM2 `bench --sequences 64`, AMD EPYC Zen 4, two threads: 671-676
/// against 592-594 tokens/s), no difference measurable at 16 (unpacking from 13 rows read the same).
pub const INT4_UNPACK_MIN_ROWS_AVX512: usize = 24;

/// W8A8: quantizes every row of `x` to int8 (per-token scale), multiplies with int8 weights in
/// int32, and rescales: `y[t][o] = sx[t] * sw[o] * sum_i xq[t][i] * wq[o][i]`.
pub fn matmul_int8(x: &Matrix, w: &Int8Weights, out_f: usize) -> Matrix {
    matmul_int8_with(kernels(), x, w, out_f)
}

/// Re-lays int8 weights out for the kernel table: on AVX-512 VNNI the block layout replaces the
/// row-major codes (one copy in memory); other tables use the row-major codes as they are.
pub fn prepare_int8(k: Kernels, w: &mut Int8Weights, out_f: usize, in_f: usize) {
    #[cfg(target_arch = "x86_64")]
    if k.isa == Isa::Avx512Vnni && w.vnni.is_none() {
        w.vnni = Some(x86::pack_vnni(&w.q, out_f, in_f));
        w.q = Vec::new();
    }
    let _ = (k, out_f, in_f);
}

/// `matmul_int8` with an explicit kernel table (for tests and benchmarks).
pub fn matmul_int8_with(k: Kernels, x: &Matrix, w: &Int8Weights, out_f: usize) -> Matrix {
    #[cfg(target_arch = "x86_64")]
    if let Some(packed) = &w.vnni {
        if k.isa == Isa::Avx512Vnni {
            return matmul_int8_vnni(x, w, packed, out_f);
        }
        // Weights prepared for VNNI, used with another table (tests): back to row-major codes.
        let mut plain = w.clone();
        plain.q = x86::unpack_vnni(packed, out_f, x.cols);
        plain.vnni = None;
        return matmul_int8_with(k, x, &plain, out_f);
    }
    #[cfg(target_arch = "x86_64")]
    if k.isa == Isa::Avx2 {
        return matmul_int8_avx2(x, w, out_f);
    }
    let width = x.cols;
    let (xq, sx) = quantize_rows_int8(x);
    let xu: Vec<u8> = xq.iter().map(|&v| (v as u8) ^ 0x80).collect();
    matmul_rows(x.rows, out_f, |o, t| {
        let span = t * width..(t + 1) * width;
        let acc = k.dot_i8(
            &xq[span.clone()],
            &xu[span],
            &w.q[o * width..(o + 1) * width],
            w.row_sum[o],
        );
        acc as f32 * sx[t] * w.scale[o]
    })
}

/// Every row of `x` quantized to int8 with its own scale (`quantize_row_int8`): the codes row after
/// row, and the scales.
fn quantize_rows_int8(x: &Matrix) -> (Vec<i8>, Vec<f32>) {
    let mut xq = vec![0i8; x.rows * x.cols];
    let sx = xq
        .chunks_mut(x.cols.max(1))
        .enumerate()
        .map(|(t, dst)| quantize_row_int8(x.row(t), dst))
        .collect();
    (xq, sx)
}

/// W8A8 on AVX2: activations quantized per token and widened to i16, then one `gemm_i8_rows_avx2`
/// call per tile of `I8_TILE` output channels (tiles spread over threads); exact i32 sums, so the
/// same bits as the per-row dots.
#[cfg(target_arch = "x86_64")]
fn matmul_int8_avx2(x: &Matrix, w: &Int8Weights, out_f: usize) -> Matrix {
    let (tokens, width) = (x.rows, x.cols);
    let (xq, sx) = quantize_rows_int8(x);
    let (wide, in_padded) = x86_int8::widen_rows(&xq, tokens, width);
    let acts = x86_int8::WideActivations {
        x: &wide,
        tokens,
        in_padded,
        sx: &sx,
    };
    column_tiles(
        tokens,
        out_f,
        x86_int8::I8_TILE,
        || (),
        |_, o0, cols, out| {
            let (codes, scale) = (&w.q[o0 * width..(o0 + cols) * width], &w.scale[o0..o0 + cols]);
            // SAFETY: only the AVX2 table reaches here; the codes and scales are the tile's `cols` rows,
            // the widened rows are padded to `in_padded`, and column_tiles hands out the tile's columns.
            unsafe { x86_int8::gemm_i8_rows_avx2(&acts, codes, width, scale, cols, out, out_f) };
        },
    )
}

/// W8A8 on AVX-512 VNNI: activations quantized per token and shifted to `x + 128`, then one
/// `gemm_u8i8_vnni` call per tile of 64 output channels (tiles spread over threads), which corrects
/// by `128 * sum(w)`, rescales and writes its columns of the output.
#[cfg(target_arch = "x86_64")]
fn matmul_int8_vnni(x: &Matrix, w: &Int8Weights, packed: &[i8], out_f: usize) -> Matrix {
    use x86::{VNNI_GROUP, VNNI_TOKENS};
    let (tokens, width) = (x.rows, x.cols);
    let in_padded = width.div_ceil(4) * 4;
    // Rows past `tokens` (up to a whole micro-tile) and bytes past `width` hold 128, a shifted zero.
    let mut xu = vec![128u8; tokens.div_ceil(VNNI_TOKENS) * VNNI_TOKENS * in_padded];
    let sx: Vec<f32> = xu
        .par_chunks_mut(in_padded.max(1))
        .enumerate()
        .take(tokens)
        // SAFETY: this path runs only with the VNNI table, whose features include AVX-512F/BW;
        // each destination row has in_padded >= width bytes.
        .map(|(t, dst)| unsafe { x86::quantize_shift_row_avx512(x.row(t), dst) })
        .collect();
    let groups = out_f.div_ceil(VNNI_GROUP);
    let mut correction = vec![0i32; groups * VNNI_GROUP];
    let mut scale = vec![0.0f32; groups * VNNI_GROUP];
    for (o, (&sum, &s)) in w.row_sum.iter().zip(&w.scale).enumerate().take(out_f) {
        correction[o] = 128 * sum;
        scale[o] = s;
    }
    let tile_len = VNNI_GROUP * in_padded;
    let acts = x86::VnniActivations {
        xu: &xu,
        tokens,
        in_padded,
        sx: &sx,
    };
    column_tiles(
        tokens,
        out_f,
        VNNI_GROUP,
        || (),
        |_, o0, cols, out| {
            let scales = x86::VnniTileScales {
                correction: &correction[o0..o0 + VNNI_GROUP],
                scale: &scale[o0..o0 + VNNI_GROUP],
                cols,
            };
            let tile = &packed[o0 / VNNI_GROUP * tile_len..(o0 / VNNI_GROUP + 1) * tile_len];
            // SAFETY: the VNNI table exists only after detecting AVX-512 F/BW/VNNI; xu has whole micro-tiles
            // of rows, the packed weights hold every tile (pack_vnni pads them), sx has a scale per token,
            // and column_tiles hands out the tile's columns.
            unsafe { x86::gemm_u8i8_vnni(&acts, tile, &scales, out, out_f) };
        },
    )
}

/// The output buffer of a product whose tiles write disjoint columns from several threads.
#[cfg(target_arch = "x86_64")]
struct OutPtr(*mut f32);
// SAFETY: the pointer is only written through by tiles that own disjoint columns, while the buffer
// outlives the parallel loop.
#[cfg(target_arch = "x86_64")]
unsafe impl Sync for OutPtr {}

#[cfg(target_arch = "x86_64")]
impl OutPtr {
    /// The address `offset` elements past the start.
    ///
    /// # Safety
    /// `offset` must lie inside the buffer.
    unsafe fn at(&self, offset: usize) -> *mut f32 {
        // SAFETY: the caller keeps offset inside the buffer.
        unsafe { self.0.add(offset) }
    }
}

/// The `tokens x out_f` output of a product computed in tiles of `width` output columns, tiles spread
/// over threads: `tile(scratch, o0, cols, out)` gets its first column `o0`, its column count and `out`
/// pointing at column `o0` of row 0 (row stride `out_f`), and must write only those `cols` columns of
/// the `tokens` rows; `init` makes each thread's scratch.
#[cfg(target_arch = "x86_64")]
pub(super) fn column_tiles<S>(
    tokens: usize,
    out_f: usize,
    width: usize,
    init: impl Fn() -> S + Sync + Send,
    tile: impl Fn(&mut S, usize, usize, *mut f32) + Sync,
) -> Matrix {
    let mut ys = column_tiles_parts(tokens, &[out_f], width, init, |s, _, o0, cols, out| {
        tile(s, o0, cols, out)
    });
    ys.pop().unwrap_or_else(|| Matrix::zeros(tokens, out_f))
}

/// `column_tiles` for several products of the same input at once (one output per entry of `outs`, each
/// `tokens x outs[p]`), their tiles spread over threads in one parallel pass: `tile(scratch, p, o0, cols,
/// out)` also gets the product `p`, and `out` points into that product's output (row stride `outs[p]`).
/// One pass instead of one per product saves a decode step a fork and join per fused layer.
#[cfg(target_arch = "x86_64")]
pub(super) fn column_tiles_parts<S>(
    tokens: usize,
    outs: &[usize],
    width: usize,
    init: impl Fn() -> S + Sync + Send,
    tile: impl Fn(&mut S, usize, usize, usize, *mut f32) + Sync,
) -> Vec<Matrix> {
    let mut ys: Vec<Matrix> = outs.iter().map(|&o| Matrix::zeros(tokens, o)).collect();
    if tokens == 0 {
        return ys;
    }
    let ptrs: Vec<OutPtr> = ys.iter_mut().map(|y| OutPtr(y.data.as_mut_ptr())).collect();
    // first[p]: the index of product p's first tile; first[outs.len()] the tile count.
    let mut first = Vec::with_capacity(outs.len() + 1);
    first.push(0);
    for &o in outs {
        first.push(first[first.len() - 1] + o.div_ceil(width));
    }
    (0..first[outs.len()])
        .into_par_iter()
        .for_each_init(init, |scratch, g| {
            let p = first.partition_point(|&f| f <= g) - 1;
            let o0 = (g - first[p]) * width;
            // SAFETY: g is a tile of product p, so o0 < outs[p] <= its buffer's length (tokens > 0).
            tile(scratch, p, o0, (outs[p] - o0).min(width), unsafe { ptrs[p].at(o0) });
        });
    ys
}

/// Weight-only formats (f16, W8A16, W4A16), `dequant(o, row)` unpacking weight row `o` to f32.
///
/// (Not independent of the other rows of the call: the path changes at `DEQUANT_GEMM_MIN_ROWS`, and
/// the strips, made at every row count, measured 35 % slower at a sentence on AVX2, where unpacking
/// into the strip layout costs more than the per-row dots.)
///
/// From `DEQUANT_GEMM_MIN_ROWS` token rows on, the weights are unpacked to f32 for a matrix product:
/// strip by strip into the AVX-512 or AVX2 strip kernel, or (other tables) one layer at a time into a
/// transient scratch matrix for gemm; at rest they stay packed. For fewer rows (about a sentence),
/// each weight row is unpacked once and dotted with every token row by the kernel table, which
/// measured faster there (f16 90 vs 70 sentences/s at batch 1 on MiniLM).
pub fn matmul_dequant(x: &Matrix, out_f: usize, dequant: impl Fn(usize, &mut [f32]) + Sync) -> Matrix {
    #[cfg(target_arch = "x86_64")]
    if matches!(kernels().isa, Isa::Avx512Vnni | Isa::Avx2) && x.rows >= DEQUANT_GEMM_MIN_ROWS {
        return matmul_dequant_strips(x, out_f, dequant);
    }
    if x.rows >= DEQUANT_GEMM_MIN_ROWS {
        matmul_dequant_gemm(x, out_f, dequant)
    } else {
        matmul_dequant_with(kernels(), x, out_f, dequant)
    }
}

/// Weight-only formats on AVX-512 or AVX2: each task unpacks the 32 weight rows of one strip into a
/// strip buffer (the `prepare_f32` layout) and runs the table's f32 strip kernel on it, so no
/// whole-layer scratch is built and the unpacking is spread over threads with the product.
///
/// # Panics
/// When the detected table is neither AVX-512 nor AVX2 (callers check it first).
#[cfg(target_arch = "x86_64")]
pub fn matmul_dequant_strips(x: &Matrix, out_f: usize, dequant: impl Fn(usize, &mut [f32]) + Sync) -> Matrix {
    use x86::F32_STRIP;
    let isa = kernels().isa;
    assert!(
        matches!(isa, Isa::Avx512Vnni | Isa::Avx2),
        "strip kernels need AVX-512 or AVX2"
    );
    let avx512 = isa == Isa::Avx512Vnni;
    let (tokens, width) = (x.rows, x.cols);
    let rows = &x.data;
    column_tiles(
        tokens,
        out_f,
        F32_STRIP,
        || (vec![0.0f32; width], vec![0.0f32; width * F32_STRIP]),
        |(row, strip), o0, cols, out| {
            strip.iter_mut().for_each(|v| *v = 0.0);
            for lane in 0..cols {
                dequant(o0 + lane, row);
                for (i, &v) in row.iter().enumerate() {
                    strip[i * F32_STRIP + lane] = v;
                }
            }
            // SAFETY: the table's ISA (asserted above) was detected before it was built; rows holds the
            // tokens, the strip buffer has width x 32 weights, and column_tiles hands out the strip's
            // columns.
            unsafe {
                if avx512 {
                    x86::gemm_f32_strip_avx512(rows, tokens, width, strip, cols, out, out_f)
                } else {
                    x86::gemm_f32_strip_avx2(rows, tokens, width, strip, cols, out, out_f)
                }
            };
        },
    )
}

/// Unpacks all weights into an `[out, in]` f32 scratch matrix (in parallel) and calls gemm on it.
pub fn matmul_dequant_gemm(x: &Matrix, out_f: usize, dequant: impl Fn(usize, &mut [f32]) + Sync) -> Matrix {
    let width = x.cols;
    let mut scratch = vec![0.0f32; out_f * width];
    scratch
        .par_chunks_mut(width.max(1))
        .enumerate()
        .for_each(|(o, row)| dequant(o, row));
    gemm_f32(x, &scratch, out_f, width, 1)
}

/// Row-by-row weight-only product with an explicit kernel table.
pub fn matmul_dequant_with(k: Kernels, x: &Matrix, out_f: usize, dequant: impl Fn(usize, &mut [f32]) + Sync) -> Matrix {
    let width = x.cols;
    let rows = x.rows.max(1);
    let mut out_t = vec![0.0f32; out_f * x.rows];
    out_t
        .par_chunks_mut(OUT_CHUNK * rows)
        .enumerate()
        .for_each(|(chunk, dst)| {
            let mut wrow = vec![0.0f32; width];
            for (j, col) in dst.chunks_mut(rows).enumerate() {
                let o = chunk * OUT_CHUNK + j;
                dequant(o, &mut wrow);
                for (t, y) in col.iter_mut().enumerate() {
                    *y = k.dot_f32(x.row(t), &wrow);
                }
            }
        });
    transpose_into(&out_t, out_f, x.rows)
}

/// Turns an `[n, m]` buffer into an `[m, n]` matrix.
fn transpose_into(src: &[f32], n: usize, m: usize) -> Matrix {
    let mut out = Matrix::zeros(m, n);
    for o in 0..n {
        for t in 0..m {
            out.data[t * n + o] = src[o * m + t];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::quant::integer::{quantize_int4, quantize_int8};
    use crate::engine::tensor;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};
    #[test]
    fn every_table_gives_the_generic_matmuls_on_random_shapes() {
        let mut rng = StdRng::seed_from_u64(11);
        let generic = Kernels { isa: Isa::Generic };
        for &(t, in_f, out_f) in &[
            (0, 9, 70),
            (1, 1, 1),
            (3, 65, 17),
            (5, 130, 33),
            (2, 384, 19),
            (9, 257, 40),
            (6, 64, 64),
            (7, 101, 65),
            (13, 388, 130),
            (12, 384, 200),
            (4, 576, 97),
            (2, 31, 3),
            (8, 48, 50),
            (1, 1536, 25),
        ] {
            let x = Matrix::from_vec(t, in_f, (0..t * in_f).map(|_| rng.random_range(-2.0f32..2.0)).collect());
            let w: Vec<f32> = (0..out_f * in_f).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let q8 = quantize_int8(&w, out_f, in_f);
            let q4 = quantize_int4(&w, out_f, in_f, 32, false);
            let want8 = matmul_int8_with(generic, &x, &q8, out_f);
            let want4 = matmul_dequant_with(generic, &x, out_f, |o, r| q4.dequantize_row(o, r));
            for k in Kernels::available() {
                // Integer accumulation is exact: identical results.
                assert_eq!(
                    matmul_int8_with(k, &x, &q8, out_f),
                    want8,
                    "{} int8 {t}x{in_f}x{out_f}",
                    k.name()
                );
                let got4 = matmul_dequant_with(k, &x, out_f, |o, r| q4.dequantize_row(o, r));
                for (g, r) in got4.data.iter().zip(&want4.data) {
                    assert!((g - r).abs() <= 1e-4 * (1.0 + r.abs()), "{} int4: {g} vs {r}", k.name());
                }
            }
            // The unpack-then-gemm path computes the same product, and so does the strip kernel.
            let via_gemm = matmul_dequant_gemm(&x, out_f, |o, r| q4.dequantize_row(o, r));
            for (g, r) in via_gemm.data.iter().zip(&want4.data) {
                assert!((g - r).abs() <= 1e-4 * (1.0 + r.abs()), "gemm int4: {g} vs {r}");
            }
            #[cfg(target_arch = "x86_64")]
            if matches!(kernels().isa, Isa::Avx512Vnni | Isa::Avx2) {
                let via_strips = matmul_dequant_strips(&x, out_f, |o, r| q4.dequantize_row(o, r));
                for (g, r) in via_strips.data.iter().zip(&want4.data) {
                    assert!((g - r).abs() <= 1e-4 * (1.0 + r.abs()), "strips int4: {g} vs {r}");
                }
            }
        }
    }

    #[test]
    fn every_table_gives_the_gemm_f32_product_on_random_shapes() {
        let mut rng = StdRng::seed_from_u64(19);
        for &(t, in_f, out_f) in &[
            (1, 1, 1),
            (0, 9, 40),
            (1, 384, 33),
            (5, 7, 64),
            (12, 65, 31),
            (13, 100, 97),
            (30, 384, 70),
        ] {
            let x = Matrix::from_vec(t, in_f, (0..t * in_f).map(|_| rng.random_range(-2.0f32..2.0)).collect());
            let w: Vec<f32> = (0..out_f * in_f).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let want = matmul_f32(&x, &tensor::transpose(&w, out_f, in_f), out_f);
            for k in Kernels::available() {
                let Some(packed) = prepare_f32(k, &w, out_f, in_f) else {
                    continue;
                };
                for table in [k, Kernels { isa: Isa::Generic }] {
                    let got = matmul_f32_packed(table, &x, &packed, out_f);
                    for (g, r) in got.data.iter().zip(&want.data) {
                        assert!(
                            (g - r).abs() <= 1e-5 * (1.0 + r.abs()),
                            "{} {t}x{in_f}x{out_f}: {g} vs {r}",
                            table.name()
                        );
                    }
                }
            }
        }
    }

    /// The strip kernels sum in the scalar twin's order, one fused multiply-add a product: equal bit for
    /// bit on odd shapes, and a row's result the same alone or among other rows.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn strip_kernels_equal_the_scalar_twin_bit_for_bit_whatever_rows_share_the_call() {
        let mut rng = StdRng::seed_from_u64(29);
        for &(t, in_f, out_f) in &[
            (1, 1, 1),
            (1, 576, 40),
            (2, 33, 17),
            (3, 9, 50),
            (4, 64, 33),
            (5, 7, 64),
            (6, 31, 16),
            (7, 65, 31),
            (8, 12, 33),
            (9, 20, 48),
            (10, 50, 33),
            (11, 17, 65),
            (12, 96, 32),
            (13, 100, 97),
            (19, 384, 70),
            (25, 40, 35),
        ] {
            let x = Matrix::from_vec(t, in_f, (0..t * in_f).map(|_| rng.random_range(-2.0f32..2.0)).collect());
            let w: Vec<f32> = (0..out_f * in_f).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let packed = x86::pack_f32_strips(&w, out_f, in_f);
            let want = scalar_strip_product(&x, &packed, out_f);
            for k in Kernels::available().into_iter().filter(|k| k.isa != Isa::Generic) {
                let got = matmul_f32_packed(k, &x, &packed, out_f);
                assert_eq!(got.data, want, "{} {t}x{in_f}x{out_f}", k.name());
                // The last row alone gives the same bits as among the others.
                let last = Matrix::from_vec(1, in_f, x.row(t - 1).to_vec());
                let alone = matmul_f32_packed(k, &last, &packed, out_f);
                assert_eq!(alone.data, got.row(t - 1), "{} last row alone", k.name());
            }
        }
    }

    /// `x` times f32 weights packed in strips (`x86::pack_f32_strips`), by the scalar strip product.
    #[cfg(target_arch = "x86_64")]
    fn scalar_strip_product(x: &Matrix, packed: &[f32], out_f: usize) -> Vec<f32> {
        use super::super::generic;
        use x86::F32_STRIP;
        let (t, in_f) = (x.rows, x.cols);
        let mut want = vec![0.0f32; t * out_f];
        for s in 0..out_f.div_ceil(F32_STRIP) {
            let strip = generic::Strip {
                w: &packed[s * in_f * F32_STRIP..(s + 1) * in_f * F32_STRIP],
                width: F32_STRIP,
                cols: (out_f - s * F32_STRIP).min(F32_STRIP),
            };
            generic::gemm_f32_strip(&x.data, t, in_f, &strip, &mut want[s * F32_STRIP..], out_f);
        }
        want
    }

    /// int4 weights in either layout dequantize to the same rows and multiply to the scalar product; the
    /// strip kernel of this machine's table (AVX-512 or AVX2) decodes in the scalar `dequantize_row`'s
    /// steps and sums as the f32 strip kernels do: the scalar strip product of the dequantized weights
    /// bit for bit, on odd shapes and group sizes, and a row's result the same alone as among others.
    #[test]
    fn int4_strips_give_the_row_major_weights_and_product() {
        let mut rng = StdRng::seed_from_u64(23);
        for &(t, in_f, out_f, group, asym) in &[
            (0, 9, 40, 4, false),
            (1, 1, 1, 1, false),
            (1, 576, 40, 128, false),
            (2, 33, 17, 7, true),
            (3, 65, 17, 7, true),
            (4, 64, 33, 32, true),
            (5, 7, 64, 3, false),
            (6, 31, 16, 31, true),
            (7, 65, 31, 64, false),
            (8, 32, 20, 16, true),
            (9, 40, 33, 8, false),
            (10, 50, 40, 25, true),
            (11, 64, 48, 32, false),
            (12, 384, 70, 128, false),
            (13, 100, 33, 32, true),
            (19, 384, 70, 128, false),
            (24, 65, 40, 7, true),
            (30, 257, 64, 257, false),
            (37, 130, 33, 64, true),
        ] {
            let x = Matrix::from_vec(t, in_f, (0..t * in_f).map(|_| rng.random_range(-2.0f32..2.0)).collect());
            let w: Vec<f32> = (0..out_f * in_f).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let rows = quantize_int4(&w, out_f, in_f, group, asym);
            let want = matmul_dequant_with(Kernels { isa: Isa::Generic }, &x, out_f, |o, r| {
                rows.dequantize_row(o, r)
            });
            for k in Kernels::available() {
                let store = prepare_int4(k, rows.clone(), out_f, in_f);
                let (mut a, mut b) = (vec![0.0f32; in_f], vec![0.0f32; in_f]);
                for o in 0..out_f {
                    store.dequantize_row(o, &mut a);
                    rows.dequantize_row(o, &mut b);
                    assert_eq!(a, b, "{} row {o}", k.name());
                }
                let got = matmul_int4(&x, &store, out_f);
                for (g, r) in got.data.iter().zip(&want.data) {
                    assert!(
                        (g - r).abs() <= 1e-4 * (1.0 + r.abs()),
                        "{} {t}x{in_f}x{out_f} g{group}: {g} vs {r}",
                        k.name()
                    );
                }
            }
            #[cfg(target_arch = "x86_64")]
            if t > 0 && matches!(kernels().isa, Isa::Avx512Vnni | Isa::Avx2) {
                let mut dequantized = vec![0.0f32; out_f * in_f];
                for (o, row) in dequantized.chunks_mut(in_f).enumerate() {
                    rows.dequantize_row(o, row);
                }
                let want = scalar_strip_product(&x, &x86::pack_f32_strips(&dequantized, out_f, in_f), out_f);
                let store = prepare_int4(kernels(), rows, out_f, in_f);
                let got = matmul_int4(&x, &store, out_f);
                assert_eq!(got.data, want, "strips {t}x{in_f}x{out_f} g{group}");
                let last = Matrix::from_vec(1, in_f, x.row(t - 1).to_vec());
                assert_eq!(
                    matmul_int4(&last, &store, out_f).data,
                    got.row(t - 1),
                    "strips, last row alone"
                );
            }
        }
    }
}
