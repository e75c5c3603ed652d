//! `shakedown bench --retrieval`: queries/s of on-device retrieval per scheme and index precision,
//! one query at a time (a device answers one question at a time): embed the query, then search the
//! stored index of the corpus embedded by the same scheme (unit `queries/s`); and the search alone
//! (unit `searches/s`). Ratios are to the
//! f32 scheme on the same index precision, measured in the same run.

use crate::engine::{LanguageModel, Model, ModelFiles, Scheme};
use crate::error::{Error, Result};
use crate::index::{self, Precision};
use crate::probe::bench::{per_scheme, pool, rows_for, time_for, BenchOptions, BenchRow};
use crate::progress::Progress;
use crate::task::retrieve::{EngineEmbedders, SchemeModel};

/// The corpus and questions to measure with.
#[derive(Clone, Debug)]
pub struct RetrievalBench {
    /// `(id, text)` chunks.
    pub chunks: Vec<(String, String)>,
    pub queries: Vec<String>,
    /// The suite's calibration texts (activation-aware schemes; the index key names them).
    pub calibration: Vec<String>,
}

/// Rows for every index precision x thread count (embed + search, then search alone), f32 first.
pub fn bench_retrieval(opts: &BenchOptions, data: &RetrievalBench, progress: &dyn Progress) -> Result<Vec<BenchRow>> {
    if data.chunks.is_empty() || data.queries.is_empty() {
        return Err(Error::input("bench", "the retrieval suite has no chunks or no queries"));
    }
    let files = ModelFiles::load(&opts.model)?;
    let calibration: Vec<&str> = data.calibration.iter().map(String::as_str).collect();
    let embedders = EngineEmbedders::new(&files, &calibration);
    let dir = index::default_dir();
    let configs: Vec<(Precision, usize)> = Precision::ALL
        .iter()
        .flat_map(|&p| opts.threads.iter().map(move |&t| (p, t)))
        .collect();
    let (measured, reset) = per_scheme(opts, "retrieval", configs.len(), progress, |scheme: Scheme, phase| {
        let model = Model::build_calibrated(&files, scheme, &calibration)?;
        let dim = model.embed(&[data.queries[0].as_str()])?.first().map_or(0, Vec::len);
        let chunks: Vec<(&str, &str)> = data.chunks.iter().map(|(i, t)| (i.as_str(), t.as_str())).collect();
        let sm = SchemeModel {
            embedders: &embedders,
            model: &model,
            scheme,
            dim,
        };
        let opened = sm.index(&dir, &Precision::ALL, &chunks, &|_| {})?;
        let vectors = data
            .queries
            .iter()
            .map(|q| Ok(model.embed(&[q.as_str()])?.remove(0)))
            .collect::<Result<Vec<_>>>()?;
        let mut values = Vec::with_capacity(2 * configs.len());
        for &(precision, threads) in &configs {
            let o = &opened[Precision::ALL.iter().position(|&p| p == precision).unwrap_or(0)];
            let pool = pool(threads)?;
            let mut next = 0usize;
            values.push(pool.install(|| {
                time_for(opts.seconds, || {
                    let q = &data.queries[next % data.queries.len()];
                    next += 1;
                    let v = model.embed(&[q.as_str()])?;
                    std::hint::black_box(o.index.search(&v, 10)?);
                    Ok(1)
                })
            })?);
            values.push(pool.install(|| {
                time_for(opts.seconds, || {
                    next += 1;
                    std::hint::black_box(o.index.search(&vectors[next % vectors.len()..][..1], 10)?);
                    Ok(1)
                })
            })?);
            phase.advance(1);
        }
        Ok((model.linear_weight_stats().0, values))
    })?;
    let scope = if reset { "scheme" } else { "process" };
    let n = data.chunks.len();
    let mut rows = Vec::new();
    for (c, &(precision, threads)) in configs.iter().enumerate() {
        // Embed + search in queries/s, the search alone in searches/s.
        for (j, unit) in ["queries/s", "searches/s"].iter().enumerate() {
            let name = format!("retrieve {precision} idx, {n} chunks");
            rows.extend(rows_for(&measured, 2 * c + j, (&name, threads, 1, unit), scope));
        }
    }
    Ok(rows)
}
