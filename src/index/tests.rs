//! Index tests: exact search against brute force at every precision, reuse, and every kind of
//! damaged or stale file detected and rebuilt.

use std::cell::Cell;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rusqlite::Connection;

use super::*;
use crate::engine::l2_normalize;

const DIM: usize = 37;

fn vectors(n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut v: Vec<f32> = (0..DIM).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            l2_normalize(&mut v);
            v
        })
        .collect()
}

fn corpus(n: usize) -> Vec<(String, String)> {
    (0..n).map(|i| (format!("c{i}"), format!("chunk text {i}"))).collect()
}

fn key(precision: Precision, chunks: &[(String, String)]) -> IndexKey {
    IndexKey {
        model_sha256: "m".into(),
        scheme: "f32".into(),
        precision,
        corpus_sha256: corpus_sha256(chunks.iter().map(|(i, t)| (i.as_str(), t.as_str()))),
        dim: DIM,
        embedder_build: "test".into(),
    }
}

/// Builds (or opens) every precision's index over `chunks` with `vecs`, counting `fill` calls.
fn build(dir: &Path, chunks: &[(String, String)], vecs: &[Vec<f32>], fills: &Cell<usize>) -> Vec<Opened> {
    let keys: Vec<IndexKey> = Precision::ALL.iter().map(|&p| key(p, chunks)).collect();
    open_or_build(dir, &keys, |writers| {
        fills.set(fills.get() + 1);
        // Batches of 300 cross block boundaries.
        for (cs, vs) in chunks.chunks(300).zip(vecs.chunks(300)) {
            let cs: Vec<(&str, &str)> = cs.iter().map(|(i, t)| (i.as_str(), t.as_str())).collect();
            for w in writers.iter_mut() {
                w.add(&cs, vs)?;
            }
        }
        Ok(())
    })
    .unwrap()
}

/// Best `k` rows by `score`, ties by row.
fn brute(n: usize, k: usize, score: impl Fn(usize) -> f32) -> Vec<(usize, f32)> {
    let mut all: Vec<(usize, f32)> = (0..n).map(|r| (r, score(r))).collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

fn rows(hits: &[Hit]) -> Vec<usize> {
    hits.iter().map(|h| h.row).collect()
}

#[test]
fn search_equals_brute_force_at_every_precision() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2 * store::BLOCK_ROWS + 77;
    let chunks = corpus(n);
    let mut vecs = vectors(n, 1);
    vecs[500] = vecs[100].clone(); // an exact tie: the earlier row wins
    let queries = {
        let mut q = vectors(9, 2);
        q.push(vecs[100].clone());
        q
    };
    let fills = Cell::new(0);
    let opened = build(dir.path(), &chunks, &vecs, &fills);
    let k = kernels_for_test();
    for o in &opened {
        let stats = o.index.stats();
        assert_eq!((stats.count, stats.dim), (n, DIM));
        assert_eq!(stats.scan_bytes, (n * o.index.key().precision.code_bytes(DIM)) as u64);
        let hits = o.index.search(&queries, 10).unwrap();
        for (q, got) in queries.iter().zip(&hits) {
            let want = match o.index.key().precision {
                Precision::F32 => brute(n, 10, |r| k.dot_f32(q, &vecs[r])),
                Precision::Int8 => {
                    let qq = codec::quantize_int8(q);
                    brute(n, 10, |r| {
                        let d = codec::quantize_int8(&vecs[r]);
                        k.dot_i8_codes(&qq.codes, &d.codes) as f32 * qq.scale * d.scale
                    })
                }
                Precision::Binary => {
                    let qb = codec::sign_bits(q);
                    let cands = brute(n, 10 * RESCORE_MULTIPLIER, |r| {
                        -(k.hamming(&qb, &codec::sign_bits(&vecs[r])) as f32)
                    });
                    let mut rescored: Vec<(usize, f32)> =
                        cands.iter().map(|&(r, _)| (r, k.dot_f32(q, &vecs[r]))).collect();
                    rescored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                    rescored.truncate(10);
                    rescored
                }
            };
            assert_eq!(
                rows(got),
                want.iter().map(|w| w.0).collect::<Vec<_>>(),
                "{}",
                o.index.key().precision
            );
            for (h, w) in got.iter().zip(&want) {
                assert_eq!(h.score, w.1);
                assert_eq!(h.id, format!("c{}", h.row));
            }
        }
        let last = &hits[queries.len() - 1];
        if o.index.key().precision == Precision::F32 {
            assert_eq!(&rows(last)[..2], &[100, 500], "equal scores keep corpus order");
        }
    }
    assert_eq!(opened[2].index.stats().rescore_bytes, (n * DIM * 4) as u64);
    assert_eq!(opened[0].index.stats().rescore_bytes, 0);
}

fn kernels_for_test() -> crate::engine::kernels::Kernels {
    crate::engine::kernels::kernels()
}

#[test]
fn a_second_open_reuses_the_files_without_embedding() {
    let dir = tempfile::tempdir().unwrap();
    let chunks = corpus(50);
    let vecs = vectors(50, 3);
    let fills = Cell::new(0);
    let first = build(dir.path(), &chunks, &vecs, &fills);
    assert!(first.iter().all(|o| o.provenance == Provenance::Built));
    let before: Vec<Vec<Hit>> = first
        .iter()
        .map(|o| o.index.search(&vecs[..3], 5).unwrap().remove(0))
        .collect();
    drop(first);
    let second = build(dir.path(), &chunks, &vecs, &fills);
    assert_eq!(fills.get(), 1, "nothing was embedded again");
    assert!(second.iter().all(|o| o.provenance == Provenance::Reused));
    let after: Vec<Vec<Hit>> = second
        .iter()
        .map(|o| o.index.search(&vecs[..3], 5).unwrap().remove(0))
        .collect();
    assert_eq!(before, after);
    // Another corpus is another key: built beside the first.
    let other = corpus(51);
    let third = build(dir.path(), &other, &vectors(51, 3), &fills);
    assert!(third.iter().all(|o| o.provenance == Provenance::Built));
}

