//! `shakedown export` on the real SmolLM2 file: the written GGUF is a valid file the engine (and
//! llama.cpp, which reads the same format) loads; `native` keeps every tensor's bytes and key; a block scheme
//! re-quantizes the linear layers and keeps the model's answers; an adapter is merged; the file is the
//! model `run` gates for the scheme; an existing output is never overwritten without --force.

mod common;

use std::path::Path;

use common::{shakedown, text};
use shakedown::engine::decoding::argmax;
use shakedown::engine::load::gguf::GgufFile;
use shakedown::engine::{Model, ModelSource, Scheme};

fn export(out: &Path, scheme: &str, extra: &[&str]) {
    let o = export_from(&common::decoder_gguf("smollm2"), out, scheme, extra);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// `shakedown export` of `model` in `scheme` to `out`, with `extra` flags.
fn export_from(model: &Path, out: &Path, scheme: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "export",
        "--model",
        model.to_str().unwrap(),
        "--scheme",
        scheme,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    shakedown(&args)
}

fn last_logits(path: &Path, adapter: Option<&Path>, scheme: Scheme) -> Vec<f32> {
    let mut source = ModelSource::open(path).unwrap();
    if let Some(a) = adapter {
        source = source.with_adapter(a).unwrap();
    }
    let model = Model::from_source(&source, scheme, &[]).unwrap();
    let d = model.decoder().unwrap();
    let ids = d.encode("The capital of France is").unwrap();
    let l = d.sequence_logits(&ids).unwrap();
    l.row(l.rows - 1).to_vec()
}

#[test]
fn native_export_keeps_every_tensor_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("native.gguf");
    export(&out, "native", &[]);
    let src = GgufFile::open(&common::decoder_gguf("smollm2")).unwrap();
    let dst = GgufFile::open(&out).unwrap();
    assert_eq!(src.header.tensors.len(), dst.header.tensors.len());
    for (a, b) in src.header.tensors.iter().zip(&dst.header.tensors) {
        assert_eq!((&a.name, &a.dims, a.ty), (&b.name, &b.dims, b.ty));
        assert!(src.data(a) == dst.data(b), "{} changed", a.name);
    }
    // Nothing changed, so nothing is added: the metadata is the source's, key for key.
    assert_eq!(src.header.key_order, dst.header.key_order);
    // Same weights, same computation: identical logits.
    let path = common::decoder_gguf("smollm2");
    assert_eq!(
        last_logits(&path, None, Scheme::Native),
        last_logits(&out, None, Scheme::Native)
    );
    // Never overwritten without --force; replaced with it.
    let before = std::fs::metadata(&out).unwrap().len();
    let o = shakedown(&[
        "export",
        "--model",
        path.to_str().unwrap(),
        "--scheme",
        "q8_0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("already exists"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::metadata(&out).unwrap().len(), before);
    export(&out, "q8_0", &["--force"]);
    let replaced = GgufFile::open(&out).unwrap();
    assert_eq!(replaced.header.metadata["shakedown.scheme"].as_str(), Some("q8_0"));
    assert_eq!(
        replaced.header.metadata["shakedown.source_sha256"].as_str(),
        Some("b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
    );
}

#[test]
fn q8_0_export_keeps_the_answer_and_an_adapter_is_merged() {
    let tmp = tempfile::tempdir().unwrap();
    let path = common::decoder_gguf("smollm2");
    let q8 = tmp.path().join("q8.gguf");
    export(&q8, "q8_0", &[]);
    let dst = GgufFile::open(&q8).unwrap();
    let q8_type = dst
        .header
        .tensors
        .iter()
        .find(|t| t.name == "blk.0.attn_q.weight")
        .unwrap()
        .ty;
    assert_eq!(q8_type.name(), "Q8_0");
    // "Paris" (7042) stays the top answer of the re-quantized file, as of the source.
    assert_eq!(argmax(&last_logits(&q8, None, Scheme::Native)), 7042);
    assert_eq!(argmax(&last_logits(&path, None, Scheme::Native)), 7042);

    // An adapter merged into f32 weights: the exported file (head widened to F32, as the engine's f32
    // scheme computes it) is the model `run --schemes f32` gates with the adapter, bit for bit.
    let adapter = common::root().join("suites/warehouse-parse/adapter");
    let merged = tmp.path().join("merged.gguf");
    export(&merged, "f32", &["--adapter", adapter.to_str().unwrap()]);
    let with_adapter = last_logits(&path, Some(&adapter), Scheme::F32);
    let exported = last_logits(&merged, None, Scheme::Native);
    let without = last_logits(&path, None, Scheme::F32);
    assert_eq!(exported, with_adapter, "exported f32 vs base + adapter in f32");
    assert_ne!(exported, without, "the adapter is merged");
}

/// The scheme `run` gates is the file `export` writes: q4_k on SmolLM2, whose 576-wide rows are not whole
/// Q4_K super-blocks, takes llama.cpp's Q5_0 fallback in both (once `run` zero-padded them into Q4_K, a
/// model no GGUF file can hold, and gated it at 0 % where the exported file answered 87 %), and keeps the
/// tied Q8_0 head as stored in both. And `native` with an adapter, which no single file can hold, writes
/// the adapter alone (once it was merged into the stored 4-bit types, a model without the fine-tune).
#[test]
fn the_exported_file_computes_what_run_gates_and_native_writes_the_adapter() {
    let tmp = tempfile::tempdir().unwrap();
    let path = common::decoder_gguf("smollm2");
    let adapter = common::root().join("suites/warehouse-parse/adapter");
    let q4k = tmp.path().join("q4_k.gguf");
    export(&q4k, "q4_k", &["--adapter", adapter.to_str().unwrap()]);
    let file = GgufFile::open(&q4k).unwrap();
    let ty = |name: &str| file.header.tensors.iter().find(|t| t.name == name).unwrap().ty.name();
    assert_eq!(ty("blk.0.attn_q.weight"), "Q5_0", "576-wide rows fall back");
    assert_eq!(
        ty("blk.0.ffn_down.weight"),
        "Q4_K",
        "1536-wide rows are whole super-blocks"
    );
    assert_eq!(ty("token_embd.weight"), "Q8_0", "the tied head as stored");
    assert_eq!(
        last_logits(&q4k, None, Scheme::Native),
        last_logits(&path, Some(&adapter), "q4_k".parse().unwrap()),
        "exported q4_k vs run's q4_k"
    );

    // native + adapter: the base file as it is plus the adapter as llama.cpp's GGUF LoRA file, which
    // the engine reads back to the very logits of base + PEFT folder.
    let out = tmp.path().join("adapter.gguf");
    export(&out, "native", &["--adapter", adapter.to_str().unwrap()]);
    let file = GgufFile::open(&out).unwrap();
    let meta = |k: &str| file.header.metadata[k].as_str().map(String::from);
    assert_eq!(meta("general.type").as_deref(), Some("adapter"));
    assert_eq!(meta("adapter.type").as_deref(), Some("lora"));
    assert_eq!(meta("general.architecture").as_deref(), Some("llama"));
    assert_eq!(
        file.header.metadata["adapter.lora.alpha"].as_f64(),
        Some(16.0),
        "alpha 16, r 8"
    );
    assert_eq!(
        file.header.tensors.len(),
        2 * 7 * 30,
        "A and B of 7 projections in 30 blocks"
    );
    let q = file
        .header
        .tensors
        .iter()
        .find(|t| t.name == "blk.0.attn_q.weight.lora_a")
        .unwrap();
    assert_eq!(q.dims, [576, 8], "ggml's [in, r]");
    assert_eq!(
        last_logits(&path, Some(&out), Scheme::Native),
        last_logits(&path, Some(&adapter), Scheme::Native),
        "GGUF adapter vs PEFT folder"
    );
}

/// Phi-3 stores q/k/v and gate/up fused: a block scheme re-quantizes the fused tensors whole (their
/// rows are the parts' rows), an adapter on the fused modules is merged into the right rows, and the
/// written file computes what `run` gates; `native` with the adapter writes it fused, tensor for tensor
/// what llama.cpp's own `convert_lora_to_gguf.py` writes from the same PEFT folder.
#[test]
fn a_phi3_file_with_fused_projections_exports_what_run_gates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::root().join("tests/fixtures/tiny-phi3");
    let (model, adapter) = (dir.join("model.gguf"), dir.join("adapter"));
    let out = tmp.path().join("q8_0.gguf");
    let with_adapter = ["--adapter", adapter.to_str().unwrap()];
    let o = export_from(&model, &out, "q8_0", &with_adapter);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let file = GgufFile::open(&out).unwrap();
    let ty = |name: &str| file.header.tensors.iter().find(|t| t.name == name).unwrap().ty.name();
    assert_eq!(ty("blk.0.attn_qkv.weight"), "Q8_0");
    assert_eq!(ty("blk.1.ffn_up.weight"), "Q8_0");
    assert_eq!(
        last_logits(&out, None, Scheme::Native),
        last_logits(&model, Some(&adapter), "q8_0".parse().unwrap()),
        "exported q8_0 + merged adapter vs run's q8_0 + adapter"
    );
    assert_ne!(
        last_logits(&out, None, Scheme::Native),
        last_logits(&model, None, "q8_0".parse().unwrap()),
        "the adapter changed the exported model"
    );
    let ours = tmp.path().join("adapter.gguf");
    let o = export_from(&model, &ours, "native", &with_adapter);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let (ours, theirs) = (
        GgufFile::open(&ours).unwrap(),
        GgufFile::open(&dir.join("adapter.gguf")).unwrap(),
    );
    let tensors = |f: &GgufFile| {
        let mut v: Vec<(String, Vec<u64>, Vec<u8>)> = f
            .header
            .tensors
            .iter()
            .map(|t| (t.name.clone(), t.dims.clone(), f.data(t).to_vec()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        tensors(&ours),
        tensors(&theirs),
        "our adapter file vs llama.cpp's conversion"
    );
    assert!(ours
        .header
        .tensors
        .iter()
        .any(|t| t.name == "blk.0.attn_qkv.weight.lora_b" && t.dims == [4, 64]));
    assert_eq!(ours.header.metadata["adapter.lora.alpha"].as_f64(), Some(8.0));
}

/// Gemma 3's Q4_K_M file already stores Q4_K and Q6_K blocks: `export --scheme q4_k|q6_k` copies those
/// (as llama.cpp's quantize does), so `run` must use them as stored too. It quantized them again from
/// their own values, which does not give a K-quant's bytes back: the exported file answered "the
/// capital of the United Kingdom" where the gated scheme answered "the capital of the country of France".
#[test]
fn a_k_quant_file_exports_what_run_gates() {
    let tmp = tempfile::tempdir().unwrap();
    let path = common::decoder_gguf("gemma3");
    for scheme in ["q4_k", "q6_k"] {
        let out = tmp.path().join(format!("{scheme}.gguf"));
        let o = export_from(&path, &out, scheme, &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(
            last_logits(&out, None, Scheme::Native),
            last_logits(&path, None, scheme.parse().unwrap()),
            "exported {scheme} vs run's {scheme}"
        );
    }
}
