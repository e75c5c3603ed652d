//! `shakedown bench` for decoders: prompt processing and generation speed per scheme and thread count,
//! measured as llama-bench measures them so that `scripts/peer/llama_bench.py` can put the two side by
//! side: `pp N` feeds an N-token prompt at once into an empty cache; `tg N` feeds N tokens one at a
//! time from an empty cache (one sequence); `batch16 tg N` decodes 16 sequences together, one token
//! each per step, and counts all their tokens. Each test repeats until its time budget is spent (at
//! least twice after a warm-up) and reports the mean rate.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::engine::decoding::DecoderModel;
use crate::engine::layers::attention::KvCache;
use crate::engine::{Model, ModelSource, Scheme};
use crate::error::{Error, Result};
use crate::memory;

/// What to measure on a decoder.
#[derive(Clone, Debug)]
pub struct DecoderBenchOptions {
    pub schemes: Vec<Scheme>,
    pub threads: Vec<usize>,
    /// Prompt lengths for `pp` tests.
    pub prompt_tokens: Vec<usize>,
    /// Generated tokens for `tg` tests.
    pub gen_tokens: Vec<usize>,
    /// Sequences decoded together in the aggregate test (0: skip it).
    pub sequences: usize,
    /// Seconds per test.
    pub seconds: f64,
    /// Calibration texts for activation-aware schemes.
    pub calibration: Vec<String>,
}

/// One measured test.
#[derive(Clone, Debug, Serialize)]
pub struct DecoderBenchRow {
    /// The model file or folder.
    pub file: String,
    pub scheme: String,
    pub threads: usize,
    /// `pp64`, `tg128`, `batch16-tg32`, ...
    pub test: String,
    pub tokens_per_s: f64,
    /// Stored bytes of the blocks' Linear weights and of the output head.
    pub weight_bytes: usize,
    pub head_bytes: usize,
    /// Peak RSS while this scheme was built and measured (`VmHWM` after a reset), when readable.
    pub peak_rss_bytes: Option<u64>,
    /// True when the reset of the peak was refused (the figure is then the process's high-water mark).
    pub peak_rss_is_process: bool,
}

/// Token ids that stand for a prompt: arbitrary in-vocabulary ids, as llama-bench feeds random tokens.
fn tokens(n: usize, vocab: usize, salt: usize) -> Vec<u32> {
    (0..n)
        .map(|i| ((i * 7919 + salt * 104_729 + 13) % vocab.max(1)) as u32)
        .collect()
}

/// The most sequences of the aggregate test: each holds a key/value cache of its own.
const MAX_SEQUENCES: usize = 256;

/// Refuses tests the model cannot run: a prompt or a generation longer than its context, or more
/// sequences than `MAX_SEQUENCES`.
fn check_sizes(opts: &DecoderBenchOptions, context: usize) -> Result<()> {
    for (flag, sizes) in [
        ("--prompt-tokens", &opts.prompt_tokens),
        ("--gen-tokens", &opts.gen_tokens),
    ] {
        if let Some(n) = sizes.iter().find(|&&n| n > context) {
            return Err(Error::input(
                flag,
                format!("{n} tokens exceed the model's context length of {context} (the default sizes are 64,512 and 32,128: set the flag to shorter ones)"),
            ));
        }
    }
    if opts.sequences > MAX_SEQUENCES {
        return Err(Error::input(
            "--sequences",
            format!(
                "{}: expected at most {MAX_SEQUENCES} sequences decoded together",
                opts.sequences
            ),
        ));
    }
    Ok(())
}

fn repeat(seconds: f64, mut once: impl FnMut() -> Result<u64>) -> Result<f64> {
    once()?;
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let (mut done, mut reps) = (0u64, 0);
    while reps < 2 || start.elapsed() < budget {
        done += once()?;
        reps += 1;
    }
    Ok(done as f64 / start.elapsed().as_secs_f64())
}

fn prefill(d: &DecoderModel, n: usize) -> Result<u64> {
    let ids = tokens(n, d.decoder.config.vocab, 1);
    let mut cache = KvCache::new(d.decoder.config.layers);
    let last = [n - 1];
    d.decoder.forward(&mut [&mut cache], &[&ids], &last)?;
    Ok(n as u64)
}

