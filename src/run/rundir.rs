//! The run directory: writing every output atomically, reading a run back for `report`, `compare`
//! and `merge`, and re-gating a run against a baseline beside its own verdict (never over it).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::gate::{self, Baseline, Verdict};
use crate::analysis::metrics::RowIndex;
use crate::analysis::results::EvalRow;
use crate::analysis::retrieval::summary::build as retrieval_summary;
use crate::analysis::retrieval::table::read_rows;
use crate::analysis::summary::{build, Summary};
use crate::analysis::tables::{metrics_parquet, read_results, read_throughput, results_parquet, throughput_parquet};
use crate::error::{read_to_string, Error, Result};
use crate::eval::sustain::Window;
use crate::files::write_atomic;
use crate::run::{comparable, consistency};

/// `summary.json`: the run's summary and the gate's verdict (absent for shards and `sustain`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryFile {
    #[serde(flatten)]
    pub summary: Summary,
    pub gate: Option<Verdict>,
}

/// A run read back from disk.
pub struct LoadedRun {
    pub dir: PathBuf,
    pub summary: Summary,
    pub gate: Option<Verdict>,
    pub rows: Vec<EvalRow>,
    pub windows: Vec<Window>,
}

/// The files a run directory holds.
pub const OUTPUTS: [&str; 7] = [
    "results.parquet",
    "throughput.parquet",
    "metrics.parquet",
    "summary.json",
    "junit.xml",
    "summary.md",
    "report.html",
];

