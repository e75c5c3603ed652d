//! Small fakes of `LanguageModel` and in-memory suites, so tasks, eval, metrics, gate and report are
//! tested without weights. Each fake behaves in a simple, stated way that tests can reason about.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use crate::engine::{
    Acceptance, ChatMessage, ContinuationScore, Finish, GenerateRequest, Generation, LanguageModel,
    LoglikelihoodRequest, ModelKind,
};
use crate::error::{Error, Result};
use crate::suite::{Example, Suite, SuiteFile};

fn words(t: &str) -> Vec<String> {
    t.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn word_ids(texts: &[&str]) -> Vec<Vec<u32>> {
    texts.iter().map(|t| (0..words(t).len() as u32).collect()).collect()
}

/// An encoder: with a head, it puts logit 3 on every label its text contains; as an embedder, it
/// embeds the counts of a few command words (L2-normalised).
pub struct FakeEncoder {
    labels: Vec<String>,
}

const VOCAB: [&str; 6] = ["left", "right", "stop", "go", "please", "now"];

impl FakeEncoder {
    pub fn with_head(labels: &[&str]) -> Self {
        FakeEncoder {
            labels: labels.iter().map(|l| l.to_string()).collect(),
        }
    }
    pub fn embedder() -> Self {
        FakeEncoder { labels: Vec::new() }
    }
}

impl LanguageModel for FakeEncoder {
    fn kind(&self) -> ModelKind {
        ModelKind::Encoder
    }
    fn labels(&self) -> &[String] {
        &self.labels
    }
    fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        Ok(word_ids(texts))
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|t| {
                let w = words(t);
                let mut v: Vec<f32> = VOCAB
                    .iter()
                    .map(|k| w.iter().filter(|x| x == k).count() as f32 + 0.01)
                    .collect();
                crate::engine::l2_normalize(&mut v);
                v
            })
            .collect())
    }
    fn classify(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if self.labels.is_empty() {
            return Err(Error::Internal("no head".into()));
        }
        Ok(texts
            .iter()
            .map(|t| {
                let w = words(t);
                self.labels
                    .iter()
                    .map(|l| if w.contains(l) { 3.0 } else { 0.0 })
                    .collect()
            })
            .collect())
    }
    fn loglikelihood(&self, _: &[LoglikelihoodRequest]) -> Result<Vec<Vec<ContinuationScore>>> {
        Err(Error::input("model", "an encoder cannot score continuations"))
    }
    fn generate_reporting(&self, _: &[GenerateRequest<'_>], _: &dyn Fn(usize)) -> Result<Vec<Generation>> {
        Err(Error::input("model", "an encoder cannot generate text"))
    }
    fn chat_prompt(&self, _: &[ChatMessage]) -> Result<Option<String>> {
        Ok(None)
    }
}

/// A decoder.
/// - `loglikelihood`: 5 per word of the continuation found in the context, minus 0.1 per byte.
/// - `generate`: wants to answer `{"action": "<first word>", "direction": "<second word>"}` of the
///   prompt's last `Command:` line, three characters a token. Under a constraint it keeps a wanted
///   token the constraint allows and otherwise takes the first allowed of `"`, `}`, `,`, space, `:`,
///   `a`-`z`, `0`-`9`; it stops when the constraint says the output is complete.
/// - `chat_prompt` (with `with_chat`): `<|role|>content<|end|>` per message, then `<|assistant|>`.
pub struct FakeDecoder {
    chat: bool,
    /// What `answers_alone` says.
    pub alone: bool,
    /// Every scored request, in order.
    pub scored: Mutex<Vec<LoglikelihoodRequest>>,
    /// Every generation request: (prompt, stop strings, constrained).
    pub generated: Mutex<Vec<(String, Vec<String>, bool)>>,
    /// What `context_length` says (a token is a word here).
    pub context: Option<usize>,
}

