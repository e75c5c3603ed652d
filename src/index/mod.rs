//! A real local vector index: a corpus's embeddings persisted in SQLite (one file per key, vectors
//! as blobs), reused across runs when every part of the key matches and the file verifies, rebuilt
//! otherwise; exact top-k search streaming over the stored codes with the kernel table's dots.
//!
//! Precisions: f32, int8 (one symmetric scale per vector) and binary (sign bits, candidates
//! rescored with f32 vectors kept on disk); see `codec` for the choices and `store` for the layout.

pub mod codec;
pub mod search;
pub mod store;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use codec::Precision;
pub use search::{Hit, Index, RESCORE_MULTIPLIER};
pub use store::{corpus_sha256, IndexKey, IndexStats, Problem, Writer};

use crate::error::{Error, Result};

/// Where an opened index came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Provenance {
    /// A stored file matched the key and verified.
    Reused,
    /// No file existed for the key.
    Built,
    /// A file existed but was not trusted, for this reason; it was replaced.
    Rebuilt(String),
}

/// An index ready to search, with how it was obtained and what that cost.
pub struct Opened {
    pub index: Index,
    pub provenance: Provenance,
    /// Time to verify the file (every open verifies, including right after a build).
    pub verify_time: Duration,
    /// Time of `fill` (embedding and writing), shared by every index built in the same call.
    pub build_time: Option<Duration>,
    pub path: PathBuf,
}

/// The default folder of stored indexes: `$SHAKEDOWN_CACHE/index`, else `~/.cache/shakedown/index`
/// (the cache `scripts/fetch_model.sh` uses).
pub fn default_dir() -> PathBuf {
    std::env::var_os("SHAKEDOWN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/shakedown"))
        .join("index")
}

/// Opens the index of every key in `dir`, verifying each stored file in full. The keys without a
/// trustworthy file get a `Writer` each, and `fill` is called once with all of them (so one pass
/// over the corpus, embedding it once, feeds every precision); each is then finished, moved into
/// place and verified like any other. `fill` is not called when every index is reused.
pub fn open_or_build(
    dir: &Path,
    keys: &[IndexKey],
    fill: impl FnOnce(&mut [Writer]) -> Result<()>,
) -> Result<Vec<Opened>> {
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].contains(key) {
            return Err(Error::Internal(format!("index key {} given twice", key.file_name())));
        }
    }
    let mut opened: Vec<Option<Opened>> = Vec::with_capacity(keys.len());
    let mut missing: Vec<(usize, Provenance)> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let path = dir.join(key.file_name());
        if !path.exists() {
            opened.push(None);
            missing.push((i, Provenance::Built));
            continue;
        }
        let start = Instant::now();
        match store::verify(&path, key) {
            Ok((conn, stats)) => opened.push(Some(Opened {
                index: Index::new(conn, key.clone(), stats),
                provenance: Provenance::Reused,
                verify_time: start.elapsed(),
                build_time: None,
                path,
            })),
            Err(problem) => {
                opened.push(None);
                missing.push((i, Provenance::Rebuilt(problem.to_string())));
            }
        }
    }
    if !missing.is_empty() {
        let mut writers = missing
            .iter()
            .map(|(i, _)| Writer::create(dir, &keys[*i]))
            .collect::<Result<Vec<_>>>()?;
        let start = Instant::now();
        fill(&mut writers)?;
        let mut paths = Vec::with_capacity(writers.len());
        for w in writers {
            paths.push(w.finish()?);
        }
        let build_time = start.elapsed();
        for ((i, provenance), path) in missing.into_iter().zip(paths) {
            let start = Instant::now();
            let (conn, stats) = store::verify(&path, &keys[i]).map_err(|p| {
                Error::Internal(format!(
                    "{}: a freshly built index does not verify: {p}",
                    path.display()
                ))
            })?;
            opened[i] = Some(Opened {
                index: Index::new(conn, keys[i].clone(), stats),
                provenance,
                verify_time: start.elapsed(),
                build_time: Some(build_time),
                path,
            });
        }
    }
    opened
        .into_iter()
        .map(|o| o.ok_or_else(|| Error::Internal("an index was neither opened nor built".into())))
        .collect()
}

#[cfg(test)]
mod tests;
