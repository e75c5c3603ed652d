//! The project's Q8_0 / Q4_0 / Q4_1 quantizers produce the same bytes as the reference quantizers of
//! the PyPI package `gguf` (tests/fixtures/gguf_blocks.json, made by scripts/make_gguf_golden.py), and
//! its Q4_K quantizer, Q8_K activation quantizer and Q4_K x Q8_K dot agree with ggml's own
//! (tests/fixtures/q4k_blocks.json, made by scripts/make_q4k_golden.py).

mod common;

use shakedown::engine::kernels::Kernels;
use shakedown::engine::quant::blocks::q4k;
use shakedown::engine::quant::blocks::{dequantize, quantize, BlockFormat};

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

#[test]
fn block_bytes_equal_the_gguf_reference_on_random_and_adversarial_tensors() {
    let fx = common::fixture("gguf_blocks.json");
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let x = floats(&case["input"]);
        for (label, format) in [
            ("Q8_0", BlockFormat::Q8_0),
            ("Q4_0", BlockFormat::Q4_0),
            ("Q4_1", BlockFormat::Q4_1),
        ] {
            let mut bytes = Vec::new();
            quantize(format, &x, &mut bytes);
            assert_eq!(hex(&bytes), case["bytes"][label].as_str().unwrap(), "{label} on {name}");
            let mut back = vec![0.0f32; x.len()];
            dequantize(format, &bytes, &mut back);
            assert!(back.iter().all(|v| v.is_finite()), "{label} on {name}");
        }
    }
}

#[test]
fn q4_k_bytes_equal_ggml_and_dequantize_like_gguf_py_on_random_and_adversarial_tensors() {
    let fx = common::fixture("q4k_blocks.json");
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let x = floats(&case["input"]);
        assert_eq!(x.len() % 256, 0, "{name}");
        let mut bytes = Vec::new();
        quantize(BlockFormat::Q4K, &x, &mut bytes);
        assert_eq!(bytes.len(), x.len() / 256 * 144, "{name}");
        assert_eq!(hex(&bytes), case["q4_k"].as_str().unwrap(), "Q4_K bytes on {name}");
        let mut back = vec![0.0f32; x.len()];
        dequantize(BlockFormat::Q4K, &bytes, &mut back);
        let want = floats(&case["dequantized"]);
        for (i, (g, w)) in back.iter().zip(&want).enumerate() {
            assert_eq!(g.to_bits(), w.to_bits(), "Q4_K dequantized {name}[{i}]: {g} vs {w}");
        }
    }
}

#[test]
fn q8_k_activations_equal_ggml_and_the_q4_k_dot_matches_ggml_vec_dot() {
    let fx = common::fixture("q4k_blocks.json");
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
        quantize(BlockFormat::Q4K, &floats(&case["input"]), &mut w);
        // ggml sums the per-block floats in another order: equal up to f32 rounding.
        let want = case["dot"].as_f64().unwrap();
        let acts = shakedown::engine::quant::blocks::quantize_activations(BlockFormat::Q4K, &act);
        for k in Kernels::available() {
            let got = k.dot_gguf(&w, &acts) as f64;
            assert!(
                (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                "{} dot on {name}: {got} vs ggml {want}",
                k.name()
            );
        }
    }
}
