//! The gated feed-forward block of Llama (SwiGLU, Shazeer 2020) and Gemma (GeGLU with tanh GELU):
//! `down(act(gate(x)) * up(x))`; and BERT's feed-forward activation, GELU over a whole matrix.

use rayon::prelude::*;

use super::lora::LinearLayer;
use crate::engine::kernels::{kernels, Kernels};
use crate::engine::tensor::Matrix;

/// The gate's activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `x * sigmoid(x)`.
    Silu,
    /// GELU with the tanh approximation (Hendrycks & Gimpel, 2016), as Gemma's `gelu_pytorch_tanh`.
    GeluTanh,
}

impl Activation {
    /// `g = act(g) * u`, element by element: the gate of a gated block. GELU goes through the kernel
    /// table (libm's tanh per element was 9 % of a Gemma 3 prefill on AVX2; `tensor::gelu_tanh` is
    /// its scalar reference).
    pub fn gate(self, k: Kernels, g: &mut [f32], u: &[f32]) {
        match self {
            Activation::Silu => g.iter_mut().zip(u).for_each(|(a, b)| *a = *a / (1.0 + (-*a).exp()) * b),
            Activation::GeluTanh => k.gelu_tanh_mul(g, u),
        }
    }
}

/// A gated MLP.
pub struct GatedMlp {
    pub gate: LinearLayer,
    pub up: LinearLayer,
    pub down: LinearLayer,
    pub act: Activation,
}

impl GatedMlp {
    /// `x [tokens, hidden] -> [tokens, hidden]`; `observe` sees the down projection's input.
    pub fn forward(&self, x: &Matrix, observe: &mut dyn FnMut(&Matrix)) -> Matrix {
        let [mut g, u] = LinearLayer::forward_fused([&self.gate, &self.up], x);
        let (act, k) = (self.act, kernels());
        g.data
            .par_chunks_mut(4096)
            .zip(u.data.par_chunks(4096))
            .for_each(|(g, u)| act.gate(k, g, u));
        observe(&g);
        self.down.forward(&g)
    }
}

/// Elements per parallel task of GELU.
const GELU_CHUNK: usize = 8192;

/// GELU with the error function, `x * Phi(x)`, as BERT's `gelu` activation (not the tanh
/// approximation), spread over threads, each chunk by the kernel table.
pub fn gelu(x: &mut Matrix) {
    let k = kernels();
    x.data.par_chunks_mut(GELU_CHUNK).for_each(|c| k.gelu(c));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `act(x)`, through the gate with an up projection of 1, on every kernel table.
    fn apply(act: Activation, k: Kernels, x: f32) -> f32 {
        let mut g = [x];
        act.gate(k, &mut g, &[1.0]);
        g[0]
    }

    #[test]
    fn activations_match_known_values() {
        for k in Kernels::available() {
            assert!((apply(Activation::Silu, k, 1.0) - 0.731_058_6).abs() < 1e-6);
            assert!((apply(Activation::GeluTanh, k, 1.0) - 0.841_192).abs() < 1e-5);
            assert_eq!(apply(Activation::GeluTanh, k, 0.0), 0.0);
        }
    }
}
