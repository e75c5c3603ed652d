//! Classification: one label per example, by a head, by the nearest label prototype, or by the
//! log-likelihood of each label's verbalizer after the suite's prompt.

use crate::engine::{l2_normalize, softmax};
use crate::engine::{LanguageModel, LoglikelihoodRequest};
use crate::error::{Error, Result};
use crate::suite::{Example, Suite};
use crate::task::kind::{TaskKind, ACCURACY, ACC_NORM};
use crate::task::prompt::Prompt;
use crate::task::{argmax, batched, Outcome, Output, Probe, Task};

/// Judges label scores: the highest-scoring label is the answer (and, with `normalized` scores,
/// the acc_norm answer).
fn judge_label(labels: &[String], example: &Example, output: &Output, with_norm: bool) -> Outcome {
    let expected = example.label.clone().unwrap_or_default();
    let Output::Label {
        scores,
        normalized,
        probe,
    } = output
    else {
        return Outcome {
            expected,
            measures: vec![0.0; 1 + with_norm as usize],
            ..Default::default()
        };
    };
    let (best, score) = argmax(scores);
    let prediction = labels.get(best).cloned().unwrap_or_default();
    let correct = prediction == expected;
    let mut measures = vec![correct as u8 as f64];
    if with_norm {
        let norm_right = normalized
            .as_ref()
            .and_then(|n| labels.get(argmax(n).0))
            .is_some_and(|l| *l == expected);
        measures.push(norm_right as u8 as f64);
    }
    // A decoder's confidence is the probability of its answer among the labels.
    let score = match probe {
        Probe::Distribution(p) if with_norm => p.get(best).copied().unwrap_or(score),
        _ => score,
    };
    Outcome {
        expected,
        prediction,
        correct,
        score: Some(score),
        raw_output: None,
        measures,
    }
}

/// `{"label", "scores": {label: score}}` (and `"normalized"` scores for likelihoods).
fn label_json(labels: &[String], output: &Output) -> serde_json::Value {
    let Output::Label { scores, normalized, .. } = output else {
        return serde_json::Value::Null;
    };
    let named = |v: &[f32]| -> serde_json::Map<String, serde_json::Value> {
        labels
            .iter()
            .zip(v)
            .map(|(l, s)| (l.clone(), serde_json::json!(s)))
            .collect()
    };
    let mut o = serde_json::json!({
        "label": labels.get(argmax(scores).0),
        "scores": named(scores),
    });
    if let Some(n) = normalized {
        o["normalized"] = serde_json::Value::Object(named(n));
    }
    o
}

fn token_count(model: &dyn LanguageModel, texts: &[&str]) -> Result<u64> {
    Ok(model.tokenize(texts)?.iter().map(|t| t.len() as u64).sum())
}

/// Classifies with the model's own sequence-classification head (softmax probabilities).
pub struct HeadClassifier<'m> {
    model: &'m dyn LanguageModel,
}

impl<'m> HeadClassifier<'m> {
    /// Checks that the head's labels cover the suite's labels; `model_origin` names the model.
    pub fn new(model: &'m dyn LanguageModel, suite_labels: &[String], model_origin: &str) -> Result<Self> {
        let missing: Vec<&String> = suite_labels.iter().filter(|l| !model.labels().contains(l)).collect();
        if !missing.is_empty() {
            return Err(Error::input(
                format!("{model_origin}/config.json"),
                format!(
                    "field id2label: the classification head has no label {missing:?} of the suite (it has {:?})",
                    model.labels()
                ),
            ));
        }
        Ok(HeadClassifier { model })
    }
}

impl Task for HeadClassifier<'_> {
    fn kind(&self) -> TaskKind {
        TaskKind::Classify
    }
    fn method(&self) -> String {
        "classification head".into()
    }
    fn measures(&self) -> Vec<String> {
        vec![ACCURACY.into()]
    }
    fn infer(&self, texts: &[&str]) -> Result<Vec<Output>> {
        batched(texts, |chunk| {
            Ok(self
                .model
                .classify(chunk)?
                .into_iter()
                .map(|mut p| {
                    softmax(&mut p);
                    Output::Label {
                        scores: p.clone(),
                        normalized: None,
                        probe: Probe::Distribution(p),
                    }
                })
                .collect())
        })
    }
    fn judge(&self, example: &Example, output: &Output) -> Outcome {
        judge_label(self.model.labels(), example, output, false)
    }
    fn to_json(&self, output: &Output) -> serde_json::Value {
        label_json(self.model.labels(), output)
    }
    fn count_tokens(&self, texts: &[&str]) -> Result<u64> {
        token_count(self.model, texts)
    }
}

/// Classifies an embedding model by the nearest label prototype: the normalised mean embedding of
/// each label's `train` examples; scores are cosine similarities.
pub struct PrototypeClassifier<'m> {
    model: &'m dyn LanguageModel,
    labels: Vec<String>,
    prototypes: Vec<Vec<f32>>,
    per_label: usize,
}

