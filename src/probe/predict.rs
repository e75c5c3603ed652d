//! `shakedown predict`: text lines in, one JSON object per line out (label scores or the embedding).

use std::io::{BufRead, Write};

use serde_json::json;

use crate::engine::{LanguageModel, Model, ModelFiles, Scheme};
use crate::error::{Error, Result};
use crate::task::BATCH;

/// Reads lines from `input` and writes one JSON line per input line to `output`.
pub fn predict(model_dir: &std::path::Path, scheme: Scheme, input: impl BufRead, mut output: impl Write) -> Result<()> {
    let files = ModelFiles::load(model_dir)?;
    let model = Model::build(&files, scheme)?;
    let lines: Vec<String> = input
        .lines()
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(std::path::Path::new("<stdin>"), e))?;
    for chunk in lines.chunks(BATCH) {
        let texts: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let objects: Vec<serde_json::Value> = if model.has_classifier() {
            model
                .logits(&texts)?
                .into_iter()
                .zip(&texts)
                .map(|(mut logits, text)| {
                    crate::engine::tensor::softmax(&mut logits);
                    let (best, _) = crate::task::argmax(&logits);
                    let scores: serde_json::Map<String, serde_json::Value> = model
                        .labels()
                        .iter()
                        .zip(&logits)
                        .map(|(l, s)| (l.clone(), json!(s)))
                        .collect();
                    json!({"text": text, "label": model.labels()[best], "scores": scores})
                })
                .collect()
        } else {
            model
                .embeddings(&texts)?
                .into_iter()
                .zip(&texts)
                .map(|(e, text)| json!({"text": text, "embedding": e}))
                .collect()
        };
        for o in objects {
            writeln!(output, "{o}").map_err(|e| Error::io(std::path::Path::new("<stdout>"), e))?;
        }
    }
    Ok(())
}
