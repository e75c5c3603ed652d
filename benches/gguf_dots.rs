//! Speed of the llama.cpp block-format products per format and kernel table, on one weight matrix
//! (`out x in`, random weights) at 1 token (decode: each weight row dotted once, bound by the bytes of
//! weights streamed) and 16 tokens (each weight block unpacked once for 4 token rows): GOP/s and GB/s
//! of weights read, with ratios to the generic (scalar) table and to Q4_0 on the same table, all from
//! this run. One thread unless `SHAKEDOWN_BENCH_THREADS` says otherwise. Rates are per second of the
//! process's CPU time (on Linux), so that other processes sharing the cores slow the figures less than
//! they would wall-clock rates (caches and memory bandwidth stay shared).
//!
//!     cargo bench --bench gguf_dots
//!
//! `SHAKEDOWN_BENCH_SECONDS` (1 by default) per measurement; `SHAKEDOWN_BENCH_FORMATS=q4_k,q6_k` limits
//! the formats (Q4_0 is always measured, as the baseline).

mod common;

use common::{env, per_second, settings};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use shakedown::engine::kernels::{matmul_gguf_packed, matmul_gguf_with, prepare_gguf, Kernels};
use shakedown::engine::quant::blocks::{quantize, quantize_activations, BlockFormat};

fn main() {
    let (seconds, threads, pool) = settings();
    let (out_f, in_f) = (4096, 2048);
    let mut rng = StdRng::seed_from_u64(1);
    let w: Vec<f32> = (0..out_f * in_f).map(|_| rng.random_range(-0.1f32..0.1)).collect();
    let x: Vec<f32> = (0..16 * in_f).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let tables = Kernels::available();
    println!(
        "weights {out_f}x{in_f}, {threads} thread(s); tables: {}",
        tables.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
    );
    println!(
        "{:<6} {:<11} {:>6} {:>9} {:>9} {:>10} {:>9}",
        "format", "table", "tokens", "GOP/s", "GB/s w", "x generic", "x q4_0"
    );
    let mut q4_0 = Vec::new();
    // Q4_0 first: the other formats' ratios to it.
    let order =
        std::iter::once(BlockFormat::Q4_0).chain(BlockFormat::ALL.into_iter().filter(|&f| f != BlockFormat::Q4_0));
    let wanted: String = env("SHAKEDOWN_BENCH_FORMATS", String::new());
    let order = order
        .filter(|f| *f == BlockFormat::Q4_0 || wanted.is_empty() || wanted.split(',').any(|n| n.trim() == f.name()));
    for format in order {
        let mut data = Vec::new();
        for row in w.chunks_exact(in_f) {
            quantize(format, row, &mut data);
        }
        let row_bytes = data.len() / out_f;
        let acts: Vec<_> = x.chunks_exact(in_f).map(|r| quantize_activations(format, r)).collect();
        let mut generic = [0.0f64; 2];
        for (ti, k) in tables.iter().enumerate() {
            let packed = prepare_gguf(*k, format, &data, row_bytes, out_f);
            for (c, tokens) in [1usize, 16].into_iter().enumerate() {
                let acts = &acts[..tokens];
                let rate = pool.install(|| {
                    per_second(seconds, || {
                        let y = match &packed {
                            Some(p) => matmul_gguf_packed(*k, format, acts, p, row_bytes / format.block_bytes(), out_f),
                            None => matmul_gguf_with(*k, acts, &data, row_bytes, out_f),
                        };
                        std::hint::black_box(y);
                    })
                });
                if ti == 0 {
                    generic[c] = rate;
                }
                if format == BlockFormat::Q4_0 {
                    q4_0.push(rate);
                }
                let q4 = q4_0.get(ti * 2 + c).copied().unwrap_or(f64::NAN);
                // Weight bytes read per second: meaningful at one token, where each row is read once.
                let bandwidth = if tokens == 1 {
                    format!("{:.2}", rate * data.len() as f64 / 1e9)
                } else {
                    "-".into()
                };
                println!(
                    "{:<6} {:<11} {:>6} {:>9.2} {:>9} {:>10.2} {:>9.2}",
                    format.name(),
                    k.name(),
                    tokens,
                    rate * 2.0 * (tokens * in_f * out_f) as f64 / 1e9,
                    bandwidth,
                    rate / generic[c],
                    rate / q4
                );
            }
        }
    }
}
