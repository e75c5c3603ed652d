//! GGUF files (llama.cpp `docs/gguf.md`, gguf-py): header, typed metadata, tensor infos, aligned tensor data.
//!
//! Everything a header claims is checked against the bytes actually present before anything is
//! allocated or read: counts are bounded by the bytes left (every element takes at least one byte),
//! dimension products by overflow checks, tensor ranges by the file length and by each other
//! (llama.cpp's own parser has had integer-overflow and out-of-bounds advisories; those are the
//! cases `fuzz/fuzz_targets/gguf.rs` and the tests below exercise).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::error::{Error, Result};

/// `"GGUF"` read as a little-endian u32.
const MAGIC: &[u8; 4] = b"GGUF";
/// Alignment of the tensor data section when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// Dimensions a tensor may have (ggml's `GGML_MAX_DIMS`).
const MAX_DIMS: u32 = 4;
/// Nesting depth of metadata arrays we accept (arrays of arrays exist; deeper is hostile).
const MAX_ARRAY_DEPTH: usize = 4;

/// Type of a metadata value, with gguf's numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    Bool,
    String,
    Array,
    U64,
    I64,
    F64,
}

impl ValueType {
    fn from_id(id: u32) -> Option<Self> {
        use ValueType::*;
        Some(match id {
            0 => U8,
            1 => I8,
            2 => U16,
            3 => I16,
            4 => U32,
            5 => I32,
            6 => F32,
            7 => Bool,
            8 => String,
            9 => Array,
            10 => U64,
            11 => I64,
            12 => F64,
            _ => return None,
        })
    }

    /// gguf's id of the type.
    pub fn id(self) -> u32 {
        use ValueType::*;
        match self {
            U8 => 0,
            I8 => 1,
            U16 => 2,
            I16 => 3,
            U32 => 4,
            I32 => 5,
            F32 => 6,
            Bool => 7,
            String => 8,
            Array => 9,
            U64 => 10,
            I64 => 11,
            F64 => 12,
        }
    }

    /// Smallest encoded size of one value: bounds array counts before allocating.
    fn min_size(self) -> u64 {
        use ValueType::*;
        match self {
            U8 | I8 | Bool => 1,
            U16 | I16 => 2,
            U32 | I32 | F32 => 4,
            U64 | I64 | F64 | String => 8,
            Array => 12,
        }
    }
}

/// A metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    U64(u64),
    I64(i64),
    F64(f64),
    /// Elements all of type `elem` (kept so that an empty array writes back with its type); never
    /// strings, which are `Strings`.
    Array {
        elem: ValueType,
        items: Vec<Value>,
    },
    /// An array of strings (a vocabulary, its merges).
    Strings(StringList),
}

/// An array of strings kept in one buffer. A 49k-token vocabulary and its 49k merges took 8 MB as
/// separate `Value::String`s (24 bytes each plus an allocation), more than the rest of a 135M model's
/// non-weight memory; here they take their text plus 4 bytes each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StringList {
    text: String,
    /// End of each string in `text`.
    ends: Vec<u32>,
}

