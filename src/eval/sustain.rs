//! Sustained throughput: a scheme runs continuously for a duration; per window we record items/s,
//! tokens/s, latency percentiles, and CPU temperature and frequency when the machine exposes them
//! (recorded as missing, never invented, when it does not). For generating tasks each window also
//! has the generated tokens/s and, per request, the time to its first token and to its last (what a
//! user of a device waits for), as p50 and p95.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::analysis::results::CLEAN;
use crate::error::{Error, Result};
use crate::eval::VariantItem;
use crate::progress::Phase;
use crate::suite::SustainConfig;
use crate::task::{Output, Task};

/// One window of one scheme's sustained run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub scheme: String,
    pub window: u32,
    /// Seconds since the measured phase began, at the window's end.
    pub t_end_s: f64,
    pub items: u64,
    pub tokens: u64,
    pub items_per_s: f64,
    pub tokens_per_s: f64,
    /// Latency of one engine call (one batch), in milliseconds.
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
    pub cpu_temp_c: Option<f64>,
    pub cpu_freq_mhz: Option<f64>,
    pub rss_bytes: Option<u64>,
    /// Generating tasks: generated tokens per second (None for tasks that generate nothing).
    #[serde(default)]
    pub generated_tokens_per_s: Option<f64>,
    /// Generating tasks: time to first token per request, from the start of its engine call.
    #[serde(default)]
    pub ttft_p50_ms: Option<f64>,
    #[serde(default)]
    pub ttft_p95_ms: Option<f64>,
    /// Generating tasks: time to the last token per request (end-to-end latency).
    #[serde(default)]
    pub request_p50_ms: Option<f64>,
    #[serde(default)]
    pub request_p95_ms: Option<f64>,
}

/// What one engine call processed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Call {
    pub items: u64,
    /// Tokens the model read.
    pub tokens: u64,
    /// Generating tasks: tokens generated, and per request the time to its first and last token.
    pub generated: Option<Generated>,
}

/// The generation side of one engine call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Generated {
    pub tokens: u64,
    pub ttft_ms: Vec<f64>,
    pub request_ms: Vec<f64>,
}

impl Call {
    /// The call's figures from the task's outputs (`tokens` read).
    pub fn from_outputs(outputs: &[Output], tokens: u64) -> Call {
        let mut generated: Option<Generated> = None;
        for o in outputs {
            if let Output::Text {
                tokens: n,
                ttft_ms,
                elapsed_ms,
                ..
            } = o
            {
                let g = generated.get_or_insert_with(Generated::default);
                g.tokens += *n as u64;
                g.ttft_ms.push(*ttft_ms);
                g.request_ms.push(*elapsed_ms);
            }
        }
        Call {
            items: outputs.len() as u64,
            tokens,
            generated,
        }
    }
}

/// A scheme's throughput curve reduced to the figures a reader compares.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThroughputSummary {
    pub scheme: String,
    pub windows: usize,
    /// Items/s of the first window.
    pub burst_items_per_s: f64,
    /// Median items/s of the last third of the windows.
    pub sustained_items_per_s: f64,
    pub sustained_tokens_per_s: f64,
    /// Slowest window / fastest window (1 = perfectly steady).
    pub stability: f64,
    /// Stability below `NOISY_STABILITY`: the machine was busy or throttling, and the figures of
    /// this scheme (and comparisons with it) are less trustworthy.
    #[serde(default)]
    pub noisy: bool,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
    /// Largest resident set size seen in the scheme's windows.
    pub peak_rss_bytes: Option<u64>,
    /// Generating tasks: medians over the last third of the windows of the generated tokens/s,
    /// the time to first token (p50, p95) and the request latency (p95).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sustained_generated_tokens_per_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_p95_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_p95_ms: Option<f64>,
}

/// Below this stability (slowest window / fastest), a scheme's throughput is flagged as noisy: its
/// windows differ by more than a fifth, more than a quiet machine shows.
pub const NOISY_STABILITY: f64 = 0.8;

