//! How closely a quantized decoder follows its f32 reference on the same token streams: the statistics
//! `llama-perplexity --kl-divergence` prints. Per position (every token after the first of a stream):
//! the KL divergence `KL(P_ref || P)` of the next-token distributions, whether both pick the same top
//! token, and the change `p - p_ref` in the probability of the token that actually comes next; and each
//! model's perplexity on the streams. A position is scored once however many streams share it (the
//! same context and next token): prompts built from one template share their opening, which would
//! otherwise count once per prompt and weigh on every statistic (16 prompts made the shared opening's
//! largest KL the 99th percentile).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::decoding::{argmax, log_sum_exp, DecoderModel};
use crate::error::{Error, Result};

/// Fidelity of a decoder to a reference.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenFidelity {
    /// Scored positions.
    pub positions: usize,
    /// Positions not scored again: the same context and next token as an earlier stream's.
    #[serde(default)]
    pub repeated: usize,
    pub mean_kl: f64,
    /// Standard error of the mean KL divergence.
    pub mean_kl_stderr: f64,
    pub kl_median: f64,
    pub kl_p90: f64,
    pub kl_p99: f64,
    pub kl_max: f64,
    /// Share of positions where both models' most likely next token is the same.
    pub same_top1: f64,
    /// Mean and RMS of `p(next) - p_ref(next)` (the next token of the stream).
    pub mean_delta_p: f64,
    pub rms_delta_p: f64,
    pub perplexity: f64,
    pub perplexity_reference: f64,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Compares `model` with `reference` on token streams (each at least two tokens).
pub fn token_fidelity(reference: &DecoderModel, model: &DecoderModel, streams: &[Vec<u32>]) -> Result<TokenFidelity> {
    let mut kls = Vec::new();
    let (mut same, mut dp_sum, mut dp_sq, mut nll, mut nll_ref) = (0usize, 0.0, 0.0, 0.0, 0.0);
    // Each position's context and next token, `s[..pos + 2]`, scored so far.
    let mut scored: HashSet<&[u32]> = HashSet::new();
    let mut repeated = 0;
    for s in streams.iter().filter(|s| s.len() >= 2) {
        let feed = &s[..s.len() - 1];
        let r = reference.sequence_logits(feed)?;
        let m = model.sequence_logits(feed)?;
        if r.cols != m.cols {
            return Err(Error::Internal("fidelity: the models' vocabularies differ".into()));
        }
        for pos in 0..feed.len() {
            if !scored.insert(&s[..pos + 2]) {
                repeated += 1;
                continue;
            }
            let (rr, mr) = (r.row(pos), m.row(pos));
            let (lr, lm) = (log_sum_exp(rr), log_sum_exp(mr));
            let mut kl = 0.0;
            for (&a, &b) in rr.iter().zip(mr) {
                let lpa = a as f64 - lr;
                let pa = lpa.exp();
                if pa > 0.0 {
                    kl += pa * (lpa - (b as f64 - lm));
                }
            }
            kls.push(kl.max(0.0));
            if argmax(rr) == argmax(mr) {
                same += 1;
            }
            let next = s[pos + 1] as usize;
            let (lp_ref, lp) = (rr[next] as f64 - lr, mr[next] as f64 - lm);
            let dp = lp.exp() - lp_ref.exp();
            dp_sum += dp;
            dp_sq += dp * dp;
            nll -= lp;
            nll_ref -= lp_ref;
        }
    }
    let n = kls.len();
    if n == 0 {
        return Ok(TokenFidelity::default());
    }
    let nf = n as f64;
    let mean = kls.iter().sum::<f64>() / nf;
    let var = kls.iter().map(|k| (k - mean).powi(2)).sum::<f64>() / (nf - 1.0).max(1.0);
    let mut sorted = kls.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(TokenFidelity {
        positions: n,
        repeated,
        mean_kl: mean,
        mean_kl_stderr: (var / nf).sqrt(),
        kl_median: percentile(&sorted, 0.5),
        kl_p90: percentile(&sorted, 0.9),
        kl_p99: percentile(&sorted, 0.99),
        kl_max: sorted[n - 1],
        same_top1: same as f64 / nf,
        mean_delta_p: dp_sum / nf,
        rms_delta_p: (dp_sq / nf).sqrt(),
        perplexity: (nll / nf).exp(),
        perplexity_reference: (nll_ref / nf).exp(),
    })
}
