//! Checks a parquet file's declared sizes before polars reads it.
//!
//! polars-parquet sizes its buffers by the counts a file declares (a page header's `num_values`, a
//! dictionary's length) and aborts the process when such an allocation fails, which no `catch_unwind`
//! can turn into an error: the `run_tables` fuzz target found a page declaring 2^64 values. A run
//! directory is user input (copied between machines, merged from CI shards), so every count is held to
//! what the file's bytes can hold first, walking the same footer and page headers polars will read.
//!
//! The footer itself is walked first (`thrift_walk`): polars-parquet's metadata reader allocates a list by
//! its declared length too.
//!
//! polars-parquet's parsers also panic on some hostile inputs; those panics are caught here and in
//! `tables`, and reported as a damaged file.
//!
//! The bounds are loose for the tables this tool writes (every row carries at least a distinct float or
//! string, several bytes once compressed) and tight enough that no allocation exceeds a small multiple of
//! the file's size.

use std::io::Cursor;

use polars_buffer::Buffer;
use polars_parquet::parquet::compression::DecompressionContext;
use polars_parquet::parquet::page::{CompressedPage, Page};
use polars_parquet::parquet::read::{decompress, get_page_iterator, read_metadata};

/// Most rows (or values of one page) a file of `bytes` may declare: one per byte.
fn most_rows(bytes: usize) -> usize {
    bytes
}

/// Largest page, compressed or decompressed, a file of `bytes` may declare (zstd on this tool's tables
/// stays far below 64x).
fn largest_page(bytes: usize) -> usize {
    bytes.saturating_mul(64).saturating_add(1 << 20)
}

/// `Ok` when every row group, page and dictionary of `bytes` declares counts its size can hold; `Err`
/// with what was found otherwise (the caller names the file). polars-parquet's own metadata parser
/// panics on some hostile footers (the `run_tables` fuzz target found a column chunk whose offset plus
/// size overflows an `unwrap`): a panic while walking is an error too.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    std::panic::catch_unwind(|| walk(bytes)).unwrap_or_else(|_| Err("unreadable metadata".to_string()))
}

/// `check` without the panic guard.
fn walk(bytes: &[u8]) -> Result<(), String> {
    super::thrift_walk::check_footer(bytes)?;
    let meta = read_metadata(&mut Cursor::new(bytes)).map_err(|e| format!("unreadable footer: {e}"))?;
    let rows = most_rows(bytes.len());
    if meta.num_rows > rows {
        return Err(format!("declares {} rows in {} bytes", meta.num_rows, bytes.len()));
    }
    let shared = Buffer::from(bytes.to_vec());
    for (g, group) in meta.row_groups.iter().enumerate() {
        let group_rows = group.num_rows();
        if group_rows > rows {
            return Err(format!(
                "row group {g} declares {group_rows} rows in {} bytes",
                bytes.len()
            ));
        }
        for column in group.parquet_columns() {
            let name = &column.descriptor().path_in_schema;
            let where_ = || format!("row group {g}, column {}", name.join("."));
            let pages = get_page_iterator(
                column,
                Cursor::new(shared.clone()),
                Vec::new(),
                largest_page(bytes.len()),
            )
            .map_err(|e| format!("{}: {e}", where_()))?;
            let mut values = 0usize;
            for page in pages {
                let page = page.map_err(|e| format!("{}: {e}", where_()))?;
                match page {
                    CompressedPage::Data(data) => {
                        values = values.saturating_add(data.num_values());
                        if values > group_rows {
                            return Err(format!(
                                "{}: pages declare {values} values for {group_rows} rows",
                                where_()
                            ));
                        }
                    }
                    dict @ CompressedPage::Dict(_) => {
                        let mut scratch = Vec::new();
                        let page = decompress(dict, &mut scratch, &mut DecompressionContext::Unset)
                            .map_err(|e| format!("{}: {e}", where_()))?;
                        if let Page::Dict(d) = page {
                            if d.num_values > d.buffer.len().max(1) {
                                return Err(format!(
                                    "{}: a dictionary declares {} values in {} bytes",
                                    where_(),
                                    d.num_values,
                                    d.buffer.len()
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn table(rows: usize) -> Vec<u8> {
        let mut df = DataFrame::new(
            rows,
            vec![
                Column::new("id".into(), (0..rows).map(|i| format!("ex{i}")).collect::<Vec<_>>()),
                Column::new("x".into(), (0..rows).map(|i| i as f64 * 0.37).collect::<Vec<_>>()),
            ],
        )
        .unwrap();
        let mut buf = Vec::new();
        ParquetWriter::new(&mut buf).finish(&mut df).unwrap();
        buf
    }

    #[test]
    fn tables_this_tool_writes_pass() {
        for rows in [0, 1, 7, 5000] {
            assert_eq!(check(&table(rows)), Ok(()), "{rows} rows");
        }
    }

    #[test]
    fn damaged_files_are_refused_not_aborted() {
        let good = table(50);
        assert!(check(&good[..good.len() / 2]).is_err());
        assert!(check(b"PAR1").is_err());
        assert!(check(&[]).is_err());
        // Flipping each byte of the file in turn never aborts the check.
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0xff;
            let _ = check(&bad);
        }
    }
}
