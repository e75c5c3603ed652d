//! The run directory's tables through polars: `results.parquet` (one row per scheme x variant, one
//! `measure:<name>` column per metric of the task), `throughput.parquet` (one row per scheme x
//! window) and `metrics.parquet` (one row per cell). The only module that uses polars.

use std::path::Path;

use polars::prelude::*;

use crate::analysis::metrics::Cell;
use crate::analysis::results::EvalRow;
use crate::error::{Error, Result};
use crate::eval::sustain::Window;
use crate::files::write_atomic;

/// Prefix of the per-example metric columns of `results.parquet`.
pub const MEASURE_PREFIX: &str = "measure:";

/// Builds the results DataFrame; `measures` names the rows' `measures`.
pub fn results_frame(rows: &[EvalRow], measures: &[String]) -> Result<DataFrame> {
    let col_str =
        |name: &str, f: &dyn Fn(&EvalRow) -> &str| Column::new(name.into(), rows.iter().map(f).collect::<Vec<&str>>());
    let mut columns = vec![
        col_str("scheme", &|r| &r.scheme),
        col_str("example_id", &|r| &r.example_id),
        col_str("family", &|r| &r.family),
        Column::new(
            "severity".into(),
            rows.iter().map(|r| r.severity as u32).collect::<Vec<u32>>(),
        ),
        Column::new("seed".into(), rows.iter().map(|r| r.seed).collect::<Vec<u64>>()),
        col_str("expected", &|r| &r.expected),
        col_str("prediction", &|r| &r.prediction),
        Column::new("correct".into(), rows.iter().map(|r| r.correct).collect::<Vec<bool>>()),
        Column::new(
            "score".into(),
            rows.iter().map(|r| r.score).collect::<Vec<Option<f32>>>(),
        ),
        Column::new(
            "raw_output".into(),
            rows.iter()
                .map(|r| r.raw_output.as_deref())
                .collect::<Vec<Option<&str>>>(),
        ),
        Column::new("cer".into(), rows.iter().map(|r| r.cer).collect::<Vec<f64>>()),
        Column::new("wer".into(), rows.iter().map(|r| r.wer).collect::<Vec<f64>>()),
        Column::new("wer_raw".into(), rows.iter().map(|r| r.wer_raw).collect::<Vec<f64>>()),
        col_str("text", &|r| &r.text),
    ];
    for (m, name) in measures.iter().enumerate() {
        columns.push(Column::new(
            format!("{MEASURE_PREFIX}{name}").into(),
            rows.iter()
                .map(|r| r.measures.get(m).copied().unwrap_or(0.0))
                .collect::<Vec<f64>>(),
        ));
    }
    DataFrame::new(rows.len(), columns).map_err(|e| Error::Internal(format!("building results table: {e}")))
}

/// Writes `results.parquet` atomically.
pub fn write_results(rows: &[EvalRow], measures: &[String], path: &Path) -> Result<()> {
    write_atomic(path, &results_parquet(rows, measures)?)
}

/// The bytes of `results.parquet` (a run's files are all made before the first is written).
pub fn results_parquet(rows: &[EvalRow], measures: &[String]) -> Result<Vec<u8>> {
    frame_parquet(results_frame(rows, measures)?, "results.parquet")
}

/// Reads `results.parquet` back: the metric names of its `measure:` columns, and the rows.
pub fn read_results(path: &Path) -> Result<(Vec<String>, Vec<EvalRow>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    results_from_bytes(&bytes, &path.display().to_string())
}

