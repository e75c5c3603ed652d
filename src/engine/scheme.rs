//! `Scheme`: the quantization schemes users type (`f32`, `int8`, `w4a16-rtn-g128`), parsed and printed in one place.

use std::fmt;
use std::str::FromStr;

/// How the weights (and, for W8A8, the activations) of every Linear in the transformer blocks are stored and multiplied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Full precision reference.
    F32,
    /// W8A8: per-output-channel symmetric int8 weights, per-token dynamic int8 activations, int32 accumulation.
    Int8,
    /// Weight-only 4-bit round-to-nearest, symmetric, one f32 scale per `group` input weights of a row; f32 activations.
    W4A16Rtn { group: usize },
}

/// The schemes a run uses when neither the suite nor the command line names any.
pub const DEFAULT_SCHEMES: &str = "f32,int8,w4a16-rtn-g128";

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scheme::F32 => write!(f, "f32"),
            Scheme::Int8 => write!(f, "int8"),
            Scheme::W4A16Rtn { group } => write!(f, "w4a16-rtn-g{group}"),
        }
    }
}

impl FromStr for Scheme {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s {
            "f32" => return Ok(Scheme::F32),
            "int8" | "w8a8" => return Ok(Scheme::Int8),
            _ => {}
        }
        if let Some(g) = s.strip_prefix("w4a16-rtn-g") {
            if let Ok(group) = g.parse::<usize>() {
                if [32, 64, 128].contains(&group) {
                    return Ok(Scheme::W4A16Rtn { group });
                }
            }
        }
        Err(format!(
            "unknown scheme '{s}': expected one of f32, int8, w4a16-rtn-g32, w4a16-rtn-g64, w4a16-rtn-g128"
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
        for name in ["f32", "int8", "w4a16-rtn-g32", "w4a16-rtn-g64", "w4a16-rtn-g128"] {
            assert_eq!(name.parse::<Scheme>().unwrap().to_string(), name);
        }
    }

    #[test]
    fn rejects_unknown_names_with_the_choices() {
        let err = "int3".parse::<Scheme>().unwrap_err();
        assert!(err.contains("int3") && err.contains("w4a16-rtn-g128"));
        assert!("w4a16-rtn-g100".parse::<Scheme>().is_err());
    }

    #[test]
    fn list_keeps_order_and_drops_duplicates() {
        let list = parse_scheme_list("int8, f32,int8").unwrap();
        assert_eq!(list, vec![Scheme::Int8, Scheme::F32]);
        assert!(parse_scheme_list(" , ").is_err());
    }
}
