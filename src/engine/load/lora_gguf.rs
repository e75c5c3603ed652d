//! LoRA adapters as llama.cpp loads them with `--lora FILE.gguf`: a GGUF file with `general.type =
//! "adapter"`, `adapter.type = "lora"`, `adapter.lora.alpha` (f32) and, per adapted weight
//! `blk.N.attn_q.weight`, the tensors `blk.N.attn_q.weight.lora_a` (ggml dims `[in, r]`, i.e. `A`
//! `[r, in]` row-major) and `.lora_b` (`[r, out]`, `B` `[out, r]`); llama.cpp scales `B A` by
//! `alpha / r`, `r` read from the tensors. The names and layout are those of llama.cpp's
//! `convert_lora_to_gguf.py` and `llama-adapter.cpp` (read, not copied).
//!
//! `native` with an adapter is the stored base file plus this file, as llama.cpp runs them: what
//! `export --scheme native --adapter` writes, and what `--adapter` reads back.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use super::gguf::{GgufFile, TensorType, Value};
use super::gguf_write::{write as write_gguf, TensorOut};
use super::lora::LoraAdapter;
use super::source::{lora_target, Stored, StoredTensor};
use crate::engine::tensor::Matrix;
use crate::error::{Error, Result};

/// Writes `adapter` (already in the base file's tensor order and names) for a base of `arch`
/// (`general.architecture`). The scale of every delta must be one `alpha / r`: llama.cpp has one alpha
/// per file.
pub fn write(adapter: &LoraAdapter, arch: &str, out: &Path) -> Result<usize> {
    let mut names: Vec<&String> = adapter.deltas.keys().collect();
    names.sort();
    let mut alpha = None;
    let mut tensors = Vec::with_capacity(2 * names.len());
    for name in names {
        let (a, b, scale) = &adapter.deltas[name];
        // llama.cpp applies `alpha / r` with r from the tensors: rsLoRA's alpha / sqrt(r) is written
        // as the alpha that gives the same scale.
        let this = scale * a.rows as f32;
        match alpha {
            None => alpha = Some(this),
            Some(x) if (x - this).abs() <= 1e-6 * x.abs().max(1.0) => {}
            Some(x) => {
                return Err(Error::input(
                    adapter.dir.display(),
                    format!(
                    "{name}: its scale times its rank is {this}, another module's {x}; a GGUF adapter has one alpha"
                ),
                ))
            }
        }
        let f32_bytes = |m: &Matrix| -> Vec<u8> { m.data.iter().flat_map(|v| v.to_le_bytes()).collect() };
        tensors.push(TensorOut {
            name: format!("{name}.weight.lora_a"),
            dims: vec![a.cols as u64, a.rows as u64],
            ty: TensorType::F32,
            data: Cow::Owned(f32_bytes(a)),
        });
        tensors.push(TensorOut {
            name: format!("{name}.weight.lora_b"),
            dims: vec![b.cols as u64, b.rows as u64],
            ty: TensorType::F32,
            data: Cow::Owned(f32_bytes(b)),
        });
    }
    let metadata = vec![
        ("general.type".to_string(), Value::String("adapter".into())),
        ("general.architecture".to_string(), Value::String(arch.into())),
        ("adapter.type".to_string(), Value::String("lora".into())),
        ("adapter.lora.alpha".to_string(), Value::F32(alpha.unwrap_or(0.0))),
        (
            "shakedown.adapter_sha256".to_string(),
            Value::String(adapter.sha256.clone()),
        ),
    ];
    write_gguf(out, &metadata, &tensors)?;
    Ok(tensors.len())
}

