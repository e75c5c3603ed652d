//! The pre-ship gate: rules from `suite.toml` (and an optional baseline run) checked against a run's
//! summary, scheme by scheme; a verdict per scheme, the run's verdict under the suite's policy, and
//! the scheme to ship.
//!
//! ```toml
//! [gate]
//! policy = "ship"           # "all" (default): every scheme must pass; "any": at least one; "ship": `ship` must
//! ship = "w4a16-awq-g128"
//! recommend = "smallest"    # or "fastest": which passing scheme to recommend
//! baseline_max_drop = 2.0   # with a baseline: no primary metric may fall more than 2 points below the baseline's
//!
//! [[gate.rules]]
//! metric = "accuracy"       # a metric of the task (accuracy, acc_norm, exact_match, field_accuracy,
//!                           # field_accuracy.<field>, invalid_rate), a paired one (drop, extra_drop,
//!                           # flip_rate, agreement, delta_vs_reference) or throughput (sustained_items_per_s, stability)
//! scheme = "*"              # every scheme separately (default), or one scheme name
//! family = "clean"          # "clean" (default), a family or chain, or "*" for each family separately
//! severity = "1-2"          # severities pooled into one figure (default: all)
//! min = 95.0                # and/or max
//! on = "point"              # "point" (default); "interval": fail only when the whole 95% interval is out of
//!                           # bounds; "settled": pass only when the whole 95% interval is within them
//! ```
//!
//! A rule whose scheme, family or severities the run did not ask for is skipped (and says so), not

use serde::{Deserialize, Serialize};

use crate::analysis::results::CLEAN;
use crate::task::kind::{DERIVED, THROUGHPUT};

/// What the run's verdict (and exit code) follows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Every scheme must pass.
    #[default]
    All,
    /// At least one scheme must pass.
    Any,
    /// The scheme the team intends to ship must pass.
    Ship(String),
}

impl Policy {
    pub fn describe(&self) -> String {
        match self {
            Policy::All => "every scheme must pass".into(),
            Policy::Any => "at least one scheme must pass".into(),
            Policy::Ship(s) => format!("the scheme to ship, {s}, must pass"),
        }
    }
}

/// Which passing scheme the gate recommends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preference {
    /// The fewest stored weight bytes.
    #[default]
    Smallest,
    /// The highest sustained items/s.
    Fastest,
}

/// What a rule judges: the point estimate, or its 95% interval leniently (fail only when the whole
/// interval is out of bounds) or strictly (pass only when the whole interval is within them). Under
/// `point` and `interval` a check whose interval crosses a bound is reported as unsettled; under
/// `settled` it fails, which a team that ships on the gate's exit code may want.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Judge {
    #[default]
    Point,
    Interval,
    Settled,
}

/// One rule of `[gate]`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GateRule {
    pub metric: String,
    #[serde(default = "star")]
    pub scheme: String,
    #[serde(default = "clean")]
    pub family: String,
    /// Severity range such as "1-2" or "3"; all severities when absent.
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub on: Judge,
}

fn star() -> String {
    "*".into()
}
fn clean() -> String {
    CLEAN.into()
}

pub fn is_throughput(metric: &str) -> bool {
    THROUGHPUT.contains(&metric)
}