impl StringList {
    /// Appends `s`; `None` when the list's text would pass 4 GiB.
    pub fn push(&mut self, s: &str) -> Option<()> {
        let end = u32::try_from(self.text.len() + s.len()).ok()?;
        self.text.push_str(s);
        self.ends.push(end);
        Some(())
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// String `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p] as usize);
        self.text.get(start..end)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl<'a> FromIterator<&'a str> for StringList {
    /// Panics past 4 GiB of text (lists built in code; parsed lists report it as an error).
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        let mut list = StringList::default();
        for s in iter {
            list.push(s).expect("string list under 4 GiB");
        }
        list
    }
}

impl Value {
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::U8(_) => ValueType::U8,
            Value::I8(_) => ValueType::I8,
            Value::U16(_) => ValueType::U16,
            Value::I16(_) => ValueType::I16,
            Value::U32(_) => ValueType::U32,
            Value::I32(_) => ValueType::I32,
            Value::F32(_) => ValueType::F32,
            Value::Bool(_) => ValueType::Bool,
            Value::String(_) => ValueType::String,
            Value::U64(_) => ValueType::U64,
            Value::I64(_) => ValueType::I64,
            Value::F64(_) => ValueType::F64,
            Value::Array { .. } | Value::Strings(_) => ValueType::Array,
        }
    }

    /// The value as an unsigned integer, when it is a non-negative integer of any width.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a float, when it is any number.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            _ => self.as_u64().map(|v| v as f64).or(match *self {
                Value::I8(v) => Some(v.into()),
                Value::I16(v) => Some(v.into()),
                Value::I32(v) => Some(v.into()),
                Value::I64(v) => Some(v as f64),
                _ => None,
            }),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// A non-string array's items (`as_strings` for arrays of strings).
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array { items, .. } => Some(items),
            _ => None,
        }
    }

    pub fn as_strings(&self) -> Option<&StringList> {
        match self {
            Value::Strings(list) => Some(list),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => write!(f, "{s:?}"),
            Value::Array { items, elem } => write!(f, "[{} x {elem:?}]", items.len()),
            Value::Strings(list) => write!(f, "[{} x String]", list.len()),
            Value::Bool(b) => write!(f, "{b}"),
            other => match other.as_f64() {
                Some(v) => write!(f, "{v}"),
                None => write!(f, "?"),
            },
        }
    }
}

/// ggml's tensor types that GGUF files store, with ggml's numbering (`ggml_type`). Only the layouts
/// are known here; which of them the engine can compute with is the builder's business.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TensorType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q8_1,
    Q2K,
    Q3K,
    Q4K,
    Q5K,
    Q6K,
    Q8K,
    I8,
    I16,
    I32,
    I64,
    F64,
    BF16,
}

impl TensorType {
    /// Every type, for tables and tests.
    pub const ALL: [TensorType; 20] = [
        TensorType::F32,
        TensorType::F16,
        TensorType::Q4_0,
        TensorType::Q4_1,
        TensorType::Q5_0,
        TensorType::Q5_1,
        TensorType::Q8_0,
        TensorType::Q8_1,
        TensorType::Q2K,
        TensorType::Q3K,
        TensorType::Q4K,
        TensorType::Q5K,
        TensorType::Q6K,
        TensorType::Q8K,
        TensorType::I8,
        TensorType::I16,
        TensorType::I32,
        TensorType::I64,
        TensorType::F64,
        TensorType::BF16,
    ];

    /// ggml's id (`enum ggml_type`).
    pub fn id(self) -> u32 {
        use TensorType::*;
        match self {
            F32 => 0,
            F16 => 1,
            Q4_0 => 2,
            Q4_1 => 3,
            Q5_0 => 6,
            Q5_1 => 7,
            Q8_0 => 8,
            Q8_1 => 9,
            Q2K => 10,
            Q3K => 11,
            Q4K => 12,
            Q5K => 13,
            Q6K => 14,
            Q8K => 15,
            I8 => 24,
            I16 => 25,
            I32 => 26,
            I64 => 27,
            F64 => 28,
            BF16 => 30,
        }
    }

