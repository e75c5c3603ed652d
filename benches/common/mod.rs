//! Timing helpers the benchmarks share.

use std::time::{Duration, Instant};

/// Seconds of CPU time the process has used (wall-clock seconds where that cannot be read).
pub fn cpu_seconds(wall: Instant) -> f64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: ts is a valid timespec to write; CLOCK_PROCESS_CPUTIME_ID is supported on Linux.
        if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    wall.elapsed().as_secs_f64()
}

/// Products per CPU second of `f`, run for at least `seconds` of wall time after one warm-up call.
pub fn per_second(seconds: f64, mut f: impl FnMut()) -> f64 {
    f();
    let wall = Instant::now();
    let (start, mut n) = (cpu_seconds(wall), 0u64);
    while wall.elapsed() < Duration::from_secs_f64(seconds) {
        f();
        n += 1;
    }
    n as f64 / (cpu_seconds(wall) - start)
}

pub fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The run's settings: seconds per measurement (`SHAKEDOWN_BENCH_SECONDS`, 1 by default) and a thread
/// pool of `SHAKEDOWN_BENCH_THREADS` threads (1 by default).
pub fn settings() -> (f64, usize, rayon::ThreadPool) {
    let seconds: f64 = env("SHAKEDOWN_BENCH_SECONDS", 1.0);
    let threads: usize = env("SHAKEDOWN_BENCH_THREADS", 1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    (seconds, threads, pool)
}
