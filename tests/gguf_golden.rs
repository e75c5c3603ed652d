//! The project's Q8_0 / Q4_0 / Q4_1 quantizers produce the same bytes as the reference quantizers of
//! the PyPI package `gguf` (tests/fixtures/gguf_blocks.json, made by scripts/make_gguf_golden.py).

mod common;

use shakedown::engine::gguf::{dequantize, quantize, BlockFormat};

#[test]
fn block_bytes_equal_the_gguf_reference_on_random_and_adversarial_tensors() {
    let fx = common::fixture("gguf_blocks.json");
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let x: Vec<f32> = case["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        for (label, format) in [
            ("Q8_0", BlockFormat::Q8_0),
            ("Q4_0", BlockFormat::Q4_0),
            ("Q4_1", BlockFormat::Q4_1),
        ] {
            let mut bytes = Vec::new();
            quantize(format, &x, &mut bytes);
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, case["bytes"][label].as_str().unwrap(), "{label} on {name}");
            let mut back = vec![0.0f32; x.len()];
            dequantize(format, &bytes, &mut back);
            assert!(back.iter().all(|v| v.is_finite()), "{label} on {name}");
        }
    }
}
