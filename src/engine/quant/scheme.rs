//! `Scheme`: the quantization schemes users type (`f32`, `int8`, `w4a16-rtn-g128`, ...), parsed and
//! printed in one place.

use std::fmt;
use std::str::FromStr;

use crate::engine::quant::blocks::BlockFormat;

/// How the weights (and, for W8A8, the activations) of every Linear in the transformer blocks are stored and multiplied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Full precision reference.
    F32,
    /// IEEE half-precision weights, f32 arithmetic.
    F16,
    /// W8A8: per-output-channel symmetric int8 weights, per-token dynamic int8 activations, int32 accumulation.
    Int8,
    /// Weight-only per-output-channel symmetric int8; f32 activations.
    W8A16,
    /// Weight-only 4-bit round-to-nearest, two weights a byte; one scale (and, asymmetric, one minimum)
    /// per `group` input weights of a row, or per row when `group` is `None`; f32 activations.
    W4A16Rtn { group: Option<usize>, asym: bool },
    /// Weight-only 4-bit, symmetric, per group, with AWQ's activation-aware per-channel scales and
    /// clipping search, calibrated on the suite's calibration split; f32 activations.
    W4A16Awq { group: usize },
    /// llama.cpp block formats (GGUF Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K), with activations
    /// quantized per block to Q8_0 / Q8_1 (Q8_K for the K-quants) as ggml's CPU backend pairs them.
    Gguf(crate::engine::quant::blocks::BlockFormat),
    /// Every tensor exactly as the model file stores it: what a llama.cpp deployment of a GGUF file
    /// runs (its block formats, f16 or f32 tensors), or the safetensors dtypes.
    Native,
}

/// The schemes a run uses when neither the suite nor the command line names any.
pub const DEFAULT_SCHEMES: &str = "f32,int8,w4a16-rtn-g128";

/// Every scheme name `shakedown schemes` lists (`w8a8` is accepted as another name for `int8`).
pub const ALL_SCHEMES: [&str; 24] = [
    "native",
    "f32",
    "f16",
    "int8",
    "w8a16",
    "w4a16-rtn-pc",
    "w4a16-rtn-g32",
    "w4a16-rtn-g64",
    "w4a16-rtn-g128",
    "w4a16-rtn-pc-asym",
    "w4a16-rtn-g32-asym",
    "w4a16-rtn-g64-asym",
    "w4a16-rtn-g128-asym",
    "w4a16-awq-g32",
    "w4a16-awq-g64",
    "w4a16-awq-g128",
    "q8_0",
    "q4_0",
    "q4_1",
    "q5_0",
    "q5_1",
    "q4_k",
    "q5_k",
    "q6_k",
];

impl Scheme {
    /// True for schemes that need calibration activations to quantize.
    pub fn needs_calibration(&self) -> bool {
        matches!(self, Scheme::W4A16Awq { .. })
    }

    /// One line on what the scheme stores and computes.
    pub fn describe(&self) -> String {
        match self {
            Scheme::Native => "every tensor as the model file stores it (a GGUF file's block formats, or the checkpoint's dtypes); activations as llama.cpp quantizes them for each format".into(),
            Scheme::F32 => "f32 weights and activations (reference)".into(),
            Scheme::F16 => "f16 weights, f32 arithmetic".into(),
            Scheme::Int8 => {
                "W8A8: per-channel symmetric int8 weights, per-token dynamic int8 activations, int32 accumulation"
                    .into()
            }
            Scheme::W8A16 => "per-channel symmetric int8 weights, f32 activations".into(),
            Scheme::Gguf(f) => describe_block_format(*f).into(),
            Scheme::W4A16Awq { group } => format!(
                "4-bit symmetric weights per group of {group} with AWQ activation-aware scales and clipping, calibrated on the suite's calibration split; f32 activations"
            ),
            Scheme::W4A16Rtn { group, asym } => format!(
                "4-bit round-to-nearest weights, {} {}, two a byte; f32 activations",
                if *asym {
                    "asymmetric (scale + minimum)"
                } else {
                    "symmetric (scale)"
                },
                match group {
                    Some(g) => format!("per group of {g}"),
                    None => "per output channel".into(),
                }
            ),
        }
    }

