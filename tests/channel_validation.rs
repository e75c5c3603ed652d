//! The synthetic `ocr` family against the real tesseract channel, replayed from its recorded outputs on the
//! default suite's test split (tests/fixtures/ocr_channel_test.jsonl, made by scripts/ocr_channel.py): at each
//! severity both have the same CER, and the accuracy drop under the synthetic family is within the tolerance
//! stated in corruptions/README.md of the drop under the real channel (harsher by at most 9 points, milder by
//! at most 2).

mod common;

#[test]
fn synthetic_ocr_drop_matches_the_real_ocr_channel_within_tolerance() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    let o = common::shakedown(&[
        "run",
        "--schemes",
        "f32",
        "--no-sustain",
        "--corruptions",
        "ocr:1-5,channel:1-5",
        "--channel-cmd",
        "python3 scripts/replay_channel.py tests/fixtures/ocr_channel_test.jsonl --severity {severity}",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        o.status.code().unwrap_or(3) <= 1,
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let scheme = &summary["schemes"][0];
    let cells = |family: &str| -> Vec<serde_json::Value> {
        scheme["families"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["family"] == family)
            .unwrap()["severities"]
            .as_array()
            .unwrap()
            .clone()
    };
    let (synthetic, real) = (cells("ocr"), cells("channel"));
    assert_eq!((synthetic.len(), real.len()), (5, 5));
    for (s, r) in synthetic.iter().zip(&real) {
        let level = s["severity_lo"].as_u64().unwrap();
        let (s_cer, r_cer) = (s["mean_cer"].as_f64().unwrap(), r["mean_cer"].as_f64().unwrap());
        assert!(
            (s_cer - r_cer).abs() <= 0.01,
            "severity {level}: CER {s_cer:.3} vs real {r_cer:.3}"
        );
        let gap = s["drop"].as_f64().unwrap() - r["drop"].as_f64().unwrap();
        assert!(
            (-2.0..=9.0).contains(&gap),
            "severity {level}: synthetic drop {} vs real {} ({gap:+.1} points)",
            s["drop"],
            r["drop"]
        );
    }
}
