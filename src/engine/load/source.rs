//! Where a decoder's tensors come from: a GGUF file or a Hugging Face safetensors checkpoint, both
//! memory-mapped, so weights are read lazily as layers are built and no f32 copy of the whole model is
//! made unless the scheme needs f32.
//!
//! Tensors are named as GGUF names them (`blk.3.attn_q.weight`) whatever the source, and laid out as
//! GGUF files lay them out: Hugging Face Llama query/key rows are permuted to the interleaved RoPE
//! pairing llama.cpp's converter writes, and Gemma's norm weights (stored as an offset from 1 in
//! Hugging Face checkpoints) get their 1 added, as the converter does. Model code sees one convention.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use safetensors::{Dtype, SafeTensors};

use super::gguf::{GgufFile, TensorType};
use crate::engine::quant::blocks::{self, BlockFormat};
use crate::error::{Error, Result};

/// How a tensor's values are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    F32,
    F16,
    BF16,
    /// One of llama.cpp's block formats.
    Block(BlockFormat),
}

impl Stored {
    /// The stored format of a GGUF tensor type, when the engine computes with it.
    pub fn from_tensor_type(ty: TensorType) -> Option<Stored> {
        Some(match ty {
            TensorType::F32 => Stored::F32,
            TensorType::F16 => Stored::F16,
            TensorType::BF16 => Stored::BF16,
            other => Stored::Block(
                BlockFormat::ALL
                    .into_iter()
                    .find(|f| f.name().eq_ignore_ascii_case(other.name()))?,
            ),
        })
    }

    /// Bytes of one row of `cols` values.
    pub fn row_bytes(self, cols: usize) -> usize {
        match self {
            Stored::F32 => cols * 4,
            Stored::F16 | Stored::BF16 => cols * 2,
            Stored::Block(f) => cols / f.block_weights() * f.block_bytes(),
        }
    }
}

/// A tensor as stored: `rows x cols` (PyTorch's `[out, in]` for a weight) in `format`.
pub struct StoredTensor<'a> {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub format: Stored,
    pub bytes: std::borrow::Cow<'a, [u8]>,
}

impl StoredTensor<'_> {
    /// Row `r` widened to f32 into `out` (length `cols`).
    pub fn row_f32(&self, r: usize, out: &mut [f32]) {
        let rb = self.format.row_bytes(self.cols);
        let bytes = &self.bytes[r * rb..(r + 1) * rb];
        match self.format {
            Stored::F32 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
            Stored::F16 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    *o = f16::from_le_bytes([b[0], b[1]]).to_f32();
                }
            }
            Stored::BF16 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    *o = bf16::from_le_bytes([b[0], b[1]]).to_f32();
                }
            }
            Stored::Block(f) => blocks::dequantize(f, bytes, out),
        }
    }

    /// The whole tensor in f32, row-major.
    pub fn to_f32(&self) -> Vec<f32> {
        let mut out = vec![0.0f32; self.rows * self.cols];
        for (r, row) in out.chunks_mut(self.cols.max(1)).enumerate() {
            self.row_f32(r, row);
        }
        out
    }
}

/// Which tensor source.
enum Files {
    Gguf(GgufFile),
    Safetensors {
        /// Memory-mapped files with their parsed headers (data starts at `offset`), sharded or not.
        shards: Vec<SafetensorsShard>,
        /// GGUF-style name -> (shard, Hugging Face name).
        names: HashMap<String, (usize, String)>,
        transform: HfTransform,
    },
}

struct SafetensorsShard {
    path: PathBuf,
    map: memmap2::Mmap,
    offset: usize,
    metadata: safetensors::tensor::Metadata,
}

/// What must be done to Hugging Face tensors to give them GGUF's conventions.
#[derive(Clone, Copy, Debug, Default)]
pub struct HfTransform {
    /// Permute query/key rows from rotate-half to interleaved RoPE pairs (Llama), with the head counts.
    pub permute_qk: Option<(usize, usize)>,
    /// Add 1 to norm weights (Gemma stores `w` for a scale of `1 + w`).
    pub norm_plus_one: bool,
}

/// A model's tensors.
pub struct TensorSource {
    pub origin: PathBuf,
    files: Files,
    /// Parts of fused tensors served as tensors of their own: GGUF name -> (the stored fused tensor, its
    /// first row, rows). See `split_fused`.
    parts: HashMap<String, (String, usize, usize)>,
}