    pub fn from_id(id: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.id() == id)
    }

    /// (weights per block, bytes per block), as ggml's type traits give them.
    pub fn block(self) -> (u64, u64) {
        use TensorType::*;
        match self {
            F32 | I32 => (1, 4),
            F16 | BF16 | I16 => (1, 2),
            I8 => (1, 1),
            I64 | F64 => (1, 8),
            Q4_0 => (32, 18),
            Q4_1 => (32, 20),
            Q5_0 => (32, 22),
            Q5_1 => (32, 24),
            Q8_0 => (32, 34),
            Q8_1 => (32, 36),
            Q2K => (256, 84),
            Q3K => (256, 110),
            Q4K => (256, 144),
            Q5K => (256, 176),
            Q6K => (256, 210),
            Q8K => (256, 292),
        }
    }

    /// The name llama.cpp prints (`Q4_K`, `F32`, ...).
    pub fn name(self) -> &'static str {
        use TensorType::*;
        match self {
            F32 => "F32",
            F16 => "F16",
            Q4_0 => "Q4_0",
            Q4_1 => "Q4_1",
            Q5_0 => "Q5_0",
            Q5_1 => "Q5_1",
            Q8_0 => "Q8_0",
            Q8_1 => "Q8_1",
            Q2K => "Q2_K",
            Q3K => "Q3_K",
            Q4K => "Q4_K",
            Q5K => "Q5_K",
            Q6K => "Q6_K",
            Q8K => "Q8_K",
            I8 => "I8",
            I16 => "I16",
            I32 => "I32",
            I64 => "I64",
            F64 => "F64",
            BF16 => "BF16",
        }
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One tensor's description from the header.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// Dimensions innermost first (ggml's `ne`): a weight `[out, in]` in PyTorch is `[in, out]` here.
    pub dims: Vec<u64>,
    pub ty: TensorType,
    /// Offset of the data from the start of the data section.
    pub offset: u64,
    /// Bytes of data (checked against the file).
    pub size: u64,
}

impl TensorInfo {
    /// Number of elements.
    pub fn elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// `(rows, row length)`: the innermost dimension is a row, the others multiply into rows.
    pub fn rows_cols(&self) -> (usize, usize) {
        let cols = self.dims.first().copied().unwrap_or(1) as usize;
        let rows = self.dims.iter().skip(1).product::<u64>() as usize;
        (rows, cols)
    }
}

/// A parsed GGUF header: version, metadata, tensor infos, and where the data section starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub version: u32,
    pub metadata: BTreeMap<String, Value>,
    /// Metadata keys in file order (the map is sorted; the writer keeps the original order).
    pub key_order: Vec<String>,
    pub tensors: Vec<TensorInfo>,
    pub alignment: u64,
    /// Absolute offset of the data section in the file.
    pub data_start: u64,
}

/// A cursor over the header bytes that refuses to read past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// Why a header is not a valid GGUF header (the caller adds the file name).
type ParseResult<T> = std::result::Result<T, String>;

impl<'a> Reader<'a> {
    fn remaining(&self) -> u64 {
        (self.bytes.len() - self.pos) as u64
    }

    fn take(&mut self, n: usize, what: &str) -> ParseResult<&'a [u8]> {
        if (n as u64) > self.remaining() {
            return Err(format!(
                "truncated: {what} needs {n} bytes at offset {}, the file has {} left",
                self.pos,
                self.remaining()
            ));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &str) -> ParseResult<[u8; N]> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u32(&mut self, what: &str) -> ParseResult<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> ParseResult<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn string(&mut self, what: &str) -> ParseResult<String> {
        let len = self.u64(what)?;
        if len > self.remaining() {
            return Err(format!(
                "{what}: string length {len} at offset {} exceeds the {} bytes left",
                self.pos - 8,
                self.remaining()
            ));
        }
        let bytes = self.take(len as usize, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what}: string is not UTF-8"))
    }

    /// A count of elements of at least `min_size` bytes each, bounded by what is left.
    fn count(&mut self, what: &str, min_size: u64) -> ParseResult<usize> {
        let n = self.u64(what)?;
        if n.checked_mul(min_size).is_none_or(|b| b > self.remaining()) {
            return Err(format!(
                "{what} {n} cannot fit in the {} bytes left (at least {min_size} bytes each)",
                self.remaining()
            ));
        }
        Ok(n as usize)
    }

