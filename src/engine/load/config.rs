//! A decoder's hyper-parameters, read from GGUF metadata (`{arch}.*` keys, llama.cpp's names) or from a
//! Hugging Face `config.json`, into one plain struct the model files read.

use std::path::Path;

use super::gguf::{GgufFile, StringList, Value};
use super::rope_settings::HfRope;
use crate::engine::layers::mlp::Activation;
use crate::engine::layers::rope::RopeStyle;
use crate::engine::layers::yarn::Yarn;
use crate::error::{read_to_string, Error, Result};

/// The decoder families the engine runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// Llama, SmolLM2, Llama 3.2 (and relatives with the same block).
    Llama,
    /// SmolLM3: Llama's block with RoPE left out of every fourth layer (NoPE layers).
    SmolLM3,
    /// Qwen2 / Qwen2.5: Llama's block with query/key/value biases.
    Qwen2,
    /// Qwen3: Llama's block with an RMSNorm of each query and key head before RoPE (no biases).
    Qwen3,
    /// Gemma 2: Gemma 3's block without the query/key norms, with attention logits soft-capped.
    Gemma2,
    /// Gemma 3 (text).
    Gemma3,
    /// Phi-3 / Phi-3.5 / Phi-4-mini: Llama's block with the query/key/value projections fused into one
    /// matrix and the gate/up projections into another (the tensor source splits them by rows), NeoX
    /// RoPE over a fraction of each head, LongRoPE frequency factors.
    Phi3,
}

impl Architecture {
    pub fn name(self) -> &'static str {
        match self {
            Architecture::Llama => "llama",
            Architecture::SmolLM3 => "smollm3",
            Architecture::Qwen2 => "qwen2",
            Architecture::Qwen3 => "qwen3",
            Architecture::Gemma2 => "gemma2",
            Architecture::Gemma3 => "gemma3",
            Architecture::Phi3 => "phi3",
        }
    }

    /// Llama's rotation of adjacent feature pairs, for which llama.cpp's converter permutes the query
    /// and key rows of a Hugging Face checkpoint (and so does our loader); the others rotate halves.
    pub fn rotates_pairs(self) -> bool {
        matches!(self, Architecture::Llama | Architecture::SmolLM3)
    }

    /// Gemma 2 and 3: tanh-GELU, embeddings scaled by `sqrt(hidden)`, norm weights stored in Hugging
    /// Face checkpoints as an offset from 1, sandwich norms, local and global layers.
    pub fn is_gemma(self) -> bool {
        matches!(self, Architecture::Gemma2 | Architecture::Gemma3)
    }

    /// Every how many layers a Gemma model has a global one when its file does not list them: Gemma 2
    /// alternates (llama.cpp `load_swa_pattern(ml, 2)`), Gemma 3 has five local layers per global one (6).
    fn default_swa_pattern(self) -> usize {
        match self {
            Architecture::Gemma2 => 2,
            _ => 6,
        }
    }
}

/// Everything a decoder's forward pass needs to know.
#[derive(Clone, Debug)]
pub struct DecoderConfig {
    pub arch: Architecture,
    pub vocab: usize,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub ffn: usize,
    pub norm_eps: f32,
    pub rope_style: RopeStyle,
    pub rope_dims: usize,
    pub rope_base: f64,
    /// Gemma 3's local (sliding-window) layers use another base.
    pub rope_base_local: Option<f64>,
    /// A factor per rotated pair that divides its frequency: Llama 3 scaling, linear scaling (every
    /// factor the same; Gemma 3's global layers only) and LongRoPE's short factors.
    pub rope_freq_factors: Option<Vec<f32>>,
    /// Multiplies RoPE's sines and cosines (LongRoPE's attention factor; 1 for most models).
    pub rope_attn_factor: f32,
    pub context_length: usize,
    /// Keys a local layer attends back to, and which layers are local.
    pub sliding_window: Option<usize>,
    pub local_layers: Vec<bool>,
    pub activation: Activation,
    /// Multiplies `q . k` (usually `1/sqrt(head_dim)`).
    pub attention_scale: f32,
    /// Multiplies the token embeddings (Gemma: `sqrt(hidden)`).
    pub embedding_scale: Option<f32>,
    /// `cap * tanh(logits / cap)` on the output (Gemma 2 style; `None` for most models).
    pub final_logit_softcap: Option<f32>,
    /// `cap * tanh(score / cap)` on every attention score before the softmax (Gemma 2).
    pub attn_logit_softcap: Option<f32>,
    /// Layers whose queries and keys are not rotated (SmolLM3's NoPE layers); empty: all rotate.
    pub nope_layers: Vec<bool>,
}

fn arch_from(name: &str, origin: &str) -> Result<Architecture> {
    Ok(match name {
        "llama" | "smollm" | "mistral" => Architecture::Llama,
        "smollm3" => Architecture::SmolLM3,
        "qwen2" => Architecture::Qwen2,
        "qwen3" => Architecture::Qwen3,
        "gemma2" => Architecture::Gemma2,
        "gemma3" | "gemma3_text" => Architecture::Gemma3,
        "phi3" => Architecture::Phi3,
        other => {
            return Err(Error::input(
                origin,
                format!("unknown architecture \"{other}\": the engine runs llama (SmolLM2, Llama 3.2), smollm3, qwen2, qwen3, gemma2, gemma3 and phi3 decoders, and BERT encoders"),
            ))
        }
    })
}

