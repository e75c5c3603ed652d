//! Shards: a run split as `--shard K/N` deals its scheme x family units round-robin to N shards,
//! which `merge` joins and `report` checks against what each shard was dealt.

use crate::analysis::results::CLEAN;

/// Parses `K/N` with 1 <= K <= N.
pub fn parse_shard(s: &str) -> std::result::Result<(usize, usize), String> {
    let bad = || format!("'{s}': expected K/N with 1 <= K <= N, e.g. 2/4");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The families (`clean` included) of scheme number `s` that this shard evaluates. Units are the
/// scheme x family pairs in run order, dealt round-robin to the shards.
pub fn shard_units(s: usize, families: &[String], shard: Option<(usize, usize)>) -> Vec<String> {
    let per_scheme = families.len() + 1;
    std::iter::once(CLEAN.to_string())
        .chain(families.iter().cloned())
        .enumerate()
        .filter(|(f, _)| shard.is_none_or(|(k, n)| (s * per_scheme + f) % n == k - 1))
        .map(|(_, name)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("0/4").is_err() && parse_shard("5/4").is_err() && parse_shard("x").is_err());
    }

    #[test]
    fn shards_partition_every_scheme_family_unit() {
        let families = vec!["typo".to_string(), "ocr".to_string()];
        for n in 1..=4 {
            let mut seen = Vec::new();
            for k in 1..=n {
                for s in 0..3 {
                    for f in shard_units(s, &families, Some((k, n))) {
                        seen.push((s, f));
                    }
                }
            }
            seen.sort();
            let mut all: Vec<(usize, String)> = (0..3)
                .flat_map(|s| shard_units(s, &families, None).into_iter().map(move |f| (s, f)))
                .collect();
            all.sort();
            assert_eq!(seen, all, "{n} shards");
        }
    }
}