/// The Linears a scheme (and a LoRA adapter) applies to, by the last part of their GGUF name
/// (`blk.3.attn_q`): the attention and MLP projections of the transformer blocks.
const BLOCK_LINEARS: [&str; 7] = [
    "attn_q",
    "attn_k",
    "attn_v",
    "attn_output",
    "ffn_gate",
    "ffn_up",
    "ffn_down",
];

/// The block index (as written) and Linear of a block Linear's stem (`blk.3.attn_q` -> `("3", "attn_q")`),
/// or `None` for any other name.
pub fn block_linear(stem: &str) -> Option<(&str, &str)> {
    let (prefix, last) = stem.rsplit_once('.')?;
    let index = prefix.strip_prefix("blk.")?;
    BLOCK_LINEARS.contains(&last).then_some((index, last))
}

/// True when a LoRA adapter may target `stem` in a model of `layers` blocks: a block Linear, or Phi-3's
/// fused `attn_qkv` (whose delta `LoraAdapter::split_fused` divides among q, k and v), of a block the
/// model has.
pub fn lora_target(stem: &str, layers: usize) -> bool {
    block_linear(stem)
        .map(|(n, _)| n)
        .or_else(|| stem.strip_suffix(".attn_qkv")?.strip_prefix("blk."))
        .is_some_and(|n| n.parse::<usize>().is_ok_and(|n| n < layers))
}

