//! Tasks: what a suite asks of a model, and how an answer is judged. A `Task` is bound to one model
//! (one scheme) and calls it only through `engine::LanguageModel`; eval asks it for the model's
//! answers (`infer`, text by text, so identical texts are answered once) and then judges each answer
//! against its example (`judge`, no model call), which gives the `Outcome` metrics consume.
//!
//! `build` picks the implementation from the suite's `task` and what the model can do:
//! - `classify`: a classification head (`HeadClassifier`), the nearest label prototype for embedding
//!   models (`PrototypeClassifier`), or the log-likelihood of each label's verbalizer after the
//!   suite's prompt for decoders (`LikelihoodClassifier`, acc and acc_norm as lm-evaluation-harness).
//! - `extract`: a decoder generates after the suite's prompt, optionally constrained to the suite's
//!   JSON fields and values; the answer is compared field by field (`ExtractTask`).
//! - `retrieve`: ranking a corpus is not one answer per text: the corpus is embedded into stored
//!   indexes and every deployment (query scheme x index precision x who embedded the corpus)
//!   searches them, so `retrieve::evaluate` runs it whole and `run` dispatches there; its per-query
//!   metrics (names in `kind`) feed the same summary, gate and report as the other tasks.
//! - `rag`: a retrieve suite's queries answered by a decoder from the retrieved chunks and from the
//!   gold chunks (`rag`); `run::rag` retrieves once and has each decoder scheme answer.

pub mod classify;
pub mod constraint;
pub mod extract;
pub mod kind;
pub mod prompt;
pub mod rag;
pub mod retrieve;

use crate::engine::{LanguageModel, ModelKind};
use crate::error::{Error, Result};
use crate::suite::{Example, Suite};
use kind::TaskKind;

/// Texts per engine call.
pub const BATCH: usize = 32;

/// What a model answered to one input text, before it is judged against an example.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// One score per label (higher is more likely): probabilities (head), cosine similarities
    /// (prototypes) or summed log-likelihoods (decoders). `normalized` are the log-likelihoods per
    /// byte of each verbalizer (acc_norm), where the method has them.
    Label {
        scores: Vec<f32>,
        normalized: Option<Vec<f32>>,
        probe: Probe,
    },
    /// Generated text: `tokens` generated, the first `ttft_ms` after the engine call began and the
    /// last `elapsed_ms` after it (a request shares its call with the rest of its batch). `cut_off`:
    /// the token limit stopped generation before the answer was whole (the task judges wholeness:
    /// extract, a JSON object with every field).
    Text {
        text: String,
        tokens: usize,
        ttft_ms: f64,
        elapsed_ms: f64,
        cut_off: bool,
    },
}

/// The raw output a scheme's fidelity to the reference scheme is measured on.
#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    /// A probability distribution over the labels.
    Distribution(Vec<f32>),
    /// An L2-normalised sentence embedding.
    Embedding(Vec<f32>),
    /// Generated text.
    Text(String),
}

impl Output {
    /// The raw output fidelity compares.
    pub fn probe(&self) -> Probe {
        match self {
            Output::Label { probe, .. } => probe.clone(),
            Output::Text { text, .. } => Probe::Text(text.clone()),
        }
    }

    /// True for generated text the token limit stopped before it was whole.
    pub fn cut_off(&self) -> bool {
        matches!(self, Output::Text { cut_off: true, .. })
    }
}

/// One answer judged against its example.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// The right answer in the task's comparable form.
    pub expected: String,
    /// The model's answer in the same form.
    pub prediction: String,
    /// Right by the primary metric.
    pub correct: bool,
    /// The method's confidence in its answer, where it has one.
    pub score: Option<f32>,
    /// Generated text, for generative tasks.
    pub raw_output: Option<String>,
    /// One value in [0, 1] per name of `Task::measures`, the primary first.
    pub measures: Vec<f64>,
}