/// Builds the indexes, damages the file of `precision` with `damage`, reopens: the damage must be
/// detected (its reason containing `expect`) and the rebuilt index must search like the original.
fn detects(precision: Precision, expect: &str, damage: impl Fn(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    let n = store::BLOCK_ROWS + 10;
    let chunks = corpus(n);
    let vecs = vectors(n, 4);
    let fills = Cell::new(0);
    let opened = build(dir.path(), &chunks, &vecs, &fills);
    let i = Precision::ALL.iter().position(|&p| p == precision).unwrap();
    let path = opened[i].path.clone();
    let before = opened[i].index.search(&vecs[..4], 10).unwrap();
    drop(opened);
    damage(&path);
    let reopened = build(dir.path(), &chunks, &vecs, &fills);
    assert_eq!(fills.get(), 2, "the damaged index was rebuilt");
    match &reopened[i].provenance {
        Provenance::Rebuilt(reason) => assert!(reason.contains(expect), "{precision}: {reason}"),
        p => panic!("{precision}: damage not detected ({p:?})"),
    }
    for (j, o) in reopened.iter().enumerate() {
        if j != i {
            assert_eq!(o.provenance, Provenance::Reused);
        }
    }
    assert_eq!(reopened[i].index.search(&vecs[..4], 10).unwrap(), before);
}

fn sql(path: &Path, statement: &str) {
    Connection::open(path).unwrap().execute_batch(statement).unwrap();
}

#[test]
fn a_bad_blob_length_is_detected() {
    for p in Precision::ALL {
        detects(p, "blob of", |path| {
            sql(
                path,
                "UPDATE blocks SET codes = substr(codes, 1, length(codes) - 1) WHERE block = 1",
            )
        });
    }
    detects(Precision::Binary, "rescore row 7", |path| {
        sql(path, "UPDATE rescore SET vector = zeroblob(8) WHERE row = 7")
    });
}

#[test]
fn a_wrong_count_is_detected() {
    detects(Precision::F32, "chunks for a count", |path| {
        sql(path, "UPDATE meta SET value = '5' WHERE name = 'count'")
    });
    detects(Precision::Int8, "chunks for a count", |path| {
        sql(path, "DELETE FROM chunks WHERE row = (SELECT max(row) FROM chunks)")
    });
    detects(Precision::Binary, "rescoring vectors", |path| {
        sql(path, "DELETE FROM rescore WHERE row = (SELECT max(row) FROM rescore)")
    });
}

#[test]
fn a_content_hash_mismatch_is_detected() {
    detects(Precision::F32, "content hash mismatch", |path| {
        sql(path, "UPDATE chunks SET id = 'someone else' WHERE row = 3")
    });
    detects(Precision::Int8, "content hash mismatch", |path| {
        sql(path, "UPDATE chunks SET text_sha256 = zeroblob(32) WHERE row = 0")
    });
}

#[test]
fn a_changed_vector_is_detected_by_the_checksum() {
    for p in Precision::ALL {
        detects(p, "checksum", |path| {
            let conn = Connection::open(path).unwrap();
            let mut codes: Vec<u8> = conn
                .query_row("SELECT codes FROM blocks WHERE block = 0", [], |r| r.get(0))
                .unwrap();
            codes[5] ^= 0x40;
            conn.execute("UPDATE blocks SET codes = ?1 WHERE block = 0", [codes])
                .unwrap();
        });
    }
}

#[test]
fn a_file_claiming_another_key_is_stale() {
    detects(Precision::F32, "stale: model_sha256", |path| {
        sql(
            path,
            "UPDATE meta SET value = 'another model' WHERE name = 'model_sha256'",
        )
    });
}

#[test]
fn sqlite_damage_and_garbage_are_detected() {
    // Overwrite part of an interior page: SQLite's own check (or reading) fails.
    detects(Precision::F32, "", |path| {
        let mut bytes = std::fs::read(path).unwrap();
        let page = 65536;
        for b in &mut bytes[page + 8..page + 4000] {
            *b = 0xA5;
        }
        std::fs::write(path, bytes).unwrap();
    });
    detects(Precision::Int8, "unreadable", |path| {
        std::fs::write(path, b"not a database at all").unwrap()
    });
    detects(Precision::Binary, "", |path| {
        let len = std::fs::metadata(path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        f.set_len(len / 2).unwrap();
    });
}

#[test]
fn an_unfinished_writer_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let chunks = corpus(3);
    let k = key(Precision::F32, &chunks);
    let err = open_or_build(dir.path(), &[k], |writers| {
        writers[0].add(&[("c0", "chunk text 0")], &vectors(1, 1))?;
        Err(crate::error::Error::input("test", "embedding failed"))
    });
    assert!(err.is_err());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary or partial file"
    );
    // A writer finished over the wrong corpus is refused.
    let k = key(Precision::F32, &chunks);
    let err = open_or_build(dir.path(), &[k], |writers| {
        writers[0].add(&[("c0", "other")], &vectors(1, 1))
    });
    assert!(err.is_err());
}
