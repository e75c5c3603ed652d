//! Whether two runs may be compared: `compare`, a baseline gate and `merge` check the suite's
//! content, the model, the seed, the example limit, the split, the corruptions, the task and the tool
//! version before they set figures side by side.

use serde::Serialize;

use crate::analysis::summary::RunMeta;
use crate::error::{Error, Result};

/// One field in which two runs differ.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mismatch {
    pub field: &'static str,
    pub first: String,
    pub second: String,
    /// The runs' examples or inputs differ, so per-example pairing (McNemar, paired intervals) is
    /// meaningless across them.
    pub breaks_pairing: bool,
}

impl Mismatch {
    pub fn describe(&self) -> String {
        format!("{} differs ({} vs {})", self.field, self.first, self.second)
    }
}

fn short(hash: &str) -> String {
    format!("sha256 {}", hash.get(..12).unwrap_or(hash))
}

/// Every field in which run `b` differs from run `a`.
pub fn mismatches(a: &RunMeta, b: &RunMeta) -> Vec<Mismatch> {
    let count = |n: Option<usize>| n.map_or("none".to_string(), |n| n.to_string());
    // A run's task method is known once its first model is built; compare it where both know it.
    let method = |m: &RunMeta| m.task.method.clone();
    let methods_known = !a.task.method.is_empty() && !b.task.method.is_empty();
    let fields: [(&'static str, String, String, bool); 10] = [
        ("suite content", short(&a.suite_sha256), short(&b.suite_sha256), true),
        ("seed", a.seed.to_string(), b.seed.to_string(), true),
        ("limit", count(a.limit), count(b.limit), true),
        ("sample", count(a.sample), count(b.sample), true),
        ("split", a.split.clone(), b.split.clone(), true),
        ("corruptions", a.corruptions.clone(), b.corruptions.clone(), true),
        ("task", a.task.kind.name().into(), b.task.kind.name().into(), true),
        // Another method (prompt, few-shot examples, decoding, scorer) asks the same inputs another
        // way, as another model answers them: the pairs stand (free against JSON-constrained decoding
        // is a paired question).
        (
            "task method",
            if methods_known { method(a) } else { String::new() },
            if methods_known { method(b) } else { String::new() },
            false,
        ),
        ("model", short(&a.model_sha256), short(&b.model_sha256), false),
        ("tool version", a.tool_version.clone(), b.tool_version.clone(), false),
    ];
    fields
        .into_iter()
        .filter(|(_, x, y, _)| x != y)
        .map(|(field, first, second, breaks_pairing)| Mismatch {
            field,
            first,
            second,
            breaks_pairing,
        })
        .collect()
}

/// The mismatches between `run` and `other` (named by `origin`), or an error naming them unless
/// comparing anyway is `allowed`.
pub fn check(run: &RunMeta, other: &RunMeta, origin: &str, allowed: bool) -> Result<Vec<Mismatch>> {
    // Runs whose primary metrics differ (accuracy against recall@10) have no figure in common: not
    // even --allow-mismatch sets them side by side.
    let primary = |m: &RunMeta| m.task.measures.first().cloned().unwrap_or_default();
    let (mine, theirs) = (primary(run), primary(other));
    if !mine.is_empty() && !theirs.is_empty() && mine != theirs {
        return Err(Error::input(
            origin,
            format!(
                "its primary metric is {theirs}, the other run's {mine}: runs of different metrics cannot be compared"
            ),
        ));
    }
    let found = mismatches(run, other);
    if found.is_empty() || allowed {
        return Ok(found);
    }
    Err(Error::Incomparable {
        origin: origin.to_string(),
        message: format!(
            "not comparable with the run it is set against: {}",
            found.iter().map(Mismatch::describe).collect::<Vec<_>>().join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_different_primary_metrics_are_refused_even_when_mismatches_are_allowed() {
        let mut a = RunMeta::default();
        a.task.measures = vec!["accuracy".into()];
        let mut b = a.clone();
        b.task.measures = vec!["recall@10".into(), "ndcg@10".into()];
        let err = check(&a, &b, "runB", true).unwrap_err();
        assert!(err.is_user_error() && err.to_string().contains("recall@10"), "{err}");
        assert!(check(&a, &a.clone(), "runA", true).is_ok());
    }

    #[test]
    fn each_differing_field_is_named_and_pairing_breakers_marked() {
        let a = RunMeta {
            seed: 1,
            suite_sha256: "a".repeat(64),
            model_sha256: "m".repeat(64),
            ..Default::default()
        };
        assert!(mismatches(&a, &a.clone()).is_empty());
        let mut a_known = a.clone();
        let mut b = a.clone();
        b.seed = 2;
        b.limit = Some(100);
        b.sample = Some(50);
        b.model_sha256 = "n".repeat(64);
        b.task.method = "decoding constrained".into();
        a_known.task.method = "free decoding".into();
        let m = mismatches(&a_known, &b);
        let named: Vec<(&str, bool)> = m.iter().map(|m| (m.field, m.breaks_pairing)).collect();
        assert_eq!(
            named,
            [
                ("seed", true),
                ("limit", true),
                ("sample", true),
                ("task method", false),
                ("model", false)
            ]
        );
        let err = check(&a_known, &b, "runB", false).unwrap_err();
        assert!(err.is_user_error());
        let text = err.to_string();
        assert!(
            text.contains("runB")
                && text.contains("seed differs (1 vs 2)")
                && text.contains("limit differs (none vs 100)"),
            "{text}"
        );
        assert_eq!(check(&a_known, &b, "runB", true).unwrap().len(), 5);
    }
}
