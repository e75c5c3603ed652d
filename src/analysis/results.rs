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
    pub wer: f64,
    /// The input text the model saw.
    pub text: String,
}