impl<'m> PrototypeClassifier<'m> {
    /// Prototypes from up to `prototypes_per_label` train examples per label of the suite.
    pub fn from_suite(model: &'m dyn LanguageModel, suite: &Suite) -> Result<Self> {
        let per_label = suite
            .file
            .prototypes_per_label
            .unwrap_or(crate::suite::DEFAULT_PROTOTYPES);
        let train = suite.split("train");
        let mut picked: Vec<(&str, &str)> = Vec::new();
        for label in &suite.file.labels {
            if !train.iter().any(|e| e.label.as_ref() == Some(label)) {
                return Err(Error::input(
                    format!("{}: field data", suite.origin()),
                    format!(
                        "label \"{label}\" has no example with split \"train\": a model without a classification head \
                         classifies by label prototypes, built from each label's train examples"
                    ),
                ));
            }
            picked.extend(
                train
                    .iter()
                    .filter(|e| e.label.as_ref() == Some(label))
                    .take(per_label)
                    .map(|e| (label.as_str(), e.text.as_str())),
            );
        }
        let mut c = Self::new(model, &suite.file.labels, &picked)?;
        c.per_label = per_label;
        Ok(c)
    }

    /// Embeds the given examples (`(label, text)`) and averages them per label.
    pub fn new(model: &'m dyn LanguageModel, labels: &[String], train: &[(&str, &str)]) -> Result<Self> {
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
            for e in batched(&texts, |chunk| model.embed(chunk))? {
                if mean.is_empty() {
                    mean = vec![0.0; e.len()];
                }
                mean.iter_mut().zip(&e).for_each(|(m, v)| *m += v);
            }
            l2_normalize(&mut mean);
            prototypes.push(mean);
        }
        Ok(PrototypeClassifier {
            model,
            labels: labels.to_vec(),
            prototypes,
            per_label: train.len(),
        })
    }
}

impl Task for PrototypeClassifier<'_> {
    fn kind(&self) -> TaskKind {
        TaskKind::Classify
    }
    fn method(&self) -> String {
        format!(
            "nearest label prototype (mean embedding of up to {} train examples per label)",
            self.per_label
        )
    }
    fn measures(&self) -> Vec<String> {
        vec![ACCURACY.into()]
    }
    fn infer(&self, texts: &[&str]) -> Result<Vec<Output>> {
        batched(texts, |chunk| {
            Ok(self
                .model
                .embed(chunk)?
                .into_iter()
                .map(|e| Output::Label {
                    scores: self
                        .prototypes
                        .iter()
                        .map(|p| p.iter().zip(&e).map(|(a, b)| a * b).sum())
                        .collect(),
                    normalized: None,
                    probe: Probe::Embedding(e),
                })
                .collect())
        })
    }
    fn judge(&self, example: &Example, output: &Output) -> Outcome {
        judge_label(&self.labels, example, output, false)
    }
    fn to_json(&self, output: &Output) -> serde_json::Value {
        label_json(&self.labels, output)
    }
    fn count_tokens(&self, texts: &[&str]) -> Result<u64> {
        token_count(self.model, texts)
    }
}

/// Classifies with a decoder as lm-evaluation-harness scores multiple choice: the summed
/// log-probability of each label's verbalizer after the prompt (acc), and the same divided by the
/// verbalizer's length in bytes (acc_norm).
pub struct LikelihoodClassifier<'m> {
    model: &'m dyn LanguageModel,
    prompt: Prompt,
    labels: Vec<String>,
    verbalizers: Vec<String>,
}

impl<'m> LikelihoodClassifier<'m> {
    pub fn new(suite: &Suite, model: &'m dyn LanguageModel) -> Result<Self> {
        let labels = suite.file.labels.clone();
        let verbalizers: Vec<String> = labels
            .iter()
            .map(|l| {
                suite
                    .file
                    .classify
                    .verbalizers
                    .get(l)
                    .cloned()
                    .unwrap_or_else(|| format!(" {l}"))
            })
            .collect();
        // Few-shot answers are the verbalizers without their leading space.
        let answer = |e: &Example| {
            let label = e.label.as_deref().unwrap_or_default();
            labels
                .iter()
                .position(|l| l == label)
                .map(|i| verbalizers[i].trim().to_string())
                .unwrap_or_default()
        };
        let prompt = Prompt::from_suite(suite, model, &answer)?;
        Ok(LikelihoodClassifier {
            model,
            prompt,
            labels,
            verbalizers,
        })
    }
}

