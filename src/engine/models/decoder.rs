//! What every decoder shares around its blocks: token embeddings (looked up row by row from the tied
//! output head, or from the tensor as stored when the head is the model's own), the final norm and the
//! output head; and one forward step over a packed batch of sequences, each with its own KV cache. The
//! architectures' blocks are behind `blocks::Blocks`.

use std::sync::Arc;

use super::blocks::{Blocks, Pass};
use super::gemma::Gemma;
use super::llama::Llama;
use crate::engine::build::WeightBuilder;
use crate::engine::layers::attention::{KvCache, Span};
use crate::engine::layers::linear::Linear;
use crate::engine::layers::lora::LinearLayer;
use crate::engine::layers::norm::rms_norm;
use crate::engine::load::config::{Architecture, DecoderConfig};
use crate::engine::load::source::TensorSource;
use crate::engine::tensor::Matrix;
use crate::error::{Error, Result};

/// Where `Decoder::embed` reads token embedding rows.
enum Embeddings {
    /// The output head, which holds the tied embedding table (SmolLM2, Gemma): the file's copy of the
    /// table is then never read after load, so none of its pages come back beside the packed head.
    /// Read from the file, each row faulted in the pages around it until they were given back: 12.5 MB
    /// of SmolLM2 Q4_1's 30 MB table at a 64-token prompt, 17 MB at 512 (peak RSS, `shakedown bench`).
    Head,
    /// The tensor of that name as stored in the file (models with a head of their own).
    File(String),
}

/// A decoder language model.
pub struct Decoder {
    pub config: DecoderConfig,
    source: Arc<TensorSource>,
    embeddings: Embeddings,
    blocks: Box<dyn Blocks>,
    output_norm: Vec<f32>,
    head: Linear,
}

impl Decoder {
    /// Builds the model with `builder` deciding every Linear's weights.
    pub fn build(config: DecoderConfig, source: Arc<TensorSource>, builder: &WeightBuilder<'_>) -> Result<Self> {
        let c = &config;
        let blocks: Box<dyn Blocks> = match c.arch {
            Architecture::Llama
            | Architecture::SmolLM3
            | Architecture::Qwen2
            | Architecture::Qwen3
            | Architecture::Phi3 => Box::new(Llama::build(c, builder)?),
            Architecture::Gemma2 | Architecture::Gemma3 => Box::new(Gemma::build(c, builder)?),
        };
        let embedding = "token_embd.weight";
        // Check the embedding table now (it is read row by row later).
        source.tensor(embedding, c.vocab, c.hidden)?;
        // Untied models have their own head; tied ones reuse the embeddings (SmolLM2, Gemma).
        let tied = !source.has("output.weight");
        let head = builder.head(if tied { embedding } else { "output.weight" }, c.vocab, c.hidden)?;
        let embeddings = if tied && head.keeps_rows() {
            Embeddings::Head
        } else {
            Embeddings::File(embedding.to_string())
        };
        Ok(Decoder {
            output_norm: builder.vector("output_norm.weight", c.hidden)?,
            config,
            source,
            embeddings,
            blocks,
            head,
        })
    }

    /// The blocks' Linears by name.
    pub fn linears(&self) -> Vec<(String, &LinearLayer)> {
        self.blocks.linears()
    }

    /// True when every product gives a token row the same bits whatever rows share its pass, so a
    /// request's scores and answers do not depend on the batch it joins (attention and norms are per
    /// row or per sequence already).
    pub fn rows_independent(&self) -> bool {
        self.head.rows_independent() && self.linears().iter().all(|(_, l)| l.rows_independent())
    }

