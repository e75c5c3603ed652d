//! `Linear`: one fully connected layer whose weights are stored in any scheme's format.
//! Model code calls `forward` and never looks at the scheme.

use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

use crate::engine::kernels::{
    kernels, matmul_dequant, matmul_f32, matmul_f32_packed, matmul_gguf_packed, matmul_gguf_packed_many,
    matmul_gguf_with, matmul_int4, matmul_int8, prepare_f32, prepare_gguf, prepare_gguf_releasing, prepare_int4,
    prepare_int8, prepared_f32_row, Int4Store, PackedGguf,
};
use crate::engine::quant::blocks;
use crate::engine::quant::blocks::BlockFormat;
use crate::engine::quant::integer::{quantize_int4, quantize_int8, Int8Weights};
use crate::engine::quant::scheme::Scheme;
use crate::engine::tensor::{transpose, Matrix};

/// Bytes of a mapped tensor copied between two releases of its pages (`from_mapped_blocks`).
const COPY_PIECE: usize = 4 << 20;

/// Each row of `x` (`in_features` wide) quantized as `format`'s block dot reads activations (Q8 blocks, or
/// Q8_K for K-quants), zero-padded to whole blocks; rows quantized in parallel.
fn block_activations(format: BlockFormat, x: &Matrix, in_features: usize) -> Vec<blocks::ActRow> {
    let padded = format.padded(in_features);
    (0..x.rows)
        .into_par_iter()
        .map_init(
            || vec![0.0f32; padded],
            |row, t| {
                row[..in_features].copy_from_slice(x.row(t));
                kernels().quantize_activations(format, row)
            },
        )
        .collect()
}

/// Stored weights of a Linear in one format.
#[derive(Clone, Debug)]
enum Weights {
    /// f32, transposed once at load to `[in, out]` for the gemm kernel, or (AVX-512) laid out in
    /// strips of 32 output columns in `packed`, `w_t` then empty.
    F32 {
        w_t: Vec<f32>,
        packed: Option<Vec<f32>>,
    },
    F16(Vec<f16>),
    /// W8A8 when `dynamic_activations`, else weight-only W8A16.
    Int8 {
        w: Int8Weights,
        dynamic_activations: bool,
    },
    Int4(Int4Store),
    /// llama.cpp blocks; rows padded with zeros to whole blocks (32 weights, or 256 for Q4_K). With a
    /// kernel table that has a block-format GEMM, `packed` holds the rows re-laid out for it and
    /// `data` is empty (one copy in memory).
    Gguf {
        format: BlockFormat,
        data: Vec<u8>,
        row_bytes: usize,
        packed: Option<PackedGguf>,
    },
    /// AWQ: int4 codes of `W diag(s)`; activations are multiplied by `act_scale = 1/s` first.
    Awq {
        w: Int4Store,
        act_scale: Vec<f32>,
    },
}

/// `y = x W^T + b` with `W` `[out, in]` in the format of a scheme (`b` optional).
#[derive(Clone, Debug)]
pub struct Linear {
    weights: Weights,
    bias: Vec<f32>,
    in_features: usize,
    out_features: usize,
}

