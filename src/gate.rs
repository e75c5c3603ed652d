//! The pre-ship gate: rules from `suite.toml` checked against a run's result rows.
//!
//! ```toml
//! [[gate.rules]]
//! metric = "accuracy"      # percent correct in the scope
//! scheme = "*"             # every scheme separately, or one scheme name
//! family = "clean"         # "clean", a family (or chain) name, or "*" for each family separately
//! min = 95.0
//!
//! [[gate.rules]]
//! metric = "drop"          # clean accuracy minus accuracy in the scope, in percentage points
//! family = "typo"
//! severity = "1-2"         # severities pooled into one figure
//! max = 10.0
//! ```

use serde::{Deserialize, Serialize};

use crate::results::{accuracy, EvalRow, CLEAN};

/// What a rule measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Accuracy in percent.
    Accuracy,
    /// Accuracy on clean inputs minus accuracy in the scope, in percentage points.
    Drop,
}

/// One rule of `[gate]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
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
}

fn star() -> String {
    "*".into()
}
fn clean() -> String {
    CLEAN.into()
}

/// One rule checked in one scope.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Check {
    pub rule: String,
    pub scheme: String,
    pub family: String,
    pub measured: Option<f64>,
    pub passed: bool,
    pub reason: String,
}

/// The gate's verdict with every check.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
        if self.metric == Metric::Drop && self.family == CLEAN {
            return Err(at("metric \"drop\" needs a corrupted family, not \"clean\"".into()));
        }
        self.severity_range().map_err(at)?;
        Ok(())
    }

    fn severity_range(&self) -> Result<(u8, u8), String> {
        let Some(s) = &self.severity else { return Ok((0, 5)) };
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

    fn describe(&self) -> String {
        let mut s = format!("{:?}", self.metric).to_lowercase();
        if self.family != CLEAN {
            s.push_str(&format!(" under {}", self.family));
            if let Some(sev) = &self.severity {
                s.push_str(&format!(" at severity {sev}"));
            }
        } else {
            s.push_str(" on clean inputs");
        }
        if let Some(m) = self.min {
            s.push_str(&format!(" >= {m}"));
        }
        if let Some(m) = self.max {
            s.push_str(&format!(" <= {m}"));
        }
        s
    }
}

/// Checks every rule against the rows of a run. Scopes with no rows fail: a gate must not pass on nothing.
pub fn evaluate(rules: &[GateRule], rows: &[EvalRow], schemes: &[String], families: &[String]) -> Verdict {
    let mut checks = Vec::new();
    for rule in rules {
        let scheme_scope: Vec<&String> = schemes
            .iter()
            .filter(|s| rule.scheme == "*" || **s == rule.scheme)
            .collect();
        let family_scope: Vec<String> = match rule.family.as_str() {
            "*" => families.to_vec(),
            f => vec![f.to_string()],
        };
        let (lo, hi) = rule.severity_range().unwrap_or((0, 5));
        if scheme_scope.is_empty() {
            checks.push(fail(rule, &rule.scheme, &rule.family, "no such scheme in this run"));
        }
        for scheme in scheme_scope {
            for family in &family_scope {
                let clean_acc = accuracy(rows, scheme, CLEAN, 0, 0);
                let scoped = if family == CLEAN {
                    clean_acc
                } else {
                    accuracy(rows, scheme, family, lo.max(1), hi)
                };
                let measured = match (rule.metric, clean_acc, scoped) {
                    (Metric::Accuracy, _, Some(a)) => Some(a),
                    (Metric::Drop, Some(c), Some(a)) => Some(c - a),
                    _ => None,
                };
                let Some(m) = measured else {
                    checks.push(fail(rule, scheme, family, "no results in this scope"));
                    continue;
                };
                let below = rule.min.is_some_and(|b| m < b);
                let above = rule.max.is_some_and(|b| m > b);
                let reason = if below {
                    format!("{m:.2} is below the minimum {}", rule.min.unwrap_or_default())
                } else if above {
                    format!("{m:.2} is above the maximum {}", rule.max.unwrap_or_default())
                } else {
                    format!("{m:.2} within bounds")
                };
                checks.push(Check {
                    rule: rule.describe(),
                    scheme: scheme.clone(),
                    family: family.clone(),
                    measured: Some(m),
                    passed: !below && !above,
                    reason,
                });
            }
        }
    }
    Verdict {
        passed: checks.iter().all(|c| c.passed),
        checks,
    }
}

fn fail(rule: &GateRule, scheme: &str, family: &str, reason: &str) -> Check {
    Check {
        rule: rule.describe(),
        scheme: scheme.into(),
        family: family.into(),
        measured: None,
        passed: false,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scheme: &str, family: &str, severity: u8, correct: bool) -> EvalRow {
        EvalRow {
            scheme: scheme.into(),
            example_id: "e".into(),
            family: family.into(),
            severity,
            correct,
            ..EvalRow::default()
        }
    }

    fn rows() -> Vec<EvalRow> {
        let mut rows = Vec::new();
        for i in 0..10 {
            rows.push(row("f32", CLEAN, 0, true));
            rows.push(row("f32", "typo", 1, i < 9));
            rows.push(row("f32", "typo", 5, i < 5));
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
        }
    }

    #[test]
    fn clean_accuracy_and_drop_rules() {
        let schemes = vec!["f32".to_string()];
        let families = vec!["typo".to_string()];
        let pass = evaluate(
            &[rule(Metric::Accuracy, CLEAN, None, Some(95.0), None)],
            &rows(),
            &schemes,
            &families,
        );
        assert!(pass.passed);
        let mild = evaluate(
            &[rule(Metric::Drop, "typo", Some("1"), None, Some(10.0))],
            &rows(),
            &schemes,
            &families,
        );
        assert!(mild.passed, "{:?}", mild.checks);
        assert!((mild.checks[0].measured.unwrap() - 10.0).abs() < 1e-9);
        let all = evaluate(
            &[rule(Metric::Drop, "*", None, None, Some(20.0))],
            &rows(),
            &schemes,
            &families,
        );
        assert!(!all.passed);
        assert!(
            all.checks[0].reason.contains("above the maximum"),
            "{}",
            all.checks[0].reason
        );
    }

    #[test]
    fn empty_scope_fails_instead_of_passing() {
        let v = evaluate(
            &[rule(Metric::Accuracy, "ocr", None, Some(1.0), None)],
            &rows(),
            &["f32".into()],
            &["typo".into()],
        );
        assert!(!v.passed);
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