    /// Stored bits per weight for a row of `in_features` weights (scales and minimums as f32); `None`
    /// for `native`, whose bits are whatever the file stores.
    pub fn bits_per_weight(&self, in_features: usize) -> Option<f64> {
        let groups = |g: Option<usize>| in_features.div_ceil(g.unwrap_or(in_features).max(1)) as f64;
        let per_row = match self {
            Scheme::F32 => 32.0 * in_features as f64,
            Scheme::F16 => 16.0 * in_features as f64,
            Scheme::Int8 | Scheme::W8A16 => 8.0 * in_features as f64 + 32.0,
            Scheme::W4A16Rtn { group, asym } => {
                8.0 * in_features.div_ceil(2) as f64 + groups(*group) * if *asym { 64.0 } else { 32.0 }
            }
            // Codes, group scales, and the per-input-channel activation scale shared by all rows (not counted per row).
            Scheme::W4A16Awq { group } => 8.0 * in_features.div_ceil(2) as f64 + groups(Some(*group)) * 32.0,
            // Rows are zero-padded to whole blocks (256 weights for the K-quants), and the padding is stored.
            Scheme::Gguf(f) => (f.padded(in_features) / f.block_weights() * f.block_bytes() * 8) as f64,
            Scheme::Native => return None,
        };
        Some(per_row / in_features.max(1) as f64)
    }
}

/// What a llama.cpp block format stores and which activation blocks ggml dots it with.
fn describe_block_format(f: BlockFormat) -> &'static str {
    match f {
        BlockFormat::Q8_0 => "llama.cpp Q8_0 blocks of 32 weights: f16 scale, 8-bit codes; activations quantized per block to Q8_0 for integer block dots",
        BlockFormat::Q4_0 => "llama.cpp Q4_0 blocks of 32 weights: f16 scale, 4-bit codes; activations quantized per block to Q8_0 for integer block dots",
        BlockFormat::Q4_1 => "llama.cpp Q4_1 blocks of 32 weights: f16 scale and minimum, 4-bit codes; activations quantized per block to Q8_1 for integer block dots",
        BlockFormat::Q5_0 => "llama.cpp Q5_0 blocks of 32 weights: f16 scale, 5-bit codes; activations quantized per block to Q8_0 for integer block dots",
        BlockFormat::Q5_1 => "llama.cpp Q5_1 blocks of 32 weights: f16 scale and minimum, 5-bit codes; activations quantized per block to Q8_1 for integer block dots",
        BlockFormat::Q4K => "llama.cpp Q4_K super-blocks of 256 weights: f16 scale and minimum, 6-bit scales and minimums per 32, \
             4-bit codes; activations quantized to Q8_K for integer block dots",
        BlockFormat::Q5K => "llama.cpp Q5_K super-blocks of 256 weights: f16 scale and minimum, 6-bit scales and minimums per 32, \
             5-bit codes; activations quantized to Q8_K for integer block dots",
        BlockFormat::Q6K => "llama.cpp Q6_K super-blocks of 256 weights: f16 scale, signed 8-bit scales per 16, 6-bit codes; \
             activations quantized to Q8_K for integer block dots",
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scheme::Native => write!(f, "native"),
            Scheme::F32 => write!(f, "f32"),
            Scheme::F16 => write!(f, "f16"),
            Scheme::Int8 => write!(f, "int8"),
            Scheme::W8A16 => write!(f, "w8a16"),
            Scheme::W4A16Awq { group } => write!(f, "w4a16-awq-g{group}"),
            Scheme::Gguf(format) => write!(f, "{}", format.name()),
            Scheme::W4A16Rtn { group, asym } => {
                match group {
                    Some(g) => write!(f, "w4a16-rtn-g{g}")?,
                    None => write!(f, "w4a16-rtn-pc")?,
                }
                if *asym {
                    write!(f, "-asym")?;
                }
                Ok(())
            }
        }
    }
}

