//! `shakedown predict`: lines in, JSON lines out, for classifiers, embedding models and decoders.

mod common;

use common::{shakedown_stdin, text};

#[test]
fn classifier_prints_label_scores_per_line() {
    let model = common::default_model();
    let o = shakedown_stdin(
        &["predict", "--model", model.to_str().unwrap(), "--scheme", "int8"],
        "\u{feff}move the pallet left of bay seven\n\n   \nraise the forks to level two\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Blank lines are skipped: one answer per line of text; the byte-order mark opening the input
    // (as Windows editors save) is not part of the first text.
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["label"], "move_left");
    assert_eq!(lines[0]["text"], "move the pallet left of bay seven");
    assert_eq!(lines[1]["label"], "forks_level_2");
    let total: f64 = lines[0]["scores"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-4);
}

#[test]
fn embedding_model_prints_unit_embeddings() {
    let model = common::minilm_dir();
    let o = shakedown_stdin(&["predict", "--model", model.to_str().unwrap()], "hello world\n");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap();
    let e: Vec<f64> = v["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(e.len(), 384);
    assert!((e.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-4);
}

#[test]
fn unknown_scheme_is_a_usage_error() {
    let model = common::default_model();
    let o = shakedown_stdin(
        &["predict", "--model", model.to_str().unwrap(), "--scheme", "fp7"],
        "x\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn inspect_reports_per_layer_error_against_f32() {
    let model = common::default_model();
    let run = |scheme: &str| {
        let o = common::shakedown(&[
            "inspect",
            "--model",
            model.to_str().unwrap(),
            "--scheme",
            scheme,
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let errors = |v: &serde_json::Value, key: &str| -> Vec<f64> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["relative_error"].as_f64().unwrap())
            .collect()
    };
    let f32 = run("f32");
    assert!(errors(&f32, "linears")
        .iter()
        .chain(&errors(&f32, "layers"))
        .all(|e| *e == 0.0));
    let q4 = run("w4a16-rtn-g32");
    let (linears, layers) = (errors(&q4, "linears"), errors(&q4, "layers"));
    assert_eq!(
        (linears.len(), layers.len()),
        (12, 2),
        "2 layers of 6 Linears in the default model"
    );
    assert!(linears.iter().all(|e| *e > 0.0 && *e < 0.5), "{linears:?}");
    assert!(layers.iter().all(|e| *e > 0.0 && *e < 0.5), "{layers:?}");
}

#[test]
fn corrupt_writes_measured_variants_and_lists_families() {
    let o = common::shakedown_stdin(
        &["corrupt", "--corruptions", "typo:1-5", "--seed", "3"],
        "move the pallet left of bay seven\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["severity"], i as u64 + 1);
        assert_eq!(r["clean"], "move the pallet left of bay seven");
        let cer = r["cer"].as_f64().unwrap();
        assert!((0.0..1.0).contains(&cer) && r["edits"].is_array());
    }
    // `-` names standard input and output (not files called "-").
    let dashes = common::shakedown_stdin(
        &[
            "corrupt",
            "--corruptions",
            "typo:1-5",
            "--seed",
            "3",
            "--in",
            "-",
            "--out",
            "-",
        ],
        "move the pallet left of bay seven\n",
    );
    assert_eq!(dashes.stdout, o.stdout, "{}", text(&dashes));
    let again = common::shakedown_stdin(
        &["corrupt", "--corruptions", "typo:1-5", "--seed", "3", "--threads", "1"],
        "move the pallet left of bay seven\n",
    );
    assert_eq!(again.stdout, o.stdout, "same bytes with one thread");
    let bad = common::shakedown_stdin(&["corrupt", "--corruptions", "nope:1"], "x\n");
    assert_eq!(bad.status.code(), Some(2));
    let list = common::shakedown(&["corruptions", "--json"]);
    let cards: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let families: Vec<&str> = cards
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["family"].as_str().unwrap())
        .collect();
    assert_eq!(families, common::FAMILIES);
    for card in cards.as_array().unwrap() {
        assert_eq!(card["levels"].as_array().unwrap().len(), 5);
        assert_eq!(card["examples"].as_array().unwrap().len(), 5);
    }
    let speed = common::shakedown(&["corruptions", "--throughput", "--seconds", "0.05", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&speed.stdout).unwrap();
    assert!(rows
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["mb_per_s"].as_f64().unwrap() > 0.0));

    // Every family and a chain through `corrupt`, in another domain's lexicon.
    let o = common::shakedown_stdin(
        &[
            "corrupt",
            "--corruptions",
            "asr:5,jargon:5,l2-zh:5,asr+jargon:3",
            "--domain",
            "clinical",
        ],
        "the patient is short of breath, check blood pressure twice a day\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    assert!(rows[1]["text"].as_str().unwrap().contains("SOB"), "{}", rows[1]["text"]);
    let bad_domain = common::shakedown_stdin(
        &["corrupt", "--corruptions", "jargon:1", "--domain", "astrology"],
        "x\n",
    );
    assert_eq!(bad_domain.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_domain.stderr).contains("--domain"));
}

#[test]
fn channel_family_pipes_through_an_external_command_and_reports_its_failures() {
    let o = common::shakedown_stdin(
        &[
            "corrupt",
            "--corruptions",
            "channel:2,4",
            "--channel-cmd",
            "sed -u 's/l/1/g; s/$/ {severity}/'",
        ],
        "move the pallet left\n{\"id\": \"b\", \"text\": \"bay seven\"}\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let texts: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        texts,
        [
            "move the pa11et 1eft 2",
            "move the pa11et 1eft 4",
            "bay seven 2",
            "bay seven 4"
        ]
    );

    let dead = common::shakedown_stdin(
        &[
            "corrupt",
            "--corruptions",
            "channel:1",
            "--channel-cmd",
            "echo engine missing >&2; exit 4",
        ],
        "x\n",
    );
    assert_eq!(dead.status.code(), Some(2));
    let err = String::from_utf8_lossy(&dead.stderr);
    assert!(err.contains("--channel-cmd") && err.contains("engine missing"), "{err}");
    // The text it died on is named (line numbers would count the lines that severity's process was sent).
    assert!(err.contains("the text \"x\""), "{err}");
    let slow = common::shakedown_stdin(
        &[
            "corrupt",
            "--corruptions",
            "channel:1",
            "--channel-cmd",
            "sleep 10",
            "--channel-timeout",
            "0.5",
        ],
        "x\n",
    );
    assert_eq!(slow.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&slow.stderr).contains("within 0.5 s"));
    let unset = common::shakedown_stdin(&["corrupt", "--corruptions", "channel:1"], "x\n");
    assert_eq!(unset.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unset.stderr).contains("--channel-cmd"));
    // A command no corruption runs is said to do nothing (it was dropped in silence).
    let unused = common::shakedown_stdin(
        &["corrupt", "--corruptions", "typo:1", "--channel-cmd", "cat"],
        "move the pallet\n",
    );
    assert_eq!(unused.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&unused.stderr).contains("no corruption uses the channel family"),
        "{}",
        String::from_utf8_lossy(&unused.stderr)
    );

    // In a run, the channel's variants are scored like any family's.
    let out = tempfile::tempdir().unwrap();
    let o = common::shakedown(&[
        "run",
        "--limit",
        "20",
        "--schemes",
        "f32",
        "--no-sustain",
        "--corruptions",
        "channel:1-2",
        "--channel-cmd",
        "sed -u 's/e/3/g'",
        "--out",
        out.path().join("r").to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("channel"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows = shakedown::analysis::tables::read_results(&out.path().join("r/results.parquet"))
        .unwrap()
        .1;
    assert!(rows.iter().any(|r| r.family == "channel" && r.text.contains('3')));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("no corruption uses the channel family"));
}

#[test]
fn a_line_the_model_cannot_take_is_named_after_the_answers_before_it() {
    // SmolLM2's context is 8,192 tokens: the second line is longer.
    let model = common::decoder_gguf("smollm2");
    let long = "pallet ".repeat(9000);
    let o = shakedown_stdin(
        &["predict", "--model", model.to_str().unwrap(), "--scheme", "native"],
        format!("stop\n{long}\ngo to dock five\n"),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("<stdin> line 2") && stderr.contains("context length"),
        "{stderr}"
    );
    let answered: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answered.len(), 1, "the first line's answer");
    assert_eq!(answered[0]["text"], "stop");
}

/// A line that is not UTF-8 is named, after the answers (or variants) of the lines before it.
#[test]
fn a_line_that_is_not_utf8_is_named_after_the_lines_before_it() {
    let input: &[u8] = b"stop here\nmove \xff\xfe the pallet\nstop\n";
    let model = common::decoder_gguf("smollm2");
    for args in [
        vec!["predict", "--model", model.to_str().unwrap(), "--scheme", "native"],
        vec!["corrupt", "--corruptions", "typo:1"],
    ] {
        let o = shakedown_stdin(&args, input);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains("line 2: not UTF-8") && stderr.contains("byte 6 of the line"),
            "{stderr}"
        );
        let out = String::from_utf8_lossy(&o.stdout);
        let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: the first line's answer: {out}");
        let first = lines[0].get("clean").or(lines[0].get("text")).unwrap();
        assert_eq!(first, "stop here");
    }
}