/// Runs one scheme's task continuously over a deterministic mix of clean and corrupted inputs
/// (`corrupted_fraction` of them corrupted, in a fixed order) on `threads` threads (`cfg.threads`
/// when set). `phase` advances once per window.
pub fn sustain_task(
    task: &dyn Task,
    scheme: &str,
    cfg: &SustainConfig,
    variants: &[VariantItem],
    run_threads: usize,
    phase: &dyn Phase,
) -> Result<Vec<Window>> {
    let clean: Vec<&str> = variants
        .iter()
        .filter(|v| v.family == CLEAN)
        .map(|v| v.text.as_str())
        .collect();
    let corrupted: Vec<&str> = variants
        .iter()
        .filter(|v| v.family != CLEAN)
        .map(|v| v.text.as_str())
        .collect();
    // Every k-th input corrupted, the rest clean, in a fixed order.
    let mix: Vec<&str> = (0..clean.len().max(1) * 2)
        .filter_map(|i| {
            let corrupt = !corrupted.is_empty()
                && ((i as f64 + 0.5) * cfg.corrupted_fraction).floor()
                    > ((i as f64 - 0.5) * cfg.corrupted_fraction).floor();
            if corrupt {
                corrupted.get(i % corrupted.len())
            } else {
                clean.get(i % clean.len().max(1))
            }
            .copied()
        })
        .collect();
    if mix.is_empty() {
        return Ok(Vec::new());
    }
    let threads = if cfg.threads == 0 { run_threads } else { cfg.threads };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::Internal(format!("sustain thread pool: {e}")))?;
    let tokens: Vec<u64> = mix.iter().map(|t| task.count_tokens(&[t])).collect::<Result<_>>()?;
    pool.install(|| {
        measure(scheme, cfg, phase, |call| {
            let picks: Vec<usize> = (0..cfg.batch).map(|j| (call * cfg.batch + j) % mix.len()).collect();
            let batch: Vec<&str> = picks.iter().map(|&i| mix[i]).collect();
            let outputs = task.infer(&batch)?;
            Ok(Call::from_outputs(&outputs, picks.iter().map(|&i| tokens[i]).sum()))
        })
    })
}

/// The number of windows `cfg` measures when every call is shorter than a window (at most; see
/// `measure`).
pub fn window_count(cfg: &SustainConfig) -> u32 {
    windows_for(cfg.duration_s, cfg.window_s)
}

/// Fewest windows a phase is cut into when calls outlast the configured window: the summary's
/// sustained figure is the median of the last third.
const MIN_WINDOWS: u32 = 3;

/// Windows of `window_s` in `duration_s` (at least one).
fn windows_for(duration_s: f64, window_s: f64) -> u32 {
    (duration_s / window_s).round().max(1.0) as u32
}