/// Most layers a decoder may have: bounds the per-layer tables built before the other sizes are checked.
const MAX_LAYERS: usize = 1024;

/// The layer count, refused before any per-layer table is sized by it (a corrupt count of billions).
fn layer_count(n: usize, origin: &str) -> Result<usize> {
    if n > MAX_LAYERS {
        return Err(Error::input(
            origin,
            format!("{n} layers: model sizes are implausibly large (at most {MAX_LAYERS} layers)"),
        ));
    }
    Ok(n)
}

/// Flags for layers `n`, `2n`, `3n`, ... counting from 1: Gemma's global layers, SmolLM3's NoPE layers.
fn every_nth_layer(layers: usize, n: usize) -> Vec<bool> {
    (0..layers).map(|l| (l + 1) % n.max(1) == 0).collect()
}

/// Gemma's layout of local and global layers: every `pattern`-th layer is global (llama.cpp
/// `set_swa_pattern(n)`, transformers `sliding_window_pattern`): 6 for Gemma 3, 2 for Gemma 2.
fn gemma_local_layers(layers: usize, pattern: usize) -> Vec<bool> {
    every_nth_layer(layers, pattern)
        .into_iter()
        .map(|global| !global)
        .collect()
}

/// A Gemma file's local layers: llama.cpp reads `{arch}.attention.sliding_window_pattern` as one flag
/// per layer or as the pattern's period, and otherwise takes the architecture's period.
fn gguf_local_layers(f: &GgufFile, key: &str, layers: usize, arch: Architecture) -> Result<Vec<bool>> {
    let origin = f.path.display();
    let local = match f.get(key) {
        None => gemma_local_layers(layers, arch.default_swa_pattern()),
        Some(Value::Array { items, .. }) => {
            let flags: Option<Vec<bool>> = items.iter().map(Value::as_bool).collect();
            match flags {
                Some(flags) if flags.len() == layers => flags,
                _ => {
                    return Err(Error::input(
                        origin,
                        format!("metadata {key}: expected one boolean per layer ({layers})"),
                    ))
                }
            }
        }
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => gemma_local_layers(layers, n as usize),
            _ => {
                return Err(Error::input(
                    origin,
                    format!("metadata {key}: expected a positive integer or one boolean per layer"),
                ))
            }
        },
    };
    Ok(local)
}

fn check(c: DecoderConfig, origin: &str) -> Result<DecoderConfig> {
    let bad = |what: &str| Err(Error::input(origin, what.to_string()));
    if c.hidden == 0
        || c.layers == 0
        || c.heads == 0
        || c.kv_heads == 0
        || c.head_dim == 0
        || c.ffn == 0
        || c.vocab == 0
    {
        return bad("model sizes must be positive (hidden, layers, heads, kv heads, head dim, ffn, vocab)");
    }
    if !c.heads.is_multiple_of(c.kv_heads) {
        return bad("the attention head count must be a multiple of the key/value head count");
    }
    if c.rope_dims > c.head_dim || !c.rope_dims.is_multiple_of(2) {
        return bad("the RoPE dimension count must be even and at most the head size");
    }
    // Sizes beyond these would not be a small model and could only come from a corrupt header.
    // `head_dim` bounds `heads * head_dim` (no overflow) and the RoPE table `rope_dims / 2` long.
    if c.hidden > 65_536
        || c.ffn > 1 << 20
        || c.layers > MAX_LAYERS
        || c.heads > 1024
        || c.head_dim > 1 << 14
        || c.vocab > 1 << 22
    {
        return bad("model sizes are implausibly large");
    }
    // The float settings: a NaN base or a negative epsilon loads and then answers nothing.
    if c.context_length == 0 {
        return bad("the context length must be positive (context_length / max_position_embeddings)");
    }
    if !(c.norm_eps.is_finite() && c.norm_eps > 0.0) {
        return bad("the norm epsilon must be a positive number (layer_norm_rms_epsilon / rms_norm_eps)");
    }
    let bases = [Some(c.rope_base), c.rope_base_local];
    if !bases.iter().flatten().all(|b| b.is_finite() && *b > 1.0) {
        return bad("the RoPE base must be a number above 1 (rope.freq_base / rope_theta)");
    }
    if !(c.rope_attn_factor.is_finite() && c.rope_attn_factor > 0.0)
        || c.rope_freq_factors
            .as_ref()
            .is_some_and(|f| f.len() != c.rope_dims / 2 || f.iter().any(|x| !(x.is_finite() && *x > 0.0)))
    {
        return bad("the RoPE scaling must be positive numbers, one frequency factor per rotated pair (rope_scaling / rope_parameters)");
    }
    if c.final_logit_softcap.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
        return bad("the final logit soft cap must be a positive number (final_logit_softcapping)");
    }
    if !(c.attention_scale.is_finite() && c.attention_scale > 0.0) {
        return bad("the attention scale must be a positive number (query_pre_attn_scalar, or the head size)");
    }
    if c.sliding_window == Some(0) {
        return bad("the sliding window must be at least one position (sliding_window)");
    }
    if c.attn_logit_softcap.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
        return bad("the attention logit soft cap must be a positive number (attn_logit_softcapping)");
    }
    Ok(c)
}

