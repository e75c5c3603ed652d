//! `task = "rag"`: retrieval-augmented answers. A retrieve suite's queries that carry an `answer`
//! (one span, or a list of equivalent spans, of the chunk that answers them) are embedded and
//! searched as in `retrieve`, at the suite's embedder scheme and index precision; then the suite's
//! decoder answers each (possibly corrupted) query twice: from the top `k` chunks retrieved, and
//! from the query's gold chunks (its highest-graded ones). Comparing the two separates "retrieval
//! broke" from "the model broke" per scheme, family and severity.
//!
//! Answers are judged as open-domain QA judges generated answers: after SQuAD's normalisation
//! (lower case, punctuation and the articles a/an/the removed, spaces collapsed; Rajpurkar et al.
//! 2016, the official evaluation script), an answer is right when one gold span appears in it as a
//! run of whole tokens (so "10" is not found in "100"), and its token F1 is SQuAD's, against the
//! best span.

use std::collections::{BTreeMap, HashMap};

use crate::engine::{Finish, GenerateRequest, LanguageModel, Sampling};
use crate::error::{Error, Result};
use crate::suite::RagSection;
use crate::task::prompt::{ContextChunk, Prompt};
use crate::task::retrieve::{Chunk, Query};

/// Generation stops at the end of the answer's line.
const STOP: &str = "\n";

/// The answer spans of a query: its `answer` field (a string or a list of strings), or None when
/// it has none; `origin` names the query in errors.
pub fn answer_spans(query: &Query, origin: &str) -> Result<Option<Vec<String>>> {
    let bad = || {
        Error::input(
            origin,
            format!(
                "query \"{}\": field answer: expected a non-empty string or a list of them",
                query.id
            ),
        )
    };
    let spans = match query.extra.get("answer") {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(String::from).ok_or_else(bad))
            .collect::<Result<Vec<_>>>()?,
        Some(_) => return Err(bad()),
    };
    if spans.is_empty() || spans.iter().any(|s| tokens(s).is_empty()) {
        return Err(bad());
    }
    Ok(Some(spans))
}

/// SQuAD's answer normalisation, as tokens: lower case, punctuation removed, the articles a, an
/// and the dropped, split on whitespace.
pub fn tokens(text: &str) -> Vec<String> {
    let lowered: String = text
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    lowered
        .split_whitespace()
        .filter(|w| !matches!(*w, "a" | "an" | "the"))
        .map(String::from)
        .collect()
}

/// Whether one of `spans` appears in `output` as a run of whole normalised tokens.
pub fn contains_answer(output: &str, spans: &[String]) -> bool {
    let out = tokens(output);
    spans.iter().any(|s| {
        let want = tokens(s);
        !want.is_empty() && out.windows(want.len()).any(|w| w == want.as_slice())
    })
}

/// SQuAD's token F1 of `output` against its best span (0 when either side has no tokens).
pub fn token_f1(output: &str, spans: &[String]) -> f64 {
    let out = tokens(output);
    spans
        .iter()
        .map(|s| {
            let gold = tokens(s);
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for t in &gold {
                *counts.entry(t).or_default() += 1;
            }
            let mut common = 0usize;
            for t in &out {
                if let Some(c) = counts.get_mut(t.as_str()).filter(|c| **c > 0) {
                    *c -= 1;
                    common += 1;
                }
            }
            if common == 0 {
                return 0.0;
            }
            let precision = common as f64 / out.len() as f64;
            let recall = common as f64 / gold.len() as f64;
            2.0 * precision * recall / (precision + recall)
        })
        .fold(0.0, f64::max)
}

/// The gold chunks of a query: those with its highest grade, in id order, at most `k`.
pub fn gold_chunks(query: &Query, k: usize) -> Vec<String> {
    let best = query.relevant.values().copied().max().unwrap_or(0);
    query
        .relevant
        .iter()
        .filter(|(_, &g)| g == best && g > 0)
        .map(|(id, _)| id.clone())
        .take(k)
        .collect()
}

