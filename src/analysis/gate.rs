//! The pre-ship gate: rules from `suite.toml` (and an optional baseline run) checked against a run.
//!
//! ```toml
//! [gate]
//! baseline_max_drop = 2.0   # with --baseline: no accuracy may fall more than 2 points below the baseline's
//!
//! [[gate.rules]]
//! metric = "accuracy"       # accuracy | drop | flip_rate | agreement | delta_vs_reference
//!                           # | sustained_items_per_s | stability
//! scheme = "*"              # every scheme separately (default), or one scheme name
//! family = "clean"          # "clean" (default), a family or chain, or "*" for each family separately
//! severity = "1-2"          # severities pooled into one figure (default: all)
//! min = 95.0                # and/or max
//! on = "point"              # "point" (default) or "interval": fail only when the whole 95% interval is out of bounds
//! ```

use serde::{Deserialize, Serialize};

use crate::analysis::metrics::{Cell, RowIndex};
use crate::analysis::results::CLEAN;
use crate::analysis::summary::Summary;

/// What a rule measures. Accuracy-like metrics are in percent, drops and deltas in points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Accuracy,
    Drop,
    FlipRate,
    Agreement,
    DeltaVsReference,
    SustainedItemsPerS,
    Stability,
}

impl Metric {
    fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::Drop => "drop",
            Metric::FlipRate => "flip_rate",
            Metric::Agreement => "agreement",
            Metric::DeltaVsReference => "delta_vs_reference",
            Metric::SustainedItemsPerS => "sustained_items_per_s",
            Metric::Stability => "stability",
        }
    }

    fn is_throughput(self) -> bool {
        matches!(self, Metric::SustainedItemsPerS | Metric::Stability)
    }

    /// The point estimate and 95% interval of this metric in a cell.
    fn of(self, c: &Cell) -> (f64, Option<[f64; 2]>) {
        match self {
            Metric::Accuracy => (c.accuracy, Some(c.accuracy_ci)),
            Metric::Drop => (c.drop, Some(c.drop_ci)),
            Metric::FlipRate => (c.flip_rate, Some(c.flip_rate_ci)),
            Metric::Agreement => (c.agreement, Some(c.agreement_ci)),
            Metric::DeltaVsReference => (c.delta_vs_reference, Some(c.delta_vs_reference_ci)),
            Metric::SustainedItemsPerS | Metric::Stability => (0.0, None),
        }
    }
}

/// Judge a rule on the point estimate, or fail only when the whole interval is out of bounds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Judge {
    #[default]
    Point,
    Interval,
}

/// One rule of `[gate]`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GateRule {
    pub metric: Metric,
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

/// Accuracy figures of a baseline run that the current run must not fall below by more than `max_drop` points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub source: String,
    pub max_drop: f64,
    /// Accuracy of every cell of the baseline: clean, each family pooled, each family x severity.
    pub accuracies: Vec<BaselineCell>,
}

/// One accuracy figure of a baseline run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineCell {
    pub scheme: String,
    pub family: String,
    pub severity_lo: u8,
    pub severity_hi: u8,
    pub accuracy: f64,
}

impl Baseline {
    /// Takes the accuracy figures of a baseline summary.
    pub fn from_summary(source: &str, baseline: &Summary, max_drop: f64) -> Self {
        let accuracies = baseline
            .cells()
            .into_iter()
            .map(|c| BaselineCell {
                scheme: c.scheme.clone(),
                family: c.family.clone(),
                severity_lo: c.severity_lo,
                severity_hi: c.severity_hi,
                accuracy: c.accuracy,
            })
            .collect();
        Baseline {
            source: source.into(),
            max_drop,
            accuracies,
        }
    }
}

/// One rule checked in one scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub rule: String,
    pub scheme: String,
    pub family: String,
    pub measured: Option<f64>,
    pub interval: Option<[f64; 2]>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub passed: bool,
    pub reason: String,
}

/// The gate's verdict with every check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub passed: bool,
    pub checks: Vec<Check>,
}

impl GateRule {
    /// Validates bounds and the severity range; `origin` names the file for errors.
    pub fn validate(&self, origin: &str, index: usize) -> Result<(), crate::Error> {
        let at = |m: String| crate::Error::input(origin, format!("gate.rules[{index}]: {m}"));
        if self.min.is_none() && self.max.is_none() {
            return Err(at("expected a bound: min, max or both".into()));
        }
        if matches!(self.metric, Metric::Drop | Metric::FlipRate) && self.family == CLEAN {
            return Err(at(format!(
                "metric \"{}\" needs a corrupted family, not \"clean\"",
                self.metric.name()
            )));
        }
        if self.metric.is_throughput() && self.on == Judge::Interval {
            return Err(at("throughput metrics have no interval; use on = \"point\"".into()));
        }
        self.severity_range().map_err(at)?;
        Ok(())
    }

