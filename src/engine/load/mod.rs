//! Loading a Hugging Face model folder: `config.json`, `model.safetensors`, `tokenizer.json`
//! (and `sentence_bert_config.json` for the maximum sequence length, when present).

pub mod byte_bpe;
pub mod chat;
pub mod config;
pub mod gguf;
pub mod gguf_write;
pub mod lora;
pub mod lora_gguf;
pub mod model_source;
pub mod rope_settings;
pub mod source;
pub mod tokenizer;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use crate::error::{read_to_string, Error, Result};

/// The fields of a BERT `config.json` the engine uses.
#[derive(Clone, Debug, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f32,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default)]
    pub model_type: Option<String>,
    #[serde(default)]
    pub id2label: Option<BTreeMap<String, String>>,
}

fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f32 {
    1e-12
}
fn default_act() -> String {
    "gelu".into()
}

/// A named f32 tensor read from safetensors (f16 and bf16 are widened on load).
#[derive(Clone, Debug)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Everything read from a model folder, before any scheme is applied.
pub struct ModelFiles {
    pub dir: PathBuf,
    pub config: BertConfig,
    pub tensors: HashMap<String, Tensor>,
    pub tokenizer: tokenizers::Tokenizer,
    /// Longest token sequence the model is run on (sentence-transformers' `max_seq_length` when given).
    pub max_len: usize,
    /// Hex SHA-256 of `model.safetensors`, to identify the weights in run metadata.
    pub weights_sha256: String,
}

impl ModelFiles {
    /// Reads and validates a model folder.
    pub fn load(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::input(
                dir.display(),
                "expected a model folder with config.json, model.safetensors and tokenizer.json",
            ));
        }
        let config_path = dir.join("config.json");
        let config: BertConfig = serde_json::from_str(&read_to_string(&config_path)?)
            .map_err(|e| Error::input(config_path.display(), format!("not a BERT config: {e}")))?;
        if let Some(t) = &config.model_type {
            if t != "bert" {
                return Err(Error::input(
                    config_path.display(),
                    format!(
                        "field model_type: expected \"bert\", found \"{t}\" (only the BERT family is supported so far)"
                    ),
                ));
            }
        }
        if config.hidden_act != "gelu" {
            return Err(Error::input(
                config_path.display(),
                format!("field hidden_act: expected \"gelu\", found \"{}\"", config.hidden_act),
            ));
        }
        if config.num_attention_heads == 0 || !config.hidden_size.is_multiple_of(config.num_attention_heads) {
            return Err(Error::input(
                config_path.display(),
                "field num_attention_heads: expected a divisor of hidden_size",
            ));
        }
        let weights_path = dir.join("model.safetensors");
        let bytes = std::fs::read(&weights_path).map_err(|e| Error::io(&weights_path, e))?;
        let weights_sha256 = sha256_hex(&bytes);
        let tensors = read_safetensors(&bytes, &weights_path)?;
        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer = tokenizer::read_tokenizer_json(&tok_path)?;
        // A tokenizer of another model gives ids past the embedding table (or the wrong words).
        let tokens = tokenizer.get_vocab_size(true);
        if tokens > config.vocab_size {
            return Err(Error::input(
                tok_path.display(),
                format!(
                    "the tokenizer has {tokens} tokens, the model's vocabulary (config.json vocab_size) {}: is it this model's tokenizer?",
                    config.vocab_size
                ),
            ));
        }
        let max_len = sentence_max_len(dir)?
            .unwrap_or(config.max_position_embeddings)
            .min(config.max_position_embeddings);
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: max_len,
                ..Default::default()
            }))
            .map_err(|e| Error::input(tok_path.display(), format!("cannot set truncation: {e}")))?;
        Ok(ModelFiles {
            dir: dir.to_path_buf(),
            config,
            tensors,
            tokenizer,
            max_len,
            weights_sha256,
        })
    }

    /// The tensor `name` with the expected shape, or an error naming the file and the tensor.
    pub fn tensor(&self, name: &str, shape: &[usize]) -> Result<&Tensor> {
        let path = self.dir.join("model.safetensors");
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| Error::input(path.display(), format!("missing tensor {name}")))?;
        if t.shape != shape {
            return Err(Error::input(
                path.display(),
                format!("tensor {name}: expected shape {shape:?}, found {:?}", t.shape),
            ));
        }
        Ok(t)
    }

    /// True when the checkpoint has tensor `name`.
    pub fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }
}

fn sentence_max_len(dir: &Path) -> Result<Option<usize>> {
    let path = dir.join("sentence_bert_config.json");
    if !path.exists() {
        return Ok(None);
    }
    let v: serde_json::Value = serde_json::from_str(&read_to_string(&path)?)
        .map_err(|e| Error::input(path.display(), format!("invalid JSON: {e}")))?;
    Ok(v.get("max_seq_length").and_then(|m| m.as_u64()).map(|m| m as usize))
}

fn read_safetensors(bytes: &[u8], path: &Path) -> Result<HashMap<String, Tensor>> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| Error::input(path.display(), format!("not a safetensors file: {e}")))?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        let raw = view.data();
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => raw
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            _ => continue, // integer buffers such as position_ids are not weights
        };
        out.insert(
            name,
            Tensor {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok(out)
}

/// Hex SHA-256 of a byte slice.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
