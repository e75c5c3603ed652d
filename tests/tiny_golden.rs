//! Each decoder architecture read from a Hugging Face safetensors folder, against PyTorch on the same
//! weights: the committed tiny random checkpoints of `scripts/golden/make_tiny_checkpoints.py`
//! (tests/fixtures/tiny-*/, `golden.json` = transformers' f32 logits at every position of three prompts,
//! the whole vocabulary). Their O(1) random weights spread the logits over units, so a wrong
//! convention (a permutation, a norm offset, a window, a fused projection split in the wrong order, a
//! missing bias, a RoPE base read from the wrong field) fails by far more than the tolerance. The
//! tokenizer's ids must equal transformers'.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;
use shakedown::engine::{Model, ModelSource};

/// One golden prompt: its text, transformers' ids and logits `[position][token]`.
struct Prompt {
    text: String,
    ids: Vec<u32>,
    logits: Vec<Vec<f64>>,
}

fn fixture(name: &str) -> PathBuf {
    common::root().join("tests/fixtures").join(name)
}

/// The prompts of a golden file (`golden.json` of a checkpoint, or of its adapter).
fn prompts(path: &Path) -> Vec<Prompt> {
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("golden file")).expect("golden JSON");
    let vocab = golden["vocab_size"].as_u64().expect("vocab_size") as usize;
    let numbers = |v: &Value| -> Vec<f64> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|x| x.as_f64().expect("a number"))
            .collect()
    };
    golden["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .map(|p| {
            let logits: Vec<Vec<f64>> = p["logits"].as_array().expect("logits").iter().map(numbers).collect();
            assert!(
                logits.iter().all(|r| r.len() == vocab),
                "{}: rows of the whole vocabulary",
                path.display()
            );
            Prompt {
                text: p["text"].as_str().expect("text").to_string(),
                ids: numbers(&p["ids"]).into_iter().map(|x| x as u32).collect(),
                logits,
            }
        })
        .collect()
}

/// Largest |engine - reference| over every logit of every position of `prompts`, the model read from
/// `path` (a folder or a GGUF file), with `adapter` if given, in `scheme`. With `check_ids`, the ids the
/// model's tokenizer gives must be transformers'.
fn largest_difference(path: &Path, adapter: Option<&Path>, scheme: &str, prompts: &[Prompt], check_ids: bool) -> f64 {
    let mut source = ModelSource::open(path).expect("open the checkpoint");
    if let Some(a) = adapter {
        source = source.with_adapter(a).expect("the adapter");
    }
    let model = Model::from_source(&source, scheme.parse().expect("scheme"), &[]).expect("build");
    let d = model.decoder().expect("a decoder");
    let mut worst = 0.0f64;
    for p in prompts {
        if check_ids {
            assert_eq!(
                d.encode(&p.text).expect("encode"),
                p.ids,
                "{}: ids of {:?}",
                path.display(),
                p.text
            );
        }
        let logits = d.sequence_logits(&p.ids).expect("logits");
        for (pos, row) in p.logits.iter().enumerate() {
            for (id, want) in row.iter().enumerate() {
                worst = worst.max((logits.row(pos)[id] as f64 - want).abs());
            }
        }
    }
    let with = if adapter.is_some() { " + adapter" } else { "" };
    eprintln!(
        "{} {scheme}{with}: largest |engine - reference| {worst:.2e}",
        path.display()
    );
    worst
}

/// The f32 path of a tiny checkpoint folder against its `golden.json`.
fn checkpoint_difference(name: &str) -> f64 {
    let dir = fixture(name);
    largest_difference(&dir, None, "f32", &prompts(&dir.join("golden.json")), true)
}

/// A checkpoint folder and llama.cpp's conversion of it (`model.gguf`), both against its `golden.json`.
fn folder_and_gguf_match(name: &str) {
    let dir = fixture(name);
    let golden = prompts(&dir.join("golden.json"));
    assert!(checkpoint_difference(name) < 1e-4, "{name}");
    assert!(
        largest_difference(&dir.join("model.gguf"), None, "f32", &golden, true) < 1e-4,
        "{name} GGUF"
    );
}