    fn value(&mut self, ty: ValueType, what: &str, depth: usize) -> ParseResult<Value> {
        Ok(match ty {
            ValueType::U8 => Value::U8(self.array::<1>(what)?[0]),
            ValueType::I8 => Value::I8(self.array::<1>(what)?[0] as i8),
            ValueType::U16 => Value::U16(u16::from_le_bytes(self.array(what)?)),
            ValueType::I16 => Value::I16(i16::from_le_bytes(self.array(what)?)),
            ValueType::U32 => Value::U32(self.u32(what)?),
            ValueType::I32 => Value::I32(i32::from_le_bytes(self.array(what)?)),
            ValueType::F32 => Value::F32(f32::from_le_bytes(self.array(what)?)),
            ValueType::Bool => match self.array::<1>(what)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(format!("{what}: boolean byte {b}, expected 0 or 1")),
            },
            ValueType::String => Value::String(self.string(what)?),
            ValueType::U64 => Value::U64(self.u64(what)?),
            ValueType::I64 => Value::I64(i64::from_le_bytes(self.array(what)?)),
            ValueType::F64 => Value::F64(f64::from_le_bytes(self.array(what)?)),
            ValueType::Array => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(format!("{what}: arrays nested deeper than {MAX_ARRAY_DEPTH}"));
                }
                let id = self.u32(what)?;
                let elem = ValueType::from_id(id).ok_or_else(|| format!("{what}: unknown array element type {id}"))?;
                let n = self.count(&format!("{what}: array length"), elem.min_size())?;
                if elem == ValueType::String {
                    let mut list = StringList::default();
                    for _ in 0..n {
                        let s = self.string(what)?;
                        list.push(&s)
                            .ok_or_else(|| format!("{what}: strings longer than 4 GiB in all"))?;
                    }
                    return Ok(Value::Strings(list));
                }
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(elem, what, depth + 1)?);
                }
                Value::Array { elem, items }
            }
        })
    }
}

