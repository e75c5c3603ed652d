//! A corpus of 100,000 synthetic 384-dimensional vectors (all-MiniLM-L6-v2's width) indexes and
//! searches at every precision without holding a copy of its vectors: the peak resident memory the
//! build and search add stays below the size of one f32 copy (153.6 MB), read from `/proc` (VmHWM
//! after a reset). Its own test binary, so that no other test's allocations count.
//!
//! `cargo test --release --test index_scale -- --nocapture` prints sizes and times.

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use shakedown::engine::tensor::l2_normalize;
use shakedown::index::{corpus_sha256, open_or_build, IndexKey, Precision, Provenance};
use shakedown::memory;

const N: usize = 100_000;
const DIM: usize = 384;
const BATCH: usize = 256;

fn id(i: usize) -> String {
    format!("chunk-{i:06}")
}

fn text(i: usize) -> String {
    format!("synthetic chunk {i}")
}

/// Vector `i`, regenerated from its own seed so that nobody needs to keep it.
fn vector(i: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(i as u64);
    let mut v: Vec<f32> = (0..DIM).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    l2_normalize(&mut v);
    v
}

#[test]
fn a_hundred_thousand_chunks_index_and_search_without_a_copy_of_the_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = {
        let ids: Vec<String> = (0..N).map(id).collect();
        let texts: Vec<String> = (0..N).map(text).collect();
        corpus_sha256(ids.iter().map(String::as_str).zip(texts.iter().map(String::as_str)))
    };
    let keys: Vec<IndexKey> = Precision::ALL
        .iter()
        .map(|&precision| IndexKey {
            model_sha256: "synthetic".into(),
            scheme: "f32".into(),
            precision,
            corpus_sha256: corpus.clone(),
            dim: DIM,
            embedder_build: "test".into(),
        })
        .collect();
    let queries: Vec<Vec<f32>> = [12_345usize, 99_999, 0, 54_321].iter().map(|&i| vector(i)).collect();

    memory::release_freed_memory();
    let reset = memory::reset_peak();
    let start_rss = memory::resident_bytes();
    let t = Instant::now();
    let opened = open_or_build(dir.path(), &keys, |writers| {
        for first in (0..N).step_by(BATCH) {
            let rows: Vec<usize> = (first..(first + BATCH).min(N)).collect();
            let ids: Vec<String> = rows.iter().map(|&i| id(i)).collect();
            let texts: Vec<String> = rows.iter().map(|&i| text(i)).collect();
            let chunks: Vec<(&str, &str)> = ids
                .iter()
                .map(String::as_str)
                .zip(texts.iter().map(String::as_str))
                .collect();
            let vecs: Vec<Vec<f32>> = rows.iter().map(|&i| vector(i)).collect();
            for w in writers.iter_mut() {
                w.add(&chunks, &vecs)?;
            }
        }
        Ok(())
    })
    .unwrap();
    let build = t.elapsed();
    for o in &opened {
        assert_eq!(o.provenance, Provenance::Built);
        let t = Instant::now();
        let hits = o.index.search(&queries, 10).unwrap();
        let per_query = t.elapsed() / queries.len() as u32;
        for (q, h) in [12_345usize, 99_999, 0, 54_321].iter().zip(&hits) {
            assert_eq!(h.len(), 10);
            assert_eq!(
                h[0].id,
                id(*q),
                "{}: a stored vector finds itself first",
                o.index.key().precision
            );
        }
        let s = o.index.stats();
        eprintln!(
            "{:<6} scan {:>6.1} MB  rescore {:>6.1} MB  file {:>6.1} MB  verify {:>6.0} ms  search {:>7.2} ms/query (batch of {})",
            o.index.key().precision.name(),
            s.scan_bytes as f64 / 1e6,
            s.rescore_bytes as f64 / 1e6,
            s.file_bytes as f64 / 1e6,
            o.verify_time.as_secs_f64() * 1e3,
            per_query.as_secs_f64() * 1e3,
            queries.len()
        );
    }
    let one_copy = (N * DIM * 4) as u64;
    if let (true, Some(start), Some(peak)) = (reset, start_rss, memory::peak_resident_bytes()) {
        let added = peak.saturating_sub(start);
        eprintln!(
            "build of 3 indexes {:.1} s; peak RSS added {:.1} MB, one f32 copy of the vectors {:.1} MB",
            build.as_secs_f64(),
            added as f64 / 1e6,
            one_copy as f64 / 1e6
        );
        assert!(
            added < one_copy,
            "peak RSS grew by {added} bytes, more than one copy ({one_copy})"
        );
    } else {
        eprintln!("peak RSS not measurable here (no /proc or no reset)");
    }
}
