//! The retrieval evaluation with a small fake embedder (hashed bag of words), so that the matrix,
//! the shapes, the corruption sides and index reuse are tested without weights.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::*;
use crate::corrupt::parse_specs;
use crate::engine::{ChatMessage, ContinuationScore, GenerateRequest, Generation, LoglikelihoodRequest, ModelKind};

const DIM: usize = 64;

/// Bag of words hashed into 64 buckets; a non-f32 scheme adds a small fixed perturbation.
struct Fake {
    scheme: Scheme,
    embedded: Arc<AtomicUsize>,
}

fn bucket(word: &str) -> usize {
    word.bytes()
        .fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
        % DIM
}

impl LanguageModel for Fake {
    fn kind(&self) -> ModelKind {
        ModelKind::Encoder
    }
    fn labels(&self) -> &[String] {
        &[]
    }
    fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        Ok(texts
            .iter()
            .map(|t| t.split_whitespace().map(|w| bucket(w) as u32).collect())
            .collect())
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embedded.fetch_add(texts.len(), Ordering::SeqCst);
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0.0f32; DIM];
                for w in t.to_lowercase().split_whitespace() {
                    v[bucket(w)] += 1.0;
                }
                if self.scheme != Scheme::F32 {
                    v.iter_mut().enumerate().for_each(|(i, x)| *x += 0.01 * (i % 3) as f32);
                }
                crate::engine::l2_normalize(&mut v);
                v
            })
            .collect())
    }
    fn classify(&self, _: &[&str]) -> Result<Vec<Vec<f32>>> {
        unimplemented!("not used by retrieval")
    }
    fn loglikelihood(&self, _: &[LoglikelihoodRequest]) -> Result<Vec<Vec<ContinuationScore>>> {
        unimplemented!("not used by retrieval")
    }
    fn generate_reporting(&self, _: &[GenerateRequest<'_>], _: &dyn Fn(usize)) -> Result<Vec<Generation>> {
        unimplemented!("not used by retrieval")
    }
    fn chat_prompt(&self, _: &[ChatMessage]) -> Result<Option<String>> {
        Ok(None)
    }
}

#[derive(Default)]
struct FakeEmbedders {
    embedded: Arc<AtomicUsize>,
    loads: AtomicUsize,
}

impl Embedders for FakeEmbedders {
    fn model_sha256(&self) -> String {
        "fake".into()
    }
    fn build_id(&self, _: Scheme) -> String {
        "test".into()
    }
    fn load(&self, scheme: Scheme) -> Result<Box<dyn LanguageModel>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(Fake {
            scheme,
            embedded: self.embedded.clone(),
        }))
    }
}

fn suite() -> (Vec<Chunk>, Vec<Query>) {
    let topics = [
        "battery charging station",
        "forklift licence level",
        "hazardous goods storage",
        "dock door schedule",
    ];
    let mut corpus = Vec::new();
    let mut queries = Vec::new();
    for (t, topic) in topics.iter().enumerate() {
        for i in 0..8 {
            corpus.push(Chunk {
                id: format!("t{t}-c{i}"),
                text: format!("{topic} rule number {i} applies in zone {}", (i * 7 + t) % 5),
                extra: Default::default(),
            });
        }
        for i in 0..5 {
            queries.push(Query {
                id: format!("t{t}-q{i}"),
                text: format!("which {topic} rule number {i}"),
                split: "test".into(),
                relevant: [(format!("t{t}-c{i}"), 2), (format!("t{t}-c{}", i + 1), 1)]
                    .into_iter()
                    .collect(),
                extra: Default::default(),
            });
        }
    }
    (corpus, queries)
}

struct Run {
    evaluated: Evaluated,
    embedded: usize,
}

fn run(dir: &Path, schemes: &[Scheme], side: CorruptSide, shapes: &[Shape]) -> Run {
    let (corpus, queries) = suite();
    let refs: Vec<&Query> = queries.iter().collect();
    let registry = Registry::builtin().unwrap();
    let specs = parse_specs("typo:2,ocr:3", &registry).unwrap();
    let deployments = deployments(schemes, &Precision::ALL, shapes);
    let plan = Plan {
        corpus: &corpus,
        queries: &refs,
        specs: &specs,
        registry: &registry,
        seed: 5,
        side,
        deployments: &deployments,
        depth: 10,
        index_dir: dir,
    };
    let embedders = FakeEmbedders::default();
    let evaluated = evaluate(&plan, &embedders, &|_| {}).unwrap();
    Run {
        evaluated,
        embedded: embedders.embedded.load(Ordering::SeqCst),
    }
}

