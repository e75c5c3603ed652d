//! `task = "retrieve"`: every deployment (query scheme x index precision x shape) retrieves the top
//! chunks for every query under every condition (clean, family x severity on the queries, the
//! corpus or both), scored per query with the standard retrieval metrics.
//!
//! Each scheme's model is loaded once: it embeds the queries (every condition's texts, unchanged
//! ones once), then the corpus indexes it owns are opened or built (one embedding pass feeds every
//! precision), then its deployments search. f32 goes first, so the f32 corpus indexes the
//! "server-f32" shape needs exist before any other scheme searches them.

pub mod config;
pub mod data;
mod embedders;

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use crate::analysis::results::CLEAN;
use crate::analysis::retrieval::cells::{stored, IndexRecord, RetrievalRow, SearchRecord};
use crate::analysis::retrieval::{score_query, QueryScores};
use crate::corrupt::{corrupt_text, CorruptionSpec, Registry, Severity};
use crate::engine::{LanguageModel, Scheme};
use crate::error::{Error, Result};
use crate::index::{Opened, Precision, Provenance};
pub use config::{deployments, CorruptSide, Deployment, RetrieveSection, Shape};
pub use data::{load_corpus, load_queries, Chunk, Query};
pub use embedders::{Embedders, EngineEmbedders, SchemeModel};

/// Texts per embedding call.
const BATCH: usize = crate::task::BATCH;

/// What a retrieval evaluation needs.
pub struct Plan<'a> {
    pub corpus: &'a [Chunk],
    pub queries: &'a [&'a Query],
    pub specs: &'a [CorruptionSpec],
    pub registry: &'a Registry,
    pub seed: u64,
    pub side: CorruptSide,
    pub deployments: &'a [Deployment],
    /// Chunks retrieved per query (at least the metrics' depth of 10).
    pub depth: usize,
    /// Folder of the stored indexes.
    pub index_dir: &'a Path,
}

/// Everything a retrieval evaluation produced.
#[derive(Default)]
pub struct Evaluated {
    pub rows: Vec<RetrievalRow>,
    pub searches: Vec<SearchRecord>,
    pub indexes: Vec<IndexRecord>,
}

impl Evaluated {
    /// Copies of the search and index records (the rows stay borrowed by the caller).
    pub fn clone_records(&self) -> (Vec<SearchRecord>, Vec<IndexRecord>) {
        (self.searches.clone(), self.indexes.clone())
    }
}

/// One condition's texts of one side (queries or corpus) with their noise.
struct Side {
    family: String,
    severity: u8,
    texts: Vec<String>,
    cer: Vec<f64>,
    wer: Vec<f64>,
    wer_raw: Vec<f64>,
}

impl Side {
    fn mean(xs: &[f64]) -> f64 {
        if xs.is_empty() {
            0.0
        } else {
            xs.iter().sum::<f64>() / xs.len() as f64
        }
    }
}

/// The clean texts, then every spec x severity when `corrupt`; `key` names each text's RNG stream.
fn conditions(
    plan: &Plan,
    texts: &[(&str, &str)],
    corrupt: bool,
    key: impl Fn(&str) -> String + Sync,
) -> Result<Vec<Side>> {
    let mut out = vec![Side {
        family: CLEAN.into(),
        severity: 0,
        texts: texts.iter().map(|(_, t)| t.to_string()).collect(),
        cer: vec![0.0; texts.len()],
        wer: vec![0.0; texts.len()],
        wer_raw: vec![0.0; texts.len()],
    }];
    if !corrupt {
        return Ok(out);
    }
    let jobs: Vec<(&CorruptionSpec, Severity)> = plan
        .specs
        .iter()
        .flat_map(|s| s.severities.iter().map(move |&sev| (s, sev)))
        .collect();
    for (spec, sev) in jobs {
        let variants = texts
            .par_iter()
            .map(|(id, text)| corrupt_text(plan.registry, spec, sev, plan.seed, &key(id), text))
            .collect::<Result<Vec<_>>>()?;
        out.push(Side {
            family: spec.name(),
            severity: sev.level(),
            cer: variants.iter().map(|v| v.cer).collect(),
            wer: variants.iter().map(|v| v.wer).collect(),
            wer_raw: variants.iter().map(|v| v.wer_raw).collect(),
            texts: variants.into_iter().map(|v| v.text).collect(),
        });
    }
    Ok(out)
}

