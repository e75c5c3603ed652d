//! `shakedown run` on the default retrieval suite's rag file (the README's command on a small
//! `--limit`, with the decoder the tests fetch): the embedder retrieves, the decoder answers from
//! the retrieved and from the gold chunks under two schemes, and summary, rows, report and
//! `shakedown report` agree.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::text;

fn run_in(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(args)
        .env("SHAKEDOWN_CACHE", cache)
        .current_dir(common::root())
        .output()
        .expect("spawn shakedown")
}

#[test]
fn rag_answers_from_retrieved_and_gold_chunks_per_scheme_and_condition() {
    let Some(decoder) = std::env::var_os("SHAKEDOWN_SMOLLM2") else {
        panic!("SHAKEDOWN_SMOLLM2 is not set: run the tests with scripts/test.sh (it fetches the decoder)");
    };
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("run");
    let model = common::minilm_dir();
    let o = run_in(
        &cache,
        &[
            "run",
            "--suite",
            "suites/warehouse-sop-rag/rag.toml",
            "--model",
            model.to_str().unwrap(),
            "--decoder",
            decoder.to_str().unwrap(),
            "--schemes",
            "native,q4_0",
            "--corruptions",
            "asr:5",
            "--limit",
            "3",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    // The suite's gate judges q4_0 against native on 3 questions: either verdict, never bad input.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["meta"]["task"]["kind"], "rag");
    let measures: Vec<&str> = summary["meta"]["task"]["measures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(measures[0], "answer_match");
    for m in [
        "answer_match_gold",
        "retrieval_broke",
        "distracted",
        "context_hit",
        "ndcg@10",
    ] {
        assert!(measures.contains(&m), "{m} in {measures:?}");
    }
    // Every scheme x condition has a cell with every measure, each a share in [0, 100]; what
    // retrieval broke is at most what the gold chunks got right.
    let schemes = summary["schemes"].as_array().unwrap();
    assert_eq!(schemes.len(), 2);
    for (s, name) in schemes.iter().zip(["native", "q4_0"]) {
        assert_eq!(s["scheme"], name);
        for cell in [&s["clean"], &s["families"][0]["pooled"]] {
            assert_eq!(cell["n"], 3, "{cell}");
            let value = |m: &str| cell["metrics"][m]["value"].as_f64().unwrap();
            for m in &measures {
                assert!((0.0..=100.0).contains(&value(m)), "{m}: {cell}");
            }
            let lost = value("retrieval_broke") + value("distracted");
            assert!(lost <= value("answer_match_gold") + 1e-9, "{cell}");
        }
    }
    // The retrieval of the one deployment (f32 embedder, f32 index) is reported beside the answers.
    let retrieval = &summary["retrieval"];
    assert_eq!(retrieval["meta"]["task"], "rag");
    assert_eq!(retrieval["meta"]["schemes"][0]["name"], "f32", "the embedder's scheme");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("answer_match_gold") && html.contains("Retrieval-augmented answers"));
    // The rows keep each answer with the chunks read and the answer from the gold chunks.
    let (names, rows) = shakedown::analysis::tables::read_results(&out.join("results.parquet")).unwrap();
    assert_eq!(names, measures);
    assert_eq!(rows.len(), 2 * 3 * 2, "schemes x queries x conditions");
    for r in &rows {
        let raw = r.raw_output.as_deref().unwrap_or("");
        assert!(
            raw.contains("[read ") && raw.contains("from the gold chunks: "),
            "{raw}"
        );
        assert_eq!(r.correct, r.measures[0] == 1.0);
    }

    // `report` recomputes the same summary from the run's tables.
    let before = std::fs::read(out.join("summary.json")).unwrap();
    let o = run_in(&cache, &["report", out.to_str().unwrap()]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), before);
}

#[test]
fn a_decoder_flag_on_a_suite_without_one_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_in(
        tmp.path(),
        &[
            "run",
            "--suite",
            "suites/warehouse-sop-rag",
            "--model",
            "nowhere",
            "--decoder",
            "nowhere.gguf",
            "--out",
            tmp.path().join("run").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--decoder") && text(&o).contains("rag"),
        "{}",
        text(&o)
    );
}

/// The default rag suite copied into `dir/suite` with `edit(file name, its text)` applied to each
/// of its files, then run on its first two questions, clean, under `native` (the decoder the tests
/// fetch), into `dir/run`.
fn run_edited_suite(dir: &Path, edit: impl Fn(&str, String) -> String) -> Output {
    let Some(decoder) = std::env::var_os("SHAKEDOWN_SMOLLM2") else {
        panic!("SHAKEDOWN_SMOLLM2 is not set: run the tests with scripts/test.sh (it fetches the decoder)");
    };
    let suite = dir.join("suite");
    std::fs::create_dir(&suite).unwrap();
    let from = common::root().join("suites/warehouse-sop-rag");
    for f in ["rag.toml", "queries.jsonl", "corpus.jsonl"] {
        let text = std::fs::read_to_string(from.join(f)).unwrap();
        std::fs::write(suite.join(f), edit(f, text)).unwrap();
    }
    let model = common::minilm_dir();
    run_in(
        &dir.join("cache"),
        &[
            "run",
            "--suite",
            suite.join("rag.toml").to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--decoder",
            decoder.to_str().unwrap(),
            "--schemes",
            "native",
            "--corruptions",
            "none",
            "--limit",
            "2",
            "--out",
            dir.join("run").to_str().unwrap(),
        ],
    )
}

#[test]
fn a_rag_prompt_longer_than_the_decoders_context_is_named_before_any_answer() {
    // The manual's chunks padded to some 4,000 tokens each: three of them (k = 3) overflow SmolLM2's
    // 8,192 tokens. The run names the first such query and which chunks it read, before answering.
    let tmp = tempfile::tempdir().unwrap();
    let padding = " Keep this manual at the charging station.".repeat(500);
    let o = run_edited_suite(tmp.path(), |file, text| match file {
        "corpus.jsonl" => text
            .lines()
            .map(|l| {
                let mut c: serde_json::Value = serde_json::from_str(l).unwrap();
                let text = format!("{}{padding}", c["text"].as_str().unwrap());
                c["text"] = text.into();
                format!("{c}\n")
            })
            .collect(),
        _ => text,
    });
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("(clean) read with its retrieved chunks needs"), "{err}");
    assert!(err.contains("more than the decoder's context of 8192"), "{err}");
    assert!(!err.contains("answers in"), "no scheme answered: {err}");
    assert!(!tmp.path().join("run").exists());
}

#[test]
fn answers_the_token_limit_stopped_are_counted_and_named() {
    // [rag] max_tokens = 1: no answer of the manual's questions ends within one token, so all four
    // answers (two queries, each from the retrieved and from the gold chunks) are cut off; the run
    // counts them per scheme in summary.json and warns on stderr, in summary.md and in the report.
    let tmp = tempfile::tempdir().unwrap();
    let o = run_edited_suite(tmp.path(), |file, text| match file {
        "rag.toml" => {
            assert!(text.contains("max_tokens = 24\n"));
            text.replace("max_tokens = 24\n", "max_tokens = 1\n")
        }
        _ => text,
    });
    let out = tmp.path().join("run");
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["meta"]["schemes"][0]["answers_cut_off"], 4, "{}", text(&o));
    let warning = "native: 4 of 4 answers (two per query";
    assert!(String::from_utf8_lossy(&o.stderr).contains(warning), "{}", text(&o));
    assert!(std::fs::read_to_string(out.join("summary.md"))
        .unwrap()
        .contains(warning));
    assert!(std::fs::read_to_string(out.join("report.html"))
        .unwrap()
        .contains("raise [rag] max_tokens"));
}
