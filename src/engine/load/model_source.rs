//! Opening a model: a GGUF file (a decoder), or a Hugging Face folder (a BERT encoder, or a decoder in
//! safetensors), optionally with a PEFT LoRA adapter. Everything a scheme needs to build from is read
//! once here and shared by every scheme's build.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use super::chat::ChatTemplate;
use super::config::{long_rope_contexts, Architecture, DecoderConfig};
use super::gguf::{GgufFile, Value};
use super::lora::LoraAdapter;
use super::source::{HfTransform, TensorSource};
use super::tokenizer::Tokenizer;
use super::ModelFiles;
use crate::engine::api::ModelKind;
use crate::error::{Error, Result};

/// A decoder's files, opened.
pub struct DecoderSource {
    pub config: DecoderConfig,
    pub tensors: Arc<TensorSource>,
    pub tokenizer: Arc<Tokenizer>,
    pub chat: Option<Arc<ChatTemplate>>,
    pub adapter: Option<LoraAdapter>,
    /// `general.name` or the folder name.
    pub name: String,
}

/// An opened model of either kind.
pub enum ModelSource {
    Encoder(Box<ModelFiles>),
    Decoder(Box<DecoderSource>),
}

/// Hex SHA-256 of a file, read in chunks (the page cache holds it, not this process's memory).
pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The rows of a fused q/k/v projection's parts and the MLP width, for an architecture that stores its
/// projections fused (Phi-3), else `None`.
fn fused_rows(c: &DecoderConfig) -> Option<([usize; 3], usize)> {
    let (q, kv) = (c.heads * c.head_dim, c.kv_heads * c.head_dim);
    (c.arch == Architecture::Phi3).then_some(([q, kv, kv], c.ffn))
}

/// Phi-3 stores q/k/v and gate/up fused: the source serves their parts under the names model code reads.
fn split_fused(tensors: &mut TensorSource, c: &DecoderConfig) -> Result<()> {
    match fused_rows(c) {
        Some((qkv, ffn)) => tensors.split_fused(c.layers, qkv, ffn),
        None => Ok(()),
    }
}

