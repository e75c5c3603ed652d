//! `junit.xml`: one test case per gate check, so CI systems show the gate like a test suite.

use crate::analysis::summary::Summary;

/// Escapes text for XML attributes and content.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Renders the gate's checks as a JUnit XML test suite.
pub fn render(summary: &Summary) -> String {
    let checks = &summary.gate.checks;
    let failures = checks.iter().filter(|c| !c.passed).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"shakedown\" tests=\"{}\" failures=\"{failures}\">\n<testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">\n",
        checks.len(),
        xml(&format!("shakedown gate: {}", summary.meta.suite)),
        checks.len()
    ));
    for c in checks {
        let name = format!("{} [{}, {}]", c.rule, c.scheme, c.family);
        out.push_str(&format!(
            "  <testcase classname=\"shakedown.gate\" name=\"{}\"",
            xml(&name)
        ));
        if c.passed {
            out.push_str(&format!("><system-out>{}</system-out></testcase>\n", xml(&c.reason)));
        } else {
            let bound = match (c.min, c.max) {
                (Some(a), Some(b)) => format!("bounds [{a}, {b}]"),
                (Some(a), None) => format!("minimum {a}"),
                (None, Some(b)) => format!("maximum {b}"),
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
                "><failure message=\"{}\">{}</failure></testcase>\n",
                xml(&message),
                xml(&message)
            ));
        }
    }
    out.push_str("</testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::gate::{Check, Verdict};
    use crate::analysis::summary::{RunMeta, Summary};

    #[test]
    fn failing_checks_carry_value_bound_and_interval() {
        let check = |passed: bool| Check {
            rule: "drop under typo <= 5".into(),
            scheme: "int8".into(),
            family: "typo".into(),
            measured: Some(7.25),
            interval: Some([3.0, 11.5]),
            min: None,
            max: Some(5.0),
            passed,
            reason: "7.25 is above the maximum 5".into(),
        };
        let summary = Summary {
            meta: RunMeta {
                suite: "a<b".into(),
                ..Default::default()
            },
            reference: "f32".into(),
            schemes: vec![],
            gate: Verdict {
                passed: false,
                checks: vec![check(false), check(true)],
            },
        };
        let x = render(&summary);
        assert!(x.contains("tests=\"2\" failures=\"1\""));
        assert!(x.contains("measured 7.25, 95% interval [3.00, 11.50]; maximum 5"));
        assert!(x.contains("a&lt;b") && !x.contains("a<b"));
    }
}