impl Linear {
    /// Builds the layer from PyTorch-layout `[out, in]` f32 weights, quantizing them for `scheme`.
    pub fn new(w: &[f32], bias: Vec<f32>, out_features: usize, in_features: usize, scheme: Scheme) -> Self {
        assert_eq!(w.len(), out_features * in_features, "weight length");
        assert!(bias.is_empty() || bias.len() == out_features, "bias length");
        let weights = match scheme {
            Scheme::F32 | Scheme::Native => match prepare_f32(kernels(), w, out_features, in_features) {
                Some(packed) => Weights::F32 {
                    w_t: Vec::new(),
                    packed: Some(packed),
                },
                None => Weights::F32 {
                    w_t: transpose(w, out_features, in_features),
                    packed: None,
                },
            },
            Scheme::F16 => Weights::F16(w.iter().map(|&v| f16::from_f32(v)).collect()),
            Scheme::Int8 => {
                let mut q = quantize_int8(w, out_features, in_features);
                prepare_int8(kernels(), &mut q, out_features, in_features);
                Weights::Int8 {
                    w: q,
                    dynamic_activations: true,
                }
            }
            Scheme::W8A16 => Weights::Int8 {
                w: quantize_int8(w, out_features, in_features),
                dynamic_activations: false,
            },
            Scheme::W4A16Rtn { group, asym } => Weights::Int4(prepare_int4(
                kernels(),
                quantize_int4(w, out_features, in_features, group.unwrap_or(in_features), asym),
                out_features,
                in_features,
            )),
            // Without calibration inputs AWQ's search has nothing to weigh: plain symmetric RTN.
            Scheme::W4A16Awq { group } => Weights::Int4(prepare_int4(
                kernels(),
                quantize_int4(w, out_features, in_features, group, false),
                out_features,
                in_features,
            )),
            Scheme::Gguf(format) => {
                let padded = format.padded(in_features);
                let row_bytes = padded / format.block_weights() * format.block_bytes();
                let mut data = Vec::with_capacity(out_features * row_bytes);
                let mut row = vec![0.0f32; padded];
                for o in 0..out_features {
                    row[..in_features].copy_from_slice(&w[o * in_features..(o + 1) * in_features]);
                    blocks::quantize(format, &row, &mut data);
                }
                return Self::from_blocks(format, data, bias, out_features, in_features);
            }
        };
        Linear {
            weights,
            bias,
            in_features,
            out_features,
        }
    }

    /// A layer whose weights are already in a llama.cpp block format (a GGUF tensor used as stored):
    /// `data` holds `out_features` rows of `in_features` weights padded to whole blocks. An empty
    /// `bias` means none.
    pub fn from_blocks(
        format: BlockFormat,
        data: Vec<u8>,
        bias: Vec<f32>,
        out_features: usize,
        in_features: usize,
    ) -> Self {
        let row_bytes = format.padded(in_features) / format.block_weights() * format.block_bytes();
        assert_eq!(data.len(), out_features * row_bytes, "block data length");
        let packed = prepare_gguf(kernels(), format, &data, row_bytes, out_features);
        Linear {
            weights: Weights::Gguf {
                format,
                data: if packed.is_some() { Vec::new() } else { data },
                row_bytes,
                packed,
            },
            bias,
            in_features,
            out_features,
        }
    }

    /// `from_blocks` on rows read from a mapped file: packed straight from the mapping when the kernel
    /// table packs this format, else copied; either way `release` is handed the mapped bytes a few MiB at
    /// a time once read, so a large tensor (a tied 50k-token head) is never resident twice.
    pub fn from_mapped_blocks(
        format: BlockFormat,
        bytes: &[u8],
        release: &dyn Fn(&[u8]),
        bias: Vec<f32>,
        out_features: usize,
        in_features: usize,
    ) -> Self {
        let row_bytes = format.padded(in_features) / format.block_weights() * format.block_bytes();
        assert_eq!(bytes.len(), out_features * row_bytes, "block data length");
        let packed = prepare_gguf_releasing(kernels(), format, bytes, row_bytes, out_features, &mut |b| release(b));
        if let Some(packed) = packed {
            return Linear {
                weights: Weights::Gguf {
                    format,
                    data: Vec::new(),
                    row_bytes,
                    packed: Some(packed),
                },
                bias,
                in_features,
                out_features,
            };
        }
        let mut data = Vec::with_capacity(bytes.len());
        for piece in bytes.chunks(COPY_PIECE) {
            data.extend_from_slice(piece);
            release(piece);
        }
        Self::from_blocks(format, data, bias, out_features, in_features)
    }

    /// An AWQ layer from `[out, in]` f32 weights and calibration inputs `x` of this layer.
    pub fn new_awq(
        w: &[f32],
        bias: Vec<f32>,
        out_features: usize,
        in_features: usize,
        group: usize,
        x: &Matrix,
    ) -> Self {
        let q = crate::engine::quant::awq::awq_quantize(w, out_features, in_features, group, x);
        Linear {
            weights: Weights::Awq {
                w: prepare_int4(kernels(), q.weights, out_features, in_features),
                act_scale: q.act_scale,
            },
            bias,
            in_features,
            out_features,
        }
    }

