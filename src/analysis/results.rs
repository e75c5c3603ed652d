//! The run's per-example rows: one per scheme x variant (clean or corrupted) of an example, carrying
//! any task's outcome. Reading and writing them as tables is `analysis::tables`.

use serde::{Deserialize, Serialize};

/// The family name of unmodified inputs.
pub const CLEAN: &str = "clean";

/// One answer: a scheme on one variant (clean or corrupted) of one example, judged by the task.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalRow {
    pub scheme: String,
    pub example_id: String,
    /// `clean`, a family, or a chain such as `typo+ocr`.
    pub family: String,
    /// 0 for clean inputs, 1..=5 otherwise.
    pub severity: u8,
    pub seed: u64,
    /// The right answer in the task's comparable form (a label; the canonical JSON of the fields).
    pub expected: String,
    /// The model's answer in the same form (flip rate and agreement compare these).
    pub prediction: String,
    /// Right by the task's primary metric.
    pub correct: bool,
    /// How sure the model was of its answer, where the method gives one (a probability or a cosine).
    pub score: Option<f32>,
    /// The text the model generated, for generative tasks.
    pub raw_output: Option<String>,
    /// One value in [0, 1] per metric of the task (named by the run's `measures`), the primary first.
    pub measures: Vec<f64>,
    pub cer: f64,
    /// Word error rate after normalisation (Whisper's English rules), as speech benchmarks count it.
    pub wer: f64,
    /// Word error rate on the texts as written (case and punctuation count).
    #[serde(default)]
    pub wer_raw: f64,
    /// The input text the model saw.
    pub text: String,
}

#[cfg(test)]
impl EvalRow {
    /// A classification answer for tests: expected label "a", right when `prediction` is "a" (its
    /// one measure is that), text naming the example and family.
    pub fn labelled(scheme: &str, family: &str, severity: u8, example: &str, prediction: &str) -> EvalRow {
        let correct = prediction == "a";
        EvalRow {
            scheme: scheme.into(),
            example_id: example.into(),
            family: family.into(),
            severity,
            expected: "a".into(),
            correct,
            measures: vec![correct as u8 as f64],
            prediction: prediction.into(),
            text: format!("text {example} {family}"),
            ..Default::default()
        }
    }
}
