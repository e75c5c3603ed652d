//! The tasks a suite can ask for and the names of the metrics each one produces. This file imports
//! nothing else of the crate, so the suite parser and the gate can validate metric names against it
//! without depending on the task implementations.

use serde::{Deserialize, Serialize};

/// `task` in suite.toml.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    /// One label per example: a classification head, the nearest label prototype (embedding models),
    /// or the log-likelihood of each label's verbalizer after the suite's prompt (decoders).
    #[default]
    Classify,
    /// A decoder generates JSON after the suite's prompt; it is compared field by field with the
    /// example's `fields`.
    Extract,
    /// Ranking a corpus for each query: an embedder embeds the queries and the corpus into a stored
    /// index, and the top chunks are scored against the query's graded relevant chunks.
    Retrieve,
    /// Retrieval-augmented answers: the queries of a retrieve suite are answered by a decoder from
    /// the top chunks an embedder retrieves, and again from the gold chunks, so a wrong answer is
    /// put down to retrieval or to the model.
    Rag,
}

impl TaskKind {
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Classify => "classify",
            TaskKind::Extract => "extract",
            TaskKind::Retrieve => "retrieve",
            TaskKind::Rag => "rag",
        }
    }

    /// The task's headline metric: every example is right or wrong by it, and drop, flip rate,
    /// agreement and the comparison with the reference scheme are computed on it.
    pub fn primary(self) -> &'static str {
        match self {
            TaskKind::Classify => ACCURACY,
            TaskKind::Extract => EXACT_MATCH,
            TaskKind::Retrieve => RECALL_10,
            TaskKind::Rag => ANSWER_MATCH,
        }
    }

    /// Every metric this task can produce for a suite with these extraction `fields` (the primary
    /// first). Which ones a run measures depends on the model (`acc_norm` needs a decoder).
    pub fn metrics(self, fields: &[String]) -> Vec<String> {
        match self {
            TaskKind::Classify => vec![ACCURACY.into(), ACC_NORM.into()],
            TaskKind::Extract => {
                let mut v = vec![EXACT_MATCH.to_string(), FIELD_ACCURACY.to_string()];
                v.extend(fields.iter().map(|f| field_metric(f)));
                v.push(INVALID_RATE.into());
                v
            }
            TaskKind::Retrieve => RETRIEVAL.iter().map(|m| m.to_string()).collect(),
            TaskKind::Rag => RAG.iter().map(|m| m.to_string()).collect(),
        }
    }
}

/// Classify: share of examples whose predicted label is the example's label.
pub const ACCURACY: &str = "accuracy";
/// Classify by label likelihood: accuracy when each label's log-likelihood is divided by its
/// verbalizer's length in bytes (lm-evaluation-harness `acc_norm`).
pub const ACC_NORM: &str = "acc_norm";
/// Extract: share of outputs whose every field is right.
pub const EXACT_MATCH: &str = "exact_match";
/// Extract: share of fields right, averaged over examples (each example weighs the same).
pub const FIELD_ACCURACY: &str = "field_accuracy";
/// Extract: share of outputs that are not a JSON object or lack one of the suite's fields.
pub const INVALID_RATE: &str = "invalid_rate";

/// Retrieve: share of a query's relevant chunks among the first 10 retrieved (the primary metric).
pub const RECALL_10: &str = "recall@10";
/// Retrieve: every metric, the primary first; per query as pytrec_eval computes them (recall@k,
/// reciprocal rank of the first relevant chunk in the top 10, nDCG@10 with linear gains).
pub const RETRIEVAL: [&str; 5] = [RECALL_10, "recall@1", "recall@5", "mrr@10", "ndcg@10"];

/// Rag: the answer generated from the retrieved chunks contains one of the example's answer spans
/// (both normalised as SQuAD's evaluation does: lower case, no punctuation, articles or extra
/// spaces); the primary metric.
pub const ANSWER_MATCH: &str = "answer_match";
/// Rag: every metric, the primary first. `_gold`: the same answer metric when the decoder reads the
/// example's gold chunks instead of the retrieved ones; `answer_f1`: SQuAD's token F1 against the
/// best span; `context_hit`: the answering chunk (highest grade) is among the chunks the decoder
/// read. Right from the gold chunks but wrong from the retrieved ones is `retrieval_broke` when the
/// answering chunk was not read (retrieval missed it) and `distracted` when it was (the other
/// retrieved chunks misled the model); `ndcg@10` of the same search.
pub const RAG: [&str; 8] = [
    ANSWER_MATCH,
    "answer_match_gold",
    "answer_f1",
    "answer_f1_gold",
    "context_hit",
    "retrieval_broke",
    "distracted",
    "ndcg@10",
];

/// Extract: accuracy of one field, `field_accuracy.<field>`.
pub fn field_metric(field: &str) -> String {
    format!("{FIELD_ACCURACY}.{field}")
}

/// Metrics computed from the primary metric of every task, paired per example.
pub const DERIVED: [&str; 5] = ["drop", "extra_drop", "flip_rate", "agreement", "delta_vs_reference"];

/// Metrics of the sustained-throughput phase.
pub const THROUGHPUT: [&str; 2] = ["sustained_items_per_s", "stability"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_metrics_name_every_field_after_the_primary() {
        let m = TaskKind::Extract.metrics(&["action".into(), "place".into()]);
        assert_eq!(
            m,
            [
                "exact_match",
                "field_accuracy",
                "field_accuracy.action",
                "field_accuracy.place",
                "invalid_rate"
            ]
        );
        assert_eq!(TaskKind::Extract.primary(), m[0]);
        assert_eq!(TaskKind::Classify.primary(), "accuracy");
        let r = TaskKind::Retrieve.metrics(&[]);
        assert_eq!(r[0], TaskKind::Retrieve.primary());
        assert!(r.contains(&"ndcg@10".to_string()) && r.contains(&"recall@5".to_string()));
    }
}