    fn severity_range(&self) -> Result<(u8, u8), String> {
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
        let mut s = self.metric.name().to_string();
        if !self.metric.is_throughput() {
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
            s.push_str(&format!(" >= {m}"));
        }
        if let Some(m) = self.max {
            s.push_str(&format!(" <= {m}"));
        }
        if self.on == Judge::Interval {
            s.push_str(" (judged on the 95% interval)");
        }
        s
    }
}

/// Checks every rule of the run (and its baseline) against its summary. Scopes with no results fail:
/// a gate must not pass on nothing.
pub fn evaluate(summary: &Summary, index: &RowIndex) -> Verdict {
    let schemes = summary.meta.scheme_names();
    let mut checks = Vec::new();
    for rule in &summary.meta.gate_rules {
        let in_scope: Vec<&String> = schemes
            .iter()
            .filter(|s| rule.scheme == "*" || **s == rule.scheme)
            .collect();
        if in_scope.is_empty() {
            checks.push(missing(
                rule.describe(),
                &rule.scheme,
                &rule.family,
                "no such scheme in this run",
            ));
        }
        let families: Vec<String> = match rule.family.as_str() {
            "*" if !rule.metric.is_throughput() => summary.meta.families.clone(),
            f => vec![f.to_string()],
        };
        let (lo, hi) = rule.severity_range().unwrap_or((1, 5));
        for scheme in in_scope {
            if rule.metric.is_throughput() {
                let t = summary.scheme(scheme).and_then(|s| s.throughput.as_ref());
                let value = t.map(|t| {
                    if rule.metric == Metric::Stability {
                        t.stability
                    } else {
                        t.sustained_items_per_s
                    }
                });
                checks.push(match value {
                    Some(v) => judge(rule.describe(), scheme, "-", v, None, rule.min, rule.max, Judge::Point),
                    None => missing(
                        rule.describe(),
                        scheme,
                        "-",
                        "no throughput measured (run without --no-sustain)",
                    ),
                });
                continue;
            }
            for family in &families {
                let cell = index.cell(scheme, family, lo, hi);
                if cell.n == 0 {
                    checks.push(missing(rule.describe(), scheme, family, "no results in this scope"));
                    continue;
                }
                let (value, interval) = rule.metric.of(&cell);
                checks.push(judge(
                    rule.describe(),
                    scheme,
                    family,
                    value,
                    interval,
                    rule.min,
                    rule.max,
                    rule.on,
                ));
            }
        }
    }
    if let Some(base) = &summary.meta.baseline {
        let cells = summary.cells();
        for b in &base.accuracies {
            let same = |c: &&&Cell| {
                c.scheme == b.scheme
                    && c.family == b.family
                    && c.severity_lo == b.severity_lo
                    && c.severity_hi == b.severity_hi
            };
            let Some(now) = cells.iter().find(same) else { continue };
            let (scheme, before) = (&b.scheme, &b.accuracy);
            let family = match (b.family == CLEAN, b.severity_lo == b.severity_hi) {
                (true, _) => b.family.clone(),
                (false, true) => format!("{}@{}", b.family, b.severity_lo),
                (false, false) => format!("{}@{}-{}", b.family, b.severity_lo, b.severity_hi),
            };
            let family = &family;
            let rule = format!(
                "accuracy no more than {} points below baseline {}",
                base.max_drop, base.source
            );
            let min = before - base.max_drop;
            checks.push(judge(
                rule,
                scheme,
                family,
                now.accuracy,
                Some(now.accuracy_ci),
                Some(min),
                None,
                Judge::Point,
            ));
        }
    }
    Verdict {
        passed: checks.iter().all(|c| c.passed),
        checks,
    }
}