/// Runs `work` (which processes one batch) continuously and records windows of `cfg.window_s`
/// during `cfg.duration_s`. Every window holds at least one call; when calls take longer than a
/// window (a decoder generating for a batch takes seconds), the windows lengthen to the mean call
/// time and fewer of them (at least `MIN_WINDOWS`) are measured, so the phase lasts about
/// `duration_s` instead of one slow call per configured window.
pub fn measure(
    scheme: &str,
    cfg: &SustainConfig,
    phase: &dyn Phase,
    mut work: impl FnMut(usize) -> Result<Call>,
) -> Result<Vec<Window>> {
    let warm_end = Instant::now() + Duration::from_secs_f64(cfg.warmup_s);
    let mut call = 0usize;
    let (mut timed_calls, mut timed_s) = (0u32, 0.0f64);
    while Instant::now() < warm_end {
        let t0 = Instant::now();
        work(call)?;
        timed_calls += 1;
        timed_s += t0.elapsed().as_secs_f64();
        call += 1;
    }
    let mut window_s = cfg.window_s;
    let mut windows = window_count(cfg);
    let adapt = |timed_calls: u32, timed_s: f64, window_s: &mut f64, windows: &mut u32, done: u32| {
        let mean = timed_s / f64::from(timed_calls.max(1));
        if timed_calls > 0 && mean > *window_s {
            *window_s = mean;
            let fit = windows_for(cfg.duration_s, mean).max(MIN_WINDOWS);
            *windows = (*windows).min(fit).max(done);
        }
    };
    adapt(timed_calls, timed_s, &mut window_s, &mut windows, 0);
    let start = Instant::now();
    let mut out = Vec::with_capacity(windows as usize);
    let mut w = 0u32;
    while w < windows {
        let opened = Instant::now();
        let end = opened + Duration::from_secs_f64(window_s);
        let (mut items, mut tokens) = (0u64, 0u64);
        let mut latencies = Vec::new();
        let mut generated: Option<Generated> = None;
        // At least one call per window, so a slow scheme still yields a measurement.
        loop {
            let t0 = Instant::now();
            let c = work(call)?;
            let took = t0.elapsed().as_secs_f64();
            latencies.push(took * 1e3);
            timed_calls += 1;
            timed_s += took;
            call += 1;
            items += c.items;
            tokens += c.tokens;
            if let Some(g) = c.generated {
                let all = generated.get_or_insert_with(Generated::default);
                all.tokens += g.tokens;
                all.ttft_ms.extend(g.ttft_ms);
                all.request_ms.extend(g.request_ms);
            }
            // The window closes when another call would end nearer past its end than this one did
            // before it: windows as long as one call (a decoder's batch) took two calls each, and the
            // phase twice the time asked for.
            let mean = timed_s / f64::from(timed_calls.max(1));
            if Instant::now() + Duration::from_secs_f64(mean / 2.0) >= end {
                break;
            }
        }
        let secs = opened.elapsed().as_secs_f64().max(1e-9);
        latencies.sort_by(f64::total_cmp);
        if let Some(g) = generated.as_mut() {
            g.ttft_ms.sort_by(f64::total_cmp);
            g.request_ms.sort_by(f64::total_cmp);
        }
        let gen = generated.as_ref();
        out.push(Window {
            scheme: scheme.into(),
            window: w,
            t_end_s: start.elapsed().as_secs_f64(),
            items,
            tokens,
            items_per_s: items as f64 / secs,
            tokens_per_s: tokens as f64 / secs,
            latency_p50_ms: percentile(&latencies, 0.50),
            latency_p95_ms: percentile(&latencies, 0.95),
            latency_p99_ms: percentile(&latencies, 0.99),
            cpu_temp_c: cpu_temperature_c(),
            cpu_freq_mhz: cpu_frequency_mhz(),
            rss_bytes: crate::memory::resident_bytes(),
            generated_tokens_per_s: gen.map(|g| g.tokens as f64 / secs),
            ttft_p50_ms: gen.map(|g| percentile(&g.ttft_ms, 0.50)),
            ttft_p95_ms: gen.map(|g| percentile(&g.ttft_ms, 0.95)),
            request_p50_ms: gen.map(|g| percentile(&g.request_ms, 0.50)),
            request_p95_ms: gen.map(|g| percentile(&g.request_ms, 0.95)),
        });
        phase.advance(1);
        w += 1;
        adapt(timed_calls, timed_s, &mut window_s, &mut windows, w);
    }
    Ok(out)
}

