//! Writing GGUF v3 files: what `shakedown export` ships, so that the artifact a team gates is the
//! artifact it deploys. Layout as `docs/gguf.md` gives it: header, metadata in the given order, tensor
//! infos, zero padding to the alignment, tensor data each aligned.

use std::io::Write;
use std::path::Path;

use super::gguf::{TensorType, Value, ValueType, DEFAULT_ALIGNMENT};
use crate::error::{Error, Result};

/// One tensor to write: dimensions innermost first, and its stored bytes.
pub struct TensorOut<'a> {
    pub name: String,
    pub dims: Vec<u64>,
    pub ty: TensorType,
    pub data: std::borrow::Cow<'a, [u8]>,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::U8(x) => out.push(*x),
        Value::I8(x) => out.push(*x as u8),
        Value::U16(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::I16(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::U32(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::I32(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::F32(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::Bool(x) => out.push(u8::from(*x)),
        Value::String(s) => put_str(out, s),
        Value::U64(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::I64(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::F64(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::Array { elem, items } => {
            out.extend_from_slice(&elem.id().to_le_bytes());
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for item in items {
                put_value(out, item);
            }
        }
        Value::Strings(list) => {
            out.extend_from_slice(&ValueType::String.id().to_le_bytes());
            out.extend_from_slice(&(list.len() as u64).to_le_bytes());
            for s in list.iter() {
                put_str(out, s);
            }
        }
    }
}

/// The alignment a metadata list asks for (`general.alignment`), or the default.
fn alignment(metadata: &[(String, Value)]) -> u64 {
    metadata
        .iter()
        .find(|(k, _)| k == "general.alignment")
        .and_then(|(_, v)| v.as_u64())
        .filter(|a| *a > 0 && a.is_power_of_two())
        .unwrap_or(DEFAULT_ALIGNMENT)
}

/// Writes a GGUF file to `path` (a temp file beside it, then a rename: never a half-written file).
pub fn write(path: &Path, metadata: &[(String, Value)], tensors: &[TensorOut<'_>]) -> Result<()> {
    crate::files::refuse_directory(path)?;
    let align = alignment(metadata);
    let mut head = Vec::new();
    head.extend_from_slice(b"GGUF");
    head.extend_from_slice(&3u32.to_le_bytes());
    head.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
    head.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
    for (k, v) in metadata {
        put_str(&mut head, k);
        head.extend_from_slice(&v.value_type().id().to_le_bytes());
        put_value(&mut head, v);
    }
    let mut offset = 0u64;
    let mut offsets = Vec::with_capacity(tensors.len());
    for t in tensors {
        let (bw, bb) = t.ty.block();
        let elements: u64 = t.dims.iter().product();
        let expected = elements / bw * bb;
        if t.dims.first().is_none_or(|d| d % bw != 0) || t.data.len() as u64 != expected {
            return Err(Error::Internal(format!(
                "export: tensor {} has {} bytes, {} {:?} needs {expected}",
                t.name,
                t.data.len(),
                t.ty,
                t.dims
            )));
        }
        put_str(&mut head, &t.name);
        head.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
        for d in &t.dims {
            head.extend_from_slice(&d.to_le_bytes());
        }
        head.extend_from_slice(&t.ty.id().to_le_bytes());
        head.extend_from_slice(&offset.to_le_bytes());
        offsets.push(offset);
        offset = (offset + expected).div_ceil(align) * align;
    }
    while !(head.len() as u64).is_multiple_of(align) {
        head.push(0);
    }
    let mut file = crate::files::AtomicFile::create(path)?;
    let written = (|| -> std::io::Result<()> {
        file.write_all(&head)?;
        let mut written = 0u64;
        for (t, &off) in tensors.iter().zip(&offsets) {
            let pad = off - written;
            file.write_all(&vec![0u8; pad as usize])?;
            file.write_all(&t.data)?;
            written = off + t.data.len() as u64;
        }
        let end = written.div_ceil(align) * align;
        file.write_all(&vec![0u8; (end - written) as usize])
    })();
    written.map_err(|e| Error::io(file.temp_path(), e))?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::super::gguf::{parse_header, GgufFile};
    use super::*;

    #[test]
    fn read_then_write_reproduces_header_and_tensor_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.gguf");
        let meta = vec![
            ("general.architecture".to_string(), Value::String("llama".into())),
            (
                "tokenizer.ggml.scores".to_string(),
                Value::Array {
                    elem: super::super::gguf::ValueType::F32,
                    items: vec![Value::F32(0.5), Value::F32(-1.0)],
                },
            ),
            ("x.count".to_string(), Value::U32(7)),
        ];
        let w: Vec<u8> = (0..34 * 3).map(|i| i as u8).collect();
        let f: Vec<u8> = (0..12).map(|i| i as u8 * 3).collect();
        let tensors = vec![
            TensorOut {
                name: "w".into(),
                dims: vec![32, 3],
                ty: TensorType::Q8_0,
                data: (&w[..]).into(),
            },
            TensorOut {
                name: "n".into(),
                dims: vec![3],
                ty: TensorType::F32,
                data: (&f[..]).into(),
            },
        ];
        write(&a, &meta, &tensors).unwrap();
        let file = GgufFile::open(&a).unwrap();
        assert_eq!(
            file.header.key_order,
            ["general.architecture", "tokenizer.ggml.scores", "x.count"]
        );
        assert_eq!(file.data(file.info("w").unwrap()), &w[..]);
        assert_eq!(file.data(file.info("n").unwrap()), &f[..]);
        // Writing what was read gives the same bytes.
        let b = dir.path().join("b.gguf");
        let meta2: Vec<(String, Value)> = file
            .header
            .key_order
            .iter()
            .map(|k| (k.clone(), file.header.metadata[k].clone()))
            .collect();
        let tensors2: Vec<TensorOut> = file
            .header
            .tensors
            .iter()
            .map(|t| TensorOut {
                name: t.name.clone(),
                dims: t.dims.clone(),
                ty: t.ty,
                data: file.data(t).into(),
            })
            .collect();
        write(&b, &meta2, &tensors2).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let bytes = std::fs::read(&b).unwrap();
        assert!(parse_header(&bytes, bytes.len() as u64).is_ok());
    }

    #[test]
    fn refuses_a_tensor_whose_bytes_do_not_fit_its_type() {
        let dir = tempfile::tempdir().unwrap();
        let t = TensorOut {
            name: "w".into(),
            dims: vec![32],
            ty: TensorType::Q4_0,
            data: vec![0u8; 17].into(),
        };
        assert!(write(&dir.path().join("x.gguf"), &[], &[t]).is_err());
        assert!(!dir.path().join("x.gguf").exists());
    }
}
