//! A retrieval run's `results.parquet`: one row per query x deployment x condition, with the
//! retrieved ids (a JSON array) and the five metrics, written and read back through polars.

use std::path::Path;

use polars::prelude::*;

use super::cells::RetrievalRow;
use super::QueryScores;
use crate::analysis::tables::{frame_parquet, read_frame};
use crate::error::{Error, Result};
use crate::files::write_atomic;

/// Writes the rows atomically.
pub fn write_rows(rows: &[RetrievalRow], path: &Path) -> Result<()> {
    write_atomic(path, &rows_parquet(rows)?)
}

/// The rows as the bytes of `retrieval.parquet` (a run's files are all made before the first is written).
pub fn rows_parquet(rows: &[RetrievalRow]) -> Result<Vec<u8>> {
    let s = |name: &str, get: &dyn Fn(&RetrievalRow) -> &str| {
        Column::new(name.into(), rows.iter().map(get).collect::<Vec<&str>>())
    };
    let f = |name: &str, get: &dyn Fn(&RetrievalRow) -> f64| {
        Column::new(name.into(), rows.iter().map(get).collect::<Vec<f64>>())
    };
    let retrieved = rows
        .iter()
        .map(|r| serde_json::to_string(&r.retrieved))
        .collect::<std::result::Result<Vec<String>, _>>()
        .map_err(|e| Error::Internal(format!("retrieved ids: {e}")))?;
    let relevant = rows
        .iter()
        .map(|r| serde_json::to_string(&r.relevant))
        .collect::<std::result::Result<Vec<String>, _>>()
        .map_err(|e| Error::Internal(format!("judgments: {e}")))?;
    let columns = vec![
        s("scheme", &|r| &r.scheme),
        s("index", &|r| &r.index),
        s("shape", &|r| &r.shape),
        s("family", &|r| &r.family),
        Column::new(
            "severity".into(),
            rows.iter().map(|r| r.severity as u32).collect::<Vec<u32>>(),
        ),
        Column::new("seed".into(), rows.iter().map(|r| r.seed).collect::<Vec<u64>>()),
        s("query_id", &|r| &r.query_id),
        s("text", &|r| &r.text),
        f("cer", &|r| r.cer),
        f("wer", &|r| r.wer),
        f("wer_raw", &|r| r.wer_raw),
        Column::new("retrieved".into(), retrieved),
        Column::new("relevant".into(), relevant),
        f("recall@1", &|r| r.scores.recall_1),
        f("recall@5", &|r| r.scores.recall_5),
        f("recall@10", &|r| r.scores.recall_10),
        f("mrr@10", &|r| r.scores.mrr_10),
        f("ndcg@10", &|r| r.scores.ndcg_10),
    ];
    let df = DataFrame::new(rows.len(), columns).map_err(|e| Error::Internal(format!("retrieval table: {e}")))?;
    frame_parquet(df, "retrieval.parquet")
}

/// Reads the rows back.
pub fn read_rows(path: &Path) -> Result<Vec<RetrievalRow>> {
    let df = read_frame(path)?;
    let bad = |e: PolarsError| Error::input(path.display(), format!("unexpected retrieval results schema: {e}"));
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
    let f = |name: &str| -> Result<Vec<f64>> {
        Ok(df
            .column(name)
            .map_err(bad)?
            .f64()
            .map_err(bad)?
            .iter()
            .map(|v| v.unwrap_or(0.0))
            .collect())
    };
    let (scheme, index, shape, family, query_id, text) = (
        s("scheme")?,
        s("index")?,
        s("shape")?,
        s("family")?,
        s("query_id")?,
        s("text")?,
    );
    let (retrieved, relevant) = (s("retrieved")?, s("relevant")?);
    let json = |i: usize, what: &str, e: serde_json::Error| {
        Error::input(path.display(), format!("row {i}: {what} is not valid JSON: {e}"))
    };
    let severity = df.column("severity").map_err(bad)?.u32().map_err(bad)?.clone();
    let seed = df.column("seed").map_err(bad)?.u64().map_err(bad)?.clone();
    let (cer, wer) = (f("cer")?, f("wer")?);
    // Runs written before raw WER was kept read it as 0.
    let wer_raw = f("wer_raw").unwrap_or_else(|_| vec![0.0; df.height()]);
    let (r1, r5, r10, mrr, ndcg) = (
        f("recall@1")?,
        f("recall@5")?,
        f("recall@10")?,
        f("mrr@10")?,
        f("ndcg@10")?,
    );
    (0..df.height())
        .map(|i| {
            Ok(RetrievalRow {
                scheme: scheme[i].clone(),
                index: index[i].clone(),
                shape: shape[i].clone(),
                family: family[i].clone(),
                severity: severity.get(i).unwrap_or(0) as u8,
                seed: seed.get(i).unwrap_or(0),
                query_id: query_id[i].clone(),
                text: text[i].clone(),
                cer: cer[i],
                wer: wer[i],
                wer_raw: wer_raw[i],
                retrieved: serde_json::from_str(&retrieved[i]).map_err(|e| json(i, "retrieved", e))?,
                relevant: serde_json::from_str(&relevant[i]).map_err(|e| json(i, "relevant", e))?,
                scores: QueryScores {
                    recall_1: r1[i],
                    recall_5: r5[i],
                    recall_10: r10[i],
                    mrr_10: mrr[i],
                    ndcg_10: ndcg[i],
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_parquet() {
        let rows = vec![RetrievalRow {
            scheme: "q4_0".into(),
            index: "binary".into(),
            shape: "server-f32".into(),
            family: "asr".into(),
            severity: 4,
            seed: 3,
            query_id: "q7".into(),
            text: "wear's the \"eye\" wash".into(),
            cer: 0.25,
            wer: 0.5,
            wer_raw: 0.625,
            retrieved: vec!["c1".into(), "c,2\n".into()],
            relevant: [("c1".to_string(), 2)].into_iter().collect(),
            scores: QueryScores {
                recall_1: 0.0,
                recall_5: 0.5,
                recall_10: 1.0,
                mrr_10: 0.25,
                ndcg_10: 0.4,
            },
        }];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.parquet");
        write_rows(&rows, &path).unwrap();
        assert_eq!(read_rows(&path).unwrap(), rows);
    }
}