impl DecoderConfig {
    /// From a GGUF file's metadata.
    pub fn from_gguf(f: &GgufFile) -> Result<Self> {
        let origin = f.path.display().to_string();
        let arch_name = f
            .get("general.architecture")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::input(&origin, "metadata general.architecture is missing"))?;
        let arch = arch_from(arch_name, &origin)?;
        let key = |k: &str| format!("{arch_name}.{k}");
        let req = |k: &str| f.require_u64(&key(k)).map(|v| v as usize);
        let opt_u = |k: &str| f.get(&key(k)).and_then(Value::as_u64).map(|v| v as usize);
        let opt_f = |k: &str| f.get(&key(k)).and_then(Value::as_f64);
        let hidden = req("embedding_length")?;
        let heads = req("attention.head_count")?;
        let layers = layer_count(req("block_count")?, &origin)?;
        let head_dim = opt_u("attention.key_length").unwrap_or(hidden / heads.max(1));
        let vocab = opt_u("vocab_size")
            .or_else(|| {
                f.get("tokenizer.ggml.tokens")
                    .and_then(Value::as_strings)
                    .map(StringList::len)
            })
            .ok_or_else(|| {
                Error::input(
                    &origin,
                    "the vocabulary size is in neither {arch}.vocab_size nor tokenizer.ggml.tokens",
                )
            })?;
        let gemma = arch.is_gemma();
        // Phi-3 files record a window too (0 for none); llama.cpp ignores it at present (its PR 13676),
        // transformers applies it to every layer, as the model was trained: we follow the model. Gemma 2
        // files may leave it out (llama.cpp's default: 4096, the model's).
        let sliding_window = match arch {
            Architecture::Gemma2 => Some(opt_u("attention.sliding_window").unwrap_or(4096)),
            Architecture::Gemma3 => opt_u("attention.sliding_window").filter(|&w| w > 0),
            Architecture::Phi3 => opt_u("attention.sliding_window").filter(|&w| w > 0),
            _ => None,
        };
        let local_layers = match (sliding_window, arch) {
            (None, _) => vec![false; layers],
            (Some(_), a) if a.is_gemma() => gguf_local_layers(f, &key("attention.sliding_window_pattern"), layers, a)?,
            (Some(_), _) => vec![true; layers],
        };
        let rope_dims = opt_u("rope.dimension_count").unwrap_or(head_dim);
        let mut yarn_scale = 1.0;
        let rope_freq_factors = match f.get(&key("rope.scaling.type")).and_then(Value::as_str) {
            None | Some("none") => None,
            Some("linear") => {
                let factor = opt_f("rope.scaling.factor").unwrap_or(1.0);
                if !(factor.is_finite() && factor > 0.0) {
                    return Err(Error::input(&origin, format!("metadata {}: expected a positive number", key("rope.scaling.factor"))));
                }
                (factor != 1.0).then(|| vec![factor as f32; rope_dims / 2])
            }
            // llama.cpp reads the factor and the original context; beta 32 and 1 and the paper's scale
            // (times `rope.scaling.attn_factor`) are its fixed settings for these architectures.
            Some("yarn") => {
                let factor = opt_f("rope.scaling.factor").unwrap_or(1.0);
                let original = opt_u("rope.scaling.original_context_length")
                    .or_else(|| opt_u("context_length"))
                    .unwrap_or(2048);
                let yarn = Yarn::new(factor, original as f64)
                    .map_err(|m| Error::input(&origin, format!("metadata {}: {m}", key("rope.scaling.factor"))))?;
                yarn_scale = Yarn::mscale(factor, 1.0);
                Some(yarn.frequency_divisors(rope_dims, opt_f("rope.freq_base").unwrap_or(10_000.0)))
            }
            Some(other) => {
                return Err(Error::input(
                    &origin,
                    format!("metadata {}: RoPE scaling \"{other}\" is not supported (linear and yarn are; Llama 3 and LongRoPE factors are read from their tensors)", key("rope.scaling.type")),
                ))
            }
        };
        let mut context_length = opt_u("context_length").unwrap_or(2048);
        if arch == Architecture::Phi3 {
            // LongRoPE files carry short and long factors; the engine rotates with the short ones, which
            // hold up to the original training context, so that is the context it offers.
            if let Some(original) = opt_u("rope.scaling.original_context_length").filter(|&o| o > 0) {
                context_length = context_length.min(original);
            }
        }
        let c = DecoderConfig {
            arch,
            vocab,
            hidden,
            layers,
            heads,
            kv_heads: opt_u("attention.head_count_kv").unwrap_or(heads),
            head_dim,
            ffn: req("feed_forward_length")?,
            norm_eps: opt_f("attention.layer_norm_rms_epsilon").unwrap_or(1e-5) as f32,
            // llama.cpp: Llama uses its "normal" (interleaved) RoPE, Qwen2/3, Gemma 3 and Phi-3 NeoX (halves).
            rope_style: if arch.rotates_pairs() {
                RopeStyle::Interleaved
            } else {
                RopeStyle::Halves
            },
            rope_dims,
            rope_base: opt_f("rope.freq_base").unwrap_or(10_000.0),
            // llama.cpp: the local layers' base is `rope.freq_base_swa` when the file has it, else 10000
            // for Gemma 3 and the global base for Gemma 2.
            rope_base_local: gemma.then(|| {
                opt_f("rope.freq_base_swa").unwrap_or(match arch {
                    Architecture::Gemma2 => opt_f("rope.freq_base").unwrap_or(10_000.0),
                    _ => 10_000.0,
                })
            }),
            rope_freq_factors,
            rope_attn_factor: (opt_f("rope.scaling.attn_factor").unwrap_or(1.0) * yarn_scale) as f32,
            context_length,
            sliding_window,
            local_layers,
            activation: if gemma { Activation::GeluTanh } else { Activation::Silu },
            // GGUF does not record Gemma's `query_pre_attn_scalar`: llama.cpp takes the head size, but
            // hidden / heads for the 27B models (46 layers for Gemma 2, 62 for Gemma 3), as the models do.
            attention_scale: match (arch, layers) {
                (Architecture::Gemma2, 46) | (Architecture::Gemma3, 62) => {
                    1.0 / ((hidden / heads.max(1)) as f32).sqrt()
                }
                _ => 1.0 / (head_dim as f32).sqrt(),
            },
            embedding_scale: gemma.then(|| (hidden as f32).sqrt()),
            // llama.cpp's defaults for Gemma 2 files without the keys: 30 on the output, 50 on attention.
            final_logit_softcap: match arch {
                Architecture::Gemma2 => Some(opt_f("final_logit_softcapping").unwrap_or(30.0)),
                _ => opt_f("final_logit_softcapping"),
            }
            .filter(|&c| c != 0.0)
            .map(|v| v as f32),
            attn_logit_softcap: match arch {
                Architecture::Gemma2 => Some(opt_f("attn_logit_softcapping").unwrap_or(50.0)),
                _ => opt_f("attn_logit_softcapping"),
            }
            .filter(|&c| c != 0.0)
            .map(|v| v as f32),
            // llama.cpp hard-codes SmolLM3's step (`n_no_rope_layer_step = 4`); the file records none.
            nope_layers: match arch {
                Architecture::SmolLM3 => every_nth_layer(layers, 4),
                _ => Vec::new(),
            },
        };
        check(c, &origin)
    }

    /// From a Hugging Face `config.json` (Gemma 3 multimodal configs: their `text_config`).
    pub fn from_hf_config(path: &Path) -> Result<Self> {
        let origin = path.display().to_string();
        let root: serde_json::Value = serde_json::from_str(&read_to_string(path)?)
            .map_err(|e| Error::input(&origin, format!("invalid JSON: {e}")))?;
        let v = root.get("text_config").unwrap_or(&root);
        let model_type = v
            .get("model_type")
            .or_else(|| root.get("model_type"))
            .and_then(|m| m.as_str())
            .ok_or_else(|| Error::input(&origin, "field model_type is missing"))?;
        let arch = arch_from(model_type, &origin)?;
        let gemma = arch.is_gemma();
        let u = |k: &str| v.get(k).and_then(|x| x.as_u64()).map(|x| x as usize);
        let fl = |k: &str| v.get(k).and_then(|x| x.as_f64());
        let req =
            |k: &str| u(k).ok_or_else(|| Error::input(&origin, format!("field {k}: expected a positive integer")));
        let hidden = req("hidden_size")?;
        let heads = req("num_attention_heads")?;
        let layers = layer_count(req("num_hidden_layers")?, &origin)?;
        let head_dim = u("head_dim").unwrap_or(hidden / heads.max(1));
        let phi3 = arch == Architecture::Phi3;
        // Phi-3 windows every layer (transformers' sliding-window mask); Gemma 3 its local layers.
        // Options of these architectures the engine does not run are refused rather than ignored.
        for (on, flag) in [
            (arch == Architecture::SmolLM3, "use_sliding_window"),
            (arch == Architecture::Gemma2, "use_bidirectional_attention"),
        ] {
            if on && v.get(flag).and_then(|x| x.as_bool()) == Some(true) {
                return Err(Error::input(&origin, format!("field {flag}: true is not supported (the engine runs this architecture causal and without a window)")));
            }
        }
        let sliding_window = if gemma || phi3 { u("sliding_window") } else { None };
        let local_layers = match (sliding_window, v.get("layer_types").and_then(|t| t.as_array())) {
            (Some(_), _) if phi3 => vec![true; layers],
            (Some(_), Some(types)) => types.iter().map(|t| t.as_str() == Some("sliding_attention")).collect(),
            (Some(_), None) => gemma_local_layers(
                layers,
                u("sliding_window_pattern").unwrap_or(arch.default_swa_pattern()),
            ),
            (None, _) => vec![false; layers],
        };
        if local_layers.len() != layers {
            return Err(Error::input(&origin, "field layer_types: expected one entry per layer"));
        }
        let rope = HfRope::read(v, &origin)?;
        // Phi-4-mini rotates three quarters of each head (`partial_rotary_factor`).
        let rotary_fraction = rope
            .global_number("partial_rotary_factor")
            .or_else(|| fl("partial_rotary_factor"));
        let rope_dims = match rotary_fraction {
            Some(f) if f > 0.0 && f <= 1.0 => ((head_dim as f64 * f) as usize) & !1,
            Some(_) => {
                return Err(Error::input(
                    &origin,
                    "field partial_rotary_factor: expected a number in (0, 1]",
                ))
            }
            None => head_dim,
        };
        let mut context_length = u("max_position_embeddings").unwrap_or(2048);
        let mut rope_attn_factor = 1.0f32;
        let rope_freq_factors = match rope.scaling_type() {
            None | Some("default") => None,
            Some("llama3") => Some(rope.llama3_factors(rope_dims, &origin)?),
            // Every frequency divided by the factor (positions stretched): Gemma 3 4B and up on its
            // global layers (the local ones keep their own base unscaled), other models on every layer.
            Some("linear") => {
                let factor = rope
                    .number("factor")
                    .ok_or_else(|| Error::input(&origin, "field rope_scaling.factor: expected a number"))?;
                Some(vec![factor as f32; rope_dims / 2])
            }
            Some("longrope") | Some("su") if phi3 => {
                // LongRoPE (Ding et al., 2024): short factors up to the original training context, long
                // ones beyond it, sines and cosines scaled by sqrt(1 + ln(s) / ln(original)) where s is
                // the context's stretch. The engine rotates with the short factors and so offers the
                // original context (transformers switches factors by sequence length, llama.cpp by the
                // context size it is given).
                let original = rope
                    .number("original_max_position_embeddings")
                    .or_else(|| fl("original_max_position_embeddings"))
                    .ok_or_else(|| {
                        Error::input(
                            &origin,
                            "field original_max_position_embeddings: expected a number (LongRoPE)",
                        )
                    })?;
                let stretch = rope.number("factor").unwrap_or(context_length as f64 / original);
                rope_attn_factor = match rope.number("attention_factor") {
                    Some(a) => a as f32,
                    None if stretch > 1.0 => (1.0 + stretch.ln() / original.ln()).sqrt() as f32,
                    None => 1.0,
                };
                context_length = context_length.min(original as usize);
                let short = rope.numbers("short_factor").ok_or_else(|| {
                    Error::input(
                        &origin,
                        "field rope_scaling.short_factor: expected a list of numbers (LongRoPE)",
                    )
                })?;
                Some(short.iter().map(|&x| x as f32).collect())
            }
            Some("yarn") => {
                let (factors, scale) = rope.yarn(rope_dims, context_length, &origin)?;
                rope_attn_factor = scale;
                Some(factors)
            }
            Some(other) => {
                return Err(Error::input(
                    &origin,
                    format!(
                    "field rope_scaling: type \"{other}\" is not supported (llama3, linear, yarn, and longrope for phi3 are)"
                ),
                ))
            }
        };
        // SmolLM3: `no_rope_layers` holds 1 for a layer that rotates, 0 for a NoPE layer (transformers'
        // `use_rope = no_rope_layers[i]`), by default every fourth layer without.
        let nope_layers = match (arch, v.get("no_rope_layers").and_then(|l| l.as_array())) {
            (Architecture::SmolLM3, Some(flags)) => {
                let flags: Option<Vec<bool>> = flags.iter().map(|f| f.as_u64().map(|x| x == 0)).collect();
                match flags {
                    Some(f) if f.len() == layers => f,
                    _ => {
                        return Err(Error::input(
                            &origin,
                            "field no_rope_layers: expected one 0 or 1 per layer",
                        ))
                    }
                }
            }
            (Architecture::SmolLM3, None) => every_nth_layer(layers, u("no_rope_layer_interval").unwrap_or(4)),
            _ => Vec::new(),
        };
        let c = DecoderConfig {
            arch,
            vocab: req("vocab_size")?,
            hidden,
            layers,
            heads,
            kv_heads: u("num_key_value_heads").unwrap_or(heads),
            head_dim,
            ffn: req("intermediate_size")?,
            norm_eps: fl("rms_norm_eps").unwrap_or(1e-6) as f32,
            // Our loader permutes Hugging Face Llama query/key rows to interleaved pairs (as GGUF).
            rope_style: if arch.rotates_pairs() {
                RopeStyle::Interleaved
            } else {
                RopeStyle::Halves
            },
            rope_dims,
            rope_base: rope.base,
            // Gemma 3's local layers have their own base; Gemma 2's rotate as its global ones.
            rope_base_local: gemma.then(|| {
                rope.local_base
                    .or_else(|| fl("rope_local_base_freq"))
                    .unwrap_or(if arch == Architecture::Gemma2 {
                        rope.base
                    } else {
                        10_000.0
                    })
            }),
            rope_freq_factors,
            rope_attn_factor,
            context_length,
            sliding_window,
            local_layers,
            activation: if gemma { Activation::GeluTanh } else { Activation::Silu },
            attention_scale: match fl("query_pre_attn_scalar") {
                Some(s) if gemma => (1.0 / s.sqrt()) as f32,
                _ => 1.0 / (head_dim as f32).sqrt(),
            },
            embedding_scale: gemma.then(|| (hidden as f32).sqrt()),
            final_logit_softcap: fl("final_logit_softcapping").map(|x| x as f32),
            attn_logit_softcap: fl("attn_logit_softcapping").map(|x| x as f32),
            nope_layers,
        };
        check(c, &origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A head size from a corrupt file would overflow `heads * head_dim` and size the RoPE table.
    #[test]
    fn refuses_an_implausible_head_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let config = |head_dim: u64| {
            format!(
                r#"{{"model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1,
                "intermediate_size": 16, "vocab_size": 16, "head_dim": {head_dim}}}"#
            )
        };
        std::fs::write(&path, config(4)).unwrap();
        assert_eq!(DecoderConfig::from_hf_config(&path).unwrap().head_dim, 4);
        std::fs::write(&path, config(1 << 62)).unwrap();
        let err = DecoderConfig::from_hf_config(&path).unwrap_err().to_string();
        assert!(err.contains("implausibly large"), "{err}");
    }

    /// Found by the `gguf` fuzz target: a Gemma 3 layer count of billions sized the local-layer table
    /// (gigabytes) before the sizes were checked.
    #[test]
    fn refuses_a_huge_layer_count_before_sizing_per_layer_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"model_type": "gemma3_text", "hidden_size": 8, "num_attention_heads": 2, "vocab_size": 16,
            "num_hidden_layers": 4000000000000, "intermediate_size": 16, "sliding_window": 4}"#,
        )
        .unwrap();
        let err = DecoderConfig::from_hf_config(&path).unwrap_err().to_string();
        assert!(err.contains("4000000000000 layers"), "{err}");
    }

    /// Float settings that load and then answer nothing (found by patching a real GGUF): refused
    /// at load, naming the setting.
    #[test]
    fn refuses_bad_float_settings_and_an_empty_context() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let config = |extra: &str| {
            format!(
                r#"{{"model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1,
                "intermediate_size": 16, "vocab_size": 16{extra}}}"#
            )
        };
        std::fs::write(&path, config("")).unwrap();
        assert!(DecoderConfig::from_hf_config(&path).is_ok());
        for (extra, needle) in [
            (r#", "rope_theta": -1"#, "RoPE base"),
            (r#", "rope_theta": 0.5"#, "RoPE base"),
            (r#", "rms_norm_eps": -1"#, "norm epsilon"),
            (r#", "rms_norm_eps": 0"#, "norm epsilon"),
            (r#", "max_position_embeddings": 0"#, "context length"),
        ] {
            std::fs::write(&path, config(extra)).unwrap();
            let err = DecoderConfig::from_hf_config(&path).map(|_| ()).unwrap_err();
            assert!(
                err.is_user_error() && err.to_string().contains(needle),
                "{extra}: {err}"
            );
        }
    }

    /// transformers 4 and 5 write the same RoPE settings in two layouts; both read the same.
    #[test]
    fn rope_settings_read_the_same_from_both_config_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let read = |model_type: &str, rope: &str| {
            std::fs::write(
                &path,
                format!(
                    r#"{{"model_type": "{model_type}", "hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": 2,
                    "intermediate_size": 16, "vocab_size": 16, "max_position_embeddings": 64, "sliding_window": 4{rope}}}"#
                ),
            )
            .unwrap();
            DecoderConfig::from_hf_config(&path).unwrap()
        };
        let llama3 =
            r#""factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 16"#;
        let v4 = read(
            "llama",
            &format!(r#", "rope_theta": 500000.0, "rope_scaling": {{"rope_type": "llama3", {llama3}}}"#),
        );
        let v5 = read(
            "llama",
            &format!(r#", "rope_parameters": {{"rope_type": "llama3", "rope_theta": 500000.0, {llama3}}}"#),
        );
        assert_eq!(v4.rope_base, 500000.0);
        assert_eq!(v5.rope_base, 500000.0);
        assert!(v4.rope_freq_factors.is_some());
        assert_eq!(v4.rope_freq_factors, v5.rope_freq_factors);
        // Gemma 3: one base per layer type, and linear scaling of the global layers (4B and up).
        let g4 = read(
            "gemma3_text",
            r#", "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "rope_scaling": {"rope_type": "linear", "factor": 8.0}"#,
        );
        let g5 = read(
            "gemma3_text",
            r#", "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
            "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}"#,
        );
        for g in [&g4, &g5] {
            assert_eq!((g.rope_base, g.rope_base_local), (1e6, Some(1e4)));
            assert_eq!(g.rope_freq_factors.as_deref(), Some(&[8.0f32; 4][..]));
        }
        // YaRN: the divisors of `Yarn` and the paper's scale, the same from both layouts.
        let yarn = r#""factor": 4.0, "original_max_position_embeddings": 256, "rope_theta": 10000.0"#;
        let y4 = read("qwen2", &format!(r#", "rope_scaling": {{"type": "yarn", {yarn}}}"#));
        let y5 = read(
            "qwen2",
            &format!(r#", "rope_parameters": {{"rope_type": "yarn", {yarn}}}"#),
        );
        let want = Yarn::new(4.0, 256.0).unwrap().frequency_divisors(8, 10_000.0);
        for y in [&y4, &y5] {
            assert_eq!(y.rope_freq_factors.as_deref(), Some(&want[..]));
            assert_eq!(y.rope_attn_factor, Yarn::mscale(4.0, 1.0) as f32);
        }
        let explicit = read(
            "qwen2",
            &format!(r#", "rope_parameters": {{"rope_type": "yarn", "attention_factor": 1.5, {yarn}}}"#),
        );
        assert_eq!(explicit.rope_attn_factor, 1.5);
        // A type the engine cannot rotate with is refused, not ignored.
        std::fs::write(
            &path,
            r#"{"model_type": "qwen2", "hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": 2,
            "intermediate_size": 16, "vocab_size": 16, "rope_parameters": {"rope_type": "dynamic", "factor": 4.0, "rope_theta": 1e6}}"#,
        )
        .unwrap();
        let err = DecoderConfig::from_hf_config(&path).unwrap_err().to_string();
        assert!(err.contains("\"dynamic\" is not supported"), "{err}");
    }

    /// Phi-3: a rotated fraction of each head, LongRoPE's short factors and attention factor, the
    /// original context, and a window on every layer.
    #[test]
    fn phi3_reads_partial_rotation_longrope_and_its_window() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"model_type": "phi3", "hidden_size": 32, "num_attention_heads": 4, "num_hidden_layers": 3,
            "intermediate_size": 16, "vocab_size": 16, "max_position_embeddings": 512, "sliding_window": 7,
            "original_max_position_embeddings": 128, "partial_rotary_factor": 0.5, "rope_theta": 10000.0,
            "rope_scaling": {"type": "longrope", "short_factor": [1.0, 2.0], "long_factor": [3.0, 4.0]}}"#,
        )
        .unwrap();
        let c = DecoderConfig::from_hf_config(&path).unwrap();
        assert_eq!((c.arch, c.head_dim, c.rope_dims), (Architecture::Phi3, 8, 4));
        assert_eq!(c.rope_style, RopeStyle::Halves);
        assert_eq!(c.rope_freq_factors.as_deref(), Some(&[1.0f32, 2.0][..]));
        let want = (1.0 + 4.0f64.ln() / 128f64.ln()).sqrt() as f32;
        assert!((c.rope_attn_factor - want).abs() < 1e-7);
        assert_eq!(c.context_length, 128);
        assert_eq!((c.sliding_window, c.local_layers), (Some(7), vec![true; 3]));
    }

    /// The config of a GGUF file (no tensors) holding `arch`'s required keys (2 heads, ffn 16, vocab 16),
    /// the integers `base` and the values `extra`, each under `{arch}.` (a later key replaces an earlier one).
    fn gguf_config(dir: &Path, arch: &str, base: &[(&str, u32)], extra: Vec<(&str, Value)>) -> Result<DecoderConfig> {
        let k = |s: &str| format!("{arch}.{s}");
        let mut meta = vec![("general.architecture".to_string(), Value::String(arch.into()))];
        let fixed = [
            ("attention.head_count", 2),
            ("feed_forward_length", 16),
            ("vocab_size", 16),
        ];
        meta.extend(fixed.iter().chain(base).map(|&(key, n)| (k(key), Value::U32(n))));
        meta.extend(extra.into_iter().map(|(key, v)| (k(key), v)));
        let mut seen = std::collections::HashSet::new();
        meta.reverse();
        meta.retain(|(key, _)| seen.insert(key.clone()));
        meta.reverse();
        let path = dir.join(format!("{arch}-{}.gguf", meta.len()));
        let path = (1..)
            .map(|i| path.with_extension(format!("{i}.gguf")))
            .find(|p| !p.exists())
            .unwrap();
        super::super::gguf_write::write(&path, &meta, &[]).unwrap();
        DecoderConfig::from_gguf(&GgufFile::open(&path).unwrap())
    }

    /// GGUF RoPE scaling keys: linear scaling on Gemma 3's global layers (4B and up store factor 8), a
    /// type the engine cannot rotate with refused, and a Phi-3 LongRoPE file's context capped at the
    /// original one its short factors hold to.
    #[test]
    fn gguf_rope_scaling_keys() {
        let dir = tempfile::tempdir().unwrap();
        let read = |arch: &str, extra: Vec<(&str, Value)>| {
            let base = [("embedding_length", 16), ("block_count", 2), ("context_length", 4096)];
            gguf_config(dir.path(), arch, &base, extra)
        };
        let g = read(
            "gemma3",
            vec![
                ("rope.scaling.type", Value::String("linear".into())),
                ("rope.scaling.factor", Value::F32(8.0)),
            ],
        )
        .unwrap();
        assert_eq!(g.rope_freq_factors.as_deref(), Some(&[8.0f32; 4][..]));
        let plain = read("llama", vec![("rope.scaling.type", Value::String("none".into()))]).unwrap();
        assert_eq!(plain.rope_freq_factors, None);
        let err = read("qwen2", vec![("rope.scaling.type", Value::String("dynamic".into()))])
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("\"dynamic\" is not supported")));
        // YaRN as llama.cpp reads it: factor, original context, its fixed betas, the paper's scale times
        // the file's attention factor.
        let y = read(
            "qwen2",
            vec![
                ("rope.scaling.type", Value::String("yarn".into())),
                ("rope.scaling.factor", Value::F32(4.0)),
                ("rope.scaling.original_context_length", Value::U32(256)),
                ("rope.freq_base", Value::F32(10_000.0)),
            ],
        )
        .unwrap();
        let want = Yarn::new(4.0, 256.0).unwrap().frequency_divisors(8, 10_000.0);
        assert_eq!(y.rope_freq_factors.as_deref(), Some(&want[..]));
        assert_eq!(y.rope_attn_factor, Yarn::mscale(4.0, 1.0) as f32);
        let phi = read(
            "phi3",
            vec![
                ("rope.scaling.original_context_length", Value::U32(1024)),
                ("rope.scaling.attn_factor", Value::F32(1.25)),
                ("attention.sliding_window", Value::U32(0)),
            ],
        )
        .unwrap();
        assert_eq!(
            (phi.context_length, phi.rope_attn_factor, phi.sliding_window),
            (1024, 1.25, None)
        );
        assert_eq!(phi.rope_style, RopeStyle::Halves);
    }

    /// Gemma GGUF keys as llama.cpp reads them: Gemma 2's defaults when a file leaves them out (window
    /// 4096, caps 50 on attention and 30 on the logits, alternating layers, the local base equal to the
    /// global one), the `sliding_window_pattern` key as a period or one flag per layer, `freq_base_swa`,
    /// and the 27B models' attention scale (hidden / heads, not the head size).
    #[test]
    fn gemma_gguf_keys_and_llama_cpps_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let read = |arch: &str, layers: u32, mut extra: Vec<(&str, Value)>| {
            extra.push(("rope.freq_base", Value::F32(20_000.0)));
            let base = [
                ("embedding_length", 32),
                ("block_count", layers),
                ("attention.key_length", 8),
            ];
            gguf_config(dir.path(), arch, &base, extra)
        };
        let g2 = read("gemma2", 4, vec![]).unwrap();
        assert_eq!(g2.arch, Architecture::Gemma2);
        assert_eq!(
            (g2.sliding_window, g2.local_layers.clone()),
            (Some(4096), vec![true, false, true, false])
        );
        assert_eq!(
            (g2.attn_logit_softcap, g2.final_logit_softcap),
            (Some(50.0), Some(30.0))
        );
        assert_eq!((g2.rope_base, g2.rope_base_local), (20_000.0, Some(20_000.0)));
        assert_eq!(g2.attention_scale, 1.0 / 8f32.sqrt());
        let g2 = read(
            "gemma2",
            4,
            vec![
                ("attn_logit_softcapping", Value::F32(4.0)),
                ("final_logit_softcapping", Value::F32(3.0)),
                ("attention.sliding_window", Value::U32(16)),
                ("attention.sliding_window_pattern", Value::U32(4)),
                ("rope.freq_base_swa", Value::F32(10_000.0)),
            ],
        )
        .unwrap();
        assert_eq!((g2.attn_logit_softcap, g2.final_logit_softcap), (Some(4.0), Some(3.0)));
        assert_eq!(
            (g2.sliding_window, g2.local_layers),
            (Some(16), vec![true, true, true, false])
        );
        assert_eq!(g2.rope_base_local, Some(10_000.0));
        let flags = Value::Array {
            elem: super::super::gguf::ValueType::Bool,
            items: [false, true, true].into_iter().map(Value::Bool).collect(),
        };
        let g3 = read(
            "gemma3",
            3,
            vec![
                ("attention.sliding_window", Value::U32(4)),
                ("attention.sliding_window_pattern", flags.clone()),
            ],
        )
        .unwrap();
        assert_eq!(g3.local_layers, vec![false, true, true]);
        assert_eq!(
            (g3.attn_logit_softcap, g3.final_logit_softcap, g3.rope_base_local),
            (None, None, Some(10_000.0))
        );
        let err = read(
            "gemma3",
            4,
            vec![
                ("attention.sliding_window", Value::U32(4)),
                ("attention.sliding_window_pattern", flags),
            ],
        )
        .err()
        .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("one boolean per layer (4)")));
        // Gemma 2 27B (46 layers): 1/sqrt(hidden / heads) = 1/4 here, not 1/sqrt(head size 8).
        assert_eq!(read("gemma2", 46, vec![]).unwrap().attention_scale, 0.25);
        // A corrupt file: no heads (the 27B rule divides by them) or a window of nothing, refused.
        let no_heads = read("gemma2", 46, vec![("attention.head_count", Value::U32(0))]).err();
        assert!(no_heads.is_some_and(|e| e.to_string().contains("model sizes must be positive")));
        let no_window = read("gemma2", 4, vec![("attention.sliding_window", Value::U32(0))]).err();
        assert!(no_window.is_some_and(|e| e.to_string().contains("sliding window must be at least one")));
    }

    /// SmolLM3's NoPE layers: from `no_rope_layers` (1 rotates, 0 does not), by default and in GGUF
    /// (where llama.cpp fixes the step) every fourth layer; Llama's rotation of adjacent pairs.
    #[test]
    fn smollm3_leaves_rope_out_of_every_fourth_layer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let read = |extra: &str| {
            std::fs::write(
                &path,
                format!(
                    r#"{{"model_type": "smollm3", "hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": 5,
                    "intermediate_size": 16, "vocab_size": 16{extra}}}"#
                ),
            )
            .unwrap();
            DecoderConfig::from_hf_config(&path)
        };
        let by_default = read("").unwrap();
        assert_eq!(by_default.nope_layers, vec![false, false, false, true, false]);
        assert_eq!(by_default.rope_style, RopeStyle::Interleaved);
        let listed = read(r#", "no_rope_layers": [0, 1, 1, 1, 0]"#).unwrap();
        assert_eq!(listed.nope_layers, vec![true, false, false, false, true]);
        let err = read(r#", "no_rope_layers": [1, 1]"#).unwrap_err().to_string();
        assert!(err.contains("no_rope_layers"), "{err}");
        let every_second = read(r#", "no_rope_layer_interval": 2"#).unwrap();
        assert_eq!(every_second.nope_layers, vec![false, true, false, true, false]);
        let err = read(r#", "use_sliding_window": true, "sliding_window": 4"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("field use_sliding_window"), "{err}");
        let gguf = gguf_config(
            dir.path(),
            "smollm3",
            &[("embedding_length", 16), ("block_count", 8)],
            vec![],
        )
        .unwrap();
        let nope: Vec<usize> = (0..8).filter(|&l| gguf.nope_layers[l]).collect();
        assert_eq!((gguf.arch, nope), (Architecture::SmolLM3, vec![3, 7]));
        let llama = gguf_config(
            dir.path(),
            "llama",
            &[("embedding_length", 16), ("block_count", 8)],
            vec![],
        )
        .unwrap();
        assert!(llama.nope_layers.iter().all(|n| !n));
    }

    #[test]
    fn gemma3_has_a_global_layer_every_six() {
        let l = gemma_local_layers(18, 6);
        let globals: Vec<usize> = (0..18).filter(|&i| !l[i]).collect();
        assert_eq!(globals, vec![5, 11, 17]);
    }
}
