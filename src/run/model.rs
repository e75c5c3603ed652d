//! Opening the run's model once and building it under each scheme. The engine opens a path; this
//! module decides which engine loader a path needs and hands tasks a `LanguageModel`.

use std::path::{Path, PathBuf};

use crate::engine::{LanguageModel, Model, ModelFiles, Scheme, WeightStats};
use crate::error::{Error, Result};

/// A model read from disk, before any scheme is applied.
pub struct OpenedModel {
    path: PathBuf,
    weights: Weights,
    sha256: String,
}

enum Weights {
    /// A Hugging Face BERT-family folder.
    Encoder(ModelFiles),
}

impl OpenedModel {
    /// Opens a model folder (an encoder) or a model file (a decoder, GGUF), with an optional PEFT
    /// adapter folder for decoders.
    pub fn open(path: &Path, adapter: Option<&Path>) -> Result<Self> {
        if path.is_file() {
            return Err(Error::input(
                path.display(),
                "a model file (a decoder such as a GGUF file): this build's engine loads only BERT-family model folders",
            ));
        }
        if let Some(a) = adapter {
            return Err(Error::input(
                a.display(),
                "an adapter applies to a decoder base model; this model is a BERT-family folder",
            ));
        }
        let files = ModelFiles::load(path)?;
        Ok(OpenedModel {
            path: path.to_path_buf(),
            sha256: files.weights_sha256.clone(),
            weights: Weights::Encoder(files),
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
        match self.weights {
            Weights::Encoder(_) => false,
        }
    }

    /// The model with its weights in `scheme`'s format; activation-aware schemes calibrate on `calibration`.
    pub fn build(&self, scheme: Scheme, calibration: &[&str]) -> Result<(Box<dyn LanguageModel>, WeightStats)> {
        match &self.weights {
            Weights::Encoder(files) => {
                let model = Model::build_calibrated(files, scheme, calibration)?;
                let (bytes, count) = model.linear_weight_stats();
                Ok((Box::new(model), WeightStats { bytes, count }))
            }
        }
    }
}
