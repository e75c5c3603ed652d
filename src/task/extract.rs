//! Extraction: a decoder generates after the suite's prompt; the first JSON object in its output is
//! compared field by field with the example's `fields`. Per example: exact match (every field
//! right), the share of fields right, each field right, and whether the output was invalid (not a
//! JSON object, or missing one of the suite's fields).
//!
//! Values compare as strings; a number or boolean the model writes unquoted (`7`) compares as its
//! JSON text (`"7"`), and null equals only null.

use serde_json::{Map, Value};

use crate::engine::{Finish, GenerateRequest, LanguageModel, OutputConstraint, Sampling};
use crate::error::Result;
use crate::suite::{Decoding, Example, Suite};
use crate::task::constraint::JsonFields;
use crate::task::kind::TaskKind;
use crate::task::prompt::Prompt;
use crate::task::{answered_all, Outcome, Output, Task};

/// Generation stops at a blank line in free decoding (an answer is one JSON object).
const STOP: &str = "\n\n";

/// The `extract` task bound to a decoder.
pub struct ExtractTask<'m> {
    model: &'m dyn LanguageModel,
    prompt: Prompt,
    fields: Vec<String>,
    max_tokens: usize,
    constraint: Option<JsonFields>,
}

impl<'m> ExtractTask<'m> {
    pub fn new(suite: &Suite, model: &'m dyn LanguageModel) -> Result<Self> {
        let spec = suite
            .file
            .extract
            .clone()
            .unwrap_or_else(|| crate::suite::ExtractSection {
                fields: Vec::new(),
                decoding: Decoding::Free,
                max_tokens: 48,
                max_tokens_from_flag: false,
                values: Default::default(),
            });
        let fields = spec.fields.clone();
        let answer = |e: &Example| canonical(&fields, e.fields.as_ref().unwrap_or(&Map::new()));
        let prompt = Prompt::from_suite(suite, model, &answer)?;
        let constraint = (spec.decoding == Decoding::Json).then(|| {
            let with_values: Vec<(String, Option<Vec<String>>)> = spec
                .fields
                .iter()
                .map(|f| (f.clone(), spec.values.get(f).cloned()))
                .collect();
            JsonFields::new(&with_values)
        });
        let task = ExtractTask {
            model,
            prompt,
            fields,
            max_tokens: spec.max_tokens,
            constraint,
        };
        task.check_room(suite)?;
        Ok(task)
    }

