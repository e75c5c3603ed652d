//! The built-in inference engine: opens a model (a GGUF file, or a Hugging Face folder with a BERT
//! encoder or a decoder) and runs it under a quantization scheme. It knows nothing of suites, tasks or
//! corruptions: callers go through `Model` and the `LanguageModel` trait (api.rs).

pub mod api;
pub mod build;
pub mod decoding;
pub mod export;
pub mod fidelity;
pub mod kernels;
pub mod layers;
pub mod load;
pub mod models;
pub mod quant;
pub mod tensor;

use std::collections::HashMap;

use crate::error::{Error, Result};
pub use api::{
    Acceptance, ChatMessage, ContinuationScore, Finish, GenerateRequest, Generation, LanguageModel,
    LoglikelihoodRequest, ModelKind, OutputConstraint, Sampling, WeightStats,
};
use build::WeightBuilder;
use decoding::DecoderModel;
use layers::attention::KvCache;
pub use load::model_source::{DecoderSource, ModelSource};
pub use load::ModelFiles;
use models::bert::Bert;
use models::decoder::Decoder;
pub use quant::scheme::{parse_scheme_list, Scheme, ALL_SCHEMES, DEFAULT_SCHEMES};
use tensor::Matrix;
pub use tensor::{l2_normalize, softmax};

/// The name of the kernel table this CPU runs (`avx2`, `avx512vnni` or `generic`), for run records.
pub fn kernel_table() -> &'static str {
    kernels::kernels().name()
}

/// Token rows of calibration activations kept per Linear (the first ones, in text order).
pub const CALIBRATION_ROWS: usize = 512;

fn tokenize(tokenizer: &tokenizers::Tokenizer, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
    let enc = tokenizer
        .encode_batch(texts.to_vec(), true)
        .map_err(|e| Error::Internal(format!("tokenizer failed: {e}")))?;
    Ok(enc.into_iter().map(|e| e.get_ids().to_vec()).collect())
}

/// A BERT encoder with its tokenizer and head labels.
pub struct Encoder {
    bert: Bert,
    tokenizer: tokenizers::Tokenizer,
    labels: Vec<String>,
}

/// One model per scheme lives for a whole run and is never moved in a loop, so the
/// variants' size difference costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
enum Inner {
    Encoder(Encoder),
    Decoder(DecoderModel),
}

/// A model ready to run, its weights in one scheme's format.
pub struct Model {
    inner: Inner,
    scheme: Scheme,
}

/// Calibration inputs of a decoder's Linears: the f32 model run over `texts` (each its own sequence),
/// keeping the first `CALIBRATION_ROWS` token rows of every Linear's input.
fn capture_decoder_inputs(source: &DecoderSource, texts: &[&str]) -> Result<HashMap<String, Matrix>> {
    let builder = WeightBuilder {
        source: &source.tensors,
        scheme: Scheme::F32,
        calibration: None,
        adapter: source.adapter.as_ref().map(|a| a as &dyn build::WeightDelta),
    };
    let decoder = Decoder::build(source.config.clone(), source.tensors.clone(), &builder)?;
    let mut kept: HashMap<String, Matrix> = HashMap::new();
    for chunk in texts.chunks(decoding::SCORE_BATCH) {
        // Only the first rows are kept: once every Linear has them, the rest of the texts add nothing.
        if !kept.is_empty() && kept.values().all(|m| m.rows >= CALIBRATION_ROWS) {
            break;
        }
        let ids: Vec<Vec<u32>> = chunk
            .iter()
            .map(|t| source.tokenizer.encode(t, true, true))
            .collect::<Result<_>>()?;
        let ids: Vec<Vec<u32>> = ids.into_iter().filter(|i| !i.is_empty()).collect();
        let config = &source.config;
        let mut caches: Vec<KvCache> = ids
            .iter()
            .map(|i| KvCache::new(config.layers).with_long_rope(config.long_rope_for(i.len())))
            .collect();
        let mut refs: Vec<&mut KvCache> = caches.iter_mut().collect();
        let feeds: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
        decoder.forward_hidden(&mut refs, &feeds, &[], &mut |name, x| {
            let m = kept.entry(name.to_string()).or_insert_with(|| Matrix::zeros(0, x.cols));
            let take = CALIBRATION_ROWS.saturating_sub(m.rows).min(x.rows);
            m.data.extend_from_slice(&x.data[..take * x.cols]);
            m.rows += take;
        })?;
    }
    Ok(kept)
}