/// The chunks of `ids` as the template sees them (unknown ids are skipped).
pub fn context(ids: &[String], corpus: &BTreeMap<&str, &Chunk>) -> Vec<ContextChunk> {
    ids.iter()
        .filter_map(|id| corpus.get(id.as_str()))
        .map(|c| ContextChunk {
            id: c.id.clone(),
            title: c.extra.get("title").and_then(|t| t.as_str()).unwrap_or("").to_string(),
            text: c.text.clone(),
        })
        .collect()
}

/// One answer the decoder generated.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub text: String,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    /// The answer reached `max_tokens` before the end of its line: judged as far as it went, so a
    /// limit too small for the model's answers reads as a model that answers worse.
    pub cut_off: bool,
}

/// A decoder bound to the rag prompt; identical prompts are answered once.
pub struct Answerer<'m> {
    model: &'m dyn LanguageModel,
    prompt: Prompt,
    max_tokens: usize,
}

impl<'m> Answerer<'m> {
    /// `prompt` is the run's compiled `[rag]` prompt, bound here to `model`'s chat template.
    pub fn new(section: &RagSection, prompt: &Prompt, model: &'m dyn LanguageModel) -> Result<Self> {
        Ok(Answerer {
            model,
            prompt: prompt.clone().bind(model)?,
            max_tokens: section.max_tokens,
        })
    }

    /// "greedy, at most 24 tokens, through the model's chat template".
    pub fn describe(&self) -> String {
        format!("greedy, at most {} tokens, {}", self.max_tokens, self.prompt.describe())
    }

    /// The full prompt for a question read with `chunks`.
    pub fn render(&self, question: &str, chunks: &[ContextChunk]) -> Result<String> {
        self.prompt.render_with(question, chunks)
    }

    /// The first prompt whose request (the prompt and every token it may generate) would not fit the
    /// model's context: (its index, tokens needed, the context length); None when all fit.
    pub fn first_too_long(&self, prompts: &[String]) -> Result<Option<(usize, usize, usize)>> {
        let Some(max) = self.model.context_length() else {
            return Ok(None);
        };
        for (i, p) in prompts.iter().enumerate() {
            let need = self.model.tokenize(&[p.as_str()])?.iter().map(Vec::len).sum::<usize>() + self.max_tokens;
            if need > max {
                return Ok(Some((i, need, max)));
            }
        }
        Ok(None)
    }

    /// Answers every prompt, each distinct one once, in one engine call (which keeps its batch full
    /// across the list); `done` is told how many prompts are answered as they finish.
    pub fn answer(&self, prompts: &[String], done: &dyn Fn(usize)) -> Result<Vec<Answer>> {
        let mut order: Vec<&str> = Vec::new();
        let mut slot: HashMap<&str, usize> = HashMap::new();
        for p in prompts {
            if !slot.contains_key(p.as_str()) {
                slot.insert(p, order.len());
                order.push(p);
            }
        }
        let requests: Vec<GenerateRequest> = order
            .iter()
            .map(|p| GenerateRequest {
                prompt: p.to_string(),
                max_tokens: self.max_tokens,
                stop: vec![STOP.into()],
                sampling: Sampling::Greedy,
                constraint: None,
            })
            .collect();
        let got = super::answered_all(self.model.generate_reporting(&requests, done)?, order.len())?;
        let unique: Vec<Answer> = got
            .into_iter()
            .map(|g| Answer {
                text: g.text.trim().to_string(),
                prompt_tokens: g.prompt_tokens,
                generated_tokens: g.generated_tokens,
                cut_off: g.finish == Finish::Length,
            })
            .collect();
        Ok(prompts.iter().map(|p| unique[slot[p.as_str()]].clone()).collect())
    }
}

/// Per-example measures in the order of `kind::RAG`.
pub struct Judged {
    pub measures: Vec<f64>,
    pub correct: bool,
}

