//! Statistics for trustworthy comparisons: Wilson intervals for proportions, Newcombe's interval for
//! paired differences of proportions, a seeded bootstrap for other means and differences, and
//! McNemar's exact test for paired classifiers.

use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Uniform};

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// 95% Wilson score interval of a proportion `k / n` (Wilson, 1927), as fractions in [0, 1].
/// `(0, 1)` when `n == 0`.
pub fn wilson(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    wilson_effective(k as f64 / n as f64, n as f64)
}

/// Wilson's interval of a proportion `p` observed on an effective sample of `n` independent draws, which
/// need not be whole: a proportion over rows that come in clusters (an example's severities pooled) is
/// judged on as many draws as it has clusters (`clustered_scale`). `(0, 1)` when `n` is not positive.
pub fn wilson_effective(p: f64, n: f64) -> (f64, f64) {
    if n <= 0.0 {
        return (0.0, 1.0);
    }
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The weight that turns counts over `rows` rows in `clusters` clusters into counts over effective
/// independent draws: `clusters / rows`. The rows of one cluster (an example's variants at several
/// severities) are taken as one draw, the conservative end of Kish's design effect (1965: a cluster
/// of `m` rows counts as `m / (1 + (m - 1) rho)` independent draws, one with `rho = 1`). 1 when each row
/// is its own cluster.
pub fn clustered_scale(clusters: usize, rows: usize) -> f64 {
    if rows == 0 {
        1.0
    } else {
        clusters as f64 / rows as f64
    }
}

/// 95% interval of the difference `p1 - p2` of two proportions measured on the same `n` inputs, each
/// pair `(first right, second right)`: Newcombe's (1998, "Improved confidence intervals for the
/// difference between binomial proportions based on paired data", Statistics in Medicine 17) method 10,
/// which combines the two proportions' Wilson intervals with the pairs' correlation (phi). Fractions in [-1, 1]; `(0, 0)` for no pairs.
///
/// Why not the percentile bootstrap: when every pair agrees (no input changed its answer) every
/// resample has the same mean and the bootstrap interval collapses to a point, claiming certainty from
/// two inputs as from two thousand; this interval keeps the width the sample size leaves (about +-66
/// points on 2 concordant pairs, +-1.9 on 200).
pub fn newcombe_paired(pairs: &[(bool, bool)]) -> (f64, f64) {
    newcombe_weighted(pairs, 1.0)
}

/// `newcombe_paired` with every pair counted `weight` times (`clustered_scale`: pairs in clusters
/// count as their clusters). A percentile bootstrap over clusters is no remedy for the collapse above:
/// with one discordant pair among 200 examples it gave [0, 0.5] points where no discordant pair gave
/// the rule of three's [-1.5, 1.5], less evidence reading as a surer figure.
pub fn newcombe_weighted(pairs: &[(bool, bool)], weight: f64) -> (f64, f64) {
    if pairs.is_empty() || weight <= 0.0 {
        return (0.0, 0.0);
    }
    let count = |f: &dyn Fn(&(bool, bool)) -> bool| weight * pairs.iter().filter(|p| f(p)).count() as f64;
    let (a, b) = (count(&|p| p.0 && p.1), count(&|p| p.0 && !p.1));
    let (c, d) = (count(&|p| !p.0 && p.1), count(&|p| !p.0 && !p.1));
    let n = a + b + c + d;
    let (p1, p2) = ((a + b) / n, (a + c) / n);
    let ((l1, u1), (l2, u2)) = (wilson_effective(p1, n), wilson_effective(p2, n));
    // The pairs' correlation, its positive part continuity-corrected by n/2 as Newcombe's method 10
    // specifies (a positive association narrows the interval; the correction keeps that conservative).
    let margins = ((a + b) * (c + d)) * ((a + c) * (b + d));
    let cross = a * d - b * c;
    let corrected = match cross {
        x if x > n / 2.0 => x - n / 2.0,
        x if x < 0.0 => x,
        _ => 0.0,
    };
    let phi = if margins > 0.0 { corrected / margins.sqrt() } else { 0.0 };
    let delta = p1 - p2;
    let lower = ((p1 - l1).powi(2) - 2.0 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2).powi(2)).max(0.0);
    let upper = ((u1 - p1).powi(2) - 2.0 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2).powi(2)).max(0.0);
    ((delta - lower.sqrt()).max(-1.0), (delta + upper.sqrt()).min(1.0))
}