impl Model {
    /// Builds any model for `scheme`; activation-aware schemes calibrate on `calibration` texts.
    pub fn from_source(source: &ModelSource, scheme: Scheme, calibration: &[&str]) -> Result<Self> {
        match source {
            ModelSource::Encoder(files) => Self::build_calibrated(files, scheme, calibration),
            ModelSource::Decoder(d) => {
                let captures = if scheme.needs_calibration() {
                    if calibration.is_empty() {
                        return Err(Error::input(
                            format!("scheme {scheme}"),
                            "needs calibration texts (a suite's calibration split); none were given",
                        ));
                    }
                    Some(capture_decoder_inputs(d, calibration)?)
                } else {
                    None
                };
                let builder = WeightBuilder {
                    source: &d.tensors,
                    scheme,
                    calibration: captures.as_ref(),
                    adapter: d.adapter.as_ref().map(|a| a as &dyn build::WeightDelta),
                };
                let decoder = Decoder::build(d.config.clone(), d.tensors.clone(), &builder)?;
                drop(captures);
                d.tensors.release_all();
                // Building freed the f32 copies, calibration captures and header strings it went through;
                // the allocator keeps freed memory for reuse (memory::keep_freed_memory), so hand it back
                // now or the model costs half its size again for the rest of the process.
                crate::memory::release_freed_memory();
                Ok(Model {
                    inner: Inner::Decoder(DecoderModel {
                        decoder,
                        tokenizer: d.tokenizer.clone(),
                        chat: d.chat.clone(),
                    }),
                    scheme,
                })
            }
        }
    }

    /// Quantizes the loaded weights for `scheme` (schemes that need calibration data fail; see
    /// `build_calibrated`).
    pub fn build(files: &ModelFiles, scheme: Scheme) -> Result<Self> {
        Self::build_calibrated(files, scheme, &[])
    }