/// Judges the two answers of one query: from the `retrieved` chunks (of which the decoder read the
/// first `read`) and from the gold chunks; `ndcg_10` comes from the same search.
pub fn judge(
    spans: &[String],
    from_retrieved: &str,
    from_gold: &str,
    read: &[String],
    gold: &[String],
    ndcg_10: f64,
) -> Judged {
    let right = contains_answer(from_retrieved, spans);
    let right_gold = contains_answer(from_gold, spans);
    let hit = gold.iter().any(|g| read.contains(g));
    let flag = |b: bool| b as u8 as f64;
    Judged {
        measures: vec![
            flag(right),
            flag(right_gold),
            token_f1(from_retrieved, spans),
            token_f1(from_gold, spans),
            flag(hit),
            flag(right_gold && !right && !hit),
            flag(right_gold && !right && hit),
            ndcg_10,
        ],
        correct: right,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn normalisation_follows_squad() {
        assert_eq!(tokens("The  Cold-Store, anteroom!"), ["coldstore", "anteroom"]);
        assert_eq!(tokens("An answer: a 2.5 h"), ["answer", "25", "h"]);
    }

    #[test]
    fn an_answer_is_found_as_whole_tokens() {
        assert!(contains_answer("It is open 24 hours.", &spans(&["24 hours"])));
        assert!(contains_answer(
            "In the cold store anteroom",
            &spans(&["cold store anteroom"])
        ));
        assert!(
            !contains_answer("It holds 100 pallets", &spans(&["10"])),
            "10 is not in 100"
        );
        assert!(
            contains_answer("ten km/h", &spans(&["10", "ten"])),
            "any equivalent span"
        );
        assert!(!contains_answer("", &spans(&["10"])));
    }

    #[test]
    fn token_f1_is_squads() {
        // Gold "within 1 hour" (3 tokens), output "report within one hour" (4 tokens): 2 common,
        // precision 2/4, recall 2/3, F1 = 2 * 0.5 * 0.667 / 1.167 = 0.571.
        let f1 = token_f1("report within one hour", &spans(&["within 1 hour"]));
        assert!((f1 - 4.0 / 7.0).abs() < 1e-12, "{f1}");
        assert_eq!(token_f1("nothing", &spans(&["within 1 hour"])), 0.0);
        assert_eq!(
            token_f1("within 1 hour", &spans(&["x", "within 1 hour"])),
            1.0,
            "best span"
        );
        // Repeated tokens count once per gold occurrence.
        let f1 = token_f1("a b b", &spans(&["b"]));
        assert!((f1 - 2.0 * 0.5 * 1.0 / 1.5).abs() < 1e-12, "{f1}");
    }

    #[test]
    fn a_wrong_answer_the_gold_chunks_fix_is_put_down_to_retrieval_or_distraction() {
        let s = spans(&["H3"]);
        let read = spans(&["a", "b", "c"]);
        // The answering chunk d was not read: retrieval broke it.
        let j = judge(&s, "cage H1", "cage H3", &read, &spans(&["d"]), 0.5);
        assert_eq!(j.measures, [0.0, 1.0, 0.0, 1.0 / 1.5, 0.0, 1.0, 0.0, 0.5]);
        assert!(!j.correct);
        // It was read (b) among others that misled the model.
        let j = judge(&s, "cage H1", "cage H3", &read, &spans(&["b"]), 0.5);
        assert_eq!((j.measures[4], j.measures[5], j.measures[6]), (1.0, 0.0, 1.0));
        // Right from the retrieved chunks: neither.
        let j = judge(&s, "H3", "no idea", &read, &spans(&["b"]), 1.0);
        assert_eq!((j.measures[0], j.measures[5], j.measures[6]), (1.0, 0.0, 0.0));
        assert!(j.correct);
    }

    #[test]
    fn gold_chunks_are_the_highest_graded() {
        let q: Query = serde_json::from_str(
            r#"{"id":"q","text":"t","split":"test","relevant":{"b":2,"a":1,"c":2},"answer":["x","y"]}"#,
        )
        .unwrap();
        assert_eq!(gold_chunks(&q, 3), ["b", "c"]);
        assert_eq!(gold_chunks(&q, 1), ["b"]);
        assert_eq!(answer_spans(&q, "f").unwrap().unwrap(), ["x", "y"]);
        for bad in [
            r#""answer":[]"#,
            r#""answer":[""]"#,
            r#""answer":3"#,
            r#""answer":["?!"]"#,
        ] {
            let q: Query = serde_json::from_str(&format!(
                r#"{{"id":"q","text":"t","split":"test","relevant":{{"b":2}},{bad}}}"#
            ))
            .unwrap();
            let err = answer_spans(&q, "f.jsonl").unwrap_err().to_string();
            assert!(err.contains("f.jsonl") && err.contains("field answer"), "{err}");
        }
    }
}