/// 95% interval of the difference `d1 - d2` of two estimates with 95% intervals `i1`, `i2` and
/// correlation `r`, by recovering each one's variance from its own interval (MOVER: Zou & Donner 2008,
/// "Construction of confidence limits about effect measures: a general approach", Statistics in
/// Medicine 27; Newcombe 2011). Used for the extra drop (a scheme's paired drop minus the reference's
/// on the same examples), whose two drops have Newcombe's intervals: a percentile bootstrap of the
/// difference read four examples that only the scheme lost as a sure loss, where the sign test says
/// p = 0.125.
pub fn mover_difference(d1: f64, i1: (f64, f64), d2: f64, i2: (f64, f64), r: f64) -> (f64, f64) {
    let r = if r.is_finite() { r.clamp(-1.0, 1.0) } else { 0.0 };
    let (a, b) = (d1 - i1.0, i2.1 - d2);
    let (c, e) = (i1.1 - d1, d2 - i2.0);
    let lower = (a * a + b * b - 2.0 * r * a * b).max(0.0).sqrt();
    let upper = (c * c + e * e - 2.0 * r * c * e).max(0.0).sqrt();
    (d1 - d2 - lower, d1 - d2 + upper)
}

/// Pearson's correlation of paired values; 0 when either side does not vary.
pub fn correlation(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    if pairs.len() < 2 {
        return 0.0;
    }
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Replicates of the paired bootstrap.
pub const BOOTSTRAP_REPLICATES: usize = 1000;

/// 95% percentile interval of the mean of paired differences `a[i] - b[i]` (each 0 or 1, e.g.
/// clean-correct minus corrupted-correct), by resampling examples with a seeded RNG.
/// Returns fractions; `(0, 0)` for no pairs.
pub fn paired_bootstrap(a: &[bool], b: &[bool], seed: u64) -> (f64, f64) {
    let n = a.len().min(b.len());
    let diffs: Vec<f64> = (0..n).map(|i| (a[i] as i32 - b[i] as i32) as f64).collect();
    bootstrap_mean(&diffs, seed)
}

/// 95% percentile interval of the mean of `values` by resampling them with a seeded RNG
/// (`BOOTSTRAP_REPLICATES` replicates). `(0, 0)` for no values.
///
/// The interval is a function of the seed and of the values as a multiset: they are sorted and
/// their bits mixed into the seed before resampling. So one figure computed in two places (a
/// scheme's table and a retrieval deployment's cell, which gather the same queries in different
/// orders) gets one interval, and two cells holding different values never share a draw.
pub fn bootstrap_mean(values: &[f64], seed: u64) -> (f64, f64) {
    let n = values.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut rng = StdRng::seed_from_u64(mix(seed, sorted.iter().map(|v| v.to_bits())));
    // One uniform index distribution, set up once and drawn from n x replicates times.
    let Ok(pick) = Uniform::new(0, n) else {
        return (0.0, 0.0);
    };
    let mut means: Vec<f64> = (0..BOOTSTRAP_REPLICATES)
        .map(|_| (0..n).map(|_| sorted[pick.sample(&mut rng)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * (BOOTSTRAP_REPLICATES - 1) as f64).round() as usize).min(BOOTSTRAP_REPLICATES - 1)];
    (at(0.025), at(0.975))
}

/// The bootstrap seed of one estimate: the run seed and what is estimated (e.g. `recall@1`,
/// `drop/exact_match`), never the table it lands in, so the same estimate agrees across tables.
pub fn estimate_seed(seed: u64, what: &str) -> u64 {
    mix(seed, what.bytes().map(u64::from))
}

/// FNV-1a over 64-bit words, starting from `seed`.
fn mix(seed: u64, words: impl Iterator<Item = u64>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for w in words {
        for b in w.to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// 95% interval of the mean of per-example values in [0, 1]: Wilson's when every value is 0 or 1
/// (a proportion), else the seeded bootstrap. Fractions; `(0, 1)` for no values.
pub fn mean_interval(values: &[f64], seed: u64) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 1.0);
    }
    if values.iter().all(|v| *v == 0.0 || *v == 1.0) {
        wilson(values.iter().filter(|v| **v == 1.0).count(), values.len())
    } else {
        bootstrap_mean(values, seed)
    }
}

