//! `shakedown bench`: kernel GOP/s and end-to-end sentences/s per scheme, batch size and thread
//! count, each as a ratio to the f32 path measured in the same run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use crate::engine::linear::Linear;
use crate::engine::tensor::Matrix;
use crate::engine::{Model, ModelFiles, Scheme};
use crate::error::{Error, Result};

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub model: PathBuf,
    pub schemes: Vec<Scheme>,
    pub batches: Vec<usize>,
    pub threads: Vec<usize>,
    /// Seconds of measurement per configuration.
    pub seconds: f64,
    /// Sentences to embed or classify, cycled.
    pub texts: Vec<String>,
}

/// One measured configuration.
#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    pub what: String,
    pub scheme: String,
    pub threads: usize,
    pub batch: usize,
    /// Sentences/s end to end, or GOP/s for the kernel benchmark.
    pub value: f64,
    pub unit: String,
    /// `value` / the f32 value of the same configuration, measured in the same run.
    pub ratio_vs_f32: f64,
    pub weight_bytes: usize,
}

fn time_for(seconds: f64, mut f: impl FnMut() -> Result<u64>) -> Result<f64> {
    f()?; // warm-up
    let start = Instant::now();
    let budget = Duration::from_secs_f64(seconds);
    let mut done = 0u64;
    while start.elapsed() < budget {
        done += f()?;
    }
    Ok(done as f64 / start.elapsed().as_secs_f64())
}

fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))
}

/// Runs every measurement; rows come scheme by scheme with the f32 row of each configuration first.
pub fn bench(opts: &BenchOptions) -> Result<Vec<BenchRow>> {
    if opts.texts.is_empty() {
        return Err(Error::input("bench", "no texts to run"));
    }
    let mut rows = Vec::new();
    // Kernel: one encoder-sized Linear (384 -> 1536, as MiniLM's FFN) on 128 tokens.
    let (tokens, in_f, out_f) = (128, 384, 1536);
    let mut rng = StdRng::seed_from_u64(1);
    let w: Vec<f32> = (0..in_f * out_f).map(|_| rng.random_range(-0.1f32..0.1)).collect();
    let x = Matrix::from_vec(
        tokens,
        in_f,
        (0..tokens * in_f).map(|_| rng.random_range(-1.0f32..1.0)).collect(),
    );
    for &threads in &opts.threads {
        let mut base = None;
        for &scheme in std::iter::once(&Scheme::F32).chain(opts.schemes.iter().filter(|s| **s != Scheme::F32)) {
            let layer = Linear::new(&w, vec![0.0; out_f], out_f, in_f, scheme);
            let ops = 2 * tokens * in_f * out_f;
            let per_s = pool(threads)?.install(|| {
                time_for(opts.seconds, || {
                    std::hint::black_box(layer.forward(&x));
                    Ok(1)
                })
            })?;
            let gops = per_s * ops as f64 / 1e9;
            let b = *base.get_or_insert(gops);
            if scheme == Scheme::F32 && !opts.schemes.contains(&Scheme::F32) {
                continue;
            }
            rows.push(BenchRow {
                what: format!("kernel {tokens}x{in_f} * {in_f}x{out_f}"),
                scheme: scheme.to_string(),
                threads,
                batch: tokens,
                value: gops,
                unit: "GOP/s".into(),
                ratio_vs_f32: gops / b,
                weight_bytes: layer.weight_bytes(),
            });
        }
    }
    // End to end.
    let files = ModelFiles::load(&opts.model)?;
    let texts: Vec<&str> = opts.texts.iter().map(String::as_str).collect();
    let models: Vec<(Scheme, Model)> = std::iter::once(Scheme::F32)
        .chain(opts.schemes.iter().copied().filter(|s| *s != Scheme::F32))
        .map(|s| Model::build_calibrated(&files, s, &texts).map(|m| (s, m)))
        .collect::<Result<_>>()?;
    for &threads in &opts.threads {
        for &batch in &opts.batches {
            let mut base = None;
            for (scheme, model) in &models {
                let mut next = 0usize;
                let per_s = pool(threads)?.install(|| {
                    time_for(opts.seconds, || {
                        let chunk: Vec<&str> = (0..batch).map(|i| texts[(next + i) % texts.len()]).collect();
                        next += batch;
                        std::hint::black_box(model.embeddings(&chunk)?);
                        Ok(batch as u64)
                    })
                })?;
                let b = *base.get_or_insert(per_s);
                if *scheme == Scheme::F32 && !opts.schemes.contains(&Scheme::F32) {
                    continue;
                }
                rows.push(BenchRow {
                    what: "end-to-end encoder".into(),
                    scheme: scheme.to_string(),
                    threads,
                    batch,
                    value: per_s,
                    unit: "sentences/s".into(),
                    ratio_vs_f32: per_s / b,
                    weight_bytes: model.linear_weight_stats().0,
                });
            }
        }
    }
    Ok(rows)
}

/// A terminal table of the rows.
pub fn render(rows: &[BenchRow], kernels: &str) -> String {
    let mut out = format!(
        "kernel table: {kernels}\n{:<34} {:<16} {:>7} {:>5} {:>12} {:>12} {:>8} {:>12}\n",
        "what", "scheme", "threads", "batch", "value", "unit", "x f32", "weight bytes"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<34} {:<16} {:>7} {:>5} {:>12.2} {:>12} {:>8.2} {:>12}\n",
            r.what, r.scheme, r.threads, r.batch, r.value, r.unit, r.ratio_vs_f32, r.weight_bytes
        ));
    }
    out
}
