//! Hostile decoder files given to the real binary (`predict --model FILE`): each is an exit-2, one-line
//! error naming the file and what is wrong, never a panic nor an allocation of the size a corrupt header
//! claims (the binary runs under a 2 GiB address-space limit). The files are made here from a tiny valid
//! Llama GGUF written with the crate's own writer, which `predict` must load (so every failure below comes
//! from the one thing changed).

mod common;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use shakedown::engine::load::gguf::{TensorType, Value, ValueType};
use shakedown::engine::load::gguf_write::{write, TensorOut};

const HIDDEN: u64 = 8;
const HEADS: u32 = 2;
const KV_HEADS: u32 = 1;
const FFN: u64 = 32;

/// A SentencePiece vocabulary: control tokens, a few byte tokens, pieces with scores.
fn tokenizer_metadata() -> Vec<(String, Value)> {
    let mut tokens: Vec<String> = ["<unk>", "<s>", "</s>"].map(String::from).to_vec();
    tokens.extend([0x0Au8, 0x20, 0xC3, 0xA9].map(|b| format!("<0x{b:02X}>")));
    let pieces = [
        "\u{2581}move",
        "\u{2581}left",
        "\u{2581}",
        "m",
        "o",
        "v",
        "e",
        "l",
        "f",
        "t",
    ];
    tokens.extend(pieces.map(String::from));
    let types: Vec<Value> = tokens
        .iter()
        .enumerate()
        .map(|(i, _)| {
            Value::I32(match i {
                0 => 2,
                1 | 2 => 3,
                3..=6 => 6,
                _ => 1,
            })
        })
        .collect();
    let scores: Vec<Value> = (0..tokens.len()).map(|i| Value::F32(-(i as f32))).collect();
    let strings = |v: Vec<String>| Value::Array {
        elem: ValueType::String,
        items: v.into_iter().map(Value::String).collect(),
    };
    vec![
        ("tokenizer.ggml.model".into(), Value::String("llama".into())),
        ("tokenizer.ggml.tokens".into(), strings(tokens)),
        (
            "tokenizer.ggml.scores".into(),
            Value::Array {
                elem: ValueType::F32,
                items: scores,
            },
        ),
        (
            "tokenizer.ggml.token_type".into(),
            Value::Array {
                elem: ValueType::I32,
                items: types,
            },
        ),
        ("tokenizer.ggml.bos_token_id".into(), Value::U32(1)),
        ("tokenizer.ggml.eos_token_id".into(), Value::U32(2)),
    ]
}

fn vocab() -> u64 {
    match &tokenizer_metadata()[1].1 {
        Value::Array { items, .. } => items.len() as u64,
        _ => unreachable!(),
    }
}

/// The metadata of the tiny model, `arch` as its architecture.
fn metadata(arch: &str) -> Vec<(String, Value)> {
    let k = |s: &str| format!("{arch}.{s}");
    let mut m = vec![
        ("general.architecture".to_string(), Value::String(arch.into())),
        (k("context_length"), Value::U32(256)),
        (k("embedding_length"), Value::U32(HIDDEN as u32)),
        (k("block_count"), Value::U32(1)),
        (k("feed_forward_length"), Value::U32(FFN as u32)),
        (k("attention.head_count"), Value::U32(HEADS)),
        (k("attention.head_count_kv"), Value::U32(KV_HEADS)),
    ];
    m.extend(tokenizer_metadata());
    m
}

/// F32 bytes of `n` small deterministic values.
fn f32s(n: u64) -> Vec<u8> {
    (0..n)
        .flat_map(|i| ((i % 7) as f32 * 0.05 - 0.15).to_le_bytes())
        .collect()
}

/// The tensors of a one-layer Llama (dimensions innermost first, as GGUF stores them).
fn tensors() -> Vec<TensorOut<'static>> {
    let kv = HIDDEN / HEADS as u64 * KV_HEADS as u64;
    let t = |name: &str, dims: Vec<u64>| TensorOut {
        name: name.into(),
        data: Cow::Owned(f32s(dims.iter().product())),
        dims,
        ty: TensorType::F32,
    };
    vec![
        t("token_embd.weight", vec![HIDDEN, vocab()]),
        t("blk.0.attn_norm.weight", vec![HIDDEN]),
        t("blk.0.attn_q.weight", vec![HIDDEN, HIDDEN]),
        t("blk.0.attn_k.weight", vec![HIDDEN, kv]),
        t("blk.0.attn_v.weight", vec![HIDDEN, kv]),
        t("blk.0.attn_output.weight", vec![HIDDEN, HIDDEN]),
        t("blk.0.ffn_norm.weight", vec![HIDDEN]),
        t("blk.0.ffn_gate.weight", vec![HIDDEN, FFN]),
        t("blk.0.ffn_up.weight", vec![HIDDEN, FFN]),
        t("blk.0.ffn_down.weight", vec![FFN, HIDDEN]),
        t("output_norm.weight", vec![HIDDEN]),
    ]
}

