//! Exact top-k search over an index, streaming its blocks from SQLite once per batch of queries:
//! no copy of the corpus's vectors is held, only one block (`BLOCK_ROWS` codes) at a time.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use std::sync::Mutex;

use rusqlite::Connection;

use super::codec::{self, Int8Code, Precision};
use super::store::{IndexKey, IndexStats};
use crate::engine::kernels::{kernels, Kernels};
use crate::error::{Error, Result};

/// Candidates a binary index rescores with f32 vectors, as a multiple of k (sentence-transformers'
/// `semantic_search_faiss` calls it `rescore_multiplier`, default 2; 4 keeps more candidates for a
/// small model's 384-bit codes, whose Hamming ranking is coarse).
pub const RESCORE_MULTIPLIER: usize = 4;

/// One retrieved chunk.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// Position of the chunk in the corpus.
    pub row: usize,
    pub id: String,
    /// Dot product of query and chunk vectors (the f32 rescoring dot for binary indexes; for int8,
    /// the dot of the dequantized codes).
    pub score: f32,
}

/// A verified, open index. Its connection sits behind a mutex so that an index can be shared
/// between threads (searches of one index take turns; each search spreads its queries over threads).
pub struct Index {
    conn: Mutex<Connection>,
    key: IndexKey,
    stats: IndexStats,
}

/// A candidate: ordered so that the heap's greatest element is the worst kept (lower score, then
/// higher row): ties between equal scores go to the earlier chunk, whatever the thread count.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    score: f32,
    row: u32,
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        other.score.total_cmp(&self.score).then(self.row.cmp(&other.row))
    }
}

/// The best `k` candidates seen so far.
struct TopK {
    k: usize,
    heap: BinaryHeap<Candidate>,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    #[inline]
    fn push(&mut self, c: Candidate) {
        if self.heap.len() < self.k {
            self.heap.push(c);
        } else if self.heap.peek().is_some_and(|worst| c < *worst) {
            self.heap.pop();
            self.heap.push(c);
        }
    }

    /// Best first.
    fn into_sorted(self) -> Vec<Candidate> {
        self.heap.into_sorted_vec()
    }
}

/// A query in the form its index's codes are compared with.
enum Prepared {
    F32(Vec<f32>),
    Int8(Int8Code),
    Binary(Vec<u64>),
}

/// One block of codes, decoded into aligned buffers reused from block to block.
#[derive(Default)]
struct Block {
    f32s: Vec<f32>,
    i8s: Vec<i8>,
    scales: Vec<f32>,
    words: Vec<u64>,
}

impl Block {
    fn decode(&mut self, precision: Precision, dim: usize, bytes: &[u8]) {
        match precision {
            Precision::F32 => codec::f32s_from_le(bytes, &mut self.f32s),
            Precision::Int8 => {
                self.i8s.clear();
                self.scales.clear();
                for code in bytes.chunks_exact(dim + 4) {
                    self.i8s.extend(code[..dim].iter().map(|&b| b as i8));
                    let s = &code[dim..];
                    self.scales.push(f32::from_le_bytes([s[0], s[1], s[2], s[3]]));
                }
            }
            Precision::Binary => codec::u64s_from_le(bytes, &mut self.words),
        }
    }

    /// Score of row `r` of the block for `query` (higher is better).
    #[inline]
    fn score(&self, k: Kernels, dim: usize, query: &Prepared, r: usize) -> f32 {
        match query {
            Prepared::F32(q) => k.dot_f32(q, &self.f32s[r * dim..(r + 1) * dim]),
            Prepared::Int8(q) => {
                k.dot_i8_codes(&q.codes, &self.i8s[r * dim..(r + 1) * dim]) as f32 * q.scale * self.scales[r]
            }
            Prepared::Binary(q) => {
                let w = q.len();
                -(k.hamming(q, &self.words[r * w..(r + 1) * w]) as f32)
            }
        }
    }
}

fn sql(e: rusqlite::Error) -> Error {
    Error::Internal(format!("index search: SQLite: {e}"))
}

impl Index {
    pub(super) fn new(conn: Connection, key: IndexKey, stats: IndexStats) -> Self {
        Index {
            conn: Mutex::new(conn),
            key,
            stats,
        }
    }

    pub fn key(&self) -> &IndexKey {
        &self.key
    }

    pub fn stats(&self) -> IndexStats {
        self.stats
    }

