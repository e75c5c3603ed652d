//! A run directory's table checked against its `summary.json` before `report`, `compare` or `merge`
//! recompute anything from them. The gate judges the cells the table holds, so a `results.parquet`
//! from another run (other corruptions, another seed, fewer examples) would otherwise be re-gated as
//! this run: a family the run asked for and the table lacks read as "not in this run" and was skipped,
//! and a failed run could be rewritten as passed. The summary records a digest of the rows it was
//! written with, which the table must match; and (for directories written before the digest was kept)
//! every row must be a cell the summary's run made, with its seed, and every cell the run (or its
//! shard) made must hold one row per example.

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::analysis::results::{EvalRow, CLEAN};
use crate::analysis::summary::RunMeta;
use crate::corrupt::parse_spec_list;
use crate::error::{Error, Result};
use crate::run::shards::{parse_shard, shard_units};

/// One cell of a run: scheme, family (or `clean`), severity (0 for clean).
type CellKey = (String, String, u8);

/// SHA-256 (hex) of `rows` as JSON: every field of every row in order, so another run's table (other
/// examples, model, answers) differs even where its cells and counts are the same. Also a retrieval
/// run's `retrieval.parquet` rows.
pub fn digest<T: serde::Serialize>(rows: &[T]) -> Result<String> {
    let mut h = Sha256::new();
    for row in rows {
        let bytes =
            serde_json::to_vec(row).map_err(|e| crate::error::Error::Internal(format!("results digest: {e}")))?;
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Fails, naming the file and what disagrees, unless `rows` (read from `results`) are exactly the
/// cells `meta` (read from `summary`) describes, each with `meta.test_examples` rows and the run's seed.
pub fn check(meta: &RunMeta, rows: &[EvalRow], summary: &Path, results: &Path) -> Result<()> {
    let field = |name: &str, what: String| Error::input(summary.display(), format!("field meta.{name}: {what}"));
    if meta.sustain_only {
        return Ok(());
    }
    let schemes = meta.scheme_names();
    if schemes.is_empty() {
        return Err(field("schemes", "expected at least one scheme".into()));
    }
    if let Some(dup) = schemes.iter().enumerate().find(|(i, s)| schemes[..*i].contains(s)) {
        return Err(field("schemes", format!("scheme \"{}\" is listed twice", dup.1)));
    }
    let shard = match &meta.shard {
        Some(s) => Some(parse_shard(s).map_err(|m| field("shard", m))?),
        None => None,
    };
    let specs = parse_spec_list(&meta.corruptions).map_err(|m| field("corruptions", m))?;
    let names: Vec<String> = specs.iter().map(|s| s.name()).collect();
    if names != meta.families {
        return Err(field(
            "families",
            format!(
                "{:?} are not the families of meta.corruptions \"{}\" ({names:?})",
                meta.families, meta.corruptions
            ),
        ));
    }
    let mut expected: HashMap<CellKey, usize> = HashMap::new();
    let mut order: Vec<CellKey> = Vec::new();
    for (s, scheme) in schemes.iter().enumerate() {
        for family in shard_units(s, &meta.families, shard) {
            let levels: Vec<u8> = match specs.iter().find(|spec| spec.name() == family) {
                Some(spec) => spec.severities.iter().map(|l| l.level()).collect(),
                None => vec![0],
            };
            for level in levels {
                let key = (scheme.clone(), family.clone(), level);
                expected.insert(key.clone(), 0);
                order.push(key);
            }
        }
    }
    let table = |what: String| Error::input(results.display(), what);
    for (i, row) in rows.iter().enumerate() {
        if row.seed != meta.seed {
            return Err(table(format!(
                "row {} has seed {}, the run in summary.json seed {}: the table is not this run's",
                i + 1,
                row.seed,
                meta.seed
            )));
        }
        let key = (row.scheme.clone(), row.family.clone(), row.severity);
        match expected.get_mut(&key) {
            Some(n) => *n += 1,
            None => {
                return Err(table(format!(
                    "row {} ({}, {}{}) is not a cell of the run in summary.json (schemes {}, corruptions \"{}\"{}): the table is not this run's",
                    i + 1,
                    row.scheme,
                    row.family,
                    if row.family == CLEAN { String::new() } else { format!(" at severity {}", row.severity) },
                    schemes.join(","),
                    meta.corruptions,
                    meta.shard.as_ref().map_or(String::new(), |s| format!(", shard {s}")),
                )))
            }
        }
    }
    // The first incomplete cell in run order.
    let incomplete = order
        .iter()
        .map(|k| (k, expected[k]))
        .find(|&(_, n)| n != meta.test_examples);
    if let Some(((scheme, family, level), n)) = incomplete {
        let cell = if family == CLEAN {
            format!("{scheme} on clean inputs")
        } else {
            format!("{scheme} under {family} at severity {level}")
        };
        return Err(table(format!(
            "holds {n} rows for {cell}, where the run in summary.json evaluated {} examples: the table is not this run's, or is incomplete",
            meta.test_examples
        )));
    }
    // Last, what the cells cannot show: the same cells and counts holding other rows (other examples,
    // another model's answers). The checks above name what differs where they can.
    if let Some(want) = &meta.results_sha256 {
        if &digest(rows)? != want {
            return Err(Error::input(
                results.display(),
                format!(
                    "does not hold the rows {} was written with (meta.results_sha256 differs): the table is another run's, or was changed",
                    summary.display()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::SchemeInfo;

    fn row(scheme: &str, family: &str, severity: u8, example: &str, seed: u64) -> EvalRow {
        EvalRow {
            seed,
            ..EvalRow::labelled(scheme, family, severity, example, "a")
        }
    }

    fn meta(schemes: &[&str], corruptions: &str, families: &[&str]) -> RunMeta {
        RunMeta {
            seed: 7,
            test_examples: 2,
            corruptions: corruptions.into(),
            families: families.iter().map(|f| f.to_string()).collect(),
            schemes: schemes
                .iter()
                .map(|s| SchemeInfo {
                    name: s.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Every cell of schemes x (clean + families x severities), two examples each.
    fn whole(m: &RunMeta, specs: &[(&str, &[u8])]) -> Vec<EvalRow> {
        let mut rows = Vec::new();
        for s in m.scheme_names() {
            for (family, levels) in std::iter::once((CLEAN, &[0u8][..])).chain(specs.iter().copied()) {
                for &l in levels {
                    for e in ["e1", "e2"] {
                        rows.push(row(&s, family, l, e, 7));
                    }
                }
            }
        }
        rows
    }

    fn err(m: &RunMeta, rows: &[EvalRow]) -> String {
        check(m, rows, Path::new("summary.json"), Path::new("results.parquet"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_table_that_is_not_the_summarys_run_is_refused() {
        let m = meta(&["f32", "int8"], "typo:1,ocr:1-2", &["typo", "ocr"]);
        let specs: &[(&str, &[u8])] = &[("typo", &[1]), ("ocr", &[1, 2])];
        let rows = whole(&m, specs);
        assert!(check(&m, &rows, Path::new("s"), Path::new("r")).is_ok());
        // Another run's table: a family the summary's run asked for is missing (it would be skipped).
        let without_ocr: Vec<EvalRow> = rows.iter().filter(|r| r.family != "ocr").cloned().collect();
        assert!(err(&m, &without_ocr).contains("holds 0 rows for f32 under ocr at severity 1"));
        // A cell the run did not make, another seed, a missing example.
        let mut extra = rows.clone();
        extra.push(row("f32", "asr", 1, "e1", 7));
        assert!(err(&m, &extra).contains("(f32, asr at severity 1) is not a cell"));
        let mut reseeded = rows.clone();
        reseeded[3].seed = 8;
        assert!(err(&m, &reseeded).contains("row 4 has seed 8"));
        assert!(err(&m, &rows[1..]).contains("holds 1 rows for f32 on clean inputs"));
    }

    /// With the digest recorded, a table of the same cells and counts but other rows (other examples,
    /// other answers) is refused; the same rows pass.
    #[test]
    fn a_table_with_the_same_cells_but_other_rows_is_refused_by_its_digest() {
        let mut m = meta(&["f32"], "typo:1", &["typo"]);
        let rows = whole(&m, &[("typo", &[1])]);
        m.results_sha256 = Some(digest(&rows).unwrap());
        assert!(check(&m, &rows, Path::new("s"), Path::new("r")).is_ok());
        let mut other = rows.clone();
        other[2].example_id = "e9".into();
        assert!(err(&m, &other).contains("meta.results_sha256 differs"));
        let mut answered = rows;
        answered[0].correct = false;
        assert!(err(&m, &answered).contains("meta.results_sha256 differs"));
    }

    #[test]
    fn the_summarys_own_fields_must_agree() {
        let rows = Vec::new();
        assert!(err(&meta(&[], "", &[]), &rows).contains("field meta.schemes: expected at least one"));
        assert!(err(&meta(&["f32", "f32"], "", &[]), &rows).contains("listed twice"));
        assert!(err(&meta(&["f32"], "typo:1", &[]), &rows).contains("field meta.families"));
        assert!(err(&meta(&["f32"], "typo:9", &["typo"]), &rows).contains("field meta.corruptions"));
        let mut m = meta(&["f32"], "", &[]);
        m.shard = Some("1/0".into());
        assert!(err(&m, &rows).contains("field meta.shard"));
    }

    /// A shard holds only its own scheme x family units, each whole.
    #[test]
    fn a_shard_holds_exactly_its_units() {
        let mut m = meta(&["f32"], "typo:1", &["typo"]);
        let rows = whole(&m, &[("typo", &[1])]);
        m.shard = Some("1/2".into());
        let clean: Vec<EvalRow> = rows.iter().filter(|r| r.family == CLEAN).cloned().collect();
        assert!(check(&m, &clean, Path::new("s"), Path::new("r")).is_ok());
        assert!(err(&m, &rows).contains("shard 1/2"));
        m.shard = Some("2/2".into());
        assert!(err(&m, &clean).contains("is not a cell"));
    }
}