    /// Builds a BERT encoder for `scheme`, gathering the activation statistics that activation-aware
    /// schemes need by running the f32 model on `calibration` texts.
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
            inner: Inner::Encoder(Encoder {
                bert,
                tokenizer: files.tokenizer.clone(),
                labels,
            }),
            scheme,
        })
    }

    fn encoder_or_err(&self) -> Result<&Encoder> {
        match &self.inner {
            Inner::Encoder(e) => Ok(e),
            Inner::Decoder(_) => Err(Error::input(
                "model",
                "a decoder has no sentence embeddings or classification head; this needs an encoder (BERT) model",
            )),
        }
    }

    fn decoder_or_err(&self) -> Result<&DecoderModel> {
        match &self.inner {
            Inner::Decoder(d) => Ok(d),
            Inner::Encoder(_) => Err(Error::input(
                "model",
                "an encoder cannot score or generate text; this needs a decoder model",
            )),
        }
    }

    /// The BERT encoder (for inspection tools), when the model is one.
    pub fn encoder(&self) -> Option<&Bert> {
        match &self.inner {
            Inner::Encoder(e) => Some(&e.bert),
            Inner::Decoder(_) => None,
        }
    }

    /// The decoder, when the model is one.
    pub fn decoder(&self) -> Option<&DecoderModel> {
        match &self.inner {
            Inner::Decoder(d) => Some(d),
            Inner::Encoder(_) => None,
        }
    }

    /// The scheme the weights are stored in.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// True when the model has a sequence-classification head.
    pub fn has_classifier(&self) -> bool {
        !self.labels().is_empty()
    }

    /// Stored bytes of every weight matrix of a decoder under its scheme (`Decoder::stored_bytes`);
    /// None for encoders, whose embeddings and heads stay f32 in every scheme.
    pub fn stored_weight_bytes(&self) -> Result<Option<usize>> {
        match &self.inner {
            Inner::Encoder(_) => Ok(None),
            Inner::Decoder(d) => d.decoder.stored_bytes().map(Some),
        }
    }

    /// A decoder's output head storage format (`f32`, or the file's type when kept as stored);
    /// `None` for an encoder, whose head is always f32.
    pub fn head_storage(&self) -> Option<&'static str> {
        match &self.inner {
            Inner::Encoder(_) => None,
            Inner::Decoder(d) => Some(d.decoder.head_storage()),
        }
    }

    /// Stored bytes and count of the weights the scheme applies to (the transformer blocks' Linears).
    pub fn linear_weight_stats(&self) -> (usize, usize) {
        match &self.inner {
            Inner::Encoder(e) => e.bert.linear_weight_stats(),
            Inner::Decoder(d) => d
                .decoder
                .linears()
                .iter()
                .fold((0, 0), |(b, n), (_, l)| (b + l.weight_bytes(), n + l.weight_count())),
        }
    }

    /// Mean-pooled, L2-normalised sentence embeddings.
    pub fn embeddings(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let e = self.encoder_or_err()?;
        let ids = tokenize(&e.tokenizer, texts)?;
        let hidden = e.bert.encode(&ids);
        Ok(e.bert.mean_pooled(&hidden))
    }

    /// Classification logits; an error when the model has no classification head.
    pub fn logits(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let e = self.encoder_or_err()?;
        let ids = tokenize(&e.tokenizer, texts)?;
        let hidden = e.bert.encode(&ids);
        e.bert
            .logits(&hidden)
            .ok_or_else(|| Error::Internal("logits asked of a model without a classification head".into()))
    }
}

impl LanguageModel for Model {
    fn kind(&self) -> ModelKind {
        match &self.inner {
            Inner::Encoder(_) => ModelKind::Encoder,
            Inner::Decoder(_) => ModelKind::Decoder,
        }
    }

    fn labels(&self) -> &[String] {
        match &self.inner {
            Inner::Encoder(e) => &e.labels,
            Inner::Decoder(_) => &[],
        }
    }

    fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        match &self.inner {
            Inner::Encoder(e) => tokenize(&e.tokenizer, texts),
            Inner::Decoder(d) => texts.iter().map(|t| d.encode(t)).collect(),
        }
    }

    fn context_length(&self) -> Option<usize> {
        match &self.inner {
            Inner::Decoder(d) => Some(d.decoder.config.context_length),
            Inner::Encoder(_) => None,
        }
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embeddings(texts)
    }

    fn classify(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.logits(texts)
    }

    fn loglikelihood(&self, requests: &[LoglikelihoodRequest]) -> Result<Vec<Vec<ContinuationScore>>> {
        self.decoder_or_err()?.loglikelihood(requests)
    }

    fn generate_reporting(&self, requests: &[GenerateRequest<'_>], done: &dyn Fn(usize)) -> Result<Vec<Generation>> {
        self.decoder_or_err()?.generate_reporting(requests, done)
    }

    fn answers_alone(&self) -> bool {
        match &self.inner {
            Inner::Decoder(d) => d.decoder.rows_independent(),
            Inner::Encoder(_) => false,
        }
    }

    fn chat_prompt(&self, messages: &[ChatMessage]) -> Result<Option<String>> {
        match &self.inner {
            Inner::Decoder(d) => d.chat_prompt(messages),
            Inner::Encoder(_) => Ok(None),
        }
    }
}
