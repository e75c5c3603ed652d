//! The scheme the gate recommends shipping: the passing scheme the run's preference picks, with its
//! tightest check, the checks it was not judged on or passed without settling, and the pick among the
//! schemes whose every check is settled.

use serde::{Deserialize, Serialize};

use super::{beyond, Check, Preference, SchemeVerdict, Status, RELATIVE_TO_REFERENCE};
use crate::analysis::summary::{SchemeSummary, Summary};

/// The scheme the gate recommends shipping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub scheme: String,
    /// Why this one ("the smallest passing scheme: 5.6 MB of weights").
    pub reason: String,
    /// Its tightest check and how far its estimate is from the bound: the unsettled check with the
    /// smallest margin when it has one, else the check with the smallest margin.
    pub tightest: Option<String>,
    pub margin: Option<f64>,
    /// The suite's checks this run did not judge for it (a family or severity not run, no sustain
    /// phase), each with why: a recommendation on part of the gate must say which part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unjudged: Vec<String>,
    /// Its checks passed only on their interval: the estimate is out of bounds, the interval reaches
    /// the bound. Not failed on this sample, and not shown to hold either.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interval_only: Vec<String>,
    /// Its other passed checks whose interval crosses a bound: a pass that a bigger sample could turn
    /// into a fail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsettled: Vec<String>,
    /// When the pick has unsettled checks: the scheme the same preference picks among the passing
    /// schemes whose every check is settled (None when no passing scheme settled all of its checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_pick: Option<String>,
    /// When the pick has unsettled checks: why `settled_pick` (or that there is none), for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_reason: Option<String>,
}

/// The scheme `preference` picks among `candidates`, with why ("the smallest passing scheme (5.6 MB
/// of weights)", a lone candidate "the only" one); `what` names the candidates.
fn pick<'a>(
    candidates: &[&'a SchemeSummary],
    preference: Preference,
    what: &str,
) -> Option<(&'a SchemeSummary, String)> {
    // "Smallest" or "fastest" of one is no choice: a lone candidate is called the only one.
    let which = |ranked: &'static str| if candidates.len() == 1 { "only" } else { ranked };
    let smallest = || {
        candidates.iter().min_by_key(|s| s.weights.shipped_bytes()).map(|s| {
            (
                *s,
                format!(
                    "the {} {what} ({:.1} MB of weights)",
                    which("smallest"),
                    s.weights.shipped_bytes() as f64 / 1e6
                ),
            )
        })
    };
    match preference {
        Preference::Smallest => smallest(),
        Preference::Fastest => {
            let timed: Vec<(&SchemeSummary, f64, f64)> = candidates
                .iter()
                .filter_map(|s| {
                    s.throughput
                        .as_ref()
                        .map(|t| (*s, t.sustained_items_per_s, t.stability))
                })
                .collect();
            let Some(&(top, speed, stability)) = timed.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
                let (s, r) = smallest()?;
                return Some((s, format!("{r}; no throughput was measured to pick the fastest")));
            };
            // A lead smaller than the windows' spread is no lead: a scheme whose sustained figure is
            // within the fastest's times the lower stability (slowest / fastest window) of the two
            // cannot be told from it on this machine, and the smallest of those is recommended.
            let tied: Vec<&SchemeSummary> = timed
                .iter()
                .filter(|(s, v, st)| s.scheme != top.scheme && *v >= speed * stability.min(*st))
                .map(|(s, _, _)| *s)
                .collect();
            if tied.is_empty() {
                return Some((
                    top,
                    format!("the {} {what} ({speed:.1} items/s sustained)", which("fastest")),
                ));
            }
            let group: Vec<&SchemeSummary> = std::iter::once(top).chain(tied).collect();
            let names: Vec<&str> = group.iter().map(|s| s.scheme.as_str()).collect();
            let small = group.iter().min_by_key(|s| s.weights.shipped_bytes())?;
            Some((
                *small,
                format!(
                    "the smallest {what} ({:.1} MB of weights) among the fastest, which this run cannot tell \
                     apart by speed ({}: {} leads at {speed:.1} items/s sustained by less than their throughput \
                     windows vary)",
                    small.weights.shipped_bytes() as f64 / 1e6,
                    names.join(", "),
                    top.scheme
                ),
            ))
        }
    }
}

/// The rules a pick that is the run's reference is not judged by: they measure the other schemes
/// against it. f32 gets no check of them at all (another reference gets a skipped one, listed already),
/// so without this a recommendation of f32 would not say it was judged on fewer rules than the schemes
/// it was preferred to.
fn measured_against<'a>(summary: &'a Summary, scheme: &'a str) -> impl Iterator<Item = String> + 'a {
    summary
        .meta
        .gate_rules
        .iter()
        .filter(move |r| {
            scheme == summary.reference && scheme == "f32" && RELATIVE_TO_REFERENCE.contains(&r.metric.as_str())
        })
        .map(move |r| format!("{} ({scheme} is the reference it is measured against)", r.describe()))
}