/// A number for people: at most two decimals, no trailing zeros (`84.62`, `95`).
pub fn round2(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

impl GateRule {
    /// Validates the metric name (against `metrics`, the task's, plus the paired and throughput
    /// ones), bounds and the severity range; `origin` names the file for errors.
    pub fn validate(&self, origin: &str, index: usize, metrics: &[String]) -> Result<(), crate::Error> {
        let at = |m: String| crate::Error::input(origin, format!("gate.rules[{index}]: {m}"));
        let known =
            metrics.contains(&self.metric) || DERIVED.contains(&self.metric.as_str()) || is_throughput(&self.metric);
        if !known {
            let all: Vec<&str> = metrics
                .iter()
                .map(String::as_str)
                .chain(DERIVED)
                .chain(THROUGHPUT)
                .collect();
            return Err(at(format!(
                "metric \"{}\": expected one of {}",
                self.metric,
                all.join(", ")
            )));
        }
        if self.min.is_none() && self.max.is_none() {
            return Err(at("expected a bound: min, max or both".into()));
        }
        if self.min.is_some_and(|v| !v.is_finite()) || self.max.is_some_and(|v| !v.is_finite()) {
            return Err(at("bounds must be finite numbers".into()));
        }
        if let (Some(lo), Some(hi)) = (self.min, self.max) {
            if lo > hi {
                return Err(at(format!(
                    "min {} is above max {}: no value can pass",
                    round2(lo),
                    round2(hi)
                )));
            }
        }
        // Percents lie in 0..100 and differences of percents in -100..100: a bound beyond them fails
        // (or passes) every scheme whatever it measures.
        if !is_throughput(&self.metric) {
            let (lo, hi) = match self.metric.as_str() {
                "drop" | "extra_drop" | "delta_vs_reference" => (-100.0, 100.0),
                _ => (0.0, 100.0),
            };
            if self.min.is_some_and(|m| m > hi) || self.max.is_some_and(|m| m < lo) {
                return Err(at(format!(
                    "{} is measured in percent points within {lo}..{hi}: no value can pass these bounds",
                    self.metric
                )));
            }
        }
        // A misspelt scheme would be skipped as "not in this run" by every run: refuse it here.
        if self.scheme != "*" {
            if let Err(e) = self.scheme.parse::<crate::engine::Scheme>() {
                return Err(at(format!(
                    "scheme \"{}\": {e}, or \"*\" for every scheme",
                    self.scheme
                )));
            }
        }
        if ["drop", "extra_drop", "flip_rate"].contains(&self.metric.as_str()) && self.family == CLEAN {
            return Err(at(format!(
                "metric \"{}\" needs a corrupted family, not \"clean\"",
                self.metric
            )));
        }
        if is_throughput(&self.metric) && self.on != Judge::Point {
            return Err(at("throughput metrics have no interval; use on = \"point\"".into()));
        }
        self.severity_range().map_err(at)?;
        Ok(())
    }

    /// The rule's scheme as runs name it (an alias such as `w8a8` names `int8`).
    pub(super) fn scheme_name(&self) -> String {
        match self.scheme.parse::<crate::engine::Scheme>() {
            Ok(s) if self.scheme != "*" => s.to_string(),
            _ => self.scheme.clone(),
        }
    }

    pub fn severity_range(&self) -> Result<(u8, u8), String> {
        let Some(s) = &self.severity else { return Ok((1, 5)) };
        let bad = || format!("severity \"{s}\": expected a level 1-5 or a range such as 1-2");
        let (a, b) = s.split_once('-').unwrap_or((s, s));
        let (a, b): (u8, u8) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if a == 0 || b > 5 || a > b {
            return Err(bad());
        }
        Ok((a, b))
    }

    /// A one-line description such as "drop under typo at severity 1-2 <= 10".
    pub fn describe(&self) -> String {
        let mut s = self.metric.clone();
        if !is_throughput(&self.metric) {
            if self.family == CLEAN {
                s.push_str(" on clean inputs");
            } else {
                s.push_str(&format!(" under {}", self.family));
                if let Some(sev) = &self.severity {
                    s.push_str(&format!(" at severity {sev}"));
                }
            }
        }
        if let Some(m) = self.min {
            s.push_str(&format!(" >= {}", round2(m)));
        }
        if let Some(m) = self.max {
            s.push_str(&format!(" <= {}", round2(m)));
        }
        match self.on {
            Judge::Point => {}
            Judge::Interval => s.push_str(" (judged on the 95% interval)"),
            Judge::Settled => s.push_str(" (its whole 95% interval)"),
        }
        s
    }
}

/// The primary-metric figures of a baseline run that the current run must not fall below by more
/// than `max_drop` points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub source: String,
    pub max_drop: f64,
    /// The metric compared (the baseline's primary metric).
    pub metric: String,
    /// Every cell of the baseline: clean, each family pooled, each family x severity.
    pub cells: Vec<BaselineCell>,
    /// How the baseline run differs from this one, where comparing anyway was allowed.
    #[serde(default)]
    pub mismatches: Vec<String>,
}

/// One figure of a baseline run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineCell {
    pub scheme: String,
    pub family: String,
    pub severity_lo: u8,
    pub severity_hi: u8,
    pub value: f64,
}
