//! `shakedown run` on the default decoder suite (warehouse-parse) with the real SmolLM2 file on two
//! examples: extraction metrics per scheme x condition, and a sustain phase that measures what a
//! decoder's user waits for (generated tokens/s, time to first token, request latency) in the
//! summary, throughput.parquet, `shakedown sustain`'s table and the report.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::text;

/// `shakedown CMD` on two examples of warehouse-parse with the bare SmolLM2 file under `native`,
/// one second of sustained load, writing to `out`; `extra` arguments follow.
fn shakedown(cmd: &str, out: &Path, extra: &[&str]) -> Output {
    let model = common::decoder_gguf("smollm2");
    let mut args = vec![
        cmd,
        "--suite",
        "suites/warehouse-parse",
        "--model",
        model.to_str().unwrap(),
        "--schemes",
        "native",
        "--limit",
        "2",
        "--sustain-seconds",
        "1",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(&args)
        .current_dir(common::root())
        .output()
        .unwrap()
}

/// `shakedown run` on a suite folder a test wrote, without the sustain phase, writing to `out`.
fn run_suite(suite: &Path, out: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(["run", "--suite"])
        .arg(suite)
        .args(args)
        .args(["--no-sustain", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn a_decoder_run_measures_extraction_and_generation_under_load() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    // --model replaces the suite's base + adapter with the bare base file (the adapter's quality is
    // not what this test is about), so the suite's gate may fail: exit 0 or 1, never 2.
    let o = shakedown("run", &out, &["--corruptions", "asr:1"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let s = &summary["schemes"][0];
    for m in [
        "exact_match",
        "field_accuracy",
        "invalid_rate",
        "field_accuracy.direction",
    ] {
        assert!(s["clean"]["metrics"][m]["value"].is_number(), "{m}: {s}");
    }
    let t = &s["throughput"];
    let gen = t["sustained_generated_tokens_per_s"].as_f64().unwrap();
    let (p50, p95) = (t["ttft_p50_ms"].as_f64().unwrap(), t["ttft_p95_ms"].as_f64().unwrap());
    let request = t["request_p95_ms"].as_f64().unwrap();
    assert!(gen > 0.0 && p50 > 0.0, "{t}");
    assert!(p50 <= p95 && p95 <= request, "first token before the last: {t}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("time to first token"), "the report's generation table");
    // The tables keep the per-window figures, and `report` recomputes the same summary from them.
    let before = std::fs::read(out.join("summary.json")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(["report", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), before);
}

#[test]
fn sustain_prints_the_generation_table_for_a_decoder() {
    let tmp = tempfile::tempdir().unwrap();
    let o = shakedown("sustain", &tmp.path().join("run"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("TTFT p95 ms") && stdout.contains("gen tok/s"),
        "{stdout}"
    );
}

#[test]
fn inspect_scores_a_decoder_scheme_token_by_token_against_f32() {
    let model = common::decoder_gguf("smollm2");
    let o = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args([
            "inspect",
            "--suite",
            "suites/warehouse-parse",
            "--model",
            model.to_str().unwrap(),
            "--scheme",
            "native",
            "--json",
        ])
        .current_dir(common::root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["streams"], 16);
    assert!(v["positions"].as_u64().unwrap() > 16 * 20, "{v}");
    // The prompts share their opening ("Reply with the command as JSON." ...): scored once, not 16 times.
    assert!(v["repeated"].as_u64().unwrap() >= 15 * 5, "{v}");
    // native runs the file's own Q4_1 blocks; f32 is their dequantized values, so the two differ only by
    // native's 8-bit activation rounding: measured mean KL 0.0039 and 96.3 % same top-1 token.
    let (kl, top1) = (v["mean_kl"].as_f64().unwrap(), v["same_top1"].as_f64().unwrap());
    assert!(kl > 0.0 && kl < 0.02 && top1 > 0.9, "{v}");
    let (ppl, ppl_ref) = (
        v["perplexity"].as_f64().unwrap(),
        v["perplexity_reference"].as_f64().unwrap(),
    );
    assert!((ppl / ppl_ref - 1.0).abs() < 0.05, "{v}");
}

#[test]
fn the_smallest_scheme_counts_the_output_head_a_decoder_ships() {
    // int8 quantizes the blocks' Linears but keeps SmolLM2's tied 49,152 x 576 head in f32 (113 MB, as
    // its runtimes do); q4_0 and the file as stored (`native`, Q4_1 blocks) keep it as the file stores it,
    // in Q8_0 (30 MB), as `export --scheme q4_0` writes it.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let model = common::decoder_gguf("smollm2");
    let o = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(["run", "--suite", "suites/warehouse-parse", "--model"])
        .arg(&model)
        .args([
            "--schemes",
            "int8,q4_0,native",
            "--limit",
            "1",
            "--corruptions",
            "none",
            "--no-sustain",
        ])
        .args(["--recommend", "smallest", "--policy", "any", "--out"])
        .arg(&out)
        .current_dir(common::root())
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let w = |i: usize, k: &str| summary["schemes"][i]["weights"][k].as_u64().unwrap();
    let head = |i: usize| summary["schemes"][i]["weights"]["head"].as_str().unwrap().to_string();
    let (head_f32, head_q8) = (49_152 * 576 * 4, 49_152 * 576 / 32 * 34);
    assert_eq!(w(0, "model_bytes"), w(0, "weight_bytes") + head_f32, "int8: f32 head");
    assert_eq!(
        w(1, "model_bytes"),
        w(1, "weight_bytes") + head_q8,
        "q4_0: Q8_0 head, 34 bytes a block of 32"
    );
    assert_eq!(w(2, "model_bytes"), w(2, "weight_bytes") + head_q8, "native: Q8_0 head");
    assert_eq!([head(0), head(1), head(2)], ["f32", "q8_0", "q8_0"]);
    assert!(
        w(1, "weight_bytes") < w(2, "weight_bytes"),
        "4.5 against 5 bits a weight"
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("output head (not the scheme's): int8 f32, q4_0 q8_0, native q8_0"),
        "{stdout}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("head q8_0"), "the report names the head format");
    if summary["gate"]["schemes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["passed"] == true)
    {
        assert!(stdout.contains("recommended: q4_0"), "{stdout}");
    }
}

#[test]
fn an_input_longer_than_the_context_is_refused_before_any_scheme_answers() {
    // The clean text (32,669 characters, some 6,900 tokens) fits SmolLM2's 8,192; its typo variant at
    // severity 5 (misspelt words split into more tokens: some 12,000) does not. The decoder would refuse
    // it only when that family's turn came, after the first scheme had answered the clean inputs; the
    // run refuses it up front and names it.
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("suite");
    std::fs::create_dir(&suite).unwrap();
    let model = common::decoder_gguf("smollm2");
    std::fs::write(
        suite.join("suite.toml"),
        format!(
            "name = \"long\"\ntask = \"extract\"\ndata = [\"data.jsonl\"]\nmodel = {model:?}\n\
             [prompt]\ntemplate = \"Command: {{{{ text }}}}\\nJSON:\"\n\
             [extract]\nfields = [\"action\"]\nmax_tokens = 16\n"
        ),
    )
    .unwrap();
    let long = ["stop the pallet at bay seven and"; 990].join(" ");
    let line = |id: &str, text: &str| {
        format!(
            "{{\"id\": \"{id}\", \"split\": \"test\", \"text\": \"{text}\", \"fields\": {{\"action\": \"stop\"}}}}\n"
        )
    };
    std::fs::write(suite.join("data.jsonl"), line("short", "stop") + &line("long", &long)).unwrap();
    let out = tmp.path().join("run");
    let o = run_suite(&suite, &out, &["--schemes", "native,int8", "--corruptions", "typo:5"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        err.contains("example long: the request for its typo variant at severity 5 needs"),
        "{err}"
    );
    assert!(err.contains("more than the model's context of 8192"), "{err}");
    assert!(!err.contains("evaluating"), "no scheme answered: {err}");
    assert!(!out.exists(), "no run directory is left behind");
}

/// A `max_tokens` that cannot hold the suite's own answers would read as 100 % invalid JSON, a figure
/// about the setting and not the model: refused before the run, naming the example and the count.
#[test]
fn a_max_tokens_too_small_for_the_expected_answers_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("suite");
    std::fs::create_dir(&suite).unwrap();
    let model = common::decoder_gguf("smollm2");
    let toml = |max: usize| {
        format!(
            "name = \"short\"\ntask = \"extract\"\ndata = [\"data.jsonl\"]\nmodel = {model:?}\n\
             [prompt]\ntemplate = \"Command: {{{{ text }}}}\\nJSON:\"\n\
             [extract]\nfields = [\"action\", \"place\"]\nmax_tokens = {max}\n"
        )
    };
    std::fs::write(
        suite.join("data.jsonl"),
        "{\"id\": \"a\", \"split\": \"test\", \"text\": \"stop at bay seven\", \"fields\": {\"action\": \"stop\", \"place\": \"bay\"}}\n",
    )
    .unwrap();
    std::fs::write(suite.join("suite.toml"), toml(4)).unwrap();
    let out = tmp.path().join("run");
    let o = run_suite(&suite, &out, &["--schemes", "native", "--corruptions", "none"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        err.contains("field extract.max_tokens: 4 tokens cannot hold the expected answer of example a"),
        "{err}"
    );
    assert!(!out.exists(), "no run directory is left behind");
    std::fs::write(suite.join("suite.toml"), toml(32)).unwrap();
    let o = run_suite(&suite, &out, &["--schemes", "native", "--corruptions", "none"]);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    // The bare model (no adapter) under a plain prompt writes on past its JSON: the answer the limit
    // stopped is counted, recorded and said wherever the figures are read.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["meta"]["schemes"][0]["answers_cut_off"], 1, "{}", text(&o));
    let warning = "native: 1 of 1 answers reached the token limit before their JSON was whole";
    assert!(String::from_utf8_lossy(&o.stdout).contains(warning), "{}", text(&o));
    for file in ["report.html", "summary.md"] {
        let body = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(body.contains(warning), "{file}");
    }
    // Shards count their own answers and `merge` adds them up to the whole run's count.
    let cut_off = |dir: &Path| -> serde_json::Value {
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
        s["meta"]["schemes"][0]["answers_cut_off"].clone()
    };
    let noisy = ["--schemes", "native", "--corruptions", "typo:1"];
    let whole = tmp.path().join("whole");
    assert!(run_suite(&suite, &whole, &noisy).status.code().unwrap_or(3) <= 1);
    let shards: Vec<PathBuf> = (1..=2)
        .map(|k| {
            let dir = tmp.path().join(format!("shard{k}"));
            let shard = format!("{k}/2");
            let o = run_suite(&suite, &dir, &[&noisy[..], &["--shard", shard.as_str()]].concat());
            assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
            dir
        })
        .collect();
    let merged = tmp.path().join("merged");
    let o = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    assert_eq!(cut_off(&merged), cut_off(&whole));
    assert_eq!(cut_off(&whole), 2, "the clean answer and its typo variant");
}

#[test]
fn json_decoding_writes_only_the_suites_values_even_where_a_token_splits_a_character() {
    // Three typo variants (typo:3, seed 1) on which SmolLM2 with the suite's adapter reached for a
    // byte-level token that starts a multi-byte character: judged on complete characters, the token
    // passed as the empty string, and nothing after the broken character was checked ("place":
    // "c\u{fffd}" then text up to max_tokens). Judged on bytes, every value is the suite's.
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("suite");
    std::fs::create_dir(&suite).unwrap();
    let toml = std::fs::read_to_string(common::root().join("suites/warehouse-parse/suite.toml")).unwrap();
    let adapter = common::root().join("suites/warehouse-parse/adapter");
    let toml = toml
        .replace(
            "data = [\"data.jsonl\", \"handwritten.jsonl\"]",
            "data = [\"data.jsonl\"]",
        )
        .replace("splits = [\"handwritten\"]\n", "")
        .replace(
            "adapter = \"adapter\"",
            &format!("adapter = {:?}", adapter.to_str().unwrap()),
        )
        .lines()
        .filter(|l| !l.starts_with("sha256 = "))
        .map(|l| match l.starts_with("base = ") {
            true => format!("base = {:?}", common::decoder_gguf("smollm2").to_str().unwrap()),
            false => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(suite.join("suite.toml"), toml).unwrap();
    let texts = [
        "Svetlana here, there's the drum ofprinhter ink waitiNg at the rcaking tseny four, et it",
        "be a pak and run an inventoRy of zone  7",
        "go to shepving 54 straight away",
    ];
    let lines: String = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "{{\"id\": \"{i}\", \"split\": \"test\", \"text\": {t:?}, \"fields\": {{\"action\": \"go\", \
                 \"object\": null, \"direction\": null, \"place\": \"shelf\", \"number\": \"54\"}}}}\n"
            )
        })
        .collect();
    std::fs::write(suite.join("data.jsonl"), lines).unwrap();
    let out = tmp.path().join("run");
    let o = run_suite(
        &suite,
        &out,
        &["--schemes", "native", "--corruptions", "none", "--decoding", "json"],
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let (_, rows) = shakedown::analysis::tables::read_results(&out.join("results.parquet")).unwrap();
    let values = toml::from_str::<toml::Value>(
        &std::fs::read_to_string(common::root().join("suites/warehouse-parse/suite.toml")).unwrap(),
    )
    .unwrap()["extract"]["values"]
        .clone();
    assert_eq!(rows.len(), 3);
    for r in &rows {
        let raw = r.raw_output.as_deref().unwrap_or("");
        assert!(!raw.contains('\u{fffd}') && raw.ends_with('}'), "{raw:?}");
        let answer: serde_json::Map<String, serde_json::Value> = serde_json::from_str(raw).unwrap();
        for (field, allowed) in values.as_table().unwrap() {
            let got = &answer[field];
            let listed = allowed.as_array().unwrap().iter().any(|v| v.as_str() == got.as_str());
            assert!(got.is_null() || listed, "{field}: {got} in {raw}");
        }
    }
}