/// The passing scheme to ship under the run's preference, with its tightest margin, the checks it
/// passed without settling them, and the pick among the schemes that settled every check.
pub(super) fn recommend(summary: &Summary, verdicts: &[SchemeVerdict], checks: &[Check]) -> Option<Recommendation> {
    // A scheme no rule judged (the rules name other schemes) "passes" nothing: it is not recommended.
    let judged = |v: &&SchemeVerdict| v.checks > v.skipped;
    let passing: Vec<&SchemeVerdict> = verdicts.iter().filter(|v| v.passed).filter(judged).collect();
    let summaries = |vs: &[&SchemeVerdict]| -> Vec<&SchemeSummary> {
        vs.iter().filter_map(|v| summary.scheme(&v.scheme)).collect()
    };
    let unruled: Vec<&str> = verdicts
        .iter()
        .filter(|v| !judged(v))
        .map(|v| v.scheme.as_str())
        .collect();
    let preference = summary.meta.recommend;
    let (chosen, reason) = pick(&summaries(&passing), preference, "passing scheme")?;
    let reason = match unruled.as_slice() {
        [] => reason,
        [one] => format!("{reason}; {one} is not recommended: no rule of the gate judged it"),
        many => format!(
            "{reason}; {} are not recommended: no rule of the gate judged them",
            many.join(", ")
        ),
    };
    let mine = || checks.iter().filter(|c| c.scheme == chosen.scheme);
    let passed = || mine().filter(|c| c.status == Status::Pass);
    // An unsettled check (its interval reaches its bound) is nearer to failing than any settled one,
    // whatever their point margins, which are in each rule's own units: it comes first.
    let tightest = passed().filter_map(|c| c.margin.map(|m| (c, m))).min_by(|a, b| {
        (!a.0.unsettled(), a.1)
            .partial_cmp(&(!b.0.unsettled(), b.1))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let interval_only = |c: &&Check| c.measured.is_some_and(|v| beyond(v, c.min, c.max));
    let unsettled: Vec<String> = passed()
        .filter(|c| c.unsettled() && !interval_only(c))
        .map(Check::line)
        .collect();
    // The same preference over the schemes whose every check is settled: what a team that will not
    // ship on a sample's luck would pick.
    let (settled_pick, settled_reason) = if passed().any(|c| c.unsettled()) {
        let settled: Vec<&SchemeVerdict> = passing.iter().copied().filter(|v| v.unsettled == 0).collect();
        match pick(
            &summaries(&settled),
            preference,
            "passing scheme whose every check is settled",
        ) {
            Some((s, why)) => (Some(s.scheme.clone()), Some(format!("{}, {why}", s.scheme))),
            None => (None, Some("no scheme passes with every check settled".to_string())),
        }
    } else {
        (None, None)
    };
    Some(Recommendation {
        scheme: chosen.scheme.clone(),
        reason,
        tightest: tightest.map(|(c, _)| format!("{} [{}]", c.rule, c.scope())),
        margin: tightest.map(|(_, m)| m),
        unjudged: mine()
            .filter(|c| c.status == Status::Skip)
            .map(|c| format!("{} ({})", c.rule, c.reason))
            .chain(measured_against(summary, &chosen.scheme))
            .collect(),
        interval_only: passed()
            .filter(interval_only)
            .map(|c| format!("{}: {}", c.rule, c.reason))
            .collect(),
        unsettled,
        settled_pick,
        settled_reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::WeightStats;
    use crate::eval::sustain::ThroughputSummary;

    fn scheme(name: &str, bytes: usize, speed: f64, stability: f64) -> SchemeSummary {
        SchemeSummary {
            scheme: name.into(),
            weights: WeightStats {
                weight_bytes: bytes,
                ..Default::default()
            },
            fidelity: None,
            memory: None,
            clean: Default::default(),
            mean_corrupted: None,
            families: Vec::new(),
            throughput: Some(ThroughputSummary {
                sustained_items_per_s: speed,
                stability,
                ..Default::default()
            }),
        }
    }

    #[test]
    fn the_fastest_is_picked_only_when_its_lead_exceeds_the_windows_spread() {
        // The review's two runs of one build: int8 3.3x f32 in its first windows, then level with it.
        let f32 = scheme("f32", 1_573_000, 4989.7, 0.49);
        let int8 = scheme("int8", 402_000, 4958.0, 0.42);
        let rtn = scheme("w4a16-rtn-g128", 209_000, 4910.8, 0.92);
        let (s, why) = pick(&[&f32, &int8, &rtn], Preference::Fastest, "passing scheme").unwrap();
        assert_eq!(s.scheme, "w4a16-rtn-g128", "{why}");
        assert!(
            why.starts_with("the smallest passing scheme (0.2 MB of weights) among the fastest, which this run cannot tell apart by speed (f32, int8, w4a16-rtn-g128: f32 leads"),
            "{why}"
        );
        // A steady machine and a clear lead: the fastest is the fastest.
        let int8 = scheme("int8", 402_000, 8442.5, 0.95);
        let f32 = scheme("f32", 1_573_000, 4359.0, 0.9);
        let (s, why) = pick(&[&f32, &int8], Preference::Fastest, "passing scheme").unwrap();
        assert_eq!(
            (s.scheme.as_str(), why.as_str()),
            ("int8", "the fastest passing scheme (8442.5 items/s sustained)")
        );
        // Steady too, but 3% apart with windows 10% apart: no lead.
        let a = scheme("int8", 402_000, 5000.0, 0.9);
        let b = scheme("f32", 1_573_000, 5150.0, 0.95);
        assert_eq!(
            pick(&[&a, &b], Preference::Fastest, "passing scheme").unwrap().0.scheme,
            "int8"
        );
    }
}
