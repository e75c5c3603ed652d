//! LoRA adapters as PyPI `peft` writes them: `adapter_config.json` (`r`, `lora_alpha`,
//! `target_modules`, `use_rslora`, `fan_in_fan_out`) and `adapter_model.safetensors` with
//! `...<module>.lora_A.weight` `[r, in]` and `...lora_B.weight` `[out, r]`; the update is
//! `W' = W + (alpha / r) B A` (Hu et al., 2021; `alpha / sqrt(r)` with rsLoRA).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

use super::source::{gguf_name, lora_target};
use crate::engine::build::WeightDelta;
use crate::engine::tensor::Matrix;
use crate::error::{read_to_string, Error, Result};

/// A loaded adapter: per Linear (GGUF-style name, `blk.3.attn_q`) its `A`, `B` and scale.
pub struct LoraAdapter {
    pub dir: PathBuf,
    pub rank: usize,
    pub alpha: f64,
    pub deltas: HashMap<String, (Matrix, Matrix, f32)>,
    /// Hex SHA-256 of the adapter's weights file.
    pub sha256: String,
}

impl LoraAdapter {
    /// Divides the deltas of fused projections among the Linears the engine builds from them: a fused
    /// module's `B` is the parts' `B`s stacked by rows (Phi-3's `qkv_proj` = q, k, v; its
    /// `gate_up_proj` = gate, then up), and `A` is shared, since `B A x` of the stacked matrix is each
    /// part's `B_i A x` stacked. `fused` gives the parts' rows (q, k, v) and the MLP width, or `None`
    /// for a model that stores its projections apart, where a fused module is refused rather than left
    /// unapplied.
    pub fn split_fused(mut self, fused: Option<([usize; 3], usize)>) -> Result<Self> {
        let origin = self.dir.join("adapter_model.safetensors").display().to_string();
        let names: Vec<String> = self.deltas.keys().cloned().collect();
        for name in names {
            let parts: Vec<(String, usize, usize)> =
                match (name.strip_suffix(".attn_qkv"), name.strip_suffix(".ffn_up"), fused) {
                    (Some(blk), _, Some(([q, k, v], _))) => vec![
                        (format!("{blk}.attn_q"), 0, q),
                        (format!("{blk}.attn_k"), q, k),
                        (format!("{blk}.attn_v"), q + k, v),
                    ],
                    (Some(_), _, None) => {
                        return Err(Error::input(
                            origin,
                            format!(
                        "adapter module {name} (a fused qkv_proj): the model stores its q, k and v projections apart"
                    ),
                        ))
                    }
                    (_, Some(blk), Some((_, ffn))) => {
                        vec![(format!("{blk}.ffn_gate"), 0, ffn), (name.clone(), ffn, ffn)]
                    }
                    _ => continue,
                };
            let Some((a, b, scale)) = self.deltas.remove(&name) else {
                continue;
            };
            let total: usize = parts.iter().map(|p| p.2).sum();
            if b.rows != total {
                return Err(Error::input(
                    origin,
                    format!(
                        "adapter module {name}: lora_B has {} rows, the fused projection {total}",
                        b.rows
                    ),
                ));
            }
            for (part, first, rows) in parts {
                let rows_of_b =
                    Matrix::from_vec(rows, b.cols, b.data[first * b.cols..(first + rows) * b.cols].to_vec());
                self.deltas.insert(part, (a.clone(), rows_of_b, scale));
            }
        }
        Ok(self)
    }
}