/// Nearest-rank percentile of sorted values (0 for none).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Reduces one scheme's windows.
pub fn summarize(scheme: &str, windows: &[Window]) -> ThroughputSummary {
    let mine: Vec<&Window> = windows.iter().filter(|w| w.scheme == scheme).collect();
    if mine.is_empty() {
        return ThroughputSummary {
            scheme: scheme.into(),
            ..Default::default()
        };
    }
    let tail = &mine[mine.len() - mine.len().div_ceil(3)..];
    let median = |f: &dyn Fn(&Window) -> f64| {
        let mut v: Vec<f64> = tail.iter().map(|w| f(w)).collect();
        v.sort_by(f64::total_cmp);
        v[(v.len() - 1) / 2]
    };
    // Generation figures exist in every window of a generating task, in none of the others.
    let generating = tail.iter().all(|w| w.generated_tokens_per_s.is_some());
    let median_of = |f: &dyn Fn(&Window) -> Option<f64>| generating.then(|| median(&|w| f(w).unwrap_or(0.0)));
    let rates: Vec<f64> = mine.iter().map(|w| w.items_per_s).collect();
    let (lo, hi) = rates
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &r| (a.min(r), b.max(r)));
    ThroughputSummary {
        scheme: scheme.into(),
        windows: mine.len(),
        burst_items_per_s: mine[0].items_per_s,
        sustained_items_per_s: median(&|w| w.items_per_s),
        sustained_tokens_per_s: median(&|w| w.tokens_per_s),
        stability: if hi > 0.0 { lo / hi } else { 0.0 },
        noisy: hi > 0.0 && lo / hi < NOISY_STABILITY,
        latency_p50_ms: median(&|w| w.latency_p50_ms),
        latency_p95_ms: median(&|w| w.latency_p95_ms),
        latency_p99_ms: median(&|w| w.latency_p99_ms),
        peak_rss_bytes: mine.iter().filter_map(|w| w.rss_bytes).max(),
        sustained_generated_tokens_per_s: median_of(&|w| w.generated_tokens_per_s),
        ttft_p50_ms: median_of(&|w| w.ttft_p50_ms),
        ttft_p95_ms: median_of(&|w| w.ttft_p95_ms),
        request_p95_ms: median_of(&|w| w.request_p95_ms),
    }
}

/// Highest CPU-ish thermal zone temperature, if `/sys/class/thermal` has any zone.
fn cpu_temperature_c() -> Option<f64> {
    let dir = std::fs::read_dir("/sys/class/thermal").ok()?;
    dir.filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("thermal_zone"))
        .filter_map(|e| std::fs::read_to_string(e.path().join("temp")).ok())
        .filter_map(|s| s.trim().parse::<f64>().ok())
        .map(|milli| milli / 1000.0)
        .reduce(f64::max)
}

