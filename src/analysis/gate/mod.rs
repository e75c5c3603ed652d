//! The pre-ship gate's verdict: the rules of `suite.toml` (`rules`: what a suite may ask) checked
//! against a run's summary, scheme by scheme; a verdict per scheme, the run's verdict under the suite's
//! policy, and the scheme to ship.

pub mod recommend;
pub mod rules;
mod settle;

use serde::{Deserialize, Serialize};

use crate::analysis::metrics::{Cell, RowIndex};
use crate::analysis::results::CLEAN;
use crate::analysis::summary::{partial_range, Summary};
use recommend::recommend;
pub use recommend::Recommendation;
use rules::is_throughput;
pub use rules::{round2, Baseline, BaselineCell, GateRule, Judge, Policy, Preference};
use settle::{crossed_bound, unsettled_note};

/// Throughput windows a throughput check needs before it can be settled: fewer show no spread.
const MIN_SETTLING_WINDOWS: usize = 3;

impl Baseline {
    /// Takes the primary-metric figures of a baseline summary.
    pub fn from_summary(source: &str, baseline: &Summary, max_drop: f64) -> Self {
        let cells = baseline
            .cells()
            .into_iter()
            .map(|c| BaselineCell {
                scheme: c.scheme.clone(),
                family: c.family.clone(),
                severity_lo: c.severity_lo,
                severity_hi: c.severity_hi,
                value: c.primary().value,
            })
            .collect();
        Baseline {
            source: source.into(),
            max_drop,
            metric: baseline.primary().to_string(),
            cells,
            mismatches: Vec::new(),
        }
    }
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// The run did not ask for this scope (scheme, family or severity not in the run, a metric
    /// its method does not measure, no sustain phase).
    Skip,
}

/// One rule checked in one scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub rule: String,
    pub metric: String,
    pub scheme: String,
    pub family: String,
    /// The severities judged ("1-2"), when the rule names some.
    pub severity: Option<String>,
    pub measured: Option<f64>,
    pub interval: Option<[f64; 2]>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub status: Status,
    /// Distance from the measured value to the nearest bound (negative when out of bounds).
    pub margin: Option<f64>,
    /// The inputs the figure is measured on (None for throughput and unmeasured checks).
    #[serde(default)]
    pub n: Option<usize>,
    /// Whether the 95% interval lies wholly on the status's side of every bound: false when the
    /// sample is compatible with either verdict (None without an interval).
    #[serde(default)]
    pub settled: Option<bool>,
    pub reason: String,
}

impl Check {
    /// Its scope as the outputs name it: "typo@1", "clean".
    pub fn scope(&self) -> String {
        match &self.severity {
            Some(s) => format!("{}@{s}", self.family),
            None => self.family.clone(),
        }
    }

    /// "rule [scope]: reason", the line every output prints for a check.
    pub fn line(&self) -> String {
        format!("{} [{}]: {}", self.rule, self.scope(), self.reason)
    }

    /// Passed or failed on a sample that cannot tell which: its interval crosses a bound.
    pub fn unsettled(&self) -> bool {
        self.status != Status::Skip && self.settled == Some(false)
    }
    pub fn passed(&self) -> bool {
        self.status != Status::Fail
    }
}

/// One scheme's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemeVerdict {
    pub scheme: String,
    pub passed: bool,
    pub checks: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Its passed or failed checks whose interval crosses a bound: the verdict rests on them only as
    /// far as the sample goes.
    #[serde(default)]
    pub unsettled: usize,
}

impl SchemeVerdict {
    /// "pass", "fail", or either with its unsettled checks counted: "pass (2 unsettled)".
    pub fn describe(&self) -> String {
        let word = if self.passed { "pass" } else { "fail" };
        match self.unsettled {
            0 => word.to_string(),
            n => format!("{word} ({n} unsettled)"),
        }
    }
}

/// The gate's verdict with every check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub policy: Policy,
    /// The run passes under `policy`.
    pub passed: bool,
    pub schemes: Vec<SchemeVerdict>,
    pub recommendation: Option<Recommendation>,
    pub checks: Vec<Check>,
}

impl Verdict {
    pub fn failing(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Fail)
    }
    pub fn skipped(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Skip)
    }
}

/// The value and interval of `metric` in a cell (None when the run did not measure it, or could not
/// pair it: a change from clean needs the clean inputs).
/// Metrics measured against the run's reference scheme: for the reference itself they say nothing.
pub(crate) const RELATIVE_TO_REFERENCE: [&str; 3] = ["agreement", "delta_vs_reference", "extra_drop"];

fn value_of(metric: &str, c: &Cell) -> Option<(f64, Option<[f64; 2]>)> {
    Some(match metric {
        "drop" => (c.drop?, c.drop_ci),
        "extra_drop" => (c.extra_drop?, c.extra_drop_ci),
        "flip_rate" => (c.flip_rate?, c.flip_rate_ci),
        "agreement" => (c.agreement?, c.agreement_ci),
        "delta_vs_reference" => (c.delta_vs_reference?, c.delta_vs_reference_ci),
        name => {
            let e = c.metrics.get(name)?;
            (e.value, Some(e.ci))
        }
    })
}

/// A check template for one scope.
struct Scope<'a> {
    rule: String,
    metric: &'a str,
    scheme: &'a str,
    family: &'a str,
    severity: Option<String>,
    /// The rule's bounds (min, max), shown on checks that measured nothing.
    bounds: (Option<f64>, Option<f64>),
}

