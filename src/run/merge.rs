//! `shakedown merge`: joins the shard directories of one run into the run an unsharded
//! invocation with the same seed would have written.

use std::path::Path;

use crate::analysis::results::{EvalRow, CLEAN};
use crate::analysis::summary::{build, Summary};
use crate::error::{Error, Result};
use crate::eval::sustain::Window;
use crate::run::rundir;

/// Reads every shard, checks they belong to one run and cover it, and writes the merged run to `out`.
pub fn merge(shards: &[&Path], out: &Path) -> Result<Summary> {
    let runs = shards.iter().map(|d| rundir::read(d)).collect::<Result<Vec<_>>>()?;
    let first = runs
        .first()
        .ok_or_else(|| Error::input("merge", "expected at least one shard directory"))?;
    let total = shard_total(first.summary.meta.shard.as_deref(), &first.dir)?;
    let mut seen = vec![false; total];
    for run in &runs {
        let m = &run.summary.meta;
        let (k, n) = shard_parts(m.shard.as_deref(), &run.dir)?;
        if n != total {
            return Err(Error::input(
                run.dir.display(),
                format!("shard {k}/{n} is of a {n}-way split, the first shard of a {total}-way one"),
            ));
        }
        let f = &first.summary.meta;
        let same = m.seed == f.seed
            && m.suite == f.suite
            && m.model_sha256 == f.model_sha256
            && m.scheme_names() == f.scheme_names()
            && m.families == f.families
            && m.limit == f.limit
            && m.corruptions == f.corruptions;
        if !same {
            return Err(Error::input(
                run.dir.display(),
                "not a shard of the same run (seed, suite, model, schemes, corruptions and limit must match)",
            ));
        }
        if std::mem::replace(&mut seen[k - 1], true) {
            return Err(Error::input(run.dir.display(), format!("shard {k}/{n} given twice")));
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(Error::input(
            "merge",
            format!("shard {}/{total} is missing", missing + 1),
        ));
    }

    let mut meta = first.summary.meta.clone();
    meta.shard = None;
    for info in &mut meta.schemes {
        if let Some(w) = runs
            .iter()
            .flat_map(|r| r.summary.meta.schemes.iter())
            .find(|s| s.name == info.name && s.weights.weight_count > 0)
        {
            info.weights = w.weights.clone();
        }
        if let Some(f) = runs
            .iter()
            .flat_map(|r| r.summary.meta.schemes.iter())
            .find_map(|s| (s.name == info.name).then(|| s.fidelity.clone()).flatten())
        {
            info.fidelity = Some(f);
        }
    }
    let scheme_rank = |s: &str| meta.schemes.iter().position(|x| x.name == s).unwrap_or(usize::MAX);
    let family_rank = |f: &str| {
        if f == CLEAN {
            0
        } else {
            1 + meta.families.iter().position(|x| x == f).unwrap_or(usize::MAX - 1)
        }
    };
    let mut rows: Vec<EvalRow> = runs.iter().flat_map(|r| r.rows.iter().cloned()).collect();
    // Stable: within one scheme x family every shard kept the unsharded order (severity, then example).
    rows.sort_by_key(|r| (scheme_rank(&r.scheme), family_rank(&r.family)));
    let mut windows: Vec<Window> = runs.iter().flat_map(|r| r.windows.iter().cloned()).collect();
    windows.sort_by_key(|w| (scheme_rank(&w.scheme), w.window));
    let summary = build(meta, &rows, &windows);
    rundir::write(out, &summary, &rows, &windows)?;
    Ok(summary)
}

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

fn shard_parts(shard: Option<&str>, dir: &Path) -> Result<(usize, usize)> {
    let s = shard.ok_or_else(|| Error::input(dir.display(), "not a shard (run with --shard K/N)"))?;
    parse_shard(s).map_err(|m| Error::input(dir.join("summary.json").display(), format!("field meta.shard: {m}")))
}

fn shard_total(shard: Option<&str>, dir: &Path) -> Result<usize> {
    shard_parts(shard, dir).map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("0/4").is_err() && parse_shard("5/4").is_err() && parse_shard("x").is_err());
    }
}
