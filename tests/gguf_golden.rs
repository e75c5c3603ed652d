//! The project's llama.cpp block formats against the references, on random and adversarial rows:
//! - Q8_0, Q4_0, Q4_1, Q5_0, Q5_1: quantized bytes equal to the reference quantizers of the PyPI package
//!   `gguf` (`gguf.quants`, mirroring ggml's `quantize_row_*_ref`) and dequantized floats equal to
//!   `gguf.quants.dequantize` bit for bit (tests/fixtures/gguf_blocks.json, scripts/make_gguf_golden.py);
//! - Q4_K, Q5_K, Q6_K: bytes equal to ggml's own reference quantizers, dequantized floats equal to
//!   `gguf.quants.dequantize`, Q8_K activations equal to ggml's, and block dots within f32 rounding of
//!   ggml's `vec_dot` (tests/fixtures/q{4,5,6}k_blocks.json, scripts/make_ggml_golden.py);
//! - the Q8_0 / Q8_1 activations of the 32-weight formats equal to ggml's reference quantizers and their
//!   block dots within f32 rounding of ggml's `vec_dot` (tests/fixtures/ggml_dots.json).

mod common;

use shakedown::engine::kernels::Kernels;
use shakedown::engine::quant::blocks::q4k;
use shakedown::engine::quant::blocks::{dequantize_row, quantize, quantize_activations, quantize_q8_row, BlockFormat};

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `dequantize_row` of `bytes` equals the reference floats bit for bit (signed zeros included).
fn assert_dequantizes_to(format: BlockFormat, bytes: &[u8], want: &[f32], what: &str) {
    let mut back = vec![f32::NAN; want.len()];
    dequantize_row(format, bytes, &mut back).unwrap();
    for (i, (g, w)) in back.iter().zip(want).enumerate() {
        assert_eq!(
            g.to_bits(),
            w.to_bits(),
            "{} dequantized {what}[{i}]: {g} vs {w}",
            format.name()
        );
    }
}

/// Every kernel table's dot of `w` with `act` (quantized for `format`) is within f32 rounding of ggml's.
fn assert_dot_matches_ggml(format: BlockFormat, w: &[u8], act: &[f32], want: f64, what: &str) {
    let acts = quantize_activations(format, act);
    for k in Kernels::available() {
        let got = k.dot_gguf(w, &acts) as f64;
        // ggml sums the per-block floats in another order: equal up to f32 rounding.
        assert!(
            (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
            "{} {} dot on {what}: {got} vs ggml {want}",
            k.name(),
            format.name()
        );
    }
}

const SMALL: [(&str, BlockFormat); 5] = [
    ("Q8_0", BlockFormat::Q8_0),
    ("Q4_0", BlockFormat::Q4_0),
    ("Q4_1", BlockFormat::Q4_1),
    ("Q5_0", BlockFormat::Q5_0),
    ("Q5_1", BlockFormat::Q5_1),
];

#[test]
fn block_bytes_and_dequantized_floats_equal_gguf_py_on_random_and_adversarial_tensors() {
    let fx = common::fixture("gguf_blocks.json");
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 16);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let x = floats(&case["input"]);
        for (label, format) in SMALL {
            let mut bytes = Vec::new();
            quantize(format, &x, &mut bytes);
            assert_eq!(hex(&bytes), case["bytes"][label].as_str().unwrap(), "{label} on {name}");
            assert_dequantizes_to(format, &bytes, &floats(&case["dequantized"][label]), name);
        }
    }
}

#[test]
fn k_quant_bytes_equal_ggml_and_dequantize_like_gguf_py_on_random_and_adversarial_tensors() {
    for (fixture, key, format) in [
        ("q4k_blocks.json", "q4_k", BlockFormat::Q4K),
        ("q5k_blocks.json", "q5_k", BlockFormat::Q5K),
        ("q6k_blocks.json", "q6_k", BlockFormat::Q6K),
    ] {
        let fx = common::fixture(fixture);
        let cases = fx["cases"].as_array().unwrap();
        assert!(cases.len() >= 19, "{fixture}");
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let x = floats(&case["input"]);
            assert_eq!(x.len() % 256, 0, "{name}");
            let mut bytes = Vec::new();
            quantize(format, &x, &mut bytes);
            assert_eq!(Some(bytes.len()), format.row_bytes(x.len()), "{name}");
            assert_eq!(hex(&bytes), case[key].as_str().unwrap(), "{key} bytes on {name}");
            assert_dequantizes_to(format, &bytes, &floats(&case["dequantized"]), name);
        }
    }
}

#[test]
fn q8_k_activations_equal_ggml_and_the_k_quant_dots_match_ggml_vec_dot() {
    for (fixture, format) in [
        ("q4k_blocks.json", BlockFormat::Q4K),
        ("q5k_blocks.json", BlockFormat::Q5K),
        ("q6k_blocks.json", BlockFormat::Q6K),
    ] {
        let fx = common::fixture(fixture);
        for case in fx["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let act = floats(&case["activation"]);
            let row = q4k::quantize_q8k_row(&act);
            // block_q8_K: f32 d, 256 x i8, 16 x i16, little-endian.
            let mut q8k = Vec::new();
            for b in 0..row.d.len() {
                q8k.extend_from_slice(&row.d[b].to_le_bytes());
                q8k.extend(row.q[b * 256..(b + 1) * 256].iter().map(|&q| q as u8));
                for s in &row.bsums[b * 16..(b + 1) * 16] {
                    q8k.extend_from_slice(&s.to_le_bytes());
                }
            }
            assert_eq!(hex(&q8k), case["q8_k"].as_str().unwrap(), "Q8_K bytes on {name}");
            let mut w = Vec::new();
            quantize(format, &floats(&case["input"]), &mut w);
            assert_dot_matches_ggml(format, &w, &act, case["dot"].as_f64().unwrap(), name);
        }
    }
}

#[test]
fn q8_0_and_q8_1_activations_equal_ggml_and_the_32_weight_dots_match_ggml_vec_dot() {
    let fx = common::fixture("ggml_dots.json");
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 6);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (x, act) = (floats(&case["input"]), floats(&case["activation"]));
        let row = quantize_q8_row(&act);
        let f16 = |v: f32| half::f16::from_f32(v).to_le_bytes();
        for (label, format) in SMALL {
            let want = &case["formats"][label];
            // block_q8_0: f16 d + 32 x i8; block_q8_1: f16 d, f16 s + 32 x i8 (the pairing ggml's CPU
            // backend makes: Q8_1 for Q4_1 and Q5_1).
            let with_s = matches!(format, BlockFormat::Q4_1 | BlockFormat::Q5_1);
            let mut bytes = Vec::new();
            for b in 0..row.d.len() {
                bytes.extend_from_slice(&f16(row.d[b]));
                if with_s {
                    bytes.extend_from_slice(&f16(row.s[b]));
                }
                bytes.extend(row.q[b * 32..(b + 1) * 32].iter().map(|&q| q as u8));
            }
            assert_eq!(
                hex(&bytes),
                want["activation_bytes"].as_str().unwrap(),
                "{label} activations on {name}"
            );
            let mut w = Vec::new();
            quantize(format, &x, &mut w);
            assert_dot_matches_ggml(format, &w, &act, want["dot"].as_f64().unwrap(), name);
        }
    }
}
