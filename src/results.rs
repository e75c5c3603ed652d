//! The run's tables: one row per scheme x variant, written to `results.parquet` through polars,
//! and the aggregates every reader (gate, report, summary) computes from those rows.

use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{write_atomic, Error, Result};

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

/// Accuracy in percent of `scheme` on `family` within severities `lo..=hi`; `None` when there are no rows.
pub fn accuracy(rows: &[EvalRow], scheme: &str, family: &str, lo: u8, hi: u8) -> Option<f64> {
    let (mut n, mut ok) = (0usize, 0usize);
    for r in rows
        .iter()
        .filter(|r| r.scheme == scheme && r.family == family && r.severity >= lo && r.severity <= hi)
    {
        n += 1;
        ok += usize::from(r.correct);
    }
    (n > 0).then(|| 100.0 * ok as f64 / n as f64)
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
    let mut df = to_frame(rows)?;
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| Error::Internal(format!("writing {}: {e}", path.display())))?;
    write_atomic(path, &buf)
}

/// Reads the rows back from a `results.parquet`.
pub fn read_parquet(path: &Path) -> Result<Vec<EvalRow>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| Error::input(path.display(), format!("not a results table: {e}")))?;
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
    fn accuracy_in_percent_by_scope() {
        let mk = |c| EvalRow {
            scheme: "f32".into(),
            family: CLEAN.into(),
            correct: c,
            ..EvalRow::default()
        };
        let rows = vec![mk(true), mk(false), mk(true), mk(true)];
        assert_eq!(accuracy(&rows, "f32", CLEAN, 0, 0), Some(75.0));
        assert_eq!(accuracy(&rows, "int8", CLEAN, 0, 0), None);
    }
}
