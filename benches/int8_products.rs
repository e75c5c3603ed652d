//! Speed of the W8A8 (`int8`) product against the f32 strip product on the same table, per kernel
//! table, on the shapes of a SmolLM2 MLP projection (`out x in` = 1536 x 576, random weights) at 1, 16
//! and 64 tokens (decode, a batch of sequences, a prompt): GOP/s and the ratio int8 / f32 of this run.
//! The generic table's int8 is the scalar per-row dot (its reference). One thread unless
//! `SHAKEDOWN_BENCH_THREADS` says otherwise; rates per second of the process's CPU time (Linux).
//!
//!     cargo bench --bench int8_products

mod common;

use common::{per_second, settings};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use shakedown::engine::kernels::{matmul_f32_packed, matmul_int8_with, prepare_f32, prepare_int8, Kernels};
use shakedown::engine::quant::integer::quantize_int8;
use shakedown::engine::tensor::Matrix;

fn main() {
    let (seconds, threads, pool) = settings();
    let (out_f, in_f) = (1536, 576);
    let mut rng = StdRng::seed_from_u64(1);
    let w: Vec<f32> = (0..out_f * in_f).map(|_| rng.random_range(-0.1f32..0.1)).collect();
    println!("weights {out_f}x{in_f}, {threads} thread(s)");
    println!(
        "{:<11} {:>6} {:>11} {:>11} {:>11}",
        "table", "tokens", "f32 GOP/s", "int8 GOP/s", "int8 / f32"
    );
    for k in Kernels::available() {
        let packed = prepare_f32(k, &w, out_f, in_f);
        let mut q8 = quantize_int8(&w, out_f, in_f);
        prepare_int8(k, &mut q8, out_f, in_f);
        for tokens in [1usize, 16, 64] {
            let x = Matrix::from_vec(
                tokens,
                in_f,
                (0..tokens * in_f).map(|_| rng.random_range(-1.0f32..1.0)).collect(),
            );
            let ops = 2.0 * (tokens * in_f * out_f) as f64 / 1e9;
            let f32_rate = packed.as_ref().map(|p| {
                pool.install(|| {
                    per_second(seconds, || {
                        drop(std::hint::black_box(matmul_f32_packed(k, &x, p, out_f)))
                    })
                })
            });
            let int8_rate = pool.install(|| {
                per_second(seconds, || {
                    drop(std::hint::black_box(matmul_int8_with(k, &x, &q8, out_f)))
                })
            });
            println!(
                "{:<11} {:>6} {:>11} {:>11.2} {:>11}",
                k.name(),
                tokens,
                f32_rate.map_or("-".into(), |r| format!("{:.2}", r * ops)),
                int8_rate * ops,
                f32_rate.map_or("-".into(), |r| format!("{:.2}", int8_rate / r)),
            );
        }
    }
}
