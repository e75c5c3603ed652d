//! A decoder with its tokenizer and chat template: log-likelihoods of continuations and generation,
//! both on batches, over `Decoder`'s packed forward step.

mod generate;
mod loglikelihood;
mod sampling;

use std::sync::Arc;

use crate::engine::api::ChatMessage;
use crate::engine::layers::attention::KvCache;
use crate::engine::load::chat::ChatTemplate;
use crate::engine::load::tokenizer::Tokenizer;
use crate::engine::models::decoder::Decoder;
use crate::engine::tensor::Matrix;
use crate::error::{Error, Result};

/// Sequences decoded together at most in generation. A decode step reads every weight once for all
/// its sequences, so more sequences per step cost little more than one until the products turn
/// arithmetic-bound: on SmolLM2-135M (Xeon with AVX-512, 2 threads, `shakedown bench --sequences`)
/// 64 sequences decode 1.2-2.0x the tokens/s of 16, depending on the scheme. The KV cache grows
/// with it (64 x (prompt + answer) positions; about 0.3 GB for SmolLM2's f32 cache at 100 tokens).
pub const BATCH: usize = 64;

/// Requests per scoring batch (log-likelihoods: each request's context and continuations are
/// already many rows per pass) and texts per calibration pass.
pub const SCORE_BATCH: usize = 16;

/// A decoder ready to score and generate.
pub struct DecoderModel {
    pub decoder: Decoder,
    pub tokenizer: Arc<Tokenizer>,
    pub chat: Option<Arc<ChatTemplate>>,
}

impl DecoderModel {
    /// Token ids of a text as the model sees it: the BOS token when the tokenizer adds one, and
    /// special tokens written in the text (`<|im_start|>`) parsed as such.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.tokenizer.encode(text, true, true)
    }

    /// The chat prompt of `messages`, or `None` without a chat template.
    pub fn chat_prompt(&self, messages: &[ChatMessage]) -> Result<Option<String>> {
        self.chat.as_ref().map(|c| c.render(messages)).transpose()
    }

    /// Logits `[tokens, vocab]` at every position of one token sequence (for fidelity and perplexity).
    pub fn sequence_logits(&self, tokens: &[u32]) -> Result<Matrix> {
        self.check_length(tokens.len(), 0)?;
        let config = &self.decoder.config;
        let mut cache = KvCache::new(config.layers).with_long_rope(config.long_rope_for(tokens.len()));
        let want: Vec<usize> = (0..tokens.len()).collect();
        self.decoder.forward(&mut [&mut cache], &[tokens], &want)
    }

    /// Refuses a prompt of `n` tokens that, with up to `generate` more, would not fit the context, and
    /// a prompt of no tokens (an empty text where the tokenizer adds no start token): its first token
    /// would be read from nothing, or from the previous sequence of a batch.
    fn check_length(&self, n: usize, generate: usize) -> Result<()> {
        let max = self.decoder.config.context_length;
        if n == 0 {
            return Err(Error::input(
                "prompt",
                "the text gives no tokens (it is empty and the tokenizer adds no start token)",
            ));
        }
        if n.saturating_add(generate) > max {
            let what = if generate == 0 {
                format!("{n} tokens exceed the model's context length of {max}")
            } else {
                format!(
                    "{n} tokens and up to {generate} generated ({}) exceed the model's context length of {max}",
                    n.saturating_add(generate)
                )
            };
            return Err(Error::input("prompt", what));
        }
        Ok(())
    }
}

/// `log(sum(exp(x)))` of a row, in f64.
pub fn log_sum_exp(row: &[f32]) -> f64 {
    let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    m + row.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln()
}

/// Index of the largest value (the lowest index on ties).
pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}
