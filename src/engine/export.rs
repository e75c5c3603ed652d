//! `shakedown export`: a model written as a GGUF file in a GGUF-expressible scheme, so that the
//! artifact a team gates is the artifact it ships. The blocks' Linear weights (attention q/k/v/o, MLP
//! gate/up/down) take the scheme's tensor type (a LoRA adapter merged first); every other tensor
//! (embeddings, output head, norms) and all metadata are copied as the source file stores them, plus
//! `shakedown.scheme` and `shakedown.source_sha256`. `native` without an adapter rewrites the source's
//! tensor bytes unchanged.

use std::borrow::Cow;
use std::path::Path;

use half::f16;

use super::build::WeightDelta;
use super::load::gguf::{GgufFile, TensorType, Value};
use super::load::gguf_write::{write, TensorOut};
use super::load::model_source::{sha256_file, ModelSource};
use super::load::source::{block_linear, Stored, StoredTensor};
use super::quant::blocks::{self, BlockFormat};
use super::quant::scheme::Scheme;
use crate::error::{Error, Result};

/// The stem (`blk.3.attn_q`) of a block Linear's weight tensor, or `None` for any other tensor.
fn linear_stem(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".weight")?;
    block_linear(stem).map(|_| stem)
}

/// The tensor type a scheme writes, or why it cannot be written to GGUF.
fn target_type(scheme: Scheme) -> Result<Option<TensorType>> {
    let expressible =
        "native, f32, f16 and the llama.cpp block formats (q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k)";
    Ok(match scheme {
        Scheme::Native => None,
        Scheme::F32 => Some(TensorType::F32),
        Scheme::F16 => Some(TensorType::F16),
        Scheme::Gguf(f) => Some(
            TensorType::ALL
                .into_iter()
                .find(|t| t.name().eq_ignore_ascii_case(f.name()))
                .ok_or_else(|| Error::Internal(format!("no GGUF type for {}", f.name())))?,
        ),
        other => {
            return Err(Error::input(
                format!("scheme {other}"),
                format!("has no GGUF tensor type (llama.cpp cannot run it); GGUF-expressible schemes: {expressible}"),
            ))
        }
    })
}

/// llama.cpp's `general.file_type` (`llama_ftype`) for a uniform scheme.
fn file_type(ty: TensorType) -> u32 {
    match ty {
        TensorType::F32 => 0,
        TensorType::F16 => 1,
        TensorType::Q4_0 => 2,
        TensorType::Q4_1 => 3,
        TensorType::Q8_0 => 7,
        TensorType::Q5_0 => 8,
        TensorType::Q5_1 => 9,
        TensorType::Q4K => 14,
        TensorType::Q5K => 16,
        TensorType::Q6K => 18,
        TensorType::BF16 => 32,
        _ => 0,
    }
}

/// The bytes of `values` (`rows x cols`) in tensor type `ty`.
fn encode(values: &[f32], cols: usize, ty: TensorType, name: &str) -> Result<Vec<u8>> {
    Ok(match ty {
        TensorType::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        TensorType::F16 => values.iter().flat_map(|v| f16::from_f32(*v).to_le_bytes()).collect(),
        other => {
            let f = block_format(other).ok_or_else(|| Error::Internal(format!("export: no quantizer for {other}")))?;
            if !cols.is_multiple_of(f.block_weights()) {
                return Err(Error::input(
                    name,
                    format!(
                        "rows of {cols} weights are not whole {} blocks of {}",
                        other,
                        f.block_weights()
                    ),
                ));
            }
            let mut out = Vec::with_capacity(values.len() / f.block_weights() * f.block_bytes());
            for row in values.chunks(cols.max(1)) {
                blocks::quantize(f, row, &mut out);
            }
            out
        }
    })
}

/// The type llama.cpp's quantizer would store rows of `cols` weights in when asked for `ty`:
/// `ty` itself where the rows are whole blocks, else its fallback (Q4_K -> Q5_0, ...), else F16.
fn fit_row_length(ty: TensorType, cols: usize) -> TensorType {
    let Some(f) = block_format(ty) else {
        return ty;
    };
    match f.for_row_length(cols) {
        Some(g) => block_type(g),
        None => TensorType::F16,
    }
}

fn block_format(ty: TensorType) -> Option<BlockFormat> {
    BlockFormat::ALL
        .into_iter()
        .find(|f| f.name().eq_ignore_ascii_case(ty.name()))
}