impl Scope<'_> {
    fn skip(&self, reason: impl Into<String>) -> Check {
        let (min, max) = self.bounds;
        self.check(None, None, min, max, Status::Skip, reason.into())
    }
    fn fail(&self, reason: impl Into<String>) -> Check {
        let (min, max) = self.bounds;
        self.check(None, None, min, max, Status::Fail, reason.into())
    }
    fn check(
        &self,
        measured: Option<f64>,
        interval: Option<[f64; 2]>,
        min: Option<f64>,
        max: Option<f64>,
        status: Status,
        reason: String,
    ) -> Check {
        Check {
            rule: self.rule.clone(),
            metric: self.metric.to_string(),
            scheme: self.scheme.to_string(),
            family: self.family.to_string(),
            severity: self.severity.clone(),
            measured,
            interval,
            min,
            max,
            status,
            margin: None,
            n: None,
            settled: None,
            reason,
        }
    }

    /// Judges `value` (and its interval, over `n` inputs) against the bounds. `settles`: whether the
    /// interval can say if the sample settles the check (not when the bound is another run's estimate).
    fn judge(
        &self,
        value: f64,
        interval: Option<[f64; 2]>,
        n: Option<usize>,
        (min, max): (Option<f64>, Option<f64>),
        on: Judge,
        settles: bool,
    ) -> Check {
        // Percents are sums and ratios of counts: exactly 92 % can come out 91.99999999999999, and an
        // interval's end 99.99999999999999, which a bound of 92 or 100 must not fail. Judged at 1e-9.
        let snap = |x: f64| (x * 1e9).round() / 1e9;
        let value = snap(value);
        let interval = interval.map(|[a, b]| [snap(a), snap(b)]);
        let [low, high] = interval.unwrap_or([value, value]);
        let crossed = crossed_bound(value, interval, min, max).filter(|_| settles);
        let out_point = beyond(value, min, max);
        // Judged on the interval, a rule fails only when the whole interval is out of bounds.
        let (lo_end, hi_end) = match on {
            Judge::Interval => (high, low),
            _ => (value, value),
        };
        let below = min.is_some_and(|m| lo_end < m);
        let above = max.is_some_and(|m| hi_end > m);
        // Judged as settled, it passes only when the whole interval is within them.
        let fails = below || above || (on == Judge::Settled && crossed.is_some());
        let ci = interval
            .map(|[a, b]| format!(" (95% interval {a:.2} to {b:.2})"))
            .unwrap_or_default();
        let mut reason = if below {
            format!(
                "{value:.2}{ci} is below the minimum {}",
                round2(min.unwrap_or_default())
            )
        } else if above {
            format!(
                "{value:.2}{ci} is above the maximum {}",
                round2(max.unwrap_or_default())
            )
        } else if fails {
            format!("{value:.2}{ci}: the estimate is within bounds, its interval is not (a pass must be settled)")
        } else if out_point {
            // Judged on the interval, which reaches the bound: not failed, but not within it either.
            format!("{value:.2}{ci}: the estimate is out of bounds, its interval is not")
        } else {
            format!("{value:.2}{ci} within bounds")
        };
        if let Some(bound) = crossed {
            reason.push_str(&format!("; {}", unsettled_note(value, bound, n)));
        }
        // From the estimate, also when judged on the interval: the interval's far end would show
        // headroom where the estimate sits on the bound or past it.
        let margin = [min.map(|m| value - m), max.map(|m| m - value)]
            .into_iter()
            .flatten()
            .reduce(f64::min);
        let status = if fails { Status::Fail } else { Status::Pass };
        let mut c = self.check(Some(value), interval, min, max, status, reason);
        c.margin = margin;
        c.n = n;
        c.settled = interval.filter(|_| settles).map(|_| crossed.is_none());
        c
    }
}

/// `value` lies outside `[min, max]`.
pub(crate) fn beyond(value: f64, min: Option<f64>, max: Option<f64>) -> bool {
    min.is_some_and(|m| value < m) || max.is_some_and(|m| value > m)
}