#[test]
fn every_deployment_and_condition_scores_every_query() {
    let dir = tempfile::tempdir().unwrap();
    let both_shapes = [Shape::Same, Shape::ServerF32];
    let r = run(
        dir.path(),
        &[Scheme::Int8, Scheme::F32],
        CorruptSide::Queries,
        &both_shapes,
    );
    let e = &r.evaluated;
    // f32: 3 precisions; int8: 3 precisions x 2 shapes; 3 conditions; 20 queries.
    assert_eq!(e.searches.len(), 9 * 3);
    assert_eq!(e.rows.len(), 9 * 3 * 20);
    assert_eq!(e.rows[0].scheme, "f32", "f32 runs first");
    // Indexes: f32 and int8 corpora, 3 precisions each, one clean corpus; each built once.
    assert_eq!(e.indexes.len(), 6);
    assert!(e.indexes.iter().all(|i| i.provenance == "built"));
    let clean_f32: Vec<&RetrievalRow> = e
        .rows
        .iter()
        .filter(|r| r.scheme == "f32" && r.index == "f32" && r.family == CLEAN)
        .collect();
    let mean_r5 = clean_f32.iter().map(|r| r.scores.recall_5).sum::<f64>() / clean_f32.len() as f64;
    assert!(
        mean_r5 > 0.7,
        "word-overlap retrieval finds its chunks: recall@5 {mean_r5}"
    );
    let typo: Vec<&RetrievalRow> = e.rows.iter().filter(|r| r.family == "typo").collect();
    assert!(typo.iter().all(|r| r.severity == 2) && typo.iter().any(|r| r.cer > 0.0));
    assert!(e.rows.iter().all(|r| r.retrieved.len() == 10));
    let server = e.searches.iter().find(|s| s.shape == "server-f32").unwrap();
    let f32_index = e
        .indexes
        .iter()
        .find(|i| i.corpus_scheme == "f32" && i.precision == server.index)
        .unwrap();
    assert_eq!(
        server.index_file_bytes, f32_index.stats.file_bytes,
        "server shape searches the f32 index"
    );
    // Corpus embedded twice (f32 and int8), queries 3 conditions x 2 schemes at most.
    assert!(r.embedded <= 2 * 32 + 2 * 3 * 20, "{}", r.embedded);

    // A second run reuses every index and embeds no chunk.
    let again = run(
        dir.path(),
        &[Scheme::Int8, Scheme::F32],
        CorruptSide::Queries,
        &both_shapes,
    );
    assert!(again.evaluated.indexes.iter().all(|i| i.provenance == "reused"));
    assert!(
        again.embedded <= 2 * 3 * 20,
        "only queries were embedded: {}",
        again.embedded
    );
    let scores = |e: &Evaluated| {
        e.rows
            .iter()
            .map(|r| (r.retrieved.clone(), r.scores))
            .collect::<Vec<_>>()
    };
    assert_eq!(scores(&again.evaluated), scores(e), "same results from stored indexes");
}

#[test]
fn corpus_side_corruption_builds_an_index_per_condition_and_keeps_queries_clean() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &[Scheme::F32], CorruptSide::Corpus, &[Shape::Same]);
    let e = &r.evaluated;
    assert_eq!(e.indexes.len(), 3 * 3, "3 precisions x 3 corpus conditions");
    assert!(e.rows.iter().all(|r| r.cer == 0.0));
    let ocr = e.searches.iter().find(|s| s.family == "ocr").unwrap();
    assert!(ocr.corpus_cer > 0.0 && ocr.severity == 3);
    let clean = e.searches.iter().find(|s| s.family == CLEAN).unwrap();
    assert_eq!(clean.corpus_cer, 0.0);
}

#[test]
fn server_shape_without_f32_in_the_run_still_embeds_the_corpus_in_f32() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &[Scheme::Int8], CorruptSide::Both, &[Shape::ServerF32]);
    let e = &r.evaluated;
    assert!(e.indexes.iter().all(|i| i.corpus_scheme == "f32"));
    assert_eq!(e.indexes.len(), 3 * 3);
    let typo = e.searches.iter().find(|s| s.family == "typo").unwrap();
    assert!(typo.corpus_cer > 0.0);
    assert!(
        e.rows.iter().filter(|r| r.family == "typo").any(|r| r.cer > 0.0),
        "both sides noised"
    );
}
