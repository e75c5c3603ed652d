//! A decoder's configuration from a GGUF file's metadata: llama.cpp's key names (`{arch}.*`), and
//! llama.cpp's defaults where a file leaves a key out, so a file runs here as it runs there.

use super::{arch_from, check, every_nth_layer, gemma_local_layers, layer_count, Architecture, DecoderConfig};
use crate::engine::layers::yarn::Yarn;
use crate::engine::load::gguf::{GgufFile, StringList, Value};
use crate::error::{Error, Result};

/// A Gemma file's local layers: llama.cpp reads `{arch}.attention.sliding_window_pattern` as one flag
/// per layer or as the pattern's period, and otherwise takes the architecture's period.
fn gguf_local_layers(f: &GgufFile, key: &str, layers: usize, arch: Architecture) -> Result<Vec<bool>> {
    let origin = f.path.display();
    let local = match f.get(key) {
        None => gemma_local_layers(layers, arch.default_swa_pattern()),
        Some(Value::Array { items, .. }) => {
            let flags: Option<Vec<bool>> = items.iter().map(Value::as_bool).collect();
            match flags {
                Some(flags) if flags.len() == layers => flags,
                _ => {
                    return Err(Error::input(
                        origin,
                        format!("metadata {key}: expected one boolean per layer ({layers})"),
                    ))
                }
            }
        }
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => gemma_local_layers(layers, n as usize),
            _ => {
                return Err(Error::input(
                    origin,
                    format!("metadata {key}: expected a positive integer or one boolean per layer"),
                ))
            }
        },
    };
    Ok(local)
}

/// A Phi-3 LongRoPE file's original training context and its stretched one (`{arch}.context_length`),
/// None for other files.
pub(crate) fn long_rope_contexts(f: &GgufFile, arch: Architecture) -> Option<(usize, usize)> {
    let name = f.get("general.architecture").and_then(Value::as_str)?;
    let u = |k: &str| {
        f.get(&format!("{name}.{k}"))
            .and_then(Value::as_u64)
            .map(|v| v as usize)
    };
    let original = u("rope.scaling.original_context_length").filter(|&o| o > 0)?;
    (arch == Architecture::Phi3).then(|| (original, u("context_length").unwrap_or(original)))
}

