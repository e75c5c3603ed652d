//! `shakedown export`: a model written as a GGUF file in a GGUF-expressible scheme, so that the
//! artifact a team gates is the artifact it ships: every tensor is what the engine's builder
//! (`build.rs`) runs for the scheme. The blocks' Linear weights (attention q/k/v/o, MLP gate/up/down)
//! take the scheme's tensor type, or llama.cpp's fallback where their rows are not whole blocks of it
//! (a LoRA adapter merged first); the output head stays as stored but for `f32`, which widens it; the
//! other tensors (embeddings, norms) and all metadata are copied as the source file stores them, plus
//! `shakedown.scheme` and `shakedown.source_sha256`. `native` without an adapter rewrites the source's
//! tensor bytes unchanged; `native` with one writes the adapter alone as llama.cpp's GGUF LoRA file
//! (`lora_gguf.rs`), to ship beside the unchanged base file.

use std::borrow::Cow;
use std::path::Path;

use half::f16;

use super::build::{head_as_stored, stored_scheme, WeightDelta};
use super::load::gguf::{GgufFile, TensorType, Value};
use super::load::gguf_write::{write, TensorOut};
use super::load::model_source::{sha256_file, ModelSource};
use super::load::source::{block_linear, Stored, StoredTensor};
use super::quant::blocks::{self, BlockFormat};
use super::quant::scheme::Scheme;
use super::tensor::Matrix;
use crate::error::{Error, Result};

/// The stem (`blk.3.attn_q`) of a block Linear's weight tensor, or `None` for any other tensor. Phi-3's
/// fused `attn_qkv` is its three Linears' rows stacked: its rows take the scheme as theirs do.
fn linear_stem(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".weight")?;
    let fused_qkv = stem.starts_with("blk.") && stem.ends_with(".attn_qkv");
    (block_linear(stem).is_some() || fused_qkv).then_some(stem)
}

/// The tensor type a scheme writes, or why it cannot be written to GGUF.
fn target_type(scheme: Scheme) -> Result<Option<TensorType>> {
    if scheme == Scheme::Native {
        return Ok(None);
    }
    let expressible =
        "native, f32, f16 and the llama.cpp block formats (q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k)";
    scheme_type(scheme)?.map(Some).ok_or_else(|| {
        Error::input(
            format!("scheme {scheme}"),
            format!("has no GGUF tensor type (llama.cpp cannot run it); GGUF-expressible schemes: {expressible}"),
        )
    })
}