/// Parses and validates a GGUF header against the whole file's bytes (`file_len` = `bytes.len()`
/// when the whole file is given; the header alone may be passed with the true file length).
pub fn parse_header(bytes: &[u8], file_len: u64) -> ParseResult<Header> {
    let mut r = Reader { bytes, pos: 0 };
    let magic = r.array::<4>("magic")?;
    if &magic != MAGIC {
        return Err(format!("not a GGUF file: magic {magic:02x?}, expected \"GGUF\""));
    }
    let version = r.u32("version")?;
    if !(2..=3).contains(&version) {
        return Err(format!("GGUF version {version}: only versions 2 and 3 are supported"));
    }
    // Each tensor info takes at least 8 (name) + 4 (dims) + 4 (type) + 8 (offset) bytes; each key-value
    // pair at least 8 (key) + 4 (type) + 1.
    let tensor_count = r.u64("tensor count")?;
    let kv_count = r.u64("metadata count")?;
    if kv_count.checked_mul(13).is_none_or(|b| b > r.remaining()) {
        return Err(format!("metadata count {kv_count} cannot fit in the file"));
    }
    if tensor_count.checked_mul(24).is_none_or(|b| b > r.remaining()) {
        return Err(format!("tensor count {tensor_count} cannot fit in the file"));
    }
    let mut metadata = BTreeMap::new();
    let mut key_order = Vec::with_capacity(kv_count as usize);
    for i in 0..kv_count {
        let key = r.string(&format!("metadata key {i}"))?;
        let id = r.u32(&format!("type of {key}"))?;
        let ty = ValueType::from_id(id).ok_or_else(|| format!("metadata {key}: unknown value type {id}"))?;
        let value = r.value(ty, &format!("metadata {key}"), 0)?;
        if metadata.insert(key.clone(), value).is_some() {
            return Err(format!("metadata key {key} appears twice"));
        }
        key_order.push(key);
    }
    let alignment = match metadata.get("general.alignment") {
        None => DEFAULT_ALIGNMENT,
        Some(Value::U32(a)) if *a > 0 && a.is_power_of_two() => u64::from(*a),
        Some(other) => return Err(format!("general.alignment {other}: expected a power of two as u32")),
    };
    let mut tensors: Vec<TensorInfo> = Vec::with_capacity(tensor_count as usize);
    let mut names = std::collections::HashSet::new();
    for i in 0..tensor_count {
        let name = r.string(&format!("tensor {i} name"))?;
        let n_dims = r.u32(&format!("tensor {name}: dimension count"))?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(format!("tensor {name}: {n_dims} dimensions, expected 1 to {MAX_DIMS}"));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(r.u64(&format!("tensor {name}: dimensions"))?);
        }
        let id = r.u32(&format!("tensor {name}: type"))?;
        let ty = TensorType::from_id(id).ok_or_else(|| format!("tensor {name}: unknown tensor type id {id}"))?;
        let offset = r.u64(&format!("tensor {name}: offset"))?;
        let elements = dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| format!("tensor {name}: dimensions {dims:?} overflow"))?;
        let (block_weights, block_bytes) = ty.block();
        if dims[0] % block_weights != 0 {
            return Err(format!(
                "tensor {name}: row length {} is not a multiple of the {ty} block of {block_weights}",
                dims[0]
            ));
        }
        let size = (elements / block_weights)
            .checked_mul(block_bytes)
            .ok_or_else(|| format!("tensor {name}: byte size overflows"))?;
        if offset % alignment != 0 {
            return Err(format!(
                "tensor {name}: offset {offset} is not a multiple of the alignment {alignment}"
            ));
        }
        if !names.insert(name.clone()) {
            return Err(format!("tensor {name} appears twice"));
        }
        tensors.push(TensorInfo {
            name,
            dims,
            ty,
            offset,
            size,
        });
    }
    let data_start = (r.pos as u64).div_ceil(alignment) * alignment;
    let data_len = file_len
        .checked_sub(data_start)
        .ok_or_else(|| format!("truncated: the data section would start at {data_start}, past the end ({file_len})"))?;
    // Ranges inside the data section and disjoint.
    let mut ranges: Vec<(u64, u64, &str)> = Vec::with_capacity(tensors.len());
    for t in &tensors {
        let end = t
            .offset
            .checked_add(t.size)
            .ok_or_else(|| format!("tensor {}: offset + size overflows", t.name))?;
        if end > data_len {
            return Err(format!(
                "truncated tensor data: tensor {} ({}, {} bytes at data offset {}) ends at {end}, the data section has {data_len} bytes",
                t.name, t.ty, t.size, t.offset
            ));
        }
        ranges.push((t.offset, end, &t.name));
    }
    ranges.sort();
    for w in ranges.windows(2) {
        if w[1].0 < w[0].1 {
            return Err(format!("tensors {} and {} overlap", w[0].2, w[1].2));
        }
    }
    Ok(Header {
        version,
        metadata,
        key_order,
        tensors,
        alignment,
        data_start,
    })
}

/// An opened GGUF file: its validated header and its bytes, memory-mapped (tensor data is read
/// lazily, page by page, as layers are built).
pub struct GgufFile {
    pub path: std::path::PathBuf,
    pub header: Header,
    map: memmap2::Mmap,
}

impl GgufFile {
    /// Opens and validates `path`; nothing the header claims is trusted before it is checked.
    pub fn open(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: the map is read-only; a file changed underneath us while mapped could change the
        // bytes we read (never memory safety of our own data structures, which copy what they keep).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let header = parse_header(&map, map.len() as u64).map_err(|m| Error::input(path.display(), m))?;
        Ok(GgufFile {
            path: path.to_path_buf(),
            header,
            map,
        })
    }