#[test]
fn tiny_llama_matches_pytorch() {
    assert!(checkpoint_difference("tiny-llama") < 1e-4);
}

#[test]
fn tiny_qwen2_matches_pytorch() {
    assert!(checkpoint_difference("tiny-qwen2") < 1e-4);
}

/// The same weights through llama.cpp's own conversion to GGUF: Llama's query/key rows permuted to
/// interleaved RoPE pairs, Qwen2's NeoX RoPE and biases, each tokenizer from GGUF metadata.
#[test]
fn tiny_llama_and_qwen2_match_pytorch_from_llama_cpps_gguf() {
    for name in ["tiny-llama", "tiny-qwen2"] {
        let dir = fixture(name);
        let golden = prompts(&dir.join("golden.json"));
        assert!(
            largest_difference(&dir.join("model.gguf"), None, "f32", &golden, true) < 1e-4,
            "{name}"
        );
    }
}

/// Qwen3's per-head query/key norms and a head size that is not hidden / heads, from the safetensors
/// folder and from llama.cpp's conversion of it.
#[test]
fn tiny_qwen3_matches_pytorch_from_safetensors_and_from_llama_cpps_gguf() {
    folder_and_gguf_match("tiny-qwen3");
}

/// Llama 3.2's shape: Llama 3 RoPE frequency scaling (from `rope_parameters` in the folder, from the
/// `rope_freqs` tensor llama.cpp writes in the GGUF), tied head, Llama 3's split.
#[test]
fn tiny_llama32_matches_pytorch_from_safetensors_and_from_llama_cpps_gguf() {
    folder_and_gguf_match("tiny-llama32");
}

/// Gemma 2: local and global layers alternating, one RoPE base, attention scores and output logits
/// soft-capped (caps low enough to bend every score), no q/k norms; from the safetensors folder and from
/// llama.cpp's own conversion of it, whose SentencePiece tokenizer (read from `tokenizer.model`, pieces and
/// scores) must give the ids of the folder's `tokenizer.json`.
#[test]
fn tiny_gemma2_matches_pytorch_from_safetensors_and_from_llama_cpps_gguf() {
    folder_and_gguf_match("tiny-gemma2");
}

/// SmolLM3: Llama's block with the fourth layer left unrotated (NoPE), from the safetensors folder
/// (`no_rope_layers`) and from llama.cpp's conversion of it (arch `smollm3`, whose step of 4 llama.cpp fixes).
#[test]
fn tiny_smollm3_matches_pytorch_from_safetensors_and_from_llama_cpps_gguf() {
    folder_and_gguf_match("tiny-smollm3");
}

/// YaRN (factor 4 over an original context of 256): the per-pair blend of kept and slowed frequencies
/// and the scale of sines and cosines, from `rope_parameters` in the folder and from the GGUF keys
/// llama.cpp's converter writes (`rope.scaling.type` yarn, factor, original context length).
#[test]
fn tiny_qwen3_with_yarn_matches_pytorch_from_safetensors_and_from_llama_cpps_gguf() {
    folder_and_gguf_match("tiny-qwen3-yarn");
}

#[test]
fn tiny_gemma3_matches_pytorch() {
    assert!(checkpoint_difference("tiny-gemma3") < 1e-4);
}

/// Gemma 3 as llama.cpp takes it (five local layers per global one, local and global RoPE bases, q/k
/// norms, the head size as query scale): from the folder and from llama.cpp's conversion of it, whose
/// keys leave the pattern and the local base to llama.cpp's defaults, which the engine must apply as
/// llama.cpp does (`tiny-gemma3` keeps the config reader's own query scale and 3-layer pattern).
#[test]
fn tiny_gemma3_matches_pytorch_from_safetensors_and_from_llama_cpps_gguf() {
    folder_and_gguf_match("tiny-gemma3-sp");
}

