//! `shakedown predict`: text lines in, one JSON object per line out. With a suite, the suite's task
//! answers (a label with its scores, by head, prototypes or label likelihood; or generated JSON
//! fields); without one, a classifier's label scores, an embedding model's embedding, or a decoder's
//! greedy continuation.

use std::io::{BufRead, Write};
use std::path::Path;

use serde_json::json;

use crate::engine::{GenerateRequest, LanguageModel, ModelKind, Sampling, Scheme};
use crate::error::{Error, Result};
use crate::run::model::OpenedModel;
use crate::suite::Suite;
use crate::task::{self, argmax, BATCH};

/// Tokens a decoder generates per line without a suite.
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
}

/// Reads lines from `input` and writes one JSON line per input line to `output`.
pub fn predict(opts: &PredictOptions, input: impl BufRead, mut output: impl Write) -> Result<()> {
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
    let task = opts
        .suite
        .map(|s| task::build(s, model.as_ref(), &origin))
        .transpose()?;
    let lines: Vec<String> = input
        .lines()
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(Path::new("<stdin>"), e))?;
    for chunk in lines.chunks(BATCH) {
        let texts: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let objects: Vec<serde_json::Value> = match &task {
            Some(task) => task
                .infer(&texts)?
                .iter()
                .zip(&texts)
                .map(|(o, text)| {
                    let mut v = task.to_json(o);
                    v["text"] = json!(text);
                    v
                })
                .collect(),
            None => bare(model.as_ref(), &texts)?,
        };
        for o in objects {
            writeln!(output, "{o}").map_err(|e| Error::io(Path::new("<stdout>"), e))?;
        }
    }
    output.flush().map_err(|e| Error::io(Path::new("<stdout>"), e))
}

/// Answers without a task: label scores, an embedding, or a continuation.
fn bare(model: &dyn LanguageModel, texts: &[&str]) -> Result<Vec<serde_json::Value>> {
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
                    max_tokens: MAX_TOKENS,
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
