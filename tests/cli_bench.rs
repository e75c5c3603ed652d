//! `shakedown bench --json` reports, per scheme, weight bytes and peak resident memory.

mod common;

#[test]
fn bench_json_has_weight_bytes_and_peak_rss_per_scheme() {
    let out = common::shakedown(&[
        "bench",
        "--schemes",
        "f32,q4_k",
        "--threads",
        "1",
        "--batches",
        "1",
        "--seconds",
        "0.05",
        "--json",
    ]);
    assert!(out.status.success(), "{}", common::text(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    // Kernel and end-to-end rows for each scheme.
    assert_eq!(rows.len(), 4);
    for r in rows {
        assert!(r["weight_bytes"].as_u64().unwrap() > 0, "{r}");
        let peak = r["peak_rss_bytes"].as_u64().unwrap();
        assert!(peak > 1 << 20, "{r}");
        assert!(
            ["scheme", "process"].contains(&r["peak_rss_scope"].as_str().unwrap()),
            "{r}"
        );
    }
    let bytes = |scheme: &str| {
        rows.iter()
            .find(|r| r["scheme"] == scheme && r["what"] == "end-to-end encoder")
            .and_then(|r| r["weight_bytes"].as_u64())
            .unwrap()
    };
    assert!(bytes("q4_k") * 4 < bytes("f32"));
}