/// Fused q/k/v and gate/up, half of each head rotated, LongRoPE's short factors and attention factor, a
/// window of 5 on every layer: from the safetensors folder and from llama.cpp's own conversion of it
/// (`model.gguf`, whose tokenizer, fused tensors and rope factor tensors are llama.cpp's layout).
#[test]
fn tiny_phi3_matches_pytorch_from_safetensors_and_from_llama_cpps_gguf() {
    folder_and_gguf_match("tiny-phi3");
}

/// Past its original context (128 tokens of 256) Phi-3 rotates with LongRoPE's long factors: a prompt of
/// 145 tokens against transformers' logits at every position (its one forward pass rotates them all with
/// the long factors), from the folder and from llama.cpp's GGUF (`rope_factors_long`). With the short
/// factors the same prompt is off by units.
#[test]
fn tiny_phi3_past_its_original_context_rotates_with_the_long_factors() {
    let dir = fixture("tiny-phi3");
    let golden = prompts(&dir.join("golden_long.json"));
    assert!(golden[0].ids.len() > 128);
    for path in [dir.clone(), dir.join("model.gguf")] {
        assert!(
            largest_difference(&path, None, "f32", &golden, true) < 1e-4,
            "{}",
            path.display()
        );
    }
}

/// Which factors a generated sequence rotates with is fixed when it starts, by the tokens it may
/// reach: a prompt of at most 128 tokens whose `max_tokens` can take it past 128 rotates with the long
/// factors from its first token (its first answer is transformers' over the long prompt at that
/// position), and with a limit that keeps it within 128, with the short ones; both alone and beside
/// the other in one batch (each way then shares its own prompt prefix).
#[test]
fn a_phi3_sequence_rotates_as_the_length_it_may_reach_asks() {
    use shakedown::engine::{GenerateRequest, Sampling};
    let dir = fixture("tiny-phi3");
    let golden = &prompts(&dir.join("golden_long.json"))[0];
    let model =
        Model::from_source(&ModelSource::open(&dir).expect("open"), "f32".parse().unwrap(), &[]).expect("build");
    let d = model.decoder().expect("a decoder");
    // The longest prefix of the golden text, cut before a repeated sentence, within 120 tokens and
    // tokenized as the start of the golden ids.
    let (prompt, ids) = golden
        .text
        .match_indices(" Move")
        .map(|(at, _)| &golden.text[..at])
        .map(|p| (p, d.encode(p).unwrap()))
        .filter(|(_, ids)| ids.len() <= 120 && golden.ids.starts_with(ids))
        .last()
        .expect("a prefix of the long prompt");
    let last = ids.len() - 1;
    let argmax = |row: &[f64]| {
        (0..row.len())
            .max_by(|&a, &b| row[a].total_cmp(&row[b]).then(b.cmp(&a)))
            .unwrap()
    };
    let long_token = argmax(&golden.logits[last]) as u32;
    let short_logits = d.sequence_logits(&ids).unwrap();
    let short_row: Vec<f64> = short_logits.row(last).iter().map(|&x| x as f64).collect();
    let short_token = argmax(&short_row) as u32;
    assert_ne!(long_token, short_token, "the prefix must tell the two rotations apart");
    let request = |max_tokens| GenerateRequest {
        prompt: prompt.to_string(),
        max_tokens,
        stop: vec![],
        sampling: Sampling::Greedy,
        constraint: None,
    };
    // The answer's text starts with its first token's (a lone UTF-8 lead byte reads as U+FFFD).
    let first = |max_tokens: usize| {
        let token = if max_tokens + ids.len() > 128 {
            long_token
        } else {
            short_token
        };
        String::from_utf8_lossy(d.tokenizer.piece(token)).into_owned()
    };
    assert_ne!(first(129 - ids.len()), first(128 - ids.len()));
    let (reaching, within) = (129 - ids.len(), 128 - ids.len());
    // Alone, beside the other way, and two of each (each way shares its own prompt prefix).
    for batch in [
        vec![request(reaching)],
        vec![request(within)],
        vec![request(reaching), request(within)],
        vec![request(within), request(reaching), request(reaching), request(within)],
    ] {
        let out = d.generate(&batch).unwrap();
        for (g, r) in out.iter().zip(&batch) {
            assert!(
                g.text.starts_with(&first(r.max_tokens)),
                "max_tokens {}: {:?}",
                r.max_tokens,
                g.text
            );
        }
    }
    // Scoring: a context whose longest continuation reaches past 128 tokens is read with the long
    // factors, so the rest of the golden text scores as transformers' rows of the whole prompt say.
    let rest = golden.text[prompt.len()..].to_string();
    let want: f64 = (ids.len()..golden.ids.len())
        .map(|i| {
            let row = &golden.logits[i - 1];
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            row[golden.ids[i] as usize] - max - row.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
        })
        .sum();
    let scores = d
        .loglikelihood(&[shakedown::engine::LoglikelihoodRequest {
            context: prompt.to_string(),
            continuations: vec![rest, " Move".into()],
        }])
        .unwrap();
    assert_eq!(scores[0][0].tokens, golden.ids.len() - ids.len());
    assert!(
        (scores[0][0].logprob - want).abs() < 1e-3,
        "{} against {want}",
        scores[0][0].logprob
    );
}

