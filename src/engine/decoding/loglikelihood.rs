//! Log-likelihood of continuations given a context, as lm-evaluation-harness computes it: context and
//! continuation are tokenised together and split where the context's own tokens end (so a leading
//! space belongs to the continuation; trailing spaces of the context move to the continuation first);
//! the continuation's token log-probabilities are summed. The tokens the continuations of a request
//! share (the context) run once; each continuation then continues on that cache, read in place.

use std::sync::Arc;

use super::{argmax, log_sum_exp, DecoderModel, SCORE_BATCH};
use crate::engine::api::{ContinuationScore, LoglikelihoodRequest};
use crate::engine::layers::attention::KvCache;
use crate::error::Result;

/// One continuation, tokenised: `tokens[..split]` is the context, `tokens[split..]` the continuation.
struct Item {
    tokens: Vec<u32>,
    split: usize,
    bytes: usize,
}

impl DecoderModel {
    fn encode_pair(&self, context: &str, continuation: &str) -> Result<Item> {
        let trimmed = context.trim_end();
        let (ctx, cont) = (trimmed, format!("{}{continuation}", &context[trimmed.len()..]));
        let mut ctx_ids = self.encode(ctx)?;
        let mut whole = self.encode(&format!("{ctx}{cont}"))?;
        if ctx_ids.is_empty() {
            // An empty context: condition on the BOS (or EOS) token as lm-evaluation-harness does.
            let start = self.tokenizer.bos.or(self.tokenizer.eos).unwrap_or(0);
            ctx_ids.push(start);
            whole.insert(0, start);
        }
        let split = ctx_ids.len().min(whole.len());
        Ok(Item {
            tokens: whole,
            split,
            bytes: continuation.len(),
        })
    }

    /// Scores every continuation of every request.
    pub fn loglikelihood(&self, requests: &[LoglikelihoodRequest]) -> Result<Vec<Vec<ContinuationScore>>> {
        let mut out = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(SCORE_BATCH) {
            out.extend(self.score_chunk(chunk)?);
        }
        Ok(out)
    }

    fn score_chunk(&self, requests: &[LoglikelihoodRequest]) -> Result<Vec<Vec<ContinuationScore>>> {
        let layers = self.decoder.config.layers;
        let items: Vec<Vec<Item>> = requests
            .iter()
            .map(|r| {
                r.continuations
                    .iter()
                    .map(|c| self.encode_pair(&r.context, c))
                    .collect()
            })
            .collect::<Result<_>>()?;
        for it in items.iter().flatten() {
            self.check_length(it.tokens.len(), 0)?;
        }
        // Per request, the tokens every continuation feeds (all but its last) share a prefix: run it once.
        let prefixes: Vec<usize> = items
            .iter()
            .map(|its| {
                let fed: Vec<&[u32]> = its.iter().map(|it| &it.tokens[..it.tokens.len() - 1]).collect();
                fed.first().map_or(0, |f| {
                    (0..f.len())
                        .take_while(|&i| fed.iter().all(|g| g.len() > i && g[i] == f[i]))
                        .count()
                })
            })
            .collect();
        // Logits are needed at positions split-1 ..= len-2 of each continuation.
        let mut scores: Vec<Vec<(f64, bool)>> = items
            .iter()
            .flatten()
            .map(|it| vec![(0.0, true); it.tokens.len() - it.split])
            .collect();
        // A request's continuations read its context's cache: all rotate as its longest one asks.
        let config = &self.decoder.config;
        let mut caches: Vec<KvCache> = items
            .iter()
            .map(|its| {
                // The tokens fed (all but each continuation's last), as transformers reads a scored sequence.
                let longest = its
                    .iter()
                    .map(|it| it.tokens.len().saturating_sub(1))
                    .max()
                    .unwrap_or(0);
                KvCache::new(layers).with_long_rope(config.long_rope_for(longest))
            })
            .collect();
        // 1. Prefixes, with the rows any continuation needs.
        let mut want = Vec::new();
        let mut want_owner = Vec::new(); // (flat item index, continuation token index)
        let mut row0 = 0;
        let mut flat = 0;
        for (its, &p) in items.iter().zip(&prefixes) {
            for it in its {
                for pos in it.split - 1..it.tokens.len() - 1 {
                    if pos < p {
                        want.push(row0 + pos);
                        want_owner.push((flat, pos + 1 - it.split));
                    }
                }
                flat += 1;
            }
            row0 += p;
        }
        let feeds: Vec<&[u32]> = items
            .iter()
            .zip(&prefixes)
            .map(|(its, &p)| &its[0].tokens[..p])
            .collect();
        let mut refs: Vec<&mut KvCache> = caches.iter_mut().collect();
        if row0 > 0 {
            let logits = self.decoder.forward(&mut refs, &feeds, &want)?;
            let flat_items: Vec<&Item> = items.iter().flatten().collect();
            for (r, &(f, t)) in want_owner.iter().enumerate() {
                let row = logits.row(r);
                let target = flat_items[f].tokens[flat_items[f].split + t];
                scores[f][t] = (
                    row[target as usize] as f64 - log_sum_exp(row),
                    argmax(row) == target as usize,
                );
            }
        }
        // 2. Each continuation's own tail on its request's cache, read in place (`KvCache::on`).
        let caches: Vec<Arc<KvCache>> = caches.into_iter().map(Arc::new).collect();
        let mut tail_caches = Vec::new();
        let mut tails: Vec<&[u32]> = Vec::new();
        let mut want = Vec::new();
        let mut want_owner = Vec::new();
        let mut row0 = 0;
        let mut flat = 0;
        for ((its, &p), cache) in items.iter().zip(&prefixes).zip(&caches) {
            for it in its {
                let tail = &it.tokens[p..it.tokens.len() - 1];
                for pos in (it.split - 1).max(p)..it.tokens.len() - 1 {
                    want.push(row0 + pos - p);
                    want_owner.push((flat, pos + 1 - it.split));
                }
                if !tail.is_empty() {
                    tail_caches.push(KvCache::on(cache.clone()));
                    tails.push(tail);
                    row0 += tail.len();
                }
                flat += 1;
            }
        }
        if row0 > 0 {
            let mut refs: Vec<&mut KvCache> = tail_caches.iter_mut().collect();
            let logits = self.decoder.forward(&mut refs, &tails, &want)?;
            let flat_items: Vec<&Item> = items.iter().flatten().collect();
            for (r, &(f, t)) in want_owner.iter().enumerate() {
                let row = logits.row(r);
                let target = flat_items[f].tokens[flat_items[f].split + t];
                scores[f][t] = (
                    row[target as usize] as f64 - log_sum_exp(row),
                    argmax(row) == target as usize,
                );
            }
        }
        let mut flat = 0;
        Ok(items
            .iter()
            .map(|its| {
                its.iter()
                    .map(|it| {
                        let s = &scores[flat];
                        flat += 1;
                        ContinuationScore {
                            logprob: s.iter().map(|x| x.0).sum(),
                            tokens: s.len(),
                            bytes: it.bytes,
                            is_greedy: s.iter().all(|x| x.1),
                        }
                    })
                    .collect()
            })
            .collect())
    }
}