/// 95% percentile interval of a mean over rows that come in clusters (the severities of one example
/// pooled into one figure are one input's several variants, not independent draws): the bootstrap
/// resamples clusters and takes each replicate's sum over its rows' count, so the interval reflects the
/// number of examples, not of rows (Davison & Hinkley 1997, section 3.8, resampling the first stage of
/// a two-stage sample). `values` are (cluster, value) pairs in any order. Fractions; `(0, 0)` for none.
pub fn cluster_bootstrap_mean<K: Ord>(values: &[(K, f64)], seed: u64) -> (f64, f64) {
    let mut clusters: std::collections::BTreeMap<&K, (f64, usize)> = std::collections::BTreeMap::new();
    for (k, v) in values {
        let c = clusters.entry(k).or_insert((0.0, 0));
        c.0 += v;
        c.1 += 1;
    }
    // Like `bootstrap_mean`, a function of the clusters as a multiset: sorted, their bits in the seed.
    let mut sums: Vec<(f64, usize)> = clusters.into_values().collect();
    sums.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let n = sums.len();
    let Ok(pick) = Uniform::new(0, n) else {
        return (0.0, 0.0);
    };
    let mut rng = StdRng::seed_from_u64(mix(seed, sums.iter().flat_map(|(s, c)| [s.to_bits(), *c as u64])));
    let mut means: Vec<f64> = (0..BOOTSTRAP_REPLICATES)
        .map(|_| {
            let (mut sum, mut count) = (0.0, 0usize);
            for _ in 0..n {
                let (s, c) = sums[pick.sample(&mut rng)];
                sum += s;
                count += c;
            }
            sum / count as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * (BOOTSTRAP_REPLICATES - 1) as f64).round() as usize).min(BOOTSTRAP_REPLICATES - 1)];
    (at(0.025), at(0.975))
}

/// A bootstrap interval kept at least the rule of three's distance from its estimate `est` on each side
/// (Hanley & Lippman-Hand 1983: with no event in n trials, 3/n bounds the rate at 95 %), n the examples
/// the figure rests on, within `range`. A percentile bootstrap is only as wide as the values it
/// resamples differ: all alike, it collapses to a point whatever the sample size (a rule judged settled
/// passed on two examples), and one differing value among hundreds reads surer than none.
pub fn at_least_rule_of_three(interval: (f64, f64), est: f64, n: usize, range: (f64, f64)) -> (f64, f64) {
    let w = 3.0 / n.max(1) as f64;
    (
        interval.0.min(est - w).max(range.0),
        interval.1.max(est + w).min(range.1),
    )
}

/// 95% interval of the mean of `values`, each keyed by its example (the rows of one example, its
/// severities pooled, are a cluster), as every table of a run reads a figure: Wilson's over as many
/// draws as examples when every value is 0 or 1 (`clustered_scale`), else a seeded bootstrap over
/// examples (over the values themselves when each example has one) kept the rule of three's width at
/// least (`at_least_rule_of_three`). Fractions within `range`; `(0, 0)` for none.
pub fn mean_ci<K: Ord>(values: &[(K, f64)], seed: u64, range: (f64, f64)) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len();
    let examples = values
        .iter()
        .map(|v| &v.0)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mean = values.iter().map(|v| v.1).sum::<f64>() / n as f64;
    if values.iter().all(|v| v.1 == 0.0 || v.1 == 1.0) {
        let k = values.iter().filter(|v| v.1 == 1.0).count();
        return wilson_effective(k as f64 / n as f64, n as f64 * clustered_scale(examples, n));
    }
    let interval = match examples < n {
        true => cluster_bootstrap_mean(values, seed),
        false => bootstrap_mean(&values.iter().map(|v| v.1).collect::<Vec<_>>(), seed),
    };
    at_least_rule_of_three(interval, mean, examples, range)
}

