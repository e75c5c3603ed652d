//! Metrics of one scope (scheme x family x severity range) computed from result rows alone: every
//! metric of the task with its interval (Wilson for proportions, a seeded bootstrap otherwise), and,
//! on the primary metric, the paired drop from clean, the extra drop against the reference scheme,
//! the flip rate, and agreement / delta / McNemar's test against the reference scheme (the drop and the
//! delta of a right-or-wrong metric with Newcombe's paired interval).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::analysis::results::{EvalRow, CLEAN};
use crate::analysis::stats::{
    at_least_rule_of_three, clustered_scale, correlation, estimate_seed, mcnemar_clustered, mcnemar_exact, mean_ci,
    mover_difference, newcombe_weighted, paired_ci, wilson_effective,
};

/// A metric's point estimate and 95% interval, in percent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub value: f64,
    pub ci: [f64; 2],
}

/// The task's metrics of a cell by name, in the task's order (the primary first); written to JSON as
/// an object in that order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics(pub Vec<(String, Estimate)>);

impl Metrics {
    pub fn get(&self, name: &str) -> Option<&Estimate> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }
}

impl Serialize for Metrics {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Metrics {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Metrics;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of metric estimates")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> std::result::Result<Metrics, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, Estimate>()? {
                    out.push((k, v));
                }
                Ok(Metrics(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Metrics of one scope. Metrics, rates and their intervals are in percent; drops and deltas in points.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub scheme: String,
    pub family: String,
    /// Severity range pooled into this cell (0..0 for clean inputs).
    pub severity_lo: u8,
    pub severity_hi: u8,
    /// Rows: inputs, each example once per severity pooled here.
    pub n: usize,
    /// Distinct examples: what the intervals rest on (`n` over the severities pooled).
    #[serde(default)]
    pub examples: usize,
    /// Every metric of the task, the primary first.
    pub metrics: Metrics,
    /// Primary metric on the same scheme's clean inputs minus here, paired per example. The paired
    /// figures below are over the inputs whose counterpart this run holds, and `None` (null in JSON)
    /// when it holds none: a shard may hold a scheme's noisy inputs while another shard holds its clean
    /// ones or the reference scheme's.
    pub drop: Option<f64>,
    pub drop_ci: Option<[f64; 2]>,
    /// This scheme's drop minus the reference scheme's drop on the same examples: what quantization
    /// adds to the noise's damage (0 for the reference itself).
    pub extra_drop: Option<f64>,
    pub extra_drop_ci: Option<[f64; 2]>,
    /// Percent of inputs whose answer differs from the same scheme's answer on the clean text.
    pub flip_rate: Option<f64>,
    pub flip_rate_ci: Option<[f64; 2]>,
    /// Percent of inputs on which this scheme answers what the reference scheme answers.
    pub agreement: Option<f64>,
    pub agreement_ci: Option<[f64; 2]>,
    /// Primary metric minus the reference scheme's on the same inputs, in points.
    pub delta_vs_reference: Option<f64>,
    pub delta_vs_reference_ci: Option<[f64; 2]>,
    /// McNemar's exact p-value of this scheme against the reference on the same inputs (right/wrong
    /// by the primary metric).
    pub mcnemar_p: Option<f64>,
    pub mean_cer: f64,
    /// Mean normalised word error rate.
    pub mean_wer: f64,
    /// Mean word error rate on the texts as written.
    #[serde(default)]
    pub mean_wer_raw: f64,
    /// Percent of inputs whose text the noise changed at all (100 for clean inputs' own cell is not
    /// meaningful: 0 there; `None` without the clean texts). Low coverage makes an accuracy here say
    /// little (`corrupt::coverage`).
    #[serde(default)]
    pub changed: Option<f64>,
}

impl Cell {
    /// The primary metric.
    pub fn primary(&self) -> Estimate {
        self.metrics.0.first().map(|(_, e)| *e).unwrap_or_default()
    }
}

/// Index of rows by (scheme, family, severity, example id), for pairing.
pub struct RowIndex<'a> {
    rows: &'a [EvalRow],
    measures: &'a [String],
    by_key: HashMap<(&'a str, &'a str, u8, &'a str), usize>,
    /// The reference scheme: the first scheme of the run.
    pub reference: String,
    seed: u64,
}

impl<'a> RowIndex<'a> {
    /// Indexes `rows`, whose `measures` are named by `measures`; the first row's scheme is the reference.
    pub fn new(rows: &'a [EvalRow], measures: &'a [String], seed: u64) -> Self {
        let by_key = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    (r.scheme.as_str(), r.family.as_str(), r.severity, r.example_id.as_str()),
                    i,
                )
            })
            .collect();
        let reference = rows.first().map(|r| r.scheme.clone()).unwrap_or_default();
        RowIndex {
            rows,
            measures,
            by_key,
            reference,
            seed,
        }
    }

    /// The row of one scheme on one variant of one example.
    pub fn get(&self, scheme: &str, family: &str, severity: u8, id: &str) -> Option<&'a EvalRow> {
        self.by_key.get(&(scheme, family, severity, id)).map(|&i| &self.rows[i])
    }

    /// Metrics of `scheme` on `family` pooled over severities `lo..=hi` (use 0..=0 for clean).
    pub fn cell(&self, scheme: &str, family: &str, lo: u8, hi: u8) -> Cell {
        let (lo, hi) = if family == CLEAN { (0, 0) } else { (lo.max(1), hi) };
        let scope: Vec<&EvalRow> = self
            .rows
            .iter()
            .filter(|r| r.scheme == scheme && r.family == family && r.severity >= lo && r.severity <= hi)
            .collect();
        let n = scope.len();
        // Seeds name the estimate, not the cell: the bootstrap mixes in the values themselves.
        let primary_name = self.measures.first().map_or("", |m| m.as_str());
        let seed = |what: &str| estimate_seed(self.seed, what);
        let value = |r: &EvalRow, m: usize| r.measures.get(m).copied().unwrap_or(0.0);
        let mean = |v: &[f64]| {
            if v.is_empty() {
                0.0
            } else {
                100.0 * v.iter().sum::<f64>() / v.len() as f64
            }
        };
        let ci = |(a, b): (f64, f64)| [100.0 * a, 100.0 * b];
        // Severities pooled into one figure hold each example several times, and an example's
        // variants are not independent draws (the same command, the same model): the figure rests on
        // `examples` inputs, and its intervals on them (Wilson's and Newcombe's on as many draws, a
        // bootstrap resampling examples).
        let examples = scope
            .iter()
            .map(|r| r.example_id.as_str())
            .collect::<HashSet<_>>()
            .len();
        let clustered = examples < n;
        // Every interval below comes from the rules `stats::mean_ci` and `stats::paired_ci` set (the
        // retrieval deployments table reads the same): right-or-wrong values by Wilson's and Newcombe's
        // intervals over as many draws as examples, others by a bootstrap over examples kept the rule of
        // three's width at least.
        let keyed = |rows: &[&EvalRow], v: &[f64]| -> Vec<(String, f64)> {
            rows.iter()
                .map(|r| r.example_id.clone())
                .zip(v.iter().copied())
                .collect()
        };
        let examples_in = |rows: &[&EvalRow]| rows.iter().map(|r| r.example_id.as_str()).collect::<HashSet<_>>().len();
        let per_example = |rows: &[&EvalRow]| clustered_scale(examples_in(rows), rows.len());

        let metrics = Metrics(
            self.measures
                .iter()
                .enumerate()
                .map(|(m, name)| {
                    let v: Vec<f64> = scope.iter().map(|r| value(r, m)).collect();
                    let interval = ci(mean_ci(&keyed(&scope, &v), seed(name), (0.0, 1.0)));
                    (
                        name.clone(),
                        Estimate {
                            value: mean(&v),
                            ci: interval,
                        },
                    )
                })
                .collect(),
        );
        // Each paired figure is over the inputs that have their counterpart here (every input, in a
        // whole run) and absent when none has.
        let with_clean: Vec<(&EvalRow, &EvalRow)> = scope
            .iter()
            .filter_map(|r| Some((*r, self.get(scheme, CLEAN, 0, &r.example_id)?)))
            .collect();
        let with_ref: Vec<(&EvalRow, &EvalRow)> = scope
            .iter()
            .filter_map(|r| Some((*r, self.get(&self.reference, family, r.severity, &r.example_id)?)))
            .collect();
        let pct_of = |x: usize, of: usize| (of > 0).then(|| 100.0 * x as f64 / of as f64);
        let mean_of = |v: &[f64]| (!v.is_empty()).then(|| mean(v));
        // A paired figure's interval over the pairs (here side, other side), oriented `a - b`
        // (`stats::paired_ci`). A figure that pairs a row with itself (the clean cell's drop, the
        // reference's own delta) is exactly 0: [0, 0].
        let interval_of = |pairs: &[(&EvalRow, &EvalRow)], a_first: bool, what: &str| {
            let what = format!("{what}/{primary_name}");
            let triples: Vec<(&str, f64, f64)> = pairs
                .iter()
                .map(|(r, o)| match a_first {
                    true => (r.example_id.as_str(), value(r, 0), value(o, 0)),
                    false => (r.example_id.as_str(), value(o, 0), value(r, 0)),
                })
                .collect();
            (!pairs.is_empty()).then(|| ci(paired_ci(&triples, seed(&what))))
        };
        let itself = |pairs: &[(&EvalRow, &EvalRow)]| pairs.iter().all(|(x, y)| std::ptr::eq(*x, *y));
        // Both sides' primary values as flags, when every one is 0 or 1.
        let binary_pairs = |pairs: &[(&EvalRow, &EvalRow)]| -> Option<Vec<(bool, bool)>> {
            let flag = |x: f64| (x == 0.0 || x == 1.0).then_some(x == 1.0);
            pairs
                .iter()
                .map(|(x, y)| Some((flag(value(x, 0))?, flag(value(y, 0))?)))
                .collect()
        };
        // A share's interval: Wilson's, over as many draws as the rows have examples.
        let share_interval = |rows: &[&EvalRow], hits: &[bool]| {
            let k = hits.iter().filter(|h| **h).count();
            (!hits.is_empty()).then(|| {
                let p = k as f64 / hits.len() as f64;
                ci(wilson_effective(p, hits.len() as f64 * per_example(rows)))
            })
        };
        let clean_side: Vec<&EvalRow> = with_clean.iter().map(|(r, _)| *r).collect();
        let ref_side: Vec<&EvalRow> = with_ref.iter().map(|(r, _)| *r).collect();

        let drops: Vec<f64> = with_clean.iter().map(|(r, c)| value(c, 0) - value(r, 0)).collect();
        let flipped: Vec<bool> = with_clean.iter().map(|(r, c)| c.prediction != r.prediction).collect();
        let flips = flipped.iter().filter(|f| **f).count();
        let changed = with_clean
            .iter()
            .filter(|(r, c)| r.family != CLEAN && c.text != r.text)
            .count();
        let deltas: Vec<f64> = with_ref.iter().map(|(r, f)| value(r, 0) - value(f, 0)).collect();
        let agreed: Vec<bool> = with_ref.iter().map(|(r, f)| f.prediction == r.prediction).collect();
        let agree = agreed.iter().filter(|a| **a).count();
        // Discordant pairs per example: McNemar's exact test on single rows, Durkalski's clustered test
        // where an example's severities are pooled (its rows are not independent pairs).
        let mut discordant: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for (r, f) in &with_ref {
            let e = discordant.entry(r.example_id.as_str()).or_default();
            match (r.correct, f.correct) {
                (true, false) => e.0 += 1,
                (false, true) => e.1 += 1,
                _ => {}
            }
        }
        let mcnemar = || match clustered {
            true => mcnemar_clustered(&discordant.values().copied().collect::<Vec<_>>()),
            false => {
                let (b, c) = discordant.values().fold((0, 0), |(b, c), (x, y)| (b + x, c + y));
                mcnemar_exact(b, c)
            }
        };
        // The extra drop needs all four rows of an example: both schemes, clean and noisy.
        // (here, own clean, reference here, reference clean) of each example with all four rows.
        let quads: Vec<(&EvalRow, &EvalRow, &EvalRow, &EvalRow)> = with_ref
            .iter()
            .filter_map(|(r, f)| {
                let own_clean = self.get(scheme, CLEAN, 0, &r.example_id)?;
                let ref_clean = self.get(&self.reference, CLEAN, 0, &r.example_id)?;
                Some((*r, own_clean, *f, ref_clean))
            })
            .collect();
        let extra_side: Vec<&EvalRow> = quads.iter().map(|q| q.0).collect();
        let extra: Vec<f64> = quads
            .iter()
            .map(|(r, c, f, fc)| (value(c, 0) - value(r, 0)) - (value(fc, 0) - value(f, 0)))
            .collect();
        // Right-or-wrong answers: the two drops' Newcombe intervals combined by MOVER with the drops'
        // correlation (`stats::mover_difference`), each side kept the rule of three's width at least;
        // other measures `stats::mean_ci` of the extra drops.
        let extra_interval = || -> Option<[f64; 2]> {
            // None without an example holding all four rows (a shard's view); the reference's own
            // extra drop pairs each row with itself: exactly 0.
            if extra.is_empty() {
                return None;
            }
            if itself(&with_ref) {
                return Some([0.0, 0.0]);
            }
            let own: Vec<(&EvalRow, &EvalRow)> = quads.iter().map(|q| (q.1, q.0)).collect();
            let reference: Vec<(&EvalRow, &EvalRow)> = quads.iter().map(|q| (q.3, q.2)).collect();
            let (Some(own_pairs), Some(ref_pairs)) = (binary_pairs(&own), binary_pairs(&reference)) else {
                let what = format!("extra_drop/{primary_name}");
                return Some(ci(mean_ci(&keyed(&extra_side, &extra), seed(&what), (-2.0, 2.0))));
            };
            let drop = |p: &[(bool, bool)]| {
                p.iter()
                    .map(|(c, h)| *c as u8 as f64 - *h as u8 as f64)
                    .collect::<Vec<f64>>()
            };
            let (d1, d2) = (drop(&own_pairs), drop(&ref_pairs));
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            let weight = per_example(&extra_side);
            let r = correlation(&d1.iter().copied().zip(d2.iter().copied()).collect::<Vec<_>>());
            let interval = mover_difference(
                mean(&d1),
                newcombe_weighted(&own_pairs, weight),
                mean(&d2),
                newcombe_weighted(&ref_pairs, weight),
                r,
            );
            let est = extra.iter().sum::<f64>() / extra.len() as f64;
            Some(ci(at_least_rule_of_three(
                interval,
                est,
                examples_in(&extra_side),
                (-2.0, 2.0),
            )))
        };
        Cell {
            scheme: scheme.into(),
            family: family.into(),
            severity_lo: lo,
            severity_hi: hi,
            n,
            examples,
            metrics,
            drop: mean_of(&drops),
            // The drop is clean minus here: the clean side first.
            drop_ci: match itself(&with_clean) && !with_clean.is_empty() {
                true => Some([0.0, 0.0]),
                false => interval_of(&with_clean, false, "drop"),
            },
            extra_drop: mean_of(&extra),
            extra_drop_ci: extra_interval(),
            flip_rate: pct_of(flips, with_clean.len()),
            flip_rate_ci: share_interval(&clean_side, &flipped),
            agreement: pct_of(agree, with_ref.len()),
            agreement_ci: share_interval(&ref_side, &agreed),
            delta_vs_reference: mean_of(&deltas),
            delta_vs_reference_ci: match itself(&with_ref) && !with_ref.is_empty() {
                true => Some([0.0, 0.0]),
                false => interval_of(&with_ref, true, "delta"),
            },
            mcnemar_p: (!with_ref.is_empty()).then(mcnemar),
            mean_cer: if n == 0 {
                0.0
            } else {
                scope.iter().map(|r| r.cer).sum::<f64>() / n as f64
            },
            mean_wer: if n == 0 {
                0.0
            } else {
                scope.iter().map(|r| r.wer).sum::<f64>() / n as f64
            },
            mean_wer_raw: if n == 0 {
                0.0
            } else {
                scope.iter().map(|r| r.wer_raw).sum::<f64>() / n as f64
            },
            changed: pct_of(changed, with_clean.len()),
        }
    }
}

