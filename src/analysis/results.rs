//! The run's tables: one row per scheme x variant, written to `results.parquet` through polars,
//! and the aggregates every reader (gate, report, summary) computes from those rows.

use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::metrics::Cell;
use crate::error::{write_atomic, Error, Result};
use crate::eval::sustain::Window;

/// The family name of unmodified inputs.
pub const CLEAN: &str = "clean";

/// One prediction: a scheme on one variant (clean or corrupted) of one example.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalRow {
    pub scheme: String,
    pub example_id: String,
    /// `clean`, a family, or a chain such as `typo+ocr`.
    pub family: String,
    /// 0 for clean inputs, 1..=5 otherwise.
    pub severity: u8,
    pub seed: u64,
    pub label: String,
    pub prediction: String,
    pub correct: bool,
    /// Score of the predicted label (softmax probability, or cosine similarity for prototypes).
    pub confidence: f32,
    pub cer: f64,
    pub wer: f64,
    pub text: String,
}

/// Builds the results DataFrame.
pub fn to_frame(rows: &[EvalRow]) -> Result<DataFrame> {
    let col_str =
        |name: &str, f: &dyn Fn(&EvalRow) -> &str| Column::new(name.into(), rows.iter().map(f).collect::<Vec<&str>>());
    let columns = vec![
        col_str("scheme", &|r| &r.scheme),
        col_str("example_id", &|r| &r.example_id),
        col_str("family", &|r| &r.family),
        Column::new(
            "severity".into(),
            rows.iter().map(|r| r.severity as u32).collect::<Vec<u32>>(),
        ),
        Column::new("seed".into(), rows.iter().map(|r| r.seed).collect::<Vec<u64>>()),
        col_str("label", &|r| &r.label),
        col_str("prediction", &|r| &r.prediction),
        Column::new("correct".into(), rows.iter().map(|r| r.correct).collect::<Vec<bool>>()),
        Column::new(
            "confidence".into(),
            rows.iter().map(|r| r.confidence).collect::<Vec<f32>>(),
        ),
        Column::new("cer".into(), rows.iter().map(|r| r.cer).collect::<Vec<f64>>()),
        Column::new("wer".into(), rows.iter().map(|r| r.wer).collect::<Vec<f64>>()),
        col_str("text", &|r| &r.text),
    ];
    DataFrame::new(rows.len(), columns).map_err(|e| Error::Internal(format!("building results table: {e}")))
}

/// Writes `results.parquet` atomically.
pub fn write_parquet(rows: &[EvalRow], path: &Path) -> Result<()> {
    write_frame(to_frame(rows)?, path)
}

/// Reads the rows back from a `results.parquet`.
pub fn read_parquet(path: &Path) -> Result<Vec<EvalRow>> {
    let df = read_frame(path)?;
    let bad = |e: PolarsError| Error::input(path.display(), format!("unexpected results schema: {e}"));
    let s = |name: &str| -> Result<Vec<String>> {
        Ok(df
            .column(name)
            .map_err(bad)?
            .str()
            .map_err(bad)?
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect())
    };
    let (scheme, id, family, label, prediction, text) = (
        s("scheme")?,
        s("example_id")?,
        s("family")?,
        s("label")?,
        s("prediction")?,
        s("text")?,
    );
    let severity = df.column("severity").map_err(bad)?.u32().map_err(bad)?.clone();
    let seed = df.column("seed").map_err(bad)?.u64().map_err(bad)?.clone();
    let correct = df.column("correct").map_err(bad)?.bool().map_err(bad)?.clone();
    let confidence = df.column("confidence").map_err(bad)?.f32().map_err(bad)?.clone();
    let cer = df.column("cer").map_err(bad)?.f64().map_err(bad)?.clone();
    let wer = df.column("wer").map_err(bad)?.f64().map_err(bad)?.clone();
    Ok((0..df.height())
        .map(|i| EvalRow {
            scheme: scheme[i].clone(),
            example_id: id[i].clone(),
            family: family[i].clone(),
            severity: severity.get(i).unwrap_or(0) as u8,
            seed: seed.get(i).unwrap_or(0),
            label: label[i].clone(),
            prediction: prediction[i].clone(),
            correct: correct.get(i).unwrap_or(false),
            confidence: confidence.get(i).unwrap_or(0.0),
            cer: cer.get(i).unwrap_or(0.0),
            wer: wer.get(i).unwrap_or(0.0),
            text: text[i].clone(),
        })
        .collect())
}

