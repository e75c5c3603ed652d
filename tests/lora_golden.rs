//! LoRA adapters against PyTorch with `peft`: SmolLM2-135M-Instruct (f32, its GGUF dequantized) with the
//! warehouse-parse adapter: the engine's `f32` scheme (adapter merged into the f32 weights) within 1e-3
//! of peft's unmerged f32 logits, the base model without the adapter equally; and the `native` scheme's
//! unmerged adapter on the stored Q4_1 weights choosing peft's answer token wherever peft is sure. Fixtures: scripts/golden/make_lora_golden.py
//! (tests/fixtures/README.md); a retrained adapter needs new fixtures (the adapter's SHA-256 is checked).

mod common;

use serde_json::Value;
use shakedown::engine::decoding::log_sum_exp;
use shakedown::engine::load::model_source::sha256_file;
use shakedown::engine::{Model, ModelSource, Scheme};

/// Largest |engine - PyTorch| over every position's logsumexp, top-32 and 256 sampled logits.
fn worst_difference(model: &Model, fixture: &Value) -> (f64, String) {
    let d = model.decoder().expect("a decoder");
    let vocab: Vec<usize> = fixture["vocab_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let mut worst = (0.0f64, String::new());
    for (n, input) in fixture["inputs"].as_array().unwrap().iter().enumerate() {
        let ids: Vec<u32> = input["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        let logits = d.sequence_logits(&ids).unwrap();
        for (pos, p) in input["positions"].as_array().unwrap().iter().enumerate() {
            let row = logits.row(pos);
            let mut note = |got: f64, want: f64, what: &str| {
                let diff = (got - want).abs();
                if diff > worst.0 {
                    worst = (diff, format!("input {n} position {pos} {what}"));
                }
            };
            note(log_sum_exp(row), p["logsumexp"].as_f64().unwrap(), "logsumexp");
            for t in p["top"].as_array().unwrap() {
                let id = t[0].as_u64().unwrap() as usize;
                note(row[id] as f64, t[1].as_f64().unwrap(), &format!("id {id}"));
            }
            for (id, want) in vocab.iter().zip(p["sampled"].as_array().unwrap()) {
                note(row[*id] as f64, want.as_f64().unwrap(), &format!("sampled id {id}"));
            }
        }
    }
    worst
}

#[test]
fn adapter_logits_match_peft_and_base_logits_match_transformers() {
    let path = common::decoder_gguf("smollm2");
    let adapter_dir = common::root().join("suites/warehouse-parse/adapter");
    let lora = common::fixture("lora_golden_smollm2.json");
    assert_eq!(
        sha256_file(&adapter_dir.join("adapter_model.safetensors")).unwrap(),
        lora["adapter_sha256"].as_str().unwrap(),
        "the committed adapter is not the one the fixture was made with: rerun scripts/golden/make_lora_golden.py"
    );
    let base = ModelSource::open(&path).unwrap();
    let with_adapter = ModelSource::open(&path).unwrap().with_adapter(&adapter_dir).unwrap();

    let merged = Model::from_source(&with_adapter, Scheme::F32, &[]).unwrap();
    let (diff, at) = worst_difference(&merged, &lora);
    eprintln!("merged adapter vs peft: {diff:.2e} at {at}");
    assert!(diff <= 1e-3, "merged adapter: {diff:e} at {at}");

    let plain = Model::from_source(&base, Scheme::F32, &[]).unwrap();
    let (diff, at) = worst_difference(&plain, &common::fixture("base_golden_smollm2.json"));
    eprintln!("base vs transformers: {diff:.2e} at {at}");
    assert!(diff <= 1e-3, "base: {diff:e} at {at}");
    // The adapter changes the model: the base is far from peft's adapted logits.
    let (apart, _) = worst_difference(&plain, &lora);
    assert!(apart > 0.1, "base and adapted logits differ by only {apart}");

    // Native: the adapter unmerged on the stored 4-bit weights. Quantized, so not to a tolerance: the
    // top token must be peft's wherever peft's top-1 leads its top-2 by more than 1 logit.
    let native = Model::from_source(&with_adapter, Scheme::Native, &[]).unwrap();
    let d = native.decoder().unwrap();
    let (mut checked, mut same) = (0, 0);
    for input in lora["inputs"].as_array().unwrap() {
        let ids: Vec<u32> = input["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        let logits = d.sequence_logits(&ids).unwrap();
        for (pos, p) in input["positions"].as_array().unwrap().iter().enumerate() {
            let top = p["top"].as_array().unwrap();
            if top[0][1].as_f64().unwrap() - top[1][1].as_f64().unwrap() > 1.0 {
                checked += 1;
                same += (shakedown::engine::decoding::argmax(logits.row(pos)) as u64 == top[0][0].as_u64().unwrap())
                    as usize;
            }
        }
    }
    eprintln!("native + unmerged adapter: peft's top-1 at {same} of {checked} confident positions");
    assert!(
        checked >= 10 && same == checked,
        "native + adapter: {same} of {checked}"
    );
}

/// A request's greedy answer does not depend on the requests decoded beside it: the same five commands
/// generated together (continuous batching, a shared prompt prefix, passes of many rows) and one by one
/// (passes of one row) give the same text, through the Q4_1 weights and the unmerged adapter.
#[test]
fn an_answer_is_the_same_alone_and_in_a_batch() {
    use shakedown::engine::{ChatMessage, GenerateRequest, Sampling};
    let adapter_dir = common::root().join("suites/warehouse-parse/adapter");
    let source = ModelSource::open(&common::decoder_gguf("smollm2"))
        .unwrap()
        .with_adapter(&adapter_dir)
        .unwrap();
    let model = Model::from_source(&source, Scheme::Native, &[]).unwrap();
    let d = model.decoder().unwrap();
    let commands = [
        "move the pallet left of bay seven",
        "hey unit four go charge",
        "scan the tote at aisle 12",
        "stop",
        "lift the forks to level three please",
    ];
    let request = |c: &str| {
        let messages = [
            ChatMessage {
                role: "system".into(),
                content: "Reply with the command as JSON.".into(),
            },
            ChatMessage {
                role: "user".into(),
                content: format!("Command: {c}"),
            },
        ];
        GenerateRequest {
            prompt: d.chat_prompt(&messages).unwrap().unwrap(),
            max_tokens: 40,
            stop: vec!["\n\n".into()],
            sampling: Sampling::Greedy,
            constraint: None,
        }
    };
    let together: Vec<String> = d
        .generate(&commands.map(request))
        .unwrap()
        .into_iter()
        .map(|g| g.text)
        .collect();
    for (c, t) in commands.iter().zip(&together) {
        let alone = d.generate(&[request(c)]).unwrap().remove(0).text;
        assert_eq!(&alone, t, "{c:?} alone vs in the batch");
        assert!(t.contains("\"action\""), "{c:?}: {t}");
    }
    // More requests than the engine decodes at once (64): finished sequences hand their slots to the
    // waiting ones, which join mid-stream beside sequences half-way through their answers.
    let many: Vec<GenerateRequest> = (0..70).map(|i| request(commands[i % commands.len()])).collect();
    for (i, g) in d.generate(&many).unwrap().into_iter().enumerate() {
        assert_eq!(g.text, together[i % commands.len()], "request {i} of 70");
    }
}