impl DecoderConfig {
    /// From a GGUF file's metadata.
    pub fn from_gguf(f: &GgufFile) -> Result<Self> {
        let origin = f.path.display().to_string();
        let arch_name = f
            .get("general.architecture")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::input(&origin, "metadata general.architecture is missing"))?;
        let arch = arch_from(arch_name, &origin)?;
        let key = |k: &str| format!("{arch_name}.{k}");
        let req = |k: &str| f.require_u64(&key(k)).map(|v| v as usize);
        let opt_u = |k: &str| f.get(&key(k)).and_then(Value::as_u64).map(|v| v as usize);
        let opt_f = |k: &str| f.get(&key(k)).and_then(Value::as_f64);
        let hidden = req("embedding_length")?;
        let heads = req("attention.head_count")?;
        let layers = layer_count(req("block_count")?, &origin)?;
        let head_dim = opt_u("attention.key_length").unwrap_or(hidden / heads.max(1));
        let vocab = opt_u("vocab_size")
            .or_else(|| {
                f.get("tokenizer.ggml.tokens")
                    .and_then(Value::as_strings)
                    .map(StringList::len)
            })
            .ok_or_else(|| {
                Error::input(
                    &origin,
                    "the vocabulary size is in neither {arch}.vocab_size nor tokenizer.ggml.tokens",
                )
            })?;
        let gemma = arch.is_gemma();
        // Phi-3 files record a window too (0 for none); llama.cpp ignores it at present (its PR 13676),
        // transformers applies it to every layer, as the model was trained: we follow the model. Gemma 2
        // files may leave it out (llama.cpp's default: 4096, the model's).
        let sliding_window = match arch {
            Architecture::Gemma2 => Some(opt_u("attention.sliding_window").unwrap_or(4096)),
            Architecture::Gemma3 => opt_u("attention.sliding_window").filter(|&w| w > 0),
            Architecture::Phi3 => opt_u("attention.sliding_window").filter(|&w| w > 0),
            _ => None,
        };
        let local_layers = match (sliding_window, arch) {
            (None, _) => vec![false; layers],
            (Some(_), a) if a.is_gemma() => gguf_local_layers(f, &key("attention.sliding_window_pattern"), layers, a)?,
            (Some(_), _) => vec![true; layers],
        };
        let rope_dims = opt_u("rope.dimension_count").unwrap_or(head_dim);
        let mut yarn_scale = 1.0;
        let rope_freq_factors = match f.get(&key("rope.scaling.type")).and_then(Value::as_str) {
            None | Some("none") => None,
            Some("linear") => {
                let factor = opt_f("rope.scaling.factor").unwrap_or(1.0);
                if !(factor.is_finite() && factor > 0.0) {
                    return Err(Error::input(&origin, format!("metadata {}: expected a positive number", key("rope.scaling.factor"))));
                }
                (factor != 1.0).then(|| vec![factor as f32; rope_dims / 2])
            }
            // llama.cpp reads the factor and the original context; beta 32 and 1 and the paper's scale
            // (times `rope.scaling.attn_factor`) are its fixed settings for these architectures.
            Some("yarn") => {
                let factor = opt_f("rope.scaling.factor").unwrap_or(1.0);
                let original = opt_u("rope.scaling.original_context_length")
                    .or_else(|| opt_u("context_length"))
                    .unwrap_or(2048);
                let yarn = Yarn::new(factor, original as f64)
                    .map_err(|m| Error::input(&origin, format!("metadata {}: {m}", key("rope.scaling.factor"))))?;
                yarn_scale = Yarn::mscale(factor, 1.0);
                Some(yarn.frequency_divisors(rope_dims, opt_f("rope.freq_base").unwrap_or(10_000.0)))
            }
            Some(other) => {
                return Err(Error::input(
                    &origin,
                    format!("metadata {}: RoPE scaling \"{other}\" is not supported (linear and yarn are; Llama 3 and LongRoPE factors are read from their tensors)", key("rope.scaling.type")),
                ))
            }
        };
        let mut context_length = opt_u("context_length").unwrap_or(2048);
        if let Some((original, _)) = long_rope_contexts(f, arch) {
            // LongRoPE files carry their short and long factors as tensors: until the tensor source
            // reads the long ones (`DecoderConfig::set_long_rope`), the context is the original one the
            // short factors hold to.
            context_length = context_length.min(original);
        }
        let c = DecoderConfig {
            arch,
            vocab,
            hidden,
            layers,
            heads,
            kv_heads: opt_u("attention.head_count_kv").unwrap_or(heads),
            head_dim,
            ffn: req("feed_forward_length")?,
            norm_eps: opt_f("attention.layer_norm_rms_epsilon").unwrap_or(1e-5) as f32,
            rope_style: arch.rope_style(),
            rope_dims,
            rope_base: opt_f("rope.freq_base").unwrap_or(10_000.0),
            // llama.cpp: the local layers' base is `rope.freq_base_swa` when the file has it, else 10000
            // for Gemma 3 and the global base for Gemma 2.
            rope_base_local: gemma.then(|| {
                opt_f("rope.freq_base_swa").unwrap_or(match arch {
                    Architecture::Gemma2 => opt_f("rope.freq_base").unwrap_or(10_000.0),
                    _ => 10_000.0,
                })
            }),
            rope_freq_factors,
            rope_attn_factor: (opt_f("rope.scaling.attn_factor").unwrap_or(1.0) * yarn_scale) as f32,
            rope_long: None,
            context_length,
            sliding_window,
            local_layers,
            activation: arch.activation(),
            // GGUF does not record Gemma's `query_pre_attn_scalar`: llama.cpp takes the head size, but
            // hidden / heads for the 27B models (46 layers for Gemma 2, 62 for Gemma 3), as the models do.
            attention_scale: match (arch, layers) {
                (Architecture::Gemma2, 46) | (Architecture::Gemma3, 62) => {
                    1.0 / ((hidden / heads.max(1)) as f32).sqrt()
                }
                _ => 1.0 / (head_dim as f32).sqrt(),
            },
            embedding_scale: gemma.then(|| (hidden as f32).sqrt()),
            // llama.cpp's defaults for Gemma 2 files without the keys: 30 on the output, 50 on attention.
            final_logit_softcap: match arch {
                Architecture::Gemma2 => Some(opt_f("final_logit_softcapping").unwrap_or(30.0)),
                _ => opt_f("final_logit_softcapping"),
            }
            .filter(|&c| c != 0.0)
            .map(|v| v as f32),
            attn_logit_softcap: match arch {
                Architecture::Gemma2 => Some(opt_f("attn_logit_softcapping").unwrap_or(50.0)),
                _ => opt_f("attn_logit_softcapping"),
            }
            .filter(|&c| c != 0.0)
            .map(|v| v as f32),
            // llama.cpp hard-codes SmolLM3's step (`n_no_rope_layer_step = 4`); the file records none.
            nope_layers: match arch {
                Architecture::SmolLM3 => every_nth_layer(layers, 4),
                _ => Vec::new(),
            },
        };
        check(c, &origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::layers::rope::RopeStyle;
    use std::path::Path;

    /// The config of a GGUF file (no tensors) holding `arch`'s required keys (2 heads, ffn 16, vocab 16),
    /// the integers `base` and the values `extra`, each under `{arch}.` (a later key replaces an earlier one).
    fn gguf_config(dir: &Path, arch: &str, base: &[(&str, u32)], extra: Vec<(&str, Value)>) -> Result<DecoderConfig> {
        let k = |s: &str| format!("{arch}.{s}");
        let mut meta = vec![("general.architecture".to_string(), Value::String(arch.into()))];
        let fixed = [
            ("attention.head_count", 2),
            ("feed_forward_length", 16),
            ("vocab_size", 16),
        ];
        meta.extend(fixed.iter().chain(base).map(|&(key, n)| (k(key), Value::U32(n))));
        meta.extend(extra.into_iter().map(|(key, v)| (k(key), v)));
        let mut seen = std::collections::HashSet::new();
        meta.reverse();
        meta.retain(|(key, _)| seen.insert(key.clone()));
        meta.reverse();
        let path = dir.join(format!("{arch}-{}.gguf", meta.len()));
        let path = (1..)
            .map(|i| path.with_extension(format!("{i}.gguf")))
            .find(|p| !p.exists())
            .unwrap();
        crate::engine::load::gguf_write::write(&path, &meta, &[]).unwrap();
        DecoderConfig::from_gguf(&GgufFile::open(&path).unwrap())
    }

    /// GGUF RoPE scaling keys: linear scaling on Gemma 3's global layers (4B and up store factor 8), a
    /// type the engine cannot rotate with refused, and a Phi-3 LongRoPE file's context capped at the
    /// original one its short factors hold to (until its long factors are read with its tensors:
    /// `tests/tiny_golden.rs`).
    #[test]
    fn gguf_rope_scaling_keys() {
        let dir = tempfile::tempdir().unwrap();
        let read = |arch: &str, extra: Vec<(&str, Value)>| {
            let base = [("embedding_length", 16), ("block_count", 2), ("context_length", 4096)];
            gguf_config(dir.path(), arch, &base, extra)
        };
        let g = read(
            "gemma3",
            vec![
                ("rope.scaling.type", Value::String("linear".into())),
                ("rope.scaling.factor", Value::F32(8.0)),
            ],
        )
        .unwrap();
        assert_eq!(g.rope_freq_factors.as_deref(), Some(&[8.0f32; 4][..]));
        let plain = read("llama", vec![("rope.scaling.type", Value::String("none".into()))]).unwrap();
        assert_eq!(plain.rope_freq_factors, None);
        let err = read("qwen2", vec![("rope.scaling.type", Value::String("dynamic".into()))])
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("\"dynamic\" is not supported")));
        // YaRN as llama.cpp reads it: factor, original context, its fixed betas, the paper's scale times
        // the file's attention factor.
        let y = read(
            "qwen2",
            vec![
                ("rope.scaling.type", Value::String("yarn".into())),
                ("rope.scaling.factor", Value::F32(4.0)),
                ("rope.scaling.original_context_length", Value::U32(256)),
                ("rope.freq_base", Value::F32(10_000.0)),
            ],
        )
        .unwrap();
        let want = Yarn::new(4.0, 256.0).unwrap().frequency_divisors(8, 10_000.0);
        assert_eq!(y.rope_freq_factors.as_deref(), Some(&want[..]));
        assert_eq!(y.rope_attn_factor, Yarn::mscale(4.0, 1.0) as f32);
        let phi = read(
            "phi3",
            vec![
                ("rope.scaling.original_context_length", Value::U32(1024)),
                ("rope.scaling.attn_factor", Value::F32(1.25)),
                ("attention.sliding_window", Value::U32(0)),
            ],
        )
        .unwrap();
        assert_eq!(
            (phi.context_length, phi.rope_attn_factor, phi.sliding_window),
            (1024, 1.25, None)
        );
        assert_eq!(phi.rope_style, RopeStyle::Halves);
    }

    /// Gemma GGUF keys as llama.cpp reads them: Gemma 2's defaults when a file leaves them out (window
    /// 4096, caps 50 on attention and 30 on the logits, alternating layers, the local base equal to the
    /// global one), the `sliding_window_pattern` key as a period or one flag per layer, `freq_base_swa`,
    /// and the 27B models' attention scale (hidden / heads, not the head size).
    #[test]
    fn gemma_gguf_keys_and_llama_cpps_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let read = |arch: &str, layers: u32, mut extra: Vec<(&str, Value)>| {
            extra.push(("rope.freq_base", Value::F32(20_000.0)));
            let base = [
                ("embedding_length", 32),
                ("block_count", layers),
                ("attention.key_length", 8),
            ];
            gguf_config(dir.path(), arch, &base, extra)
        };
        let g2 = read("gemma2", 4, vec![]).unwrap();
        assert_eq!(g2.arch, Architecture::Gemma2);
        assert_eq!(
            (g2.sliding_window, g2.local_layers.clone()),
            (Some(4096), vec![true, false, true, false])
        );
        assert_eq!(
            (g2.attn_logit_softcap, g2.final_logit_softcap),
            (Some(50.0), Some(30.0))
        );
        assert_eq!((g2.rope_base, g2.rope_base_local), (20_000.0, Some(20_000.0)));
        assert_eq!(g2.attention_scale, 1.0 / 8f32.sqrt());
        let g2 = read(
            "gemma2",
            4,
            vec![
                ("attn_logit_softcapping", Value::F32(4.0)),
                ("final_logit_softcapping", Value::F32(3.0)),
                ("attention.sliding_window", Value::U32(16)),
                ("attention.sliding_window_pattern", Value::U32(4)),
                ("rope.freq_base_swa", Value::F32(10_000.0)),
            ],
        )
        .unwrap();
        assert_eq!((g2.attn_logit_softcap, g2.final_logit_softcap), (Some(4.0), Some(3.0)));
        assert_eq!(
            (g2.sliding_window, g2.local_layers),
            (Some(16), vec![true, true, true, false])
        );
        assert_eq!(g2.rope_base_local, Some(10_000.0));
        let flags = Value::Array {
            elem: crate::engine::load::gguf::ValueType::Bool,
            items: [false, true, true].into_iter().map(Value::Bool).collect(),
        };
        let g3 = read(
            "gemma3",
            3,
            vec![
                ("attention.sliding_window", Value::U32(4)),
                ("attention.sliding_window_pattern", flags.clone()),
            ],
        )
        .unwrap();
        assert_eq!(g3.local_layers, vec![false, true, true]);
        assert_eq!(
            (g3.attn_logit_softcap, g3.final_logit_softcap, g3.rope_base_local),
            (None, None, Some(10_000.0))
        );
        let err = read(
            "gemma3",
            4,
            vec![
                ("attention.sliding_window", Value::U32(4)),
                ("attention.sliding_window_pattern", flags),
            ],
        )
        .err()
        .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("one boolean per layer (4)")));
        // Gemma 2 27B (46 layers): 1/sqrt(hidden / heads) = 1/4 here, not 1/sqrt(head size 8).
        assert_eq!(read("gemma2", 46, vec![]).unwrap().attention_scale, 0.25);
        // A corrupt file: no heads (the 27B rule divides by them) or a window of nothing, refused.
        let no_heads = read("gemma2", 46, vec![("attention.head_count", Value::U32(0))]).err();
        assert!(no_heads.is_some_and(|e| e.to_string().contains("model sizes must be positive")));
        let no_window = read("gemma2", 4, vec![("attention.sliding_window", Value::U32(0))]).err();
        assert!(no_window.is_some_and(|e| e.to_string().contains("sliding window must be at least one")));
    }

    /// SmolLM3 GGUF files record no NoPE step: llama.cpp fixes it at every fourth layer.
    #[test]
    fn smollm3_gguf_leaves_rope_out_of_every_fourth_layer() {
        let dir = tempfile::tempdir().unwrap();
        let gguf = gguf_config(
            dir.path(),
            "smollm3",
            &[("embedding_length", 16), ("block_count", 8)],
            vec![],
        )
        .unwrap();
        let nope: Vec<usize> = (0..8).filter(|&l| gguf.nope_layers[l]).collect();
        assert_eq!((gguf.arch, nope), (Architecture::SmolLM3, vec![3, 7]));
        let llama = gguf_config(
            dir.path(),
            "llama",
            &[("embedding_length", 16), ("block_count", 8)],
            vec![],
        )
        .unwrap();
        assert!(llama.nope_layers.iter().all(|n| !n));
    }
}
