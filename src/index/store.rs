//! The on-disk index: one SQLite file per key (model, scheme, precision, corpus, ...), vectors as
//! blobs, written by a streaming `Writer` into a temporary file that is renamed into place only when
//! complete, and verified in full by `verify` before it is trusted.
//!
//! Tables:
//! - `meta(name, value)`: the key's fields, the vector count and a SHA-256 of every vector blob.
//! - `chunks(row, id, text_sha256)`: the corpus in order; the corpus hash is recomputed from it.
//! - `blocks(block, first_row, rows, codes)`: the codes the search scans, `BLOCK_ROWS` vectors a
//!   blob (one SQLite row per vector would cost a b-tree step per vector; a block is read with one).
//! - `rescore(row, vector)`, binary indexes only: each vector in f32, read by row for the few
//!   candidates a query rescores. This is how on-device stores keep full-precision vectors on disk
//!   beside a compact in-RAM code (Qdrant's binary quantization with `on_disk` originals and
//!   `rescore`); the bytes are counted in `IndexStats::rescore_bytes` and in the file size.

use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};

use super::codec::{self, Precision};
use crate::error::{Error, Result};

/// Version of the file layout; a file of another version is rebuilt.
pub const FORMAT: u32 = 1;
/// Vectors per `blocks` row.
pub const BLOCK_ROWS: usize = 1024;
/// SQLite page size of a new index: large pages keep a block blob's overflow chain short.
const PAGE_SIZE: u32 = 65536;

/// Everything that decides an index's contents. Two runs with equal keys may share an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexKey {
    /// SHA-256 of the embedding model's weights.
    pub model_sha256: String,
    /// The scheme the corpus was embedded with (`f32` for the "server" shape).
    pub scheme: String,
    pub precision: Precision,
    /// `corpus_sha256` of the corpus as embedded (after any corruption).
    pub corpus_sha256: String,
    pub dim: usize,
    /// What else changes the embeddings' bits: the tool's revision, the kernel table, the
    /// calibration texts of activation-aware schemes.
    pub embedder_build: String,
}

impl IndexKey {
    fn fields(&self) -> [(&'static str, String); 7] {
        [
            ("format", FORMAT.to_string()),
            ("model_sha256", self.model_sha256.clone()),
            ("scheme", self.scheme.clone()),
            ("precision", self.precision.name().into()),
            ("corpus_sha256", self.corpus_sha256.clone()),
            ("dim", self.dim.to_string()),
            ("embedder_build", self.embedder_build.clone()),
        ]
    }

    /// The index's file name: the precision and a digest of every field.
    pub fn file_name(&self) -> String {
        let mut h = Sha256::new();
        for (name, value) in self.fields() {
            h.update((name.len() as u64).to_le_bytes());
            h.update(name);
            h.update((value.len() as u64).to_le_bytes());
            h.update(value);
        }
        format!("{}-{}.sqlite", self.precision, &hex(&h.finalize())[..32])
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Incremental corpus hash over `(id, SHA-256 of text)` pairs in order.
#[derive(Clone, Default)]
pub struct CorpusHasher(Sha256);

impl CorpusHasher {
    pub fn push(&mut self, id: &str, text_sha256: &[u8]) {
        self.0.update((id.len() as u64).to_le_bytes());
        self.0.update(id);
        self.0.update(text_sha256);
    }
    pub fn hex(self) -> String {
        hex(&self.0.finalize())
    }
}

/// The corpus hash an index is keyed by: chunk ids and texts, in order.
pub fn corpus_sha256<'a>(chunks: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut h = CorpusHasher::default();
    for (id, text) in chunks {
        h.push(id, &Sha256::digest(text));
    }
    h.hex()
}

/// Sizes of an index.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IndexStats {
    pub count: usize,
    pub dim: usize,
    /// Bytes of the codes a search scans (what a device keeps in RAM).
    pub scan_bytes: u64,
    /// Bytes of the f32 vectors kept on disk for rescoring (binary indexes; 0 otherwise).
    pub rescore_bytes: u64,
    /// Size of the SQLite file: codes, rescoring vectors, chunk ids and hashes, pages' overhead.
    pub file_bytes: u64,
}

/// Why an index file was not trusted.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// SQLite could not read it (not a database, truncated, locked, ...).
    Unreadable(String),
    /// `PRAGMA quick_check` reported damage.
    Integrity(String),
    /// A field of `meta` differs from the key (written by another model, scheme, corpus, format...).
    KeyMismatch {
        field: String,
        stored: String,
        expected: String,
    },
    /// Row numbers, block sizes or counts do not add up.
    Layout(String),
    /// A vector blob has the wrong length.
    BlobLength {
        table: &'static str,
        row: i64,
        bytes: usize,
        expected: usize,
    },
    /// The chunks stored do not hash to the key's corpus hash.
    CorpusHash { stored: String, expected: String },
    /// The vector blobs do not hash to the checksum written with them.
    Checksum,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unreadable(m) => write!(f, "unreadable: {m}"),
            Problem::Integrity(m) => write!(f, "SQLite integrity check failed: {m}"),
            Problem::KeyMismatch {
                field,
                stored,
                expected,
            } => {
                write!(f, "stale: {field} is \"{stored}\", expected \"{expected}\"")
            }
            Problem::Layout(m) => write!(f, "bad layout: {m}"),
            Problem::BlobLength {
                table,
                row,
                bytes,
                expected,
            } => {
                write!(f, "{table} row {row}: blob of {bytes} bytes, expected {expected}")
            }
            Problem::CorpusHash { stored, expected } => {
                write!(f, "content hash mismatch: chunks hash to {stored}, expected {expected}")
            }
            Problem::Checksum => write!(f, "vector checksum mismatch"),
        }
    }
}