/// Mean current frequency over the CPUs that expose cpufreq.
fn cpu_frequency_mhz() -> Option<f64> {
    let dir = std::fs::read_dir("/sys/devices/system/cpu").ok()?;
    let khz: Vec<f64> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("cpufreq/scaling_cur_freq")).ok())
        .filter_map(|s| s.trim().parse::<f64>().ok())
        .collect();
    (!khz.is_empty()).then(|| khz.iter().sum::<f64>() / khz.len() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[3.0], 0.95), 3.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn summary_takes_burst_first_and_sustained_from_the_last_third() {
        let rates = [100.0, 90.0, 80.0, 70.0, 60.0, 50.0];
        let windows: Vec<Window> = rates
            .iter()
            .enumerate()
            .map(|(i, &r)| Window {
                scheme: "f32".into(),
                window: i as u32,
                items_per_s: r,
                ..Default::default()
            })
            .collect();
        let s = summarize("f32", &windows);
        assert_eq!(s.burst_items_per_s, 100.0);
        assert_eq!(
            s.sustained_items_per_s, 50.0,
            "median of the last two windows (60, 50), lower middle"
        );
        assert!((s.stability - 0.5).abs() < 1e-12);
        assert!(s.noisy, "windows from 100 down to 50 items/s");
    }

    #[test]
    fn measure_records_every_window_and_counts_items() {
        let cfg = SustainConfig {
            duration_s: 0.2,
            window_s: 0.05,
            warmup_s: 0.0,
            ..Default::default()
        };
        let phase = crate::progress::Progress::start(&crate::progress::Silent, "x", None);
        let call = |_| {
            Ok(Call {
                items: 2,
                tokens: 10,
                generated: None,
            })
        };
        let windows = measure("x", &cfg, phase.as_ref(), call).unwrap();
        assert_eq!(windows.len(), 4);
        assert!(windows.iter().all(|w| w.items >= 2 && w.tokens == w.items * 5));
        assert!(windows
            .iter()
            .all(|w| w.generated_tokens_per_s.is_none() && w.ttft_p95_ms.is_none()));
        assert_eq!(summarize("x", &windows).ttft_p50_ms, None);
    }

    #[test]
    fn calls_slower_than_a_window_lengthen_the_windows_instead_of_the_phase() {
        // 40 windows of 5 ms asked for 0.2 s; each call takes at least 30 ms: about 7 windows of one
        // call's length, not 40 windows of one call each (at least 1.2 s).
        let cfg = SustainConfig {
            duration_s: 0.2,
            window_s: 0.005,
            warmup_s: 0.0,
            ..Default::default()
        };
        let phase = crate::progress::Progress::start(&crate::progress::Silent, "x", None);
        let slow = |_| {
            std::thread::sleep(Duration::from_millis(30));
            Ok(Call {
                items: 1,
                tokens: 1,
                generated: None,
            })
        };
        let windows = measure("x", &cfg, phase.as_ref(), slow).unwrap();
        assert!(
            (MIN_WINDOWS as usize..=8).contains(&windows.len()),
            "{} windows",
            windows.len()
        );
    }

    /// Windows lengthened to one call's mean took a second call whenever the first ended a little
    /// early (a decoder's batches vary), doubling the phase: a window now closes when another call
    /// would overrun its end by more than half a call.
    #[test]
    fn windows_of_one_call_hold_one_call() {
        let cfg = SustainConfig {
            duration_s: 0.3,
            window_s: 0.001,
            warmup_s: 0.1,
            ..Default::default()
        };
        let phase = crate::progress::Progress::start(&crate::progress::Silent, "x", None);
        let mut n = 0u64;
        let uneven = |_| {
            n += 1;
            std::thread::sleep(Duration::from_millis(if n.is_multiple_of(2) { 20 } else { 40 }));
            Ok(Call {
                items: 1,
                tokens: 1,
                generated: None,
            })
        };
        let windows = measure("x", &cfg, phase.as_ref(), uneven).unwrap();
        assert!(
            windows.iter().all(|w| w.items == 1),
            "{:?}",
            windows.iter().map(|w| w.items).collect::<Vec<_>>()
        );
    }

    #[test]
    fn generating_calls_give_token_rates_and_first_token_times_per_request() {
        let text = |tokens, ttft_ms, elapsed_ms| Output::Text {
            text: "x".into(),
            tokens,
            ttft_ms,
            elapsed_ms,
            cut_off: false,
        };
        let call = Call::from_outputs(&[text(4, 10.0, 50.0), text(6, 12.0, 70.0)], 30);
        assert_eq!((call.items, call.tokens), (2, 30));
        let g = call.generated.clone().unwrap();
        assert_eq!(
            (g.tokens, g.ttft_ms, g.request_ms),
            (10, vec![10.0, 12.0], vec![50.0, 70.0])
        );
        let cfg = SustainConfig {
            duration_s: 0.1,
            window_s: 0.05,
            warmup_s: 0.0,
            ..Default::default()
        };
        let phase = crate::progress::Progress::start(&crate::progress::Silent, "x", None);
        let windows = measure("x", &cfg, phase.as_ref(), |_| Ok(call.clone())).unwrap();
        for w in &windows {
            assert_eq!((w.ttft_p50_ms, w.ttft_p95_ms), (Some(10.0), Some(12.0)), "{w:?}");
            assert_eq!((w.request_p50_ms, w.request_p95_ms), (Some(50.0), Some(70.0)));
            assert!(w.generated_tokens_per_s.unwrap() > 0.0);
        }
        let s = summarize("x", &windows);
        assert_eq!(
            (s.ttft_p50_ms, s.ttft_p95_ms, s.request_p95_ms),
            (Some(10.0), Some(12.0), Some(70.0))
        );
        assert!(s.sustained_generated_tokens_per_s.unwrap() > 0.0);
    }

    #[test]
    fn bad_config_names_the_field() {
        let cfg = SustainConfig {
            window_s: 0.0,
            ..Default::default()
        };
        assert!(cfg
            .validate("s.toml")
            .unwrap_err()
            .to_string()
            .contains("sustain.window_s"));
    }
}
