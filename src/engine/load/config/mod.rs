//! A decoder's hyper-parameters in one plain struct the model files read, whichever file they came
//! from: GGUF metadata (`from_gguf`, with llama.cpp's defaults) or a Hugging Face `config.json`
//! (`from_hf`). What both readers share lives here: the architectures, the layer layouts and the one
//! check every configuration passes before a model is built from it.

use crate::engine::layers::mlp::Activation;
use crate::engine::layers::rope::RopeStyle;
use crate::error::{Error, Result};

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

    /// How the model rotates: Llama's adjacent pairs (llama.cpp's "normal" RoPE; our loader permutes
    /// a Hugging Face checkpoint's query/key rows to them, as llama.cpp's converter does), the others
    /// NeoX halves.
    pub fn rope_style(self) -> RopeStyle {
        if self.rotates_pairs() {
            RopeStyle::Interleaved
        } else {
            RopeStyle::Halves
        }
    }

    /// The gated MLP's activation: tanh-GELU for Gemma, SiLU for the others.
    pub fn activation(self) -> Activation {
        if self.is_gemma() {
            Activation::GeluTanh
        } else {
            Activation::Silu
        }
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
    /// LongRoPE's long factors (Phi-3), for sequences longer than the original training context.
    pub rope_long: Option<LongRope>,
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

/// LongRoPE (Ding et al., 2024): a model trained to `original_context` tokens rotates with its short
/// factors (`rope_freq_factors`) up to that length and with `factors` beyond it, the attention factor
/// the same for both. Which set a sequence uses is fixed when it starts, by the tokens it may reach
/// (its prompt and every token it may generate), so its cache is rotated one way throughout: as
/// llama.cpp rotates every sequence of a context larger than the original with the long factors, and
/// as transformers does in one forward pass of a sequence longer than the original.
#[derive(Clone, Debug, PartialEq)]
pub struct LongRope {
    /// Divide each rotated pair's frequency (one per pair, as the short factors).
    pub factors: Vec<f32>,
    pub original_context: usize,
}

impl DecoderConfig {
    /// Whether a sequence that may reach `tokens` tokens rotates with the long factors.
    pub fn long_rope_for(&self, tokens: usize) -> bool {
        self.rope_long.as_ref().is_some_and(|l| tokens > l.original_context)
    }

    /// Takes a file's LongRoPE long factors: the context becomes `full` (the stretched one). Without
    /// them (`None`) a LongRoPE model keeps to the original context its short factors hold to.
    pub fn set_long_rope(
        &mut self,
        factors: Option<Vec<f32>>,
        original: usize,
        full: usize,
        origin: &str,
    ) -> Result<()> {
        match factors {
            Some(factors) => {
                if factors.len() != self.rope_dims / 2 || factors.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
                    return Err(Error::input(
                        origin,
                        format!(
                            "the LongRoPE long factors must be {} positive numbers, one per rotated pair (rope_scaling.long_factor / rope_factors_long)",
                            self.rope_dims / 2
                        ),
                    ));
                }
                self.context_length = full.max(original);
                self.rope_long = Some(LongRope {
                    factors,
                    original_context: original,
                });
            }
            None => {
                self.context_length = self.context_length.min(original);
                self.rope_long = None;
            }
        }
        Ok(())
    }
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

mod from_gguf;
mod from_hf;

pub(crate) use from_gguf::long_rope_contexts;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemma3_has_a_global_layer_every_six() {
        let l = gemma_local_layers(18, 6);
        let globals: Vec<usize> = (0..18).filter(|&i| !l[i]).collect();
        assert_eq!(globals, vec![5, 11, 17]);
    }
}
