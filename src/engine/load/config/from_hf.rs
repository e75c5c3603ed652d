//! A decoder's configuration from a Hugging Face `config.json` (transformers 4 and 5 layouts; a
//! multimodal Gemma 3 config's `text_config`).

use std::path::Path;

use super::{arch_from, check, every_nth_layer, gemma_local_layers, layer_count, Architecture, DecoderConfig};
use crate::engine::load::rope_settings::HfRope;
use crate::error::{read_to_string, Error, Result};

impl DecoderConfig {
    /// From a Hugging Face `config.json` (Gemma 3 multimodal configs: their `text_config`).
    pub fn from_hf_config(path: &Path) -> Result<Self> {
        let origin = path.display().to_string();
        let root: serde_json::Value = serde_json::from_str(&read_to_string(path)?)
            .map_err(|e| Error::input(&origin, format!("invalid JSON: {e}")))?;
        let v = root.get("text_config").unwrap_or(&root);
        let model_type = v
            .get("model_type")
            .or_else(|| root.get("model_type"))
            .and_then(|m| m.as_str())
            .ok_or_else(|| Error::input(&origin, "field model_type is missing"))?;
        let arch = arch_from(model_type, &origin)?;
        let gemma = arch.is_gemma();
        let u = |k: &str| v.get(k).and_then(|x| x.as_u64()).map(|x| x as usize);
        let fl = |k: &str| v.get(k).and_then(|x| x.as_f64());
        let req =
            |k: &str| u(k).ok_or_else(|| Error::input(&origin, format!("field {k}: expected a positive integer")));
        let hidden = req("hidden_size")?;
        let heads = req("num_attention_heads")?;
        let layers = layer_count(req("num_hidden_layers")?, &origin)?;
        let head_dim = u("head_dim").unwrap_or(hidden / heads.max(1));
        let phi3 = arch == Architecture::Phi3;
        // Phi-3 windows every layer (transformers' sliding-window mask); Gemma 3 its local layers.
        // Options of these architectures the engine does not run are refused rather than ignored.
        for (on, flag) in [
            (arch == Architecture::SmolLM3, "use_sliding_window"),
            (arch == Architecture::Gemma2, "use_bidirectional_attention"),
        ] {
            if on && v.get(flag).and_then(|x| x.as_bool()) == Some(true) {
                return Err(Error::input(&origin, format!("field {flag}: true is not supported (the engine runs this architecture causal and without a window)")));
            }
        }
        let sliding_window = if gemma || phi3 { u("sliding_window") } else { None };
        let local_layers = match (sliding_window, v.get("layer_types").and_then(|t| t.as_array())) {
            (Some(_), _) if phi3 => vec![true; layers],
            (Some(_), Some(types)) => types.iter().map(|t| t.as_str() == Some("sliding_attention")).collect(),
            (Some(_), None) => gemma_local_layers(
                layers,
                u("sliding_window_pattern").unwrap_or(arch.default_swa_pattern()),
            ),
            (None, _) => vec![false; layers],
        };
        if local_layers.len() != layers {
            return Err(Error::input(&origin, "field layer_types: expected one entry per layer"));
        }
        let rope = HfRope::read(v, &origin)?;
        // Phi-4-mini rotates three quarters of each head (`partial_rotary_factor`).
        let rotary_fraction = rope
            .global_number("partial_rotary_factor")
            .or_else(|| fl("partial_rotary_factor"));
        let rope_dims = match rotary_fraction {
            Some(f) if f > 0.0 && f <= 1.0 => ((head_dim as f64 * f) as usize) & !1,
            Some(_) => {
                return Err(Error::input(
                    &origin,
                    "field partial_rotary_factor: expected a number in (0, 1]",
                ))
            }
            None => head_dim,
        };
        let context_length = u("max_position_embeddings").unwrap_or(2048);
        let mut rope_attn_factor = 1.0f32;
        // LongRoPE's long factors, original context and stretched context, set once the config is whole.
        let mut long_rope = None;
        let rope_freq_factors = match rope.scaling_type() {
            None | Some("default") => None,
            Some("llama3") => Some(rope.llama3_factors(rope_dims, &origin)?),
            // Every frequency divided by the factor (positions stretched): Gemma 3 4B and up on its
            // global layers (the local ones keep their own base unscaled), other models on every layer.
            Some("linear") => {
                let factor = rope
                    .number("factor")
                    .ok_or_else(|| Error::input(&origin, "field rope_scaling.factor: expected a number"))?;
                Some(vec![factor as f32; rope_dims / 2])
            }
            Some("longrope") | Some("su") if phi3 => {
                // LongRoPE (Ding et al., 2024): short factors up to the original training context, long
                // ones beyond it (`LongRope`), sines and cosines scaled by sqrt(1 + ln(s) / ln(original))
                // where s is the context's stretch, whichever factors rotate.
                let original = rope
                    .number("original_max_position_embeddings")
                    .or_else(|| fl("original_max_position_embeddings"))
                    .ok_or_else(|| {
                        Error::input(
                            &origin,
                            "field original_max_position_embeddings: expected a number (LongRoPE)",
                        )
                    })?;
                let stretch = rope.number("factor").unwrap_or(context_length as f64 / original);
                rope_attn_factor = match rope.number("attention_factor") {
                    Some(a) => a as f32,
                    None if stretch > 1.0 => (1.0 + stretch.ln() / original.ln()).sqrt() as f32,
                    None => 1.0,
                };
                let long = rope.numbers("long_factor").map(|l| l.iter().map(|&x| x as f32).collect());
                long_rope = Some((long, original as usize, context_length));
                let short = rope.numbers("short_factor").ok_or_else(|| {
                    Error::input(
                        &origin,
                        "field rope_scaling.short_factor: expected a list of numbers (LongRoPE)",
                    )
                })?;
                Some(short.iter().map(|&x| x as f32).collect())
            }
            Some("yarn") => {
                let (factors, scale) = rope.yarn(rope_dims, context_length, &origin)?;
                rope_attn_factor = scale;
                Some(factors)
            }
            Some(other) => {
                return Err(Error::input(
                    &origin,
                    format!(
                    "field rope_scaling: type \"{other}\" is not supported (llama3, linear, yarn, and longrope for phi3 are)"
                ),
                ))
            }
        };
        // SmolLM3: `no_rope_layers` holds 1 for a layer that rotates, 0 for a NoPE layer (transformers'
        // `use_rope = no_rope_layers[i]`), by default every fourth layer without.
        let nope_layers = match (arch, v.get("no_rope_layers").and_then(|l| l.as_array())) {
            (Architecture::SmolLM3, Some(flags)) => {
                let flags: Option<Vec<bool>> = flags.iter().map(|f| f.as_u64().map(|x| x == 0)).collect();
                match flags {
                    Some(f) if f.len() == layers => f,
                    _ => {
                        return Err(Error::input(
                            &origin,
                            "field no_rope_layers: expected one 0 or 1 per layer",
                        ))
                    }
                }
            }
            (Architecture::SmolLM3, None) => every_nth_layer(layers, u("no_rope_layer_interval").unwrap_or(4)),
            _ => Vec::new(),
        };
        let c = DecoderConfig {
            arch,
            vocab: req("vocab_size")?,
            hidden,
            layers,
            heads,
            kv_heads: u("num_key_value_heads").unwrap_or(heads),
            head_dim,
            ffn: req("intermediate_size")?,
            norm_eps: fl("rms_norm_eps").unwrap_or(1e-6) as f32,
            rope_style: arch.rope_style(),
            rope_dims,
            rope_base: rope.base,
            // Gemma 3's local layers have their own base; Gemma 2's rotate as its global ones.
            rope_base_local: gemma.then(|| {
                rope.local_base
                    .or_else(|| fl("rope_local_base_freq"))
                    .unwrap_or(if arch == Architecture::Gemma2 {
                        rope.base
                    } else {
                        10_000.0
                    })
            }),
            rope_freq_factors,
            rope_attn_factor,
            context_length,
            sliding_window,
            local_layers,
            activation: arch.activation(),
            attention_scale: match fl("query_pre_attn_scalar") {
                Some(s) if gemma => (1.0 / s.sqrt()) as f32,
                _ => 1.0 / (head_dim as f32).sqrt(),
            },
            embedding_scale: gemma.then(|| (hidden as f32).sqrt()),
            final_logit_softcap: fl("final_logit_softcapping").map(|x| x as f32),
            attn_logit_softcap: fl("attn_logit_softcapping").map(|x| x as f32),
            nope_layers,
            rope_long: None,
        };
        let mut c = c;
        if let Some((long, original, full)) = long_rope {
            c.set_long_rope(long, original, full, &origin)?;
        }
        check(c, &origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::layers::rope::RopeStyle;
    use crate::engine::layers::yarn::Yarn;

    /// A head size from a corrupt file would overflow `heads * head_dim` and size the RoPE table.
    #[test]
    fn refuses_an_implausible_head_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let config = |head_dim: u64| {
            format!(
                r#"{{"model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1,
                "intermediate_size": 16, "vocab_size": 16, "head_dim": {head_dim}}}"#
            )
        };
        std::fs::write(&path, config(4)).unwrap();
        assert_eq!(DecoderConfig::from_hf_config(&path).unwrap().head_dim, 4);
        std::fs::write(&path, config(1 << 62)).unwrap();
        let err = DecoderConfig::from_hf_config(&path).unwrap_err().to_string();
        assert!(err.contains("implausibly large"), "{err}");
    }

    /// Found by the `gguf` fuzz target: a Gemma 3 layer count of billions sized the local-layer table
    /// (gigabytes) before the sizes were checked.
    #[test]
    fn refuses_a_huge_layer_count_before_sizing_per_layer_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"model_type": "gemma3_text", "hidden_size": 8, "num_attention_heads": 2, "vocab_size": 16,
            "num_hidden_layers": 4000000000000, "intermediate_size": 16, "sliding_window": 4}"#,
        )
        .unwrap();
        let err = DecoderConfig::from_hf_config(&path).unwrap_err().to_string();
        assert!(err.contains("4000000000000 layers"), "{err}");
    }

    /// Float settings that load and then answer nothing (found by patching a real GGUF): refused
    /// at load, naming the setting.
    #[test]
    fn refuses_bad_float_settings_and_an_empty_context() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let config = |extra: &str| {
            format!(
                r#"{{"model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1,
                "intermediate_size": 16, "vocab_size": 16{extra}}}"#
            )
        };
        std::fs::write(&path, config("")).unwrap();
        assert!(DecoderConfig::from_hf_config(&path).is_ok());
        for (extra, needle) in [
            (r#", "rope_theta": -1"#, "RoPE base"),
            (r#", "rope_theta": 0.5"#, "RoPE base"),
            (r#", "rms_norm_eps": -1"#, "norm epsilon"),
            (r#", "rms_norm_eps": 0"#, "norm epsilon"),
            (r#", "max_position_embeddings": 0"#, "context length"),
        ] {
            std::fs::write(&path, config(extra)).unwrap();
            let err = DecoderConfig::from_hf_config(&path).map(|_| ()).unwrap_err();
            assert!(
                err.is_user_error() && err.to_string().contains(needle),
                "{extra}: {err}"
            );
        }
    }

    /// transformers 4 and 5 write the same RoPE settings in two layouts; both read the same.
    #[test]
    fn rope_settings_read_the_same_from_both_config_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let read = |model_type: &str, rope: &str| {
            std::fs::write(
                &path,
                format!(
                    r#"{{"model_type": "{model_type}", "hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": 2,
                    "intermediate_size": 16, "vocab_size": 16, "max_position_embeddings": 64, "sliding_window": 4{rope}}}"#
                ),
            )
            .unwrap();
            DecoderConfig::from_hf_config(&path).unwrap()
        };
        let llama3 =
            r#""factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 16"#;
        let v4 = read(
            "llama",
            &format!(r#", "rope_theta": 500000.0, "rope_scaling": {{"rope_type": "llama3", {llama3}}}"#),
        );
        let v5 = read(
            "llama",
            &format!(r#", "rope_parameters": {{"rope_type": "llama3", "rope_theta": 500000.0, {llama3}}}"#),
        );
        assert_eq!(v4.rope_base, 500000.0);
        assert_eq!(v5.rope_base, 500000.0);
        assert!(v4.rope_freq_factors.is_some());
        assert_eq!(v4.rope_freq_factors, v5.rope_freq_factors);
        // Gemma 3: one base per layer type, and linear scaling of the global layers (4B and up).
        let g4 = read(
            "gemma3_text",
            r#", "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "rope_scaling": {"rope_type": "linear", "factor": 8.0}"#,
        );
        let g5 = read(
            "gemma3_text",
            r#", "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
            "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}"#,
        );
        for g in [&g4, &g5] {
            assert_eq!((g.rope_base, g.rope_base_local), (1e6, Some(1e4)));
            assert_eq!(g.rope_freq_factors.as_deref(), Some(&[8.0f32; 4][..]));
        }
        // YaRN: the divisors of `Yarn` and the paper's scale, the same from both layouts.
        let yarn = r#""factor": 4.0, "original_max_position_embeddings": 256, "rope_theta": 10000.0"#;
        let y4 = read("qwen2", &format!(r#", "rope_scaling": {{"type": "yarn", {yarn}}}"#));
        let y5 = read(
            "qwen2",
            &format!(r#", "rope_parameters": {{"rope_type": "yarn", {yarn}}}"#),
        );
        let want = Yarn::new(4.0, 256.0).unwrap().frequency_divisors(8, 10_000.0);
        for y in [&y4, &y5] {
            assert_eq!(y.rope_freq_factors.as_deref(), Some(&want[..]));
            assert_eq!(y.rope_attn_factor, Yarn::mscale(4.0, 1.0) as f32);
        }
        let explicit = read(
            "qwen2",
            &format!(r#", "rope_parameters": {{"rope_type": "yarn", "attention_factor": 1.5, {yarn}}}"#),
        );
        assert_eq!(explicit.rope_attn_factor, 1.5);
        // A type the engine cannot rotate with is refused, not ignored.
        std::fs::write(
            &path,
            r#"{"model_type": "qwen2", "hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": 2,
            "intermediate_size": 16, "vocab_size": 16, "rope_parameters": {"rope_type": "dynamic", "factor": 4.0, "rope_theta": 1e6}}"#,
        )
        .unwrap();
        let err = DecoderConfig::from_hf_config(&path).unwrap_err().to_string();
        assert!(err.contains("\"dynamic\" is not supported"), "{err}");
    }

    /// Phi-3: a rotated fraction of each head, LongRoPE's short and long factors and attention factor,
    /// the stretched context (the original one without long factors; long factors that are not one per
    /// rotated pair refused), and a window on every layer.
    #[test]
    fn phi3_reads_partial_rotation_longrope_and_its_window() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"model_type": "phi3", "hidden_size": 32, "num_attention_heads": 4, "num_hidden_layers": 3,
            "intermediate_size": 16, "vocab_size": 16, "max_position_embeddings": 512, "sliding_window": 7,
            "original_max_position_embeddings": 128, "partial_rotary_factor": 0.5, "rope_theta": 10000.0,
            "rope_scaling": {"type": "longrope", "short_factor": [1.0, 2.0], "long_factor": [3.0, 4.0]}}"#,
        )
        .unwrap();
        let c = DecoderConfig::from_hf_config(&path).unwrap();
        assert_eq!((c.arch, c.head_dim, c.rope_dims), (Architecture::Phi3, 8, 4));
        assert_eq!(c.rope_style, RopeStyle::Halves);
        assert_eq!(c.rope_freq_factors.as_deref(), Some(&[1.0f32, 2.0][..]));
        let want = (1.0 + 4.0f64.ln() / 128f64.ln()).sqrt() as f32;
        assert!((c.rope_attn_factor - want).abs() < 1e-7);
        assert_eq!(c.context_length, 512);
        let long = c.rope_long.as_ref().unwrap();
        assert_eq!(
            (long.factors.as_slice(), long.original_context),
            (&[3.0f32, 4.0][..], 128)
        );
        assert!(!c.long_rope_for(128) && c.long_rope_for(129));
        assert_eq!((c.sliding_window, c.local_layers), (Some(7), vec![true; 3]));
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace(r#", "long_factor": [3.0, 4.0]"#, "")).unwrap();
        let c = DecoderConfig::from_hf_config(&path).unwrap();
        assert_eq!((c.context_length, c.rope_long.is_none()), (128, true));
        assert!(!c.long_rope_for(10_000));
        std::fs::write(&path, text.replace("[3.0, 4.0]", "[3.0]")).unwrap();
        let err = DecoderConfig::from_hf_config(&path).unwrap_err().to_string();
        assert!(err.contains("long factors must be 2 positive numbers"), "{err}");
    }

    /// SmolLM3's NoPE layers: from `no_rope_layers` (1 rotates, 0 does not), by default every fourth
    /// layer; Llama's rotation of adjacent pairs.
    #[test]
    fn smollm3_leaves_rope_out_of_every_fourth_layer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let read = |extra: &str| {
            std::fs::write(
                &path,
                format!(
                    r#"{{"model_type": "smollm3", "hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": 5,
                    "intermediate_size": 16, "vocab_size": 16{extra}}}"#
                ),
            )
            .unwrap();
            DecoderConfig::from_hf_config(&path)
        };
        let by_default = read("").unwrap();
        assert_eq!(by_default.nope_layers, vec![false, false, false, true, false]);
        assert_eq!(by_default.rope_style, RopeStyle::Interleaved);
        let listed = read(r#", "no_rope_layers": [0, 1, 1, 1, 0]"#).unwrap();
        assert_eq!(listed.nope_layers, vec![true, false, false, false, true]);
        let err = read(r#", "no_rope_layers": [1, 1]"#).unwrap_err().to_string();
        assert!(err.contains("no_rope_layers"), "{err}");
        let every_second = read(r#", "no_rope_layer_interval": 2"#).unwrap();
        assert_eq!(every_second.nope_layers, vec![false, true, false, true, false]);
        let err = read(r#", "use_sliding_window": true, "sliding_window": 4"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("field use_sliding_window"), "{err}");
    }
}
