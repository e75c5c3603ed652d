//! The built-in inference engine: loads a Hugging Face model folder and runs it under a quantization scheme.
//! It knows nothing of suites or corruptions.

pub mod api;
pub mod kernels;
pub mod layers;
pub mod load;
pub mod models;
pub mod quant;
pub mod tensor;

use crate::error::{Error, Result};
pub use api::{
    Acceptance, ChatMessage, ContinuationScore, Finish, GenerateRequest, Generation, LanguageModel,
    LoglikelihoodRequest, ModelKind, OutputConstraint, Sampling, WeightStats,
};
pub use load::ModelFiles;
use models::bert::Bert;
pub use quant::scheme::Scheme;

/// Token rows of calibration activations kept per Linear (the first ones, in text order).
pub const CALIBRATION_ROWS: usize = 512;

fn tokenize(tokenizer: &tokenizers::Tokenizer, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
    let enc = tokenizer
        .encode_batch(texts.to_vec(), true)
        .map_err(|e| Error::Internal(format!("tokenizer failed: {e}")))?;
    Ok(enc.into_iter().map(|e| e.get_ids().to_vec()).collect())
}

/// A model ready to run: tokenizer + BERT encoder with its weights in one scheme's format.
pub struct Model {
    bert: Bert,
    tokenizer: tokenizers::Tokenizer,
    labels: Vec<String>,
    scheme: Scheme,
}

impl Model {
    /// Quantizes the loaded weights for `scheme` (schemes that need calibration data fail; see
    /// `build_calibrated`).
    pub fn build(files: &ModelFiles, scheme: Scheme) -> Result<Self> {
        Self::build_calibrated(files, scheme, &[])
    }

    /// Quantizes the loaded weights for `scheme`, gathering the activation statistics that
    /// activation-aware schemes need by running the f32 model on `calibration` texts.
    pub fn build_calibrated(files: &ModelFiles, scheme: Scheme, calibration: &[&str]) -> Result<Self> {
        let captures = if scheme.needs_calibration() {
            if calibration.is_empty() {
                return Err(Error::input(
                    format!("scheme {scheme}"),
                    "needs calibration texts (a suite's calibration split); none were given",
                ));
            }
            let reference = Bert::build(files, Scheme::F32, None)?;
            let ids = tokenize(&files.tokenizer, calibration)?;
            Some(reference.capture_linear_inputs(&ids, CALIBRATION_ROWS))
        } else {
            None
        };
        let bert = Bert::build(files, scheme, captures.as_ref())?;
        let mut labels: Vec<String> = (0..bert.num_labels()).map(|i| format!("LABEL_{i}")).collect();
        if let Some(map) = &files.config.id2label {
            for (id, name) in map {
                let i: usize = id.parse().map_err(|_| {
                    Error::input(
                        files.dir.join("config.json").display(),
                        format!("field id2label: key \"{id}\" is not an integer"),
                    )
                })?;
                if i < labels.len() {
                    labels[i] = name.clone();
                }
            }
        }
        Ok(Model {
            bert,
            tokenizer: files.tokenizer.clone(),
            labels,
            scheme,
        })
    }

    /// The encoder (for inspection tools).
    pub fn encoder(&self) -> &Bert {
        &self.bert
    }

    /// The scheme the weights are stored in.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Names of the classification head's outputs, in logit order (empty without a head).
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// True when the model has a sequence-classification head.
    pub fn has_classifier(&self) -> bool {
        !self.labels.is_empty()
    }

    /// Stored bytes and count of the quantized (encoder Linear) weights.
    pub fn linear_weight_stats(&self) -> (usize, usize) {
        self.bert.linear_weight_stats()
    }

    /// Token ids of each text, with special tokens, truncated to the model's limit.
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        tokenize(&self.tokenizer, texts)
    }

    /// Mean-pooled, L2-normalised sentence embeddings.
    pub fn embeddings(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let ids = self.tokenize(texts)?;
        let hidden = self.bert.encode(&ids);
        Ok(self.bert.mean_pooled(&hidden))
    }

    /// Classification logits; an error when the model has no classification head.
    pub fn logits(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let ids = self.tokenize(texts)?;
        let hidden = self.bert.encode(&ids);
        self.bert
            .logits(&hidden)
            .ok_or_else(|| Error::Internal("logits asked of a model without a classification head".into()))
    }
}

impl LanguageModel for Model {
    fn kind(&self) -> ModelKind {
        ModelKind::Encoder
    }

    fn labels(&self) -> &[String] {
        &self.labels
    }

    fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        tokenize(&self.tokenizer, texts)
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embeddings(texts)
    }

    fn classify(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.logits(texts)
    }

    fn loglikelihood(&self, _requests: &[LoglikelihoodRequest]) -> Result<Vec<Vec<ContinuationScore>>> {
        Err(Error::input(
            "model",
            "an encoder cannot score continuations; this task needs a decoder model",
        ))
    }

    fn generate(&self, _requests: &[GenerateRequest<'_>]) -> Result<Vec<Generation>> {
        Err(Error::input(
            "model",
            "an encoder cannot generate text; this task needs a decoder model",
        ))
    }

    fn chat_prompt(&self, _messages: &[ChatMessage]) -> Result<Option<String>> {
        Ok(None)
    }
}
