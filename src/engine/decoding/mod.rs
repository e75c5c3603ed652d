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

/// Sequences decoded together at most (generation) and requests per scoring batch.
pub const BATCH: usize = 16;

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
        self.check_length(tokens.len())?;
        let mut cache = KvCache::new(self.decoder.config.layers);
        let want: Vec<usize> = (0..tokens.len()).collect();
        self.decoder.forward(&mut [&mut cache], &[tokens], &want)
    }

    fn check_length(&self, n: usize) -> Result<()> {
        let max = self.decoder.config.context_length;
        if n > max {
            return Err(Error::input(
                "prompt",
                format!("{n} tokens exceed the model's context length of {max}"),
            ));
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