/// Embeds `texts` in batches, each distinct text once, in a fixed order.
fn embed_unique(model: &dyn LanguageModel, texts: &[String]) -> Result<Vec<Vec<f32>>> {
    let mut unique: Vec<&str> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    let slots: Vec<usize> = texts
        .iter()
        .map(|t| {
            *slot.entry(t.as_str()).or_insert_with(|| {
                unique.push(t);
                unique.len() - 1
            })
        })
        .collect();
    let mut embedded = Vec::with_capacity(unique.len());
    for chunk in unique.chunks(BATCH) {
        embedded.extend(model.embed(chunk)?);
    }
    Ok(slots.into_iter().map(|s| embedded[s].clone()).collect())
}

/// Opens or builds the indexes of `sm`'s corpus embeddings for every precision and corpus
/// condition; returns them by (precision, corpus condition).
fn corpus_indexes(
    plan: &Plan,
    sm: &SchemeModel,
    precisions: &[Precision],
    corpora: &[Side],
    records: &mut Vec<IndexRecord>,
    log: &dyn Fn(&str),
) -> Result<HashMap<(Precision, usize), Opened>> {
    let mut out = HashMap::new();
    let scheme = sm.scheme;
    for (ci, corpus) in corpora.iter().enumerate() {
        let chunks: Vec<(&str, &str)> = plan
            .corpus
            .iter()
            .zip(&corpus.texts)
            .map(|(c, t)| (c.id.as_str(), t.as_str()))
            .collect();
        let opened = sm.index(plan.index_dir, precisions, &chunks, &|n| {
            log(&format!(
                "  embedding the corpus ({} chunks, {} {}) with {scheme} for {n} index(es)",
                chunks.len(),
                corpus.family,
                corpus.severity,
            ))
        })?;
        for (o, &precision) in opened.into_iter().zip(precisions) {
            let provenance = match &o.provenance {
                Provenance::Reused => "reused".to_string(),
                Provenance::Built => "built".to_string(),
                Provenance::Rebuilt(why) => {
                    log(&format!(
                        "  index {} was not trusted and was rebuilt: {why}",
                        o.path.display()
                    ));
                    format!("rebuilt: {why}")
                }
            };
            records.push(IndexRecord {
                corpus_scheme: scheme.to_string(),
                precision: precision.to_string(),
                family: corpus.family.clone(),
                severity: corpus.severity,
                file: o.path.display().to_string(),
                stats: o.index.stats(),
                provenance,
                build_seconds: o.build_time.map(|t| stored(t.as_secs_f64())),
                verify_seconds: stored(o.verify_time.as_secs_f64()),
            });
            out.insert((precision, ci), o);
        }
    }
    Ok(out)
}

