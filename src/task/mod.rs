//! Adapters from a model to the suite's task. `Scorer` is the narrow interface eval calls;
//! the engine is the real implementation, tests use small fakes.

pub mod retrieve;

use crate::engine::tensor::softmax;
use crate::engine::Model;
use crate::error::{Error, Result};

/// Texts per engine call.
pub const BATCH: usize = 32;

/// Scores of a batch with the raw outputs they came from.
pub struct Scored {
    pub scores: Vec<Vec<f32>>,
    /// Label probabilities, or sentence embeddings when `embeddings`.
    pub outputs: Vec<Vec<f32>>,
    pub embeddings: bool,
}

/// Scores a batch of texts against a fixed list of labels (higher is more likely).
pub trait Scorer: Sync {
    /// Label names in score order.
    fn labels(&self) -> &[String];
    /// One score vector per text.
    fn score(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
    /// Scores plus the raw outputs fidelity is measured on (label probabilities, or embeddings),
    /// and whether those outputs are embeddings.
    fn score_with_outputs(&self, texts: &[&str]) -> Result<Scored> {
        let scores = self.score(texts)?;
        Ok(Scored {
            outputs: scores.clone(),
            scores,
            embeddings: false,
        })
    }
    /// Tokens the model sees for these texts (for tokens/s); the word count where there is no tokenizer.
    fn count_tokens(&self, texts: &[&str]) -> Result<u64> {
        Ok(texts.iter().map(|t| t.split_whitespace().count() as u64).sum())
    }
}

/// Classifies with the model's own sequence-classification head (softmax probabilities).
pub struct HeadClassifier {
    model: Model,
}

impl HeadClassifier {
    /// Checks that the head's labels cover the suite's labels.
    pub fn new(model: Model, suite_labels: &[String], model_dir: &str) -> Result<Self> {
        let missing: Vec<&String> = suite_labels.iter().filter(|l| !model.labels().contains(l)).collect();
        if !missing.is_empty() {
            return Err(Error::input(
                format!("{model_dir}/config.json"),
                format!(
                    "field id2label: the classification head has no label {missing:?} of the suite (it has {:?})",
                    model.labels()
                ),
            ));
        }
        Ok(HeadClassifier { model })
    }
}

impl Scorer for HeadClassifier {
    fn labels(&self) -> &[String] {
        self.model.labels()
    }

    fn count_tokens(&self, texts: &[&str]) -> Result<u64> {
        Ok(self.model.tokenize(texts)?.iter().map(|t| t.len() as u64).sum())
    }

    fn score(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(BATCH) {
            for mut logits in self.model.logits(chunk)? {
                softmax(&mut logits);
                out.push(logits);
            }
        }
        Ok(out)
    }
}

/// Classifies an embedding model by the nearest label prototype: the normalised mean embedding of
/// each label's `train` examples; scores are cosine similarities.
pub struct PrototypeClassifier {
    model: Model,
    labels: Vec<String>,
    prototypes: Vec<Vec<f32>>,
}

impl PrototypeClassifier {
    /// Embeds the given examples (`(label, text)`) and averages them per label.
    pub fn new(model: Model, labels: &[String], train: &[(&str, &str)]) -> Result<Self> {
        let mut prototypes = Vec::with_capacity(labels.len());
        for label in labels {
            let texts: Vec<&str> = train.iter().filter(|(l, _)| l == label).map(|(_, t)| *t).collect();
            if texts.is_empty() {
                return Err(Error::input(
                    "suite",
                    format!("label \"{label}\" has no train examples to build its prototype from"),
                ));
            }
            let mut mean: Vec<f32> = Vec::new();
            for chunk in texts.chunks(BATCH) {
                for e in model.embeddings(chunk)? {
                    if mean.is_empty() {
                        mean = vec![0.0; e.len()];
                    }
                    mean.iter_mut().zip(&e).for_each(|(m, v)| *m += v);
                }
            }
            crate::engine::tensor::l2_normalize(&mut mean);
            prototypes.push(mean);
        }
        Ok(PrototypeClassifier {
            model,
            labels: labels.to_vec(),
            prototypes,
        })
    }
}

impl PrototypeClassifier {
    fn cosine_scores(&self, embedding: &[f32]) -> Vec<f32> {
        self.prototypes
            .iter()
            .map(|p| p.iter().zip(embedding).map(|(a, b)| a * b).sum())
            .collect()
    }
}

impl Scorer for PrototypeClassifier {
    fn labels(&self) -> &[String] {
        &self.labels
    }

    fn score_with_outputs(&self, texts: &[&str]) -> Result<Scored> {
        let mut outputs = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(BATCH) {
            outputs.extend(self.model.embeddings(chunk)?);
        }
        let scores = outputs.iter().map(|e| self.cosine_scores(e)).collect();
        Ok(Scored {
            scores,
            outputs,
            embeddings: true,
        })
    }

    fn count_tokens(&self, texts: &[&str]) -> Result<u64> {
        Ok(self.model.tokenize(texts)?.iter().map(|t| t.len() as u64).sum())
    }

    fn score(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(BATCH) {
            for e in self.model.embeddings(chunk)? {
                out.push(
                    self.prototypes
                        .iter()
                        .map(|p| p.iter().zip(&e).map(|(a, b)| a * b).sum())
                        .collect(),
                );
            }
        }
        Ok(out)
    }
}

/// Index and value of the highest score (first one on ties).
pub fn argmax(scores: &[f32]) -> (usize, f32) {
    scores.iter().enumerate().fold(
        (0, f32::NEG_INFINITY),
        |best, (i, &s)| if s > best.1 { (i, s) } else { best },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_first_of_ties() {
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), (1, 0.7));
    }
}