#[allow(clippy::too_many_arguments)]
fn judge(
    rule: String,
    scheme: &str,
    family: &str,
    value: f64,
    interval: Option<[f64; 2]>,
    min: Option<f64>,
    max: Option<f64>,
    on: Judge,
) -> Check {
    let (high, low) = match (on, interval) {
        (Judge::Interval, Some([a, b])) => (b, a),
        _ => (value, value),
    };
    let below = min.is_some_and(|m| high < m);
    let above = max.is_some_and(|m| low > m);
    let ci = interval
        .map(|[a, b]| format!(" (95% interval {a:.2} to {b:.2})"))
        .unwrap_or_default();
    let reason = if below {
        format!("{value:.2}{ci} is below the minimum {}", min.unwrap_or_default())
    } else if above {
        format!("{value:.2}{ci} is above the maximum {}", max.unwrap_or_default())
    } else {
        format!("{value:.2}{ci} within bounds")
    };
    Check {
        rule,
        scheme: scheme.into(),
        family: family.into(),
        measured: Some(value),
        interval,
        min,
        max,
        passed: !below && !above,
        reason,
    }
}

fn missing(rule: String, scheme: &str, family: &str, reason: &str) -> Check {
    Check {
        rule,
        scheme: scheme.into(),
        family: family.into(),
        measured: None,
        interval: None,
        min: None,
        max: None,
        passed: false,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::results::EvalRow;
    use crate::analysis::summary::{build, RunMeta, SchemeInfo};

    fn rows() -> Vec<EvalRow> {
        let mut rows = Vec::new();
        for i in 0..10 {
            let id = i.to_string();
            let mk = |family: &str, severity: u8, correct: bool| EvalRow {
                scheme: "f32".into(),
                example_id: id.clone(),
                family: family.into(),
                severity,
                correct,
                prediction: if correct { "a".into() } else { "b".into() },
                ..EvalRow::default()
            };
            rows.push(mk(CLEAN, 0, true));
            rows.push(mk("typo", 1, i < 9));
            rows.push(mk("typo", 5, i < 5));
        }
        rows
    }

    fn rule(metric: Metric, family: &str, severity: Option<&str>, min: Option<f64>, max: Option<f64>) -> GateRule {
        GateRule {
            metric,
            scheme: "*".into(),
            family: family.into(),
            severity: severity.map(String::from),
            min,
            max,
            on: Judge::Point,
        }
    }

    fn verdict(rules: Vec<GateRule>) -> Verdict {
        let meta = RunMeta {
            schemes: vec![SchemeInfo {
                name: "f32".into(),
                ..Default::default()
            }],
            families: vec!["typo".into()],
            gate_rules: rules,
            ..Default::default()
        };
        build(meta, &rows(), &[]).gate
    }

    #[test]
    fn clean_accuracy_and_drop_rules() {
        assert!(verdict(vec![rule(Metric::Accuracy, CLEAN, None, Some(95.0), None)]).passed);
        let mild = verdict(vec![rule(Metric::Drop, "typo", Some("1"), None, Some(10.0))]);
        assert!(mild.passed, "{:?}", mild.checks);
        assert!((mild.checks[0].measured.unwrap() - 10.0).abs() < 1e-9);
        let all = verdict(vec![rule(Metric::Drop, "*", None, None, Some(20.0))]);
        assert!(!all.passed);
        assert!(
            all.checks[0].reason.contains("above the maximum 20"),
            "{}",
            all.checks[0].reason
        );
        assert!(all.checks[0].reason.contains("95% interval"));
    }

    #[test]
    fn interval_judging_forgives_a_noisy_miss_but_not_a_clear_one() {
        // Drop at severity 1 is 10 points on 10 examples: its interval reaches well below 5.
        let mut r = rule(Metric::Drop, "typo", Some("1"), None, Some(5.0));
        assert!(!verdict(vec![r.clone()]).passed);
        r.on = Judge::Interval;
        assert!(verdict(vec![r.clone()]).passed);
        // Drop at severity 5 is 50 points: even its lower bound is above 20.
        r.severity = Some("5".into());
        r.max = Some(10.0);
        assert!(!verdict(vec![r]).passed);
    }

    #[test]
    fn empty_scopes_and_missing_throughput_fail() {
        assert!(!verdict(vec![rule(Metric::Accuracy, "ocr", None, Some(1.0), None)]).passed);
        assert!(!verdict(vec![rule(Metric::SustainedItemsPerS, CLEAN, None, Some(1.0), None)]).passed);
    }

    #[test]
    fn validation_names_the_rule() {
        let r = rule(Metric::Drop, CLEAN, None, None, Some(1.0));
        assert!(r
            .validate("s.toml", 3)
            .unwrap_err()
            .to_string()
            .contains("gate.rules[3]"));
        let r = rule(Metric::Accuracy, CLEAN, Some("0-9"), Some(1.0), None);
        assert!(r.validate("s.toml", 0).is_err());
    }
}
