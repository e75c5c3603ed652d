//! Walks a parquet footer's Thrift compact encoding and holds every declared count to the bytes left.
//!
//! polars-parquet's metadata reader sizes a `Vec` by a list's declared length before reading its elements, and
//! an allocation that fails aborts the process (tests/fuzz_pass.rs found a footer asking for 27 GB). Every
//! element of a compact-protocol list takes at least one byte, so a list longer than the bytes that follow it
//! is damaged; so is a string longer than the rest. This walker reads nothing into memory: it only checks
//! the structure's sizes and shape, as the Thrift compact protocol specification lays them out
//! (apache/thrift, doc/specs/thrift-compact-protocol.md).

/// Deepest nesting a footer may use (parquet's own schema nests a few levels; a hostile one could recurse).
const MAX_DEPTH: usize = 64;

/// `Ok` when the footer metadata of `file` (a whole parquet file) is a well-formed compact struct whose
/// lists, maps and strings fit the bytes that follow them.
pub fn check_footer(file: &[u8]) -> Result<(), String> {
    let n = file.len();
    if n < 12 || &file[n - 4..] != b"PAR1" {
        return Err("no parquet footer".into());
    }
    let len = u32::from_le_bytes([file[n - 8], file[n - 7], file[n - 6], file[n - 5]]) as usize;
    if len > n - 12 {
        return Err(format!("footer declares {len} bytes in a file of {n}"));
    }
    let mut w = Walker {
        buf: &file[n - 8 - len..n - 8],
        pos: 0,
    };
    w.value(STRUCT, 0)
}

const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;
const UUID: u8 = 13;

struct Walker<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Walker<'_> {
    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.buf.get(self.pos).ok_or("footer ends inside a value")?;
        self.pos += 1;
        Ok(b)
    }

    fn skip(&mut self, n: usize) -> Result<(), String> {
        if n > self.left() {
            return Err(format!("footer declares {n} bytes where {} are left", self.left()));
        }
        self.pos += n;
        Ok(())
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift < 64 {
                v |= u64::from(b & 0x7f) << shift;
            }
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("footer holds an overlong integer".into())
    }

    /// A declared element count, refused when the elements (at least `min_bytes` each) cannot fit.
    fn count(&mut self, declared: u64, min_bytes: usize, what: &str) -> Result<usize, String> {
        let fits = (self.left() / min_bytes.max(1)) as u64;
        if declared > fits {
            return Err(format!(
                "footer declares a {what} of {declared} elements in {} bytes",
                self.left()
            ));
        }
        Ok(declared as usize)
    }

    fn value(&mut self, ty: u8, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("footer nests too deeply".into());
        }
        match ty {
            // Inside lists a boolean is one byte; as a struct field it lives in the field header.
            BOOL_TRUE | BOOL_FALSE | BYTE => self.skip(1),
            I16 | I32 | I64 => self.varint().map(drop),
            DOUBLE => self.skip(8),
            UUID => self.skip(16),
            BINARY => {
                let n = self.varint()?;
                let n = self.count(n, 1, "string")?;
                self.skip(n)
            }
            LIST | SET => {
                let head = self.byte()?;
                let short = u64::from(head >> 4);
                let declared = if short == 15 { self.varint()? } else { short };
                let n = self.count(declared, 1, "list")?;
                (0..n).try_for_each(|_| self.value(head & 0x0f, depth + 1))
            }
            MAP => {
                let declared = self.varint()?;
                if declared == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                let n = self.count(declared, 2, "map")?;
                (0..n).try_for_each(|_| {
                    self.value(kinds >> 4, depth + 1)?;
                    self.value(kinds & 0x0f, depth + 1)
                })
            }
            STRUCT => loop {
                let head = self.byte()?;
                if head == 0 {
                    return Ok(());
                }
                if head >> 4 == 0 {
                    self.varint()?; // the field id, written out when its delta does not fit the nibble
                }
                match head & 0x0f {
                    BOOL_TRUE | BOOL_FALSE => {}
                    kind => self.value(kind, depth + 1)?,
                }
            },
            other => Err(format!("footer holds an unknown value type {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(meta: &[u8]) -> Vec<u8> {
        let mut f = b"PAR1".to_vec();
        f.extend_from_slice(meta);
        f.extend_from_slice(&(meta.len() as u32).to_le_bytes());
        f.extend_from_slice(b"PAR1");
        f
    }

    #[test]
    fn well_formed_structs_pass() {
        // field 1: i32 7; field 2: list of two i64; field 3: string "ab"; field 4: bool true; stop.
        let meta = [0x15, 0x0e, 0x19, 0x26, 0x02, 0x04, 0x18, 0x02, b'a', b'b', 0x11, 0x00];
        assert_eq!(check_footer(&file(&meta)), Ok(()));
    }

    #[test]
    fn counts_beyond_the_bytes_are_refused() {
        // A list declaring 2^32 i64 elements (long form) in a few bytes.
        let meta = [0x19, 0xf6, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00];
        assert!(check_footer(&file(&meta)).unwrap_err().contains("list of 4294967296"));
        // A string longer than the footer.
        let meta = [0x18, 0x7f, b'a', 0x00];
        assert!(check_footer(&file(&meta)).is_err());
        // A map of 1000 entries in 3 bytes.
        let meta = [0x1b, 0xe8, 0x07, 0x55, 0x00];
        assert!(check_footer(&file(&meta)).is_err());
    }

    #[test]
    fn truncated_deep_and_unknown_are_refused() {
        assert!(check_footer(&file(&[0x15])).is_err());
        assert!(check_footer(&file(&[0x1e, 0x00])).is_err());
        let deep: Vec<u8> = std::iter::repeat_n(0x1c, 100).collect();
        assert!(check_footer(&file(&deep)).unwrap_err().contains("deeply"));
        assert!(check_footer(b"PAR1").is_err());
    }
}