/// A task bound to one model.
pub trait Task: Sync {
    fn kind(&self) -> TaskKind;
    /// How answers are obtained, for the run's metadata.
    fn method(&self) -> String;
    /// Names of `Outcome::measures`, the primary first (see `kind` for the catalogue).
    fn measures(&self) -> Vec<String>;
    /// The model's answers to `texts`, one each, in order.
    fn infer(&self, texts: &[&str]) -> Result<Vec<Output>>;
    /// `infer`, telling `done` how many answers are ready as they come (for a progress bar). By
    /// default the texts go to `infer` in batches of `BATCH`; a task whose engine call keeps its own
    /// batch full across a long list (generation) takes them all at once.
    fn infer_reporting(&self, texts: &[&str], done: &dyn Fn(usize)) -> Result<Vec<Output>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(BATCH) {
            out.extend(self.infer(chunk)?);
            done(chunk.len());
        }
        Ok(out)
    }
    /// True when an answer depends only on its text, not on the texts answered with it (see
    /// `LanguageModel::answers_alone`): eval then answers a text once per scheme across families.
    fn answers_alone(&self) -> bool {
        false
    }
    /// Judges one answer against its example (no model call).
    fn judge(&self, example: &Example, output: &Output) -> Outcome;
    /// Tokens the model reads for these texts (for tokens/s).
    fn count_tokens(&self, texts: &[&str]) -> Result<u64>;
    /// For each text, the most tokens its request occupies in the model's context (the rendered
    /// prompt with the longest continuation scored, or with every token it may generate). Empty
    /// where the model truncates its input (`LanguageModel::context_length` is None), so no text
    /// can be too long.
    fn context_needs(&self, _texts: &[&str]) -> Result<Vec<usize>> {
        Ok(Vec::new())
    }
    /// The model's context length, where it refuses longer sequences.
    fn context_length(&self) -> Option<usize> {
        None
    }
    /// An answer as JSON for scripts (`shakedown predict`): a label with its scores, or the generated
    /// text with the fields parsed from it.
    fn to_json(&self, output: &Output) -> serde_json::Value;
}

/// The task `suite` asks for, bound to `model`. `model_origin` names the model in errors.
pub fn build<'m>(suite: &Suite, model: &'m dyn LanguageModel, model_origin: &str) -> Result<Box<dyn Task + 'm>> {
    match (suite.file.task, model.kind()) {
        (TaskKind::Classify, ModelKind::Decoder) => Ok(Box::new(classify::LikelihoodClassifier::new(suite, model)?)),
        (TaskKind::Classify, ModelKind::Encoder) if !model.labels().is_empty() => Ok(Box::new(
            classify::HeadClassifier::new(model, &suite.file.labels, model_origin)?,
        )),
        (TaskKind::Classify, ModelKind::Encoder) => {
            Ok(Box::new(classify::PrototypeClassifier::from_suite(model, suite)?))
        }
        (TaskKind::Extract, ModelKind::Decoder) => Ok(Box::new(extract::ExtractTask::new(suite, model)?)),
        (TaskKind::Extract, ModelKind::Encoder) => Err(Error::input(
            model_origin,
            format!(
                "the suite's task is extract (generating JSON), which needs a decoder model; this is an encoder ({})",
                suite.origin()
            ),
        )),
        (TaskKind::Retrieve, _) => Err(Error::input(
            suite.origin(),
            "field task: a retrieve suite ranks a corpus for each query; it is evaluated by a run, not one text at a time",
        )),
        (TaskKind::Rag, _) => Err(Error::input(
            suite.origin(),
            "field task: a rag suite retrieves chunks and answers from them; it is evaluated by a run, not one text at a time",
        )),
    }
}

/// Index and value of the highest score (first one on ties).
pub fn argmax(scores: &[f32]) -> (usize, f32) {
    scores.iter().enumerate().fold(
        (0, f32::NEG_INFINITY),
        |best, (i, &s)| if s > best.1 { (i, s) } else { best },
    )
}

/// The model called in batches of `BATCH` texts.
fn batched<T>(texts: &[&str], mut call: impl FnMut(&[&str]) -> Result<Vec<T>>) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(BATCH) {
        out.extend(answered_all(call(chunk)?, chunk.len())?);
    }
    Ok(out)
}

/// `got`, when the model answered all `asked` inputs (one answer each); an internal error otherwise.
pub(crate) fn answered_all<T>(got: Vec<T>, asked: usize) -> Result<Vec<T>> {
    if got.len() != asked {
        return Err(Error::Internal(format!(
            "the model answered {} of {asked} inputs",
            got.len()
        )));
    }
    Ok(got)
}

#[cfg(test)]
pub(crate) mod fakes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_first_of_ties() {
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), (1, 0.7));
    }
}
