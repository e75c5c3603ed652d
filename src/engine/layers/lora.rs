//! A Linear with an optional LoRA update kept apart from its stored weights (Hu et al., 2021):
//! `y = x W^T + scale * (x A^T) B^T`, as llama.cpp applies adapters to a GGUF model it does not modify.

use rayon::prelude::*;

use super::linear::Linear;
use crate::engine::kernels::kernels;
use crate::engine::tensor::Matrix;
use crate::error::{Error, Result};

/// A LoRA update applied at run time: `y += scale * (x A^T) B^T`, in f32.
///
/// The two thin products run in plain loops, row by row and in a fixed order, so a row's update is the
/// same whichever rows share its batch. (Through the `gemm` crate, `x A^T` with A 8 x 576 rounded
/// differently at 1, at 2-64 and at 100 or more rows, and a greedy answer changed with the batch.)
pub struct LoraLinear {
    /// `A`, `[rank, in]`.
    a: Vec<f32>,
    /// `scale * B^T`, `[rank, out]`.
    b_t: Vec<f32>,
}

impl LoraLinear {
    pub fn new(a: &Matrix, b: &Matrix, scale: f32, out: usize, inp: usize, name: &str) -> Result<Self> {
        if a.cols != inp || b.rows != out || a.rows != b.cols {
            return Err(Error::Internal(format!(
                "adapter shapes for {name} do not fit the layer"
            )));
        }
        let rank = a.rows;
        let mut b_t = vec![0.0f32; rank * out];
        for j in 0..rank {
            for o in 0..out {
                b_t[j * out + o] = b.data[o * rank + j] * scale;
            }
        }
        Ok(LoraLinear { a: a.data.clone(), b_t })
    }

    /// Adds the update of every row of `x` to the same row of `y`.
    fn add_update(&self, x: &Matrix, y: &mut Matrix) {
        let (k, out) = (kernels(), y.cols);
        y.data
            .par_chunks_mut(out)
            .zip(x.data.par_chunks(x.cols))
            // One update buffer per parallel piece of work, zeroed per row.
            .for_each_init(
                || vec![0.0f32; out],
                |u, (y_row, x_row)| {
                    // (x A^T) B^T: a dot per rank, then a scaled row of B^T per rank, summed apart
                    // from y as a separate product would be.
                    u.fill(0.0);
                    for (a, b) in self.a.chunks_exact(x_row.len()).zip(self.b_t.chunks_exact(out)) {
                        k.axpy(k.dot_f32(x_row, a), b, u);
                    }
                    y_row.iter_mut().zip(u.iter()).for_each(|(yo, uo)| *yo += uo);
                },
            );
    }

    fn bytes(&self) -> usize {
        (self.a.len() + self.b_t.len()) * 4
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
            l.add_update(x, &mut y);
        }
        y
    }

    /// `forward` of layers that read the same input (`[q, k, v]`, `[gate, up]`): their stored weights in
    /// one pass where the format allows (`Linear::forward_fused`), each adapter's update added after.
    pub fn forward_fused<const N: usize>(layers: [&LinearLayer; N], x: &Matrix) -> [Matrix; N] {
        let mut ys = Linear::forward_fused(layers.map(|l| &l.linear), x);
        for (y, layer) in ys.iter_mut().zip(layers) {
            if let Some(l) = &layer.lora {
                l.add_update(x, y);
            }
        }
        ys
    }

    /// Whether a row's output is independent of the other rows of the call (the stored weights
    /// decide; the adapter's update is computed row by row).
    pub fn rows_independent(&self) -> bool {
        self.linear.rows_independent()
    }

    /// Stored bytes of the weights (the adapter's f32 factors included).
    pub fn weight_bytes(&self) -> usize {
        self.linear.weight_bytes() + self.lora.as_ref().map_or(0, LoraLinear::bytes)
    }

    pub fn weight_count(&self) -> usize {
        self.linear.weight_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize, cols: usize, seed: usize) -> Matrix {
        let data = (0..rows * cols)
            .map(|i| ((i * 7919 + seed * 104_729) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        Matrix::from_vec(rows, cols, data)
    }

    #[test]
    fn the_update_is_the_scaled_product_and_the_same_in_any_batch() {
        let (inp, out, rank, scale) = (37, 29, 5, 2.0);
        let (a, b) = (matrix(rank, inp, 1), matrix(out, rank, 2));
        let lora = LoraLinear::new(&a, &b, scale, out, inp, "t").unwrap();
        let x = matrix(7, inp, 3);
        let mut y = Matrix::zeros(7, out);
        lora.add_update(&x, &mut y);
        for r in 0..7 {
            for o in 0..out {
                let want: f64 = (0..rank)
                    .map(|j| {
                        let t: f64 = (0..inp).map(|i| x.row(r)[i] as f64 * a.data[j * inp + i] as f64).sum();
                        t * b.data[o * rank + j] as f64 * scale as f64
                    })
                    .sum();
                assert!((y.row(r)[o] as f64 - want).abs() < 1e-4, "row {r} col {o}");
            }
            let mut alone = Matrix::zeros(1, out);
            lora.add_update(&Matrix::from_vec(1, inp, x.row(r).to_vec()), &mut alone);
            assert_eq!(alone.row(0), y.row(r), "row {r} alone vs in a batch of 7");
        }
        assert!(LoraLinear::new(&a, &b, scale, out, inp + 1, "t").is_err());
    }
}