/// Hugging Face name -> GGUF name, or `None` for tensors we do not use.
pub fn gguf_name(hf: &str) -> Option<String> {
    let hf = hf
        .strip_prefix("model.language_model.")
        .map(|r| format!("model.{r}"))
        .unwrap_or_else(|| hf.to_string());
    let fixed = match hf.as_str() {
        "model.embed_tokens.weight" => Some("token_embd.weight"),
        "model.norm.weight" => Some("output_norm.weight"),
        "lm_head.weight" => Some("output.weight"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Some(f.to_string());
    }
    let rest = hf.strip_prefix("model.layers.")?;
    let (layer, name) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    let (stem, suffix) = name.rsplit_once('.')?;
    let mapped = match stem {
        "input_layernorm" => "attn_norm",
        "self_attn.q_proj" => "attn_q",
        "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v",
        "self_attn.o_proj" => "attn_output",
        // Phi-3's fused projections, named as llama.cpp's converter names them (its `ffn_up` holds the
        // gate's rows, then the up projection's).
        "self_attn.qkv_proj" => "attn_qkv",
        "mlp.gate_up_proj" => "ffn_up",
        "self_attn.q_norm" => "attn_q_norm",
        "self_attn.k_norm" => "attn_k_norm",
        // Llama's second norm is the FFN's input norm; Gemma's is after attention (and Gemma has a
        // `pre_feedforward_layernorm` for the FFN input): the caller renames for Gemma.
        "post_attention_layernorm" => "ffn_norm",
        "pre_feedforward_layernorm" => "ffn_norm",
        "post_feedforward_layernorm" => "post_ffw_norm",
        "mlp.gate_proj" => "ffn_gate",
        "mlp.up_proj" => "ffn_up",
        "mlp.down_proj" => "ffn_down",
        _ => return None,
    };
    Some(format!("blk.{layer}.{mapped}.{suffix}"))
}

impl TensorSource {
    /// A GGUF file.
    pub fn gguf(file: GgufFile) -> Self {
        TensorSource {
            origin: file.path.clone(),
            files: Files::Gguf(file),
            parts: HashMap::new(),
        }
    }

    /// The safetensors files of a Hugging Face folder (`model.safetensors` or the shards an
    /// index names). `gemma` renames `post_attention_layernorm` as GGUF does for Gemma.
    pub fn safetensors(dir: &Path, transform: HfTransform, gemma: bool) -> Result<Self> {
        let single = dir.join("model.safetensors");
        let files: Vec<PathBuf> = if single.exists() {
            vec![single]
        } else {
            let index = dir.join("model.safetensors.index.json");
            let text = crate::error::read_to_string(&index).map_err(|_| {
                Error::input(
                    dir.display(),
                    "expected model.safetensors (or an index of shards) in the model folder",
                )
            })?;
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| Error::input(index.display(), format!("invalid JSON: {e}")))?;
            let map = v
                .get("weight_map")
                .and_then(|m| m.as_object())
                .ok_or_else(|| Error::input(index.display(), "field weight_map: expected an object"))?;
            let mut shards: Vec<PathBuf> = Vec::new();
            for f in map.values() {
                let f = f
                    .as_str()
                    .ok_or_else(|| Error::input(index.display(), "field weight_map: expected file names"))?;
                if f.contains('/') || f.contains("..") {
                    return Err(Error::input(
                        index.display(),
                        format!("field weight_map: \"{f}\" is not a file in the folder"),
                    ));
                }
                let p = dir.join(f);
                if !shards.contains(&p) {
                    shards.push(p);
                }
            }
            shards.sort();
            shards
        };
        let mut shards = Vec::with_capacity(files.len());
        let mut names = HashMap::new();
        for (i, path) in files.into_iter().enumerate() {
            let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
            // SAFETY: a read-only map; see GgufFile::open.
            let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(&path, e))?;
            let (n, metadata) = SafeTensors::read_metadata(&map)
                .map_err(|e| Error::input(path.display(), format!("not a valid safetensors file: {e:?}")))?;
            for hf in metadata.tensors().keys() {
                if let Some(mut g) = gguf_name(hf) {
                    if gemma && hf.ends_with("post_attention_layernorm.weight") {
                        g = g.replace("ffn_norm", "post_attention_norm");
                    }
                    names.insert(g, (i, hf.clone()));
                }
            }
            shards.push(SafetensorsShard {
                path,
                map,
                offset: n + 8,
                metadata,
            });
        }
        Ok(TensorSource {
            origin: dir.to_path_buf(),
            files: Files::Safetensors {
                shards,
                names,
                transform,
            },
            parts: HashMap::new(),
        })
    }

    /// Serves the parts of fused block projections as the separate tensors model code reads (Phi-3
    /// stores `attn_qkv` = q, k, v rows stacked, and `ffn_up` = gate rows then up rows; llama.cpp's
    /// SwiGLU on a fused tensor takes its first half as the gate, as transformers' `chunk(2)` does).
    /// A part is a run of whole rows, so it keeps the stored format, quantized or not, and its bytes
    /// stay in the memory map. Layers whose file already stores separate tensors are left alone.
    pub fn split_fused(&mut self, layers: usize, qkv_rows: [usize; 3], ffn: usize) -> Result<()> {
        for l in 0..layers {
            let qkv = format!("blk.{l}.attn_qkv.weight");
            if self.stored_has(&qkv) {
                let t = self.stored(&qkv)?;
                let want: usize = qkv_rows.iter().sum();
                if t.rows != want {
                    return Err(Error::input(
                        self.origin.display(),
                        format!(
                            "tensor {qkv}: expected {want} rows (query, key and value), found {}",
                            t.rows
                        ),
                    ));
                }
                let mut first = 0;
                for (part, rows) in ["attn_q", "attn_k", "attn_v"].into_iter().zip(qkv_rows) {
                    self.parts
                        .insert(format!("blk.{l}.{part}.weight"), (qkv.clone(), first, rows));
                    first += rows;
                }
            }
            let up = format!("blk.{l}.ffn_up.weight");
            if self.stored_has(&up) && !self.stored_has(&format!("blk.{l}.ffn_gate.weight")) {
                let t = self.stored(&up)?;
                if t.rows != 2 * ffn {
                    return Err(Error::input(
                        self.origin.display(),
                        format!(
                            "tensor {up}: expected {} rows (the gate's, then the up projection's), found {}",
                            2 * ffn,
                            t.rows
                        ),
                    ));
                }
                self.parts
                    .insert(format!("blk.{l}.ffn_gate.weight"), (up.clone(), 0, ffn));
                self.parts.insert(up.clone(), (up, ffn, ffn));
            }
        }
        Ok(())
    }

    /// True when the file stores fused projections (and the source serves their parts).
    pub fn has_fused(&self) -> bool {
        !self.parts.is_empty()
    }

    /// The tensors model code reads from the stored tensor `name` with their first row: its parts when
    /// it is fused, else the tensor itself at row 0.
    pub fn parts_of(&self, name: &str) -> Vec<(String, usize)> {
        let mut parts: Vec<(String, usize)> = self
            .parts
            .iter()
            .filter(|(_, (stored, _, _))| stored == name)
            .map(|(part, (_, first, _))| (part.clone(), *first))
            .collect();
        if parts.is_empty() {
            parts.push((name.to_string(), 0));
        }
        parts.sort_by_key(|p| p.1);
        parts
    }

    /// True when the source has the tensor (GGUF name), stored or as a part of a fused one.
    pub fn has(&self, name: &str) -> bool {
        self.parts.contains_key(name) || self.stored_has(name)
    }

    /// True when the file stores the tensor under that name.
    fn stored_has(&self, name: &str) -> bool {
        match &self.files {
            Files::Gguf(f) => f.has(name),
            Files::Safetensors { names, .. } => names.contains_key(name),
        }
    }

    /// Every tensor name (GGUF names), sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = match &self.files {
            Files::Gguf(f) => f.header.tensors.iter().map(|t| t.name.clone()).collect(),
            Files::Safetensors { names, .. } => names.keys().cloned().collect(),
        };
        v.sort();
        v
    }

    /// The GGUF file, when the source is one.
    pub fn gguf_file(&self) -> Option<&GgufFile> {
        match &self.files {
            Files::Gguf(f) => Some(f),
            Files::Safetensors { .. } => None,
        }
    }

    /// The tensor `name`, which must have `rows x cols` values (`rows` = 1 for a vector).
    pub fn tensor(&self, name: &str, rows: usize, cols: usize) -> Result<StoredTensor<'_>> {
        let t = self.tensor_any(name)?;
        if t.rows != rows || t.cols != cols {
            return Err(Error::input(
                self.origin.display(),
                format!(
                    "tensor {name}: expected shape [{rows}, {cols}], found [{}, {}]",
                    t.rows, t.cols
                ),
            ));
        }
        Ok(t)
    }

    /// Gives the pages of a tensor's bytes in the memory map back to the kernel once the model holds
    /// its own copy: without this the mapped file stays resident beside the copy and a model takes twice
    /// its file's size in memory. A later read of the same bytes (an untied model's embedding table looked
    /// up row by row) faults the pages it needs back in from the file. Advisory: a kernel that declines changes
    /// nothing but the footprint.
    pub fn release(&self, tensor: &StoredTensor<'_>) {
        if let std::borrow::Cow::Borrowed(bytes) = tensor.bytes {
            self.release_bytes(bytes);
        }
    }

    /// Gives back every page of the source's memory maps (the builder calls it after each Linear and the
    /// head): `release` frees a tensor's own whole pages, but the pages it shares with its neighbours, the
    /// header's, and those the kernel maps around each fault (fault-around) stayed resident, 6.5 MB of the
    /// SmolLM2 Q4_1 file after loading (`/proc/self/smaps`). Pages read later (embedding rows) come back
    /// from the file.
    pub fn release_all(&self) {
        for map in self.maps() {
            // SAFETY: as in release_bytes: read-only shared file mappings, refilled from the file on access.
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }

    /// Gives back the pages under `bytes` when they lie in one of the source's memory maps (anything else,
    /// such as a tensor transformed into an owned buffer, is left alone).
    pub fn release_bytes(&self, bytes: &[u8]) {
        let (start, len) = (bytes.as_ptr() as usize, bytes.len());
        for map in self.maps() {
            let base = map.as_ptr() as usize;
            if start >= base && start + len <= base + map.len() {
                // SAFETY: the maps are read-only shared file mappings: MADV_DONTNEED drops their pages and
                // a later access reads the same bytes from the file again; no slice into them is
                // invalidated.
                let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start - base, len) };
                return;
            }
        }
    }

    /// The source's file mappings (one GGUF file, or every safetensors shard).
    fn maps(&self) -> Vec<&memmap2::Mmap> {
        match &self.files {
            Files::Gguf(f) => vec![f.map_ref()],
            Files::Safetensors { shards, .. } => shards.iter().map(|s| &s.map).collect(),
        }
    }

    /// The tensor `name` whatever its shape (a vector is one row); a part of a fused tensor is its rows.
    pub fn tensor_any(&self, name: &str) -> Result<StoredTensor<'_>> {
        let Some((fused, first, rows)) = self.parts.get(name) else {
            return self.stored(name);
        };
        let t = self.stored(fused)?;
        let rb = t.format.row_bytes(t.cols);
        let bytes = match t.bytes {
            std::borrow::Cow::Borrowed(b) => std::borrow::Cow::Borrowed(&b[first * rb..(first + rows) * rb]),
            std::borrow::Cow::Owned(b) => std::borrow::Cow::Owned(b[first * rb..(first + rows) * rb].to_vec()),
        };
        Ok(StoredTensor {
            name: name.to_string(),
            rows: *rows,
            cols: t.cols,
            format: t.format,
            bytes,
        })
    }

    /// The tensor the file stores under `name` (a fused tensor whole).
    pub fn stored(&self, name: &str) -> Result<StoredTensor<'_>> {
        let origin = || self.origin.display();
        match &self.files {
            Files::Gguf(f) => {
                let info = f.info(name)?;
                let format = Stored::from_tensor_type(info.ty).ok_or_else(|| {
                    Error::input(
                        origin(),
                        format!("tensor {name} has type {}, which the engine does not support", info.ty),
                    )
                })?;
                let (rows, cols) = info.rows_cols();
                Ok(StoredTensor {
                    name: name.to_string(),
                    rows,
                    cols,
                    format,
                    bytes: f.data(info).into(),
                })
            }
            Files::Safetensors {
                shards,
                names,
                transform,
            } => {
                let (shard, hf) = names
                    .get(name)
                    .ok_or_else(|| Error::input(origin(), format!("missing tensor {name}")))?;
                let s = &shards[*shard];
                let info = s
                    .metadata
                    .info(hf)
                    .ok_or_else(|| Error::input(s.path.display(), format!("missing tensor {hf}")))?;
                let format = match info.dtype {
                    Dtype::F32 => Stored::F32,
                    Dtype::F16 => Stored::F16,
                    Dtype::BF16 => Stored::BF16,
                    other => {
                        return Err(Error::input(
                            s.path.display(),
                            format!("tensor {hf} has dtype {other:?}; expected F32, F16 or BF16"),
                        ))
                    }
                };
                let (rows, cols) = match info.shape.as_slice() {
                    [c] => (1, *c),
                    [r, c] => (*r, *c),
                    other => {
                        return Err(Error::input(
                            s.path.display(),
                            format!("tensor {hf}: expected one or two dimensions, found {other:?}"),
                        ))
                    }
                };
                let (a, b) = info.data_offsets;
                let raw = &s.map[s.offset + a..s.offset + b];
                let mut t = StoredTensor {
                    name: name.to_string(),
                    rows,
                    cols,
                    format,
                    bytes: raw.into(),
                };
                let is_norm = name.ends_with("norm.weight");
                if transform.norm_plus_one && is_norm {
                    let v: Vec<f32> = t.to_f32().iter().map(|w| w + 1.0).collect();
                    t.format = Stored::F32;
                    t.bytes = v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>().into();
                }
                if let Some((heads, kv_heads)) = transform.permute_qk {
                    let h = if name.contains(".attn_q.") {
                        Some(heads)
                    } else if name.contains(".attn_k.") {
                        Some(kv_heads)
                    } else {
                        None
                    };
                    if let Some(h) = h {
                        t.bytes = permute_rows(&t, h).into();
                    }
                }
                Ok(t)
            }
        }
    }
}

