//! Severity calibration: the noise level each family achieves per severity over a set of texts, in the
//! family's own measure, beside the level it aims at.

use rayon::prelude::*;

use super::normalise::normalise;
use super::{coverage, measure, variant_rng, Corruptor, Measure, Severity};
use crate::error::Result;

/// Target and achieved noise of one family at one severity.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Level {
    pub severity: u8,
    pub measure: &'static str,
    pub target: Option<f64>,
    pub achieved: f64,
    pub mean_cer: f64,
    pub mean_wer: f64,
    /// Texts measured (for `replaced fraction`: texts with at least one replaceable term).
    pub texts: usize,
    /// Share of all the texts the family changed at all.
    pub changed: f64,
    /// Set when `changed` is low at the coverage severity (`coverage::warning`).
    pub low_coverage: Option<String>,
}

impl Level {
    /// |achieved - target| / target, when there is a target.
    pub fn relative_error(&self) -> Option<f64> {
        self.target.filter(|t| *t > 0.0).map(|t| (self.achieved - t).abs() / t)
    }
}

/// Corrupts every `(id, text)` with `family` at each severity (seeded as a run would) and measures it.
pub fn calibrate(family: &dyn Corruptor, texts: &[(String, String)], seed: u64) -> Result<Vec<Level>> {
    let target = family.target();
    let measure = target.map(|t| t.measure).unwrap_or(Measure::Cer);
    let normalised: Vec<String> = texts.par_iter().map(|(_, t)| normalise(t)).collect();
    Severity::all()
        .iter()
        .map(|&sev| {
            let outs: Vec<(f64, f64, usize, usize, bool)> = texts
                .par_iter()
                .zip(&normalised)
                .map(|((id, text), norm)| {
                    let mut rng = variant_rng(seed, id, family.family(), sev);
                    let c = family.corrupt(text, sev, &mut rng)?;
                    Ok((
                        measure::cer(text, &c.text),
                        measure::wer_normalised(norm, &c.text),
                        c.applied,
                        c.opportunities,
                        c.text != *text,
                    ))
                })
                .collect::<Result<_>>()?;
            let n = outs.len().max(1) as f64;
            let mean_cer = outs.iter().map(|o| o.0).sum::<f64>() / n;
            let mean_wer = outs.iter().map(|o| o.1).sum::<f64>() / n;
            let (achieved, measured) = match measure {
                Measure::Cer => (mean_cer, outs.len()),
                Measure::Wer => (mean_wer, outs.len()),
                Measure::ErrorsPerSentence => (outs.iter().map(|o| o.2 as f64).sum::<f64>() / n, outs.len()),
                Measure::Replaced => {
                    let applied: usize = outs.iter().map(|o| o.2).sum();
                    let possible: usize = outs.iter().map(|o| o.3).sum();
                    (
                        applied as f64 / possible.max(1) as f64,
                        outs.iter().filter(|o| o.3 > 0).count(),
                    )
                }
            };
            let changed = outs.iter().filter(|o| o.4).count() as f64 / n;
            Ok(Level {
                low_coverage: (sev.level() == coverage::COVERAGE_SEVERITY)
                    .then(|| coverage::warning(family.family(), "3", changed, outs.len()))
                    .flatten(),
                changed,
                severity: sev.level(),
                measure: measure.name(),
                target: target.map(|t| t.levels[sev.index()]),
                achieved,
                mean_cer,
                mean_wer,
                texts: measured,
            })
        })
        .collect()
}
