//! The one place that decides how each weight of a decoder is made for a scheme: a GGUF tensor used as
//! stored (`native`), quantized from f32 (every other scheme), AWQ-quantized from calibration
//! statistics, with a LoRA adapter merged first. Model files ask for `linear("blk.3.attn_q")` and never
//! look at the scheme.

use std::collections::HashMap;

use super::layers::linear::Linear;
use super::layers::lora::{LinearLayer, LoraLinear};
use super::load::source::{Stored, StoredTensor, TensorSource};
use super::quant::scheme::Scheme;
use super::tensor::Matrix;
use crate::error::{Error, Result};

/// A low-rank update of some Linears: `W' = W + scale * B A` (Hu et al., 2021), by GGUF-style name
/// (`blk.3.attn_q`): `(A [r, in], B [out, r], scale)`.
pub trait WeightDelta: Sync {
    fn delta(&self, name: &str) -> Option<(&Matrix, &Matrix, f32)>;
}

/// Builds a model's weights for one scheme.
pub struct WeightBuilder<'a> {
    pub source: &'a TensorSource,
    pub scheme: Scheme,
    /// Each Linear's calibration inputs (by name), for activation-aware schemes.
    pub calibration: Option<&'a HashMap<String, Matrix>>,
    /// A LoRA adapter: merged into the f32 weights before quantization; with `native`, kept apart and
    /// added at run time on top of the stored weights.
    pub adapter: Option<&'a dyn WeightDelta>,
}

impl WeightBuilder<'_> {
    /// True when the source has the tensor.
    pub fn has(&self, name: &str) -> bool {
        self.source.has(name)
    }

    /// A vector (norm weight, bias) in f32.
    pub fn vector(&self, name: &str, len: usize) -> Result<Vec<f32>> {
        Ok(self.source.tensor(name, 1, len)?.to_f32())
    }

    /// The bias `name.bias` when the source has it (empty otherwise).
    fn bias(&self, name: &str, out: usize) -> Result<Vec<f32>> {
        let b = format!("{name}.bias");
        if self.has(&b) {
            self.vector(&b, out)
        } else {
            Ok(Vec::new())
        }
    }

    /// A Linear of the transformer blocks, `name.weight` `[out, in]` (and `name.bias` if present),
    /// in the builder's scheme.
    pub fn linear(&self, name: &str, out: usize, inp: usize) -> Result<LinearLayer> {
        let w = self.source.tensor(&format!("{name}.weight"), out, inp)?;
        let bias = self.bias(name, out)?;
        let delta = self.adapter.and_then(|a| a.delta(name));
        let linear = match (self.scheme, delta) {
            (Scheme::Native, _) => stored_linear(&w, bias, out, inp, self.source),
            // A block the file already stores in the scheme's format is used as stored, as `export`
            // copies it (and llama.cpp's quantize does): quantizing a K-quant again from its own values
            // does not give its bytes back, so the gated model was not the shipped one.
            (scheme, None) if same_blocks(stored_scheme(scheme, inp), &w) => {
                stored_linear(&w, bias, out, inp, self.source)
            }
            (scheme, delta) => {
                let mut f = w.to_f32();
                if let Some((a, b, scale)) = delta {
                    merge_lora(
                        &mut f,
                        out,
                        inp,
                        a,
                        b,
                        scale,
                        name,
                        &self.source.origin.display().to_string(),
                    )?;
                }
                match (scheme, self.calibration.and_then(|c| c.get(name))) {
                    (Scheme::W4A16Awq { group }, Some(x)) => Linear::new_awq(&f, bias, out, inp, group, x),
                    (Scheme::W4A16Awq { .. }, None) => {
                        return Err(Error::Internal(format!(
                            "AWQ: no calibration inputs were captured for {name}"
                        )))
                    }
                    _ => Linear::new(&f, bias, out, inp, stored_scheme(scheme, inp)),
                }
            }
        };
        // The Linear holds its own copy now: its pages go back, and with them the neighbours' pages that
        // reading it mapped (so the file's pages never pile up while a model is built).
        self.source.release_all();
        // `native` keeps the adapter apart: the stored weights stay as they are.
        let lora = match (self.scheme, delta) {
            (Scheme::Native, Some((a, b, scale))) => Some(LoraLinear::new(a, b, scale, out, inp, name)?),
            _ => None,
        };
        Ok(LinearLayer { linear, lora })
    }

    /// The output head `[vocab, hidden]` (or the tied embeddings). The scheme covers the transformer
    /// blocks; the head is what `shakedown export` writes for the scheme, so a gated scheme is the
    /// shipped file: as stored for `native`, f16 and the block formats (export copies it), in f32 for
    /// the `f32` reference (export widens it) and for the schemes GGUF cannot hold (int8, w8a16,
    /// w4a16, AWQ: their runtimes keep the head in floating point).
    pub fn head(&self, name: &str, vocab: usize, hidden: usize) -> Result<Linear> {
        let w = self.source.tensor(name, vocab, hidden)?;
        let head = if head_as_stored(self.scheme) {
            stored_linear(&w, Vec::new(), vocab, hidden, self.source)
        } else {
            Linear::new(&w.to_f32(), Vec::new(), vocab, hidden, Scheme::F32)
        };
        self.source.release_all();
        Ok(head)
    }
}