fn block_type(f: BlockFormat) -> TensorType {
    TensorType::ALL
        .into_iter()
        .find(|t| t.name().eq_ignore_ascii_case(f.name()))
        .unwrap_or(TensorType::F32)
}

fn stored_type(t: &StoredTensor<'_>) -> TensorType {
    match t.format {
        Stored::F32 => TensorType::F32,
        Stored::F16 => TensorType::F16,
        Stored::BF16 => TensorType::BF16,
        Stored::Block(f) => block_type(f),
    }
}

/// Writes `source` in `scheme` to `out` (a temp file renamed into place).
pub fn export_gguf(source: &ModelSource, scheme: Scheme, out: &Path) -> Result<()> {
    let target = target_type(scheme)?;
    let ModelSource::Decoder(d) = source else {
        return Err(Error::input(
            source.origin().display(),
            "export writes decoder models; this is an encoder",
        ));
    };
    let Some(opened) = d.tensors.gguf_file() else {
        return Err(Error::input(
            source.origin().display(),
            "export needs a GGUF source model (convert a Hugging Face folder with llama.cpp's convert_hf_to_gguf.py first)",
        ));
    };
    // The loaded model forgot its vocabulary arrays (GgufFile::forget_vocabulary): the metadata is
    // written back from the file itself.
    let file = &GgufFile::open(&opened.path)?;
    let adapter = d.adapter.as_ref().map(|a| a as &dyn WeightDelta);
    let mut tensors = Vec::with_capacity(file.header.tensors.len());
    for info in &file.header.tensors {
        let stem = linear_stem(&info.name);
        let delta = stem.and_then(|s| adapter.and_then(|a| a.delta(s)));
        let as_stored = TensorOut {
            name: info.name.clone(),
            dims: info.dims.clone(),
            ty: info.ty,
            data: Cow::Borrowed(file.data(info)),
        };
        let ty = match (stem, target) {
            (Some(_), Some(t)) => t,
            (Some(_), None) if delta.is_some() => info.ty,
            _ => {
                tensors.push(as_stored);
                continue;
            }
        };
        let t = d.tensors.tensor_any(&info.name)?;
        let ty = fit_row_length(ty, t.cols);
        if ty == stored_type(&t) && delta.is_none() {
            tensors.push(as_stored);
            continue;
        }
        let mut values = t.to_f32();
        if let Some((a, b, scale)) = delta {
            let (out_f, in_f) = (t.rows, t.cols);
            for o in 0..out_f {
                let row = &mut values[o * in_f..(o + 1) * in_f];
                for k in 0..a.rows {
                    let s = scale * b.data[o * a.rows + k];
                    row.iter_mut().zip(a.row(k)).for_each(|(x, av)| *x += s * av);
                }
            }
        }
        tensors.push(TensorOut {
            name: info.name.clone(),
            dims: info.dims.clone(),
            ty,
            data: Cow::Owned(encode(&values, t.cols, ty, &info.name)?),
        });
    }
    let mut metadata: Vec<(String, Value)> = file
        .header
        .key_order
        .iter()
        .filter(|k| !k.starts_with("shakedown."))
        .map(|k| (k.clone(), file.header.metadata[k].clone()))
        .collect();
    if let Some(t) = target {
        if let Some(v) = metadata.iter_mut().find(|(k, _)| k == "general.file_type") {
            v.1 = Value::U32(file_type(t));
        }
    }
    let unchanged = target.is_none() && adapter.is_none();
    if !unchanged {
        metadata.push(("shakedown.scheme".into(), Value::String(scheme.to_string())));
        metadata.push((
            "shakedown.source_sha256".into(),
            Value::String(sha256_file(&file.path)?),
        ));
    }
    write(out, &metadata, &tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_block_linears_take_the_scheme() {
        assert_eq!(linear_stem("blk.3.attn_q.weight"), Some("blk.3.attn_q"));
        assert_eq!(linear_stem("blk.3.ffn_down.weight"), Some("blk.3.ffn_down"));
        assert_eq!(linear_stem("blk.3.attn_norm.weight"), None);
        assert_eq!(linear_stem("token_embd.weight"), None);
        assert_eq!(linear_stem("blk.3.attn_q.bias"), None);
    }

    #[test]
    fn schemes_without_a_gguf_type_are_refused() {
        assert!(target_type(Scheme::Int8)
            .unwrap_err()
            .to_string()
            .contains("no GGUF tensor type"));
        assert_eq!(target_type("q4_0".parse().unwrap()).unwrap(), Some(TensorType::Q4_0));
        assert_eq!(target_type(Scheme::Native).unwrap(), None);
    }
}