fn sql_err(path: &Path, e: rusqlite::Error) -> Error {
    Error::Internal(format!("{}: SQLite: {e}", path.display()))
}

/// Streams a corpus's vectors into a new index file.
pub struct Writer {
    conn: Option<Connection>,
    tmp: PathBuf,
    dest: PathBuf,
    key: IndexKey,
    rows: usize,
    corpus: CorpusHasher,
    checksum: Sha256,
    block: Vec<u8>,
    block_rows: usize,
    blocks: usize,
}

impl Writer {
    /// Starts an index for `key` in `dir` (written to a temporary file beside its final name).
    pub fn create(dir: &Path, key: &IndexKey) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let dest = dir.join(key.file_name());
        let tmp = dir.join(format!(".{}.tmp-{}", key.file_name(), std::process::id()));
        if tmp.exists() {
            std::fs::remove_file(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        let conn = Connection::open(&tmp).map_err(|e| sql_err(&tmp, e))?;
        // The temporary file is renamed into place only when complete, so a crash leaves nothing a
        // reader would trust: no journal or sync is needed while it is written.
        conn.execute_batch(&format!(
            "PRAGMA page_size = {PAGE_SIZE}; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE chunks(row INTEGER PRIMARY KEY, id TEXT NOT NULL, text_sha256 BLOB NOT NULL);
             CREATE TABLE blocks(block INTEGER PRIMARY KEY, first_row INTEGER NOT NULL, rows INTEGER NOT NULL,
                                 codes BLOB NOT NULL);
             CREATE TABLE rescore(row INTEGER PRIMARY KEY, vector BLOB NOT NULL);
             BEGIN;"
        ))
        .map_err(|e| sql_err(&tmp, e))?;
        Ok(Writer {
            conn: Some(conn),
            tmp,
            dest,
            key: key.clone(),
            rows: 0,
            corpus: CorpusHasher::default(),
            checksum: Sha256::new(),
            block: Vec::with_capacity(BLOCK_ROWS * key.precision.code_bytes(key.dim)),
            block_rows: 0,
            blocks: 0,
        })
    }

    /// The key this writer builds.
    pub fn key(&self) -> &IndexKey {
        &self.key
    }

    fn conn(&self) -> Result<&Connection> {
        self.conn
            .as_ref()
            .ok_or_else(|| Error::Internal("index writer used after finishing".into()))
    }

    /// Appends chunks (`(id, text)`) with their vectors, in corpus order.
    pub fn add(&mut self, chunks: &[(&str, &str)], vectors: &[Vec<f32>]) -> Result<()> {
        if chunks.len() != vectors.len() {
            return Err(Error::Internal(format!(
                "index writer: {} chunks but {} vectors",
                chunks.len(),
                vectors.len()
            )));
        }
        let (precision, dim) = (self.key.precision, self.key.dim);
        for ((id, text), v) in chunks.iter().zip(vectors) {
            if v.len() != dim {
                return Err(Error::Internal(format!(
                    "index writer: vector of {} dimensions for an index of {dim}",
                    v.len()
                )));
            }
            let text_sha = Sha256::digest(text);
            self.corpus.push(id, &text_sha);
            let row = self.rows as i64;
            {
                let conn = self.conn()?;
                conn.prepare_cached("INSERT INTO chunks(row, id, text_sha256) VALUES (?1, ?2, ?3)")
                    .and_then(|mut s| s.execute(params![row, id, text_sha.as_slice()]))
                    .map_err(|e| sql_err(&self.tmp, e))?;
            }
            codec::encode(precision, v, &mut self.block);
            self.block_rows += 1;
            self.rows += 1;
            if self.block_rows == BLOCK_ROWS {
                self.flush_block()?;
            }
        }
        if precision == Precision::Binary {
            // Rescoring vectors go in after the block that holds their codes, so the checksum
            // covers blocks then rescoring vectors in one well-defined order at `finish`.
            let first = self.rows - vectors.len();
            let mut bytes = Vec::with_capacity(4 * dim);
            for (i, v) in vectors.iter().enumerate() {
                bytes.clear();
                codec::encode(Precision::F32, v, &mut bytes);
                let conn = self.conn()?;
                conn.prepare_cached("INSERT INTO rescore(row, vector) VALUES (?1, ?2)")
                    .and_then(|mut s| s.execute(params![(first + i) as i64, bytes]))
                    .map_err(|e| sql_err(&self.tmp, e))?;
            }
        }
        Ok(())
    }

    fn flush_block(&mut self) -> Result<()> {
        if self.block_rows == 0 {
            return Ok(());
        }
        self.checksum.update(&self.block);
        let first_row = (self.rows - self.block_rows) as i64;
        let conn = self.conn()?;
        conn.prepare_cached("INSERT INTO blocks(block, first_row, rows, codes) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| {
                s.execute(params![
                    self.blocks as i64,
                    first_row,
                    self.block_rows as i64,
                    self.block
                ])
            })
            .map_err(|e| sql_err(&self.tmp, e))?;
        self.blocks += 1;
        self.block.clear();
        self.block_rows = 0;
        Ok(())
    }

