//! Llama (Touvron et al., 2023) and its relatives SmolLM2, Llama 3.2, SmolLM3 (which leaves RoPE out
//! of every fourth layer: those layers see positions only through the causal mask), Qwen2 (which adds biases to
//! the query, key and value projections; the builder picks them up when the file has them), Qwen3
//! (which RMS-normalises each query and key head before RoPE, when the file has those norms) and Phi-3
//! (whose file fuses q/k/v and gate/up, split by the tensor source; NeoX RoPE over part of each head,
//! LongRoPE's short and long factors, each sequence rotated with the set its length asks for, and a sliding window over every layer when its config gives one).
//!
//! One block: `h = x + Wo attn(rope(Wq n(x)), rope(Wk n(x)), Wv n(x))`, then
//! `x' = h + down(silu(gate(n(h))) * up(n(h)))`, with `n` an RMSNorm. Grouped-query attention shares
//! each key/value head among `heads / kv_heads` query heads.

use super::blocks::{block_linears, Blocks, Pass};
use crate::engine::build::WeightBuilder;
use crate::engine::layers::attention::{attend, Heads};
use crate::engine::layers::lora::LinearLayer;
use crate::engine::layers::mlp::GatedMlp;
use crate::engine::layers::norm::{rms_norm, rms_norm_heads};
use crate::engine::layers::rope::Rope;
use crate::engine::load::config::DecoderConfig;
use crate::engine::tensor::Matrix;
use crate::error::Result;

struct Block {
    attn_norm: Vec<f32>,
    q: LinearLayer,
    k: LinearLayer,
    v: LinearLayer,
    /// Qwen3's per-head query and key norms (`head_dim` weights each), absent in the others.
    qk_norms: Option<(Vec<f32>, Vec<f32>)>,
    o: LinearLayer,
    ffn_norm: Vec<f32>,
    mlp: GatedMlp,
}

/// The blocks of a Llama-family decoder.
pub struct Llama {
    blocks: Vec<Block>,
    rope: Rope,
    heads: Heads,
    /// Layers that attend to a sliding window of keys (Phi-3's config windows every layer).
    local: Vec<bool>,
    /// Layers whose queries and keys are not rotated (SmolLM3's NoPE layers).
    nope: Vec<bool>,
    eps: f32,
}

impl Llama {
    pub fn build(c: &DecoderConfig, b: &WeightBuilder<'_>) -> Result<Self> {
        let (d, qd, kvd) = (c.hidden, c.heads * c.head_dim, c.kv_heads * c.head_dim);
        let mut blocks = Vec::with_capacity(c.layers);
        for l in 0..c.layers {
            let p = |n: &str| format!("blk.{l}.{n}");
            blocks.push(Block {
                attn_norm: b.vector(&p("attn_norm.weight"), d)?,
                q: b.linear(&p("attn_q"), qd, d)?,
                k: b.linear(&p("attn_k"), kvd, d)?,
                v: b.linear(&p("attn_v"), kvd, d)?,
                qk_norms: match b.has(&p("attn_q_norm.weight")) {
                    true => Some((
                        b.vector(&p("attn_q_norm.weight"), c.head_dim)?,
                        b.vector(&p("attn_k_norm.weight"), c.head_dim)?,
                    )),
                    false => None,
                },
                o: b.linear(&p("attn_output"), d, qd)?,
                ffn_norm: b.vector(&p("ffn_norm.weight"), d)?,
                mlp: GatedMlp {
                    gate: b.linear(&p("ffn_gate"), c.ffn, d)?,
                    up: b.linear(&p("ffn_up"), c.ffn, d)?,
                    down: b.linear(&p("ffn_down"), d, c.ffn)?,
                    act: c.activation,
                },
            });
        }
        Ok(Llama {
            blocks,
            rope: Rope::new(c.rope_style, c.rope_dims, c.rope_base, c.rope_freq_factors.as_deref())
                .with_long_factors(c.rope_base, c.rope_long.as_ref().map(|l| l.factors.as_slice()))
                .scaled(c.rope_attn_factor),
            heads: Heads {
                heads: c.heads,
                kv_heads: c.kv_heads,
                head_dim: c.head_dim,
                scale: c.attention_scale,
                window: c.sliding_window,
                softcap: c.attn_logit_softcap,
            },
            local: (0..c.layers)
                .map(|l| c.local_layers.get(l).copied().unwrap_or(false))
                .collect(),
            nope: (0..c.layers)
                .map(|l| c.nope_layers.get(l).copied().unwrap_or(false))
                .collect(),
            eps: c.norm_eps,
        })
    }
}

impl Blocks for Llama {
    fn forward(&self, mut x: Matrix, pass: &mut Pass<'_>, observe: &mut dyn FnMut(&str, &Matrix)) -> Matrix {
        let hd = self.heads.head_dim;
        let rotation = self.rope.at(&pass.positions, &pass.long_rope);
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
            if !self.nope[l] {
                rotation.apply(&mut q, hd);
                rotation.apply(&mut k, hd);
            }
            let heads = Heads {
                window: self.heads.window.filter(|_| self.local[l]),
                ..self.heads
            };
            let ctx = attend(heads, l, &q, &k, &v, &mut pass.caches, &pass.spans);
            observe(&format!("blk.{l}.attn_output"), &ctx);
            x.add_assign(&blk.o.forward(&ctx));
            let mut h = x.clone();
            rms_norm(&mut h, &blk.ffn_norm, self.eps);
            observe(&format!("blk.{l}.ffn_gate"), &h);
            observe(&format!("blk.{l}.ffn_up"), &h);
            let m = blk.mlp.forward(&h, &mut |a| observe(&format!("blk.{l}.ffn_down"), a));
            x.add_assign(&m);
        }
        x
    }

    fn linears(&self) -> Vec<(String, &LinearLayer)> {
        let blocks = self.blocks.iter().map(|b| [&b.q, &b.k, &b.v, &b.o]);
        block_linears(blocks.zip(self.blocks.iter().map(|b| &b.mlp)))
    }
}
