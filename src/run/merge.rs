//! `shakedown merge`: joins the shard directories of one run into the run an unsharded
//! invocation with the same seed would have written.

use std::path::Path;

use crate::analysis::gate::Verdict;
use crate::analysis::results::{EvalRow, CLEAN};
use crate::analysis::summary::{build, Summary};
use crate::error::{Error, Result};
use crate::eval::sustain::Window;
use crate::run::shards::parse_shard;
use crate::run::{comparable, rundir};

/// Reads every shard, checks they belong to one run and cover it, and writes the merged run to
/// `out` (refused when `out` holds files, unless `overwrite`).
pub fn merge(shards: &[&Path], out: &Path, overwrite: bool) -> Result<(Summary, Option<Verdict>)> {
    rundir::check_writable(out, overwrite)?;
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
        let mut differ: Vec<String> = comparable::mismatches(f, m).iter().map(|x| x.describe()).collect();
        if m.scheme_names() != f.scheme_names() {
            differ.push(format!(
                "schemes differ ({:?} vs {:?})",
                f.scheme_names(),
                m.scheme_names()
            ));
        }
        if m.families != f.families {
            differ.push(format!("families differ ({:?} vs {:?})", f.families, m.families));
        }
        if !differ.is_empty() {
            return Err(Error::input(
                run.dir.display(),
                format!(
                    "not a shard of the same run as {}: {}",
                    first.dir.display(),
                    differ.join(", ")
                ),
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
    if let Some(task) = runs.iter().map(|r| &r.summary.meta.task).find(|t| !t.method.is_empty()) {
        meta.task = task.clone();
    }
    let infos = || runs.iter().flat_map(|r| r.summary.meta.schemes.iter());
    for info in &mut meta.schemes {
        if let Some(w) = infos().find(|s| s.name == info.name && s.weights.weight_count > 0) {
            info.weights = w.weights.clone();
        }
        info.answers_cut_off = infos().filter(|s| s.name == info.name).map(|s| s.answers_cut_off).sum();
        info.fidelity = infos().find_map(|s| (s.name == info.name).then(|| s.fidelity.clone()).flatten());
        // The shard that ran the scheme's clean inputs (and its sustain phase) measured its memory.
        info.memory = runs
            .iter()
            .filter(|r| r.rows.iter().any(|row| row.scheme == info.name && row.family == CLEAN))
            .flat_map(|r| r.summary.meta.schemes.iter())
            .find_map(|s| (s.name == info.name).then(|| s.memory.clone()).flatten());
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
    let gate = rundir::judge(&summary, &rows);
    rundir::write_run(out, &summary, gate.as_ref(), &rows, &windows, &[])?;
    Ok((summary, gate))
}

fn shard_parts(shard: Option<&str>, dir: &Path) -> Result<(usize, usize)> {
    let s = shard.ok_or_else(|| Error::input(dir.display(), "not a shard (run with --shard K/N)"))?;
    parse_shard(s).map_err(|m| Error::input(dir.join("summary.json").display(), format!("field meta.shard: {m}")))
}

fn shard_total(shard: Option<&str>, dir: &Path) -> Result<usize> {
    shard_parts(shard, dir).map(|(_, n)| n)
}