/// The GGUF tensor type of a uniform scheme, `None` for `native` and the schemes GGUF has no type for.
fn scheme_type(scheme: Scheme) -> Result<Option<TensorType>> {
    Ok(match scheme {
        Scheme::F32 => Some(TensorType::F32),
        Scheme::F16 => Some(TensorType::F16),
        Scheme::Gguf(f) => Some(
            TensorType::ALL
                .into_iter()
                .find(|t| t.name().eq_ignore_ascii_case(f.name()))
                .ok_or_else(|| Error::Internal(format!("no GGUF type for {}", f.name())))?,
        ),
        _ => None,
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

/// What `export_gguf` wrote: tensors per type, for the message that names a fallback.
#[derive(Debug, Default)]
pub struct Written {
    /// (GGUF type name, tensors) in the order the types first appear.
    pub types: Vec<(&'static str, usize)>,
    /// Block Linears stored in another type than the scheme's because their rows are not whole blocks of it.
    pub fell_back: usize,
    /// True when only a LoRA adapter was written (`native` with an adapter): the base file is unchanged.
    pub adapter_only: bool,
}

impl Written {
    fn count(&mut self, ty: TensorType) {
        match self.types.iter_mut().find(|(t, _)| *t == ty.name()) {
            Some((_, n)) => *n += 1,
            None => self.types.push((ty.name(), 1)),
        }
    }
}

/// Writes `source` in `scheme` to `out` (a temp file renamed into place). Every tensor is what
/// `build::WeightBuilder` makes of it for the scheme, so the file holds the model `run` gated: block
/// Linears in `build::stored_scheme` (llama.cpp's fallback for rows that are not whole blocks), the
/// head as `build::head_as_stored` says (widened to F32 for `f32`), everything else as stored.
pub fn export_gguf(source: &ModelSource, scheme: Scheme, out: &Path) -> Result<Written> {
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
    if let (Scheme::Native, Some(adapter)) = (scheme, &d.adapter) {
        // `run` gates native + adapter as llama.cpp's --lora runs it: the stored weights untouched,
        // the adapter added in f32 at run time. One file cannot hold that, and merged into the stored
        // 4-bit types it would be another model (the warehouse-parse adapter merged into Q4_1 answers
        // none of the commands): the base file ships as it is, and `out` is the adapter.
        // A model that stores fused projections (Phi-3) takes its adapter fused, as llama.cpp applies it.
        let fused;
        let adapter = if d.tensors.has_fused() {
            fused = adapter.fused(|stem| d.tensors.parts_of(&format!("{stem}.weight")).len() > 1)?;
            &fused
        } else {
            adapter
        };
        let tensors = super::load::lora_gguf::write(adapter, d.config.arch.name(), out)?;
        return Ok(Written {
            types: vec![("F32", tensors)],
            fell_back: 0,
            adapter_only: true,
        });
    }
    // The loaded model forgot its vocabulary arrays (GgufFile::forget_vocabulary): the metadata is
    // written back from the file itself.
    let file = &GgufFile::open(&opened.path)?;
    let adapter = d.adapter.as_ref().map(|a| a as &dyn WeightDelta);
    let head = if file.header.tensors.iter().any(|t| t.name == "output.weight") {
        "output.weight"
    } else {
        "token_embd.weight"
    };
    let mut written = Written::default();
    let mut tensors = Vec::with_capacity(file.header.tensors.len());
    for info in &file.header.tensors {
        let stem = linear_stem(&info.name);
        // The adapter's deltas on this tensor's rows: one for a plain Linear, one per part of a fused one.
        let deltas: Vec<(usize, (&Matrix, &Matrix, f32))> = match (stem, adapter) {
            (Some(_), Some(a)) => d
                .tensors
                .parts_of(&info.name)
                .into_iter()
                .filter_map(|(part, first)| a.delta(part.trim_end_matches(".weight")).map(|x| (first, x)))
                .collect(),
            _ => Vec::new(),
        };
        let as_stored = TensorOut {
            name: info.name.clone(),
            dims: info.dims.clone(),
            ty: info.ty,
            data: Cow::Borrowed(file.data(info)),
        };
        let ty = match (stem, target) {
            (Some(_), Some(want)) => {
                // dims[0] is a GGUF tensor's row length.
                let cols = info.dims.first().copied().unwrap_or(0) as usize;
                let ty = scheme_type(stored_scheme(scheme, cols))?.unwrap_or(want);
                written.fell_back += usize::from(ty != want);
                ty
            }
            (None, _) if info.name == head && !head_as_stored(scheme) => TensorType::F32,
            _ => {
                written.count(info.ty);
                tensors.push(as_stored);
                continue;
            }
        };
        written.count(ty);
        // As the file stores it: a fused tensor whole, not the part the model reads under its name.
        let t = d.tensors.stored(&info.name)?;
        if ty == stored_type(&t) && deltas.is_empty() {
            tensors.push(as_stored);
            continue;
        }
        let mut values = t.to_f32();
        for (first, (a, b, scale)) in deltas {
            let in_f = t.cols;
            if a.cols != in_f || a.rows != b.cols || first + b.rows > t.rows {
                return Err(Error::input(
                    source.origin().display(),
                    format!(
                        "adapter on {}: its matrices do not fit the tensor's [{}, {in_f}]",
                        info.name, t.rows
                    ),
                ));
            }
            for o in 0..b.rows {
                let row = &mut values[(first + o) * in_f..(first + o + 1) * in_f];
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
    write(out, &metadata, &tensors)?;
    Ok(written)
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
        assert_eq!(linear_stem("blk.3.attn_qkv.weight"), Some("blk.3.attn_qkv"));
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
