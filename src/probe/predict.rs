//! `shakedown predict`: text lines in, one JSON object per line out. With a suite, the suite's task
//! answers (a label with its scores, by head, prototypes or label likelihood; or generated JSON
//! fields); without one, a classifier's label scores, an embedding model's embedding, or a decoder's
//! greedy continuation.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use serde_json::json;

use crate::engine::{GenerateRequest, LanguageModel, ModelKind, Sampling, Scheme};
use crate::error::{Error, Result};
use crate::run::model::OpenedModel;
use crate::suite::Suite;
use crate::task::{self, argmax, BATCH};

/// Tokens a decoder generates per line without a suite, unless `--max-tokens` says otherwise.
const MAX_TOKENS: usize = 64;

/// What `predict` runs.
pub struct PredictOptions<'a> {
    pub model: &'a Path,
    pub adapter: Option<&'a Path>,
    pub scheme: Scheme,
    /// Calibration texts for schemes that need them.
    pub calibration: &'a [String],
    /// Answer as this suite's task does.
    pub suite: Option<&'a Suite>,
    /// Tokens a decoder generates per line without a suite (a suite's task has its own); `MAX_TOKENS`
    /// when not given. An encoder refuses it: it generates nothing.
    pub max_tokens: Option<usize>,
}

/// Reads lines from `input` and writes one JSON line per non-blank input line to `output` (blank lines
/// are skipped, as `corrupt` skips them). Lines are answered in batches of up to `BATCH`, and a batch
/// goes to the model as soon as no further line is already read in, so a line typed or piped in alone
/// is answered before the next arrives. A line the model cannot take (longer than its context) is an
/// error naming the line; the answers before it have been written.
pub fn predict(opts: &PredictOptions, input: impl Read, mut output: impl Write) -> Result<()> {
    if opts.scheme.needs_calibration() && opts.calibration.is_empty() {
        return Err(Error::input(
            format!("scheme {}", opts.scheme),
            "needs calibration texts (a file of them, or a suite's calibration split); none were given",
        ));
    }
    let opened = OpenedModel::open(opts.model, opts.adapter)?;
    let calibration: Vec<&str> = opts.calibration.iter().map(String::as_str).collect();
    let (model, _) = opened.build(opts.scheme, &calibration)?;
    let origin = opts.model.display().to_string();
    if opts.suite.is_none() && opts.max_tokens.is_some() && model.kind() == ModelKind::Encoder {
        return Err(Error::input(
            "--max-tokens",
            format!("{origin} is an encoder and generates no text; --max-tokens applies to a decoder"),
        ));
    }
    let max_tokens = opts.max_tokens.unwrap_or(MAX_TOKENS);
    let task = opts
        .suite
        .map(|s| task::build(s, model.as_ref(), &origin))
        .transpose()?;
    let answer = |texts: &[&str]| -> Result<Vec<serde_json::Value>> {
        match &task {
            Some(task) => Ok(task
                .infer(texts)?
                .iter()
                .zip(texts)
                .map(|(o, text)| {
                    // The input first, then the task's answer in the task's order.
                    let mut line = serde_json::Map::from_iter([("text".to_string(), json!(text))]);
                    if let serde_json::Value::Object(answer) = task.to_json(o) {
                        line.extend(answer);
                    }
                    serde_json::Value::Object(line)
                })
                .collect()),
            None => bare(model.as_ref(), texts, max_tokens),
        }
    };
    // Larger than stdin's own buffer, so reads bypass it and `buffer()` sees every line already read in.
    let mut reader = BufReader::with_capacity(1 << 16, input);
    // (line number from 1, text) of the lines waiting for an answer.
    let mut batch: Vec<(usize, String)> = Vec::new();
    let mut n = 0;
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        let read = reader
            .read_until(b'\n', &mut bytes)
            .map_err(|e| Error::io(Path::new("<stdin>"), e))?;
        // A line that is not UTF-8 ends the input: the lines before it are answered first.
        let mut bad = None;
        if read > 0 {
            n += 1;
            match std::str::from_utf8(&bytes) {
                Ok(line) => {
                    // A byte-order mark opening the input is not text (as `corrupt` and suite files read it).
                    let line = if n == 1 {
                        line.trim_start_matches('\u{feff}')
                    } else {
                        line
                    };
                    let text = line.trim_end_matches(['\n', '\r']);
                    if !text.trim().is_empty() {
                        batch.push((n, text.to_string()));
                    }
                }
                Err(e) => bad = Some(Error::not_utf8_line("<stdin>", n, &e)),
            }
        }
        let drained = read == 0 || bad.is_some() || reader.buffer().is_empty();
        if !batch.is_empty() && (batch.len() == BATCH || drained) {
            let (answers, failed) = answer_naming_the_line(&answer, &batch);
            for o in answers {
                writeln!(output, "{o}").map_err(|e| Error::io(Path::new("<stdout>"), e))?;
            }
            output.flush().map_err(|e| Error::io(Path::new("<stdout>"), e))?;
            if let Some(e) = failed {
                return Err(e);
            }
            batch.clear();
        }
        if let Some(e) = bad {
            return Err(e);
        }
        if read == 0 {
            return Ok(());
        }
    }
}