    /// Writes the last block and the metadata, checks the corpus hash against the key, and moves
    /// the file into place.
    pub fn finish(mut self) -> Result<PathBuf> {
        self.flush_block()?;
        let corpus = std::mem::take(&mut self.corpus).hex();
        if corpus != self.key.corpus_sha256 {
            return Err(Error::Internal(format!(
                "index writer: the chunks written hash to {corpus}, not to the key's corpus {}",
                self.key.corpus_sha256
            )));
        }
        let conn = self
            .conn
            .take()
            .ok_or_else(|| Error::Internal("index writer finished twice".into()))?;
        if self.key.precision == Precision::Binary {
            let mut stmt = conn
                .prepare("SELECT vector FROM rescore ORDER BY row")
                .map_err(|e| sql_err(&self.tmp, e))?;
            let mut rows = stmt.query([]).map_err(|e| sql_err(&self.tmp, e))?;
            while let Some(r) = rows.next().map_err(|e| sql_err(&self.tmp, e))? {
                let blob = r
                    .get_ref(0)
                    .and_then(|v| Ok(v.as_blob()?))
                    .map_err(|e| sql_err(&self.tmp, e))?;
                self.checksum.update(blob);
            }
        }
        let checksum = hex(&std::mem::take(&mut self.checksum).finalize());
        let mut meta: Vec<(&str, String)> = self.key.fields().to_vec();
        meta.push(("count", self.rows.to_string()));
        meta.push(("checksum", checksum));
        for (name, value) in &meta {
            conn.execute("INSERT INTO meta(name, value) VALUES (?1, ?2)", params![name, value])
                .map_err(|e| sql_err(&self.tmp, e))?;
        }
        conn.execute_batch("COMMIT;").map_err(|e| sql_err(&self.tmp, e))?;
        conn.close().map_err(|(_, e)| sql_err(&self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::io(&self.dest, e))?;
        Ok(self.dest.clone())
    }
}

impl Drop for Writer {
    /// An unfinished index is never left behind.
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn);
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Opens `path` read-only and checks everything against `key` before it is trusted: SQLite's
/// `quick_check`, every `meta` field, row numbering and counts, every blob's length, the corpus
/// hash recomputed from the stored chunks, and the checksum of every vector blob. Reads the whole
/// file once, streaming; returns the open connection and the index's sizes.
pub fn verify(path: &Path, key: &IndexKey) -> std::result::Result<(Connection, IndexStats), Problem> {
    let unreadable = |e: rusqlite::Error| Problem::Unreadable(e.to_string());
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(unreadable)?;
    // Index files are written once and replaced by rename, never changed in place: holding the
    // shared lock from the first read on (exclusive locking mode) spares every statement a lock, an
    // unlock and a hot-journal check, and keeps the page cache valid between searches.
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
        .map_err(unreadable)?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(unreadable)?;
    if check != "ok" {
        return Err(Problem::Integrity(check));
    }
    let meta = |name: &str| -> std::result::Result<Option<String>, Problem> {
        conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(unreadable)
    };
    for (field, expected) in key.fields() {
        let stored = meta(field)?.unwrap_or_default();
        if stored != expected {
            return Err(Problem::KeyMismatch {
                field: field.into(),
                stored,
                expected,
            });
        }
    }
    let count: usize = meta("count")?
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| Problem::Layout("meta has no vector count".into()))?;
    let code_bytes = key.precision.code_bytes(key.dim);
    let mut checksum = Sha256::new();

