//! `shakedown bench`: kernel GOP/s and end-to-end sentences/s per scheme, batch size and thread
//! count, each as a ratio to the f32 path measured in the same run, with each scheme's weight bytes
//! and peak resident memory.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use crate::engine::layers::linear::Linear;
use crate::engine::tensor::Matrix;
use crate::engine::{Model, ModelFiles, Scheme};
use crate::error::{Error, Result};
use crate::memory;
use crate::progress::Progress;

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
    /// Stored bytes of the quantized weights (the kernel's layer, or every encoder Linear).
    pub weight_bytes: usize,
    /// Peak resident set size (`VmHWM`) while this scheme was built and measured; see `peak_rss_scope`.
    pub peak_rss_bytes: Option<u64>,
    /// Resident set size (`VmRSS`) when this scheme's measurement started: `peak_rss_bytes` minus this
    /// is what building and running the scheme added.
    pub rss_at_start_bytes: Option<u64>,
    /// `"scheme"` when the peak was reset before the scheme (so it covers this scheme alone, on top of
    /// what the process already held), `"process"` when the kernel refused the reset and the figure is
    /// the process's high-water mark so far.
    pub peak_rss_scope: String,
}

/// The largest encoder batch measured (a batch's activations are allocated whole).
const MAX_BATCH: usize = 4096;

pub(crate) fn time_for(seconds: f64, mut f: impl FnMut() -> Result<u64>) -> Result<f64> {
    f()?; // warm-up
    let start = Instant::now();
    let budget = Duration::from_secs_f64(seconds);
    let mut done = 0u64;
    while start.elapsed() < budget {
        done += f()?;
    }
    Ok(done as f64 / start.elapsed().as_secs_f64())
}

pub(crate) fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))
}

/// What one scheme measured: a value per configuration, its weight bytes and its peak RSS.
pub(crate) struct Measured {
    scheme: Scheme,
    values: Vec<f64>,
    weight_bytes: usize,
    peak_rss_bytes: Option<u64>,
    rss_at_start_bytes: Option<u64>,
}

/// Measures every scheme in turn (f32 first), resetting the peak RSS before each; `run` builds the
/// scheme's subject and returns its weight bytes and one value per configuration, advancing its
/// phase once per configuration.
pub(crate) fn per_scheme(
    opts: &BenchOptions,
    what: &str,
    configs: usize,
    progress: &dyn Progress,
    mut run: impl FnMut(Scheme, &dyn crate::progress::Phase) -> Result<(usize, Vec<f64>)>,
) -> Result<(Vec<Measured>, bool)> {
    let mut reset_ok = true;
    let mut out = Vec::new();
    for scheme in std::iter::once(Scheme::F32).chain(opts.schemes.iter().copied().filter(|s| *s != Scheme::F32)) {
        memory::release_freed_memory();
        reset_ok &= memory::reset_peak();
        let rss_at_start_bytes = memory::resident_bytes();
        let phase = progress.start(&format!("{what}: {scheme}"), Some(configs as u64));
        let (weight_bytes, values) = run(scheme, phase.as_ref())?;
        phase.finish(&format!("{what}: {scheme} measured"));
        out.push(Measured {
            scheme,
            values,
            weight_bytes,
            peak_rss_bytes: memory::peak_resident_bytes(),
            rss_at_start_bytes,
        });
    }
    Ok((out, reset_ok))
}

/// Rows for configuration `c` (named by `what`, `threads`, `batch`) with ratios to the f32 value.
/// The f32 row is always among them, asked for or not: it is the baseline every ratio divides by,
/// and a ratio without its baseline's figure cannot be checked.
pub(crate) fn rows_for(measured: &[Measured], c: usize, row: (&str, usize, usize, &str), scope: &str) -> Vec<BenchRow> {
    let (what, threads, batch, unit) = row;
    let base = measured.first().map_or(f64::NAN, |m| m.values[c]);
    measured
        .iter()
        .map(|m| BenchRow {
            what: what.to_string(),
            scheme: m.scheme.to_string(),
            threads,
            batch,
            value: m.values[c],
            unit: unit.into(),
            ratio_vs_f32: m.values[c] / base,
            weight_bytes: m.weight_bytes,
            peak_rss_bytes: m.peak_rss_bytes,
            rss_at_start_bytes: m.rss_at_start_bytes,
            peak_rss_scope: scope.into(),
        })
        .collect()
}

/// Runs every measurement; rows come configuration by configuration, the f32 row of each first.
/// Each scheme is built and measured on its own (its subject dropped before the next), so its peak
/// RSS can be read alone.
pub fn bench(opts: &BenchOptions, progress: &dyn Progress) -> Result<Vec<BenchRow>> {
    if opts.texts.is_empty() {
        return Err(Error::input("bench", "no texts to run"));
    }
    if let Some(b) = opts.batches.iter().find(|&&b| b > MAX_BATCH) {
        return Err(Error::input(
            "--batches",
            format!("{b}: expected at most {MAX_BATCH} texts per batch"),
        ));
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
    let ops = 2 * tokens * in_f * out_f;
    let (kernel, kernel_reset) = per_scheme(opts, "kernel", opts.threads.len(), progress, |scheme, phase| {
        let layer = Linear::new(&w, vec![0.0; out_f], out_f, in_f, scheme);
        let values = opts
            .threads
            .iter()
            .map(|&threads| {
                let per_s = pool(threads)?.install(|| {
                    time_for(opts.seconds, || {
                        std::hint::black_box(layer.forward(&x));
                        Ok(1)
                    })
                })?;
                phase.advance(1);
                Ok(per_s * ops as f64 / 1e9)
            })
            .collect::<Result<Vec<f64>>>()?;
        Ok((layer.weight_bytes(), values))
    })?;
    let what = format!("kernel {tokens}x{in_f} * {in_f}x{out_f}");
    for (c, &threads) in opts.threads.iter().enumerate() {
        let scope = if kernel_reset { "scheme" } else { "process" };
        rows.extend(rows_for(&kernel, c, (&what, threads, tokens, "GOP/s"), scope));
    }
    // End to end.
    let files = ModelFiles::load(&opts.model)?;
    let texts: Vec<&str> = opts.texts.iter().map(String::as_str).collect();
    let configs: Vec<(usize, usize)> = opts
        .threads
        .iter()
        .flat_map(|&t| opts.batches.iter().map(move |&b| (t, b)))
        .collect();
    let (e2e, e2e_reset) = per_scheme(opts, "end to end", configs.len(), progress, |scheme, phase| {
        let model = Model::build_calibrated(&files, scheme, &texts)?;
        let values = configs
            .iter()
            .map(|&(threads, batch)| {
                let mut next = 0usize;
                let v = pool(threads)?.install(|| {
                    time_for(opts.seconds, || {
                        let chunk: Vec<&str> = (0..batch).map(|i| texts[(next + i) % texts.len()]).collect();
                        next += batch;
                        std::hint::black_box(model.embeddings(&chunk)?);
                        Ok(batch as u64)
                    })
                });
                phase.advance(1);
                v
            })
            .collect::<Result<Vec<f64>>>()?;
        Ok((model.linear_weight_stats().0, values))
    })?;
    for (c, &(threads, batch)) in configs.iter().enumerate() {
        let scope = if e2e_reset { "scheme" } else { "process" };
        rows.extend(rows_for(
            &e2e,
            c,
            ("end-to-end encoder", threads, batch, "sentences/s"),
            scope,
        ));
    }
    Ok(rows)
}
