//! `junit.xml`: one test suite per scheme, one test case per gate check, so CI systems show each
//! scheme's verdict like a test suite; skipped checks are `<skipped>`, failures carry the measured
//! value, interval and bound.

use crate::analysis::gate::{round2, Check, Status, Verdict};
use crate::analysis::summary::Summary;

/// Escapes text for XML attributes and content.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn case(c: &Check) -> String {
    let name = format!("{} [{}, {}]", c.rule, c.scheme, c.scope());
    let mut out = format!(
        "    <testcase classname=\"shakedown.gate.{}\" name=\"{}\">",
        xml(&c.scheme),
        xml(&name)
    );
    // Whether the sample settles the check, as a property CI reporters can filter on (a pass that a
    // larger sample could turn is green like any other).
    if let Some(settled) = c.settled {
        out.push_str(&format!(
            "<properties><property name=\"settled\" value=\"{settled}\"/></properties>"
        ));
    }
    match c.status {
        Status::Pass => out.push_str(&format!("<system-out>{}</system-out></testcase>\n", xml(&c.reason))),
        Status::Skip => out.push_str(&format!("<skipped message=\"{}\"/></testcase>\n", xml(&c.reason))),
        Status::Fail => {
            let bound = match (c.min, c.max) {
                (Some(a), Some(b)) => format!("bounds [{}, {}]", round2(a), round2(b)),
                (Some(a), None) => format!("minimum {}", round2(a)),
                (None, Some(b)) => format!("maximum {}", round2(b)),
                (None, None) => "no bound".into(),
            };
            let measured = c
                .measured
                .map(|m| format!("{m:.2}"))
                .unwrap_or_else(|| "nothing".into());
            let interval = c
                .interval
                .map(|[a, b]| format!(", 95% interval [{a:.2}, {b:.2}]"))
                .unwrap_or_default();
            let message = format!("measured {measured}{interval}; {bound}: {}", c.reason);
            out.push_str(&format!(
                "<failure message=\"{}\">{}</failure></testcase>\n",
                xml(&message),
                xml(&message)
            ));
        }
    }
    out
}

/// Renders the gate's checks as JUnit XML: a test suite per scheme of the run, and one more for
/// checks about schemes the run does not have.
pub fn render(summary: &Summary, gate: Option<&Verdict>) -> String {
    let checks: &[Check] = gate.map_or(&[], |g| &g.checks);
    let count = |cs: &[&Check], s: Status| cs.iter().filter(|c| c.status == s).count();
    let all: Vec<&Check> = checks.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
        xml(&format!("shakedown gate: {}", summary.meta.suite)),
        all.len(),
        count(&all, Status::Fail),
        count(&all, Status::Skip)
    ));
    let schemes = summary.meta.scheme_names();
    let mut groups: Vec<(String, Vec<&Check>)> = schemes
        .iter()
        .map(|s| (s.clone(), checks.iter().filter(|c| &c.scheme == s).collect()))
        .collect();
    let others: Vec<&Check> = checks.iter().filter(|c| !schemes.contains(&c.scheme)).collect();
    if !others.is_empty() {
        groups.push(("(schemes not in this run)".into(), others));
    }
    for (scheme, cs) in groups {
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
            xml(&format!("{}: {scheme}", summary.meta.suite)),
            cs.len(),
            count(&cs, Status::Fail),
            count(&cs, Status::Skip)
        ));
        for c in cs {
            out.push_str(&case(c));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::gate::{Policy, SchemeVerdict};
    use crate::analysis::summary::{RunMeta, SchemeInfo};

    #[test]
    fn a_suite_per_scheme_with_failures_carrying_value_bound_and_interval() {
        let check = |scheme: &str, status: Status| Check {
            rule: "drop under typo <= 5".into(),
            metric: "drop".into(),
            scheme: scheme.into(),
            family: "typo".into(),
            severity: Some("1".into()),
            measured: Some(7.25),
            interval: Some([3.0, 11.5]),
            min: None,
            max: Some(5.0),
            status,
            margin: Some(-2.25),
            n: Some(40),
            settled: Some(false),
            reason: "7.25 is above the maximum 5".into(),
        };
        let summary = Summary {
            retrieval: None,
            meta: RunMeta {
                suite: "a<b".into(),
                schemes: ["f32", "int8"]
                    .iter()
                    .map(|n| SchemeInfo {
                        name: n.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            },
            reference: "f32".into(),
            schemes: vec![],
        };
        let gate = Verdict {
            policy: Policy::All,
            passed: false,
            schemes: vec![SchemeVerdict {
                scheme: "int8".into(),
                passed: false,
                checks: 2,
                failed: 1,
                skipped: 0,
                unsettled: 1,
            }],
            recommendation: None,
            checks: vec![
                check("f32", Status::Pass),
                check("int8", Status::Fail),
                check("int8", Status::Pass),
                check("q4_0", Status::Skip),
            ],
        };
        let x = render(&summary, Some(&gate));
        assert!(x.contains("tests=\"4\" failures=\"1\" skipped=\"1\""));
        assert_eq!(x.matches("<testsuite ").count(), 3);
        assert!(x.contains("name=\"a&lt;b: int8\" tests=\"2\" failures=\"1\""), "{x}");
        assert!(x.contains("measured 7.25, 95% interval [3.00, 11.50]; maximum 5"));
        assert!(x.contains("<skipped message="));
        assert!(!x.contains("a<b"));
        // Every check of the fixture is unsettled (settled: false), and says so as a property.
        assert_eq!(
            x.matches("<properties><property name=\"settled\" value=\"false\"/></properties>")
                .count(),
            4,
            "{x}"
        );
    }
}
