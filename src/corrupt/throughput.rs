//! Corruption throughput: MB of input text a family corrupts per second on one thread, including the
//! per-variant seeded RNG (as a run makes them), excluding the CER/WER measurement.

use std::time::{Duration, Instant};

use super::{variant_rng, Corruptor, Severity};
use crate::error::{Error, Result};

/// One family's measured speed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Throughput {
    pub family: String,
    pub severity: u8,
    pub mb_per_s: f64,
    pub bytes: usize,
    pub seconds: f64,
    pub threads: usize,
}

/// Corrupts `texts` over and over on the calling thread for at least `seconds` (and one full pass).
pub fn measure(
    family: &dyn Corruptor,
    texts: &[(String, String)],
    severity: Severity,
    seconds: f64,
) -> Result<Throughput> {
    let budget = Duration::try_from_secs_f64(seconds.max(0.0))
        .map_err(|_| Error::input("seconds", format!("{seconds}: expected a number of seconds")))?;
    let start = Instant::now();
    let mut bytes = 0usize;
    let mut pass = 0u64;
    let mut sink = 0usize;
    loop {
        for (id, text) in texts {
            // A new seed per pass so that repeated passes do not replay identical work.
            let mut rng = variant_rng(pass, id, family.family(), severity);
            sink = sink.wrapping_add(family.corrupt(text, severity, &mut rng)?.text.len());
            bytes += text.len();
        }
        pass += 1;
        if start.elapsed() >= budget || texts.is_empty() {
            break;
        }
    }
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    std::hint::black_box(sink);
    Ok(Throughput {
        family: family.family().to_string(),
        severity: severity.level(),
        mb_per_s: bytes as f64 / 1e6 / elapsed,
        bytes,
        seconds: elapsed,
        threads: 1,
    })
}