/// Checks every rule of the run (and its baseline) against its summary, scheme by scheme, and
/// decides the run's verdict under its policy. `index` gives cells for severity ranges the summary
/// does not hold.
pub fn evaluate(summary: &Summary, index: &RowIndex) -> Verdict {
    let meta = &summary.meta;
    let schemes = meta.scheme_names();
    let mut checks = Vec::new();
    for rule in &meta.gate_rules {
        let described = rule.describe();
        let wanted = rule.scheme_name();
        let in_scope: Vec<&String> = schemes.iter().filter(|s| rule.scheme == "*" || **s == wanted).collect();
        if in_scope.is_empty() {
            let scope = Scope {
                rule: described.clone(),
                metric: &rule.metric,
                scheme: &rule.scheme,
                family: &rule.family,
                severity: rule.severity.clone(),
                bounds: (rule.min, rule.max),
            };
            checks.push(scope.skip("scheme not in this run"));
            continue;
        }
        let families: Vec<String> = match rule.family.as_str() {
            "*" if !is_throughput(&rule.metric) => meta.families.clone(),
            f => vec![f.to_string()],
        };
        let (lo, hi) = rule.severity_range().unwrap_or((1, 5));
        for scheme in in_scope {
            if is_throughput(&rule.metric) {
                let scope = Scope {
                    rule: described.clone(),
                    metric: &rule.metric,
                    scheme,
                    family: "-",
                    severity: None,
                    bounds: (rule.min, rule.max),
                };
                let t = summary.scheme(scheme).and_then(|s| s.throughput.as_ref());
                checks.push(match t {
                    Some(t) if rule.metric == "stability" => {
                        scope.judge(t.stability, None, None, (rule.min, rule.max), Judge::Point, true)
                    }
                    Some(t) => {
                        let v = t.sustained_items_per_s;
                        let mut check = scope.judge(v, None, None, (rule.min, rule.max), Judge::Point, true);
                        // Throughput has no sampling interval, but its windows spread: every window lies
                        // within the sustained figure times and over the stability (slowest / fastest),
                        // and a bound inside that spread is decided by the machine's mood of the moment
                        // (the same build read 4347 to 4951 items/s against 4900 in three runs).
                        let spread = [v * t.stability, v / t.stability.max(f64::MIN_POSITIVE)];
                        let crossed = crossed_bound(v, Some(spread), rule.min, rule.max);
                        check.settled = Some(crossed.is_none() && t.windows >= MIN_SETTLING_WINDOWS);
                        if t.windows < MIN_SETTLING_WINDOWS {
                            check.reason.push_str(&format!(
                                "; unsettled: {} window(s) of throughput show no spread to judge (a longer sustain phase gives {MIN_SETTLING_WINDOWS} or more)",
                                t.windows
                            ));
                        } else if let Some(bound) = crossed {
                            check.reason.push_str(&format!(
                                "; unsettled: the windows' spread ({:.0} to {:.0} items/s) crosses {}",
                                spread[0],
                                spread[1],
                                round2(bound)
                            ));
                        }
                        check
                    }
                    None if meta.sustain.is_none() => scope.skip("no sustain phase in this run"),
                    None => scope.fail("no throughput measured"),
                });
                continue;
            }
            if families.is_empty() {
                let scope = Scope {
                    rule: described.clone(),
                    metric: &rule.metric,
                    scheme,
                    family: "*",
                    severity: rule.severity.clone(),
                    bounds: (rule.min, rule.max),
                };
                checks.push(scope.skip("no corrupted family in this run"));
            }
            for family in &families {
                let scope = Scope {
                    rule: described.clone(),
                    metric: &rule.metric,
                    scheme,
                    family,
                    severity: (family != CLEAN).then(|| rule.severity.clone()).flatten(),
                    bounds: (rule.min, rule.max),
                };
                if family != CLEAN && !meta.families.contains(family) {
                    checks.push(scope.skip("family not in this run"));
                    continue;
                }
                // Measured against the reference, the reference itself passes by construction: f32,
                // the yardstick, is not judged by such a rule at all; another scheme in that place
                // (a run without f32) has the rule skipped, and the skip says what would judge it.
                if *scheme == summary.reference && RELATIVE_TO_REFERENCE.contains(&rule.metric.as_str()) {
                    if scheme.as_str() != "f32" {
                        checks.push(scope.skip(format!(
                            "{scheme} is the run's reference, against which this is measured: run f32 beside it \
                             to judge it"
                        )));
                    }
                    continue;
                }
                // The rule's severities this run holds for the family (None: the scheme has no such
                // family summary, e.g. a shard's; judged on what the rows hold).
                let held: Option<Vec<u8>> = summary
                    .scheme(scheme)
                    .and_then(|s| s.families.iter().find(|f| &f.family == family))
                    .map(|f| f.cells_in(lo, hi).map(|c| c.severity_lo).collect());
                if family != CLEAN && held.as_ref().is_some_and(Vec::is_empty) {
                    let range = if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") };
                    checks.push(scope.skip(format!("severity {range} not in this run")));
                    continue;
                }
                // A range the run covers only in part is judged on the part, and says so: "typo@1-2"
                // must not stand for severity 1 alone. (A rule without severities judges the family
                // pooled over those run: nothing is missing.)
                let partial = held
                    .as_deref()
                    .filter(|_| family != CLEAN && rule.severity.is_some())
                    .and_then(|h| partial_range(h, lo, hi));
                let missing: Vec<String> = match (&held, &partial) {
                    (Some(h), Some(_)) => (lo..=hi).filter(|s| !h.contains(s)).map(|s| s.to_string()).collect(),
                    _ => Vec::new(),
                };
                let scope = Scope {
                    severity: partial.or(scope.severity.clone()),
                    ..scope
                };
                let cell = index.cell(scheme, family, lo, hi);
                if cell.n == 0 {
                    checks.push(scope.fail("no results in this scope"));
                    continue;
                }
                match value_of(&rule.metric, &cell) {
                    Some((v, ci)) => {
                        let mut check = scope.judge(v, ci, Some(cell.examples), (rule.min, rule.max), rule.on, true);
                        if !missing.is_empty() {
                            check.reason = format!(
                                "{} (severity {} of the rule's {lo}-{hi} not in this run)",
                                check.reason,
                                missing.join(", ")
                            );
                        }
                        checks.push(check);
                    }
                    None => checks.push(scope.skip("not measured by this run's method")),
                }
            }
        }
    }
    if let Some(base) = &meta.baseline {
        checks.extend(baseline_checks(summary, base));
    }
    // A scheme whose every check was skipped was not checked at all: a gate never passes on nothing.
    for scheme in &schemes {
        let mut mine = checks.iter().filter(|c| &c.scheme == scheme).peekable();
        if mine.peek().is_some() && mine.all(|c| c.status == Status::Skip) {
            let scope = Scope {
                rule: "at least one rule applies to the run".into(),
                metric: "-",
                scheme,
                family: "-",
                severity: None,
                bounds: (None, None),
            };
            checks.push(scope.fail(
                "every rule was skipped for this scheme, so nothing was checked: run the families, severities \
                 or phases the rules name",
            ));
        }
    }
    let verdicts: Vec<SchemeVerdict> = schemes
        .iter()
        .map(|s| {
            let mine: Vec<&Check> = checks.iter().filter(|c| &c.scheme == s).collect();
            let failed = mine.iter().filter(|c| c.status == Status::Fail).count();
            SchemeVerdict {
                scheme: s.clone(),
                passed: failed == 0,
                checks: mine.len(),
                failed,
                skipped: mine.iter().filter(|c| c.status == Status::Skip).count(),
                unsettled: mine.iter().filter(|c| c.unsettled()).count(),
            }
        })
        .collect();
    // A scheme no rule applies to (the rules name others; the reference under rules measured against it)
    // keeps a passed verdict of no checks, but it is not evidence: the run passes only on schemes a check
    // judged, so a gate that judged nothing, or a scheme to ship that nothing judged, does not pass.
    let judged = |v: &SchemeVerdict| v.checks > v.skipped;
    let passed = match &meta.policy {
        Policy::All => verdicts.iter().any(judged) && verdicts.iter().all(|v| v.passed),
        Policy::Any => verdicts.iter().any(|v| v.passed && judged(v)),
        Policy::Ship(s) => verdicts.iter().any(|v| &v.scheme == s && v.passed && judged(v)),
    };
    let recommendation = recommend(summary, &verdicts, &checks);
    Verdict {
        policy: meta.policy.clone(),
        passed,
        schemes: verdicts,
        recommendation,
        checks,
    }
}