impl LoraAdapter {
    /// The inverse of `split_fused`, for writing llama.cpp's LoRA file of a model that stores fused
    /// projections (Phi-3): each block's q/k/v deltas become one `attn_qkv` delta and its gate/up deltas
    /// one `ffn_up` delta (gate rows first), as llama.cpp's `convert_lora_to_gguf.py` writes a PEFT
    /// adapter on `qkv_proj` / `gate_up_proj`, where `stored_fused` says the base file stores that
    /// fused tensor (`blk.3.attn_qkv`; a file may keep q/k/v apart and fuse only gate/up). The parts
    /// must share their `A` and scale (a fused module's do); parts trained apart cannot be fused and are
    /// refused.
    pub fn fused(&self, stored_fused: impl Fn(&str) -> bool) -> Result<LoraAdapter> {
        let origin = self.dir.display().to_string();
        let mut deltas = self.deltas.clone();
        let blocks: std::collections::BTreeSet<String> = self
            .deltas
            .keys()
            .filter_map(|k| k.rsplit_once('.').map(|(blk, _)| blk.to_string()))
            .collect();
        for blk in blocks {
            for (fused, parts) in [
                ("attn_qkv", &["attn_q", "attn_k", "attn_v"][..]),
                ("ffn_up", &["ffn_gate", "ffn_up"][..]),
            ] {
                if !stored_fused(&format!("{blk}.{fused}")) {
                    continue;
                }
                let names: Vec<String> = parts.iter().map(|p| format!("{blk}.{p}")).collect();
                let present: Vec<&(Matrix, Matrix, f32)> = names.iter().filter_map(|n| self.deltas.get(n)).collect();
                if present.is_empty() {
                    continue;
                }
                let (a, _, scale) = present[0];
                let shared = present.len() == parts.len()
                    && present
                        .iter()
                        .all(|(pa, _, ps)| pa.data == a.data && pa.rows == a.rows && ps == scale);
                if !shared {
                    return Err(Error::input(
                        origin,
                        format!(
                            "adapter on {blk}: llama.cpp applies it to the fused {fused}, which needs {} with one lora_A; \
                             these were trained apart",
                            parts.join(", ")
                        ),
                    ));
                }
                let mut data = Vec::new();
                for (_, b, _) in &present {
                    data.extend_from_slice(&b.data);
                }
                let rows = present.iter().map(|(_, b, _)| b.rows).sum();
                for n in &names {
                    deltas.remove(n);
                }
                deltas.insert(
                    format!("{blk}.{fused}"),
                    (a.clone(), Matrix::from_vec(rows, a.rows, data), *scale),
                );
            }
        }
        Ok(LoraAdapter {
            dir: self.dir.clone(),
            rank: self.rank,
            alpha: self.alpha,
            deltas,
            sha256: self.sha256.clone(),
        })
    }
}

impl WeightDelta for LoraAdapter {
    fn delta(&self, name: &str) -> Option<(&Matrix, &Matrix, f32)> {
        self.deltas.get(name).map(|(a, b, s)| (a, b, *s))
    }
}

fn matrix(st: &SafeTensors<'_>, name: &str, path: &Path) -> Result<Matrix> {
    let t = st
        .tensor(name)
        .map_err(|e| Error::input(path.display(), format!("tensor {name}: {e:?}")))?;
    let [rows, cols] = t.shape() else {
        return Err(Error::input(
            path.display(),
            format!("tensor {name}: expected two dimensions, found {:?}", t.shape()),
        ));
    };
    let data: Vec<f32> = match t.dtype() {
        Dtype::F32 => t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F16 => t
            .data()
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => t
            .data()
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => {
            return Err(Error::input(
                path.display(),
                format!("tensor {name}: dtype {other:?}, expected a float"),
            ))
        }
    };
    // A NaN or infinity in an adapter spreads through every answer (exported, a model that writes
    // nothing, a run at 0 % without a word why): refused like any other damage, naming the tensor.
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(Error::input(
            path.display(),
            format!(
                "tensor {name}: value {} at [{}, {}] is not a finite number",
                data[i],
                i / cols.max(&1),
                i % cols.max(&1)
            ),
        ));
    }
    Ok(Matrix::from_vec(*rows, *cols, data))
}

