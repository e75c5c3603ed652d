//! Gemma 2 (Gemma Team, 2024) and Gemma 3 (Gemma Team, 2025), text decoders. Against Llama's block
//! both: scale the embeddings by `sqrt(hidden)`; normalise the outputs of attention and of the MLP
//! before each residual add (sandwich norms); gate with tanh-GELU; and mix local layers (sliding
//! window) with global ones. Gemma 2 alternates them, rotates both with one base and soft-caps the
//! attention scores (`50 tanh(s / 50)`) and the output logits (30). Gemma 3 replaced the attention cap
//! by an RMSNorm of each query and key head before RoPE, and has five local layers (RoPE base 10,000)
//! per global one (the file's base, 1,000,000 for 270M). Norm weights arrive as the scale itself (GGUF
//! stores `1 + w`; the loader adds the 1 to Hugging Face checkpoints).

use super::blocks::{block_linears, Blocks, Pass};
use crate::engine::build::WeightBuilder;
use crate::engine::layers::attention::{attend, Heads};
use crate::engine::layers::lora::LinearLayer;
use crate::engine::layers::mlp::GatedMlp;
use crate::engine::layers::norm::{rms_norm, rms_norm_heads};
use crate::engine::layers::rope::Rope;
use crate::engine::load::config::{Architecture, DecoderConfig};
use crate::engine::tensor::Matrix;
use crate::error::Result;

struct Block {
    attn_norm: Vec<f32>,
    q: LinearLayer,
    k: LinearLayer,
    v: LinearLayer,
    /// Gemma 3's per-head query and key norms (`head_dim` weights each); Gemma 2 has none.
    qk_norms: Option<(Vec<f32>, Vec<f32>)>,
    o: LinearLayer,
    post_attn_norm: Vec<f32>,
    ffn_norm: Vec<f32>,
    mlp: GatedMlp,
    post_ffn_norm: Vec<f32>,
    local: bool,
}

/// The blocks of a Gemma 2 or Gemma 3 decoder.
pub struct Gemma {
    blocks: Vec<Block>,
    rope_global: Rope,
    rope_local: Rope,
    heads: Heads,
    window: Option<usize>,
    eps: f32,
}

impl Gemma {
    pub fn build(c: &DecoderConfig, b: &WeightBuilder<'_>) -> Result<Self> {
        let (d, hd, qd, kvd) = (c.hidden, c.head_dim, c.heads * c.head_dim, c.kv_heads * c.head_dim);
        let mut blocks = Vec::with_capacity(c.layers);
        for l in 0..c.layers {
            let p = |n: &str| format!("blk.{l}.{n}");
            blocks.push(Block {
                attn_norm: b.vector(&p("attn_norm.weight"), d)?,
                q: b.linear(&p("attn_q"), qd, d)?,
                k: b.linear(&p("attn_k"), kvd, d)?,
                v: b.linear(&p("attn_v"), kvd, d)?,
                qk_norms: match c.arch {
                    Architecture::Gemma2 => None,
                    _ => Some((
                        b.vector(&p("attn_q_norm.weight"), hd)?,
                        b.vector(&p("attn_k_norm.weight"), hd)?,
                    )),
                },
                o: b.linear(&p("attn_output"), d, qd)?,
                post_attn_norm: b.vector(&p("post_attention_norm.weight"), d)?,
                ffn_norm: b.vector(&p("ffn_norm.weight"), d)?,
                mlp: GatedMlp {
                    gate: b.linear(&p("ffn_gate"), c.ffn, d)?,
                    up: b.linear(&p("ffn_up"), c.ffn, d)?,
                    down: b.linear(&p("ffn_down"), d, c.ffn)?,
                    act: c.activation,
                },
                post_ffn_norm: b.vector(&p("post_ffw_norm.weight"), d)?,
                local: c.local_layers.get(l).copied().unwrap_or(false),
            });
        }
        Ok(Gemma {
            blocks,
            rope_global: Rope::new(c.rope_style, c.rope_dims, c.rope_base, c.rope_freq_factors.as_deref()),
            // Gemma 2's local layers rotate as its global ones, scaling included (llama.cpp copies the
            // scale to them; transformers has one rotary embedding); Gemma 3's are never scaled.
            rope_local: Rope::new(
                c.rope_style,
                c.rope_dims,
                c.rope_base_local.unwrap_or(10_000.0),
                c.rope_freq_factors
                    .as_deref()
                    .filter(|_| c.arch == Architecture::Gemma2),
            ),
            heads: Heads {
                heads: c.heads,
                kv_heads: c.kv_heads,
                head_dim: c.head_dim,
                scale: c.attention_scale,
                window: None,
                softcap: c.attn_logit_softcap,
            },
            window: c.sliding_window,
            eps: c.norm_eps,
        })
    }
}

impl Blocks for Gemma {
    fn forward(&self, mut x: Matrix, pass: &mut Pass<'_>, observe: &mut dyn FnMut(&str, &Matrix)) -> Matrix {
        let hd = self.heads.head_dim;
        // Local (sliding-window) layers rotate with their own base.
        let (local, global) = (
            self.rope_local.at(&pass.positions, &[]),
            self.rope_global.at(&pass.positions, &[]),
        );
        for (l, blk) in self.blocks.iter().enumerate() {
            let mut h = x.clone();
            rms_norm(&mut h, &blk.attn_norm, self.eps);
            for n in ["attn_q", "attn_k", "attn_v"] {
                observe(&format!("blk.{l}.{n}"), &h);
            }
            let [mut q, mut k, v] = LinearLayer::forward_fused([&blk.q, &blk.k, &blk.v], &h);
            if let Some((q_norm, k_norm)) = &blk.qk_norms {
                rms_norm_heads(&mut q, q_norm, self.eps);
                rms_norm_heads(&mut k, k_norm, self.eps);
            }
            let (rotation, window) = if blk.local {
                (&local, self.window)
            } else {
                (&global, None)
            };
            rotation.apply(&mut q, hd);
            rotation.apply(&mut k, hd);
            let heads = Heads { window, ..self.heads };
            let ctx = attend(heads, l, &q, &k, &v, &mut pass.caches, &pass.spans);
            observe(&format!("blk.{l}.attn_output"), &ctx);
            let mut a = blk.o.forward(&ctx);
            rms_norm(&mut a, &blk.post_attn_norm, self.eps);
            x.add_assign(&a);
            let mut h = x.clone();
            rms_norm(&mut h, &blk.ffn_norm, self.eps);
            observe(&format!("blk.{l}.ffn_gate"), &h);
            observe(&format!("blk.{l}.ffn_up"), &h);
            let mut m = blk.mlp.forward(&h, &mut |a| observe(&format!("blk.{l}.ffn_down"), a));
            rms_norm(&mut m, &blk.post_ffn_norm, self.eps);
            x.add_assign(&m);
        }
        x
    }

    fn linears(&self) -> Vec<(String, &LinearLayer)> {
        let blocks = self.blocks.iter().map(|b| [&b.q, &b.k, &b.v, &b.o]);
        block_linears(blocks.zip(self.blocks.iter().map(|b| &b.mlp)))
    }
}