impl Task for LikelihoodClassifier<'_> {
    fn kind(&self) -> TaskKind {
        TaskKind::Classify
    }
    fn method(&self) -> String {
        format!("label log-likelihood after the prompt ({})", self.prompt.describe())
    }
    fn measures(&self) -> Vec<String> {
        vec![ACCURACY.into(), ACC_NORM.into()]
    }
    fn infer(&self, texts: &[&str]) -> Result<Vec<Output>> {
        batched(texts, |chunk| {
            let requests = chunk
                .iter()
                .map(|t| {
                    Ok(LoglikelihoodRequest {
                        context: self.prompt.render(t)?,
                        continuations: self.verbalizers.clone(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            self.model
                .loglikelihood(&requests)?
                .into_iter()
                .map(|scores| {
                    if scores.len() != self.verbalizers.len() {
                        return Err(Error::Internal(format!(
                            "the model scored {} of {} continuations",
                            scores.len(),
                            self.verbalizers.len()
                        )));
                    }
                    let raw: Vec<f32> = scores.iter().map(|s| s.logprob as f32).collect();
                    let normalized = scores
                        .iter()
                        .map(|s| (s.logprob / s.bytes.max(1) as f64) as f32)
                        .collect();
                    let mut p = raw.clone();
                    softmax(&mut p);
                    Ok(Output::Label {
                        scores: raw,
                        normalized: Some(normalized),
                        probe: Probe::Distribution(p),
                    })
                })
                .collect()
        })
    }
    fn judge(&self, example: &Example, output: &Output) -> Outcome {
        judge_label(&self.labels, example, output, true)
    }
    fn to_json(&self, output: &Output) -> serde_json::Value {
        label_json(&self.labels, output)
    }
    fn count_tokens(&self, texts: &[&str]) -> Result<u64> {
        self.prompt.count_tokens(self.model, texts)
    }
    fn context_needs(&self, texts: &[&str]) -> Result<Vec<usize>> {
        self.prompt.context_needs(self.model, texts, &self.verbalizers, 0)
    }
    fn context_length(&self) -> Option<usize> {
        self.model.context_length()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::fakes::{self, FakeDecoder, FakeEncoder};

    fn example(label: &str) -> Example {
        fakes::example("1", "x", Some(label), None)
    }

    #[test]
    fn head_answers_with_the_most_probable_label() {
        let model = FakeEncoder::with_head(&["left", "right"]);
        let suite = fakes::classify_suite(&["left", "right"], "");
        let task = super::super::build(&suite, &model, "m").unwrap();
        assert_eq!(task.method(), "classification head");
        let out = task.infer(&["turn left", "go right"]).unwrap();
        let o = task.judge(&example("left"), &out[0]);
        assert_eq!(
            (o.prediction.as_str(), o.correct, o.measures.clone()),
            ("left", true, vec![1.0])
        );
        assert!(o.score.unwrap() > 0.5);
        assert!(!task.judge(&example("left"), &out[1]).correct);
        // A head without the suite's labels is refused, naming the model's config.
        let err = HeadClassifier::new(&model, &["stop".into()], "m")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("m/config.json") && err.contains("stop"), "{err}");
    }

    #[test]
    fn prototypes_come_from_the_train_split() {
        let model = FakeEncoder::embedder();
        let suite = fakes::classify_suite(&["left", "right"], "");
        let task = super::super::build(&suite, &model, "m").unwrap();
        assert!(task.method().contains("prototype"));
        let out = task.infer(&["please go left", "right now"]).unwrap();
        assert_eq!(task.judge(&example("left"), &out[0]).prediction, "left");
        assert_eq!(task.judge(&example("right"), &out[1]).prediction, "right");
        assert!(matches!(out[0].probe(), Probe::Embedding(_)));
    }

    #[test]
    fn decoders_score_verbalizers_after_the_prompt_with_acc_and_acc_norm() {
        let model = FakeDecoder::new();
        let suite = fakes::classify_suite(
            &["left", "right"],
            "[prompt]\ntemplate = \"Command: {{ text }}\\nDirection:\"\nchat = false\n\
             [classify.verbalizers]\nright = \" right turn\"\n",
        );
        let task = super::super::build(&suite, &model, "m").unwrap();
        assert_eq!(task.measures(), ["accuracy", "acc_norm"]);
        let out = task.infer(&["go left"]).unwrap();
        // The fake scores each continuation by how many of its words the context holds, minus a
        // penalty per byte: the verbalizers it saw are the suite's, after the rendered prompt.
        let seen = model.scored.lock().unwrap().clone();
        assert_eq!(seen[0].context, "Command: go left\nDirection:");
        assert_eq!(seen[0].continuations, [" left", " right turn"]);
        let o = task.judge(&example("left"), &out[0]);
        assert_eq!((o.prediction.as_str(), o.measures.clone()), ("left", vec![1.0, 1.0]));
        let Output::Label { normalized, .. } = &out[0] else {
            panic!()
        };
        let n = normalized.as_ref().unwrap();
        let Output::Label { scores, .. } = &out[0] else {
            panic!()
        };
        assert!((n[1] - scores[1] / 11.0).abs() < 1e-6, "per byte of \" right turn\"");
    }

    #[test]
    fn acc_norm_can_disagree_with_acc() {
        // Raw log-likelihoods favour the short label; per byte, the long one wins.
        let output = Output::Label {
            scores: vec![-2.0, -3.0],
            normalized: Some(vec![-2.0 / 2.0, -3.0 / 12.0]),
            probe: Probe::Distribution(vec![0.73, 0.27]),
        };
        let labels = vec!["up".to_string(), "down further".to_string()];
        let o = judge_label(&labels, &example("down further"), &output, true);
        assert_eq!((o.correct, o.measures.clone()), (false, vec![0.0, 1.0]));
        assert_eq!(o.score, Some(0.73));
    }
}