    /// `x [tokens, in] -> [tokens, out]`.
    pub fn forward(&self, x: &Matrix) -> Matrix {
        debug_assert_eq!(x.cols, self.in_features);
        let mut y = match &self.weights {
            Weights::F32 { packed: Some(p), .. } => matmul_f32_packed(kernels(), x, p, self.out_features),
            Weights::F32 { w_t, .. } => matmul_f32(x, w_t, self.out_features),
            // half converts slices with F16C where the CPU has it.
            Weights::F16(w) => matmul_dequant(x, self.out_features, |o, row| {
                w[o * self.in_features..(o + 1) * self.in_features].convert_to_f32_slice(row)
            }),
            Weights::Int8 {
                w,
                dynamic_activations: true,
            } => matmul_int8(x, w, self.out_features),
            Weights::Int8 {
                w,
                dynamic_activations: false,
            } => matmul_dequant(x, self.out_features, |o, row| w.dequantize_row(o, row)),
            Weights::Int4(w) => matmul_int4(x, w, self.out_features),
            Weights::Gguf {
                format,
                data,
                row_bytes,
                packed,
            } => {
                let acts = block_activations(*format, x, self.in_features);
                match packed {
                    Some(p) => matmul_gguf_packed(
                        kernels(),
                        *format,
                        &acts,
                        p,
                        row_bytes / format.block_bytes(),
                        self.out_features,
                    ),
                    None => matmul_gguf_with(kernels(), &acts, data, *row_bytes, self.out_features),
                }
            }
            Weights::Awq { w, act_scale } => {
                let mut xs = x.clone();
                for r in 0..xs.rows {
                    xs.row_mut(r).iter_mut().zip(act_scale).for_each(|(v, s)| *v *= s);
                }
                matmul_int4(&xs, w, self.out_features)
            }
        };
        self.add_bias(&mut y);
        y
    }

    /// `forward` of several layers that read the same input `x` (a block's query, key and value
    /// projections; a gated MLP's gate and up): where they all hold block-format weights of one format
    /// packed for the table's GEMM, `x` is quantized once and one parallel pass covers every layer's
    /// output rows (a decode step then forks and joins once instead of once per layer); otherwise each
    /// layer's own `forward`. The outputs are the same either way.
    pub fn forward_fused<const N: usize>(layers: [&Linear; N], x: &Matrix) -> [Matrix; N] {
        Self::fused_blocks(&layers, x)
            .and_then(|ys| ys.try_into().ok())
            .unwrap_or_else(|| layers.map(|l| l.forward(x)))
    }

