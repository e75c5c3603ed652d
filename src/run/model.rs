//! Opening the run's model once and building it under each scheme. The engine opens a path (a BERT
//! folder, a GGUF file or a decoder folder, with an optional PEFT adapter); this module keeps what the
//! run records about it and hands tasks a `LanguageModel`.

use std::path::{Path, PathBuf};

use crate::analysis::summary::{self, SchemeInfo};
use crate::engine::{LanguageModel, Model, ModelKind, ModelSource, Scheme, WeightStats};
use crate::error::Result;

/// A model read from disk (weights memory-mapped where the format allows), before any scheme is applied.
pub struct OpenedModel {
    path: PathBuf,
    source: ModelSource,
    sha256: String,
}

impl OpenedModel {
    /// Opens a model folder (an encoder, or a Hugging Face decoder) or a GGUF file (a decoder), with an
    /// optional PEFT adapter folder for decoders.
    pub fn open(path: &Path, adapter: Option<&Path>) -> Result<Self> {
        let mut source = ModelSource::open(path)?;
        if let Some(a) = adapter {
            source = source.with_adapter(a)?;
        }
        let sha256 = source.weights_sha256()?;
        Ok(OpenedModel {
            path: path.to_path_buf(),
            source,
            sha256,
        })
    }

    /// SHA-256 of the weights (and adapter), to identify the model in run metadata.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True for decoders, whose calibration texts are the rendered prompts rather than the bare inputs.
    pub fn is_decoder(&self) -> bool {
        self.source.kind() == ModelKind::Decoder
    }

    /// The model with its weights in `scheme`'s format; activation-aware schemes calibrate on `calibration`.
    pub fn build(&self, scheme: Scheme, calibration: &[&str]) -> Result<(Box<dyn LanguageModel>, WeightStats)> {
        let model = Model::from_source(&self.source, scheme, calibration)?;
        let (bytes, count) = model.linear_weight_stats();
        let model_bytes = model.stored_weight_bytes()?;
        let head = model.head_storage();
        Ok((
            Box::new(model),
            WeightStats {
                bytes,
                count,
                model_bytes,
                head,
            },
        ))
    }
}

/// What a run records of a scheme's weights, before fidelity and memory are known.
pub fn scheme_info(name: String, w: WeightStats) -> SchemeInfo {
    SchemeInfo {
        name,
        weights: summary::WeightStats {
            weight_bytes: w.bytes,
            weight_count: w.count,
            bits_per_weight: w.bits_per_weight(),
            model_bytes: w.model_bytes,
            head: w.head.map(String::from),
        },
        fidelity: None,
        memory: None,
        answers_cut_off: 0,
    }
}
