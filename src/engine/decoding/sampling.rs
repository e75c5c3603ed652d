//! Choosing the next token: greedy or seeded temperature / nucleus sampling (Holtzman et al., 2020),
//! optionally restricted to tokens after which a constraint still accepts the output.

use rand::rngs::StdRng;
use rand::RngExt;

use crate::engine::api::{Acceptance, OutputConstraint, Sampling};

/// Candidates examined, best first, before all tokens are sorted (a constraint usually accepts one
/// of the model's top choices).
const FIRST_CANDIDATES: usize = 64;

/// Token ids by descending logit (ties: lower id first); only the best `k` are guaranteed sorted.
fn top_k(logits: &[f32], k: usize) -> Vec<u32> {
    let mut ids: Vec<u32> = (0..logits.len() as u32).collect();
    let cmp = |a: &u32, b: &u32| logits[*b as usize].total_cmp(&logits[*a as usize]).then(a.cmp(b));
    if k < ids.len() {
        ids.select_nth_unstable_by(k, cmp);
        ids.truncate(k);
    }
    ids.sort_by(cmp);
    ids
}

/// What the caller knows about the output so far, for the constraint.
pub struct Context<'a, 'p> {
    pub output: &'a [u8],
    pub constraint: Option<&'a dyn OutputConstraint>,
    /// Tokens that end generation (their piece is empty).
    pub end_tokens: &'a [u32],
    pub piece: &'a dyn Fn(u32) -> &'p [u8],
}

/// The verdict of the constraint on the output extended by `token`.
fn allowed(ctx: &Context<'_, '_>, token: u32) -> bool {
    let Some(c) = ctx.constraint else { return true };
    if ctx.end_tokens.contains(&token) {
        // Ending is allowed only where the output is already an accepted string.
        return matches!(
            c.accepts(ctx.output),
            Acceptance::Complete | Acceptance::CompleteOrPrefix
        );
    }
    let piece = (ctx.piece)(token);
    if piece.is_empty() {
        return false;
    }
    let mut bytes = ctx.output.to_vec();
    bytes.extend_from_slice(piece);
    c.accepts(&bytes) != Acceptance::Rejected
}

