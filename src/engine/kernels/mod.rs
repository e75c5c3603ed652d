//! Matrix-product kernels for every weight format, behind a kernel table chosen at run time (this
//! file: the table; `matmul`: the f32, int8 and int4 products; `gguf_matmul`: the block formats).
//!
//! Each product is `y = x W^T` with `x` as `[tokens, in]` and `W` as `[out, in]`. The f32 path runs
//! strip kernels on weights laid out in 32-column strips (AVX2, AVX-512), every output summed over its
//! inputs in order, so a row's result does not depend on the other rows of the call; the generic table
//! calls the `gemm` crate on weights laid out `[in, out]`. The integer paths use this module's table: portable scalar code (`generic`), AVX2, or AVX-512 VNNI, picked by
//! CPU feature detection (`SHAKEDOWN_KERNELS=generic|avx2` forces a table, e.g. to compare). Work is
//! split over output rows with rayon, so the sum order of every output, and hence the result, does
//! not depend on the thread count; the name of the table that ran is recorded in every run.

pub mod codes;
pub mod generic;
mod gguf_matmul;
mod matmul;
#[cfg(target_arch = "x86_64")]
pub mod x86;
#[cfg(target_arch = "x86_64")]
pub mod x86_attention;
#[cfg(target_arch = "x86_64")]
mod x86_bytes;
#[cfg(target_arch = "x86_64")]
pub mod x86_gguf;
#[cfg(target_arch = "x86_64")]
pub mod x86_gguf_gemm;
#[cfg(target_arch = "x86_64")]
pub mod x86_gguf_gemm_avx2;
#[cfg(target_arch = "x86_64")]
pub mod x86_gguf_k;
#[cfg(target_arch = "x86_64")]
pub mod x86_int4;
#[cfg(target_arch = "x86_64")]
pub mod x86_int8;
#[cfg(target_arch = "x86_64")]
pub mod x86_math;
#[cfg(target_arch = "x86_64")]
pub mod x86_q4k_gemm;
#[cfg(target_arch = "x86_64")]
pub mod x86_quantize;

use std::sync::OnceLock;

pub use gguf_matmul::{
    matmul_gguf_packed, matmul_gguf_packed_many, matmul_gguf_with, prepare_gguf, prepare_gguf_releasing, PackedGguf,
};
use matmul::matmul_columns;
#[cfg(target_arch = "x86_64")]
use matmul::{column_tiles, column_tiles_parts};
pub use matmul::{
    matmul_dequant, matmul_dequant_gemm, matmul_dequant_strips, matmul_dequant_with, matmul_f32, matmul_f32_packed,
    matmul_int4, matmul_int8, matmul_int8_with, matmul_rows, prepare_f32, prepare_int4, prepare_int8, prepared_f32_row,
    Int4Store, DEQUANT_GEMM_MIN_ROWS,
};

use crate::engine::quant::blocks::{self, ActRow};
use crate::engine::tensor;

/// Outputs computed per rayon task: enough work per task to amortise scheduling.
const OUT_CHUNK: usize = 16;

/// The instruction sets a kernel table can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    Generic,
    Avx2,
    Avx512Vnni,
}

/// A kernel table: which implementation every primitive uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernels {
    pub isa: Isa,
}

