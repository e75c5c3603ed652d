//! `shakedown bench --json` reports, per scheme, weight bytes and peak resident memory, and always the
//! f32 baseline its ratios divide by.

mod common;

#[test]
fn bench_json_has_weight_bytes_and_peak_rss_per_scheme() {
    let out = common::shakedown(&[
        "bench",
        "--schemes",
        "q4_k",
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
    // Kernel and end-to-end rows for each scheme, f32 among them though not asked for: the ratios'
    // baseline is shown.
    assert_eq!(rows.len(), 4);
    for r in rows.iter().filter(|r| r["scheme"] == "f32") {
        assert_eq!(r["ratio_vs_f32"].as_f64().unwrap(), 1.0, "{r}");
    }
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

/// `bench --retrieval` adds queries/s (embed + search) and searches/s per index precision, each with
/// a ratio to f32 on the same precision; the index goes to `$SHAKEDOWN_CACHE/index`.
#[test]
fn bench_retrieval_reports_queries_per_second_per_index_precision() {
    let cache = tempfile::tempdir().unwrap();
    let quick = "bench --schemes f32,int8 --threads 1 --batches 1 --seconds 0.05 --retrieval --json";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(quick.split(' '))
        .env("SHAKEDOWN_CACHE", cache.path())
        .current_dir(common::root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let retrieval: Vec<&serde_json::Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["what"].as_str().unwrap().starts_with("retrieve"))
        .collect();
    // 3 precisions x 2 measures x 2 schemes.
    assert_eq!(retrieval.len(), 12);
    for precision in ["f32", "int8", "binary"] {
        for unit in ["queries/s", "searches/s"] {
            let of = |scheme: &str| {
                retrieval
                    .iter()
                    .find(|r| {
                        r["scheme"] == scheme
                            && r["unit"] == unit
                            && r["what"].as_str().unwrap().contains(&format!("{precision} idx"))
                    })
                    .unwrap()
            };
            assert!(of("f32")["value"].as_f64().unwrap() > 0.0);
            assert_eq!(of("f32")["ratio_vs_f32"].as_f64().unwrap(), 1.0);
            assert!(of("int8")["ratio_vs_f32"].as_f64().unwrap() > 0.0);
        }
    }
    assert_eq!(
        std::fs::read_dir(cache.path().join("index")).unwrap().count(),
        6,
        "2 schemes x 3 precisions"
    );
}

/// The file as stored costs about its own size in memory: block tensors are copied once and their mapped
/// pages given back, the vocabulary arrays of the metadata dropped once the tokenizer holds them. The
/// issue's goal is 1.3x the file; measured 1.38x here with this very command (1.33x for the model alone,
/// the rest is the process: binary, tokenizer, thread pool). The bound catches a regression such as the
/// mapped file staying resident beside the copy (1.9x before).
#[test]
fn native_decoder_peak_rss_stays_near_the_file_size() {
    let model = common::decoder_gguf("smollm2");
    let file_bytes = std::fs::metadata(&model).unwrap().len() as f64;
    let o = common::shakedown(&[
        "bench",
        "--model",
        model.to_str().unwrap(),
        "--schemes",
        "native",
        "--threads",
        "1",
        "--prompt-tokens",
        "16",
        "--gen-tokens",
        "8",
        "--sequences",
        "0",
        "--seconds",
        "0.2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let native = rows.iter().find(|r| r["scheme"] == "native").unwrap();
    if native["peak_rss_is_process"].as_bool() == Some(true) {
        return; // the kernel refused to reset the peak: the figure is the whole process's history
    }
    let Some(peak) = native["peak_rss_bytes"].as_f64() else {
        return; // no /proc here
    };
    let ratio = peak / file_bytes;
    assert!(ratio <= 1.5, "peak RSS {ratio:.2}x the file");
}

/// A decoder bench that could only spin (a prompt or a generation past the model's context) or only
/// allocate (a million sequences) is refused with exit 2, naming the flag.
#[test]
fn decoder_bench_sizes_past_the_model_are_refused() {
    let model = common::decoder_gguf("smollm2");
    let model = model.to_str().unwrap();
    for (flag, value) in [
        ("--prompt-tokens", "9000"),
        ("--gen-tokens", "9000"),
        ("--sequences", "1000000"),
    ] {
        let o = common::shakedown(&[
            "bench",
            "--model",
            model,
            "--schemes",
            "native",
            "--threads",
            "1",
            "--seconds",
            "0.1",
            flag,
            value,
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", common::text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains(flag) && !stderr.contains("panicked"), "{stderr}");
    }
}