/// The next token, or `None` when the constraint allows none of the model's tokens.
pub fn choose(logits: &[f32], sampling: Sampling, rng: &mut StdRng, ctx: &Context<'_, '_>) -> Option<u32> {
    match sampling {
        // Unconstrained: the best token (the lowest id on ties, as `top_k` orders them) without a sort.
        Sampling::Greedy if ctx.constraint.is_none() => Some(super::argmax(logits) as u32),
        Sampling::Greedy => {
            // The model's own choice is usually allowed (a fine-tuned parser writes the grammar's
            // text): try it before ranking candidates, which costs a pass over the vocabulary.
            let best = super::argmax(logits) as u32;
            if allowed(ctx, best) {
                return Some(best);
            }
            let first = top_k(logits, FIRST_CANDIDATES);
            if let Some(&t) = first.iter().find(|&&t| allowed(ctx, t)) {
                return Some(t);
            }
            top_k(logits, logits.len())
                .into_iter()
                .skip(FIRST_CANDIDATES)
                .find(|&t| allowed(ctx, t))
        }
        Sampling::Sample { temperature, top_p, .. } => {
            let t = temperature.max(1e-4);
            let order = top_k(logits, logits.len());
            let max = logits[order[0] as usize];
            // Nucleus over the allowed tokens: the smallest prefix (by probability) whose mass
            // reaches top_p of the allowed mass seen so far.
            let mut picked: Vec<(u32, f64)> = Vec::new();
            let total: f64 = order
                .iter()
                .map(|&i| (((logits[i as usize] - max) / t) as f64).exp())
                .sum();
            let mut mass = 0.0;
            for &i in &order {
                if !allowed(ctx, i) {
                    continue;
                }
                let p = (((logits[i as usize] - max) / t) as f64).exp() / total;
                picked.push((i, p));
                mass += p;
                if mass >= top_p as f64 || (ctx.constraint.is_some() && picked.len() >= FIRST_CANDIDATES) {
                    break;
                }
            }
            if picked.is_empty() {
                return None;
            }
            let draw = rng.random::<f64>() * mass;
            let mut acc = 0.0;
            for &(i, p) in &picked {
                acc += p;
                if draw < acc {
                    return Some(i);
                }
            }
            picked.last().map(|x| x.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    struct OnlyDigits;
    impl OutputConstraint for OnlyDigits {
        fn accepts(&self, s: &[u8]) -> Acceptance {
            if s.iter().all(|c| c.is_ascii_digit()) {
                if s.is_empty() {
                    Acceptance::Prefix
                } else {
                    Acceptance::CompleteOrPrefix
                }
            } else {
                Acceptance::Rejected
            }
        }
    }

    #[test]
    fn greedy_takes_the_best_allowed_token() {
        let pieces: Vec<Vec<u8>> = vec![b"a".to_vec(), b"7".to_vec(), b"b".to_vec(), vec![]];
        let piece = |t: u32| -> &[u8] { &pieces[t as usize] };
        let logits = [5.0, 1.0, 3.0, 0.5];
        let mut rng = StdRng::seed_from_u64(0);
        let free = Context {
            output: b"",
            constraint: None,
            end_tokens: &[3],
            piece: &piece,
        };
        assert_eq!(choose(&logits, Sampling::Greedy, &mut rng, &free), Some(0));
        let c = Context {
            constraint: Some(&OnlyDigits),
            ..free
        };
        assert_eq!(choose(&logits, Sampling::Greedy, &mut rng, &c), Some(1));
        // The end token is allowed only once the output is complete.
        let done = Context { output: b"12", ..c };
        let logits = [5.0, 1.0, 3.0, 9.0];
        assert_eq!(choose(&logits, Sampling::Greedy, &mut rng, &done), Some(3));
        let empty = Context { output: b"", ..done };
        assert_eq!(choose(&logits, Sampling::Greedy, &mut rng, &empty), Some(1));
    }

    /// The constraint sees a token's bytes, also when they stop inside a character: the first byte
    /// of "ж" is no digit (judged on complete characters it read as the empty output, a prefix).
    #[test]
    fn a_token_that_starts_a_character_is_judged_by_its_bytes() {
        let pieces: Vec<Vec<u8>> = vec!["ж".as_bytes()[..1].to_vec(), b"7".to_vec()];
        let piece = |t: u32| -> &[u8] { &pieces[t as usize] };
        let c = Context {
            output: b"1",
            constraint: Some(&OnlyDigits),
            end_tokens: &[],
            piece: &piece,
        };
        let mut rng = StdRng::seed_from_u64(0);
        assert_eq!(choose(&[9.0, 1.0], Sampling::Greedy, &mut rng, &c), Some(1));
    }

    #[test]
    fn sampling_is_seeded_and_respects_the_nucleus() {
        let pieces: Vec<Vec<u8>> = (0..4).map(|i| vec![b'a' + i]).collect();
        let piece = |t: u32| -> &[u8] { &pieces[t as usize] };
        let ctx = Context {
            output: b"",
            constraint: None,
            end_tokens: &[],
            piece: &piece,
        };
        let logits = [10.0, 9.5, -20.0, -20.0];
        let s = Sampling::Sample {
            temperature: 1.0,
            top_p: 0.9,
            seed: 1,
        };
        let draws = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..200)
                .map(|_| choose(&logits, s, &mut rng, &ctx).unwrap())
                .collect::<Vec<_>>()
        };
        let a = draws(3);
        assert_eq!(a, draws(3));
        assert!(a.iter().all(|&t| t < 2));
        assert!(a.contains(&0) && a.contains(&1));
    }
}
