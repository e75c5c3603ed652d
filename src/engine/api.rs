//! The small public interface every task reduces to, as lm-evaluation-harness reduces every task to
//! `loglikelihood` and `generate_until`: embed, classify with a head, score continuations, generate.
//!
//! `LanguageModel` is the one trait of the crate that pays for itself: `engine::Model` is the real
//! implementation, and tasks, eval, metrics, gate and report are tested with small fakes of it.

use std::time::Duration;

use crate::error::Result;

/// What a model can do: an encoder embeds (and classifies when it has a head); a decoder scores and
/// generates text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    Encoder,
    Decoder,
}

/// One context with the continuations to score after it (a multiple-choice question).
#[derive(Clone, Debug, PartialEq)]
pub struct LoglikelihoodRequest {
    pub context: String,
    pub continuations: Vec<String>,
}

/// The score of one continuation given its context.
#[derive(Clone, Debug, PartialEq)]
pub struct ContinuationScore {
    /// Sum of the continuation tokens' log-probabilities (natural log).
    pub logprob: f64,
    /// Tokens of the continuation (after splitting the joint tokenisation at the context's end).
    pub tokens: usize,
    /// UTF-8 bytes of the continuation, for length normalisation (`acc_norm`).
    pub bytes: usize,
    /// True when every continuation token was the model's most likely next token.
    pub is_greedy: bool,
}

/// How the next token is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampling {
    /// The most likely token (ties: the lowest id).
    Greedy,
    /// Softmax with temperature, restricted to the smallest set of tokens whose mass reaches `top_p`,
    /// drawn from an RNG seeded per request.
    Sample { temperature: f32, top_p: f32, seed: u64 },
}

/// Where a text stands against a constraint on the output (a grammar): constrained decoding keeps
/// only tokens after which the output is still a `Prefix` or already `Complete`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acceptance {
    /// Not a prefix of any accepted string.
    Rejected,
    /// A proper prefix of an accepted string.
    Prefix,
    /// An accepted string (generation stops here when nothing longer is accepted).
    Complete,
    /// An accepted string that can also be extended.
    CompleteOrPrefix,
}

/// A constraint on generated text, checked on the whole output so far (as llama.cpp's grammars
/// mask the logits to tokens that keep the output a prefix of a string the grammar accepts).
///
/// The output is given as the bytes the tokens wrote: a byte-level token may end inside a multi-byte
/// character, and only the bytes can say whether the character it starts can still become an
/// accepted one. An invalid UTF-8 sequence is never a prefix of accepted text.
pub trait OutputConstraint: Sync {
    fn accepts(&self, output: &[u8]) -> Acceptance;
}

/// One generation job. `prompt` is the full text the model continues (render chat messages first
/// with `LanguageModel::chat_prompt`).
#[derive(Clone)]
pub struct GenerateRequest<'a> {
    pub prompt: String,
    pub max_tokens: usize,
    /// Generation stops at the first of these strings; the stop string is not part of the output.
    pub stop: Vec<String>,
    pub sampling: Sampling,
    pub constraint: Option<&'a dyn OutputConstraint>,
}

/// Why a generation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finish {
    /// The model produced its end-of-sequence (or end-of-turn) token.
    EndOfSequence,
    /// One of the request's stop strings appeared.
    Stop(String),
    /// `max_tokens` were generated.
    Length,
    /// The constraint accepted the output and allows nothing longer.
    Constraint,
    /// The constraint allowed none of the model's tokens (the output so far is kept).
    ConstraintDeadEnd,
}

/// A finished generation.
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    pub finish: Finish,
    /// From the start of the call to this request's first generated token.
    pub time_to_first_token: Duration,
    /// From the start of the call to this request's last token.
    pub elapsed: Duration,
}

/// A chat message for the model's chat template.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

/// Stored size of the weights a scheme applies to (the transformer blocks' Linears).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WeightStats {
    /// Stored bytes of the quantized Linears.
    pub bytes: usize,
    /// Weights of the quantized Linears.
    pub count: usize,
    /// Stored bytes of every weight matrix (Linears, output head, embeddings) where the scheme changes
    /// more than the Linears (decoders); None where only the Linears differ between schemes.
    pub model_bytes: Option<usize>,
    /// A decoder's output head format (it is not the blocks' scheme: `build::WeightBuilder::head`).
    pub head: Option<&'static str>,
}

impl WeightStats {
    pub fn bits_per_weight(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.bytes as f64 * 8.0 / self.count as f64
        }
    }
}

/// The interface tasks call. Batches are lists; the implementation decides how to split them.
pub trait LanguageModel: Sync {
    fn kind(&self) -> ModelKind;
    /// Names of a classification head's outputs in logit order (empty without a head).
    fn labels(&self) -> &[String];
    /// Token ids of each text as the model sees it (special tokens included).
    fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>>;
    /// The most tokens one sequence may hold, for a model that refuses longer ones (a decoder's
    /// context); None for a model that truncates its input (an encoder reads its first positions).
    fn context_length(&self) -> Option<usize> {
        None
    }
    /// Mean-pooled, L2-normalised sentence embeddings (encoders).
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
    /// Classification-head logits (encoders with a head).
    fn classify(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
    /// Log-likelihood of each continuation given its context (decoders); one vector per request, in
    /// the order of its continuations. The context's KV cache is computed once per request.
    fn loglikelihood(&self, requests: &[LoglikelihoodRequest]) -> Result<Vec<Vec<ContinuationScore>>>;
    /// Generates for every request (decoders); sequences are decoded together in batches.
    fn generate(&self, requests: &[GenerateRequest<'_>]) -> Result<Vec<Generation>> {
        self.generate_reporting(requests, &|_| {})
    }
    /// `generate`, telling `done` the number of requests finished each time some finish (for a
    /// progress bar over one long call: the engine keeps its batch full across the whole list, so a
    /// caller gains by handing over every request at once).
    fn generate_reporting(&self, requests: &[GenerateRequest<'_>], done: &dyn Fn(usize)) -> Result<Vec<Generation>>;
    /// True when a request's result does not depend on the other requests of its call: the same
    /// text then gets the same bits alone, in any batch, and in any shard, so a caller may reuse an
    /// answer it already has. False unless the model knows it.
    fn answers_alone(&self) -> bool {
        false
    }
    /// The prompt the model's chat template makes of `messages`, ending where the assistant's answer
    /// starts; `None` when the model has no chat template.
    fn chat_prompt(&self, messages: &[ChatMessage]) -> Result<Option<String>>;
}