    /// `forward_fused`'s one pass, when every layer holds packed blocks of the first one's format and
    /// width.
    fn fused_blocks(layers: &[&Linear], x: &Matrix) -> Option<Vec<Matrix>> {
        let first = layers.first()?;
        let Weights::Gguf { format, row_bytes, .. } = &first.weights else {
            return None;
        };
        let parts = layers
            .iter()
            .map(|l| match &l.weights {
                Weights::Gguf {
                    format: f,
                    packed: Some(p),
                    ..
                } if f == format && l.in_features == first.in_features => Some((p, l.out_features)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        let acts = block_activations(*format, x, first.in_features);
        let mut ys = matmul_gguf_packed_many(kernels(), *format, &acts, &parts, row_bytes / format.block_bytes());
        for (l, y) in layers.iter().zip(&mut ys) {
            l.add_bias(y);
        }
        Some(ys)
    }

    fn add_bias(&self, y: &mut Matrix) {
        if !self.bias.is_empty() {
            for r in 0..y.rows {
                for (v, b) in y.row_mut(r).iter_mut().zip(&self.bias) {
                    *v += b;
                }
            }
        }
    }

    /// True when a token row's output does not depend on the other rows of the call (how many, or
    /// which): the f32 strip kernels and the int4 strips sum every output over its inputs in order,
    /// int8 W8A8 sums exactly in int32, and the block formats dot each row block by block. Not so for
    /// f32 through `gemm` (its blocking follows the row count) nor for the weight-only formats that
    /// switch from per-row dots to a GEMM at `DEQUANT_GEMM_MIN_ROWS` rows.
    pub fn rows_independent(&self) -> bool {
        match &self.weights {
            Weights::F32 { packed, .. } => packed.is_some(),
            Weights::F16(_) => false,
            Weights::Int8 {
                dynamic_activations, ..
            } => *dynamic_activations,
            Weights::Int4(w) | Weights::Awq { w, .. } => w.rows_independent(),
            Weights::Gguf { .. } => true,
        }
    }

    /// True when `row_f32` can give weight rows back: f32 and f16 hold the weights they were given and the
    /// block formats the blocks they were given; the integer schemes hold codes rounded from the weights.
    pub fn keeps_rows(&self) -> bool {
        matches!(
            self.weights,
            Weights::F32 { .. } | Weights::F16(_) | Weights::Gguf { .. }
        )
    }

    /// Weight row `row` (an output feature, below `out_features`) in f32 into `out` (`in_features`
    /// long): the f32 weights as given, f16 widened, block formats dequantized by `blocks::dequantize`
    /// from the same bytes (un-packed from the GEMM layout), so bit for bit what dequantizing the
    /// tensor's row as stored gives. A tied output head thus doubles as the embedding table and the
    /// file's copy of it is never read after load. False (and `out` untouched) where `keeps_rows` is false.
    pub fn row_f32(&self, row: usize, out: &mut [f32]) -> bool {
        let (in_f, out_f) = (self.in_features, self.out_features);
        debug_assert!(row < out_f && out.len() == in_f);
        match &self.weights {
            Weights::F32 { packed: Some(p), .. } => prepared_f32_row(p, in_f, row, out),
            Weights::F32 { w_t, .. } => {
                for (o, w) in out.iter_mut().zip(w_t.chunks_exact(out_f)) {
                    *o = w[row];
                }
            }
            Weights::F16(w) => w[row * in_f..(row + 1) * in_f].convert_to_f32_slice(out),
            Weights::Gguf {
                format,
                data,
                row_bytes,
                packed,
            } => {
                let mut unpacked = Vec::new();
                let bytes = match packed {
                    Some(p) => {
                        unpacked.resize(*row_bytes, 0);
                        p.row(*format, row_bytes / format.block_bytes(), row, &mut unpacked);
                        &unpacked[..]
                    }
                    None => &data[row * row_bytes..(row + 1) * row_bytes],
                };
                let padded = format.padded(in_f);
                if padded == in_f {
                    blocks::dequantize(*format, bytes, out);
                } else {
                    let mut all = vec![0.0f32; padded];
                    blocks::dequantize(*format, bytes, &mut all);
                    out.copy_from_slice(&all[..in_f]);
                }
            }
            Weights::Int8 { .. } | Weights::Int4(_) | Weights::Awq { .. } => return false,
        }
        true
    }

    /// Bytes the stored weights occupy (codes and scales; the f32 bias is not counted).
    pub fn weight_bytes(&self) -> usize {
        match &self.weights {
            Weights::F32 { w_t, packed } => (w_t.len() + packed.as_ref().map_or(0, Vec::len)) * 4,
            Weights::F16(w) => w.len() * 2,
            Weights::Int8 { w, .. } => w.q.len() + w.vnni.as_ref().map_or(0, Vec::len) + w.scale.len() * 4,
            Weights::Int4(w) => w.bytes(),
            Weights::Awq { w, act_scale } => w.bytes() + act_scale.len() * 4,
            Weights::Gguf { data, packed, .. } => data.len() + packed.as_ref().map_or(0, PackedGguf::len),
        }
    }

    /// The format the weights are stored in, for people: `f32`, `f16`, `int8`, `int4`, `awq int4` or
    /// a llama.cpp block format (`q8_0`, `q4_k`, ...).
    pub fn storage(&self) -> &'static str {
        match &self.weights {
            Weights::F32 { .. } => "f32",
            Weights::F16(_) => "f16",
            Weights::Int8 { .. } => "int8",
            Weights::Int4(_) => "int4",
            Weights::Awq { .. } => "awq int4",
            Weights::Gguf { format, .. } => format.name(),
        }
    }

    /// Output features.
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// Input features.
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// Number of weights (`in * out`).
    pub fn weight_count(&self) -> usize {
        self.in_features * self.out_features
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::quant::integer::quantize_row_int8;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    fn random(rng: &mut StdRng, n: usize) -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    }

    /// Plain scalar reference: the same quantized numbers, multiplied naively in f64.
    fn reference(x: &Matrix, w: &[f32], b: &[f32], out_f: usize, scheme: Scheme) -> Matrix {
        let in_f = x.cols;
        let wq: Vec<f32> = match scheme {
            Scheme::F32 | Scheme::Native => w.to_vec(),
            Scheme::F16 => w.iter().map(|&v| f16::from_f32(v).to_f32()).collect(),
            Scheme::Int8 | Scheme::W8A16 => {
                let q = quantize_int8(w, out_f, in_f);
                (0..out_f * in_f).map(|i| q.q[i] as f32 * q.scale[i / in_f]).collect()
            }
            Scheme::W4A16Awq { .. } | Scheme::Gguf(_) => unreachable!("tested elsewhere"),
            Scheme::W4A16Rtn { group, asym } => {
                let q = quantize_int4(w, out_f, in_f, group.unwrap_or(in_f), asym);
                let mut all = vec![0.0; out_f * in_f];
                for o in 0..out_f {
                    q.dequantize_row(o, &mut all[o * in_f..(o + 1) * in_f]);
                }
                all
            }
        };
        let mut y = Matrix::zeros(x.rows, out_f);
        for t in 0..x.rows {
            let xr: Vec<f32> = if scheme == Scheme::Int8 {
                let mut q = vec![0i8; in_f];
                let s = quantize_row_int8(x.row(t), &mut q);
                q.iter().map(|v| *v as f32 * s).collect()
            } else {
                x.row(t).to_vec()
            };
            for o in 0..out_f {
                let acc: f64 = (0..in_f).map(|i| xr[i] as f64 * wq[o * in_f + i] as f64).sum();
                y.data[t * out_f + o] = acc as f32 + b[o];
            }
        }
        y
    }

    #[test]
    fn every_scheme_matches_the_scalar_reference_on_odd_shapes() {
        let mut rng = StdRng::seed_from_u64(42);
        // AWQ needs calibration inputs and GGUF quantizes activations per block: both tested on their own.
        let schemes: Vec<Scheme> = crate::engine::quant::scheme::ALL_SCHEMES
            .iter()
            .map(|s| s.parse().unwrap())
            .filter(|s: &Scheme| !s.needs_calibration() && !matches!(s, Scheme::Gguf(_)))
            .collect();
        for &(t, in_f, out_f) in &[(1, 1, 1), (3, 7, 5), (5, 33, 17), (2, 129, 31), (7, 260, 70)] {
            let x = Matrix::from_vec(t, in_f, random(&mut rng, t * in_f));
            let w = random(&mut rng, out_f * in_f);
            let b = random(&mut rng, out_f);
            for &scheme in &schemes {
                let layer = Linear::new(&w, b.clone(), out_f, in_f, scheme);
                let got = layer.forward(&x);
                let want = reference(&x, &w, &b, out_f, scheme);
                for (g, r) in got.data.iter().zip(&want.data) {
                    assert!(
                        (g - r).abs() <= 1e-4 * (1.0 + r.abs()),
                        "{scheme} t={t} in={in_f} out={out_f}: {g} vs {r}"
                    );
                }
            }
        }
    }

    /// The activations as the integer block dot sees them: Q8 (or Q8_K) codes times their block scale.
    fn dequantized_activations(fmt: BlockFormat, x: &[f32]) -> Vec<f64> {
        let row = blocks::quantize_activations(fmt, x).dequantized();
        row.into_iter().map(f64::from).collect()
    }

    #[test]
    fn gguf_layers_match_block_dots_with_q8_activations_on_odd_widths() {
        let mut rng = StdRng::seed_from_u64(9);
        for &(t, in_f, out_f) in &[(1, 32, 3), (3, 70, 5), (4, 128, 17), (2, 300, 9), (3, 512, 4)] {
            let x = Matrix::from_vec(t, in_f, random(&mut rng, t * in_f));
            let w = random(&mut rng, out_f * in_f);
            let b = random(&mut rng, out_f);
            for fmt in BlockFormat::ALL {
                let name = fmt.name();
                let layer = Linear::new(&w, b.clone(), out_f, in_f, Scheme::Gguf(fmt));
                let got = layer.forward(&x);
                // Reference: dequantized weights times dequantized Q8 (Q8_K) activations, in f64.
                let padded = fmt.padded(in_f);
                for tt in 0..t {
                    let mut xr = vec![0.0f32; padded];
                    xr[..in_f].copy_from_slice(x.row(tt));
                    let xd = dequantized_activations(fmt, &xr);
                    for o in 0..out_f {
                        let mut wr = vec![0.0f32; padded];
                        wr[..in_f].copy_from_slice(&w[o * in_f..(o + 1) * in_f]);
                        let mut bytes = Vec::new();
                        blocks::quantize(fmt, &wr, &mut bytes);
                        let mut wd = vec![0.0f32; padded];
                        blocks::dequantize(fmt, &bytes, &mut wd);
                        let want: f64 = (0..padded).map(|i| wd[i] as f64 * xd[i]).sum::<f64>() + b[o] as f64;
                        let g = got.data[tt * out_f + o] as f64;
                        assert!(
                            (g - want).abs() < 2e-2 * (1.0 + want.abs()),
                            "{name} {t}x{in_f}x{out_f}: {g} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn fused_layers_give_each_layers_own_forward() {
        let mut rng = StdRng::seed_from_u64(5);
        // Output widths that leave partial groups (8 on AVX2, 16 on VNNI); token counts over every tile.
        for fmt in BlockFormat::ALL {
            for &(in_f, outs) in &[(64usize, [24usize, 9, 9]), (96, [40, 17, 3])] {
                let layers: Vec<Linear> = outs
                    .iter()
                    .map(|&o| {
                        let w = random(&mut rng, o * in_f);
                        Linear::new(&w, random(&mut rng, o), o, in_f, Scheme::Gguf(fmt))
                    })
                    .collect();
                for t in [1, 3, 5] {
                    let x = Matrix::from_vec(t, in_f, random(&mut rng, t * in_f));
                    let fused = Linear::forward_fused([&layers[0], &layers[1], &layers[2]], &x);
                    for (l, y) in layers.iter().zip(&fused) {
                        assert_eq!(y.data, l.forward(&x).data, "{} in={in_f} t={t}", fmt.name());
                    }
                }
            }
        }
        // Layers of different formats fall back to one forward each.
        let w = random(&mut rng, 8 * 32);
        let a = Linear::new(&w, Vec::new(), 8, 32, Scheme::Gguf(BlockFormat::Q8_0));
        let b = Linear::new(&w, Vec::new(), 8, 32, Scheme::F32);
        let x = Matrix::from_vec(2, 32, random(&mut rng, 64));
        let ys = Linear::forward_fused([&a, &b], &x);
        assert_eq!(ys[0].data, a.forward(&x).data);
        assert_eq!(ys[1].data, b.forward(&x).data);
    }

    #[test]
    fn stored_bytes_shrink_with_the_scheme() {
        let w = vec![0.5f32; 64 * 256];
        let f32_bytes = Linear::new(&w, vec![0.0; 64], 64, 256, Scheme::F32).weight_bytes();
        let int8 = Linear::new(&w, vec![0.0; 64], 64, 256, Scheme::Int8).weight_bytes();
        let int4 = Linear::new(
            &w,
            vec![0.0; 64],
            64,
            256,
            Scheme::W4A16Rtn {
                group: Some(128),
                asym: false,
            },
        )
        .weight_bytes();
        let f16 = Linear::new(&w, vec![0.0; 64], 64, 256, Scheme::F16).weight_bytes();
        assert_eq!(f16, 64 * 256 * 2);
        assert_eq!(f32_bytes, 64 * 256 * 4);
        assert_eq!(int8, 64 * 256 + 64 * 4);
        assert_eq!(int4, 64 * 128 + 64 * 2 * 4);
        // ggml's 144 bytes a super-block, or on AVX-512 VNNI the GEMM layout: groups of 16 rows
        // (padded), 2368 bytes per group and super-block (scales unpacked to a byte each).
        let group_layout = {
            #[cfg(target_arch = "x86_64")]
            {
                kernels().isa == crate::engine::kernels::Isa::Avx512Vnni
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                false
            }
        };
        let q4k = Linear::new(&w, vec![0.0; 64], 64, 256, "q4_k".parse().unwrap()).weight_bytes();
        assert_eq!(q4k, if group_layout { 4 * 2368 } else { 64 * 144 });
        // A 300-wide row is padded to two super-blocks.
        let w300 = vec![0.5f32; 3 * 300];
        let q4k_pad = Linear::new(&w300, vec![0.0; 3], 3, 300, "q4_k".parse().unwrap()).weight_bytes();
        assert_eq!(q4k_pad, if group_layout { 2 * 2368 } else { 3 * 2 * 144 });
    }
}