    /// The `k` chunks with the highest scores for each query (fewer when the corpus is smaller),
    /// best first; equal scores keep corpus order. One pass over the stored blocks serves the whole
    /// batch; queries are spread over threads within each block.
    pub fn search(&self, queries: &[Vec<f32>], k: usize) -> Result<Vec<Vec<Hit>>> {
        let (precision, dim) = (self.key.precision, self.key.dim);
        if let Some(q) = queries.iter().find(|q| q.len() != dim) {
            return Err(Error::Internal(format!(
                "a query of {} dimensions for an index of {dim}",
                q.len()
            )));
        }
        let depth = if precision == Precision::Binary {
            k * RESCORE_MULTIPLIER
        } else {
            k
        };
        let prepared: Vec<Prepared> = queries
            .iter()
            .map(|q| match precision {
                Precision::F32 => Prepared::F32(q.clone()),
                Precision::Int8 => Prepared::Int8(codec::quantize_int8(q)),
                Precision::Binary => Prepared::Binary(codec::sign_bits(q)),
            })
            .collect();
        let mut tops: Vec<TopK> = queries.iter().map(|_| TopK::new(depth)).collect();
        let kern = kernels();
        let code_bytes = precision.code_bytes(dim);
        let mut block = Block::default();
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare_cached("SELECT first_row, rows, codes FROM blocks ORDER BY block")
            .map_err(sql)?;
        let mut rows = stmt.query([]).map_err(sql)?;
        while let Some(r) = rows.next().map_err(sql)? {
            let first: i64 = r.get(0).map_err(sql)?;
            let n: i64 = r.get(1).map_err(sql)?;
            let bytes = r.get_ref(2).and_then(|v| Ok(v.as_blob()?)).map_err(sql)?;
            let n = n as usize;
            if bytes.len() != n * code_bytes {
                return Err(Error::Internal(format!(
                    "index block at row {first} changed after it was verified ({} bytes for {n} vectors)",
                    bytes.len()
                )));
            }
            block.decode(precision, dim, bytes);
            tops.par_iter_mut().zip(prepared.par_iter()).for_each(|(top, q)| {
                for i in 0..n {
                    let score = block.score(kern, dim, q, i);
                    top.push(Candidate {
                        score,
                        row: (first as usize + i) as u32,
                    });
                }
            });
        }
        drop(rows);
        let mut out = Vec::with_capacity(queries.len());
        for (top, q) in tops.into_iter().zip(queries) {
            let best = if precision == Precision::Binary {
                rescore(&conn, top.into_sorted(), q, k, kern)?
            } else {
                top.into_sorted()
            };
            out.push(hits(&conn, &best)?);
        }
        Ok(out)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::Internal("an index search panicked while holding the index".into()))
    }
}

/// Re-ranks binary candidates by the f32 dot with their stored vectors; keeps the best `k`.
fn rescore(
    conn: &Connection,
    candidates: Vec<Candidate>,
    query: &[f32],
    k: usize,
    kern: Kernels,
) -> Result<Vec<Candidate>> {
    let mut stmt = conn
        .prepare_cached("SELECT vector FROM rescore WHERE row = ?1")
        .map_err(sql)?;
    let mut top = TopK::new(k);
    let mut v = Vec::with_capacity(query.len());
    for c in candidates {
        stmt.query_row([c.row as i64], |r| {
            codec::f32s_from_le(r.get_ref(0)?.as_blob()?, &mut v);
            Ok(())
        })
        .map_err(sql)?;
        if v.len() != query.len() {
            return Err(Error::Internal(format!(
                "rescoring vector of row {} changed after it was verified",
                c.row
            )));
        }
        top.push(Candidate {
            score: kern.dot_f32(query, &v),
            row: c.row,
        });
    }
    Ok(top.into_sorted())
}

/// The chunk ids of the best candidates.
fn hits(conn: &Connection, best: &[Candidate]) -> Result<Vec<Hit>> {
    let mut stmt = conn
        .prepare_cached("SELECT id FROM chunks WHERE row = ?1")
        .map_err(sql)?;
    best.iter()
        .map(|c| {
            let id: String = stmt.query_row([c.row as i64], |r| r.get(0)).map_err(sql)?;
            Ok(Hit {
                row: c.row as usize,
                id,
                score: c.score,
            })
        })
        .collect()
}