/// What McNemar's test beside a run's figures pairs, in words, for a run whose primary metric is
/// `primary`: the test counts examples right in one answer set and wrong in the other, so for a metric
/// that is not right or wrong per example (recall@10 with several relevant chunks) it tests the task's
/// own mark (a retrieval query: a relevant chunk in its top 10), which a legend must say beside a
/// delta of the metric (p = 1.00 beside a loss of 6.7 points of recall otherwise reads as no change).
pub fn mcnemar_legend(primary: &str) -> &'static str {
    match primary {
        "accuracy" | "exact_match" | "answer_match" => "McNemar's exact test on paired examples",
        m if m.starts_with("recall@") => {
            "McNemar's exact test on paired queries, each right when a relevant chunk is in its top 10"
        }
        _ => "McNemar's exact test on paired examples, each right when the task marks it correct",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scheme: &str, family: &str, severity: u8, id: usize, prediction: &str) -> EvalRow {
        EvalRow::labelled(scheme, family, severity, &id.to_string(), prediction)
    }

    /// A drop no pair shows (every input answered the same clean and noisy) is not a certain zero: on
    /// two inputs its interval spans most of the scale and narrows only as inputs are added (the
    /// percentile bootstrap gave [0, 0] on two inputs as on two thousand, and a rule judged `settled`
    /// passed on it).
    #[test]
    fn a_drop_no_pair_shows_keeps_the_width_its_sample_size_leaves() {
        let width = |n: usize| {
            let mut rows = Vec::new();
            for id in 0..n {
                rows.push(row("f32", CLEAN, 0, id, "a"));
                rows.push(row("f32", "typo", 1, id, "a"));
            }
            let names = vec!["accuracy".to_string()];
            let cell = RowIndex::new(&rows, &names, 1).cell("f32", "typo", 1, 1);
            assert_eq!(cell.drop, Some(0.0));
            let [lo, hi] = cell.drop_ci.unwrap();
            assert!(lo < 0.0 && hi > 0.0 && (lo + hi).abs() < 1e-9, "{lo} {hi}");
            hi - lo
        };
        let (two, two_hundred) = (width(2), width(200));
        assert!(two > 100.0, "{two}");
        assert!(two_hundred < 5.0 && two_hundred > 1.0, "{two_hundred}");

        // Pooled over two severities (each example twice): no pair differed, and the figure rests on
        // 2 examples, not 4 rows: its intervals are those of the 2 examples alone, not [0, 0] (the
        // cluster bootstrap's collapse); the clean cell's drop pairs each row with itself: exactly [0, 0].
        let mut rows = Vec::new();
        for id in 0..2 {
            rows.push(row("f32", CLEAN, 0, id, "a"));
            for severity in [1, 2] {
                rows.push(row("f32", "typo", severity, id, "a"));
            }
        }
        let names = vec!["accuracy".to_string()];
        let index = RowIndex::new(&rows, &names, 1);
        let pooled = index.cell("f32", "typo", 1, 2);
        let one = index.cell("f32", "typo", 1, 1);
        assert_eq!((pooled.n, pooled.examples), (4, 2));
        assert_eq!(pooled.drop_ci, one.drop_ci);
        assert!(
            pooled.drop_ci.is_some_and(|[lo, hi]| hi - lo > 100.0),
            "{:?}",
            pooled.drop_ci
        );
        assert_eq!(index.cell("f32", CLEAN, 0, 0).drop_ci, Some([0.0, 0.0]));
        assert_eq!(index.cell("f32", CLEAN, 0, 0).delta_vs_reference_ci, Some([0.0, 0.0]));
        // Every answer right on 2 examples pooled: not a certain 100 % (a rule `accuracy >= 95, on =
        // "settled"` passed on it), and flips none of 4 rows: not a certain 0.
        assert_eq!(pooled.primary().ci, one.primary().ci);
        assert!(pooled.primary().ci[0] < 50.0, "{:?}", pooled.primary().ci);
        assert_eq!(pooled.flip_rate_ci, one.flip_rate_ci);
        assert!(pooled.flip_rate_ci.is_some_and(|[lo, hi]| lo == 0.0 && hi > 50.0));
    }

    /// Pooled over severities, one differing pair is not a surer figure than none: the cluster
    /// bootstrap read [0, 0.5] points on one flip among 200 examples at three severities, where no
    /// flip read the rule of three's [-1.5, 1.5]. Newcombe's interval on the examples widens smoothly.
    #[test]
    fn a_pooled_drop_on_one_differing_pair_is_no_surer_than_on_none() {
        let cell = |flips: usize| {
            let mut rows = Vec::new();
            for id in 0..200 {
                rows.push(row("f32", CLEAN, 0, id, "a"));
                for severity in 1..=3 {
                    let wrong = id < flips && severity == 3;
                    rows.push(row("f32", "typo", severity, id, if wrong { "b" } else { "a" }));
                }
            }
            let names = vec!["accuracy".to_string()];
            RowIndex::new(&rows, &names, 1).cell("f32", "typo", 1, 3)
        };
        let (none, one, two) = (cell(0), cell(1), cell(2));
        let [lo0, hi0] = none.drop_ci.unwrap();
        let [lo1, hi1] = one.drop_ci.unwrap();
        let [lo2, hi2] = two.drop_ci.unwrap();
        assert!(lo0 < 0.0 && hi0 > 1.0, "{lo0} {hi0}");
        assert!(hi1 > hi0 && hi2 > hi1 && lo1 >= lo0 && lo2 >= lo1, "{hi0} {hi1} {hi2}");
        assert!(lo1 <= one.drop.unwrap() && one.drop.unwrap() <= hi1);
    }

    /// The extra drop (a difference of two drops) took a percentile bootstrap, which on one differing
    /// example among 200 read narrower than on none, and on four a sure loss: now the two drops'
    /// Newcombe intervals combined (MOVER), each side at least the rule of three's 1.5 points away.
    #[test]
    fn an_extra_drop_on_one_differing_example_is_no_surer_than_on_none() {
        let cell = |differing: usize| {
            let mut rows = Vec::new();
            for id in 0..200 {
                for scheme in ["f32", "int8"] {
                    rows.push(row(scheme, CLEAN, 0, id, "a"));
                    let wrong = scheme == "int8" && id < differing;
                    rows.push(row(scheme, "typo", 1, id, if wrong { "b" } else { "a" }));
                }
            }
            let names = vec!["accuracy".to_string()];
            RowIndex::new(&rows, &names, 1).cell("int8", "typo", 1, 1)
        };
        let (none, one) = (cell(0), cell(1));
        let [lo0, hi0] = none.extra_drop_ci.unwrap();
        let [lo1, hi1] = one.extra_drop_ci.unwrap();
        assert!((lo0 + hi0).abs() < 1e-9 && hi0 >= 1.5, "{lo0} {hi0}");
        let est = one.extra_drop.unwrap();
        assert!((est - 0.5).abs() < 1e-9);
        assert!(lo1 <= est - 1.5 + 1e-9 && lo1 < 0.0 && hi1 > hi0, "{lo1} {hi1}");
        // Four examples only the scheme lost (sign test p = 0.125): not a sure loss, as the bootstrap
        // read it ([0.5, 4.0] points).
        let four = cell(4);
        let [lo4, _] = four.extra_drop_ci.unwrap();
        assert!(lo4 < 0.0, "{:?}", four.extra_drop_ci);
        // The reference's own extra drop pairs each row with itself.
        let rows: Vec<EvalRow> = (0..3)
            .flat_map(|id| [row("f32", CLEAN, 0, id, "a"), row("f32", "typo", 1, id, "b")])
            .collect();
        let names = vec!["accuracy".to_string()];
        assert_eq!(
            RowIndex::new(&rows, &names, 1).cell("f32", "typo", 1, 1).extra_drop_ci,
            Some([0.0, 0.0])
        );
    }

    #[test]
    fn paired_metrics_against_clean_and_reference() {
        let mut rows = Vec::new();
        for id in 0..10 {
            rows.push(row("f32", CLEAN, 0, id, "a"));
        }
        for id in 0..10 {
            rows.push(row("f32", "typo", 1, id, if id < 8 { "a" } else { "b" }));
        }
        for id in 0..10 {
            rows.push(row("int8", CLEAN, 0, id, if id < 9 { "a" } else { "c" }));
        }
        for id in 0..10 {
            rows.push(row("int8", "typo", 1, id, if id < 6 { "a" } else { "b" }));
        }
        let names = vec!["accuracy".to_string()];
        let index = RowIndex::new(&rows, &names, 1);
        assert_eq!(index.reference, "f32");
        let f = index.cell("f32", "typo", 1, 5);
        assert_eq!(
            (f.n, f.primary().value, f.drop, f.flip_rate, f.agreement, f.extra_drop),
            (10, 80.0, Some(20.0), Some(20.0), Some(100.0), Some(0.0))
        );
        let acc = f.metrics.get("accuracy").unwrap();
        assert!(acc.ci[0] < 80.0 && acc.ci[1] > 80.0);
        let q = index.cell("int8", "typo", 1, 5);
        assert_eq!(
            (q.primary().value, q.delta_vs_reference, q.agreement),
            (60.0, Some(-20.0), Some(80.0))
        );
        assert!(
            (q.drop.unwrap() - 30.0).abs() < 1e-9,
            "paired with int8's own clean predictions"
        );
        assert!(
            (q.extra_drop.unwrap() - 10.0).abs() < 1e-9,
            "30 points against the reference's 20"
        );
        let [lo, hi] = q.extra_drop_ci.unwrap();
        assert!(lo <= 10.0 && hi >= 10.0);
        // Example 9 flipped from c to b: a flip, though wrong both times.
        assert!((q.flip_rate.unwrap() - 40.0).abs() < 1e-9);
        assert!((q.mcnemar_p.unwrap() - 0.5).abs() < 1e-12, "b=0, c=2 -> p = 2 * 1/4");
        let c = index.cell("int8", CLEAN, 1, 5);
        assert_eq!(
            (c.severity_lo, c.n, c.primary().value, c.drop),
            (0, 10, 90.0, Some(0.0))
        );
    }

    #[test]
    fn pooled_severities_rest_on_examples_not_rows() {
        // 20 examples at 5 severities, each answered the same at every severity: 5 copies of 20
        // answers. The pooled cell counts 100 rows but 20 examples, and its intervals are those of 20
        // examples (as wide as severity 1's alone), not of 100 independent rows.
        let mut rows = Vec::new();
        for id in 0..20 {
            rows.push(row("f32", CLEAN, 0, id, "a"));
            for sev in 1..=5 {
                rows.push(row("f32", "typo", sev, id, if id < 14 { "a" } else { "b" }));
            }
        }
        let names = vec!["accuracy".to_string()];
        let index = RowIndex::new(&rows, &names, 1);
        let pooled = index.cell("f32", "typo", 1, 5);
        let one = index.cell("f32", "typo", 1, 1);
        assert_eq!((pooled.n, pooled.examples, one.n, one.examples), (100, 20, 20, 20));
        assert_eq!((pooled.primary().value, pooled.drop), (70.0, Some(30.0)));
        let width = |ci: [f64; 2]| ci[1] - ci[0];
        let rows_wilson = crate::analysis::stats::wilson(70, 100);
        let acc = pooled.primary().ci;
        assert!(width(acc) > 1.5 * 100.0 * (rows_wilson.1 - rows_wilson.0), "{acc:?}");
        let (p, o) = (width(pooled.drop_ci.unwrap()), width(one.drop_ci.unwrap()));
        assert!((p - o).abs() < 0.25 * o, "pooled {p} vs one severity {o}");
    }

    #[test]
    fn figures_without_their_counterpart_rows_are_absent_not_zero() {
        // A shard's view: int8's typo inputs, without int8's clean inputs or the reference's typo ones.
        let mut rows: Vec<EvalRow> = (0..10).map(|id| row("f32", CLEAN, 0, id, "a")).collect();
        rows.extend((0..10).map(|id| row("int8", "typo", 1, id, if id < 6 { "a" } else { "b" })));
        let names = vec!["accuracy".to_string()];
        let index = RowIndex::new(&rows, &names, 1);
        let q = index.cell("int8", "typo", 1, 5);
        assert_eq!((q.n, q.primary().value), (10, 60.0));
        assert_eq!((q.drop, q.drop_ci, q.flip_rate, q.changed), (None, None, None, None));
        assert_eq!(
            (q.agreement, q.delta_vs_reference, q.mcnemar_p, q.extra_drop),
            (None, None, None, None)
        );
        assert_eq!(q.extra_drop_ci, None, "no interval of nothing (it read NaN)");
        let json = serde_json::to_value(&q).unwrap();
        assert!(json["drop"].is_null() && json["agreement"].is_null(), "{json}");
        // The reference's clean cell pairs with itself: no drop, full agreement.
        let c = index.cell("f32", CLEAN, 0, 0);
        assert_eq!((c.drop, c.agreement, c.changed), (Some(0.0), Some(100.0), Some(0.0)));
    }

    #[test]
    fn every_measure_gets_its_own_estimate_and_fractional_ones_a_bootstrap_interval() {
        let rows: Vec<EvalRow> = (0..20)
            .map(|i| EvalRow {
                scheme: "f32".into(),
                example_id: i.to_string(),
                family: CLEAN.into(),
                correct: i < 10,
                measures: vec![(i < 10) as u8 as f64, if i % 2 == 0 { 0.5 } else { 1.0 }, 0.0],
                ..Default::default()
            })
            .collect();
        let names: Vec<String> = ["exact_match", "field_accuracy", "invalid_rate"]
            .map(String::from)
            .to_vec();
        let cell = RowIndex::new(&rows, &names, 3).cell("f32", CLEAN, 0, 0);
        let names_out: Vec<&str> = cell.metrics.0.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names_out, ["exact_match", "field_accuracy", "invalid_rate"]);
        assert_eq!(cell.primary().value, 50.0);
        let fa = cell.metrics.get("field_accuracy").unwrap();
        assert!((fa.value - 75.0).abs() < 1e-9 && fa.ci[0] < 75.0 && fa.ci[1] > 75.0);
        assert_eq!(cell.metrics.get("invalid_rate").unwrap().value, 0.0);
        let json = serde_json::to_string(&cell).unwrap();
        assert!(json.contains("\"metrics\":{\"exact_match\":{\"value\":50.0"), "{json}");
        let back: Cell = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cell);
    }
}
