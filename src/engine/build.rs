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
                    _ => Linear::new(&f, bias, out, inp, scheme),
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

    /// The output head `[vocab, hidden]` (or the tied embeddings): as stored for `native`, f32 otherwise
    /// (the scheme covers the transformer blocks).
    pub fn head(&self, name: &str, vocab: usize, hidden: usize) -> Result<Linear> {
        let w = self.source.tensor(name, vocab, hidden)?;
        let head = match self.scheme {
            Scheme::Native => stored_linear(&w, Vec::new(), vocab, hidden, self.source),
            _ => Linear::new(&w.to_f32(), Vec::new(), vocab, hidden, Scheme::F32),
        };
        self.source.release_all();
        Ok(head)
    }
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