/// Writes a GGUF file and returns its bytes.
fn gguf(path: &Path, metadata: &[(String, Value)], tensors: &[TensorOut<'_>]) -> Vec<u8> {
    write(path, metadata, tensors).unwrap();
    std::fs::read(path).unwrap()
}

/// Position of a tensor's info (just after its name) in a GGUF file's bytes.
fn tensor_info(bytes: &[u8], name: &str) -> usize {
    let mut pat = (name.len() as u64).to_le_bytes().to_vec();
    pat.extend_from_slice(name.as_bytes());
    bytes.windows(pat.len()).rposition(|w| w == pat.as_slice()).unwrap() + pat.len()
}

/// Field positions in the info of a 2-dimensional tensor: dims at +4, type at +20, offset at +24.
const DIMS: usize = 4;
const TYPE: usize = 20;
const OFFSET: usize = 24;

fn patch(bytes: &mut [u8], at: usize, v: &[u8]) {
    bytes[at..at + v.len()].copy_from_slice(v);
}

/// `predict --model FILE` under a 2 GiB address-space limit, with one line on stdin.
fn predict(model: &Path) -> Output {
    let bin = env!("CARGO_BIN_EXE_shakedown");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2097152 && exec \"$0\" predict --scheme native --threads 1 --model \"$1\"")
        .arg(bin)
        .arg(model)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shakedown");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"move left\n").unwrap();
    child.wait_with_output().unwrap()
}

