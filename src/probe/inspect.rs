//! `shakedown inspect`: where a scheme loses accuracy, layer by layer, against f32 on the same inputs.
//! Each Linear's isolated error (the quantized layer fed the f32 model's own input) and the cumulative
//! error of each encoder layer's output (the quantized model run end to end).

use serde::Serialize;

use crate::engine::models::bert::Bert;
use crate::engine::tensor::Matrix;
use crate::engine::{LanguageModel, Model, ModelFiles, Scheme, CALIBRATION_ROWS};
use crate::error::{Error, Result};

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
