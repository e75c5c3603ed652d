//! RoPE settings of a Hugging Face `config.json` that need more than a field read: the two layouts
//! transformers writes them in, and Llama 3's frequency factors worked out from their parameters.

use crate::engine::layers::yarn::Yarn;
use crate::error::{Error, Result};

/// The RoPE settings of a Hugging Face `config.json` in either layout: transformers 4 writes `rope_theta`
/// (Gemma 3 also `rope_local_base_freq`) and a `rope_scaling` object; transformers 5 writes
/// `rope_parameters`, one object (`rope_theta`, `rope_type` and the scaling's fields) or one per layer
/// type (`full_attention`, `sliding_attention`). A loader that read only the first layout ran models
/// saved by transformers 5 with the default base (found by the tiny Qwen2 and Gemma 3 checkpoints).
pub struct HfRope<'a> {
    pub base: f64,
    /// The sliding-window layers' base, when the config gives one per layer type.
    pub local_base: Option<f64>,
    /// The object that holds the scaling type and its fields, if any.
    scaling: Option<&'a serde_json::Value>,
    /// The global layers' `rope_parameters` object, if any.
    global: Option<&'a serde_json::Value>,
}

impl<'a> HfRope<'a> {
    pub fn read(v: &'a serde_json::Value, origin: &str) -> Result<Self> {
        let object = |k: &str| v.get(k).filter(|x| x.is_object());
        let params = object("rope_parameters");
        let per_type = params.filter(|p| p.get("full_attention").is_some() || p.get("sliding_attention").is_some());
        let (global, local) = match per_type {
            Some(p) => (p.get("full_attention"), p.get("sliding_attention")),
            None => (params, None),
        };
        fn theta(o: Option<&serde_json::Value>) -> Option<&serde_json::Value> {
            o.and_then(|o| o.get("rope_theta"))
        }
        let base = match theta(global).or_else(|| v.get("rope_theta")) {
            None => 10_000.0,
            Some(b) => b
                .as_f64()
                .ok_or_else(|| Error::input(origin, "field rope_theta: expected a number"))?,
        };
        let local_base = theta(local).and_then(|b| b.as_f64());
        Ok(HfRope {
            base,
            local_base,
            scaling: object("rope_scaling").or(global),
            global,
        })
    }

    /// The scaling type (`rope_type`, or transformers 4's `type`).
    pub fn scaling_type(&self) -> Option<&'a str> {
        let s = self.scaling?;
        s.get("rope_type").or_else(|| s.get("type")).and_then(|t| t.as_str())
    }

    /// A number of the scaling object.
    pub fn number(&self, k: &str) -> Option<f64> {
        self.scaling?.get(k)?.as_f64()
    }

    /// A number of the global layers' `rope_parameters` (transformers 5 keeps `partial_rotary_factor` there).
    pub fn global_number(&self, k: &str) -> Option<f64> {
        self.global?.get(k)?.as_f64()
    }

    /// A list of numbers of the scaling object.
    pub fn numbers(&self, k: &str) -> Option<Vec<f64>> {
        self.scaling?.get(k)?.as_array()?.iter().map(|x| x.as_f64()).collect()
    }

    /// Llama 3's RoPE frequency factors for `dims` rotated features (Meta's `apply_scaling`,
    /// transformers `_compute_llama3_parameters`): wavelengths above `original / low_freq_factor` are
    /// slowed by `factor`, below `original / high_freq_factor` kept, and smoothly blended between.
    pub fn llama3_factors(&self, dims: usize, origin: &str) -> Result<Vec<f32>> {
        let get = |k: &str| {
            self.number(k)
                .ok_or_else(|| Error::input(origin, format!("field rope_scaling.{k}: expected a number")))
        };
        let factor = get("factor")?;
        let low = get("low_freq_factor")?;
        let high = get("high_freq_factor")?;
        let original = get("original_max_position_embeddings")?;
        let (low_wavelen, high_wavelen) = (original / low, original / high);
        Ok((0..dims / 2)
            .map(|i| {
                let freq = self.base.powf(-2.0 * i as f64 / dims as f64);
                let wavelen = 2.0 * std::f64::consts::PI / freq;
                let scaled = if wavelen < high_wavelen {
                    freq
                } else if wavelen > low_wavelen {
                    freq / factor
                } else {
                    let smooth = (original / wavelen - low) / (high - low);
                    (1.0 - smooth) * freq / factor + smooth * freq
                };
                (freq / scaled) as f32
            })
            .collect())
    }

    /// YaRN's frequency divisors for `dims` rotated features and its scale of sines and cosines, as
    /// transformers reads them (`_compute_yarn_parameters`): `factor` (or `context / original`),
    /// `original_max_position_embeddings`, `beta_fast`/`beta_slow` (32/1), `truncate` (true), and an
    /// `attention_factor`, else `mscale(factor, mscale) / mscale(factor, mscale_all_dim)` when both are
    /// given, else the paper's `0.1 ln(factor) + 1`.
    pub fn yarn(&self, dims: usize, context: usize, origin: &str) -> Result<(Vec<f32>, f32)> {
        let original = self.number("original_max_position_embeddings").ok_or_else(|| {
            Error::input(
                origin,
                "field rope_scaling.original_max_position_embeddings: expected a number (YaRN)",
            )
        })?;
        let factor = self.number("factor").unwrap_or(context as f64 / original);
        let stretch =
            Yarn::new(factor, original).map_err(|m| Error::input(origin, format!("field rope_scaling.factor: {m}")))?;
        let positive = |k: &str| self.number(k).filter(|x| *x > 0.0);
        let scale = match (
            self.number("attention_factor"),
            positive("mscale"),
            positive("mscale_all_dim"),
        ) {
            (Some(a), _, _) => a,
            (None, Some(m), Some(all)) => Yarn::mscale(factor, m) / Yarn::mscale(factor, all),
            _ => Yarn::mscale(factor, 1.0),
        };
        let yarn = Yarn {
            beta_fast: positive("beta_fast").unwrap_or(32.0),
            beta_slow: positive("beta_slow").unwrap_or(1.0),
            truncate: self
                .scaling
                .and_then(|s| s.get("truncate"))
                .and_then(|t| t.as_bool())
                .unwrap_or(true),
            ..stretch
        };
        Ok((yarn.frequency_divisors(dims, self.base), scale as f32))
    }
}