impl FromStr for Scheme {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s {
            "native" => return Ok(Scheme::Native),
            "f32" => return Ok(Scheme::F32),
            "f16" => return Ok(Scheme::F16),
            "int8" | "w8a8" => return Ok(Scheme::Int8),
            "w8a16" => return Ok(Scheme::W8A16),
            _ => {}
        }
        if let Some(format) = BlockFormat::ALL.into_iter().find(|f| f.name() == s) {
            return Ok(Scheme::Gguf(format));
        }
        if let Some(group) = s.strip_prefix("w4a16-awq-g").and_then(|g| g.parse::<usize>().ok()) {
            if [32, 64, 128].contains(&group) {
                return Ok(Scheme::W4A16Awq { group });
            }
        }
        if let Some(rest) = s.strip_prefix("w4a16-rtn-") {
            let (grouping, asym) = match rest.strip_suffix("-asym") {
                Some(g) => (g, true),
                None => (rest, false),
            };
            let group = match grouping {
                "pc" => Some(None),
                g => g
                    .strip_prefix('g')
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| [32, 64, 128].contains(n))
                    .map(Some),
            };
            if let Some(group) = group {
                return Ok(Scheme::W4A16Rtn { group, asym });
            }
        }
        Err(format!(
            "unknown scheme '{s}': expected one of {}",
            ALL_SCHEMES.join(", ")
        ))
    }
}

/// Parses a comma-separated scheme list such as `f32,int8`; duplicates are dropped, order is kept.
pub fn parse_scheme_list(list: &str) -> Result<Vec<Scheme>, String> {
    let mut out = Vec::new();
    for part in list.split(',').filter(|p| !p.trim().is_empty()) {
        let scheme: Scheme = part.parse()?;
        if !out.contains(&scheme) {
            out.push(scheme);
        }
    }
    if out.is_empty() {
        return Err("expected at least one scheme, e.g. f32,int8".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in ALL_SCHEMES.iter() {
            assert_eq!(name.parse::<Scheme>().unwrap().to_string(), *name);
        }
        assert_eq!("w8a8".parse::<Scheme>().unwrap(), Scheme::Int8);
    }

    #[test]
    fn rejects_unknown_names_with_the_choices() {
        let err = "int3".parse::<Scheme>().unwrap_err();
        assert!(err.contains("int3") && err.contains("w4a16-rtn-g128"));
        assert!("w4a16-rtn-g100".parse::<Scheme>().is_err());
        assert!("w4a16-rtn-asym".parse::<Scheme>().is_err());
    }

    #[test]
    fn list_keeps_order_and_drops_duplicates() {
        let list = parse_scheme_list("int8, f32,int8").unwrap();
        assert_eq!(list, vec![Scheme::Int8, Scheme::F32]);
        assert!(parse_scheme_list(" , ").is_err());
    }

    #[test]
    fn bits_per_weight_counts_scales() {
        assert_eq!(Scheme::F16.bits_per_weight(384), Some(16.0));
        assert_eq!(Scheme::Native.bits_per_weight(384), None);
        let g128 = Scheme::W4A16Rtn {
            group: Some(128),
            asym: false,
        };
        assert_eq!(g128.bits_per_weight(384), Some(4.25));
        let g32a = Scheme::W4A16Rtn {
            group: Some(32),
            asym: true,
        };
        assert_eq!(g32a.bits_per_weight(384), Some(6.0));
        assert_eq!("q4_0".parse::<Scheme>().unwrap().bits_per_weight(384), Some(4.5));
        assert_eq!("q8_0".parse::<Scheme>().unwrap().bits_per_weight(384), Some(8.5));
        assert_eq!("q4_1".parse::<Scheme>().unwrap().bits_per_weight(384), Some(5.0));
        let q4k: Scheme = "q4_k".parse().unwrap();
        assert_eq!(q4k.bits_per_weight(1536), Some(4.5));
        // 384 weights are stored as two super-blocks, the second half zero padding.
        assert_eq!(q4k.bits_per_weight(384), Some(6.0));
        for (name, bits) in [("q5_0", 5.5), ("q5_1", 6.0), ("q5_k", 5.5), ("q6_k", 6.5625)] {
            let scheme: Scheme = name.parse().unwrap();
            assert_eq!(
                scheme,
                Scheme::Gguf(BlockFormat::ALL.into_iter().find(|f| f.name() == name).unwrap())
            );
            assert_eq!(scheme.bits_per_weight(1536), Some(bits), "{name}");
        }
        // Every block format is a scheme.
        for f in BlockFormat::ALL {
            assert!(ALL_SCHEMES.contains(&f.name()), "{}", f.name());
        }
    }
}
