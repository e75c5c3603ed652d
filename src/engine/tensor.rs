//! A plain row-major f32 matrix and the scalar references of the few element-wise ops the models
//! need (the kernel tables hold the SIMD versions; `layers` applies them to matrices).

/// Row-major matrix of f32: `rows` x `cols`, `data[r * cols + c]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
}

impl Matrix {
    /// A zero-filled matrix.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Wraps `data`; its length must be `rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<f32>) -> Self {
        debug_assert_eq!(data.len(), rows * cols);
        Matrix { rows, cols, data }
    }

    /// Row `r` as a slice.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Row `r` as a mutable slice.
    pub fn row_mut(&mut self, r: usize) -> &mut [f32] {
        &mut self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Element-wise `self += other`.
    pub fn add_assign(&mut self, other: &Matrix) {
        debug_assert_eq!(self.data.len(), other.data.len());
        for (a, b) in self.data.iter_mut().zip(&other.data) {
            *a += b;
        }
    }
}

/// Transposes a row-major `rows x cols` buffer into `cols x rows`.
pub fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = data[r * cols + c];
        }
    }
    out
}

/// Scalar layer normalisation of one row: the reference of the kernel tables.
pub fn layer_norm_row(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
        *v = (*v - mean) * inv * g + b;
    }
}

/// Scalar GELU of a slice: the reference of the kernel tables.
pub fn gelu_slice(xs: &mut [f32]) {
    for v in xs {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// The error function, branch-free so the GELU loop vectorises: Abramowitz & Stegun 7.1.26
/// (absolute error below 1.5e-7), with `exp` from `exp_approx`.
#[inline]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152_1 + t * 1.061_405_4))));
    (1.0 - poly * exp_approx(-a * a)).copysign(x)
}

/// `sqrt(2 / pi)`, the scale inside GELU's tanh approximation.
pub const SQRT_2_OVER_PI: f32 = 0.797_884_6;

/// GELU with the tanh approximation (Hendrycks & Gimpel 2016; Gemma's `gelu_pytorch_tanh`),
/// `0.5 x (1 + tanh(u))` with `u = sqrt(2/pi) (x + 0.044715 x^3)`, written as the same function
/// `x * sigmoid(2u)` (since `1 + tanh(u) = 2 sigmoid(2u)`), with the sigmoid from `exp_approx` of
/// `-|2u|` only: no library call, and a polynomial the AVX2 twin (`x86_math`) follows step for step.
#[inline]
pub fn gelu_tanh(x: f32) -> f32 {
    let a = 2.0 * SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x);
    let e = exp_approx(-a.abs());
    let sigmoid = if a >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
    x * sigmoid
}

/// `g = gelu_tanh(g) * u`, element by element: the gate of a GeGLU feed-forward block.
pub fn gelu_tanh_mul(g: &mut [f32], u: &[f32]) {
    for (a, b) in g.iter_mut().zip(u) {
        *a = gelu_tanh(*a) * b;
    }
}

/// `e^x` for `x <= 0` by range reduction to `2^n * e^r`, `|r| <= ln2 / 2`, and a degree-6 Taylor
/// polynomial (relative error about 2e-7); underflows to 0 below -87.
#[inline]
fn exp_approx(x_in: f32) -> f32 {
    let x = x_in.max(-87.0);
    // x <= 0, so truncation toward zero of (y - 0.5) is ceil(y - 0.5): round to nearest, no libm call.
    let n = (x * std::f32::consts::LOG2_E - 0.5) as i32 as f32;
    // Cody-Waite: ln2 split in a high part exact in f32 and a low correction.
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let y = f32::from_bits(((n as i32 + 127) << 23) as u32) * p;
    if x_in < -87.0 {
        0.0
    } else {
        y
    }
}

/// In-place numerically stable softmax of a slice.
pub fn softmax(xs: &mut [f32]) {
    let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in xs.iter_mut() {
        // v - max <= 0: the branch-free exponential serves (relative error about 2e-7).
        *v = exp_approx(*v - max);
        sum += *v;
    }
    for v in xs.iter_mut() {
        *v /= sum;
    }
}

/// Scales `v` to unit L2 norm (left as is when its norm is zero).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in v.iter_mut() {
            *x /= norm;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let mut xs = vec![1.0, 3.0, 2.0, -1000.0];
        softmax(&mut xs);
        assert!((xs.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(xs[1] > xs[2] && xs[2] > xs[0] && xs[3] >= 0.0);
    }

    #[test]
    fn layer_norm_gives_zero_mean_unit_variance() {
        let mut m = Matrix::from_vec(1, 4, vec![1.0, 2.0, 3.0, 4.0]);
        layer_norm_row(&mut m.data, &[1.0; 4], &[0.0; 4], 1e-12);
        let mean: f32 = m.data.iter().sum::<f32>() / 4.0;
        let var: f32 = m.data.iter().map(|v| v * v).sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-4);
    }

    #[test]
    fn exp_approx_matches_the_library_function_on_non_positive_inputs() {
        for i in 0..=10_000 {
            let x = -(i as f32) / 100.0;
            let (got, want) = (exp_approx(x), x.exp());
            assert!((got - want).abs() <= 1e-6 * want + 2e-38, "{x}: {got} vs {want}");
        }
        assert_eq!(exp_approx(-1000.0), 0.0);
    }

    #[test]
    fn erf_matches_the_library_function() {
        let mut worst = 0.0f32;
        for i in -6000..=6000 {
            let x = i as f32 / 1000.0;
            worst = worst.max((erf(x) - libm::erff(x)).abs());
        }
        assert!(worst < 5e-7, "max abs error {worst}");
        assert!(erf(0.0).abs() < 1e-7);
        assert!((erf(-30.0) + 1.0).abs() < 1e-7 && (erf(30.0) - 1.0).abs() < 1e-7);
    }

    #[test]
    fn gelu_tanh_is_the_tanh_formula() {
        let mut worst = 0.0f32;
        for i in -12000..=12000 {
            let x = i as f32 / 1000.0;
            let want = 0.5 * x * (1.0 + (SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x)).tanh());
            worst = worst.max((gelu_tanh(x) - want).abs() / (1.0 + want.abs()));
        }
        assert!(worst < 1e-6, "max relative error {worst}");
        assert_eq!(gelu_tanh(0.0), 0.0);
        assert_eq!((gelu_tanh(1e30), gelu_tanh(-1e30)), (1e30, 0.0));
    }

    #[test]
    fn gelu_matches_known_values() {
        let mut m = Matrix::from_vec(1, 3, vec![0.0, 1.0, -1.0]);
        gelu_slice(&mut m.data);
        assert!(m.data[0].abs() < 1e-7);
        assert!((m.data[1] - 0.841_344_7).abs() < 1e-5);
        assert!((m.data[2] + 0.158_655_3).abs() < 1e-5);
    }
}
