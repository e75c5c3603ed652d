//! The engine against PyTorch reference outputs (tests/fixtures, produced by scripts/make_golden.py).

mod common;

use shakedown::engine::{LanguageModel, Model, ModelFiles, Scheme};

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn minilm_embeddings_match_sentence_transformers() {
    let fx = common::fixture("minilm_embeddings.json");
    let files = ModelFiles::load(&common::minilm_dir()).unwrap();
    assert_eq!(files.max_len as u64, fx["max_seq_length"].as_u64().unwrap());
    let model = Model::build(&files, Scheme::F32).unwrap();
    let inputs: Vec<&str> = fx["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(inputs.len() >= 20);
    // Batched (mixed lengths in one batch) and one at a time must both match the reference, and each
    // other bit for bit: every product sums in an order that does not depend on the other rows.
    let batched = model.embeddings(&inputs).unwrap();
    let mut worst = 0.0f32;
    let counts = model.tokenize(&inputs).unwrap();
    for (i, want) in fx["embeddings"].as_array().unwrap().iter().enumerate() {
        let want = floats(want);
        assert_eq!(
            counts[i].len() as u64,
            fx["token_counts"][i].as_u64().unwrap(),
            "token count of input {i}"
        );
        let d = max_abs_diff(&batched[i], &want);
        assert!(d <= 1e-4, "input {i} {:?}: max abs diff {d}", inputs[i]);
        worst = worst.max(d);
        let single = model.embeddings(&[inputs[i]]).unwrap();
        assert_eq!(single[0], batched[i], "input {i}: alone and in a batch");
    }
    eprintln!("MiniLM f32: largest |engine - PyTorch| {worst:.2e}");
}

#[test]
fn default_model_logits_match_transformers() {
    let fx = common::fixture("default_model_logits.json");
    let files = ModelFiles::load(&common::default_model()).unwrap();
    let model = Model::build(&files, Scheme::F32).unwrap();
    let labels: Vec<&str> = fx["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(model.labels(), labels.as_slice());
    let inputs: Vec<&str> = fx["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let got = model.logits(&inputs).unwrap();
    for (i, want) in fx["logits"].as_array().unwrap().iter().enumerate() {
        let d = max_abs_diff(&got[i], &floats(want));
        assert!(d <= 1e-4, "input {i} {:?}: max abs diff {d}", inputs[i]);
    }
}

enum Bound {
    MaxAbs(f32),
    MinCosine(f32),
}

/// int8 (W8A8) and w4a16-rtn-g128 against the same schemes simulated in PyTorch: the packed integer
/// kernels must compute what the scheme defines. Weight-only int4 is deterministic given the weights,
/// so it must match to 1e-4. W8A8 re-rounds every activation: a last-bit float difference flips a
/// rounding now and then, and the flips compound over six layers. The PyTorch simulation itself, run
/// in f64 instead of f32, agrees with its f32 run only to cosine 0.997 on these inputs (measured with
/// the scripts/make_golden.py functions), so int8 is held to cosine >= 0.995 to the simulation; a real
/// kernel bug (a wrong scale, a wrong nibble) gives cosines far below that.
#[test]
fn quantized_minilm_matches_the_pytorch_simulation_of_each_scheme() {
    let fx = common::fixture("minilm_quantized_embeddings.json");
    let files = ModelFiles::load(&common::minilm_dir()).unwrap();
    let inputs: Vec<&str> = fx["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for (name, bound) in [
        ("int8", Bound::MinCosine(0.995)),
        ("w4a16-rtn-g128", Bound::MaxAbs(1e-4)),
    ] {
        let scheme: Scheme = name.parse().unwrap();
        let model = Model::build(&files, scheme).unwrap();
        let (bytes, count) = model.linear_weight_stats();
        let max_bits = if name == "int8" { 8.1 } else { 4.3 };
        assert!(
            (bytes * 8) as f64 <= max_bits * count as f64,
            "{name}: {bytes} bytes for {count} weights is not packed"
        );
        let got = model.embeddings(&inputs).unwrap();
        for (i, want) in fx["embeddings"][name].as_array().unwrap().iter().enumerate() {
            let want = floats(want);
            let d = max_abs_diff(&got[i], &want);
            let cos: f32 = got[i].iter().zip(&want).map(|(a, b)| a * b).sum();
            match bound {
                Bound::MaxAbs(b) => assert!(d <= b, "{name} input {i} {:?}: max abs diff {d}", inputs[i]),
                Bound::MinCosine(b) => assert!(cos >= b, "{name} input {i} {:?}: cosine {cos}", inputs[i]),
            }
        }
    }
}

/// AWQ's claim on a real model: at the same bits and group size, activation-aware scales and clipping
/// keep the sentence embeddings closer to f32 than plain round-to-nearest.
#[test]
fn awq_keeps_minilm_closer_to_f32_than_rtn() {
    let files = ModelFiles::load(&common::minilm_dir()).unwrap();
    let suite = shakedown::suite::Suite::load(&common::default_suite()).unwrap();
    let calibration: Vec<&str> = suite
        .split("calibration")
        .iter()
        .take(64)
        .map(|e| e.text.as_str())
        .collect();
    let texts: Vec<&str> = suite.split("test").iter().take(48).map(|e| e.text.as_str()).collect();
    let reference = Model::build(&files, Scheme::F32).unwrap().embeddings(&texts).unwrap();
    let mean_cosine = |scheme: &str| {
        let model = Model::build_calibrated(&files, scheme.parse().unwrap(), &calibration).unwrap();
        let got = model.embeddings(&texts).unwrap();
        got.iter()
            .zip(&reference)
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>())
            .sum::<f32>()
            / texts.len() as f32
    };
    let (rtn, awq) = (mean_cosine("w4a16-rtn-g128"), mean_cosine("w4a16-awq-g128"));
    assert!(awq > rtn + 0.01, "AWQ mean cosine {awq} vs RTN {rtn}");
    assert!(
        Model::build(&files, "w4a16-awq-g128".parse().unwrap()).is_err(),
        "AWQ without calibration data is refused"
    );
}