/// `read_results` on the bytes of a parquet file; `origin` names it in errors.
pub fn results_from_bytes(bytes: &[u8], origin: &str) -> Result<(Vec<String>, Vec<EvalRow>)> {
    let df = frame_from_bytes(bytes, origin)?;
    let t = Typed { df: &df, origin };
    let (scheme, id, family) = (t.strs("scheme")?, t.strs("example_id")?, t.strs("family")?);
    let (expected, prediction, text) = (t.strs("expected")?, t.strs("prediction")?, t.strs("text")?);
    let raw = t.opt_strs("raw_output")?;
    let severity = t.column("severity")?.u32().map_err(|e| t.bad(e))?.clone();
    let seed = t.column("seed")?.u64().map_err(|e| t.bad(e))?.clone();
    let correct = t.column("correct")?.bool().map_err(|e| t.bad(e))?.clone();
    let score = t.column("score")?.f32().map_err(|e| t.bad(e))?.clone();
    let (cer, wer) = (t.f64s("cer")?, t.f64s("wer")?);
    // Runs written before `wer_raw` existed have none: read as 0.
    let wer_raw = match df.column("wer_raw") {
        Ok(_) => t.f64s("wer_raw")?,
        Err(_) => vec![None; df.height()],
    };
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .filter_map(|n| n.strip_prefix(MEASURE_PREFIX).map(String::from))
        .collect();
    let measures = names
        .iter()
        .map(|n| t.f64s(&format!("{MEASURE_PREFIX}{n}")))
        .collect::<Result<Vec<_>>>()?;
    let rows = (0..df.height())
        .map(|i| {
            let sev = severity.get(i).unwrap_or(0);
            if sev > 5 {
                return Err(Error::input(origin, format!("row {i}: severity {sev} is not 0..5")));
            }
            Ok(EvalRow {
                scheme: scheme[i].clone(),
                example_id: id[i].clone(),
                family: family[i].clone(),
                severity: sev as u8,
                seed: seed.get(i).unwrap_or(0),
                expected: expected[i].clone(),
                prediction: prediction[i].clone(),
                correct: correct.get(i).unwrap_or(false),
                score: score.get(i),
                raw_output: raw[i].clone(),
                measures: measures.iter().map(|m| m[i].unwrap_or(0.0)).collect(),
                cer: cer[i].unwrap_or(0.0),
                wer: wer[i].unwrap_or(0.0),
                wer_raw: wer_raw[i].unwrap_or(0.0),
                text: text[i].clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((names, rows))
}

/// Writes `throughput.parquet`: one row per scheme x window.
pub fn write_throughput(windows: &[Window], path: &Path) -> Result<()> {
    write_atomic(path, &throughput_parquet(windows)?)
}

/// The bytes of `throughput.parquet`.
pub fn throughput_parquet(windows: &[Window]) -> Result<Vec<u8>> {
    let f = |name: &str, get: &dyn Fn(&Window) -> f64| {
        Column::new(name.into(), windows.iter().map(get).collect::<Vec<f64>>())
    };
    let opt = |name: &str, get: &dyn Fn(&Window) -> Option<f64>| {
        Column::new(name.into(), windows.iter().map(get).collect::<Vec<Option<f64>>>())
    };
    let columns = vec![
        Column::new(
            "scheme".into(),
            windows.iter().map(|w| w.scheme.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new("window".into(), windows.iter().map(|w| w.window).collect::<Vec<u32>>()),
        f("t_end_s", &|w| w.t_end_s),
        Column::new("items".into(), windows.iter().map(|w| w.items).collect::<Vec<u64>>()),
        Column::new("tokens".into(), windows.iter().map(|w| w.tokens).collect::<Vec<u64>>()),
        f("items_per_s", &|w| w.items_per_s),
        f("tokens_per_s", &|w| w.tokens_per_s),
        f("latency_p50_ms", &|w| w.latency_p50_ms),
        f("latency_p95_ms", &|w| w.latency_p95_ms),
        f("latency_p99_ms", &|w| w.latency_p99_ms),
        opt("cpu_temp_c", &|w| w.cpu_temp_c),
        opt("cpu_freq_mhz", &|w| w.cpu_freq_mhz),
        Column::new(
            "rss_bytes".into(),
            windows.iter().map(|w| w.rss_bytes).collect::<Vec<Option<u64>>>(),
        ),
        opt("generated_tokens_per_s", &|w| w.generated_tokens_per_s),
        opt("ttft_p50_ms", &|w| w.ttft_p50_ms),
        opt("ttft_p95_ms", &|w| w.ttft_p95_ms),
        opt("request_p50_ms", &|w| w.request_p50_ms),
        opt("request_p95_ms", &|w| w.request_p95_ms),
    ];
    let df = DataFrame::new(windows.len(), columns).map_err(|e| Error::Internal(format!("throughput table: {e}")))?;
    frame_parquet(df, "throughput.parquet")
}

/// Reads `throughput.parquet` back; a missing file means no sustain phase ran.
pub fn read_throughput(path: &Path) -> Result<Vec<Window>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    throughput_from_bytes(&bytes, &path.display().to_string())
}

/// `read_throughput` on the bytes of a parquet file.
pub fn throughput_from_bytes(bytes: &[u8], origin: &str) -> Result<Vec<Window>> {
    let df = frame_from_bytes(bytes, origin)?;
    let t = Typed { df: &df, origin };
    let u64s =
        |name: &str| -> Result<Vec<Option<u64>>> { Ok(t.column(name)?.u64().map_err(|e| t.bad(e))?.iter().collect()) };
    let scheme = t.strs("scheme")?;
    let window: Vec<Option<u32>> = t.column("window")?.u32().map_err(|e| t.bad(e))?.iter().collect();
    let (t_end, items, tokens) = (t.f64s("t_end_s")?, u64s("items")?, u64s("tokens")?);
    let (ips, tps) = (t.f64s("items_per_s")?, t.f64s("tokens_per_s")?);
    let (p50, p95, p99) = (
        t.f64s("latency_p50_ms")?,
        t.f64s("latency_p95_ms")?,
        t.f64s("latency_p99_ms")?,
    );
    let (temp, freq, rss) = (t.f64s("cpu_temp_c")?, t.f64s("cpu_freq_mhz")?, u64s("rss_bytes")?);
    // Generation columns: absent from runs made before they existed, read as missing.
    let optional = |name: &str| -> Result<Vec<Option<f64>>> {
        if df.column(name).is_ok() {
            t.f64s(name)
        } else {
            Ok(vec![None; df.height()])
        }
    };
    let gen_tps = optional("generated_tokens_per_s")?;
    let (ttft50, ttft95) = (optional("ttft_p50_ms")?, optional("ttft_p95_ms")?);
    let (req50, req95) = (optional("request_p50_ms")?, optional("request_p95_ms")?);
    Ok((0..df.height())
        .map(|i| Window {
            scheme: scheme[i].clone(),
            window: window[i].unwrap_or(0),
            t_end_s: t_end[i].unwrap_or(0.0),
            items: items[i].unwrap_or(0),
            tokens: tokens[i].unwrap_or(0),
            items_per_s: ips[i].unwrap_or(0.0),
            tokens_per_s: tps[i].unwrap_or(0.0),
            latency_p50_ms: p50[i].unwrap_or(0.0),
            latency_p95_ms: p95[i].unwrap_or(0.0),
            latency_p99_ms: p99[i].unwrap_or(0.0),
            cpu_temp_c: temp[i],
            cpu_freq_mhz: freq[i],
            rss_bytes: rss[i],
            generated_tokens_per_s: gen_tps[i],
            ttft_p50_ms: ttft50[i],
            ttft_p95_ms: ttft95[i],
            request_p50_ms: req50[i],
            request_p95_ms: req95[i],
        })
        .collect())
}

/// Writes `metrics.parquet`: one row per scheme x family x severity range with every metric and interval.
pub fn write_metrics(cells: &[&Cell], path: &Path) -> Result<()> {
    write_atomic(path, &metrics_parquet(cells)?)
}

/// The bytes of `metrics.parquet`.
pub fn metrics_parquet(cells: &[&Cell]) -> Result<Vec<u8>> {
    let s = |name: &str, get: &dyn Fn(&Cell) -> &str| {
        Column::new(name.into(), cells.iter().map(|c| get(c)).collect::<Vec<&str>>())
    };
    let f = |name: &str, get: &dyn Fn(&Cell) -> f64| {
        Column::new(name.into(), cells.iter().map(|c| get(c)).collect::<Vec<f64>>())
    };
    // Paired figures a shard could not pair are null.
    let o = |name: &str, get: &dyn Fn(&Cell) -> Option<f64>| {
        Column::new(name.into(), cells.iter().map(|c| get(c)).collect::<Vec<Option<f64>>>())
    };
    let mut columns = vec![
        s("scheme", &|c| &c.scheme),
        s("family", &|c| &c.family),
        Column::new(
            "severity_lo".into(),
            cells.iter().map(|c| c.severity_lo as u32).collect::<Vec<u32>>(),
        ),
        Column::new(
            "severity_hi".into(),
            cells.iter().map(|c| c.severity_hi as u32).collect::<Vec<u32>>(),
        ),
        Column::new("n".into(), cells.iter().map(|c| c.n as u64).collect::<Vec<u64>>()),
        Column::new(
            "examples".into(),
            cells.iter().map(|c| c.examples as u64).collect::<Vec<u64>>(),
        ),
    ];
    let names: Vec<String> = cells
        .first()
        .map(|c| c.metrics.0.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    for name in &names {
        let get = |pick: fn(&crate::analysis::metrics::Estimate) -> f64| {
            cells
                .iter()
                .map(|c| c.metrics.get(name).map(pick))
                .collect::<Vec<Option<f64>>>()
        };
        columns.push(Column::new(name.as_str().into(), get(|e| e.value)));
        columns.push(Column::new(format!("{name}_lo").into(), get(|e| e.ci[0])));
        columns.push(Column::new(format!("{name}_hi").into(), get(|e| e.ci[1])));
    }
    columns.extend([
        o("drop", &|c| c.drop),
        o("drop_lo", &|c| c.drop_ci.map(|i| i[0])),
        o("drop_hi", &|c| c.drop_ci.map(|i| i[1])),
        o("extra_drop", &|c| c.extra_drop),
        o("extra_drop_lo", &|c| c.extra_drop_ci.map(|i| i[0])),
        o("extra_drop_hi", &|c| c.extra_drop_ci.map(|i| i[1])),
        o("flip_rate", &|c| c.flip_rate),
        o("agreement", &|c| c.agreement),
        o("delta_vs_reference", &|c| c.delta_vs_reference),
        o("delta_vs_reference_lo", &|c| c.delta_vs_reference_ci.map(|i| i[0])),
        o("delta_vs_reference_hi", &|c| c.delta_vs_reference_ci.map(|i| i[1])),
        o("mcnemar_p", &|c| c.mcnemar_p),
        f("mean_cer", &|c| c.mean_cer),
        f("mean_wer", &|c| c.mean_wer),
        f("mean_wer_raw", &|c| c.mean_wer_raw),
        o("changed", &|c| c.changed),
    ]);
    let df = DataFrame::new(cells.len(), columns).map_err(|e| Error::Internal(format!("metrics table: {e}")))?;
    frame_parquet(df, "metrics.parquet")
}

/// A table as parquet bytes; `what` names it in errors.
pub(crate) fn frame_parquet(mut df: DataFrame, what: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| Error::Internal(format!("writing {what}: {e}")))?;
    Ok(buf)
}

/// Reads a parquet file (damaged contents are bad input, never a crash).
pub(crate) fn read_frame(path: &Path) -> Result<DataFrame> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    frame_from_bytes(&bytes, &path.display().to_string())
}

/// Parses parquet bytes. A run directory is user input: a damaged file must be an error, never a
/// crash, so a panic inside the parquet reader is caught and reported as bad input.
fn frame_from_bytes(bytes: &[u8], origin: &str) -> Result<DataFrame> {
    super::parquet_guard::check(bytes).map_err(|e| Error::input(origin, format!("not a parquet table: {e}")))?;
    let read = std::panic::catch_unwind(|| ParquetReader::new(std::io::Cursor::new(bytes)).finish());
    match read {
        Ok(Ok(df)) => {
            // A damaged file can decode to columns of different lengths (found by tests/fuzz_pass.rs: a
            // row count in the footer that one column's pages do not hold); readers index every column by
            // row, so such a frame is an input error here rather than an index panic there.
            let height = df.height();
            match df.columns().iter().find(|c| c.len() != height) {
                Some(c) => Err(Error::input(
                    origin,
                    format!(
                        "not a parquet table: column {} has {} rows, the table {height}",
                        c.name(),
                        c.len()
                    ),
                )),
                None => Ok(df),
            }
        }
        Ok(Err(e)) => Err(Error::input(origin, format!("not a parquet table: {e}"))),
        Err(_) => Err(Error::input(
            origin,
            "not a parquet table (the reader failed on its contents)",
        )),
    }
}

/// Typed column access with errors naming the file and the column.
struct Typed<'a> {
    df: &'a DataFrame,
    origin: &'a str,
}

impl Typed<'_> {
    fn bad(&self, e: PolarsError) -> Error {
        Error::input(self.origin, format!("unexpected table schema: {e}"))
    }
    fn column(&self, name: &str) -> Result<&Column> {
        self.df.column(name).map_err(|e| self.bad(e))
    }
    fn strs(&self, name: &str) -> Result<Vec<String>> {
        Ok(self
            .opt_strs(name)?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect())
    }
    fn opt_strs(&self, name: &str) -> Result<Vec<Option<String>>> {
        Ok(self
            .column(name)?
            .str()
            .map_err(|e| self.bad(e))?
            .iter()
            .map(|v| v.map(String::from))
            .collect())
    }
    fn f64s(&self, name: &str) -> Result<Vec<Option<f64>>> {
        Ok(self.column(name)?.f64().map_err(|e| self.bad(e))?.iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs on which the `run_tables` fuzz target crashed, kept in fuzz/regressions/ (the first byte picks
    /// the table as there): `crash-936da9e6` made polars-parquet abort the process allocating by a page's
    /// declared 2^64 values and must be an input error; `crash-b04ff2a5` overflowed a row count under debug
    /// assertions inside polars (caught) and must read back without a crash, whatever it yields;
    /// `crash-be7d352a` (a column chunk whose offset plus size overflows) panicked in polars-parquet's
    /// metadata parser, inside the guard, and must be an input error; `crash-bd314e8c` (found by
    /// tests/fuzz_pass.rs) decoded to a throughput frame whose columns differ in length; `crash-e9bfdb86` (the
    /// same pass) has a footer list whose declared length made polars-parquet allocate 27 GB and abort.
    #[test]
    fn fuzz_found_tables_never_crash() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/run_tables");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let (which, rest) = bytes.split_first().unwrap();
            let read = match which % 3 {
                0 => results_from_bytes(rest, "results.parquet").map(|_| ()),
                _ => throughput_from_bytes(rest, "throughput.parquet").map(|_| ()),
            };
            let name = path.to_string_lossy();
            if ["crash-936da9e6", "crash-be7d352a", "crash-bd314e8c", "crash-e9bfdb86"]
                .iter()
                .any(|c| name.contains(c))
            {
                assert!(matches!(read, Err(Error::Input { .. })), "{read:?}");
            }
            seen += 1;
        }
        assert!(seen >= 5);
    }

    #[test]
    fn results_round_trip_keeps_every_field_and_measure() {
        let rows = vec![
            EvalRow {
                scheme: "int8".into(),
                example_id: "a".into(),
                family: "typo".into(),
                severity: 3,
                seed: 9,
                expected: "{\"action\": \"stop\"}".into(),
                prediction: "charge".into(),
                correct: false,
                score: Some(0.5),
                raw_output: Some("{\"action\": \"charge\"} <b>\"".into()),
                measures: vec![0.0, 0.5],
                cer: 0.1,
                wer: 0.25,
                wer_raw: 0.5,
                text: "stpo <b>\"".into(),
            },
            EvalRow {
                measures: vec![1.0, 1.0],
                ..EvalRow::default()
            },
        ];
        let names = vec!["exact_match".to_string(), "field_accuracy.action".to_string()];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.parquet");
        write_results(&rows, &names, &path).unwrap();
        assert_eq!(read_results(&path).unwrap(), (names, rows));
    }

    #[test]
    fn throughput_round_trip_keeps_missing_sensors_missing() {
        let windows = vec![
            Window {
                scheme: "f32".into(),
                window: 0,
                items: 5,
                items_per_s: 10.0,
                rss_bytes: Some(7),
                ..Default::default()
            },
            Window {
                scheme: "int8".into(),
                window: 1,
                cpu_temp_c: Some(51.5),
                generated_tokens_per_s: Some(40.5),
                ttft_p50_ms: Some(120.0),
                ttft_p95_ms: Some(180.0),
                request_p50_ms: Some(900.0),
                request_p95_ms: Some(1100.0),
                ..Default::default()
            },
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        write_throughput(&windows, &path).unwrap();
        assert_eq!(read_throughput(&path).unwrap(), windows);
        assert!(read_throughput(&dir.path().join("none.parquet")).unwrap().is_empty());
    }

    #[test]
    fn damaged_tables_are_input_errors() {
        let err = results_from_bytes(b"PAR1garbagePAR1", "r.parquet").unwrap_err();
        assert!(err.is_user_error() && err.to_string().contains("r.parquet"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        write_throughput(&[Window::default()], &path).unwrap();
        let err = read_results(&path).unwrap_err().to_string();
        assert!(err.contains("unexpected table schema"), "{err}");
    }
}