impl Kernels {
    /// The table's name, recorded in run metadata.
    pub fn name(&self) -> &'static str {
        match self.isa {
            Isa::Generic => "generic",
            Isa::Avx2 => "avx2",
            Isa::Avx512Vnni => "avx512vnni",
        }
    }

    /// Every table this CPU can run, generic first.
    pub fn available() -> Vec<Kernels> {
        let mut out = vec![Kernels { isa: Isa::Generic }];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c") {
                out.push(Kernels { isa: Isa::Avx2 });
                if is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("avx512vnni")
                {
                    out.push(Kernels { isa: Isa::Avx512Vnni });
                }
            }
        }
        out
    }

    /// f32 dot product.
    #[inline]
    pub fn dot_f32(&self, a: &[f32], b: &[f32]) -> f32 {
        match self.isa {
            Isa::Generic => generic::dot_f32(a, b),
            // SAFETY: a non-generic table is only built by `available`, after detecting AVX2, FMA and F16C.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512Vnni => unsafe { x86::dot_f32_fma(a, b) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => generic::dot_f32(a, b),
        }
    }

    /// In-place GELU of a slice (`tensor::gelu_slice` is the scalar reference).
    #[inline]
    pub fn gelu(&self, xs: &mut [f32]) {
        match self.isa {
            Isa::Generic => tensor::gelu_slice(xs),
            // SAFETY: a non-generic table is only built by `available`, after detecting AVX2 and FMA.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512Vnni => unsafe { x86_math::gelu_avx2(xs) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => tensor::gelu_slice(xs),
        }
    }

    /// `g = gelu_tanh(g) * u` (`tensor::gelu_tanh_mul` is the scalar reference).
    #[inline]
    pub fn gelu_tanh_mul(&self, g: &mut [f32], u: &[f32]) {
        match self.isa {
            Isa::Generic => tensor::gelu_tanh_mul(g, u),
            // SAFETY: a non-generic table is only built by `available`, after detecting AVX2 and FMA.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512Vnni => unsafe { x86_math::gelu_tanh_mul_avx2(g, u) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => tensor::gelu_tanh_mul(g, u),
        }
    }

    /// An activation row quantized for `format`'s integer block dot (`blocks::quantize_activations` is
    /// the scalar reference; the Q8 rows of the 32-weight formats come out the same bit for bit).
    pub fn quantize_activations(&self, format: blocks::BlockFormat, x: &[f32]) -> ActRow {
        match self.isa {
            Isa::Generic => blocks::quantize_activations(format, x),
            // SAFETY: a non-generic table is only built by `available`, after detecting AVX2.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512Vnni => {
                blocks::quantize_activations_with(format, x, |r| unsafe { x86_quantize::quantize_q8_row(r) })
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => blocks::quantize_activations(format, x),
        }
    }

    /// In-place softmax of a slice (`tensor::softmax` is the scalar reference).
    #[inline]
    pub fn softmax(&self, xs: &mut [f32]) {
        match self.isa {
            Isa::Generic => tensor::softmax(xs),
            // SAFETY: a non-generic table is only built by `available`, after detecting AVX2 and FMA.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512Vnni => unsafe { x86_math::softmax_avx2(xs) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => tensor::softmax(xs),
        }
    }

    /// Layer normalisation of one row (`tensor::layer_norm_row` is the scalar reference); `gamma`
    /// and `beta` must be as long as the row.
    #[inline]
    pub fn layer_norm_row(&self, row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
        assert!(
            gamma.len() >= row.len() && beta.len() >= row.len(),
            "layer norm parameters shorter than the row"
        );
        match self.isa {
            Isa::Generic => tensor::layer_norm_row(row, gamma, beta, eps),
            // SAFETY: AVX2 and FMA were detected for this table; the lengths are checked above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512Vnni => unsafe { x86_math::layer_norm_row_avx2(row, gamma, beta, eps) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => tensor::layer_norm_row(row, gamma, beta, eps),
        }
    }

    /// `y += a * x`; `x` must be at least as long as `y`.
    #[inline]
    pub fn axpy(&self, a: f32, x: &[f32], y: &mut [f32]) {
        assert!(x.len() >= y.len(), "axpy input shorter than its output");
        match self.isa {
            Isa::Generic => y.iter_mut().zip(x).for_each(|(o, v)| *o += a * v),
            // SAFETY: AVX2 and FMA were detected for this table; the lengths are checked above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512Vnni => unsafe { x86_math::axpy_avx2(a, x, y) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => y.iter_mut().zip(x).for_each(|(o, v)| *o += a * v),
        }
    }

    /// Attention scores of one query head: `out[j] = scale * (q . key j)`, key `j` being the `q.len()`
    /// floats of `keys` from `j * stride`.
    pub fn scores(&self, q: &[f32], keys: &[f32], stride: usize, scale: f32, out: &mut [f32]) {
        if let Some(last) = out.len().checked_sub(1) {
            assert!(
                keys.len() >= last * stride + q.len(),
                "scores: keys shorter than their rows"
            );
        }
        let generic = |out: &mut [f32]| {
            for (j, o) in out.iter_mut().enumerate() {
                *o = generic::dot_f32(q, &keys[j * stride..j * stride + q.len()]) * scale;
            }
        };
        match self.isa {
            Isa::Generic => generic(out),
            // SAFETY: AVX2 and FMA were detected for this table; the lengths are checked above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512Vnni => unsafe { x86_attention::scores(q, keys, stride, scale, out) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => generic(out),
        }
    }

    /// The attention context of one head: `o += sum_j p[j] * value j`, value `j` being the `o.len()`
    /// floats of `values` from `j * stride`, added in order of `j`.
    pub fn weighted_sum(&self, p: &[f32], values: &[f32], stride: usize, o: &mut [f32]) {
        if let Some(last) = p.len().checked_sub(1) {
            assert!(
                values.len() >= last * stride + o.len(),
                "weighted_sum: values shorter than their rows"
            );
        }
        let generic = |o: &mut [f32]| {
            for (j, &pj) in p.iter().enumerate() {
                o.iter_mut().zip(&values[j * stride..]).for_each(|(y, v)| *y += pj * v);
            }
        };
        match self.isa {
            Isa::Generic => generic(o),
            // SAFETY: AVX2 and FMA were detected for this table; the lengths are checked above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512Vnni => unsafe { x86_attention::weighted_sum(p, values, stride, o) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => generic(o),
        }
    }

    /// Integer block dot of one llama.cpp weight row (any `BlockFormat`) with an activation row
    /// quantized for its format.
    #[inline]
    pub fn dot_gguf(&self, w: &[u8], x: &ActRow) -> f32 {
        let [y] = self.dot_gguf_rows(w, [x]);
        y
    }

    /// `dot_gguf` of one weight row with each of `N` activation rows (the SIMD tables unpack each
    /// weight block once for all of them; every result is the one `dot_gguf` gives).
    #[inline]
    pub fn dot_gguf_rows<const N: usize>(&self, w: &[u8], xs: [&ActRow; N]) -> [f32; N] {
        match self.isa {
            Isa::Generic => xs.map(|x| blocks::dot_row(w, x)),
            // SAFETY: tables are only built by `available`, after detecting each table's features.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { x86_gguf::dot_rows_avx2(w, xs) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512Vnni => unsafe { x86_gguf::dot_rows_vnni(w, xs) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => xs.map(|x| blocks::dot_row(w, x)),
        }
    }

    /// int8 x int8 dot; `a_shifted` is `a + 128` as bytes and `b_sum` is `sum(b)`, used by VNNI.
    #[inline]
    fn dot_i8(&self, a: &[i8], a_shifted: &[u8], b: &[i8], b_sum: i32) -> i32 {
        match self.isa {
            Isa::Generic => generic::dot_i8(a, b),
            // SAFETY: tables are only built by `available`, after detecting each table's features.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { x86::dot_i8_avx2(a, b) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512Vnni => (unsafe { x86::dot_u8i8_vnni(a_shifted, b) }) - 128 * b_sum,
            #[cfg(not(target_arch = "x86_64"))]
            _ => {
                let _ = (a_shifted, b_sum);
                generic::dot_i8(a, b)
            }
        }
    }
}