/// Rows of a query/key weight (or bias) reordered from rotate-half to interleaved RoPE pairs, per
/// head: GGUF row `2j + half` of a head is Hugging Face row `half * d/2 + j` (llama.cpp's
/// `convert_hf_to_gguf.py` `LlamaModel.permute`).
pub fn permute_rows(t: &StoredTensor<'_>, heads: usize) -> Vec<u8> {
    // A bias is one row of `heads * d` values: permute its values; a weight: its rows.
    let (n, unit) = if t.rows == 1 {
        (t.cols, t.format.row_bytes(1))
    } else {
        (t.rows, t.format.row_bytes(t.cols))
    };
    let d = n / heads.max(1);
    let mut out = vec![0u8; t.bytes.len()];
    for h in 0..heads {
        for j in 0..d / 2 {
            for half in 0..2 {
                let dst = h * d + 2 * j + half;
                let src = h * d + half * (d / 2) + j;
                out[dst * unit..(dst + 1) * unit].copy_from_slice(&t.bytes[src * unit..(src + 1) * unit]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugging_face_names_map_to_gguf_names() {
        assert_eq!(
            gguf_name("model.layers.3.self_attn.q_proj.weight").as_deref(),
            Some("blk.3.attn_q.weight")
        );
        assert_eq!(
            gguf_name("model.layers.0.self_attn.k_proj.bias").as_deref(),
            Some("blk.0.attn_k.bias")
        );
        assert_eq!(
            gguf_name("model.embed_tokens.weight").as_deref(),
            Some("token_embd.weight")
        );
        assert_eq!(
            gguf_name("model.language_model.layers.1.mlp.down_proj.weight").as_deref(),
            Some("blk.1.ffn_down.weight")
        );
        assert_eq!(gguf_name("model.layers.1.self_attn.rotary_emb.inv_freq"), None);
    }

    #[test]
    fn permutation_interleaves_the_halves_of_each_head() {
        // Two heads of four rows, one value per row: [a0 a1 b0 b1] -> [a0 b0 a1 b1].
        let vals: Vec<f32> = vec![0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0];
        let t = StoredTensor {
            name: "blk.0.attn_q.weight".into(),
            rows: 8,
            cols: 1,
            format: Stored::F32,
            bytes: vals.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>().into(),
        };
        let p = permute_rows(&t, 2);
        let got: Vec<f32> = p
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(got, vec![0.0, 2.0, 1.0, 3.0, 10.0, 12.0, 11.0, 13.0]);
    }
}