/// Phi-4-mini's shape: three quarters of each head rotated, LongRoPE, tied head, no window, and GPT-4o's
/// o200k pre-tokenizer (cased word pieces, numbers in threes), whose GGUF ids must be transformers'.
#[test]
fn tiny_phi4mini_matches_pytorch_from_safetensors_and_from_llama_cpps_gguf() {
    folder_and_gguf_match("tiny-phi4mini");
}

/// The same tiny Phi-3 quantized: every scheme builds from the fused file and stays near the f32 answer
/// (a part split at the wrong rows would be off by units), and `native` on the F32 file is the f32 model.
#[test]
fn tiny_phi3_runs_under_every_scheme() {
    let dir = fixture("tiny-phi3");
    let golden = prompts(&dir.join("golden.json"));
    for path in [dir.clone(), dir.join("model.gguf")] {
        for (scheme, tolerance) in [
            ("native", 1e-4),
            ("f16", 0.05),
            ("int8", 0.3),
            ("q8_0", 0.3),
            ("w4a16-rtn-g32", 1.5),
        ] {
            if scheme == "native" && path.is_dir() {
                continue;
            }
            assert!(
                largest_difference(&path, None, scheme, &golden[..1], false) < tolerance,
                "{scheme}"
            );
        }
    }
}

/// A PEFT adapter on Phi-3's fused projections (qkv_proj, gate_up_proj) and o_proj/down_proj, against
/// PEFT's logits: merged into the f32 weights, and kept apart on the stored F32 file (`native`).
#[test]
fn tiny_phi3_with_a_lora_adapter_on_its_fused_projections_matches_peft() {
    let dir = fixture("tiny-phi3");
    let adapter = dir.join("adapter");
    let golden = prompts(&adapter.join("golden.json"));
    for (path, scheme) in [
        (dir.clone(), "f32"),
        (dir.join("model.gguf"), "f32"),
        (dir.join("model.gguf"), "native"),
    ] {
        assert!(
            largest_difference(&path, Some(&adapter), scheme, &golden, false) < 1e-4,
            "{scheme}"
        );
    }
    // The same adapter as llama.cpp's convert_lora_to_gguf.py writes it (fused attn_qkv and ffn_up).
    let llama_cpps = dir.join("adapter.gguf");
    assert!(largest_difference(&dir.join("model.gguf"), Some(&llama_cpps), "native", &golden, false) < 1e-4);
}