    // Chunks: rows 0..count in order, hashing to the key's corpus.
    let mut corpus = CorpusHasher::default();
    let mut next = 0i64;
    {
        let mut stmt = conn
            .prepare("SELECT row, id, text_sha256 FROM chunks ORDER BY row")
            .map_err(unreadable)?;
        let mut rows = stmt.query([]).map_err(unreadable)?;
        while let Some(r) = rows.next().map_err(unreadable)? {
            let row: i64 = r.get(0).map_err(unreadable)?;
            let id: String = r.get(1).map_err(unreadable)?;
            let sha: Vec<u8> = r.get(2).map_err(unreadable)?;
            if row != next {
                return Err(Problem::Layout(format!("chunk row {row} where {next} was expected")));
            }
            if sha.len() != 32 {
                return Err(Problem::BlobLength {
                    table: "chunks",
                    row,
                    bytes: sha.len(),
                    expected: 32,
                });
            }
            corpus.push(&id, &sha);
            next += 1;
        }
    }
    if next as usize != count {
        return Err(Problem::Layout(format!("{next} chunks for a count of {count}")));
    }
    let stored = corpus.hex();
    if stored != key.corpus_sha256 {
        return Err(Problem::CorpusHash {
            stored,
            expected: key.corpus_sha256.clone(),
        });
    }

    // Blocks: contiguous rows, full blocks but the last, codes of the right length.
    let mut next = 0i64;
    {
        let mut stmt = conn
            .prepare("SELECT block, first_row, rows, codes FROM blocks ORDER BY block")
            .map_err(unreadable)?;
        let mut rows = stmt.query([]).map_err(unreadable)?;
        let mut last_full = true;
        while let Some(r) = rows.next().map_err(unreadable)? {
            let block: i64 = r.get(0).map_err(unreadable)?;
            let first: i64 = r.get(1).map_err(unreadable)?;
            let n: i64 = r.get(2).map_err(unreadable)?;
            let codes = r.get_ref(3).and_then(|v| Ok(v.as_blob()?)).map_err(unreadable)?;
            if first != next || n <= 0 || n as usize > BLOCK_ROWS || !last_full {
                return Err(Problem::Layout(format!(
                    "block {block}: rows {first}+{n} where {next} was expected"
                )));
            }
            if codes.len() != n as usize * code_bytes {
                return Err(Problem::BlobLength {
                    table: "blocks",
                    row: block,
                    bytes: codes.len(),
                    expected: n as usize * code_bytes,
                });
            }
            checksum.update(codes);
            last_full = n as usize == BLOCK_ROWS;
            next += n;
        }
    }
    if next as usize != count {
        return Err(Problem::Layout(format!(
            "blocks hold {next} vectors for a count of {count}"
        )));
    }

    // Rescoring vectors (binary): one f32 vector per row.
    let mut rescored = 0i64;
    {
        let mut stmt = conn
            .prepare("SELECT row, vector FROM rescore ORDER BY row")
            .map_err(unreadable)?;
        let mut rows = stmt.query([]).map_err(unreadable)?;
        while let Some(r) = rows.next().map_err(unreadable)? {
            let row: i64 = r.get(0).map_err(unreadable)?;
            let v = r.get_ref(1).and_then(|v| Ok(v.as_blob()?)).map_err(unreadable)?;
            if row != rescored {
                return Err(Problem::Layout(format!(
                    "rescore row {row} where {rescored} was expected"
                )));
            }
            if v.len() != 4 * key.dim {
                return Err(Problem::BlobLength {
                    table: "rescore",
                    row,
                    bytes: v.len(),
                    expected: 4 * key.dim,
                });
            }
            checksum.update(v);
            rescored += 1;
        }
    }
    let want_rescore = if key.precision == Precision::Binary { count } else { 0 };
    if rescored as usize != want_rescore {
        return Err(Problem::Layout(format!(
            "{rescored} rescoring vectors, expected {want_rescore}"
        )));
    }
    if meta("checksum")?.unwrap_or_default() != hex(&checksum.finalize()) {
        return Err(Problem::Checksum);
    }
    let file_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let stats = IndexStats {
        count,
        dim: key.dim,
        scan_bytes: (count * code_bytes) as u64,
        rescore_bytes: (want_rescore * 4 * key.dim) as u64,
        file_bytes,
    };
    Ok((conn, stats))
}
