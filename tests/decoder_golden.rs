//! The decoder engine against references on real models (SmolLM2-135M-Instruct Q4_1 and
//! Gemma-3-270M Q4_K_M, fetched by scripts/fetch_model.sh): token ids against llama.cpp's tokenizer,
//! f32 logits against PyTorch, the file as stored against llama.cpp, and greedy generation through the
//! KV cache against llama.cpp on the F32 file. Fixtures and how they were made: tests/fixtures/README.md
//! (scripts/golden/make_decoder_golden.py).

mod common;

use serde_json::Value;
use shakedown::engine::decoding::{argmax, log_sum_exp};
use shakedown::engine::{Finish, GenerateRequest, LanguageModel, Model, ModelSource, Sampling, Scheme};

fn model(name: &str, scheme: &str) -> Model {
    let source = ModelSource::open(&common::decoder_gguf(name)).expect("open GGUF");
    let scheme: Scheme = scheme.parse().expect("scheme");
    Model::from_source(&source, scheme, &[]).expect("build")
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("ids")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("floats")
        .iter()
        .map(|x| x.as_f64().expect("float"))
        .collect()
}

fn tokenizer_matches_llama_cpp(name: &str) {
    let m = model(name, "native");
    let d = m.decoder().expect("a decoder");
    let fx = common::fixture(&format!("tokenizer_{name}.json"));
    let cases = fx["cases"].as_array().expect("cases");
    let mut wrong = Vec::new();
    for c in cases {
        let text = c["text"].as_str().expect("text");
        let want = ids(&c["ids"]);
        let got = d.encode(text).expect("encode");
        if got != want {
            wrong.push(format!("{text:?}: got {got:?}, llama.cpp {want:?}"));
        }
        // Rendering (control tokens written out) gives back the text llama.cpp detokenizes.
        let back = d.tokenizer.render(&want);
        let expected = c["detokenized"].as_str().expect("detokenized");
        if back != expected {
            wrong.push(format!("decode {text:?}: got {back:?}, llama.cpp {expected:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases differ:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn smollm2_tokenizer_matches_llama_cpp() {
    tokenizer_matches_llama_cpp("smollm2");
}

#[test]
fn gemma3_tokenizer_matches_llama_cpp() {
    tokenizer_matches_llama_cpp("gemma3");
}

/// Largest |engine - PyTorch| over the logsumexp, top-32 and probe logits of every position of every
/// prompt, with the engine's top-1 equal to PyTorch's wherever PyTorch's margin allows a verdict.
fn f32_logits_match_pytorch(name: &str, tolerance: f64) {
    let m = model(name, "f32");
    let d = m.decoder().expect("a decoder");
    let fx = common::fixture(&format!("decoder_f32_{name}.json"));
    let probe = ids(&fx["probe_ids"]);
    let mut worst = (0.0f64, String::new());
    let mut note = |diff: f64, what: String| {
        if diff > worst.0 {
            worst = (diff, what);
        }
    };
    for p in fx["prompts"].as_array().expect("prompts") {
        let name = p["name"].as_str().expect("name");
        let tokens = ids(&p["ids"]);
        let logits = d.sequence_logits(&tokens).expect("logits");
        let lse = floats(&p["lse"]);
        for (pos, want_lse) in lse.iter().enumerate() {
            let row = logits.row(pos);
            note(
                (log_sum_exp(row) - want_lse).abs(),
                format!("{name} pos {pos} logsumexp"),
            );
            let top_ids = ids(&p["top_ids"][pos]);
            let top_logits = floats(&p["top_logits"][pos]);
            for (id, want) in top_ids.iter().zip(&top_logits) {
                note(
                    (row[*id as usize] as f64 - want).abs(),
                    format!("{name} pos {pos} id {id}"),
                );
            }
            if top_logits[0] - top_logits[1] > 2.0 * tolerance {
                assert_eq!(
                    argmax(row) as u32,
                    top_ids[0],
                    "{name} pos {pos}: top-1 differs from PyTorch"
                );
            }
            let probe_logits = floats(&p["probe_logits"][pos]);
            for (id, want) in probe.iter().zip(&probe_logits) {
                note(
                    (row[*id as usize] as f64 - want).abs(),
                    format!("{name} pos {pos} probe id {id}"),
                );
            }
        }
    }
    eprintln!("{name}: largest |engine - PyTorch| {:.2e} at {}", worst.0, worst.1);
    assert!(
        worst.0 <= tolerance,
        "{name}: {:.2e} at {} exceeds {tolerance:e}",
        worst.0,
        worst.1
    );
}

#[test]
fn smollm2_f32_logits_match_pytorch() {
    f32_logits_match_pytorch("smollm2", 1e-3);
}

#[test]
fn gemma3_f32_logits_match_pytorch() {
    f32_logits_match_pytorch("gemma3", 1e-3);
}

/// Top-1 agreement with llama.cpp's distributions on the file as stored, and the KL divergence from
/// them, estimated over llama.cpp's top 128 tokens plus the rest lumped as one outcome.
fn agreement_with_llama_cpp(name: &str, scheme: &str) -> (f64, f64) {
    let m = model(name, scheme);
    let d = m.decoder().expect("a decoder");
    let fx = common::fixture(&format!("decoder_native_{name}.json"));
    let (mut positions, mut same, mut kl_sum) = (0usize, 0usize, 0.0f64);
    for p in fx["prompts"].as_array().expect("prompts") {
        let tokens = ids(&p["ids"]);
        let logits = d.sequence_logits(&tokens).expect("logits");
        let argmaxes = ids(&p["argmax"]);
        for (pos, want_top) in argmaxes.iter().enumerate() {
            let row = logits.row(pos);
            let lse = log_sum_exp(row);
            same += (argmax(row) as u32 == *want_top) as usize;
            let top_ids = ids(&p["top_ids"][pos]);
            let top_lp = floats(&p["top_logprobs"][pos]);
            let (mut kl, mut ref_mass, mut our_mass) = (0.0, 0.0, 0.0);
            for (id, lp) in top_ids.iter().zip(&top_lp) {
                let ours = row[*id as usize] as f64 - lse;
                kl += lp.exp() * (lp - ours);
                ref_mass += lp.exp();
                our_mass += ours.exp();
            }
            let (rest_ref, rest_ours) = ((1.0 - ref_mass).max(1e-12), (1.0 - our_mass).max(1e-12));
            kl += rest_ref * (rest_ref / rest_ours).ln();
            kl_sum += kl;
            positions += 1;
        }
    }
    let top1 = same as f64 / positions as f64;
    let mean_kl = kl_sum / positions as f64;
    eprintln!(
        "{name} {scheme} vs llama.cpp native: top-1 {:.1}% of {positions}, mean KL {mean_kl:.5}",
        100.0 * top1
    );
    (top1, mean_kl)
}

/// The file as stored (`native`: Q4_1 / Q4_K_M blocks, activations paired as ggml pairs them) against
/// llama.cpp on the same file. Quantized paths cannot be held to a tolerance (two llama.cpp builds differ
/// by up to 1.4 in a logit on these files: kernels and accumulation orders differ), so this compares
/// distributions: the engine's native run must agree with llama.cpp's on the top token almost everywhere
/// (the floor 0.93 is llama.cpp's own f32-vs-native top-1 on SmolLM2, 93.4 %) with a mean KL below 0.01.
/// Measured (AMD EPYC, AVX2): SmolLM2 native top-1 94.7 %, KL 0.0039 (the engine's f32: 93.4 %,
/// 0.0045); Gemma 3 native 94.1 %, KL 0.0063 (95.6 %, 0.0063 before its GELU was vectorised: two near-ties
/// flipped). llama.cpp's portable build against the AVX2 build that
/// made the fixtures (`scripts/peer/llama_build_agreement.py`): 95.4 %, 0.0040 and 95.6 %, 0.0060.
fn native_matches_llama_cpp(name: &str) -> (f64, f64) {
    let (top1, kl) = agreement_with_llama_cpp(name, "native");
    assert!(top1 >= 0.93, "{name}: top-1 agreement {top1:.3} below 0.93");
    assert!(kl <= 0.01, "{name}: mean KL {kl:.5} above 0.01");
    (top1, kl)
}

/// On SmolLM2 the native run is also closer to llama.cpp than the engine's f32 run, as a model of that
/// deployment must be. On Gemma 3 it was not when last compared (0.0064 vs 0.0061): an open gap
/// (ggml's f16 GELU table is one known difference; see the decoder issue's note), so Gemma is held to
/// the bounds above only.
#[test]
fn smollm2_native_matches_llama_cpp() {
    let (_, kl_native) = native_matches_llama_cpp("smollm2");
    let (_, kl_f32) = agreement_with_llama_cpp("smollm2", "f32");
    assert!(
        kl_native < kl_f32,
        "native is no closer to llama.cpp on the stored file (KL {kl_native:.5}) than f32 is ({kl_f32:.5})"
    );
}

#[test]
fn gemma3_native_matches_llama_cpp() {
    native_matches_llama_cpp("gemma3");
}

/// Greedy generation through the KV cache (prompt in one batch, then one token per step) gives the
/// tokens llama.cpp gives on the F32 file, up to the first end-of-generation token, where the engine stops.
fn greedy_matches_llama_cpp(name: &str) {
    let m = model(name, "f32");
    let d = m.decoder().expect("a decoder");
    let fx = common::fixture(&format!("decoder_greedy_{name}.json"));
    for p in fx["prompts"].as_array().expect("prompts") {
        let pname = p["name"].as_str().expect("name");
        let text = p["text"].as_str().expect("text");
        assert_eq!(
            d.encode(text).expect("encode"),
            ids(&p["prompt_ids"]),
            "{pname}: prompt ids"
        );
        let want = ids(&p["ids"]);
        let upto = p["first_eog"].as_u64().map_or(want.len(), |n| n as usize);
        let out = d
            .generate(&[GenerateRequest {
                prompt: text.to_string(),
                max_tokens: want.len(),
                stop: vec![],
                sampling: Sampling::Greedy,
                constraint: None,
            }])
            .expect("generate");
        assert_eq!(
            out[0].text,
            d.tokenizer.decode(&want[..upto]),
            "{pname}: greedy continuation"
        );
        // The end-of-generation token ends the generation and is neither text nor counted as output.
        assert_eq!(out[0].generated_tokens, upto, "{pname}: tokens generated");
        let finish = if upto < want.len() {
            Finish::EndOfSequence
        } else {
            Finish::Length
        };
        assert_eq!(out[0].finish, finish, "{pname}: finish");
    }
}

#[test]
fn smollm2_greedy_matches_llama_cpp() {
    greedy_matches_llama_cpp("smollm2");
}

#[test]
fn gemma3_greedy_matches_llama_cpp() {
    greedy_matches_llama_cpp("gemma3");
}

/// A continuation's score does not depend on the requests scored beside it: three requests together
/// (passes of many rows) and each alone (passes of few) give the same bits, for the f32 path (the
/// strip kernels, every output summed over its inputs in order), int8 (per-row integer dots, and the
/// f32 head), q4_0 and the file as stored (SmolLM2's Q4_1 / Q8_0, Gemma 3's K-quants), and wherever
/// else the model says so (`answers_alone`, which lets a run reuse an answer: w4a16 on AVX-512's int4
/// strips). Through the `gemm` crate, whose blocking follows the row count, the f32 scores differed in
/// their last bits, so an answer could move with `--limit`.
#[test]
fn a_score_is_the_same_alone_and_among_other_requests() {
    use shakedown::engine::LoglikelihoodRequest;
    let requests: Vec<LoglikelihoodRequest> = [
        (
            "The robot moved the pallet to the",
            vec![" left", " right of bay seven"],
        ),
        ("Scan the tote at aisle", vec![" 12", " twelve"]),
        ("Stop", vec!["!", " now please"]),
    ]
    .iter()
    .map(|(c, k)| LoglikelihoodRequest {
        context: c.to_string(),
        continuations: k.iter().map(|s| s.to_string()).collect(),
    })
    .collect();
    let cases = [
        ("smollm2", "f32", true),
        ("smollm2", "int8", true),
        ("smollm2", "native", true),
        ("smollm2", "q4_0", true),
        ("smollm2", "w4a16-rtn-g128", false),
        ("gemma3", "native", true),
    ];
    for (name, scheme, always) in cases {
        let m = model(name, scheme);
        assert!(
            m.answers_alone() || !always,
            "{name} {scheme}: should answer alone on every kernel table with strips"
        );
        if !m.answers_alone() {
            continue;
        }
        let d = m.decoder().expect("a decoder");
        let together = d.loglikelihood(&requests).expect("scores");
        for (r, want) in requests.iter().zip(&together) {
            let alone = d.loglikelihood(std::slice::from_ref(r)).expect("score").remove(0);
            assert_eq!(
                &alone, want,
                "{name} {scheme}: {:?} alone vs among the others",
                r.context
            );
        }
    }
}

/// Found by a review: an empty prompt where the tokenizer adds no start token (Qwen2's, Llama's) panicked
/// alone and, in a batch, took its first token from the sequence before it; a `max_tokens` near
/// `usize::MAX` wrapped past the context check and generated without bound. Both are refused now.
#[test]
fn an_empty_prompt_and_an_unbounded_generation_are_refused() {
    let source = ModelSource::open(&common::root().join("tests/fixtures/tiny-qwen2")).expect("open tiny-qwen2");
    let m = Model::from_source(&source, Scheme::F32, &[]).expect("build");
    let d = m.decoder().expect("a decoder");
    assert!(
        d.encode("").expect("encode").is_empty(),
        "tiny-qwen2 adds no start token"
    );
    let req = |prompt: &str, max_tokens: usize| GenerateRequest {
        prompt: prompt.into(),
        max_tokens,
        stop: vec![],
        sampling: Sampling::Greedy,
        constraint: None,
    };
    for batch in [
        vec![req("", 3)],
        vec![req("hello there", 3), req("", 3)],
        vec![req("hi", usize::MAX)],
    ] {
        let err = d.generate(&batch).map(|_| ()).expect_err("refused");
        assert!(err.is_user_error(), "{err}");
    }
    assert_eq!(
        d.generate(&[req("hello there", 3)]).expect("generate")[0].generated_tokens,
        3
    );
}