/// 95% interval of the mean paired difference `a - b` over `(example, a, b)`: Newcombe's paired
/// interval, each example's rows weighing one draw, when both sides are 0 or 1; else `mean_ci` of the
/// differences. Fractions in [-1, 1] (values in [0, 1]); `(0, 0)` for none.
pub fn paired_ci<K: Ord>(pairs: &[(K, f64, f64)], seed: u64) -> (f64, f64) {
    if pairs.is_empty() {
        return (0.0, 0.0);
    }
    let flag = |x: f64| (x == 0.0 || x == 1.0).then_some(x == 1.0);
    let flags: Option<Vec<(bool, bool)>> = pairs.iter().map(|(_, a, b)| Some((flag(*a)?, flag(*b)?))).collect();
    match flags {
        Some(f) => {
            let examples = pairs
                .iter()
                .map(|p| &p.0)
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            newcombe_weighted(&f, clustered_scale(examples, pairs.len()))
        }
        None => {
            let d: Vec<(&K, f64)> = pairs.iter().map(|(k, a, b)| (k, a - b)).collect();
            mean_ci(&d, seed, (-1.0, 1.0))
        }
    }
}

/// Two-sided exact McNemar test: `b` pairs where only the first classifier is right, `c` where only
/// the second is. The p-value of a binomial(b + c, 1/2) test; 1 when there are no discordant pairs.
pub fn mcnemar_exact(b: usize, c: usize) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    // P(X <= k) for X ~ Binomial(n, 1/2), summed in log space to stay finite for large n.
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_choose = 0.0f64; // ln C(n, 0)
    let mut tail = 0.0f64;
    for i in 0..=k {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        tail += (ln_choose + ln_half_n).exp();
    }
    (2.0 * tail).min(1.0)
}