/// The single severities of `cell`'s scheme and family among `cells` (scheme, family, lo, hi), sorted.
fn held_severities<'a>(cells: impl Iterator<Item = (&'a String, &'a String, u8, u8)>, cell: &Cell) -> Vec<u8> {
    let mut held: Vec<u8> = cells
        .filter(|(scheme, family, lo, hi)| **scheme == cell.scheme && **family == cell.family && lo == hi)
        .map(|(_, _, lo, _)| lo)
        .collect();
    held.sort_unstable();
    held.dedup();
    held
}

/// Severities as people write them: "1, 2, 3", or "none".
fn list_severities(levels: &[u8]) -> String {
    match levels.is_empty() {
        true => "none".to_string(),
        false => levels.iter().map(u8::to_string).collect::<Vec<_>>().join(", "),
    }
}

fn baseline_checks(summary: &Summary, base: &Baseline) -> Vec<Check> {
    let mut checks = Vec::new();
    let rule = format!(
        "{} no more than {} points below baseline {}",
        base.metric,
        round2(base.max_drop),
        base.source
    );
    let cells = summary.cells();
    let same = |b: &BaselineCell, c: &Cell| {
        b.scheme == c.scheme && b.family == c.family && b.severity_lo == c.severity_lo && b.severity_hi == c.severity_hi
    };
    for scheme in summary.meta.scheme_names() {
        fn scope<'a>(
            rule: &str,
            metric: &'a str,
            scheme: &'a str,
            family: &'a str,
            severity: Option<String>,
        ) -> Scope<'a> {
            Scope {
                rule: rule.to_string(),
                metric,
                scheme,
                family,
                severity,
                bounds: (None, None),
            }
        }
        let scope = |family, severity| scope(&rule, &base.metric, &scheme, family, severity);
        if !base.cells.iter().any(|b| b.scheme == scheme) {
            checks.push(scope("*", None).skip("scheme not in the baseline"));
            continue;
        }
        // Families whose cells one side lacks are listed once each, never dropped silently.
        let (mut not_in_base, mut not_here): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        for now in cells.iter().filter(|c| c.scheme == scheme) {
            let Some(before) = base.cells.iter().find(|b| same(b, now)) else {
                if !not_in_base.contains(&now.family.as_str()) {
                    not_in_base.push(&now.family);
                }
                continue;
            };
            let severity = match (now.family == CLEAN, now.severity_lo == now.severity_hi) {
                (true, _) => None,
                (false, true) => Some(now.severity_lo.to_string()),
                (false, false) => Some(format!("{}-{}", now.severity_lo, now.severity_hi)),
            };
            // A family's pooled cell is keyed by the whole range whatever severities ran: two runs
            // (made comparable by --allow-mismatch) may pool different ones, and severity 3 read against
            // severity 1 alone is no regression.
            if now.family != CLEAN && now.severity_lo != now.severity_hi {
                let here = held_severities(
                    cells
                        .iter()
                        .map(|c| (&c.scheme, &c.family, c.severity_lo, c.severity_hi)),
                    now,
                );
                let there = held_severities(
                    base.cells
                        .iter()
                        .map(|b| (&b.scheme, &b.family, b.severity_lo, b.severity_hi)),
                    now,
                );
                if here != there {
                    checks.push(scope(&now.family, severity).skip(format!(
                        "pooled over severities {} here, {} in the baseline",
                        list_severities(&here),
                        list_severities(&there)
                    )));
                    continue;
                }
            }
            let p = now.primary();
            let min = Some(before.value - base.max_drop);
            // The bound is the baseline's own estimate, uncertain too, and whether this run fell below it
            // is a paired question this run's interval alone does not answer: no settled status.
            checks.push(scope(&now.family, severity).judge(
                p.value,
                Some(p.ci),
                Some(now.examples),
                (min, None),
                Judge::Point,
                false,
            ));
        }
        for b in base.cells.iter().filter(|b| b.scheme == scheme) {
            if !cells.iter().any(|c| same(b, c)) && !not_here.contains(&b.family.as_str()) {
                not_here.push(&b.family);
            }
        }
        for family in not_in_base {
            checks.push(scope(family, None).skip("not (or not at every severity) in the baseline"));
        }
        for family in not_here {
            checks.push(scope(family, None).skip("in the baseline, not (or not at every severity) in this run"));
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::results::EvalRow;
    use crate::analysis::summary::{build, RunMeta, SchemeInfo, TaskInfo, WeightStats};

    /// f32 is right on 10/10 clean inputs, 9/10 at typo 1, 5/10 at typo 5; int8 loses one more
    /// everywhere and is 4x smaller.
    fn rows() -> Vec<EvalRow> {
        let mut rows = Vec::new();
        for (scheme, lose) in [("f32", 0), ("int8", 1)] {
            for i in 0..10 {
                let id = i.to_string();
                let mk = |family: &str, severity: u8, correct: bool| {
                    EvalRow::labelled(scheme, family, severity, &id, if correct { "a" } else { "b" })
                };
                rows.push(mk(CLEAN, 0, i >= lose));
                rows.push(mk("typo", 1, i < 9 && i >= lose));
                rows.push(mk("typo", 5, i < 5 && i >= lose));
            }
        }
        rows
    }

    /// Two runs made comparable with --allow-mismatch may pool other severities under one family: the
    /// pooled cell of typo 1 and 5 read against a baseline that ran typo 1 alone is skipped, not failed
    /// (it failed every scheme for the drop severity 5 adds), while severity 1 is still judged.
    #[test]
    fn a_pooled_cell_of_other_severities_than_the_baseline_is_skipped() {
        let meta = || RunMeta {
            schemes: vec![SchemeInfo {
                name: "f32".into(),
                ..Default::default()
            }],
            families: vec!["typo".into()],
            task: TaskInfo {
                measures: vec!["accuracy".into()],
                ..Default::default()
            },
            ..Default::default()
        };
        let rows: Vec<EvalRow> = rows().into_iter().filter(|r| r.scheme == "f32").collect();
        let mild: Vec<EvalRow> = rows.iter().filter(|r| r.severity <= 1).cloned().collect();
        let base = Baseline::from_summary("mild", &build(meta(), &mild, &[]), 2.0);
        let checks = baseline_checks(&build(meta(), &rows, &[]), &base);
        let find = |severity: &str| {
            checks
                .iter()
                .find(|c| c.family == "typo" && c.severity.as_deref() == Some(severity))
        };
        let pooled = find("1-5").expect("the pooled cell is listed");
        assert_eq!(pooled.status, Status::Skip, "{pooled:?}");
        assert!(
            pooled.reason.contains("severities 1, 5 here, 1 in the baseline"),
            "{}",
            pooled.reason
        );
        assert_eq!(find("1").map(|c| c.status), Some(Status::Pass));
        // The same severities on both sides: judged.
        let same = baseline_checks(
            &build(meta(), &rows, &[]),
            &Baseline::from_summary("b", &build(meta(), &rows, &[]), 2.0),
        );
        assert!(same.iter().all(|c| c.status == Status::Pass), "{same:?}");
    }

    fn rule(metric: &str, family: &str, severity: Option<&str>, min: Option<f64>, max: Option<f64>) -> GateRule {
        GateRule {
            metric: metric.into(),
            scheme: "*".into(),
            family: family.into(),
            severity: severity.map(String::from),
            min,
            max,
            on: Judge::Point,
        }
    }

    fn verdict_with(rules: Vec<GateRule>, policy: Policy, families: &[&str]) -> Verdict {
        verdict_of(rules, policy, families, false)
    }

    /// The fixture's verdict; `int8_first` lists int8 first, making it the run's reference.
    fn verdict_of(rules: Vec<GateRule>, policy: Policy, families: &[&str], int8_first: bool) -> Verdict {
        verdict_timed(rules, policy, families, int8_first, &[])
    }

    /// As `verdict_of`, with (sustained items/s, stability) per scheme in run order.
    fn verdict_timed(
        rules: Vec<GateRule>,
        policy: Policy,
        families: &[&str],
        int8_first: bool,
        speeds: &[(f64, f64)],
    ) -> Verdict {
        let info = |name: &str, bytes| SchemeInfo {
            name: name.into(),
            weights: WeightStats {
                weight_bytes: bytes,
                ..Default::default()
            },
            ..Default::default()
        };
        let meta = RunMeta {
            schemes: match int8_first {
                false => vec![info("f32", 400), info("int8", 100)],
                true => vec![info("int8", 100), info("f32", 400)],
            },
            families: families.iter().map(|f| f.to_string()).collect(),
            gate_rules: rules,
            policy,
            task: TaskInfo {
                measures: vec!["accuracy".into()],
                ..Default::default()
            },
            ..Default::default()
        };
        let rows = rows();
        let mut summary = build(meta, &rows, &[]);
        for (s, &(speed, stability)) in summary.schemes.iter_mut().zip(speeds) {
            s.throughput = Some(crate::eval::sustain::ThroughputSummary {
                sustained_items_per_s: speed.abs(),
                stability,
                // Negative speeds stand for one window (a sustain phase too short to show a spread).
                windows: if speed < 0.0 { 1 } else { 12 },
                ..Default::default()
            });
        }
        let index = RowIndex::new(&rows, &summary.meta.task.measures, 0);
        evaluate(&summary, &index)
    }

    #[test]
    fn a_throughput_bound_inside_the_windows_spread_is_unsettled() {
        // f32 at 4567 items/s with windows 9% apart against a floor of 4900: failed, but the windows
        // reach past 4900, so another run may pass; int8 at 8000 and steady is clear of it.
        let r = rule("sustained_items_per_s", CLEAN, None, Some(4900.0), None);
        let v = verdict_timed(vec![r], Policy::All, &[], false, &[(4567.0, 0.91), (8000.0, 0.95)]);
        let (f32, int8) = (&v.checks[0], &v.checks[1]);
        assert_eq!((f32.status, f32.settled), (Status::Fail, Some(false)), "{f32:?}");
        assert!(
            f32.reason
                .ends_with("; unsettled: the windows' spread (4156 to 5019 items/s) crosses 4900"),
            "{f32:?}"
        );
        assert_eq!((int8.status, int8.settled), (Status::Pass, Some(true)), "{int8:?}");
    }

    /// One window of throughput has no spread: a check on it is unsettled however far from its bound.
    #[test]
    fn a_throughput_check_on_one_window_is_unsettled() {
        let r = rule("sustained_items_per_s", CLEAN, None, Some(4900.0), None);
        let v = verdict_timed(vec![r], Policy::All, &[], false, &[(-8000.0, 1.0), (8000.0, 1.0)]);
        let (one, many) = (&v.checks[0], &v.checks[1]);
        assert_eq!((one.status, one.settled), (Status::Pass, Some(false)), "{one:?}");
        assert!(
            one.reason.contains("1 window(s) of throughput show no spread"),
            "{one:?}"
        );
        assert_eq!((many.status, many.settled), (Status::Pass, Some(true)), "{many:?}");
    }

    fn verdict(rules: Vec<GateRule>) -> Verdict {
        verdict_with(rules, Policy::All, &["typo"])
    }

    #[test]
    fn clean_accuracy_and_drop_rules() {
        assert!(verdict(vec![rule("accuracy", CLEAN, None, Some(85.0), None)]).passed);
        let mild = verdict(vec![rule("drop", "typo", Some("1"), None, Some(10.0))]);
        assert!(mild.passed, "{:?}", mild.checks);
        assert!((mild.checks[0].measured.unwrap() - 10.0).abs() < 1e-9);
        assert!((mild.checks[0].margin.unwrap() - 0.0).abs() < 1e-9);
        let all = verdict(vec![rule("drop", "*", None, None, Some(20.0))]);
        assert!(!all.passed);
        assert!(
            all.checks[0].reason.contains("above the maximum 20"),
            "{}",
            all.checks[0].reason
        );
        assert!(all.checks[0].reason.contains("95% interval"));
    }

    /// A figure that is its bound up to floating-point rounding meets it (a mean of field accuracies
    /// gave 91.99999999999999 for 92, and a 100 % proportion's interval ended at 99.99999999999999).
    #[test]
    fn a_figure_on_its_bound_up_to_rounding_meets_it() {
        let scope = Scope {
            rule: "r".into(),
            metric: "field_accuracy",
            scheme: "f32",
            family: CLEAN,
            severity: None,
            bounds: (Some(92.0), None),
        };
        let c = scope.judge(
            91.99999999999999,
            None,
            Some(10),
            (Some(92.0), None),
            Judge::Point,
            true,
        );
        assert_eq!(c.status, Status::Pass, "{c:?}");
        let c = scope.judge(
            100.0,
            Some([72.25, 99.99999999999999]),
            Some(10),
            (Some(100.0), None),
            Judge::Interval,
            true,
        );
        assert_eq!(c.status, Status::Pass, "{c:?}");
        let c = scope.judge(91.9999, None, Some(10), (Some(92.0), None), Judge::Point, true);
        assert_eq!(c.status, Status::Fail, "{c:?}");
    }

    #[test]
    fn interval_judging_forgives_a_noisy_miss_but_not_a_clear_one() {
        // Drop at severity 1 is 10 points on 10 examples: its interval reaches well below 5.
        let mut r = rule("drop", "typo", Some("1"), None, Some(5.0));
        r.scheme = "f32".into();
        assert!(!verdict(vec![r.clone()]).passed);
        r.on = Judge::Interval;
        let v = verdict(vec![r.clone()]);
        assert!(v.passed);
        // Passed, but not within the bound: the check and the recommendation say so.
        assert!(
            v.checks[0]
                .reason
                .contains("the estimate is out of bounds, its interval is not"),
            "{:?}",
            v.checks
        );
        // Its margin is the estimate's: 5 points past the bound, not the interval's far end.
        assert!((v.checks[0].margin.unwrap() + 5.0).abs() < 1e-9, "{:?}", v.checks[0]);
        let rec = v.recommendation.unwrap();
        assert_eq!(rec.scheme, "f32", "int8 is smaller, but no rule judged it");
        assert!(
            rec.reason
                .ends_with("int8 is not recommended: no rule of the gate judged it"),
            "{rec:?}"
        );
        assert_eq!(rec.interval_only.len(), 1, "{rec:?}");
        assert!(
            rec.interval_only[0].starts_with("drop under typo at severity 1 <= 5"),
            "{rec:?}"
        );
        // Drop at severity 5 is 50 points: even its lower bound is above 20.
        r.severity = Some("5".into());
        r.max = Some(10.0);
        assert!(!verdict(vec![r]).passed);
    }

    #[test]
    fn a_check_whose_interval_crosses_its_bound_is_unsettled_and_the_recommendation_says_so() {
        // Clean accuracy on 10 examples: f32 10/10 (Wilson 72.2 to 100), int8 9/10 (59.6 to 98.2).
        let v = verdict(vec![rule("accuracy", CLEAN, None, Some(80.0), None)]);
        assert!(v.passed);
        assert!(
            v.checks.iter().all(|c| c.unsettled() && c.n == Some(10)),
            "{:?}",
            v.checks
        );
        assert!(v.schemes.iter().all(|s| s.unsettled == 1), "{:?}", v.schemes);
        assert!(v.checks[0]
            .reason
            .ends_with("within bounds; unsettled at n 10: its interval crosses 80"));
        let rec = v.recommendation.unwrap();
        assert_eq!(rec.scheme, "int8");
        assert_eq!(rec.unsettled.len(), 1, "{rec:?}");
        assert_eq!(rec.settled_pick, None);
        assert_eq!(
            rec.settled_reason.as_deref(),
            Some("no scheme passes with every check settled")
        );

        // At 65 f32's interval is wholly above the floor, int8's is not: int8 is still the smallest
        // passing scheme, and f32 is named as the pick among the settled ones.
        let v = verdict(vec![rule("accuracy", CLEAN, None, Some(65.0), None)]);
        let settled: Vec<Option<bool>> = v.checks.iter().map(|c| c.settled).collect();
        assert_eq!(settled, [Some(true), Some(false)]);
        let rec = v.recommendation.unwrap();
        assert_eq!(rec.scheme, "int8");
        assert_eq!(rec.settled_pick.as_deref(), Some("f32"));
        assert_eq!(
            rec.settled_reason.as_deref(),
            Some("f32, the only passing scheme whose every check is settled (0.0 MB of weights)")
        );

        // Judged as settled, int8's unsettled pass is a fail and f32 is the one to ship.
        let mut strict = rule("accuracy", CLEAN, None, Some(65.0), None);
        strict.on = Judge::Settled;
        let v = verdict(vec![strict]);
        assert!(!v.passed);
        let int8 = v.checks.iter().find(|c| c.scheme == "int8").unwrap();
        assert_eq!(int8.status, Status::Fail);
        assert!(
            int8.reason
                .contains("the estimate is within bounds, its interval is not"),
            "{int8:?}"
        );
        let rec = v.recommendation.unwrap();
        assert_eq!((rec.scheme.as_str(), rec.settled_pick), ("f32", None));

        // A fail is unsettled too when its interval reaches back across the bound; a clear one is not.
        let v = verdict(vec![rule("drop", "typo", Some("1"), None, Some(5.0))]);
        assert!(
            v.checks.iter().all(|c| c.status == Status::Fail && c.unsettled()),
            "{:?}",
            v.checks
        );
        // (50 points on 10 pairs: Newcombe's paired interval reaches down to 8.2 for int8, past a bound of
        // 10 but not of 5.)
        let v = verdict(vec![rule("drop", "typo", Some("5"), None, Some(5.0))]);
        assert!(
            v.checks
                .iter()
                .all(|c| c.status == Status::Fail && c.settled == Some(true)),
            "{:?}",
            v.checks
        );
    }

    #[test]
    fn the_tightest_check_is_an_unsettled_one_before_any_settled_margin() {
        // int8 passes a steady throughput floor by 10 items/s (settled: its windows never dip) and a
        // clean accuracy floor by 25 points on 10 examples (unsettled: 59.6 to 98.2 crosses 65). The
        // points are in other units than the items/s, and only the second may fail on more inputs.
        let rules = vec![
            rule("sustained_items_per_s", CLEAN, None, Some(7990.0), None),
            rule("accuracy", CLEAN, None, Some(65.0), None),
        ];
        let v = verdict_timed(rules, Policy::All, &[], false, &[(9000.0, 1.0), (8000.0, 1.0)]);
        let rec = v.recommendation.unwrap();
        assert_eq!(rec.scheme, "int8");
        assert!(rec.tightest.as_deref().unwrap().starts_with("accuracy"), "{rec:?}");
        assert!((rec.margin.unwrap() - 25.0).abs() < 1e-9, "{rec:?}");
        // Settled everywhere (a floor of 50), the smallest margin is the tightest again.
        let rules = vec![
            rule("sustained_items_per_s", CLEAN, None, Some(7990.0), None),
            rule("accuracy", CLEAN, None, Some(50.0), None),
        ];
        let v = verdict_timed(rules, Policy::All, &[], false, &[(9000.0, 1.0), (8000.0, 1.0)]);
        let rec = v.recommendation.unwrap();
        assert!(
            rec.tightest.as_deref().unwrap().starts_with("sustained_items_per_s"),
            "{rec:?}"
        );
    }

    #[test]
    fn scopes_the_run_did_not_ask_for_are_skipped_and_empty_ones_fail() {
        // Each skip is listed with its reason and the rule's bounds; a clean rule that applies keeps
        // the scheme checked, so the skips alone do not fail it.
        let applies = || rule("accuracy", CLEAN, None, Some(1.0), None);
        let v = verdict(vec![rule("accuracy", "ocr", None, Some(1.0), None), applies()]);
        let skip = &v.checks[0];
        assert!(v.passed && skip.status == Status::Skip, "{:?}", v.checks);
        assert!(skip.reason.contains("family not in this run") && skip.min == Some(1.0));
        let v = verdict(vec![rule("drop", "typo", Some("3"), None, Some(1.0)), applies()]);
        assert!(v.passed && v.checks[0].reason.contains("severity 3 not in this run"));
        // The recommendation passed the clean rule only, and says the noise rule was not judged.
        let rec = v.recommendation.unwrap();
        assert_eq!(rec.unjudged.len(), 1, "{rec:?}");
        assert!(
            rec.unjudged[0].starts_with("drop under typo at severity 3 <= 1"),
            "{rec:?}"
        );
        assert!(rec.unjudged[0].ends_with("(severity 3 not in this run)"), "{rec:?}");
        let v = verdict(vec![
            rule("sustained_items_per_s", CLEAN, None, Some(1.0), None),
            applies(),
        ]);
        assert!(v.passed && v.checks[0].reason.contains("no sustain phase"));
        let v = verdict(vec![rule("acc_norm", CLEAN, None, Some(1.0), None), applies()]);
        assert!(v.passed && v.checks[0].reason.contains("not measured"));
        // A rule for a scheme the run did not ask for is that scheme's skip; the run's schemes had no
        // rule, so nothing was judged and the gate does not pass.
        let mut named = applies();
        named.scheme = "q4_0".into();
        let v = verdict(vec![named]);
        assert!(!v.passed && v.checks[0].status == Status::Skip && v.checks[0].scheme == "q4_0");
        // Every rule skipped for a scheme: nothing was checked, and the gate does not pass on nothing.
        let v = verdict(vec![rule("accuracy", "ocr", None, Some(1.0), None)]);
        assert!(!v.passed, "{:?}", v.checks);
        let nothing = v.checks.iter().find(|c| c.status == Status::Fail).unwrap();
        assert!(nothing.reason.contains("nothing was checked"), "{nothing:?}");
    }

    #[test]
    fn every_scheme_gets_a_verdict_and_the_policy_decides_the_run() {
        // f32 is 100% clean, int8 90%: a 95% rule fails int8 only.
        let strict = || vec![rule("accuracy", CLEAN, None, Some(95.0), None)];
        let all = verdict_with(strict(), Policy::All, &["typo"]);
        let by_scheme: Vec<(&str, bool)> = all.schemes.iter().map(|v| (v.scheme.as_str(), v.passed)).collect();
        assert_eq!(by_scheme, [("f32", true), ("int8", false)]);
        assert!(!all.passed);
        assert!(verdict_with(strict(), Policy::Any, &["typo"]).passed);
        assert!(verdict_with(strict(), Policy::Ship("f32".into()), &["typo"]).passed);
        assert!(!verdict_with(strict(), Policy::Ship("int8".into()), &["typo"]).passed);
        assert!(!verdict_with(strict(), Policy::Ship("q4_0".into()), &["typo"]).passed);
        // The recommendation is the smallest passing scheme, with its tightest margin.
        let rec = all.recommendation.unwrap();
        assert_eq!(rec.scheme, "f32");
        assert!((rec.margin.unwrap() - 5.0).abs() < 1e-9, "{rec:?}");
        let loose = verdict_with(vec![rule("accuracy", CLEAN, None, Some(85.0), None)], Policy::All, &[]);
        let loose = loose.recommendation.unwrap();
        assert_eq!(loose.scheme, "int8", "4x smaller and passing");
        assert!(loose.unjudged.is_empty(), "every rule was judged: {loose:?}");
        let none = verdict_with(vec![rule("accuracy", CLEAN, None, Some(101.0), None)], Policy::Any, &[]);
        assert!(!none.passed && none.recommendation.is_none());
        // A rule that judges f32 only: int8 is unjudged, so shipping it does not pass, nor does it count
        // for "any" (f32 does); "all" passes on f32 judged and int8 not failed.
        let mut only_f32 = rule("accuracy", CLEAN, None, Some(50.0), None);
        only_f32.scheme = "f32".into();
        assert!(!verdict_with(vec![only_f32.clone()], Policy::Ship("int8".into()), &[]).passed);
        assert!(verdict_with(vec![only_f32.clone()], Policy::Ship("f32".into()), &[]).passed);
        assert!(verdict_with(vec![only_f32.clone()], Policy::Any, &[]).passed);
        assert!(verdict_with(vec![only_f32], Policy::All, &[]).passed);
    }

    #[test]
    fn the_reference_is_not_judged_against_itself() {
        // int8 answers 9 of 10 clean inputs where f32 answers 10: ten points fewer.
        let delta = || vec![rule("delta_vs_reference", CLEAN, None, Some(-5.0), None)];
        let v = verdict_of(delta(), Policy::All, &[], false);
        let mine = |v: &Verdict, s: &str| v.checks.iter().filter(|c| c.scheme == s).cloned().collect::<Vec<_>>();
        assert_eq!(mine(&v, "int8")[0].status, Status::Fail, "{:?}", v.checks);
        assert!(mine(&v, "f32").is_empty(), "f32 is the yardstick: {:?}", v.checks);
        assert!(
            v.schemes[0].passed && v.recommendation.is_none(),
            "nothing judged f32, int8 failed"
        );
        // Listed first (a run planned outside the CLI, which puts f32 first), int8 is the reference:
        // it is not passed on a delta of 0 against itself; with nothing else judged, it fails.
        let v = verdict_of(delta(), Policy::All, &[], true);
        let int8 = mine(&v, "int8");
        assert_eq!(int8[0].status, Status::Skip, "{int8:?}");
        assert!(int8[0].reason.ends_with("run f32 beside it to judge it"), "{int8:?}");
        assert!(!v.schemes.iter().find(|s| s.scheme == "int8").unwrap().passed);
        let rec = v.recommendation.unwrap();
        assert_eq!(rec.scheme, "f32");
        assert!(
            rec.reason.starts_with("the only passing scheme"),
            "one scheme is no choice: {rec:?}"
        );
        // Recommended on the other rules, f32 says which rules measure the others against it.
        let mut rules = delta();
        rules.push(rule("accuracy", CLEAN, None, Some(50.0), None));
        let rec = verdict_of(rules, Policy::All, &[], false).recommendation.unwrap();
        assert_eq!(rec.scheme, "f32");
        assert_eq!(
            rec.unjudged,
            ["delta_vs_reference on clean inputs >= -5 (f32 is the reference it is measured against)"]
        );
    }

    #[test]
    fn validation_names_the_rule_and_the_metrics() {
        let metrics = vec!["accuracy".to_string()];
        let r = rule("drop", CLEAN, None, None, Some(1.0));
        assert!(r
            .validate("s.toml", 3, &metrics)
            .unwrap_err()
            .to_string()
            .contains("gate.rules[3]"));
        let r = rule("accuracy", CLEAN, Some("0-9"), Some(1.0), None);
        assert!(r.validate("s.toml", 0, &metrics).is_err());
        let err = rule("speed", CLEAN, None, Some(1.0), None)
            .validate("s.toml", 0, &metrics)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"speed\"") && err.contains("accuracy, drop"), "{err}");
        let mut r = rule("accuracy", CLEAN, None, Some(f64::NAN), None);
        assert!(r.validate("s.toml", 0, &metrics).is_err());
        r.min = Some(1.0);
        assert!(r.validate("s.toml", 0, &metrics).is_ok());
        // A percent bound no value can meet.
        let mut r = rule("accuracy", CLEAN, None, Some(150.0), None);
        let err = r.validate("s.toml", 0, &metrics).unwrap_err().to_string();
        assert!(err.contains("no value can pass these bounds"), "{err}");
        r.min = Some(100.0);
        assert!(r.validate("s.toml", 0, &metrics).is_ok());
        let r = rule("delta_vs_reference", CLEAN, None, None, Some(-120.0));
        assert!(r.validate("s.toml", 0, &metrics).is_err());
    }

    #[test]
    fn numbers_for_people_are_rounded() {
        assert_eq!(round2(84.61904761904762), "84.62");
        assert_eq!(round2(95.0), "95");
        assert_eq!(round2(-0.001), "0");
        assert_eq!(round2(2.5), "2.5");
    }
}