impl LoraAdapter {
    /// Loads a PEFT adapter folder for a base model of `layers` blocks. `permute_qk`: `(heads,
    /// kv_heads)` when the base model's query/key rows are in GGUF's interleaved RoPE order (Llama), so
    /// `B`'s rows are permuted the same way.
    ///
    /// Every tensor must be the `A` or `B` of a block Linear the engine applies LoRA to: an adapter
    /// that also trains the output head, the embeddings or a norm (PEFT's `lm_head` or `embed_tokens`
    /// targets, `modules_to_save`, LoRA biases) or names a block the model does not have is refused,
    /// since a part silently left out would score another model than the one the team ships.
    pub fn load(dir: &Path, permute_qk: Option<(usize, usize)>, layers: usize) -> Result<Self> {
        let cfg_path = dir.join("adapter_config.json");
        let cfg: serde_json::Value = serde_json::from_str(&read_to_string(&cfg_path)?)
            .map_err(|e| Error::input(cfg_path.display(), format!("invalid JSON: {e}")))?;
        let rank = cfg
            .get("r")
            .and_then(|v| v.as_u64())
            .filter(|&r| r > 0)
            .ok_or_else(|| Error::input(cfg_path.display(), "field r: expected a positive integer"))?
            as usize;
        let alpha = cfg
            .get("lora_alpha")
            .and_then(|v| v.as_f64())
            .ok_or_else(|| Error::input(cfg_path.display(), "field lora_alpha: expected a number"))?;
        if cfg.get("fan_in_fan_out").and_then(|v| v.as_bool()) == Some(true) {
            return Err(Error::input(
                cfg_path.display(),
                "field fan_in_fan_out: true (Conv1D layers) is not supported",
            ));
        }
        // What the config says the adapter does must be what the engine applies, tensors or not: DoRA
        // rescales each weight column by a learned magnitude, and trained biases add to every output.
        if cfg.get("use_dora").and_then(|v| v.as_bool()) == Some(true) {
            return Err(Error::input(
                cfg_path.display(),
                "field use_dora: true (DoRA) is not supported; plain LoRA is",
            ));
        }
        if let Some(bias) = cfg.get("bias").and_then(|v| v.as_str()).filter(|b| *b != "none") {
            return Err(Error::input(
                cfg_path.display(),
                format!("field bias: \"{bias}\" (trained biases) is not supported; expected \"none\""),
            ));
        }
        if let Some(kind) = cfg.get("peft_type").filter(|t| t.as_str() != Some("LORA")) {
            return Err(Error::input(
                cfg_path.display(),
                format!("field peft_type: {kind} is not a LoRA adapter; expected \"LORA\""),
            ));
        }
        // Per-module ranks and scales: the engine applies one `lora_alpha / r` to every module, so an
        // adapter that sets others would run scaled wrongly.
        for field in ["alpha_pattern", "rank_pattern"] {
            if cfg
                .get(field)
                .is_some_and(|p| p.as_object().map_or(!p.is_null(), |m| !m.is_empty()))
            {
                return Err(Error::input(
                    cfg_path.display(),
                    format!("field {field}: per-module values are not supported; expected {{}} (one r and lora_alpha for every module)"),
                ));
            }
        }
        let rslora = cfg.get("use_rslora").and_then(|v| v.as_bool()).unwrap_or(false);
        let scale = if rslora {
            alpha / (rank as f64).sqrt()
        } else {
            alpha / rank as f64
        } as f32;
        let path = dir.join("adapter_model.safetensors");
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| Error::input(path.display(), format!("not a valid safetensors file: {e:?}")))?;
        let mut deltas = HashMap::new();
        for name in st.names() {
            let Some(module) = name.strip_suffix(".lora_A.weight") else {
                let is_b = name
                    .strip_suffix(".lora_B.weight")
                    .is_some_and(|m| st.tensor(&format!("{m}.lora_A.weight")).is_ok());
                if is_b {
                    continue;
                }
                return Err(Error::input(
                    path.display(),
                    format!(
                        "adapter tensor {name}: expected the lora_A or lora_B matrix of a Linear (a lora_B has its \
                         lora_A); embedding LoRA, modules_to_save and LoRA biases are not supported"
                    ),
                ));
            };
            // base_model.model.model.layers.0.self_attn.q_proj -> model.layers.0.self_attn.q_proj.weight
            let hf = module.strip_prefix("base_model.model.").unwrap_or(module);
            let target = gguf_name(&format!("{hf}.weight")).ok_or_else(|| {
                Error::input(
                    path.display(),
                    format!("adapter tensor {name}: module {hf} is not a Linear the engine knows"),
                )
            })?;
            let target = target.trim_end_matches(".weight").to_string();
            let in_a_block = lora_target(&target, layers);
            if !in_a_block {
                return Err(Error::input(
                    path.display(),
                    format!(
                        "adapter tensor {name}: module {hf} is not one LoRA is applied to here (the attention \
                         and MLP projections q/k/v/o_proj, gate/up/down_proj, or Phi-3's qkv_proj and \
                         gate_up_proj, of the model's {layers} blocks)"
                    ),
                ));
            }
            let a = matrix(&st, name, &path)?;
            let mut b = matrix(&st, &format!("{module}.lora_B.weight"), &path)?;
            if a.rows != rank || b.cols != rank {
                return Err(Error::input(
                    path.display(),
                    format!("adapter tensor {name}: rank differs from r = {rank}"),
                ));
            }
            if let Some((heads, kv_heads)) = permute_qk {
                let h = if target.ends_with(".attn_q") {
                    Some(heads)
                } else if target.ends_with(".attn_k") {
                    Some(kv_heads)
                } else {
                    None
                };
                if let Some(h) = h {
                    b = permute_matrix_rows(&b, h);
                }
            }
            deltas.insert(target, (a, b, scale));
        }
        if deltas.is_empty() {
            return Err(Error::input(path.display(), "no lora_A/lora_B tensors found"));
        }
        Ok(LoraAdapter {
            dir: dir.to_path_buf(),
            rank,
            alpha,
            deltas,
            sha256: super::sha256_hex(&bytes),
        })
    }
}