/// Two-sided McNemar test for matched pairs that come in clusters (an example's variants at several
/// severities): Durkalski, Palesch, Lipsitz & Rust (2003, "Analysis of clustered matched-pair data",
/// Statistics in Medicine 22). Per cluster, `b` pairs where only the first is right and `c` where only
/// the second is; `X^2 = (sum (b - c))^2 / sum (b - c)^2`, referred to chi-square with one degree of
/// freedom. With one pair per cluster it is McNemar's asymptotic test; counting the rows of a cluster as
/// independent pairs (the exact test on pooled rows) made p too small. 1 when no cluster differs.
pub fn mcnemar_clustered(per_cluster: &[(usize, usize)]) -> f64 {
    let diff = |&(b, c): &(usize, usize)| b as f64 - c as f64;
    let sum: f64 = per_cluster.iter().map(diff).sum();
    let squares: f64 = per_cluster.iter().map(|p| diff(p).powi(2)).sum();
    if squares == 0.0 {
        return 1.0;
    }
    // The chi-square(1) tail of X^2 is the two-sided normal tail of its root.
    libm::erfc((sum * sum / squares / 2.0).sqrt()).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(both: usize, first: usize, second: usize, neither: usize) -> Vec<(bool, bool)> {
        [
            ((true, true), both),
            ((true, false), first),
            ((false, true), second),
            ((false, false), neither),
        ]
        .iter()
        .flat_map(|&(p, k)| std::iter::repeat_n(p, k))
        .collect()
    }

    /// Newcombe's paired interval: wide on two concordant pairs, where the bootstrap collapses to a
    /// point; narrowing with n; near the Wald interval on a large sample; holding the estimate; and
    /// mirrored when the two sides swap.
    #[test]
    fn newcombe_paired_interval_keeps_the_width_the_sample_leaves() {
        let tiny = newcombe_paired(&pairs(2, 0, 0, 0));
        assert!(tiny.0 < -0.5 && tiny.1 > 0.5, "{tiny:?}");
        let (a, b) = (vec![true, true], vec![true, true]);
        assert_eq!(
            paired_bootstrap(&a, &b, 1),
            (0.0, 0.0),
            "the bootstrap's collapse this replaces"
        );
        let big = newcombe_paired(&pairs(150, 0, 0, 50));
        assert!(big.0 < 0.0 && big.1 > 0.0 && big.1 < 0.03, "{big:?}");
        // 1,000 pairs, 60 / 40 discordant: Wald's 0.02 +- 1.96 sqrt(100 - 0.4) / 1000.
        let (lo, hi) = newcombe_paired(&pairs(400, 60, 40, 500));
        let half = Z95 * (100.0f64 - 0.4).sqrt() / 1000.0;
        assert!(
            (lo - (0.02 - half)).abs() < 2e-3 && (hi - (0.02 + half)).abs() < 2e-3,
            "{lo} {hi}"
        );
        for (both, first, second, neither) in [(3, 5, 1, 2), (0, 4, 0, 0), (10, 0, 7, 3), (0, 0, 0, 5)] {
            let p = pairs(both, first, second, neither);
            let n = p.len() as f64;
            let delta = (first as f64 - second as f64) / n;
            let (lo, hi) = newcombe_paired(&p);
            assert!(
                lo <= delta && delta <= hi && lo >= -1.0 && hi <= 1.0,
                "{lo} {delta} {hi}"
            );
            let swapped: Vec<(bool, bool)> = p.iter().map(|&(x, y)| (y, x)).collect();
            let (slo, shi) = newcombe_paired(&swapped);
            assert!((slo + hi).abs() < 1e-12 && (shi + lo).abs() < 1e-12);
        }
        assert_eq!(newcombe_paired(&[]), (0.0, 0.0));
    }

    /// MOVER with Wilson's intervals and no correlation is Newcombe's (1998) hybrid score interval for
    /// two independent proportions: his example (a), 56/70 vs 48/80, method 10, 0.0524 to 0.3339. A
    /// perfect correlation of two equal estimates with equal intervals leaves no width.
    #[test]
    fn mover_recovers_newcombes_hybrid_score_interval() {
        let (p1, p2) = (56.0 / 70.0, 48.0 / 80.0);
        let (lo, hi) = mover_difference(p1, wilson(56, 70), p2, wilson(48, 80), 0.0);
        assert!((lo - 0.0524).abs() < 5e-4 && (hi - 0.3339).abs() < 5e-4, "{lo} {hi}");
        let (lo, hi) = mover_difference(0.5, (0.4, 0.6), 0.5, (0.4, 0.6), 1.0);
        assert!(lo.abs() < 1e-12 && hi.abs() < 1e-12, "{lo} {hi}");
        assert_eq!(correlation(&[(0.0, 1.0), (1.0, 0.0), (2.0, -1.0)]), -1.0);
        assert_eq!(correlation(&[(0.0, 1.0), (0.0, 0.0)]), 0.0, "no variance on one side");
    }

    /// Durkalski's clustered test: one pair per cluster gives McNemar's asymptotic statistic
    /// ((b - c)^2 / (b + c): 10 against 2 is X^2 = 5.33, p = 0.0209); clusters that move together
    /// (each example's three severities all lost) weigh as one pair each, not three.
    #[test]
    fn clustered_mcnemar_counts_clusters_not_rows() {
        let single: Vec<(usize, usize)> = std::iter::repeat_n((1, 0), 10)
            .chain(std::iter::repeat_n((0, 1), 2))
            .collect();
        assert!(
            (mcnemar_clustered(&single) - 0.020_921).abs() < 1e-5,
            "{}",
            mcnemar_clustered(&single)
        );
        let tripled: Vec<(usize, usize)> = single.iter().map(|&(b, c)| (3 * b, 3 * c)).collect();
        assert!((mcnemar_clustered(&tripled) - mcnemar_clustered(&single)).abs() < 1e-12);
        assert!(
            mcnemar_exact(30, 6) < mcnemar_clustered(&tripled),
            "rows as pairs read surer"
        );
        assert_eq!(mcnemar_clustered(&[(1, 1), (0, 0)]), 1.0);
        assert_eq!(mcnemar_clustered(&[]), 1.0);
    }

    #[test]
    fn wilson_matches_published_values() {
        // Newcombe (1998), table I: 81/263 -> 0.2553 to 0.3662.
        let (lo, hi) = wilson(81, 263);
        assert!((lo - 0.2553).abs() < 1e-4 && (hi - 0.3662).abs() < 1e-4, "{lo} {hi}");
        // 0/10 and 10/10 stay inside [0, 1] and are not degenerate.
        let (lo, hi) = wilson(0, 10);
        assert!(lo == 0.0 && (hi - 0.2775).abs() < 1e-3);
        let (lo, hi) = wilson(10, 10);
        assert!((lo - 0.7225).abs() < 1e-3 && (hi - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_cluster_bootstrap_counts_examples_not_rows() {
        // 40 examples, each seen at 5 severities with the same answer: 5 copies of one draw carry no
        // more information than one, so the interval is as wide as the 40 examples' own, not as
        // narrow as 200 independent rows'.
        let per_example: Vec<f64> = (0..40).map(|i| (i % 4 != 0) as u8 as f64).collect();
        let rows: Vec<(usize, f64)> = (0..200).map(|r| (r % 40, per_example[r % 40])).collect();
        let (lo, hi) = cluster_bootstrap_mean(&rows, 7);
        let (lo1, hi1) = bootstrap_mean(&per_example, 7);
        let flat: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let (lo5, hi5) = bootstrap_mean(&flat, 7);
        assert!(lo <= 0.75 && hi >= 0.75);
        assert!((hi - lo) > 1.8 * (hi5 - lo5), "{lo}..{hi} vs rows {lo5}..{hi5}");
        assert!(
            ((hi - lo) - (hi1 - lo1)).abs() < 0.05,
            "{lo}..{hi} vs examples {lo1}..{hi1}"
        );
        // The order of the rows does not reach the interval.
        let mut shuffled = rows.clone();
        shuffled.reverse();
        assert_eq!(cluster_bootstrap_mean(&shuffled, 7), (lo, hi));
        assert_eq!(cluster_bootstrap_mean::<usize>(&[], 7), (0.0, 0.0));
    }

    #[test]
    fn mcnemar_exact_matches_the_binomial_test() {
        // b=10, c=2: 2 * P(X <= 2 | n=12) = 2 * (1 + 12 + 66) / 4096.
        assert!((mcnemar_exact(10, 2) - 2.0 * 79.0 / 4096.0).abs() < 1e-12);
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        assert_eq!(mcnemar_exact(5, 5), 1.0);
        assert!(mcnemar_exact(5000, 4000) < 1e-10);
        assert!(mcnemar_exact(2000, 2000) > 0.99);
    }

    #[test]
    fn bootstrap_interval_brackets_the_difference_and_is_seeded() {
        let a: Vec<bool> = (0..200).map(|_| true).collect();
        let b: Vec<bool> = (0..200).map(|i| i % 5 != 0).collect(); // 20% lost
        let (lo, hi) = paired_bootstrap(&a, &b, 3);
        assert!(lo < 0.2 && hi > 0.2 && lo > 0.1 && hi < 0.3, "{lo} {hi}");
        assert_eq!(paired_bootstrap(&a, &b, 3), (lo, hi));
        let same = paired_bootstrap(&a, &a, 3);
        assert_eq!(same, (0.0, 0.0));
    }

    #[test]
    fn a_bootstrap_depends_on_the_values_not_their_order() {
        let v: Vec<f64> = (0..50).map(|i| (i % 7) as f64 / 6.0).collect();
        let mut r = v.clone();
        r.reverse();
        assert_eq!(bootstrap_mean(&v, 9), bootstrap_mean(&r, 9));
        assert_ne!(bootstrap_mean(&v, 9), bootstrap_mean(&v, 10));
        assert_ne!(estimate_seed(1, "recall@1"), estimate_seed(1, "recall@5"));
    }

    #[test]
    fn mean_interval_is_wilson_for_proportions_and_a_bootstrap_otherwise() {
        let p: Vec<f64> = (0..263).map(|i| if i < 81 { 1.0 } else { 0.0 }).collect();
        assert_eq!(mean_interval(&p, 1), wilson(81, 263));
        let halves: Vec<f64> = (0..100).map(|i| if i % 2 == 0 { 0.5 } else { 1.0 }).collect();
        let (lo, hi) = mean_interval(&halves, 1);
        assert!(lo < 0.75 && hi > 0.75 && lo > 0.65 && hi < 0.85, "{lo} {hi}");
        assert_eq!(mean_interval(&[], 1), (0.0, 1.0));
    }
}