impl FakeDecoder {
    pub fn new() -> Self {
        FakeDecoder {
            chat: false,
            alone: false,
            scored: Mutex::new(Vec::new()),
            generated: Mutex::new(Vec::new()),
            context: None,
        }
    }
    pub fn with_chat(mut self) -> Self {
        self.chat = true;
        self
    }

    fn wanted(prompt: &str) -> String {
        let line = prompt
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("Command: "))
            .unwrap_or(prompt);
        let w = words(line);
        let at = |i: usize| w.get(i).cloned().unwrap_or_default();
        format!("{{\"action\": \"{}\", \"direction\": \"{}\"}}", at(0), at(1))
    }

    fn one(r: &GenerateRequest<'_>) -> Generation {
        let wanted = Self::wanted(&r.prompt);
        let fallback: Vec<String> = "\"},: "
            .chars()
            .chain('a'..='z')
            .chain('0'..='9')
            .map(String::from)
            .collect();
        let (mut out, mut pos, mut tokens) = (String::new(), 0usize, 0usize);
        let mut finish = Finish::EndOfSequence;
        while tokens < r.max_tokens {
            let piece: String = wanted[pos..].chars().take(3).collect();
            let next = match r.constraint {
                None if piece.is_empty() => break,
                None => Some((piece.clone(), true)),
                Some(c) => {
                    let ok = |p: &str| c.accepts(format!("{out}{p}").as_bytes()) != Acceptance::Rejected;
                    if !piece.is_empty() && ok(&piece) {
                        Some((piece.clone(), true))
                    } else {
                        fallback.iter().find(|p| ok(p)).map(|p| (p.clone(), false))
                    }
                }
            };
            let Some((piece, on_track)) = next else {
                finish = Finish::ConstraintDeadEnd;
                break;
            };
            if on_track {
                pos += piece.len();
            }
            out.push_str(&piece);
            tokens += 1;
            if let Some(s) = r.stop.iter().find(|s| out.contains(s.as_str())) {
                out.truncate(out.find(s.as_str()).unwrap_or(out.len()));
                finish = Finish::Stop(s.clone());
                break;
            }
            if r.constraint
                .is_some_and(|c| c.accepts(out.as_bytes()) == Acceptance::Complete)
            {
                finish = Finish::Constraint;
                break;
            }
        }
        if tokens == r.max_tokens {
            finish = Finish::Length;
        }
        Generation {
            text: out,
            prompt_tokens: words(&r.prompt).len(),
            generated_tokens: tokens,
            finish,
            time_to_first_token: Duration::ZERO,
            elapsed: Duration::ZERO,
        }
    }
}

impl LanguageModel for FakeDecoder {
    fn kind(&self) -> ModelKind {
        ModelKind::Decoder
    }
    fn labels(&self) -> &[String] {
        &[]
    }
    fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        Ok(word_ids(texts))
    }
    fn context_length(&self) -> Option<usize> {
        self.context
    }
    fn embed(&self, _: &[&str]) -> Result<Vec<Vec<f32>>> {
        Err(Error::input("model", "a decoder does not embed here"))
    }
    fn classify(&self, _: &[&str]) -> Result<Vec<Vec<f32>>> {
        Err(Error::input("model", "a decoder has no classification head"))
    }
    fn loglikelihood(&self, requests: &[LoglikelihoodRequest]) -> Result<Vec<Vec<ContinuationScore>>> {
        self.scored.lock().unwrap().extend(requests.iter().cloned());
        Ok(requests
            .iter()
            .map(|r| {
                let context = words(&r.context);
                r.continuations
                    .iter()
                    .map(|c| {
                        let hits = words(c).iter().filter(|w| context.contains(w)).count();
                        ContinuationScore {
                            logprob: 5.0 * hits as f64 - 0.1 * c.len() as f64,
                            tokens: words(c).len(),
                            bytes: c.len(),
                            is_greedy: false,
                        }
                    })
                    .collect()
            })
            .collect())
    }
    fn generate_reporting(&self, requests: &[GenerateRequest<'_>], done: &dyn Fn(usize)) -> Result<Vec<Generation>> {
        self.generated.lock().unwrap().extend(
            requests
                .iter()
                .map(|r| (r.prompt.clone(), r.stop.clone(), r.constraint.is_some())),
        );
        done(requests.len());
        Ok(requests.iter().map(Self::one).collect())
    }
    fn answers_alone(&self) -> bool {
        self.alone
    }
    fn chat_prompt(&self, messages: &[ChatMessage]) -> Result<Option<String>> {
        if !self.chat {
            return Ok(None);
        }
        let mut s: String = messages
            .iter()
            .map(|m| format!("<|{}|>{}<|end|>", m.role, m.content))
            .collect();
        s.push_str("<|assistant|>");
        Ok(Some(s))
    }
}