/// `answer` on the batch's texts. When the batch fails on bad input, the lines are asked one by one:
/// the answers before the line that fails come back with the error, which names that line.
fn answer_naming_the_line(
    answer: &dyn Fn(&[&str]) -> Result<Vec<serde_json::Value>>,
    batch: &[(usize, String)],
) -> (Vec<serde_json::Value>, Option<Error>) {
    let texts: Vec<&str> = batch.iter().map(|(_, t)| t.as_str()).collect();
    let e = match answer(&texts) {
        Ok(v) => return (v, None),
        Err(e) if !e.is_user_error() => return (Vec::new(), Some(e)),
        Err(e) => e,
    };
    let mut answered = Vec::new();
    for (n, text) in batch {
        match answer(&[text.as_str()]) {
            Ok(v) => answered.extend(v),
            Err(e) => return (answered, Some(Error::input(format!("<stdin> line {n}"), e.to_string()))),
        }
    }
    // Every line alone went through: the batch's own error stands.
    (answered, Some(e))
}

/// Answers without a task: label scores, an embedding, or a continuation.
fn bare(model: &dyn LanguageModel, texts: &[&str], max_tokens: usize) -> Result<Vec<serde_json::Value>> {
    Ok(match model.kind() {
        ModelKind::Encoder if !model.labels().is_empty() => model
            .classify(texts)?
            .into_iter()
            .zip(texts)
            .map(|(mut logits, text)| {
                crate::engine::softmax(&mut logits);
                let (best, _) = argmax(&logits);
                let scores: serde_json::Map<String, serde_json::Value> = model
                    .labels()
                    .iter()
                    .zip(&logits)
                    .map(|(l, s)| (l.clone(), json!(s)))
                    .collect();
                json!({"text": text, "label": model.labels()[best], "scores": scores})
            })
            .collect(),
        ModelKind::Encoder => model
            .embed(texts)?
            .into_iter()
            .zip(texts)
            .map(|(e, text)| json!({"text": text, "embedding": e}))
            .collect(),
        ModelKind::Decoder => {
            let requests: Vec<GenerateRequest> = texts
                .iter()
                .map(|t| GenerateRequest {
                    prompt: t.to_string(),
                    max_tokens,
                    stop: vec![],
                    sampling: Sampling::Greedy,
                    constraint: None,
                })
                .collect();
            model
                .generate(&requests)?
                .into_iter()
                .zip(texts)
                .map(|(g, text)| json!({"text": text, "output": g.text, "tokens": g.generated_tokens}))
                .collect()
        }
    })
}