    /// Refuses a `max_tokens` too small for the suite's own answers: every answer would be cut off
    /// and read as invalid JSON, a 0 % that says nothing about the model. The longest canonical
    /// answers (by characters) are measured as the model would generate them: the tokens the answer
    /// adds after the example's rendered prompt.
    fn check_room(&self, suite: &Suite) -> Result<()> {
        let mut answers: Vec<(&Example, String)> = suite
            .examples
            .iter()
            .filter_map(|e| e.fields.as_ref().map(|f| (e, canonical(&self.fields, f))))
            .collect();
        answers.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.id.cmp(&b.0.id)));
        for (example, answer) in answers.iter().take(8) {
            let prompt = self.prompt.render(&example.text)?;
            let whole = format!("{prompt}{answer}");
            let counts = self.model.tokenize(&[prompt.as_str(), whole.as_str()])?;
            let needed = counts[1].len().saturating_sub(counts[0].len());
            if needed > self.max_tokens {
                let from_flag = suite.file.extract.as_ref().is_some_and(|e| e.max_tokens_from_flag);
                let (origin, what) = match from_flag {
                    true => ("--max-tokens".to_string(), String::new()),
                    false => (suite.origin(), "field extract.max_tokens: ".to_string()),
                };
                return Err(crate::error::Error::input(
                    origin,
                    format!(
                        "{what}{} tokens cannot hold the expected answer of example {} ({needed} tokens: {answer}); every such answer would be cut off and read as invalid",
                        self.max_tokens, example.id
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A JSON object holding every field of the suite: what a valid answer has.
    fn holds_every_field(&self, parsed: Option<&Map<String, Value>>) -> bool {
        parsed.is_some_and(|g| self.fields.iter().all(|f| g.contains_key(f)))
    }

    /// `text` holds a valid answer (its first JSON object has every field).
    fn valid(&self, text: &str) -> bool {
        self.holds_every_field(first_object(text).as_ref())
    }
}

impl Task for ExtractTask<'_> {
    fn kind(&self) -> TaskKind {
        TaskKind::Extract
    }
    fn method(&self) -> String {
        let decoding = if self.constraint.is_some() {
            "decoding constrained to the suite's JSON fields and values"
        } else {
            "free decoding"
        };
        format!(
            "generate JSON, greedy, {decoding}, at most {} tokens ({})",
            self.max_tokens,
            self.prompt.describe()
        )
    }
    fn measures(&self) -> Vec<String> {
        TaskKind::Extract.metrics(&self.fields)
    }
    fn infer(&self, texts: &[&str]) -> Result<Vec<Output>> {
        self.infer_reporting(texts, &|_| {})
    }
    /// Every text in one engine call: generation refills its batch as answers finish, so a long
    /// list keeps every decode step full where batches of a few dozen would end on a thin tail.
    fn infer_reporting(&self, texts: &[&str], done: &dyn Fn(usize)) -> Result<Vec<Output>> {
        let constraint = self.constraint.as_ref().map(|c| c as &dyn OutputConstraint);
        let requests = texts
            .iter()
            .map(|t| {
                Ok(GenerateRequest {
                    prompt: self.prompt.render(t)?,
                    max_tokens: self.max_tokens,
                    stop: if constraint.is_some() {
                        vec![]
                    } else {
                        vec![STOP.into()]
                    },
                    sampling: Sampling::Greedy,
                    constraint,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let got = answered_all(self.model.generate_reporting(&requests, done)?, texts.len())?;
        Ok(got
            .into_iter()
            .map(|g| Output::Text {
                // Stopped by the limit with the answer unfinished: a model that wrote its whole JSON
                // and went on is judged on that JSON, and the limit changed nothing.
                cut_off: g.finish == Finish::Length && !self.valid(&g.text),
                text: g.text,
                tokens: g.generated_tokens,
                ttft_ms: g.time_to_first_token.as_secs_f64() * 1e3,
                elapsed_ms: g.elapsed.as_secs_f64() * 1e3,
            })
            .collect())
    }
    fn answers_alone(&self) -> bool {
        self.model.answers_alone()
    }
    fn judge(&self, example: &Example, output: &Output) -> Outcome {
        let empty = Map::new();
        let want = example.fields.as_ref().unwrap_or(&empty);
        let text = match output {
            Output::Text { text, .. } => text.as_str(),
            Output::Label { .. } => "",
        };
        judge_fields(&self.fields, want, text)
    }
    fn count_tokens(&self, texts: &[&str]) -> Result<u64> {
        self.prompt.count_tokens(self.model, texts)
    }
    fn context_needs(&self, texts: &[&str]) -> Result<Vec<usize>> {
        self.prompt.context_needs(self.model, texts, &[], self.max_tokens)
    }
    fn context_length(&self) -> Option<usize> {
        self.model.context_length()
    }
    fn to_json(&self, output: &Output) -> Value {
        let text = match output {
            Output::Text { text, .. } => text.as_str(),
            Output::Label { .. } => "",
        };
        let parsed = first_object(text);
        let valid = self.holds_every_field(parsed.as_ref());
        let fields = parsed.map(|got| in_suite_order(&self.fields, got));
        serde_json::json!({"output": text, "fields": fields, "valid": valid})
    }
}

/// The canonical answer: a JSON object with `fields` in order, `", "` and `": "` as separators
/// (Python's `json.dumps(fields, separators=(", ", ": "))`, with UTF-8 kept as is). Fields `values`
/// lacks are left out.
pub fn canonical(fields: &[String], values: &Map<String, Value>) -> String {
    let json = |v: &Value| serde_json::to_string(v).unwrap_or_default();
    let parts: Vec<String> = fields
        .iter()
        .filter_map(|f| {
            values
                .get(f)
                .map(|v| format!("{}: {}", json(&Value::String(f.clone())), json(v)))
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// The output's fields as people read them: the suite's fields in the suite's order, then any others
/// the output holds, in its order.
pub fn in_suite_order(fields: &[String], mut got: Map<String, Value>) -> Map<String, Value> {
    let mut ordered: Map<String, Value> = fields
        .iter()
        .filter_map(|f| got.shift_remove(f).map(|v| (f.clone(), v)))
        .collect();
    ordered.extend(got);
    ordered
}

/// The first JSON object of `text` (starting at its first `{`), if it parses.
pub fn first_object(text: &str) -> Option<Map<String, Value>> {
    let start = text.find('{')?;
    let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
    match stream.next() {
        Some(Ok(Value::Object(m))) => Some(m),
        _ => None,
    }
}

/// A value as the comparable text it stands for (None for null, arrays and objects).
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Judges generated `text` against the expected `want` for `fields`.
pub fn judge_fields(fields: &[String], want: &Map<String, Value>, text: &str) -> Outcome {
    let got = first_object(text);
    let right: Vec<bool> = fields
        .iter()
        .map(|f| {
            let expected = want.get(f).unwrap_or(&Value::Null);
            match got.as_ref().and_then(|g| g.get(f)) {
                None => false,
                Some(Value::Null) => expected.is_null(),
                Some(v @ (Value::Array(_) | Value::Object(_))) => v == expected,
                Some(v) => !expected.is_null() && as_text(v) == as_text(expected),
            }
        })
        .collect();
    let valid = got.as_ref().is_some_and(|g| fields.iter().all(|f| g.contains_key(f)));
    let exact = valid && right.iter().all(|r| *r);
    let share = if fields.is_empty() {
        0.0
    } else {
        right.iter().filter(|r| **r).count() as f64 / fields.len() as f64
    };
    let mut measures = vec![exact as u8 as f64, share];
    measures.extend(right.iter().map(|r| *r as u8 as f64));
    measures.push(!valid as u8 as f64);
    Outcome {
        expected: canonical(fields, want),
        prediction: match &got {
            Some(g) => canonical(fields, g),
            None => text.trim().to_string(),
        },
        correct: exact,
        score: None,
        raw_output: Some(text.to_string()),
        measures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::fakes::{self, FakeDecoder};

    fn fields() -> Vec<String> {
        ["action", "direction", "number"].map(String::from).to_vec()
    }

    fn want() -> Map<String, Value> {
        serde_json::from_str(r#"{"number": "7", "action": "move", "direction": null}"#).unwrap()
    }

    #[test]
    fn canonical_answer_keeps_the_suite_field_order() {
        assert_eq!(
            canonical(&fields(), &want()),
            r#"{"action": "move", "direction": null, "number": "7"}"#
        );
    }

    #[test]
    fn shown_fields_follow_the_suite_then_the_output() {
        let got: Map<String, Value> =
            serde_json::from_str(r#"{"extra": 1, "number": "7", "action": "move", "note": "x"}"#).unwrap();
        let keys: Vec<String> = in_suite_order(&fields(), got).keys().cloned().collect();
        assert_eq!(keys, ["action", "number", "extra", "note"]);
    }

    #[test]
    fn exact_match_per_field_accuracy_and_invalid_outputs() {
        let f = fields();
        let right = judge_fields(
            &f,
            &want(),
            r#"Sure: {"action": "move", "direction": null, "number": 7} done"#,
        );
        assert_eq!(right.measures, vec![1.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
        assert!(right.correct);
        assert_eq!(
            right.prediction,
            r#"{"action": "move", "direction": null, "number": 7}"#
        );
        assert_eq!(right.raw_output.as_deref().map(|t| t.ends_with("done")), Some(true));

        let one_wrong = judge_fields(&f, &want(), r#"{"action": "move", "direction": "left", "number": "7"}"#);
        assert_eq!(one_wrong.measures[..5], [0.0, 2.0 / 3.0, 1.0, 0.0, 1.0]);
        assert_eq!(one_wrong.measures[5], 0.0, "valid, just wrong");

        let missing = judge_fields(&f, &want(), r#"{"action": "move", "number": "7"}"#);
        assert_eq!(missing.measures, vec![0.0, 2.0 / 3.0, 1.0, 0.0, 1.0, 1.0]);

        for garbage in ["left", "{\"action\": ", ""] {
            let o = judge_fields(&f, &want(), garbage);
            assert_eq!(o.measures, vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0], "{garbage:?}");
            assert_eq!(o.prediction, garbage.trim());
        }
        // "null" written as a string is not null.
        let s = judge_fields(&f, &want(), r#"{"action": "move", "direction": "null", "number": "7"}"#);
        assert!(!s.correct);
    }

    #[test]
    fn generates_after_the_prompt_and_judges_against_the_fields() {
        let model = FakeDecoder::new();
        let suite = fakes::extract_suite("free");
        let task = crate::task::build(&suite, &model, "m").unwrap();
        assert_eq!(
            task.measures(),
            [
                "exact_match",
                "field_accuracy",
                "field_accuracy.action",
                "field_accuracy.direction",
                "invalid_rate"
            ]
        );
        let out = task.infer(&["move left"]).unwrap();
        let example = &suite.split("test")[0];
        let o = task.judge(example, &out[0]);
        assert!(o.correct, "{o:?}");
        let seen = model.generated.lock().unwrap().clone();
        assert_eq!(seen[0].0, "Command: move left\nJSON:");
        assert_eq!(seen[0].1, vec![STOP.to_string()]);
        assert!(!seen[0].2, "free decoding has no constraint");
    }

    /// An answer is cut off only when the limit left its JSON unfinished: one that is whole on its
    /// last allowed token is judged on that JSON, and the limit changed nothing.
    #[test]
    fn only_an_answer_the_limit_left_unfinished_is_cut_off() {
        let model = FakeDecoder::new();
        // The fake writes `{"action": "move", "direction": "left"}` three characters a token: 13 tokens.
        let with_limit = |max: usize| {
            let mut suite = fakes::extract_suite("free");
            if let Some(e) = suite.file.extract.as_mut() {
                e.max_tokens = max;
            }
            let task = crate::task::build(&suite, &model, "m").unwrap();
            task.infer(&["move left"]).unwrap().remove(0)
        };
        assert!(with_limit(8).cut_off(), "stopped inside the object");
        assert!(!with_limit(13).cut_off(), "whole on its last allowed token");
        assert!(!with_limit(40).cut_off(), "ended before the limit");
    }

    #[test]
    fn constrained_decoding_keeps_the_output_inside_the_grammar() {
        // The fake wants to answer with a direction the suite does not allow ("north"); constrained,
        // it must pick an allowed value token by token, and the output is always valid JSON.
        let model = FakeDecoder::new();
        let suite = fakes::extract_suite("json");
        let task = crate::task::build(&suite, &model, "m").unwrap();
        assert!(task.method().contains("constrained"));
        let out = task.infer(&["move north"]).unwrap();
        let example = &suite.split("test")[0];
        let o = task.judge(example, &out[0]);
        assert_eq!(*o.measures.last().unwrap(), 0.0, "valid: {o:?}");
        let free = crate::task::build(&fakes::extract_suite("free"), &model, "m").unwrap();
        let loose = free.judge(example, &free.infer(&["move north"]).unwrap()[0]);
        assert!(loose.raw_output.unwrap().contains("north"));
        let seen = model.generated.lock().unwrap().clone();
        assert!(seen[0].2 && seen[0].1.is_empty());
    }
}