/// An example with an id, text and either a label or fields (as JSON text).
pub fn example(id: &str, text: &str, label: Option<&str>, fields: Option<&str>) -> Example {
    Example {
        id: id.into(),
        text: text.into(),
        split: "test".into(),
        label: label.map(String::from),
        fields: fields.map(|f| serde_json::from_str(f).unwrap()),
        extra: Default::default(),
    }
}

fn suite_from(toml: &str, data: &str) -> Suite {
    let file = SuiteFile::parse(toml, "fake/suite.toml").unwrap();
    Suite::from_parts(
        PathBuf::from("fake"),
        PathBuf::from("fake/suite.toml"),
        toml,
        file,
        &[("fake/d.jsonl".into(), data.into())],
    )
    .unwrap()
}

/// A classify suite over `labels` with train, fewshot and test examples; `extra` is appended to
/// suite.toml.
pub fn classify_suite(labels: &[&str], extra: &str) -> Suite {
    let quoted: Vec<String> = labels.iter().map(|l| format!("\"{l}\"")).collect();
    let toml = format!(
        "name = \"fake\"\nlabels = [{}]\ndata = [\"d.jsonl\"]\n{extra}",
        quoted.join(", ")
    );
    let mut data = String::new();
    for (i, l) in labels.iter().enumerate() {
        for (j, t) in [format!("go {l}"), format!("{l} please"), format!("{l} now")]
            .iter()
            .enumerate()
        {
            data.push_str(&format!(
                "{{\"id\": \"tr{i}{j}\", \"text\": \"{t}\", \"label\": \"{l}\", \"split\": \"train\"}}\n"
            ));
        }
        data.push_str(&format!(
            "{{\"id\": \"fs{i}\", \"text\": \"{l} it\", \"label\": \"{l}\", \"split\": \"fewshot\"}}\n\
             {{\"id\": \"te{i}\", \"text\": \"go {l}\", \"label\": \"{l}\", \"split\": \"test\"}}\n"
        ));
    }
    suite_from(&toml, &data)
}

/// An extract suite with fields action and direction (direction limited to left and right) and the
/// prompt `Command: {{ text }}\nJSON:`; `decoding` is `free` or `json`.
pub fn extract_suite(decoding: &str) -> Suite {
    let toml = format!(
        "name = \"fake-parse\"\ntask = \"extract\"\ndata = [\"d.jsonl\"]\n\
         [prompt]\ntemplate = \"Command: {{{{ text }}}}\\nJSON:\"\nchat = false\n\
         [extract]\nfields = [\"action\", \"direction\"]\ndecoding = \"{decoding}\"\nmax_tokens = 40\n\
         [extract.values]\ndirection = [\"left\", \"right\"]\n"
    );
    let data = "{\"id\": \"1\", \"text\": \"move left\", \"split\": \"test\", \"fields\": {\"action\": \"move\", \"direction\": \"left\"}}\n\
                {\"id\": \"2\", \"text\": \"move right\", \"split\": \"test\", \"fields\": {\"action\": \"move\", \"direction\": \"right\"}}\n\
                {\"id\": \"3\", \"text\": \"stop\", \"split\": \"test\", \"fields\": {\"action\": \"stop\", \"direction\": null}}\n";
    suite_from(&toml, data)
}