    /// The output head's storage format (`Linear::storage`).
    pub fn head_storage(&self) -> &'static str {
        self.head.storage()
    }

    /// Stored bytes of the output head.
    pub fn head_bytes(&self) -> usize {
        self.head.weight_bytes()
    }

    /// Stored bytes of every weight matrix a deployment of this scheme ships: the blocks' Linears (with
    /// an unmerged adapter), the output head, and an untied embedding table as the file stores it. The
    /// head is a fifth of SmolLM2-135M's weights and its format differs by scheme (f32 beside 4-bit
    /// blocks, Q8_0 as stored for `native`), so "the smallest scheme" must count it.
    pub fn stored_bytes(&self) -> Result<usize> {
        let linears: usize = self.linears().iter().map(|(_, l)| l.weight_bytes()).sum();
        let table = match &self.embeddings {
            Embeddings::Head => 0,
            Embeddings::File(name) => {
                let t = self.source.tensor(name, self.config.vocab, self.config.hidden)?;
                let n = t.bytes.len();
                self.source.release(&t);
                n
            }
        };
        Ok(linears + self.head_bytes() + table)
    }

    /// Embeddings of `tokens` (ids below the vocabulary size), scaled as the architecture asks.
    fn embed(&self, tokens: &[u32]) -> Result<Matrix> {
        let (d, vocab) = (self.config.hidden, self.config.vocab);
        if let Some(&t) = tokens.iter().find(|&&t| t as usize >= vocab) {
            return Err(Error::Internal(format!("token id {t} is outside the vocabulary")));
        }
        let mut x = Matrix::zeros(tokens.len(), d);
        match &self.embeddings {
            Embeddings::Head => {
                for (r, &t) in tokens.iter().enumerate() {
                    if !self.head.row_f32(t as usize, x.row_mut(r)) {
                        return Err(Error::Internal("the output head lost its embedding rows".into()));
                    }
                }
            }
            Embeddings::File(name) => {
                let table = self.source.tensor(name, vocab, d)?;
                for (r, &t) in tokens.iter().enumerate() {
                    table.row_f32(t as usize, x.row_mut(r));
                }
                // Each row read mapped the file's pages around it (the kernel's fault-around, 64 KiB):
                // give them back, or a long run keeps most of a large vocabulary's table resident.
                self.source.release(&table);
            }
        }
        if let Some(s) = self.config.embedding_scale {
            x.data.iter_mut().for_each(|v| *v *= s);
        }
        Ok(x)
    }

    /// Feeds `tokens[i]` to the sequence of `caches[i]` (one packed forward step) and returns the
    /// final-normed hidden states of the rows `want` (indices into the packed tokens), in that order.
    pub fn forward_hidden(
        &self,
        caches: &mut [&mut KvCache],
        tokens: &[&[u32]],
        want: &[usize],
        observe: &mut dyn FnMut(&str, &Matrix),
    ) -> Result<Matrix> {
        let all: Vec<u32> = tokens.iter().flat_map(|t| t.iter().copied()).collect();
        let x = self.embed(&all)?;
        let mut spans = Vec::with_capacity(tokens.len());
        let mut positions = Vec::with_capacity(all.len());
        let mut long_rope = Vec::with_capacity(all.len());
        let mut start = 0;
        for (cache, t) in caches.iter_mut().zip(tokens) {
            if cache.layers.len() != self.config.layers {
                **cache = KvCache::new(self.config.layers).with_long_rope(cache.long_rope);
            }
            spans.push(Span { start, count: t.len() });
            positions.extend(cache.len..cache.len + t.len());
            long_rope.extend(std::iter::repeat_n(cache.long_rope, t.len()));
            start += t.len();
        }
        let mut pass = Pass {
            caches: caches.iter_mut().map(|c| &mut **c).collect(),
            spans,
            positions,
            long_rope,
        };
        let hidden = self.blocks.forward(x, &mut pass, observe);
        for (cache, t) in caches.iter_mut().zip(tokens) {
            cache.len += t.len();
        }
        let mut out = Matrix::zeros(want.len(), self.config.hidden);
        for (i, &r) in want.iter().enumerate() {
            out.row_mut(i).copy_from_slice(hidden.row(r));
        }
        rms_norm(&mut out, &self.output_norm, self.config.norm_eps);
        Ok(out)
    }

    /// Logits `[want.len(), vocab]` of the rows `want` after feeding `tokens` (see `forward_hidden`).
    pub fn forward(&self, caches: &mut [&mut KvCache], tokens: &[&[u32]], want: &[usize]) -> Result<Matrix> {
        let h = self.forward_hidden(caches, tokens, want, &mut |_, _| {})?;
        Ok(self.logits(&h))
    }

    /// The output head on final-normed hidden states.
    pub fn logits(&self, hidden: &Matrix) -> Matrix {
        let mut logits = self.head.forward(hidden);
        if let Some(cap) = self.config.final_logit_softcap {
            logits.data.iter_mut().for_each(|v| *v = cap * (*v / cap).tanh());
        }
        logits
    }
}
