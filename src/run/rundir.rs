//! The run directory: writing every output atomically, and reading a run back for `report`,
//! `compare` and `merge`.

use std::path::{Path, PathBuf};

use crate::analysis::gate::Baseline;
use crate::analysis::results::{
    read_parquet, read_throughput, write_metrics, write_parquet, write_throughput, EvalRow,
};
use crate::analysis::summary::{build, Summary};
use crate::error::{read_to_string, write_atomic, Error, Result};
use crate::eval::sustain::Window;

/// A run read back from disk.
pub struct LoadedRun {
    pub dir: PathBuf,
    pub summary: Summary,
    pub rows: Vec<EvalRow>,
    pub windows: Vec<Window>,
}

/// Writes results.parquet, throughput.parquet, metrics.parquet, summary.json, report.html, junit.xml
/// and summary.md. Each file goes to a temporary name first and is renamed into place; the report is
/// rendered before anything is written, so a failure leaves no half-written output.
pub fn write(dir: &Path, summary: &Summary, rows: &[EvalRow], windows: &[Window]) -> Result<()> {
    let html = crate::report::render_html(summary, rows, windows)?;
    let junit = crate::report::junit::render(summary);
    let markdown = crate::report::markdown::render(summary);
    let json = serde_json::to_string_pretty(summary).map_err(|e| Error::Internal(format!("summary.json: {e}")))?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    write_parquet(rows, &dir.join("results.parquet"))?;
    write_throughput(windows, &dir.join("throughput.parquet"))?;
    write_metrics(&summary.cells(), &dir.join("metrics.parquet"))?;
    write_atomic(&dir.join("summary.json"), json.as_bytes())?;
    write_atomic(&dir.join("junit.xml"), junit.as_bytes())?;
    write_atomic(&dir.join("summary.md"), markdown.as_bytes())?;
    write_atomic(&dir.join("report.html"), html.as_bytes())
}

/// Reads a `summary.json`, given the file or its run directory.
pub fn read_summary(path: &Path) -> Result<Summary> {
    let file = if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_path_buf()
    };
    serde_json::from_str(&read_to_string(&file)?)
        .map_err(|e| Error::input(file.display(), format!("not a shakedown summary.json: {e}")))
}

/// Reads a whole run directory.
pub fn read(dir: &Path) -> Result<LoadedRun> {
    if !dir.is_dir() {
        return Err(Error::input(
            dir.display(),
            "expected a run directory (with summary.json and results.parquet)",
        ));
    }
    Ok(LoadedRun {
        dir: dir.to_path_buf(),
        summary: read_summary(dir)?,
        rows: read_parquet(&dir.join("results.parquet"))?,
        windows: read_throughput(&dir.join("throughput.parquet"))?,
    })
}

/// `shakedown report RUN`: recomputes every statistic and the gate from the run's tables and
/// re-renders all outputs in place (optionally against a new baseline).
pub fn rerender(dir: &Path, baseline: Option<(&Path, Option<f64>)>) -> Result<Summary> {
    let run = read(dir)?;
    let mut meta = run.summary.meta.clone();
    if let Some((path, max_drop)) = baseline {
        let base = read_summary(path)?;
        let tolerance = max_drop.or(meta.baseline.as_ref().map(|b| b.max_drop)).unwrap_or(2.0);
        meta.baseline = Some(Baseline::from_summary(&path.display().to_string(), &base, tolerance));
    }
    let summary = build(meta, &run.rows, &run.windows);
    write(dir, &summary, &run.rows, &run.windows)?;
    Ok(summary)
}