/// The scheme a block Linear with rows of `inp` weights is stored in: a llama.cpp block format where
/// the rows are whole blocks, else the format llama.cpp's quantizer falls back to (Q4_K -> Q5_0, Q5_K ->
/// Q5_1, Q6_K -> Q8_0; F16 where none fits), exactly as `export` writes it; every other scheme as is.
/// (SmolLM2's 576-wide rows are not whole 256-weight super-blocks: its `q4_k` is mostly Q5_0, as the
/// file llama.cpp or `export` makes.)
pub fn stored_scheme(scheme: Scheme, inp: usize) -> Scheme {
    match scheme {
        Scheme::Gguf(f) => f.for_row_length(inp).map_or(Scheme::F16, Scheme::Gguf),
        other => other,
    }
}

/// True when `scheme` quantizes to the block format `w` is stored in.
fn same_blocks(scheme: Scheme, w: &StoredTensor<'_>) -> bool {
    matches!((scheme, &w.format), (Scheme::Gguf(f), Stored::Block(g)) if f == *g)
}

/// True when a decoder's head (and tied embeddings) stay as the file stores them under `scheme`.
pub fn head_as_stored(scheme: Scheme) -> bool {
    matches!(scheme, Scheme::Native | Scheme::F16 | Scheme::Gguf(_))
}

/// A Linear from a tensor as stored: block formats as they are, f16 as f16, f32 and bf16 as f32
/// (bf16 is widened: the engine has no bf16 kernel; exact, since every bf16 is an f32).
fn stored_linear(w: &StoredTensor<'_>, bias: Vec<f32>, out: usize, inp: usize, source: &TensorSource) -> Linear {
    match w.format {
        Stored::Block(f) => {
            Linear::from_mapped_blocks(f, &w.bytes, &|piece| source.release_bytes(piece), bias, out, inp)
        }
        Stored::F16 => Linear::new(&w.to_f32(), bias, out, inp, Scheme::F16),
        Stored::F32 | Stored::BF16 => Linear::new(&w.to_f32(), bias, out, inp, Scheme::F32),
    }
}

