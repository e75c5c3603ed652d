//! `shakedown inspect`: where a scheme loses accuracy against f32 on the same inputs. For an encoder,
//! layer by layer: each Linear's isolated error (the quantized layer fed the f32 model's own input)
//! and the cumulative error of each encoder layer's output (the quantized model run end to end). For a
//! decoder, token by token: the statistics `llama-perplexity --kl-divergence` prints
//! (`engine::fidelity`) over the suite's prompts followed by their answers.

use serde::Serialize;

use crate::engine::fidelity::{token_fidelity, TokenFidelity};
use crate::engine::models::bert::Bert;
use crate::engine::tensor::Matrix;
use crate::engine::{LanguageModel, Model, ModelFiles, ModelSource, Scheme, CALIBRATION_ROWS};
use crate::error::{Error, Result};
use crate::suite::Suite;
use crate::task::extract::canonical;
use crate::task::prompt::Prompt;

/// Relative error `||y - y_ref|| / ||y_ref||` of one tensor.
#[derive(Clone, Debug, Serialize)]
pub struct LayerError {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub relative_error: f64,
}

/// Both views of a scheme's error.
#[derive(Clone, Debug, Serialize)]
pub struct Inspection {
    pub scheme: String,
    pub linears: Vec<LayerError>,
    pub layers: Vec<LayerError>,
}

/// A decoder scheme's next-token fidelity to f32.
#[derive(Clone, Debug, Serialize)]
pub struct DecoderInspection {
    pub scheme: String,
    /// Token streams scored (each prompt with its answer).
    pub streams: usize,
    #[serde(flatten)]
    pub fidelity: TokenFidelity,
}

/// Compares the decoder `source` under `scheme` with its f32 build on `texts` (each a full token
/// stream: a prompt and its answer); AWQ calibrates on `calibration`.
pub fn inspect_decoder(
    source: &ModelSource,
    scheme: Scheme,
    texts: &[String],
    calibration: &[&str],
) -> Result<DecoderInspection> {
    let reference_model = Model::from_source(source, Scheme::F32, calibration)?;
    let quantized_model = Model::from_source(source, scheme, calibration)?;
    let not_decoder = || Error::Internal("inspect: the model did not build a decoder".into());
    let reference = reference_model.decoder().ok_or_else(not_decoder)?;
    let quantized = quantized_model.decoder().ok_or_else(not_decoder)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let streams = reference_model.tokenize(&refs)?;
    Ok(DecoderInspection {
        scheme: scheme.to_string(),
        streams: streams.iter().filter(|s| s.len() >= 2).count(),
        fidelity: token_fidelity(reference, quantized, &streams)?,
    })
}

/// The first `n` examples of `split` as token streams a decoder reads: the suite's prompt (plain
/// text, without a chat template) followed by the example's answer (its fields as canonical JSON, or
/// its label), so the statistics cover the answer tokens the task judges.
pub fn answered_prompts(suite: &Suite, split: &str, n: usize) -> Result<Vec<String>> {
    let section = suite.file.prompt.clone().unwrap_or_default();
    let prompt = Prompt::new(&section, Vec::new(), &suite.origin())?;
    let fields = suite
        .file
        .extract
        .as_ref()
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    suite
        .split(split)
        .into_iter()
        .take(n)
        .map(|e| {
            let answer = match (&e.fields, &e.label) {
                (Some(values), _) => canonical(&fields, values),
                (None, Some(label)) => label.clone(),
                (None, None) => String::new(),
            };
            Ok(format!("{}\n{answer}", prompt.render(&e.text)?))
        })
        .collect()
}

fn relative_error(got: &Matrix, want: &Matrix) -> f64 {
    let (num, den) = got
        .data
        .iter()
        .zip(&want.data)
        .fold((0.0f64, 0.0f64), |(n, d), (g, w)| {
            (n + ((g - w) as f64).powi(2), d + (*w as f64).powi(2))
        });
    if den > 0.0 {
        (num / den).sqrt()
    } else {
        num.sqrt()
    }
}

/// Compares `scheme` with f32 on `texts` (AWQ calibrates on `calibration`).
pub fn inspect(files: &ModelFiles, scheme: Scheme, texts: &[&str], calibration: &[&str]) -> Result<Inspection> {
    let reference_model = Model::build(files, Scheme::F32)?;
    let quantized_model = Model::build_calibrated(files, scheme, calibration)?;
    let not_bert = || Error::Internal("inspect: the model folder did not build a BERT encoder".into());
    let reference = reference_model.encoder().ok_or_else(not_bert)?;
    let quantized = quantized_model.encoder().ok_or_else(not_bert)?;
    let ids = reference_model.tokenize(texts)?;
    let inputs = reference.capture_linear_inputs(&ids, CALIBRATION_ROWS);
    let q_linears = quantized.linears();
    let linears = reference
        .linears()
        .into_iter()
        .zip(q_linears)
        .filter_map(|((name, f32_layer), (_, q_layer))| {
            let x = inputs.get(&name)?;
            let want = f32_layer.forward(x);
            let got = q_layer.forward(x);
            Some(LayerError {
                rows: x.rows,
                cols: want.cols,
                relative_error: relative_error(&got, &want),
                name,
            })
        })
        .collect();
    let outputs = |model: &Bert| {
        let mut kept: Vec<(String, Matrix)> = Vec::new();
        model.encode_observed(&ids, &mut |name, x| {
            if !name.contains(".attention") && !name.ends_with(".dense") {
                kept.push((name.to_string(), x.clone()));
            }
        });
        kept
    };
    let layers = outputs(reference)
        .into_iter()
        .zip(outputs(quantized))
        .map(|((name, want), (_, got))| LayerError {
            rows: want.rows,
            cols: want.cols,
            relative_error: relative_error(&got, &want),
            name,
        })
        .collect();
    Ok(Inspection {
        scheme: scheme.to_string(),
        linears,
        layers,
    })
}