/// Without a suite a decoder continues each line greedily, at most `--max-tokens` tokens (64 without
/// it); the flag is checked, and refused with a suite whose task generates nothing.
#[test]
fn a_decoder_without_a_suite_continues_each_line_up_to_max_tokens() {
    let model = common::decoder_gguf("smollm2");
    let m = model.to_str().unwrap();
    let answer = |extra: &[&str]| {
        let mut args = vec!["predict", "--model", m, "--scheme", "native", "--threads", "1"];
        args.extend(extra);
        let o = shakedown_stdin(&args, "The capital of France is\n");
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["text"], "The capital of France is");
        (v["output"].as_str().unwrap().to_string(), v["tokens"].as_u64().unwrap())
    };
    let (three, n3) = answer(&["--max-tokens", "3"]);
    let (long, n) = answer(&[]);
    assert_eq!(n3, 3, "{three:?}");
    assert!(n > 3 && n <= 64, "{n} tokens: {long:?}");
    // Greedy: the short answer is the long one's beginning.
    assert!(long.starts_with(&three), "{three:?} / {long:?}");
    for (flags, says) in [
        (vec!["--max-tokens", "0"], "expected 1 to 4096"),
        (vec!["--max-tokens", "5000"], "expected 1 to 4096"),
        (
            vec!["--max-tokens", "8", "--suite", "suites/warehouse-commands"],
            "generates no text",
        ),
        // Too few for the extract suite's own answers: the flag is named, not the suite's field.
        (
            vec!["--max-tokens", "8", "--suite", "suites/warehouse-parse"],
            "8 tokens cannot hold the expected answer",
        ),
    ] {
        let mut args = vec!["predict", "--model", m, "--scheme", "native"];
        args.extend(&flags);
        let o = shakedown_stdin(&args, "stop\n");
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains("error: --max-tokens") && stderr.contains(says),
            "{stderr}"
        );
        assert!(!stderr.contains("extract.max_tokens"), "{stderr}");
    }
    // An encoder generates nothing: the flag is refused, not ignored.
    let minilm = common::minilm_dir();
    let o = shakedown_stdin(
        &["predict", "--model", minilm.to_str().unwrap(), "--max-tokens", "8"],
        "stop\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is an encoder"),
        "{}",
        text(&o)
    );
}
