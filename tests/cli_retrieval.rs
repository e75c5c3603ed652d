//! `shakedown run` on the default retrieval suite (the README's command on a small `--limit`): exit 0,
//! the retrieval section in the report, every deployment in summary.json, the stored indexes reused by
//! a second run, the gate judging retrieval metrics by name, and `shakedown report` re-rendering the
//! same bytes.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::text;

/// The binary with its index folder in `cache`.
fn run_in(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(args)
        .env("SHAKEDOWN_CACHE", cache)
        .current_dir(common::root())
        .output()
        .expect("spawn shakedown")
}

/// `run` of `suite` with the MiniLM embedder under f32 (index folder in `tmp/cache`), `corruptions`,
/// into `out`.
fn run_f32(tmp: &Path, suite: &Path, corruptions: &str, extra: &[&str], out: &Path) -> Output {
    let model = common::minilm_dir();
    let mut args = vec![
        "run",
        "--suite",
        suite.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--schemes",
        "f32",
        "--corruptions",
        corruptions,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_in(&tmp.join("cache"), &args)
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn the_default_retrieval_suite_runs_reports_every_deployment_and_reuses_its_indexes() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let model = common::minilm_dir();
    let model = model.to_str().unwrap();
    let first = tmp.path().join("first");
    let args = |out: &Path| -> Vec<String> {
        [
            "run",
            "--suite",
            "suites/warehouse-sop-rag",
            "--model",
            model,
            "--schemes",
            "f32,int8",
            "--corruptions",
            "asr:2",
            "--limit",
            "12",
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let a = args(&first);
    let o = run_in(&cache, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("server-f32") && stdout.contains("asr nDCG@10"),
        "{stdout}"
    );

    let s = summary(&first);
    assert_eq!(s["meta"]["task"]["kind"], "retrieve");
    assert_eq!(s["meta"]["task"]["measures"][0], "recall@10");
    let r = &s["retrieval"];
    assert_eq!(r["meta"]["queries"], 12);
    assert_eq!(r["meta"]["chunks"], 216);
    // f32: one deployment per index precision; int8: each precision on its own and on the f32 corpus.
    let pooled = r["pooled"].as_array().unwrap();
    let deployments: std::collections::BTreeSet<(String, String, String)> = pooled
        .iter()
        .map(|c| {
            let f = |k: &str| c[k].as_str().unwrap().to_string();
            (f("scheme"), f("index"), f("shape"))
        })
        .collect();
    assert_eq!(deployments.len(), 3 + 6, "{deployments:?}");
    for c in pooled {
        let names: Vec<&str> = c["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["metric"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"]);
        let search = &c["search"];
        assert!(search["index_scan_bytes"].as_u64().unwrap() > 0, "{search}");
        assert!(search["search_ms_per_query"].as_f64().unwrap() > 0.0, "{search}");
    }
    let clean_f32 = pooled
        .iter()
        .find(|c| c["scheme"] == "f32" && c["index"] == "f32" && c["family"] == "clean")
        .unwrap();
    let ndcg = clean_f32["metrics"][4]["value"]["mean"].as_f64().unwrap();
    assert!(
        ndcg > 0.5,
        "an off-the-shelf embedder finds the manual's chunks: nDCG@10 {ndcg}"
    );
    // A scheme's own deployment is one estimate, shown in the scheme table and the deployments table:
    // the same interval in both (they once drew their bootstraps from different seeds).
    let own = |family: &str| {
        r["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["scheme"] == "f32" && c["index"] == "f32" && c["shape"] == "same" && c["family"] == family)
            .unwrap()
    };
    let scheme = &s["schemes"][0];
    let pairs = [
        (&scheme["clean"], own("clean")),
        (&scheme["families"][0]["pooled"], own("asr")),
    ];
    for (table, cell) in pairs {
        for m in cell["metrics"].as_array().unwrap() {
            let name = m["metric"].as_str().unwrap();
            for k in 0..2 {
                let here = table["metrics"][name]["ci"][k].as_f64().unwrap();
                let there = 100.0 * m["value"]["ci"][k].as_f64().unwrap();
                assert!((here - there).abs() < 1e-9, "{name}: {table} vs {m}");
            }
        }
        let drop = cell["metrics"][2]["drop_vs_clean"]["ci"][1].as_f64().unwrap();
        assert!(
            (table["drop_ci"][1].as_f64().unwrap() - 100.0 * drop).abs() < 1e-9,
            "{table}"
        );
    }
    let built: Vec<&str> = r["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["provenance"].as_str().unwrap())
        .collect();
    assert!(built.iter().all(|p| *p == "built"), "{built:?}");

    let html = std::fs::read_to_string(first.join("report.html")).unwrap();
    assert!(html.contains("id=\"retrieval\"") && html.contains("server-f32"));
    // McNemar's p beside a delta of mean recall@10 says what it tests (a relevant chunk in the top 10).
    assert!(html.contains("each right when a relevant chunk is in its top 10"));
    assert!(first.join("retrieval.parquet").exists());
    let md = std::fs::read_to_string(first.join("summary.md")).unwrap();
    assert!(md.contains("int8 / binary / server-f32"), "{md}");

    // A second run opens the stored indexes and scores the same.
    let second = tmp.path().join("second");
    let a = args(&second);
    let o = run_in(&cache, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s2 = summary(&second);
    let r2 = &s2["retrieval"];
    assert!(r2["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["provenance"] == "reused"));
    assert_eq!(
        r2["cells"].as_array().unwrap().len(),
        r["cells"].as_array().unwrap().len()
    );
    for (a, b) in r["cells"]
        .as_array()
        .unwrap()
        .iter()
        .zip(r2["cells"].as_array().unwrap())
    {
        assert_eq!(a["metrics"], b["metrics"], "same seed, same index: same metrics");
    }

    // `shakedown report RUN` recomputes the same outputs.
    let before = std::fs::read(first.join("report.html")).unwrap();
    let o = run_in(&cache, &["report", first.to_str().unwrap()]);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    assert_eq!(std::fs::read(first.join("report.html")).unwrap(), before);
}

#[test]
fn a_gate_rule_on_ndcg_judges_each_schemes_own_deployment() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("suite");
    std::fs::create_dir(&suite).unwrap();
    let shipped = common::root().join("suites/warehouse-sop-rag");
    for f in ["corpus.jsonl", "queries.jsonl"] {
        std::fs::copy(shipped.join(f), suite.join(f)).unwrap();
    }
    let toml = std::fs::read_to_string(shipped.join("suite.toml")).unwrap();
    let toml = format!(
        "{}\n[[gate.rules]]\nmetric = \"ndcg@10\"\nmin = 99.5\n",
        toml.replace("[\"f32\", \"int8\", \"binary\"]", "[\"int8\"]")
            .replace("[\"same\", \"server-f32\"]", "[\"same\"]")
    );
    std::fs::write(suite.join("suite.toml"), toml).unwrap();
    let out = tmp.path().join("run");
    let o = run_f32(tmp.path(), &suite, "typo:1", &["--limit", "10"], &out);
    assert_eq!(
        o.status.code(),
        Some(1),
        "nDCG@10 of 99.5% is out of reach: {}",
        text(&o)
    );
    let s = summary(&out);
    let checks = s["gate"]["checks"].to_string();
    assert!(checks.contains("ndcg@10"), "{checks}");
    assert_eq!(
        s["meta"]["task"]["method"],
        "embed the query, exact top-10 search (int8 index, corpus same)"
    );
}

#[test]
fn a_tiny_corpus_and_chunks_longer_than_the_embedder_reads_are_warned_about_and_empty_text_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("tiny");
    std::fs::create_dir(&suite).unwrap();
    let long = "pallets are stacked on the racks of aisle four every morning ".repeat(60);
    let corpus = [
        ("c1", "charge the robot at the dock when the battery is low"),
        ("c2", long.as_str()),
        ("c3", "forklift levels go from one to three"),
    ];
    let write_corpus = |chunks: &[(&str, &str)]| {
        let lines: String = chunks
            .iter()
            .map(|(id, text)| format!("{}\n", serde_json::json!({"id": id, "text": text})))
            .collect();
        std::fs::write(suite.join("corpus.jsonl"), lines).unwrap();
    };
    write_corpus(&corpus);
    std::fs::write(
        suite.join("queries.jsonl"),
        "{\"id\": \"q1\", \"text\": \"where do I charge the robot\", \"split\": \"test\", \"relevant\": {\"c1\": 1}}\n\
         {\"id\": \"q2\", \"text\": \"how high do the forks go\", \"split\": \"test\", \"relevant\": {\"c3\": 1}}\n",
    )
    .unwrap();
    std::fs::write(
        suite.join("suite.toml"),
        "name = \"tiny\"\ntask = \"retrieve\"\ndata = [\"queries.jsonl\"]\n\n[retrieve]\ncorpus = \"corpus.jsonl\"\nindex = [\"f32\"]\nshapes = [\"same\"]\n",
    )
    .unwrap();
    let run = |out: &str| run_f32(tmp.path(), &suite, "none", &[], &tmp.path().join(out));
    let o = run("run");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("the corpus has 3 chunks, no more than the 10")
            && stderr.contains("1 of 3 chunks are longer than the embedder's 256 tokens")
            && stderr.contains("(the first: c2)"),
        "{stderr}"
    );
    // Figures in percent, as gate rules are written, and no verdict without rules.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("metrics in %") && stdout.contains("gate: none"),
        "{stdout}"
    );
    // A sample as large as the split is the whole split, and recorded so (it compares with this run).
    let sampled = tmp.path().join("sampled");
    let o = run_f32(tmp.path(), &suite, "none", &["--sample", "5"], &sampled);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("--sample 5 is at least the 2 test queries: the whole split is evaluated"),
        "{}",
        text(&o)
    );
    let s = summary(&sampled);
    for meta in [&s["meta"], &s["retrieval"]["meta"]] {
        assert!(meta["sample"].is_null() && meta["limit"].is_null(), "{meta}");
    }
    let o = common::shakedown(&[
        "compare",
        tmp.path().join("run").to_str().unwrap(),
        sampled.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // `report` recomputes the retrieval section from retrieval.parquet: another run's table is refused.
    let noisy = tmp.path().join("noisy");
    let o = run_f32(tmp.path(), &suite, "typo:5", &[], &noisy);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = common::shakedown(&["report", sampled.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::copy(noisy.join("retrieval.parquet"), sampled.join("retrieval.parquet")).unwrap();
    let o = common::shakedown(&["report", sampled.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("retrieval.meta.rows_sha256 differs"),
        "{}",
        text(&o)
    );
    // Noise on the corpus: the queries (the rows' texts) are unchanged, which is no sign the noise did
    // little (it warned "typo changed only 0% of the texts"); the corpus's measured noise is shown.
    std::fs::write(
        suite.join("suite.toml"),
        "name = \"tiny\"\ntask = \"retrieve\"\ndata = [\"queries.jsonl\"]\n\n[retrieve]\ncorpus = \"corpus.jsonl\"\nindex = [\"f32\"]\nshapes = [\"same\"]\ncorrupt = \"corpus\"\n",
    )
    .unwrap();
    let on_corpus = tmp.path().join("on-corpus");
    let o = run_f32(tmp.path(), &suite, "typo:5", &[], &on_corpus);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let md = std::fs::read_to_string(on_corpus.join("summary.md")).unwrap();
    assert!(!md.contains("changed only"), "{md}");
    let html = std::fs::read_to_string(on_corpus.join("report.html")).unwrap();
    assert!(
        html.contains("corpus CER 0.") && !html.contains("corpus CER 0.000"),
        "corpus noise shown"
    );
    write_corpus(&[corpus[0], ("c3", " ")]);
    let o = run("empty");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("corpus.jsonl:2: field text"),
        "{}",
        text(&o)
    );
}