/// The table this process uses: the best the CPU supports, unless `SHAKEDOWN_KERNELS` names one
/// (an unknown or unsupported name falls back to detection).
pub fn kernels() -> Kernels {
    static TABLE: OnceLock<Kernels> = OnceLock::new();
    *TABLE.get_or_init(|| {
        let available = Kernels::available();
        let forced = std::env::var("SHAKEDOWN_KERNELS").ok();
        forced
            .and_then(|name| available.iter().copied().find(|k| k.name() == name))
            .or_else(|| available.last().copied())
            .unwrap_or(Kernels { isa: Isa::Generic })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::quant::blocks::{BlockFormat, Q8Row};
    use crate::engine::quant::integer::quantize_row_int8;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    const LENGTHS: [usize; 10] = [0, 1, 7, 31, 32, 33, 63, 64, 65, 389];

    #[test]
    fn every_table_matches_the_generic_dots_on_odd_lengths() {
        let mut rng = StdRng::seed_from_u64(7);
        for k in Kernels::available() {
            for &n in &LENGTHS {
                let a: Vec<i8> = (0..n).map(|_| rng.random_range(-127..=127i8)).collect();
                let b: Vec<i8> = (0..n).map(|_| rng.random_range(-127..=127i8)).collect();
                let au: Vec<u8> = a.iter().map(|&v| (v as u8) ^ 0x80).collect();
                let bsum: i32 = b.iter().map(|&v| v as i32).sum();
                assert_eq!(
                    k.dot_i8(&a, &au, &b, bsum),
                    generic::dot_i8(&a, &b),
                    "{} n={n}",
                    k.name()
                );
                // Extremes: every product at its largest magnitude.
                let hi = vec![127i8; n];
                let lo = vec![-127i8; n];
                let hu: Vec<u8> = hi.iter().map(|&v| (v as u8) ^ 0x80).collect();
                assert_eq!(
                    k.dot_i8(&hi, &hu, &lo, -127 * n as i32),
                    -(127 * 127) * n as i32,
                    "{} n={n}",
                    k.name()
                );
                let fa: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
                let fb: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
                let want: f64 = fa.iter().zip(&fb).map(|(x, y)| *x as f64 * *y as f64).sum();
                assert!((k.dot_f32(&fa, &fb) as f64 - want).abs() < 1e-4, "{} n={n}", k.name());
            }
        }
    }

    #[test]
    fn every_table_matches_the_scalar_element_wise_math_on_odd_lengths() {
        let mut rng = StdRng::seed_from_u64(9);
        for k in Kernels::available() {
            for &n in &LENGTHS {
                let x: Vec<f32> = (0..n).map(|_| rng.random_range(-12.0f32..12.0)).collect();
                let close = |got: &[f32], want: &[f32], tol: f32, what: &str| {
                    for (g, w) in got.iter().zip(want) {
                        assert!(
                            (g - w).abs() <= tol * (1.0 + w.abs()),
                            "{} {what} n={n}: {g} vs {w}",
                            k.name()
                        );
                    }
                };
                let (mut got, mut want) = (x.clone(), x.clone());
                k.gelu(&mut got);
                tensor::gelu_slice(&mut want);
                close(&got, &want, 1e-6, "gelu");
                let (mut got, mut want) = (x.clone(), x.clone());
                let up: Vec<f32> = (0..n).map(|_| rng.random_range(-2.0f32..2.0)).collect();
                k.gelu_tanh_mul(&mut got, &up);
                tensor::gelu_tanh_mul(&mut want, &up);
                close(&got, &want, 1e-6, "gelu tanh");
                let (mut got, mut want) = (x.clone(), x.clone());
                k.softmax(&mut got);
                tensor::softmax(&mut want);
                close(&got, &want, 1e-6, "softmax");
                let gamma: Vec<f32> = (0..n).map(|_| rng.random_range(0.5f32..1.5)).collect();
                let beta: Vec<f32> = (0..n).map(|_| rng.random_range(-0.5f32..0.5)).collect();
                let (mut got, mut want) = (x.clone(), x.clone());
                k.layer_norm_row(&mut got, &gamma, &beta, 1e-12);
                tensor::layer_norm_row(&mut want, &gamma, &beta, 1e-12);
                close(&got, &want, 1e-5, "layer norm");
                let y0: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
                let (mut got, mut want) = (y0.clone(), y0.clone());
                k.axpy(0.37, &x, &mut got);
                Kernels { isa: Isa::Generic }.axpy(0.37, &x, &mut want);
                close(&got, &want, 1e-6, "axpy");
            }
            // Extremes: very negative inputs underflow to zero, softmax of equal values is uniform.
            let mut far = vec![-100.0f32, -30.0, 0.0, 30.0, 100.0, -1e30, 1e30, 5.0, -5.0];
            let mut want = far.clone();
            k.gelu(&mut far);
            tensor::gelu_slice(&mut want);
            assert_eq!(far, want, "{} gelu extremes", k.name());
            let mut far = vec![-100.0f32, -30.0, 0.0, 30.0, 100.0, -1e30, 1e30, 5.0, -5.0];
            let mut want = far.clone();
            let ones = vec![1.0f32; far.len()];
            k.gelu_tanh_mul(&mut far, &ones);
            tensor::gelu_tanh_mul(&mut want, &ones);
            assert_eq!(far, want, "{} gelu tanh extremes", k.name());
            let mut flat = vec![2.5f32; 11];
            k.softmax(&mut flat);
            assert!(flat.iter().all(|p| (p - 1.0 / 11.0).abs() < 1e-7), "{}", k.name());
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn simd_activation_quantization_matches_the_scalar_one() {
        if !Kernels::available().iter().any(|k| k.isa == Isa::Avx512Vnni) {
            return; // no AVX-512 here: the scalar path is the only one that runs
        }
        let mut rng = StdRng::seed_from_u64(5);
        for &n in &LENGTHS {
            let x: Vec<f32> = (0..n).map(|_| rng.random_range(-3.0f32..3.0)).collect();
            let mut want = vec![0i8; n];
            let s_want = quantize_row_int8(&x, &mut want);
            let mut got = vec![0u8; n];
            // SAFETY: AVX-512 checked above; got has n bytes.
            let s_got = unsafe { x86::quantize_shift_row_avx512(&x, &mut got) };
            assert_eq!(s_got, s_want, "n={n}");
            let got: Vec<i8> = got.iter().map(|&b| (b ^ 0x80) as i8).collect();
            assert_eq!(got, want, "n={n}");
        }
    }

    /// Weights of `format` for `out_f` rows of `in_f` (zero-padded to whole blocks, as Linear stores them)
    /// and the activations of `t` token rows, quantized for the format.
    fn gguf_case(rng: &mut StdRng, format: BlockFormat, t: usize, in_f: usize, out_f: usize) -> (Vec<ActRow>, Vec<u8>) {
        let padded = format.padded(in_f);
        let mut row = vec![0.0f32; padded];
        let mut data = Vec::new();
        for _ in 0..out_f {
            row[..in_f].iter_mut().for_each(|v| *v = rng.random_range(-1.0f32..1.0));
            blocks::quantize(format, &row, &mut data);
        }
        let acts = (0..t)
            .map(|_| {
                row[..in_f].iter_mut().for_each(|v| *v = rng.random_range(-3.0f32..3.0));
                blocks::quantize_activations(format, &row)
            })
            .collect();
        (acts, data)
    }

    #[test]
    fn every_table_gives_the_scalar_gguf_block_dots_on_random_shapes() {
        let mut rng = StdRng::seed_from_u64(13);
        let generic = Kernels { isa: Isa::Generic };
        let shapes = [
            (1, 1, 1),
            (3, 31, 5),
            (2, 33, 17),
            (5, 100, 9),
            (1, 255, 3),
            (4, 257, 18),
            (2, 384, 7),
            (3, 777, 4),
            (9, 96, 33),
            (17, 384, 16),
            (8, 65, 50),
        ];
        for format in BlockFormat::ALL {
            for &(t, in_f, out_f) in &shapes {
                let (acts, data) = gguf_case(&mut rng, format, t, in_f, out_f);
                let row_bytes = data.len() / out_f;
                let want = matmul_gguf_with(generic, &acts, &data, row_bytes, out_f);
                for k in Kernels::available() {
                    let got = matmul_gguf_with(k, &acts, &data, row_bytes, out_f);
                    for (g, r) in got.data.iter().zip(&want.data) {
                        // The K-quants reduce their integer sums per super-block and combine them as the
                        // scalar code does: bit for bit. The 32-weight formats sum floats in lanes.
                        let ok = if format.is_k_quant() {
                            g.to_bits() == r.to_bits()
                        } else {
                            (g - r).abs() <= 1e-4 * (1.0 + r.abs())
                        };
                        assert!(ok, "{} {} {t}x{in_f}x{out_f}: {g} vs {r}", k.name(), format.name());
                    }
                    // The block-format GEMM (where the table has one) keeps the scalar float steps: bit for bit.
                    if let Some(packed) = prepare_gguf(k, format, &data, row_bytes, out_f) {
                        let blocks = row_bytes / format.block_bytes();
                        let got = matmul_gguf_packed(k, format, &acts, &packed, blocks, out_f);
                        assert_eq!(got, want, "{} {} gemm {t}x{in_f}x{out_f}", k.name(), format.name());
                        let back = matmul_gguf_packed(generic, format, &acts, &packed, blocks, out_f);
                        assert_eq!(back, want, "{} unpacked {t}x{in_f}x{out_f}", format.name());
                    }
                }
            }
        }
    }

    #[test]
    fn the_block_format_gemms_give_the_scalar_dots_at_the_extremes_of_their_integer_sums() {
        // Every code at its largest (Q4: 15, Q5: 31, Q8_0: 127 or -127) against activations of all +127
        // or all -127: the 16-bit lanes of the 4- and 5-bit GEMMs hold their largest sums here.
        let generic = Kernels { isa: Isa::Generic };
        for format in BlockFormat::ALL.into_iter().filter(|f| !f.is_k_quant()) {
            for code_byte in [0xffu8, 0x81] {
                let (blocks, out_f) = (3, 11);
                let header = match format {
                    BlockFormat::Q8_0 | BlockFormat::Q4_0 | BlockFormat::Q5_0 => 2,
                    _ => 4,
                };
                let mut block = vec![code_byte; format.block_bytes()];
                // Scale 1.0 and minimum 0.5 as f16.
                block[..2].copy_from_slice(&0x3c00u16.to_le_bytes());
                if header == 4 {
                    block[2..4].copy_from_slice(&0x3800u16.to_le_bytes());
                }
                if format == BlockFormat::Q8_0 && code_byte == 0xff {
                    block[2..].iter_mut().for_each(|b| *b = 0x7f);
                }
                let data = block.repeat(blocks * out_f);
                let row_bytes = blocks * format.block_bytes();
                for sign in [1.0f32, -1.0] {
                    let acts: Vec<ActRow> = (0..5)
                        .map(|_| blocks::quantize_activations(format, &vec![sign; blocks * blocks::BLOCK]))
                        .collect();
                    let want = matmul_gguf_with(generic, &acts, &data, row_bytes, out_f);
                    for k in Kernels::available() {
                        if let Some(packed) = prepare_gguf(k, format, &data, row_bytes, out_f) {
                            let got = matmul_gguf_packed(k, format, &acts, &packed, blocks, out_f);
                            assert_eq!(got, want, "{} {} {code_byte:#x} {sign}", k.name(), format.name());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_table_gives_the_scalar_k_quant_dots_on_any_block_bytes_and_extreme_activations() {
        // Any bytes are a valid K-quant super-block: random codes, scales and minimums (with f16 scales
        // set to finite values), against Q8_K rows of random, all +127 and all -127 codes, whose sums
        // stress the integer ranges. The K-quant tables are bit for bit the scalar dot.
        let mut rng = StdRng::seed_from_u64(29);
        let generic = Kernels { isa: Isa::Generic };
        for format in BlockFormat::ALL.into_iter().filter(|f| f.is_k_quant()) {
            for blocks in [1usize, 2, 5] {
                let bb = format.block_bytes();
                let mut w: Vec<u8> = (0..blocks * bb).map(|_| rng.random_range(0..=255u8)).collect();
                for b in 0..blocks {
                    let block = &mut w[b * bb..(b + 1) * bb];
                    let d = half::f16::from_f32(rng.random_range(-2.0f32..2.0)).to_le_bytes();
                    if format == BlockFormat::Q6K {
                        block[bb - 2..].copy_from_slice(&d);
                    } else {
                        block[..2].copy_from_slice(&d);
                        block[2..4].copy_from_slice(&half::f16::from_f32(rng.random_range(0.0f32..2.0)).to_le_bytes());
                    }
                }
                for fill in [None, Some(127i8), Some(-127i8)] {
                    let q: Vec<i8> = (0..blocks * 256)
                        .map(|_| fill.unwrap_or_else(|| rng.random_range(-127..=127i8)))
                        .collect();
                    let row = blocks::q4k::Q8KRow {
                        d: (0..blocks).map(|_| rng.random_range(0.001f32..0.1)).collect(),
                        bsums: q.chunks(16).map(|c| c.iter().map(|&v| v as i16).sum()).collect(),
                        q,
                    };
                    let acts = match format {
                        BlockFormat::Q4K => ActRow::Q4K(row),
                        BlockFormat::Q5K => ActRow::Q5K(row),
                        _ => ActRow::Q6K(row),
                    };
                    let want = generic.dot_gguf(&w, &acts);
                    for k in Kernels::available() {
                        let [a, b, c] = k.dot_gguf_rows(&w, [&acts, &acts, &acts]);
                        for got in [k.dot_gguf(&w, &acts), a, b, c] {
                            assert_eq!(
                                got.to_bits(),
                                want.to_bits(),
                                "{} {} {blocks} {fill:?}",
                                k.name(),
                                format.name()
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_table_quantizes_activations_as_the_scalar_reference_bit_for_bit() {
        let mut rng = StdRng::seed_from_u64(31);
        let mut rows: Vec<Vec<f32>> = [32usize, 64, 96, 576, 1536]
            .iter()
            .map(|&n| (0..n).map(|_| rng.random_range(-3.0f32..3.0)).collect())
            .collect();
        // Ties of the rounding (a block whose maximum is 127, so codes are the values), zeros, tiny
        // values, a NaN and infinities.
        let mut ties: Vec<f32> = (0..64).map(|i| (i as f32 - 32.0) + 0.5).collect();
        ties[0] = 127.0;
        ties[32] = -127.0;
        rows.push(ties);
        rows.push(vec![0.0; 64]);
        rows.push((0..32).map(|i| i as f32 * 1e-30).collect());
        let mut odd: Vec<f32> = (0..96).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        odd[3] = f32::NAN;
        odd[40] = f32::INFINITY;
        odd[70] = f32::NEG_INFINITY;
        odd[71] = 5.0;
        rows.push(odd);
        for k in Kernels::available() {
            for fmt in blocks::BlockFormat::ALL {
                for x in rows.iter().filter(|x| x.len() % fmt.block_weights() == 0) {
                    let (got, want) = (k.quantize_activations(fmt, x), blocks::quantize_activations(fmt, x));
                    let (Some(g), Some(w)) = (got.q8(), want.q8()) else {
                        assert_eq!(got.dequantized(), want.dequantized(), "{} {}", k.name(), fmt.name());
                        continue;
                    };
                    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    assert_eq!(g.q, w.q, "{} {} codes, len {}", k.name(), fmt.name(), x.len());
                    assert_eq!(bits(&g.d), bits(&w.d), "{} {} scales", k.name(), fmt.name());
                    assert_eq!(bits(&g.s), bits(&w.s), "{} {} sums", k.name(), fmt.name());
                }
            }
        }
    }

    #[test]
    fn every_table_gives_the_scalar_attention_loops_on_odd_shapes() {
        let mut rng = StdRng::seed_from_u64(29);
        let generic = Kernels { isa: Isa::Generic };
        for &(d, n, stride) in &[
            (1, 1, 1),
            (7, 3, 9),
            (8, 4, 8),
            (31, 5, 40),
            (64, 9, 192),
            (70, 17, 70),
            (256, 6, 300),
        ] {
            let q: Vec<f32> = (0..d).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let rows: Vec<f32> = (0..(n - 1) * stride + d)
                .map(|_| rng.random_range(-1.0f32..1.0))
                .collect();
            let p: Vec<f32> = (0..n).map(|_| rng.random_range(0.0f32..1.0)).collect();
            let mut want = vec![0.0f32; n];
            generic.scores(&q, &rows, stride, 0.125, &mut want);
            let start: Vec<f32> = (0..d).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let mut want_o = start.clone();
            generic.weighted_sum(&p, &rows, stride, &mut want_o);
            for k in Kernels::available() {
                let mut got = vec![0.0f32; n];
                k.scores(&q, &rows, stride, 0.125, &mut got);
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                        "{} scores d={d} n={n}: {g} vs {w}",
                        k.name()
                    );
                }
                // The weighted sum adds in key order as a loop of axpy calls does: the same bits per table.
                let mut got_o = start.clone();
                k.weighted_sum(&p, &rows, stride, &mut got_o);
                let mut axpy_o = start.clone();
                for (j, &pj) in p.iter().enumerate() {
                    k.axpy(pj, &rows[j * stride..], &mut axpy_o);
                }
                assert_eq!(got_o, axpy_o, "{} weighted sum d={d} n={n}", k.name());
                for (g, w) in got_o.iter().zip(&want_o) {
                    assert!(
                        (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                        "{} weighted sum d={d}: {g} vs {w}",
                        k.name()
                    );
                }
            }
        }
    }

    #[test]
    fn every_table_sums_gguf_blocks_exactly_when_the_scales_are_one() {
        // With every scale 1 (and Q4_1 / Q5_1 minimums 0) each output is an integer below 2^24, which
        // every float order represents exactly: the integer block sums of every table must agree exactly.
        let mut rng = StdRng::seed_from_u64(17);
        let one = half::f16::from_f32(1.0).to_le_bytes();
        for format in BlockFormat::ALL.into_iter().filter(|f| !f.is_k_quant()) {
            for blocks in [1usize, 2, 3, 7, 16] {
                let with_min = matches!(format, BlockFormat::Q4_1 | BlockFormat::Q5_1);
                let header = if with_min { 4 } else { 2 };
                let codes = format.block_bytes() - header;
                let mut w = Vec::new();
                for _ in 0..blocks {
                    w.extend_from_slice(&one);
                    if with_min {
                        w.extend_from_slice(&[0, 0]); // minimum 0
                    }
                    if format == BlockFormat::Q8_0 {
                        w.extend((0..codes).map(|_| rng.random_range(-127..=127i8) as u8));
                    } else {
                        w.extend((0..codes).map(|_| rng.random_range(0..=255u8)));
                    }
                }
                let q: Vec<i8> = (0..blocks * 32).map(|_| rng.random_range(-127..=127i8)).collect();
                let row = || Q8Row {
                    d: vec![1.0; blocks],
                    s: vec![0.0; blocks],
                    q: q.clone(),
                };
                let acts = match format {
                    BlockFormat::Q8_0 => ActRow::Q8_0(row()),
                    BlockFormat::Q4_0 => ActRow::Q4_0(row()),
                    BlockFormat::Q5_0 => ActRow::Q5_0(row()),
                    BlockFormat::Q5_1 => ActRow::Q5_1(row()),
                    _ => ActRow::Q4_1(row()),
                };
                let want = blocks::dot_row(&w, &acts);
                assert_eq!(want.fract(), 0.0);
                for k in Kernels::available() {
                    assert_eq!(
                        k.dot_gguf(&w, &acts),
                        want,
                        "{} {} blocks={blocks}",
                        k.name(),
                        format.name()
                    );
                }
            }
        }
    }
}