/// Writes `throughput.parquet`: one row per scheme x window.
pub fn write_throughput(windows: &[Window], path: &Path) -> Result<()> {
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
    ];
    let df = DataFrame::new(windows.len(), columns).map_err(|e| Error::Internal(format!("throughput table: {e}")))?;
    write_frame(df, path)
}

/// Reads `throughput.parquet` back; a missing file means no sustain phase ran.
pub fn read_throughput(path: &Path) -> Result<Vec<Window>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let df = read_frame(path)?;
    let bad = |e: PolarsError| Error::input(path.display(), format!("unexpected throughput schema: {e}"));
    let f64s = |name: &str| -> Result<Vec<Option<f64>>> {
        Ok(df.column(name).map_err(bad)?.f64().map_err(bad)?.iter().collect())
    };
    let u64s = |name: &str| -> Result<Vec<Option<u64>>> {
        Ok(df.column(name).map_err(bad)?.u64().map_err(bad)?.iter().collect())
    };
    let scheme: Vec<String> = df
        .column("scheme")
        .map_err(bad)?
        .str()
        .map_err(bad)?
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect();
    let window: Vec<Option<u32>> = df.column("window").map_err(bad)?.u32().map_err(bad)?.iter().collect();
    let (t_end, items, tokens) = (f64s("t_end_s")?, u64s("items")?, u64s("tokens")?);
    let (ips, tps) = (f64s("items_per_s")?, f64s("tokens_per_s")?);
    let (p50, p95, p99) = (
        f64s("latency_p50_ms")?,
        f64s("latency_p95_ms")?,
        f64s("latency_p99_ms")?,
    );
    let (temp, freq, rss) = (f64s("cpu_temp_c")?, f64s("cpu_freq_mhz")?, u64s("rss_bytes")?);
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
        })
        .collect())
}

/// Writes `metrics.parquet`: one row per scheme x family x severity range with every metric and interval.
pub fn write_metrics(cells: &[&Cell], path: &Path) -> Result<()> {
    let s = |name: &str, get: &dyn Fn(&Cell) -> &str| {
        Column::new(name.into(), cells.iter().map(|c| get(c)).collect::<Vec<&str>>())
    };
    let f = |name: &str, get: &dyn Fn(&Cell) -> f64| {
        Column::new(name.into(), cells.iter().map(|c| get(c)).collect::<Vec<f64>>())
    };
    let columns = vec![
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
        f("accuracy", &|c| c.accuracy),
        f("accuracy_lo", &|c| c.accuracy_ci[0]),
        f("accuracy_hi", &|c| c.accuracy_ci[1]),
        f("drop", &|c| c.drop),
        f("drop_lo", &|c| c.drop_ci[0]),
        f("drop_hi", &|c| c.drop_ci[1]),
        f("flip_rate", &|c| c.flip_rate),
        f("agreement", &|c| c.agreement),
        f("delta_vs_reference", &|c| c.delta_vs_reference),
        f("delta_vs_reference_lo", &|c| c.delta_vs_reference_ci[0]),
        f("delta_vs_reference_hi", &|c| c.delta_vs_reference_ci[1]),
        f("mcnemar_p", &|c| c.mcnemar_p),
        f("mean_cer", &|c| c.mean_cer),
        f("mean_wer", &|c| c.mean_wer),
    ];
    let df = DataFrame::new(cells.len(), columns).map_err(|e| Error::Internal(format!("metrics table: {e}")))?;
    write_frame(df, path)
}

pub(crate) fn write_frame(mut df: DataFrame, path: &Path) -> Result<()> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| Error::Internal(format!("writing {}: {e}", path.display())))?;
    write_atomic(path, &buf)
}

pub(crate) fn read_frame(path: &Path) -> Result<DataFrame> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| Error::input(path.display(), format!("not a parquet table: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parquet_round_trip_keeps_every_field() {
        let rows = vec![
            EvalRow {
                scheme: "int8".into(),
                example_id: "a".into(),
                family: "typo".into(),
                severity: 3,
                seed: 9,
                label: "stop".into(),
                prediction: "charge".into(),
                correct: false,
                confidence: 0.5,
                cer: 0.1,
                wer: 0.25,
                text: "stpo <b>\"".into(),
            },
            EvalRow::default(),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.parquet");
        write_parquet(&rows, &path).unwrap();
        assert_eq!(read_parquet(&path).unwrap(), rows);
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
                ..Default::default()
            },
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        write_throughput(&windows, &path).unwrap();
        assert_eq!(read_throughput(&path).unwrap(), windows);
        assert!(read_throughput(&dir.path().join("none.parquet")).unwrap().is_empty());
    }
}
