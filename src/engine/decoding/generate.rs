//! Generation for many requests at once: up to `BATCH` sequences are decoded together (one packed
//! forward step feeds each active sequence its last token, and the prompts of sequences that join),
//! and a finished sequence's slot is taken by the next request (continuous batching). The tokens all
//! prompts start with run once, and every sequence reads their cache in place (`KvCache::on`).
//!
//! Each request's tokens depend only on its own prompt, sampling settings and constraint where every
//! kernel gives a row the same bits whatever rows share its pass: the block formats, int8, the f32
//! strip kernels (the `f32` scheme and every f32 head) and the LoRA update do (`tests/lora_golden.rs`
//! checks answers alone and in a batch, `tests/decoder_golden.rs` scores), and so do w4a16 RTN and AWQ
//! on x86 (their strip kernels). f16 and w8a16 do not: their product changes path at 24 token rows
//! (per-row dots below, a GEMM above), so a prompt's prefill can round differently with the batch it
//! joins (another `--limit`), while the same inputs still give the same bytes.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::sampling::{choose, Context};
use super::{DecoderModel, BATCH};
use crate::engine::api::{Acceptance, Finish, GenerateRequest, Generation, Sampling};
use crate::engine::layers::attention::KvCache;
use crate::error::Result;

/// Prompt rows that join one forward step at most (beyond the first prompt): bounds the step's
/// activations (a 64 x 500-token prefill would hold some 200 MB in one MLP) without slowing short
/// prompts, which all join at once.
const PREFILL_ROWS: usize = 2048;

/// A sequence being decoded.
struct Active {
    request: usize,
    cache: KvCache,
    prompt_tokens: usize,
    /// Tokens to feed at the next step (the prompt first, then the last generated token).
    feed: Vec<u32>,
    generated: usize,
    bytes: Vec<u8>,
    rng: StdRng,
    first_token: Option<Duration>,
}