/// Fails unless `dir` can be written: an existing directory is refused unless `overwrite`, and the
/// nearest existing ancestor must be a writable directory (checked by creating and removing a file
/// there), so a run fails before any work rather than after it. Nothing is created.
pub fn check_writable(dir: &Path, overwrite: bool) -> Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            return Err(Error::input(dir.display(), "exists and is not a directory"));
        }
        let holds_a_run = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?.next().is_some();
        if holds_a_run && !overwrite {
            return Err(Error::input(
                dir.display(),
                "already exists and is not empty; choose a new directory or ask to overwrite it",
            ));
        }
    }
    let mut probe_dir = dir;
    while !probe_dir.exists() {
        probe_dir = match probe_dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
    }
    if !probe_dir.is_dir() {
        return Err(Error::input(
            probe_dir.display(),
            "is a file, not a directory; the run directory cannot be made under it",
        ));
    }
    let probe = probe_dir.join(format!(".shakedown-write-test-{}", std::process::id()));
    // Named as what failed: the run directory (`--out /proc/x` said "/proc: No such file or
    // directory", of a directory that exists).
    std::fs::write(&probe, b"").map_err(|e| {
        Error::input(
            dir.display(),
            format!("cannot make a directory in {} ({e})", probe_dir.display()),
        )
    })?;
    let _ = std::fs::remove_file(&probe);
    // The directories still to make, made and removed again: a name the file system refuses (too long,
    // a character it does not take) is found now, not after every scheme has run.
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .collect();
    let mut made = Vec::new();
    let mut refused = None;
    for d in missing.iter().rev() {
        match std::fs::create_dir(d) {
            Ok(()) => made.push(*d),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    for d in made.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
    match refused {
        Some(e) => Err(Error::input(dir.display(), format!("cannot be made ({e})"))),
        None => Ok(()),
    }
}

/// Writes results.parquet, throughput.parquet, metrics.parquet, summary.json, report.html, junit.xml
/// and summary.md (a `sustain` run: the throughput outputs only), and the task's `extra` files (name,
/// bytes). Each file goes to a temporary name first and is renamed into place; every file is made
/// before the first is written, so a failure to make one leaves no half-written output, and
/// summary.json, which `report` and `compare` check the tables against, is written last.
pub fn write(
    dir: &Path,
    summary: &Summary,
    gate: Option<&Verdict>,
    rows: &[EvalRow],
    windows: &[Window],
    extra: &[(&str, Vec<u8>)],
) -> Result<()> {
    let html = crate::report::render_html(summary, gate, rows, windows)?;
    let markdown = crate::report::markdown::render(summary, gate);
    let mut file = SummaryFile {
        summary: summary.clone(),
        gate: gate.cloned(),
    };
    if !summary.meta.sustain_only {
        file.summary.meta.results_sha256 = Some(consistency::digest(rows)?);
    }
    let json = serde_json::to_string_pretty(&file).map_err(|e| Error::Internal(format!("summary.json: {e}")))?;
    // Every file is made before the first is written: a table that cannot be made leaves the folder
    // as it was, not a run's first file and none of the rest.
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    if !summary.meta.sustain_only {
        files.push(("results.parquet", results_parquet(rows, &summary.meta.task.measures)?));
        files.push(("metrics.parquet", metrics_parquet(&summary.cells())?));
        files.push(("junit.xml", crate::report::junit::render(summary, gate).into_bytes()));
    }
    files.push(("throughput.parquet", throughput_parquet(windows)?));
    files.push(("summary.md", markdown.into_bytes()));
    files.push(("report.html", html.into_bytes()));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for (name, bytes) in extra
        .iter()
        .map(|(n, b)| (*n, b))
        .chain(files.iter().map(|(n, b)| (*n, b)))
    {
        write_atomic(&dir.join(name), bytes)?;
    }
    write_atomic(&dir.join("summary.json"), json.as_bytes())
}

/// Writes a new run into `dir` (`write`; `also`: the task's own files, name and bytes), then
/// removes what a run it replaced (`--force`) left there: verdicts re-gated against a baseline
/// (`gate-vs-*`, which judged the old tables) and outputs this run does not write (a `sustain` run's
/// missing accuracy tables, another task's retrieval rows). Only the tool's own file names are removed.
pub fn write_run(
    dir: &Path,
    summary: &Summary,
    gate: Option<&Verdict>,
    rows: &[EvalRow],
    windows: &[Window],
    also: &[(&str, Vec<u8>)],
) -> Result<()> {
    write(dir, summary, gate, rows, windows, also)?;
    let accuracy_tables = ["results.parquet", "metrics.parquet", "junit.xml"];
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let regated = name.starts_with("gate-vs-") && [".json", ".md", ".junit.xml"].iter().any(|x| name.ends_with(x));
        let unwritten = (summary.meta.sustain_only && accuracy_tables.contains(&name))
            || (name == ROWS_FILE && !also.iter().any(|(a, _)| *a == name));
        if regated || unwritten {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// Reads a `summary.json`, given the file or its run directory.
pub fn read_summary(path: &Path) -> Result<SummaryFile> {
    let file = if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_path_buf()
    };
    parse_summary(&read_to_string(&file)?, &file.display().to_string())
}

/// Reads the `summary.json` of a run used as a baseline: a whole run with accuracy figures. A shard
/// holds only some of the cells (the others read as zero, against which every check passes) and a
/// `sustain` run none, so both are refused.
pub fn read_baseline(path: &Path) -> Result<SummaryFile> {
    let file = read_summary(path)?;
    let meta = &file.summary.meta;
    if let Some(shard) = &meta.shard {
        return Err(Error::input(
            path.display(),
            format!(
                "shard {shard} of a run: a baseline must be a whole run (join the shards with `shakedown merge` first)"
            ),
        ));
    }
    if meta.sustain_only {
        return Err(Error::input(
            path.display(),
            "a `sustain` run has no accuracy figures to compare with: use a `run` directory as the baseline",
        ));
    }
    Ok(file)
}

/// Parses the text of a `summary.json`; `origin` names it in errors.
pub fn parse_summary(text: &str, origin: &str) -> Result<SummaryFile> {
    serde_json::from_str(text).map_err(|e| Error::input(origin, format!("not a shakedown summary.json: {e}")))
}

/// Reads a whole run directory.
pub fn read(dir: &Path) -> Result<LoadedRun> {
    if !dir.is_dir() {
        return Err(Error::input(
            dir.display(),
            "expected a run directory (with summary.json and results.parquet)",
        ));
    }
    let file = read_summary(dir)?;
    let rows = if file.summary.meta.sustain_only {
        Vec::new()
    } else {
        let path = dir.join("results.parquet");
        let (measures, rows) = read_results(&path)?;
        if measures != file.summary.meta.task.measures {
            return Err(Error::input(
                path.display(),
                format!(
                    "its metrics {measures:?} are not the ones summary.json names ({:?})",
                    file.summary.meta.task.measures
                ),
            ));
        }
        consistency::check(&file.summary.meta, &rows, &dir.join("summary.json"), &path)?;
        rows
    };
    // A run with a sustained-load phase wrote its windows there: without the file its throughput
    // figures (and any rule on them) would silently read as never measured.
    let throughput = dir.join("throughput.parquet");
    if file.summary.meta.sustain.is_some() && !throughput.exists() {
        return Err(Error::input(
            throughput.display(),
            "is missing: the run in summary.json measured sustained throughput (meta.sustain), and its windows are kept in this file",
        ));
    }
    Ok(LoadedRun {
        dir: dir.to_path_buf(),
        summary: file.summary,
        gate: file.gate,
        rows,
        windows: read_throughput(&throughput)?,
    })
}

/// The gate of a summary: none for shards, `sustain` runs and suites without gate rules or a
/// baseline (a gate that judged nothing must not read PASSED).
pub fn judge(summary: &Summary, rows: &[EvalRow]) -> Option<Verdict> {
    let meta = &summary.meta;
    if meta.shard.is_some() || meta.sustain_only || (meta.gate_rules.is_empty() && meta.baseline.is_none()) {
        return None;
    }
    let index = RowIndex::new(rows, &summary.meta.task.measures, summary.meta.seed);
    Some(gate::evaluate(summary, &index))
}

/// `shakedown report RUN`: recomputes every statistic and the gate from the run's tables and
/// re-renders all outputs in place (the same bytes, for an unchanged run).
pub fn rerender(dir: &Path) -> Result<(Summary, Option<Verdict>)> {
    let run = read(dir)?;
    let mut summary = build(run.summary.meta.clone(), &run.rows, &run.windows);
    summary.retrieval = run.summary.retrieval.clone();
    recompute_retrieval(dir, &mut summary)?;
    let verdict = judge(&summary, &run.rows);
    write(dir, &summary, verdict.as_ref(), &run.rows, &run.windows, &[])?;
    Ok((summary, verdict))
}

/// What re-gating against a baseline produced.
pub struct Regated {
    pub summary: Summary,
    pub verdict: Verdict,
    /// The files written beside the run's own outputs.
    pub files: Vec<PathBuf>,
    /// Fields in which the runs differ (allowed by the caller).
    pub mismatches: Vec<comparable::Mismatch>,
}

/// `shakedown report RUN --baseline B`: the run's gate with the baseline's checks added, written to
/// `gate-vs-<baseline>.json`, `.md` and `.junit.xml` in the run directory; the run's own outputs
/// stay as they are. Runs that differ in a field that makes them incomparable are refused unless
/// `allow_mismatch`.
pub fn regate(dir: &Path, baseline_path: &Path, max_drop: Option<f64>, allow_mismatch: bool) -> Result<Regated> {
    let run = read(dir)?;
    if let Some(shard) = &run.summary.meta.shard {
        return Err(Error::input(
            dir.display(),
            format!("shard {shard} of a run has no gate: join the shards with `shakedown merge`, then re-gate the merged run"),
        ));
    }
    let base = read_baseline(baseline_path)?;
    let source = baseline_path.display().to_string();
    let mismatches = comparable::check(&run.summary.meta, &base.summary.meta, &source, allow_mismatch)?;
    let mut meta = run.summary.meta.clone();
    let tolerance = max_drop.or(meta.baseline.as_ref().map(|b| b.max_drop)).unwrap_or(2.0);
    let mut baseline = Baseline::from_summary(&source, &base.summary, tolerance);
    baseline.mismatches = mismatches.iter().map(|m| m.describe()).collect();
    meta.baseline = Some(baseline);
    let summary = build(meta, &run.rows, &run.windows);
    let index = RowIndex::new(&run.rows, &summary.meta.task.measures, summary.meta.seed);
    let verdict = gate::evaluate(&summary, &index);
    let name = format!("gate-vs-{}", baseline_name(baseline_path));
    let file = SummaryFile {
        summary: summary.clone(),
        gate: Some(verdict.clone()),
    };
    let json = serde_json::to_string_pretty(&file).map_err(|e| Error::Internal(format!("{name}.json: {e}")))?;
    let files = vec![
        (dir.join(format!("{name}.json")), json),
        (
            dir.join(format!("{name}.md")),
            crate::report::markdown::render(&summary, Some(&verdict)),
        ),
        (
            dir.join(format!("{name}.junit.xml")),
            crate::report::junit::render(&summary, Some(&verdict)),
        ),
    ];
    for (path, text) in &files {
        write_atomic(path, text.as_bytes())?;
    }
    Ok(Regated {
        summary,
        verdict,
        files: files.into_iter().map(|(p, _)| p).collect(),
        mismatches,
    })
}

/// A file-name-safe name for a baseline: its run directory's name.
fn baseline_name(path: &Path) -> String {
    let dir = if path.is_dir() { Some(path) } else { path.parent() };
    let name = dir
        .and_then(|d| d.canonicalize().ok())
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "baseline".into());
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The retrieval rows' file in a run directory.
pub const ROWS_FILE: &str = "retrieval.parquet";

/// `shakedown report RUN` on a retrieve run: the retrieval summary recomputed from `retrieval.parquet`
/// (the searches' and indexes' records are measurements, kept as they were).
fn recompute_retrieval(dir: &Path, summary: &mut Summary) -> Result<()> {
    if let Some(old) = summary.retrieval.take() {
        let path = dir.join(ROWS_FILE);
        let rows = read_rows(&path)?;
        if let Some(want) = &old.meta.rows_sha256 {
            if &consistency::digest(&rows)? != want {
                return Err(Error::input(
                    path.display(),
                    "does not hold the rows summary.json was written with (retrieval.meta.rows_sha256 differs): the table is another run's, or was changed",
                ));
            }
        }
        summary.retrieval = Some(retrieval_summary(old.meta, &rows, old.searches, old.indexes));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_run_directory_is_refused_unless_overwriting() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        check_writable(&dir, false).unwrap();
        assert!(!dir.exists(), "the check creates nothing");
        check_writable(&tmp.path().join("a/b/c"), false).unwrap();
        std::fs::create_dir(&dir).unwrap();
        check_writable(&dir, false).unwrap();
        std::fs::write(dir.join("summary.json"), "{}").unwrap();
        let err = check_writable(&dir, false).unwrap_err().to_string();
        assert!(err.contains("already exists"), "{err}");
        check_writable(&dir, true).unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, "x").unwrap();
        assert!(check_writable(&file.join("run"), false).is_err());
    }

    #[test]
    fn an_unwritable_parent_is_found_before_any_work() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let locked = tmp.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
        let writable_anyway = std::fs::write(locked.join("x"), b"").is_ok(); // root ignores modes
        if !writable_anyway {
            assert!(check_writable(&locked.join("run"), false).is_err());
        }
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    }

    /// A name the file system refuses is found before any work, and a probe leaves nothing behind.
    #[test]
    fn a_directory_name_the_file_system_refuses_is_found_before_any_work() {
        let tmp = tempfile::tempdir().unwrap();
        let long = tmp.path().join("a").join("o".repeat(300));
        let err = check_writable(&long, false).unwrap_err().to_string();
        assert!(err.contains("cannot be made"), "{err}");
        assert!(check_writable(&tmp.path().join("b/c/run"), false).is_ok());
        // A relative path is made under the working directory (its last ancestor is the empty path).
        let here = std::env::current_dir().unwrap();
        let relative = Path::new("shakedown-probe-test")
            .join(format!("{}", std::process::id()))
            .join("run");
        assert!(check_writable(&relative, false).is_ok());
        assert!(!here.join("shakedown-probe-test").exists());
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "nothing left by the probes"
        );
    }
}