/// Reads a llama.cpp LoRA adapter file for a base of `arch` with `layers` blocks. Every tensor must be
/// the `lora_a` or `lora_b` of a block Linear, in pairs of matching rank; the file's architecture must
/// be the base's.
pub fn read(path: &Path, arch: &str, layers: usize) -> Result<LoraAdapter> {
    let file = GgufFile::open(path)?;
    let bad = |m: String| Error::input(path.display(), m);
    let meta = |k: &str| file.header.metadata.get(k);
    if meta("general.type").and_then(Value::as_str) != Some("adapter")
        || meta("adapter.type").and_then(Value::as_str) != Some("lora")
    {
        return Err(bad(
            "expected a LoRA adapter (general.type = \"adapter\", adapter.type = \"lora\"), or a PEFT adapter folder"
                .into(),
        ));
    }
    let file_arch = meta("general.architecture").and_then(Value::as_str).unwrap_or("");
    if file_arch != arch {
        return Err(bad(format!("an adapter for {file_arch:?}, the model is {arch:?}")));
    }
    let alpha = meta("adapter.lora.alpha")
        .and_then(Value::as_f64)
        .filter(|a| a.is_finite())
        .ok_or_else(|| bad("adapter.lora.alpha: expected a number".into()))?;
    let mut parts: HashMap<String, (Option<Matrix>, Option<Matrix>)> = HashMap::new();
    for info in &file.header.tensors {
        let (stem, is_a) = match (
            info.name.strip_suffix(".weight.lora_a"),
            info.name.strip_suffix(".weight.lora_b"),
        ) {
            (Some(s), _) => (s, true),
            (_, Some(s)) => (s, false),
            _ => {
                return Err(bad(format!(
                    "tensor {}: expected a .lora_a or .lora_b of a weight",
                    info.name
                )))
            }
        };
        let in_a_block = lora_target(stem, layers);
        if !in_a_block {
            return Err(bad(format!(
                "tensor {}: not a Linear LoRA is applied to here (attention and MLP projections of the model's {layers} blocks)",
                info.name
            )));
        }
        let [cols, rows] = info.dims[..] else {
            return Err(bad(format!("tensor {}: expected two dimensions", info.name)));
        };
        let format = match info.ty {
            TensorType::F32 => Stored::F32,
            TensorType::F16 => Stored::F16,
            other => {
                return Err(bad(format!(
                    "tensor {}: type {}, expected F32 or F16",
                    info.name,
                    other.name()
                )))
            }
        };
        let (rows, cols) = (rows as usize, cols as usize);
        let stored = StoredTensor {
            name: info.name.clone(),
            rows,
            cols,
            format,
            bytes: Cow::Borrowed(file.data(info)),
        };
        let m = Matrix::from_vec(rows, cols, stored.to_f32());
        let slot = parts.entry(stem.to_string()).or_default();
        if is_a {
            slot.0 = Some(m);
        } else {
            slot.1 = Some(m);
        }
    }
    let mut deltas = HashMap::new();
    let mut rank = 0;
    for (stem, pair) in parts {
        let (Some(a), Some(b)) = pair else {
            return Err(bad(format!("{stem}.weight: lora_a and lora_b must both be present")));
        };
        if a.rows != b.cols || a.rows == 0 {
            return Err(bad(format!(
                "{stem}.weight: lora_a has rank {}, lora_b {}",
                a.rows, b.cols
            )));
        }
        rank = rank.max(a.rows);
        let scale = (alpha / a.rows as f64) as f32;
        deltas.insert(stem, (a, b, scale));
    }
    if deltas.is_empty() {
        return Err(bad("no lora_a/lora_b tensors found".into()));
    }
    Ok(LoraAdapter {
        dir: path.to_path_buf(),
        rank,
        alpha,
        deltas,
        // The mapped file, already read for its tensors, not a second read of it.
        sha256: super::sha256_hex(file.bytes()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(scales: [f32; 2]) -> LoraAdapter {
        let m = |rows, cols, k: f32| Matrix::from_vec(rows, cols, (0..rows * cols).map(|i| k * i as f32).collect());
        let mut deltas = HashMap::new();
        deltas.insert("blk.0.attn_q".to_string(), (m(2, 8, 0.5), m(6, 2, 0.25), scales[0]));
        deltas.insert("blk.1.ffn_down".to_string(), (m(2, 6, -0.5), m(8, 2, 1.0), scales[1]));
        LoraAdapter {
            dir: "adapter".into(),
            rank: 2,
            alpha: 4.0,
            deltas,
            sha256: "0".repeat(64),
        }
    }

    #[test]
    fn an_adapter_reads_back_as_written_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.gguf");
        let written = adapter([2.0, 2.0]);
        assert_eq!(write(&written, "llama", &path).unwrap(), 4);
        let read = read(&path, "llama", 2).unwrap();
        assert_eq!(read.deltas.len(), 2);
        for (name, (a, b, s)) in &written.deltas {
            let (ra, rb, rs) = &read.deltas[name];
            assert_eq!((&ra.data, &rb.data, rs), (&a.data, &b.data, s), "{name}");
            assert_eq!((ra.rows, ra.cols, rb.rows, rb.cols), (a.rows, a.cols, b.rows, b.cols));
        }
        let err = |arch: &str, layers: usize| super::read(&path, arch, layers).err().map(|e| e.to_string());
        assert!(err("gemma3", 2).unwrap_or_default().contains("the model is \"gemma3\""));
        assert!(err("llama", 1).unwrap_or_default().contains("1 blocks"));
        // Modules with different alpha / r cannot share the file's one alpha.
        let mixed = dir.path().join("mixed.gguf");
        assert!(write(&adapter([2.0, 1.0]), "llama", &mixed).is_err());
        assert!(!mixed.exists());
        // A model file is not an adapter.
        let model = dir.path().join("model.gguf");
        write_gguf(
            &model,
            &[("general.architecture".into(), Value::String("llama".into()))],
            &[],
        )
        .unwrap();
        let e = super::read(&model, "llama", 2)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("expected a LoRA adapter"), "{e}");
    }
}