impl ModelSource {
    /// Opens `path`: a `.gguf` file, or a folder with `config.json`.
    pub fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::input(
                path.display(),
                "no such file or folder (expected a GGUF file or a model folder with config.json)",
            ));
        }
        if path.is_file() {
            let mut magic = [0u8; 4];
            let ok = std::fs::File::open(path)
                .and_then(|mut f| f.read_exact(&mut magic))
                .is_ok();
            if !ok || &magic != b"GGUF" {
                return Err(Error::input(
                    path.display(),
                    "expected a GGUF file (magic \"GGUF\") or a model folder with config.json",
                ));
            }
            return Self::open_gguf(path);
        }
        let config = path.join("config.json");
        if !path.is_dir() || !config.exists() {
            return Err(Error::input(
                path.display(),
                "expected a GGUF file or a model folder with config.json, model.safetensors and tokenizer.json",
            ));
        }
        let v: serde_json::Value = serde_json::from_str(&crate::error::read_to_string(&config)?)
            .map_err(|e| Error::input(config.display(), format!("invalid JSON: {e}")))?;
        let model_type = v.get("model_type").and_then(|m| m.as_str()).unwrap_or("bert");
        if model_type == "bert" {
            return Ok(ModelSource::Encoder(Box::new(ModelFiles::load(path)?)));
        }
        Self::open_hf_decoder(path)
    }

    fn open_gguf(path: &Path) -> Result<Self> {
        let file = GgufFile::open(path)?;
        let config = DecoderConfig::from_gguf(&file)?;
        let tokenizer = Tokenizer::from_gguf(&file)?;
        if tokenizer.vocab_size() != config.vocab {
            return Err(Error::input(
                path.display(),
                format!(
                    "the tokenizer has {} tokens, the model's vocabulary {}",
                    tokenizer.vocab_size(),
                    config.vocab
                ),
            ));
        }
        let token_text = |id: Option<u32>| {
            id.and_then(|i| {
                file.get("tokenizer.ggml.tokens")
                    .and_then(Value::as_strings)
                    .and_then(|t| t.get(i as usize))
                    .map(str::to_string)
            })
            .unwrap_or_default()
        };
        let chat = match file.get("tokenizer.chat_template").and_then(Value::as_str) {
            Some(src) => Some(Arc::new(ChatTemplate::new(
                src,
                token_text(tokenizer.bos),
                token_text(tokenizer.eos),
                &format!("{}: metadata tokenizer.chat_template", path.display()),
            )?)),
            None => None,
        };
        let name = file
            .get("general.name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        let mut config = config;
        let long_rope = long_rope_contexts(&file, config.arch);
        let mut file = file;
        file.forget_vocabulary();
        let mut tensors = TensorSource::gguf(file);
        // Llama 3 files carry their RoPE frequency factors as a tensor, Phi-3 LongRoPE files their short
        // and long factors (`LongRope`: which a sequence uses depends on its length).
        for factors in ["rope_freqs.weight", "rope_factors_short.weight"] {
            if tensors.has(factors) {
                let t = tensors.tensor(factors, 1, config.rope_dims / 2)?;
                config.rope_freq_factors = Some(t.to_f32());
            }
        }
        if let Some((original, full)) = long_rope {
            let long = match tensors.has("rope_factors_long.weight") {
                true => Some(
                    tensors
                        .tensor("rope_factors_long.weight", 1, config.rope_dims / 2)?
                        .to_f32(),
                ),
                false => None,
            };
            config.set_long_rope(long, original, full, &path.display().to_string())?;
        }
        split_fused(&mut tensors, &config)?;
        Ok(ModelSource::Decoder(Box::new(DecoderSource {
            config,
            tensors: Arc::new(tensors),
            tokenizer: Arc::new(tokenizer),
            chat,
            adapter: None,
            name,
        })))
    }

    fn open_hf_decoder(dir: &Path) -> Result<Self> {
        let config = DecoderConfig::from_hf_config(&dir.join("config.json"))?;
        let transform = HfTransform {
            permute_qk: config.arch.rotates_pairs().then_some((config.heads, config.kv_heads)),
            norm_plus_one: config.arch.is_gemma(),
        };
        let mut tensors = TensorSource::safetensors(dir, transform, config.arch.is_gemma())?;
        split_fused(&mut tensors, &config)?;
        let tokenizer = Tokenizer::from_tokenizer_json(&dir.join("tokenizer.json"))?;
        let tc_path = dir.join("tokenizer_config.json");
        let chat = if tc_path.exists() {
            let tc: serde_json::Value = serde_json::from_str(&crate::error::read_to_string(&tc_path)?)
                .map_err(|e| Error::input(tc_path.display(), format!("invalid JSON: {e}")))?;
            let text = |field: &str| {
                tc.get(field)
                    .and_then(|v| v.as_str().or_else(|| v.get("content").and_then(|c| c.as_str())))
                    .unwrap_or("")
                    .to_string()
            };
            match tc.get("chat_template").and_then(|t| t.as_str()) {
                Some(src) => Some(Arc::new(ChatTemplate::new(
                    src,
                    text("bos_token"),
                    text("eos_token"),
                    &format!("{}: field chat_template", tc_path.display()),
                )?)),
                None => None,
            }
        } else {
            None
        };
        Ok(ModelSource::Decoder(Box::new(DecoderSource {
            config,
            tensors: Arc::new(tensors),
            tokenizer: Arc::new(tokenizer),
            chat,
            adapter: None,
            name: dir
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        })))
    }

    /// Adds a PEFT LoRA adapter folder (decoders only).
    pub fn with_adapter(self, dir: &Path) -> Result<Self> {
        match self {
            ModelSource::Encoder(_) => Err(Error::input(
                dir.display(),
                "LoRA adapters apply to decoder models only",
            )),
            ModelSource::Decoder(mut d) => {
                // A file is llama.cpp's GGUF adapter, already in the base file's row order; a folder is
                // PEFT's, whose query/key rows follow Hugging Face's RoPE order.
                let adapter = if dir.is_file() {
                    super::lora_gguf::read(dir, d.config.arch.name(), d.config.layers)?
                } else {
                    let permute = d
                        .config
                        .arch
                        .rotates_pairs()
                        .then_some((d.config.heads, d.config.kv_heads));
                    LoraAdapter::load(dir, permute, d.config.layers)?
                };
                d.adapter = Some(adapter.split_fused(fused_rows(&d.config))?);
                Ok(ModelSource::Decoder(d))
            }
        }
    }

    pub fn kind(&self) -> ModelKind {
        match self {
            ModelSource::Encoder(_) => ModelKind::Encoder,
            ModelSource::Decoder(_) => ModelKind::Decoder,
        }
    }

    /// Where the model came from.
    pub fn origin(&self) -> &Path {
        match self {
            ModelSource::Encoder(f) => &f.dir,
            ModelSource::Decoder(d) => &d.tensors.origin,
        }
    }

    /// Hex SHA-256 of the weights (GGUF file, `model.safetensors`; with an adapter, of both).
    pub fn weights_sha256(&self) -> Result<String> {
        match self {
            ModelSource::Encoder(f) => Ok(f.weights_sha256.clone()),
            ModelSource::Decoder(d) => {
                let origin = &d.tensors.origin;
                let file = if origin.is_file() {
                    origin.clone()
                } else {
                    origin.join("model.safetensors")
                };
                let base = if file.exists() {
                    sha256_file(&file)?
                } else {
                    sha256_file(&origin.join("model.safetensors.index.json"))?
                };
                Ok(match &d.adapter {
                    Some(a) => format!("{base}+{}", a.sha256),
                    None => base,
                })
            }
        }
    }
}