/// Exit 2 with one line on stderr that names the file and contains `needle`.
fn assert_refused(model: &Path, needle: &str) {
    let o = predict(model);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{needle}: {}", common::text(&o));
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(&model.display().to_string()),
        "names the file: {stderr}"
    );
    assert!(stderr.contains(needle), "should say {needle:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

struct Files {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    good: Vec<u8>,
}

/// The valid file, checked to load and answer.
fn valid() -> Files {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let path = dir.join("good.gguf");
    let good = gguf(&path, &metadata("llama"), &tensors());
    let o = predict(&path);
    assert_eq!(o.status.code(), Some(0), "the valid file loads: {}", common::text(&o));
    Files { _tmp: tmp, dir, good }
}

impl Files {
    /// Writes `bytes` as `name` and checks the binary refuses it.
    fn refused(&self, name: &str, bytes: &[u8], needle: &str) {
        let p = self.dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        assert_refused(&p, needle);
    }
}

#[test]
fn hostile_headers_and_tensor_tables() {
    let f = valid();
    let good = &f.good;

    let mut b = good.clone();
    patch(&mut b, 0, b"GGUX");
    f.refused("magic.gguf", &b, "magic");

    f.refused("header.gguf", &good[..60], "cannot fit");
    f.refused("header2.gguf", &good[..20], "truncated");

    f.refused("data.gguf", &good[..good.len() - 4], "truncated tensor data");

    let mut b = good.clone();
    let t = tensor_info(&b, "blk.0.ffn_down.weight");
    patch(&mut b, t + OFFSET, &(1u64 << 40).to_le_bytes());
    f.refused("offset.gguf", &b, "truncated tensor data: tensor blk.0.ffn_down.weight");

    let mut b = good.clone();
    let first = tensor_info(&b, "token_embd.weight");
    let offset0 = u64::from_le_bytes(b[first + OFFSET..first + OFFSET + 8].try_into().unwrap());
    patch(&mut b, t + OFFSET, &offset0.to_le_bytes());
    f.refused("overlap.gguf", &b, "overlap");

    let mut b = good.clone();
    patch(&mut b, 8, &(u64::MAX / 2).to_le_bytes());
    f.refused("tensors.gguf", &b, "tensor count");
    let mut b = good.clone();
    patch(&mut b, 16, &(1u64 << 50).to_le_bytes());
    f.refused("kv.gguf", &b, "metadata count");

    // An array whose length claims far more than the file holds (the token list's length).
    let mut b = good.clone();
    let tokens = tensor_info(&b, "tokenizer.ggml.tokens");
    patch(&mut b, tokens + 8, &(1u64 << 40).to_le_bytes());
    f.refused("array.gguf", &b, "array length");

    let mut b = good.clone();
    patch(&mut b, t + DIMS, &(1u64 << 40).to_le_bytes());
    patch(&mut b, t + DIMS + 8, &(1u64 << 40).to_le_bytes());
    f.refused("dims.gguf", &b, "overflow");

    let mut b = good.clone();
    patch(&mut b, t + TYPE, &99u32.to_le_bytes());
    f.refused(
        "type.gguf",
        &b,
        "tensor blk.0.ffn_down.weight: unknown tensor type id 99",
    );
}

#[test]
fn unsupported_types_architectures_and_missing_parts() {
    let f = valid();
    let dir = &f.dir;

    // A type GGUF knows and the engine does not compute with (I32) names the tensor and the type.
    let mut ts = tensors();
    ts[2].ty = TensorType::I32;
    let p = dir.join("i32.gguf");
    gguf(&p, &metadata("llama"), &ts);
    assert_refused(&p, "tensor blk.0.attn_q.weight has type I32");

    let p = dir.join("arch.gguf");
    gguf(&p, &metadata("mamba"), &tensors());
    assert_refused(&p, "unknown architecture \"mamba\"");

    let no_tokenizer: Vec<_> = metadata("llama")
        .into_iter()
        .filter(|(k, _)| k != "tokenizer.ggml.model")
        .collect();
    let p = dir.join("notok.gguf");
    gguf(&p, &no_tokenizer, &tensors());
    assert_refused(&p, "missing tokenizer");

    let p = dir.join("notensor.gguf");
    let ts: Vec<_> = tensors()
        .into_iter()
        .filter(|t| t.name != "blk.0.ffn_up.weight")
        .collect();
    gguf(&p, &metadata("llama"), &ts);
    assert_refused(&p, "missing tensor blk.0.ffn_up.weight");

    let mut ts = tensors();
    ts[5].dims = vec![HIDDEN, HIDDEN / 2];
    ts[5].data = Cow::Owned(f32s(HIDDEN * HIDDEN / 2));
    let p = dir.join("shape.gguf");
    gguf(&p, &metadata("llama"), &ts);
    assert_refused(
        &p,
        "tensor blk.0.attn_output.weight: expected shape [8, 8], found [4, 8]",
    );
}

/// A safetensors decoder folder (the committed tiny Llama's config and tokenizer) whose header lies.
#[test]
fn safetensors_header_that_lies_about_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let src = common::root().join("tests/fixtures/tiny-llama");
    let st = |name: &str, header: &str, data_len: usize| {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        for f in ["config.json", "tokenizer.json"] {
            std::fs::copy(src.join(f), dir.join(f)).unwrap();
        }
        let mut b = (header.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(header.as_bytes());
        b.resize(b.len() + data_len, 0);
        std::fs::write(dir.join("model.safetensors"), b).unwrap();
        dir
    };
    // Data offsets past the end of the file.
    let d = st(
        "past_end",
        r#"{"model.embed_tokens.weight":{"dtype":"F32","shape":[384,32],"data_offsets":[0,49152]}}"#,
        64,
    );
    assert_refused(&d, "model.safetensors");
    // A shape that disagrees with its byte range.
    let d = st(
        "shape",
        r#"{"model.embed_tokens.weight":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,64]}}"#,
        64,
    );
    assert_refused(&d, "model.safetensors");
    // A header length far past the end.
    let dir = st("header_len", "{}", 0);
    let mut b = (1u64 << 40).to_le_bytes().to_vec();
    b.extend_from_slice(b"{}");
    std::fs::write(dir.join("model.safetensors"), b).unwrap();
    assert_refused(&dir, "model.safetensors");
}

/// A Phi-3 folder whose config disagrees with its fused tensors (the committed tiny Phi-3 with one
/// key/value head in its config where the file stores two, or a narrower MLP): refused, naming the tensor
/// and the rows expected, before any part is read at the wrong rows.
#[test]
fn phi3_fused_tensors_that_disagree_with_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let src = common::root().join("tests/fixtures/tiny-phi3");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    for (name, key, value, needle) in [
        (
            "kv",
            "num_key_value_heads",
            1,
            "tensor blk.0.attn_qkv.weight: expected 48 rows (query, key and value), found 64",
        ),
        (
            "ffn",
            "intermediate_size",
            48,
            "tensor blk.0.ffn_up.weight: expected 96 rows (the gate's, then the up projection's), found 128",
        ),
    ] {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        for f in ["tokenizer.json", "model.safetensors"] {
            std::fs::copy(src.join(f), dir.join(f)).unwrap();
        }
        let mut c = config.clone();
        c[key] = value.into();
        std::fs::write(dir.join("config.json"), c.to_string()).unwrap();
        assert_refused(&dir, needle);
    }
}