impl DecoderModel {
    /// Generates for every request; results in request order.
    pub fn generate(&self, requests: &[GenerateRequest<'_>]) -> Result<Vec<Generation>> {
        self.generate_reporting(requests, &|_| {})
    }

    /// `generate`, telling `done` how many requests finished after each step that finished some.
    pub fn generate_reporting(
        &self,
        requests: &[GenerateRequest<'_>],
        done: &dyn Fn(usize),
    ) -> Result<Vec<Generation>> {
        let start = Instant::now();
        let layers = self.decoder.config.layers;
        let kv_width = self.decoder.config.kv_heads * self.decoder.config.head_dim;
        let mut results: Vec<Option<Generation>> = vec![None; requests.len()];
        let mut prompts = Vec::with_capacity(requests.len());
        // Per request, whether it rotates with LongRoPE's long factors: by the tokens it may reach.
        let mut long_rope = Vec::with_capacity(requests.len());
        for r in requests {
            let ids = self.encode(&r.prompt)?;
            self.check_length(ids.len(), r.max_tokens)?;
            long_rope.push(self.decoder.config.long_rope_for(ids.len() + r.max_tokens));
            prompts.push(ids);
        }
        // The tokens every prompt starts with (a chat template's system turn, the suite's instruction)
        // run once; each sequence reads their cache in place. Sequences rotated two ways (LongRoPE's short
        // and long factors) cannot read one cache: each way shares its own prefix.
        let mut bases = Vec::with_capacity(2);
        for long in [false, true] {
            let group: Vec<Vec<u32>> = prompts
                .iter()
                .zip(&long_rope)
                .filter(|(_, &l)| l == long)
                .map(|(p, _)| p.clone())
                .collect();
            let shared = shared_prefix(&group);
            let mut base = KvCache::new(layers).with_long_rope(long);
            if shared > 0 {
                self.decoder
                    .forward_hidden(&mut [&mut base], &[&group[0][..shared]], &[], &mut |_, _| {})?;
            }
            bases.push((shared, std::sync::Arc::new(base)));
        }
        let mut next = 0;
        let mut active: Vec<Active> = Vec::new();
        loop {
            // Prompts join while slots are free and the step's prompt rows stay under PREFILL_ROWS (at
            // least one joins), so long prompts (retrieved passages) do not make one huge pass.
            let mut joining_rows = 0;
            while active.len() < BATCH && next < requests.len() {
                let (shared, base) = &bases[long_rope[next] as usize];
                let shared = *shared;
                let rows = prompts[next].len() - shared;
                if joining_rows > 0 && joining_rows + rows > PREFILL_ROWS {
                    break;
                }
                joining_rows += rows;
                let seed = match requests[next].sampling {
                    Sampling::Sample { seed, .. } => seed,
                    Sampling::Greedy => 0,
                };
                let prompt = std::mem::take(&mut prompts[next]);
                let mut cache = KvCache::on(base.clone());
                cache.reserve(prompt.len() + requests[next].max_tokens, kv_width);
                active.push(Active {
                    request: next,
                    cache,
                    prompt_tokens: prompt.len(),
                    feed: prompt[shared..].to_vec(),
                    generated: 0,
                    bytes: Vec::new(),
                    rng: StdRng::seed_from_u64(seed),
                    first_token: None,
                });
                next += 1;
            }
            if active.is_empty() {
                break;
            }
            // Requests that may not generate at all finish before any forward step.
            let mut i = 0;
            while i < active.len() {
                let r = &requests[active[i].request];
                let done_by_constraint = r.constraint.is_some_and(|c| c.accepts(b"") == Acceptance::Complete);
                if r.max_tokens == 0 || done_by_constraint {
                    let a = active.swap_remove(i);
                    let finish = if r.max_tokens == 0 {
                        Finish::Length
                    } else {
                        Finish::Constraint
                    };
                    results[a.request] = Some(finished(&a, String::new(), finish, start.elapsed()));
                    done(1);
                } else {
                    i += 1;
                }
            }
            if active.is_empty() {
                continue;
            }
            let feeds: Vec<Vec<u32>> = active.iter_mut().map(|a| std::mem::take(&mut a.feed)).collect();
            let mut want = Vec::with_capacity(active.len());
            let mut row = 0;
            for f in &feeds {
                row += f.len();
                want.push(row - 1);
            }
            let feed_refs: Vec<&[u32]> = feeds.iter().map(Vec::as_slice).collect();
            let logits = {
                let mut caches: Vec<&mut KvCache> = active.iter_mut().map(|a| &mut a.cache).collect();
                self.decoder.forward(&mut caches, &feed_refs, &want)?
            };
            let tok = &self.tokenizer;
            let piece = |t: u32| tok.piece(t);
            let before = active.len();
            let mut keep = Vec::with_capacity(active.len());
            for (k, mut a) in active.drain(..).enumerate() {
                let r = &requests[a.request];
                let ctx = Context {
                    output: &a.bytes,
                    constraint: r.constraint,
                    end_tokens: &tok.end_of_generation,
                    piece: &piece,
                };
                let chosen = choose(logits.row(k), r.sampling, &mut a.rng, &ctx);
                a.first_token.get_or_insert(start.elapsed());
                let finish = match chosen {
                    None => Some(Finish::ConstraintDeadEnd),
                    Some(t) if tok.end_of_generation.contains(&t) => Some(Finish::EndOfSequence),
                    Some(t) => {
                        a.bytes.extend_from_slice(tok.piece(t));
                        a.generated += 1;
                        a.feed = vec![t];
                        let text = String::from_utf8_lossy(&a.bytes);
                        if let Some(s) = r.stop.iter().find(|s| !s.is_empty() && text.contains(s.as_str())) {
                            Some(Finish::Stop(s.clone()))
                        } else if r
                            .constraint
                            .is_some_and(|c| c.accepts(&a.bytes) == Acceptance::Complete)
                        {
                            Some(Finish::Constraint)
                        } else if a.generated >= r.max_tokens {
                            Some(Finish::Length)
                        } else {
                            None
                        }
                    }
                };
                match finish {
                    None => keep.push(a),
                    Some(f) => {
                        let mut text = String::from_utf8_lossy(&a.bytes).into_owned();
                        if let Finish::Stop(s) = &f {
                            if let Some(at) = text.find(s.as_str()) {
                                text.truncate(at);
                            }
                        }
                        results[a.request] = Some(finished(&a, text, f, start.elapsed()));
                    }
                }
            }
            if keep.len() < before {
                done(before - keep.len());
            }
            active = keep;
        }
        Ok(results.into_iter().flatten().collect())
    }
}

/// The number of tokens all prompts (two or more) start with, leaving each at least one token to
/// feed: the last prompt row gives a sequence its first logits.
fn shared_prefix(prompts: &[Vec<u32>]) -> usize {
    let [first, rest @ ..] = prompts else { return 0 };
    if rest.is_empty() {
        return 0;
    }
    let mut n = prompts.iter().map(|p| p.len().saturating_sub(1)).min().unwrap_or(0);
    for p in rest {
        n = n.min(first.iter().zip(p).take_while(|(a, b)| a == b).count());
    }
    n
}

fn finished(a: &Active, text: String, finish: Finish, elapsed: Duration) -> Generation {
    Generation {
        text,
        prompt_tokens: a.prompt_tokens,
        generated_tokens: a.generated,
        finish,
        time_to_first_token: a.first_token.unwrap_or(elapsed),
        elapsed,
    }
}

#[cfg(test)]
mod tests {
    use super::shared_prefix;

    #[test]
    fn the_shared_prefix_leaves_every_prompt_a_token_to_feed() {
        assert_eq!(shared_prefix(&[]), 0);
        assert_eq!(shared_prefix(&[vec![1, 2, 3]]), 0, "one prompt has nothing to share");
        assert_eq!(shared_prefix(&[vec![1, 2, 3, 4], vec![1, 2, 5]]), 2);
        assert_eq!(
            shared_prefix(&[vec![1, 2, 3], vec![1, 2, 3]]),
            2,
            "identical prompts keep one token each"
        );
        assert_eq!(shared_prefix(&[vec![1, 2], vec![1, 2, 3, 4], vec![1, 9]]), 1);
        assert_eq!(shared_prefix(&[vec![7], vec![1, 2]]), 0);
    }
}
