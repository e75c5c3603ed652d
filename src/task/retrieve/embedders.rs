//! Where a retrieval run gets its embedders: the engine's model under each scheme, and what
//! besides model and scheme decides the embeddings' bits (for the index key).

use std::path::Path;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::engine::{LanguageModel, Model, ModelFiles, Scheme, WeightStats};
use crate::error::Result;
use crate::index::{self, corpus_sha256, IndexKey, Opened, Precision, Writer};

/// A source of embedding models, one per scheme.
pub trait Embedders {
    /// SHA-256 of the model's weights.
    fn model_sha256(&self) -> String;
    /// Everything else that changes `scheme`'s embeddings: stored with an index so that another
    /// build of the tool, kernel table or calibration set never reuses it.
    fn build_id(&self, scheme: Scheme) -> String;
    /// The model under `scheme`.
    fn load(&self, scheme: Scheme) -> Result<Box<dyn LanguageModel>>;
}

/// The built-in engine: a model folder and the calibration texts of activation-aware schemes.
pub struct EngineEmbedders<'a> {
    pub files: &'a ModelFiles,
    pub calibration: &'a [&'a str],
    /// The weight bytes and count of every scheme loaded so far, for the run's metadata.
    weights: Mutex<Vec<(Scheme, WeightStats)>>,
}

impl<'a> EngineEmbedders<'a> {
    pub fn new(files: &'a ModelFiles, calibration: &'a [&'a str]) -> Self {
        EngineEmbedders {
            files,
            calibration,
            weights: Mutex::new(Vec::new()),
        }
    }

    /// The weights of `scheme`'s model, once it has been loaded.
    pub fn weight_stats(&self, scheme: Scheme) -> Option<WeightStats> {
        let weights = self.weights.lock().unwrap_or_else(|e| e.into_inner());
        weights.iter().find(|(s, _)| *s == scheme).map(|(_, w)| *w)
    }
}

impl Embedders for EngineEmbedders<'_> {
    fn model_sha256(&self) -> String {
        self.files.weights_sha256.clone()
    }

    fn build_id(&self, scheme: Scheme) -> String {
        let calibration = if scheme.needs_calibration() {
            let mut h = Sha256::new();
            for t in self.calibration {
                h.update((t.len() as u64).to_le_bytes());
                h.update(t.as_bytes());
            }
            h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
        } else {
            "-".to_string()
        };
        format!(
            "shakedown {} ({}); kernels {}; max_len {}; calibration {calibration}",
            env!("CARGO_PKG_VERSION"),
            option_env!("SHAKEDOWN_GIT_REVISION").unwrap_or("unknown"),
            crate::engine::kernel_table(),
            self.files.max_len,
        )
    }

    fn load(&self, scheme: Scheme) -> Result<Box<dyn LanguageModel>> {
        let model = Model::build_calibrated(self.files, scheme, self.calibration)?;
        let (bytes, count) = model.linear_weight_stats();
        let mut weights = self.weights.lock().unwrap_or_else(|e| e.into_inner());
        if !weights.iter().any(|(s, _)| *s == scheme) {
            weights.push((
                scheme,
                WeightStats {
                    bytes,
                    count,
                    model_bytes: None,
                    head: None,
                },
            ));
        }
        Ok(Box::new(model))
    }
}

/// A loaded model with the scheme it runs and where it came from: what an index of its embeddings
/// is keyed by.
pub struct SchemeModel<'a> {
    pub embedders: &'a dyn Embedders,
    pub model: &'a dyn LanguageModel,
    pub scheme: Scheme,
    /// Width of the model's embeddings.
    pub dim: usize,
}

impl SchemeModel<'_> {
    /// Opens the stored index of `chunks` (`(id, text)`, in corpus order) as this model embeds them
    /// at every precision, building the missing ones in one embedding pass (`on_build` is told how
    /// many before it starts).
    pub fn index(
        &self,
        dir: &Path,
        precisions: &[Precision],
        chunks: &[(&str, &str)],
        on_build: &dyn Fn(usize),
    ) -> Result<Vec<Opened>> {
        let sha = corpus_sha256(chunks.iter().copied());
        let keys: Vec<IndexKey> = precisions
            .iter()
            .map(|&precision| IndexKey {
                model_sha256: self.embedders.model_sha256(),
                scheme: self.scheme.to_string(),
                precision,
                corpus_sha256: sha.clone(),
                dim: self.dim,
                embedder_build: self.embedders.build_id(self.scheme),
            })
            .collect();
        index::open_or_build(dir, &keys, |writers: &mut [Writer]| {
            on_build(writers.len());
            for batch in chunks.chunks(crate::task::BATCH) {
                let texts: Vec<&str> = batch.iter().map(|(_, t)| *t).collect();
                let vectors = self.model.embed(&texts)?;
                for w in writers.iter_mut() {
                    w.add(batch, &vectors)?;
                }
            }
            Ok(())
        })
    }
}