/// Rows of `m` reordered from rotate-half to interleaved RoPE pairs per head (see `source::permute_rows`).
fn permute_matrix_rows(m: &Matrix, heads: usize) -> Matrix {
    let d = m.rows / heads.max(1);
    let mut out = Matrix::zeros(m.rows, m.cols);
    for h in 0..heads {
        for j in 0..d / 2 {
            for half in 0..2 {
                out.row_mut(h * d + 2 * j + half)
                    .copy_from_slice(m.row(h * d + half * (d / 2) + j));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tensor of a test adapter: name, rows, columns (zeros).
    type Tensor<'a> = (&'a str, usize, usize);

    /// An adapter folder holding `tensors` with r = 2.
    fn adapter(tensors: &[Tensor<'_>]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("adapter_config.json"), r#"{"r": 2, "lora_alpha": 4}"#).unwrap();
        let data: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
            .iter()
            .map(|&(n, r, c)| (n.to_string(), vec![0u8; r * c * 4], vec![r, c]))
            .collect();
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = data
            .iter()
            .map(|(n, b, shape)| {
                (
                    n.clone(),
                    safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), b).unwrap(),
                )
            })
            .collect();
        let bytes = safetensors::serialize(views, None).unwrap();
        std::fs::write(dir.path().join("adapter_model.safetensors"), bytes).unwrap();
        dir
    }

    const Q: &str = "base_model.model.model.layers.1.self_attn.q_proj";

    #[test]
    fn a_value_that_is_not_a_finite_number_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("adapter_config.json"), r#"{"r": 2, "lora_alpha": 4}"#).unwrap();
        let a = format!("{Q}.lora_A.weight");
        let b = format!("{Q}.lora_B.weight");
        let mut b_values = vec![0u8; 8 * 2 * 4];
        b_values[20..24].copy_from_slice(&f32::NAN.to_le_bytes());
        let tensors = [(a, vec![0u8; 2 * 8 * 4], vec![2, 8]), (b.clone(), b_values, vec![8, 2])];
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
            .iter()
            .map(|(n, bytes, shape)| {
                (
                    n.clone(),
                    safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), bytes).unwrap(),
                )
            })
            .collect();
        std::fs::write(
            dir.path().join("adapter_model.safetensors"),
            safetensors::serialize(views, None).unwrap(),
        )
        .unwrap();
        let err = LoraAdapter::load(dir.path(), None, 2).err().unwrap().to_string();
        assert!(
            err.contains(&b) && err.contains("NaN at [2, 1]") && err.contains("not a finite number"),
            "{err}"
        );
    }

    #[test]
    fn block_linears_load() {
        let a = format!("{Q}.lora_A.weight");
        let b = format!("{Q}.lora_B.weight");
        let dir = adapter(&[(&a, 2, 8), (&b, 8, 2)]);
        let loaded = LoraAdapter::load(dir.path(), None, 2).unwrap();
        assert_eq!(loaded.deltas.len(), 1);
        assert!(loaded.delta("blk.1.attn_q").is_some());
    }

    /// Phi-3's fused modules are divided among the Linears the engine builds; on a model that stores
    /// its projections apart a fused module is refused (it would otherwise never be applied).
    #[test]
    fn fused_modules_are_split_or_refused() {
        let qkv = "base_model.model.model.layers.0.self_attn.qkv_proj";
        let gate_up = "base_model.model.model.layers.1.mlp.gate_up_proj";
        let tensors = [
            (&*format!("{qkv}.lora_A.weight"), 2, 8),
            (&*format!("{qkv}.lora_B.weight"), 16, 2),
            (&*format!("{gate_up}.lora_A.weight"), 2, 8),
            (&*format!("{gate_up}.lora_B.weight"), 12, 2),
        ];
        let dir = adapter(&tensors);
        let split = LoraAdapter::load(dir.path(), None, 2)
            .unwrap()
            .split_fused(Some(([8, 4, 4], 6)))
            .unwrap();
        let rows = |n: &str| split.delta(n).map(|(a, b, _)| (a.rows, a.cols, b.rows));
        assert_eq!(rows("blk.0.attn_q"), Some((2, 8, 8)));
        assert_eq!(rows("blk.0.attn_k"), Some((2, 8, 4)));
        assert_eq!(rows("blk.0.attn_v"), Some((2, 8, 4)));
        assert_eq!(rows("blk.1.ffn_gate"), Some((2, 8, 6)));
        assert_eq!(rows("blk.1.ffn_up"), Some((2, 8, 6)));
        assert_eq!(split.deltas.len(), 5);
        let err = LoraAdapter::load(dir.path(), None, 2).unwrap().split_fused(None).err();
        assert!(err.is_some_and(|e| e.to_string().contains("stores its q, k and v projections apart")));
        let err = LoraAdapter::load(dir.path(), None, 2)
            .unwrap()
            .split_fused(Some(([8, 4, 2], 6)))
            .err();
        assert!(err.is_some_and(|e| e.to_string().contains("lora_B has 16 rows, the fused projection 14")));
        // Fused again (for llama.cpp's file), the parts give back the fused modules as loaded.
        let loaded = LoraAdapter::load(dir.path(), None, 2).unwrap();
        let again = split.fused(|_| true).unwrap();
        assert_eq!(
            split.fused(|_| false).unwrap().deltas.len(),
            5,
            "nothing stored fused, nothing fused"
        );
        assert_eq!(again.deltas.len(), 2);
        for name in ["blk.0.attn_qkv", "blk.1.ffn_up"] {
            let ((a, b, s), (a2, b2, s2)) = (&loaded.deltas[name], &again.deltas[name]);
            assert_eq!(
                (&a.data, &b.data, s, b.rows),
                (&a2.data, &b2.data, s2, b2.rows),
                "{name}"
            );
        }
        // Parts trained apart (a q_proj adapter alone) cannot be written fused.
        let q = "base_model.model.model.layers.0.self_attn.q_proj";
        let apart = adapter(&[
            (&*format!("{q}.lora_A.weight"), 2, 8),
            (&*format!("{q}.lora_B.weight"), 8, 2),
        ]);
        let err = LoraAdapter::load(apart.path(), None, 2).unwrap().fused(|_| true).err();
        assert!(err.is_some_and(|e| e.to_string().contains("trained apart")));
    }

    /// A config that says the adapter does more than LoRA is refused even without the tensors for it:
    /// applied as plain LoRA it would silently be another model than the one trained.
    #[test]
    fn configs_the_engine_would_apply_as_something_else_are_refused() {
        let a = format!("{Q}.lora_A.weight");
        let b = format!("{Q}.lora_B.weight");
        for (extra, says) in [
            (r#""use_dora": true"#, "use_dora"),
            (r#""bias": "all""#, "field bias"),
            (r#""bias": "lora_only""#, "field bias"),
            (r#""fan_in_fan_out": true"#, "fan_in_fan_out"),
            (r#""peft_type": "IA3""#, "peft_type"),
            (r#""alpha_pattern": {"q_proj": 1024}"#, "alpha_pattern"),
            (r#""rank_pattern": {"q_proj": 4}"#, "rank_pattern"),
        ] {
            let dir = adapter(&[(&a, 2, 8), (&b, 8, 2)]);
            let config = format!(r#"{{"r": 2, "lora_alpha": 4, {extra}}}"#);
            std::fs::write(dir.path().join("adapter_config.json"), config).unwrap();
            let err = LoraAdapter::load(dir.path(), None, 2).err().map(|e| e.to_string());
            let err = err.unwrap_or_default();
            assert!(
                err.contains(says) && err.contains("adapter_config.json"),
                "{extra}: {err}"
            );
        }
        let dir = adapter(&[(&a, 2, 8), (&b, 8, 2)]);
        let plain = r#"{"r": 2, "lora_alpha": 4, "use_dora": false, "bias": "none", "peft_type": "LORA", "alpha_pattern": {}, "rank_pattern": null}"#;
        std::fs::write(dir.path().join("adapter_config.json"), plain).unwrap();
        assert!(LoraAdapter::load(dir.path(), None, 2).is_ok());
    }

    #[test]
    fn parts_the_engine_would_leave_out_are_refused() {
        let cases: [(&[Tensor<'_>], &str); 5] = [
            // LoRA on the output head: the head is never merged or applied.
            (
                &[
                    ("base_model.model.lm_head.lora_A.weight", 2, 8),
                    ("base_model.model.lm_head.lora_B.weight", 16, 2),
                ],
                "module lm_head",
            ),
            // A block the model does not have (layers = 2).
            (
                &[
                    ("base_model.model.model.layers.5.self_attn.q_proj.lora_A.weight", 2, 8),
                    ("base_model.model.model.layers.5.self_attn.q_proj.lora_B.weight", 8, 2),
                ],
                "2 blocks",
            ),
            // PEFT's embedding LoRA.
            (
                &[
                    ("base_model.model.model.embed_tokens.lora_embedding_A", 2, 16),
                    ("base_model.model.model.embed_tokens.lora_embedding_B", 8, 2),
                ],
                "embedding LoRA",
            ),
            // A fully trained module saved beside the adapter.
            (
                &[("base_model.model.lm_head.modules_to_save.default.weight", 16, 8)],
                "modules_to_save",
            ),
            // A B without its A.
            (
                &[("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight", 8, 2)],
                "has its",
            ),
        ];
        for (tensors, says) in cases {
            let dir = adapter(tensors);
            let err = LoraAdapter::load(dir.path(), None, 2).err().map(|e| e.to_string());
            let err = err.unwrap_or_default();
            assert!(err.contains(says), "{tensors:?}: {err}");
            assert!(err.contains("adapter_model.safetensors"), "{err}");
        }
    }
}
