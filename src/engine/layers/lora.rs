//! A Linear with an optional LoRA update kept apart from its stored weights (Hu et al., 2021):
//! `y = x W^T + scale * (x A^T) B^T`, as llama.cpp applies adapters to a GGUF model it does not modify.

use super::linear::Linear;
use crate::engine::quant::scheme::Scheme;
use crate::engine::tensor::Matrix;
use crate::error::{Error, Result};

/// A LoRA update applied at run time: `y += scale * (x A^T) B^T`, in f32.
pub struct LoraLinear {
    a: Linear,
    b: Linear,
}

impl LoraLinear {
    pub fn new(a: &Matrix, b: &Matrix, scale: f32, out: usize, inp: usize, name: &str) -> Result<Self> {
        if a.cols != inp || b.rows != out || a.rows != b.cols {
            return Err(Error::Internal(format!(
                "adapter shapes for {name} do not fit the layer"
            )));
        }
        let scaled: Vec<f32> = b.data.iter().map(|v| v * scale).collect();
        Ok(LoraLinear {
            a: Linear::new(&a.data, Vec::new(), a.rows, inp, Scheme::F32),
            b: Linear::new(&scaled, Vec::new(), out, b.cols, Scheme::F32),
        })
    }
}

/// A Linear of the blocks with, for `native` plus an adapter, its unmerged LoRA update.
pub struct LinearLayer {
    pub linear: Linear,
    pub lora: Option<LoraLinear>,
}

impl LinearLayer {
    pub fn forward(&self, x: &Matrix) -> Matrix {
        let mut y = self.linear.forward(x);
        if let Some(l) = &self.lora {
            y.add_assign(&l.b.forward(&l.a.forward(x)));
        }
        y
    }

    /// `forward` of layers that read the same input (`[q, k, v]`, `[gate, up]`): their stored weights in
    /// one pass where the format allows (`Linear::forward_fused`), each adapter's update added after.
    pub fn forward_fused<const N: usize>(layers: [&LinearLayer; N], x: &Matrix) -> [Matrix; N] {
        let mut ys = Linear::forward_fused(&layers.map(|l| &l.linear), x).into_iter();
        std::array::from_fn(|i| {
            let mut y = ys.next().unwrap_or_else(|| layers[i].linear.forward(x));
            if let Some(l) = &layers[i].lora {
                y.add_assign(&l.b.forward(&l.a.forward(x)));
            }
            y
        })
    }

    /// Stored bytes of the weights (the adapter's f32 factors included).
    pub fn weight_bytes(&self) -> usize {
        self.linear.weight_bytes()
            + self
                .lora
                .as_ref()
                .map_or(0, |l| l.a.weight_bytes() + l.b.weight_bytes())
    }

    pub fn weight_count(&self) -> usize {
        self.linear.weight_count()
    }
}