/// `W += scale * B A` in place (`W` `[out, in]`, `A` `[r, in]`, `B` `[out, r]`).
#[allow(clippy::too_many_arguments)]
fn merge_lora(
    w: &mut [f32],
    out: usize,
    inp: usize,
    a: &Matrix,
    b: &Matrix,
    scale: f32,
    name: &str,
    origin: &str,
) -> Result<()> {
    if a.cols != inp || b.rows != out || a.rows != b.cols {
        return Err(Error::input(
            origin,
            format!(
                "adapter for {name}: A is [{}, {}] and B [{}, {}], the layer is [{out}, {inp}]",
                a.rows, a.cols, b.rows, b.cols
            ),
        ));
    }
    let r = a.rows;
    for o in 0..out {
        let row = &mut w[o * inp..(o + 1) * inp];
        for k in 0..r {
            let s = scale * b.data[o * r + k];
            if s != 0.0 {
                for (x, av) in row.iter_mut().zip(a.row(k)) {
                    *x += s * av;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::load::gguf::{GgufFile, TensorType};
    use crate::engine::load::gguf_write::{write, TensorOut};
    use crate::engine::quant::blocks::{self, BlockFormat};
    use half::{bf16, f16};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// Bytes of `rows` random rows of `cols` values stored as `format`.
    fn stored_bytes(format: Stored, rows: usize, cols: usize, rng: &mut StdRng) -> Vec<u8> {
        let values: Vec<f32> = (0..rows * cols).map(|_| rng.random_range(-2.0f32..2.0)).collect();
        match format {
            Stored::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            Stored::F16 => values.iter().flat_map(|&v| f16::from_f32(v).to_le_bytes()).collect(),
            Stored::BF16 => values.iter().flat_map(|&v| bf16::from_f32(v).to_le_bytes()).collect(),
            Stored::Block(f) => {
                let mut out = Vec::new();
                for row in values.chunks_exact(cols) {
                    blocks::quantize(f, row, &mut out);
                }
                out
            }
        }
    }

    /// A tied output head doubles as the embedding table (`Decoder::embed`): every row it gives back is
    /// bit for bit the row dequantized from the file, for every stored format the engine computes with,
    /// on a row count that leaves the packed layouts' last group partial; as stored (`native`) and in f32.
    #[test]
    fn a_head_gives_back_the_rows_of_the_tensor_it_was_built_from() {
        let mut rng = StdRng::seed_from_u64(11);
        let dir = tempfile::tempdir().unwrap();
        let rows = 37;
        let mut seen = Vec::new();
        for ty in TensorType::ALL {
            let Some(format) = Stored::from_tensor_type(ty) else {
                continue;
            };
            let cols = match format {
                Stored::Block(f) if f.is_k_quant() => 2 * f.block_weights(),
                Stored::Block(f) => 3 * f.block_weights(),
                _ => 45,
            };
            let path = dir.path().join(format!("{}.gguf", ty.name()));
            let t = TensorOut {
                name: "token_embd.weight".into(),
                dims: vec![cols as u64, rows as u64],
                ty,
                data: stored_bytes(format, rows, cols, &mut rng).into(),
            };
            write(&path, &[], &[t]).unwrap();
            let source = TensorSource::gguf(GgufFile::open(&path).unwrap());
            let table = source.tensor("token_embd.weight", rows, cols).unwrap();
            for scheme in [Scheme::Native, Scheme::F32] {
                let builder = WeightBuilder {
                    source: &source,
                    scheme,
                    calibration: None,
                    adapter: None,
                };
                let head = builder.head("token_embd.weight", rows, cols).unwrap();
                assert!(head.keeps_rows(), "{} {scheme}", ty.name());
                let (mut got, mut want) = (vec![0.0f32; cols], vec![0.0f32; cols]);
                for r in 0..rows {
                    assert!(head.row_f32(r, &mut got));
                    table.row_f32(r, &mut want);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&got), bits(&want), "{} {scheme} row {r}", ty.name());
                }
            }
            seen.push(format);
        }
        let block_formats = seen.iter().filter(|f| matches!(f, Stored::Block(_))).count();
        assert_eq!(block_formats, BlockFormat::ALL.len());
        assert!([Stored::F32, Stored::F16, Stored::BF16]
            .iter()
            .all(|f| seen.contains(f)));
    }

    /// The integer schemes hold rounded codes, not the weights: they do not claim rows.
    #[test]
    fn integer_layers_keep_no_rows() {
        let w = vec![0.25f32; 4 * 32];
        for scheme in ["int8", "w8a16", "w4a16-rtn-g32"] {
            let l = Linear::new(&w, Vec::new(), 4, 32, scheme.parse().unwrap());
            let mut out = vec![7.0f32; 32];
            assert!(!l.keeps_rows() && !l.row_f32(1, &mut out), "{scheme}");
            assert!(out.iter().all(|&v| v == 7.0));
        }
    }
}