    /// The tensor's description, or an error naming the file and the tensor.
    pub fn info(&self, name: &str) -> Result<&TensorInfo> {
        self.header
            .tensors
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| Error::input(self.path.display(), format!("missing tensor {name}")))
    }

    /// True when the file has tensor `name`.
    pub fn has(&self, name: &str) -> bool {
        self.header.tensors.iter().any(|t| t.name == name)
    }

    /// The stored bytes of a tensor (validated at open).
    pub fn data(&self, t: &TensorInfo) -> &[u8] {
        let start = (self.header.data_start + t.offset) as usize;
        &self.map[start..start + t.size as usize]
    }

    /// The memory map (for advice on its pages).
    pub(crate) fn map_ref(&self) -> &memmap2::Mmap {
        &self.map
    }

    /// A metadata value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.header.metadata.get(key)
    }

    /// A required unsigned integer, or an error naming the file and key.
    pub fn require_u64(&self, key: &str) -> Result<u64> {
        self.get(key).and_then(Value::as_u64).ok_or_else(|| {
            Error::input(
                self.path.display(),
                format!("metadata {key}: expected an unsigned integer"),
            )
        })
    }

    /// Forgets the vocabulary arrays of the metadata (`tokenizer.ggml.tokens`, `.merges`, `.scores`,
    /// `.token_type`: some 10 MB of strings for a 50k vocabulary) once the tokenizer holds its own, and
    /// gives the header's pages of the map back to the kernel: a model in memory should cost about its
    /// file's size. Whoever needs the whole metadata again (export) opens the file afresh.
    pub fn forget_vocabulary(&mut self) {
        for key in ["tokens", "merges", "scores", "token_type"] {
            let key = format!("tokenizer.ggml.{key}");
            self.header.metadata.remove(&key);
            self.header.key_order.retain(|k| k != &key);
        }
        // SAFETY: a read-only shared file mapping; see TensorSource::release.
        let _ = unsafe {
            self.map
                .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, self.header.data_start as usize)
        };
    }

    /// The whole file's bytes (for hashing).
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_lists_give_back_what_was_pushed() {
        let list: StringList = ["", "move", "", "pallet é", "7"].into_iter().collect();
        assert_eq!(list.len(), 5);
        assert_eq!(list.iter().collect::<Vec<_>>(), ["", "move", "", "pallet é", "7"]);
        assert_eq!(list.get(3), Some("pallet é"));
        assert_eq!(list.get(5), None);
        assert!(StringList::default().is_empty());
        assert_eq!(Value::Strings(list).to_string(), "[5 x String]");
    }

    /// A small valid file: two metadata keys and two F32 tensors.
    pub(crate) fn sample() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"GGUF");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&2u64.to_le_bytes()); // tensors
        b.extend_from_slice(&2u64.to_le_bytes()); // kv
        let s = |b: &mut Vec<u8>, s: &str| {
            b.extend_from_slice(&(s.len() as u64).to_le_bytes());
            b.extend_from_slice(s.as_bytes());
        };
        s(&mut b, "general.architecture");
        b.extend_from_slice(&8u32.to_le_bytes());
        s(&mut b, "llama");
        s(&mut b, "tokenizer.ggml.tokens");
        b.extend_from_slice(&9u32.to_le_bytes());
        b.extend_from_slice(&8u32.to_le_bytes());
        b.extend_from_slice(&2u64.to_le_bytes());
        s(&mut b, "a");
        s(&mut b, "b");
        for (name, off) in [("x", 0u64), ("y", 32)] {
            s(&mut b, name);
            b.extend_from_slice(&2u32.to_le_bytes());
            b.extend_from_slice(&2u64.to_le_bytes());
            b.extend_from_slice(&2u64.to_le_bytes());
            b.extend_from_slice(&0u32.to_le_bytes());
            b.extend_from_slice(&off.to_le_bytes());
        }
        while b.len() % 32 != 0 {
            b.push(0);
        }
        // x at 0..16, padding to 32, y at 32..48: the data section ends where y does,
        // so every shorter file truncates a tensor.
        for i in 0..12 {
            b.extend_from_slice(&(i as f32).to_le_bytes());
        }
        b
    }

    #[test]
    fn reads_a_valid_file() {
        let b = sample();
        let h = parse_header(&b, b.len() as u64).unwrap();
        assert_eq!(h.version, 3);
        assert_eq!(h.tensors.len(), 2);
        assert_eq!(h.tensors[1].size, 16);
        assert_eq!(h.metadata["general.architecture"].as_str(), Some("llama"));
        assert_eq!(
            h.metadata["tokenizer.ggml.tokens"].as_strings().map(|a| a.len()),
            Some(2)
        );
        assert_eq!(h.key_order, ["general.architecture", "tokenizer.ggml.tokens"]);
    }

    #[test]
    fn refuses_every_truncation() {
        let b = sample();
        for n in 0..b.len() {
            let err = parse_header(&b[..n], n as u64);
            assert!(err.is_err(), "prefix of {n} bytes was accepted");
        }
    }

    fn patch(b: &mut [u8], at: usize, v: &[u8]) {
        b[at..at + v.len()].copy_from_slice(v);
    }

    #[test]
    fn refuses_hostile_headers_without_allocating_their_claims() {
        let good = sample();
        let mut b = good.clone();
        patch(&mut b, 0, b"GGUG");
        assert!(parse_header(&b, b.len() as u64).unwrap_err().contains("magic"));
        let mut b = good.clone();
        patch(&mut b, 4, &1u32.to_le_bytes());
        assert!(parse_header(&b, b.len() as u64).unwrap_err().contains("version"));
        let mut b = good.clone();
        patch(&mut b, 8, &u64::MAX.to_le_bytes());
        assert!(parse_header(&b, b.len() as u64).unwrap_err().contains("tensor count"));
        let mut b = good.clone();
        patch(&mut b, 16, &(1u64 << 60).to_le_bytes());
        assert!(parse_header(&b, b.len() as u64).unwrap_err().contains("metadata count"));
        // A string length far past the end.
        let mut b = good.clone();
        patch(&mut b, 24, &(u64::MAX - 3).to_le_bytes());
        assert!(parse_header(&b, b.len() as u64).unwrap_err().contains("exceeds"));
    }

    /// Offsets of the two tensor infos' fields in `sample()`.
    fn tensor_field(b: &[u8], which: usize) -> usize {
        // Find "x"/"y" names: 8-byte length 1 followed by the name byte.
        let name = if which == 0 { b'x' } else { b'y' };
        let mut pat = 1u64.to_le_bytes().to_vec();
        pat.push(name);
        b.windows(9).position(|w| w == pat.as_slice()).unwrap() + 9
    }

    #[test]
    fn refuses_bad_tensor_infos() {
        let good = sample();
        // Unknown type.
        let mut b = good.clone();
        let t = tensor_field(&b, 0);
        patch(&mut b, t + 4 + 16, &99u32.to_le_bytes());
        assert!(parse_header(&b, b.len() as u64)
            .unwrap_err()
            .contains("unknown tensor type id 99"));
        // Dimensions that overflow.
        let mut b = good.clone();
        patch(&mut b, t + 4, &u64::MAX.to_le_bytes());
        patch(&mut b, t + 12, &3u64.to_le_bytes());
        assert!(parse_header(&b, b.len() as u64).unwrap_err().contains("overflow"));
        // Offset past the end.
        let mut b = good.clone();
        patch(&mut b, t + 4 + 16 + 4, &(1u64 << 40).to_le_bytes());
        assert!(parse_header(&b, b.len() as u64)
            .unwrap_err()
            .contains("truncated tensor data"));
        // Overlapping tensors: y at x's offset.
        let mut b = good.clone();
        let t1 = tensor_field(&b, 1);
        patch(&mut b, t1 + 4 + 16 + 4, &0u64.to_le_bytes());
        assert!(parse_header(&b, b.len() as u64).unwrap_err().contains("overlap"));
        // Too many dimensions.
        let mut b = good.clone();
        patch(&mut b, t, &9u32.to_le_bytes());
        assert!(parse_header(&b, b.len() as u64).unwrap_err().contains("dimensions"));
        // Truncated tensor data.
        let b = &good[..good.len() - 4];
        assert!(parse_header(b, b.len() as u64)
            .unwrap_err()
            .contains("truncated tensor data"));
    }

    #[test]
    fn type_table_is_consistent() {
        for t in TensorType::ALL {
            assert_eq!(TensorType::from_id(t.id()), Some(t));
        }
        assert_eq!(TensorType::from_id(4), None); // Q4_2, removed from ggml
    }
}