fn generate(d: &DecoderModel, n: usize, sequences: usize) -> Result<u64> {
    let layers = d.decoder.config.layers;
    let mut caches: Vec<KvCache> = (0..sequences).map(|_| KvCache::new(layers)).collect();
    let want: Vec<usize> = (0..sequences).collect();
    for step in 0..n {
        let ids: Vec<[u32; 1]> = (0..sequences)
            .map(|s| [tokens(1, d.decoder.config.vocab, step * 31 + s)[0]])
            .collect();
        let feeds: Vec<&[u32]> = ids.iter().map(|t| t.as_slice()).collect();
        let mut refs: Vec<&mut KvCache> = caches.iter_mut().collect();
        d.decoder.forward(&mut refs, &feeds, &want)?;
    }
    Ok((n * sequences) as u64)
}

/// Runs every test for every scheme; each scheme is built and measured alone so its peak RSS is its own.
pub fn bench_decoder(source: &ModelSource, opts: &DecoderBenchOptions) -> Result<Vec<DecoderBenchRow>> {
    let file = source.origin().display().to_string();
    let calibration: Vec<&str> = opts.calibration.iter().map(String::as_str).collect();
    let mut rows = Vec::new();
    for &scheme in &opts.schemes {
        memory::release_freed_memory();
        let reset = memory::reset_peak();
        let model = Model::from_source(source, scheme, &calibration)?;
        let d = model
            .decoder()
            .ok_or_else(|| Error::input(&file, "the decoder benchmark needs a decoder model"))?;
        check_sizes(opts, d.decoder.config.context_length)?;
        let (weight_bytes, _) = model.linear_weight_stats();
        let head_bytes = d.decoder.head_bytes();
        let mut measured = Vec::new();
        for &threads in &opts.threads {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
            pool.install(|| -> Result<()> {
                for &n in &opts.prompt_tokens {
                    measured.push((threads, format!("pp{n}"), repeat(opts.seconds, || prefill(d, n))?));
                }
                for &n in &opts.gen_tokens {
                    measured.push((threads, format!("tg{n}"), repeat(opts.seconds, || generate(d, n, 1))?));
                }
                if opts.sequences > 1 {
                    if let Some(&n) = opts.gen_tokens.first() {
                        let s = opts.sequences;
                        measured.push((
                            threads,
                            format!("batch{s}-tg{n}"),
                            repeat(opts.seconds, || generate(d, n, s))?,
                        ));
                    }
                }
                Ok(())
            })?;
        }
        let peak = memory::peak_resident_bytes();
        for (threads, test, rate) in measured {
            rows.push(DecoderBenchRow {
                file: file.clone(),
                scheme: scheme.to_string(),
                threads,
                test,
                tokens_per_s: rate,
                weight_bytes,
                head_bytes,
                peak_rss_bytes: peak,
                peak_rss_is_process: !reset,
            });
        }
    }
    Ok(rows)
}

/// A terminal table.
pub fn render_decoder(rows: &[DecoderBenchRow], kernels: &str) -> String {
    let mut out = format!(
        "{:<16} {:>7} {:<14} {:>11} {:>10} {:>9} {:>10}\n",
        "scheme", "threads", "test", "tokens/s", "weights MB", "head MB", "peak MiB"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<16} {:>7} {:<14} {:>11.1} {:>10.1} {:>9.1} {:>10}\n",
            r.scheme,
            r.threads,
            r.test,
            r.tokens_per_s,
            r.weight_bytes as f64 / 1e6,
            r.head_bytes as f64 / 1e6,
            r.peak_rss_bytes
                .map_or("-".into(), |b| format!("{:.1}", b as f64 / (1 << 20) as f64)),
        ));
    }
    out.push_str(&format!(
        "kernels: {kernels}; pp N = N-token prompt into an empty cache, tg N = N tokens one at a time, batchS-tg N = S sequences together (all tokens counted)\n"
    ));
    out.push_str(
        "weights MB: the blocks' Linears as the scheme stores them; head MB: the output head (tied embeddings), \
         as stored for native, f16 and the block formats, f32 otherwise; no f32 baseline is run for a decoder\n",
    );
    out
}