/// Runs every deployment on every condition. `log` receives progress lines.
pub fn evaluate(plan: &Plan, embedders: &dyn Embedders, log: &dyn Fn(&str)) -> Result<Evaluated> {
    let query_pairs: Vec<(&str, &str)> = plan.queries.iter().map(|q| (q.id.as_str(), q.text.as_str())).collect();
    let chunk_pairs: Vec<(&str, &str)> = plan.corpus.iter().map(|c| (c.id.as_str(), c.text.as_str())).collect();
    let query_sides = conditions(plan, &query_pairs, plan.side.queries(), str::to_string)?;
    // Chunk ids get their own RNG streams: a chunk and a query with the same id are noised apart.
    let corpora = conditions(plan, &chunk_pairs, plan.side.corpus(), |id| format!("corpus/{id}"))?;
    let n_conditions = query_sides.len().max(corpora.len());
    let side_of = |sides: &[Side], c: usize| if sides.len() == 1 { 0 } else { c };

    let mut schemes: Vec<Scheme> = Vec::new();
    for d in plan.deployments {
        if !schemes.contains(&d.scheme) {
            schemes.push(d.scheme);
        }
    }
    schemes.sort_by_key(|s| *s != Scheme::F32);
    let mut server: Vec<Precision> = plan
        .deployments
        .iter()
        .filter(|d| d.shape == Shape::ServerF32)
        .map(|d| d.precision)
        .collect();
    server.sort();
    server.dedup();
    let mut out = Evaluated::default();
    let mut f32_indexes: HashMap<(Precision, usize), Opened> = HashMap::new();
    if !server.is_empty() && !schemes.contains(&Scheme::F32) {
        log("f32 (server side): embedding the corpus");
        let model = embedders.load(Scheme::F32)?;
        let dim = model
            .embed(&[plan.corpus[0].text.as_str()])?
            .first()
            .map_or(0, Vec::len);
        let sm = SchemeModel {
            embedders,
            model: model.as_ref(),
            scheme: Scheme::F32,
            dim,
        };
        f32_indexes = corpus_indexes(plan, &sm, &server, &corpora, &mut out.indexes, log)?;
    }
    for &scheme in &schemes {
        log(&format!("{scheme}: loading the embedder"));
        let model = embedders.load(scheme)?;
        let mut query_vectors = Vec::with_capacity(query_sides.len());
        for side in &query_sides {
            let start = Instant::now();
            let v = embed_unique(model.as_ref(), &side.texts)?;
            query_vectors.push((v, start.elapsed().as_secs_f64()));
        }
        let dim = query_vectors[0].0.first().map_or(0, Vec::len);
        let mine: Vec<&Deployment> = plan.deployments.iter().filter(|d| d.scheme == scheme).collect();
        let mut own: Vec<Precision> = mine
            .iter()
            .filter(|d| d.corpus_scheme() == scheme)
            .map(|d| d.precision)
            .collect();
        if scheme == Scheme::F32 {
            // f32's indexes also serve every other scheme's server-f32 deployments.
            own.extend(&server);
        }
        own.sort();
        own.dedup();
        let sm = SchemeModel {
            embedders,
            model: model.as_ref(),
            scheme,
            dim,
        };
        let own_indexes = corpus_indexes(plan, &sm, &own, &corpora, &mut out.indexes, log)?;
        for d in mine {
            for c in 0..n_conditions {
                let (qs, cs) = (&query_sides[side_of(&query_sides, c)], &corpora[side_of(&corpora, c)]);
                let key = (d.precision, side_of(&corpora, c));
                let opened = if d.corpus_scheme() == scheme {
                    own_indexes.get(&key)
                } else {
                    f32_indexes.get(&key)
                }
                .ok_or_else(|| Error::Internal(format!("no index for {d}")))?;
                let (vectors, embed_seconds) = &query_vectors[side_of(&query_sides, c)];
                let start = Instant::now();
                let hits = opened.index.search(vectors, plan.depth)?;
                let search_seconds = start.elapsed().as_secs_f64();
                let (family, severity) = if qs.severity > 0 {
                    (&qs.family, qs.severity)
                } else {
                    (&cs.family, cs.severity)
                };
                for (i, (q, hits)) in plan.queries.iter().zip(&hits).enumerate() {
                    let run: Vec<(&str, f64)> = hits.iter().map(|h| (h.id.as_str(), h.score as f64)).collect();
                    let scores: QueryScores = score_query(&run, &q.relevant)?.unwrap_or_default();
                    out.rows.push(RetrievalRow {
                        scheme: scheme.to_string(),
                        index: d.precision.to_string(),
                        shape: d.shape.to_string(),
                        family: family.clone(),
                        severity,
                        seed: plan.seed,
                        query_id: q.id.clone(),
                        text: qs.texts[i].clone(),
                        cer: qs.cer[i],
                        wer: qs.wer[i],
                        wer_raw: qs.wer_raw[i],
                        retrieved: hits.iter().map(|h| h.id.clone()).collect(),
                        relevant: q.relevant.clone(),
                        scores,
                    });
                }
                let n = plan.queries.len().max(1) as f64;
                let stats = opened.index.stats();
                out.searches.push(SearchRecord {
                    scheme: scheme.to_string(),
                    index: d.precision.to_string(),
                    shape: d.shape.to_string(),
                    family: family.clone(),
                    severity,
                    queries: plan.queries.len(),
                    search_ms_per_query: stored(1e3 * search_seconds / n),
                    embed_ms_per_query: stored(1e3 * embed_seconds / n),
                    corpus_cer: stored(Side::mean(&cs.cer)),
                    corpus_wer: stored(Side::mean(&cs.wer)),
                    index_scan_bytes: stats.scan_bytes,
                    index_rescore_bytes: stats.rescore_bytes,
                    index_file_bytes: stats.file_bytes,
                    index_provenance: out
                        .indexes
                        .iter()
                        .rev()
                        .find(|r| r.file == opened.path.display().to_string())
                        .map(|r| r.provenance.clone())
                        .unwrap_or_default(),
                });
            }
        }
        if scheme == Scheme::F32 {
            f32_indexes = own_indexes;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
