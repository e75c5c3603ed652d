//! Peer check: the engine's f32 all-MiniLM-L6-v2 embeddings in the f32 index retrieve the same top-10
//! chunks, in the same order, as sentence-transformers' `semantic_search` for every query of the
//! default retrieval suite (fixture from scripts/golden/make_retrieval_peer.py). Where the peer's own
//! scores of two chunks differ by less than the embedding tolerance, their order is a coin toss for
//! both implementations and a swap is accepted (and counted).

mod common;

use std::collections::HashMap;

use shakedown::engine::{Model, ModelFiles, Scheme};
use shakedown::index::{corpus_sha256, open_or_build, IndexKey, Precision};
use shakedown::task::retrieve::{load_corpus, load_queries};

/// Scores closer than this are ties (the engine matches PyTorch's embeddings to about 1e-6 per value).
const TIE: f64 = 2e-5;

#[test]
fn f32_top_10_equals_sentence_transformers_semantic_search() {
    let fixture = common::fixture("retrieval_peer_minilm.json");
    let suite = common::root().join("suites/warehouse-sop-rag");
    let corpus_bytes = std::fs::read(suite.join("corpus.jsonl")).unwrap();
    assert_eq!(
        shakedown::engine::load::sha256_hex(&corpus_bytes),
        fixture["corpus_sha256"].as_str().unwrap(),
        "the suite's corpus changed: re-run scripts/golden/make_retrieval_peer.py"
    );
    let files = ModelFiles::load(&common::minilm_dir()).unwrap();
    assert_eq!(files.weights_sha256, fixture["model_sha256"].as_str().unwrap());
    let corpus = load_corpus(&suite.join("corpus.jsonl")).unwrap();
    let queries = load_queries(&[&suite.join("queries.jsonl")], &corpus).unwrap();
    let model = Model::build(&files, Scheme::F32).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let key = IndexKey {
        model_sha256: files.weights_sha256.clone(),
        scheme: "f32".into(),
        precision: Precision::F32,
        corpus_sha256: corpus_sha256(corpus.iter().map(|c| (c.id.as_str(), c.text.as_str()))),
        dim: 384,
        embedder_build: "peer test".into(),
    };
    let opened = open_or_build(dir.path(), &[key], |writers| {
        for chunk in corpus.chunks(32) {
            let texts: Vec<&str> = chunk.iter().map(|c| c.text.as_str()).collect();
            let pairs: Vec<(&str, &str)> = chunk.iter().map(|c| (c.id.as_str(), c.text.as_str())).collect();
            writers[0].add(&pairs, &model.embeddings(&texts)?)?;
        }
        Ok(())
    })
    .unwrap();
    let texts: Vec<&str> = queries.iter().map(|q| q.text.as_str()).collect();
    let vectors: Vec<Vec<f32>> = texts.chunks(32).flat_map(|c| model.embeddings(c).unwrap()).collect();
    let hits = opened[0].index.search(&vectors, 10).unwrap();

    let peer: HashMap<&str, Vec<(&str, f64)>> = fixture["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let top = q["top"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (h[0].as_str().unwrap(), h[1].as_f64().unwrap()))
                .collect();
            (q["id"].as_str().unwrap(), top)
        })
        .collect();
    let (mut identical, mut tie_swaps, mut max_score_diff) = (0, 0, 0.0f64);
    for (q, ours) in queries.iter().zip(&hits) {
        let theirs = &peer[q.id.as_str()];
        let score_of: HashMap<&str, f64> = theirs.iter().copied().collect();
        assert_eq!(ours.len(), 10);
        let mut same = true;
        for (rank, h) in ours.iter().enumerate() {
            let (want_id, want_score) = theirs[rank];
            let theirs_for_ours = score_of.get(h.id.as_str()).copied();
            if let Some(s) = theirs_for_ours {
                max_score_diff = max_score_diff.max((s - h.score as f64).abs());
            }
            if h.id != want_id {
                same = false;
                let tie = theirs_for_ours.is_some_and(|s| (s - want_score).abs() < TIE);
                assert!(
                    tie,
                    "{} \"{}\": rank {} is {} ({}), sentence-transformers has {} ({want_score}) and scores ours {:?}",
                    q.id,
                    q.text,
                    rank + 1,
                    h.id,
                    h.score,
                    want_id,
                    theirs_for_ours
                );
            }
        }
        if same {
            identical += 1;
        } else {
            tie_swaps += 1;
        }
    }
    eprintln!(
        "{identical} of {} queries with identical top-10 ids, {tie_swaps} differing only by swaps of tied scores; \
         largest score difference {max_score_diff:.2e}",
        queries.len()
    );
    assert!(max_score_diff < 1e-4, "scores differ by {max_score_diff}");
}
