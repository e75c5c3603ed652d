//! Bad input gives a clear message naming what is wrong, exit code 2, and no half-written run directory.

mod common;

use common::{shakedown, small_suite, text};

fn assert_bad_input(args: &[&str], needle: &str) {
    let o = shakedown(args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(needle), "stderr should mention {needle:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn unknown_scheme() {
    assert_bad_input(
        &["run", "--schemes", "f32,int3", "--limit", "2"],
        "--schemes: unknown scheme 'int3'",
    );
}

#[test]
fn unknown_corruption_family_and_bad_severity() {
    assert_bad_input(
        &["run", "--corruptions", "asdf:2", "--limit", "2"],
        "unknown corruption family 'asdf'",
    );
    assert_bad_input(&["run", "--corruptions", "typo:0-9", "--limit", "2"], "severity '0-9'");
}

#[test]
fn missing_suite_and_model() {
    assert_bad_input(&["run", "--suite", "/nonexistent/suite"], "/nonexistent/suite");
    assert_bad_input(
        &["run", "--model", "/nonexistent/model", "--limit", "2"],
        "/nonexistent/model",
    );
    assert_bad_input(&["predict", "--model", "/nonexistent/model"], "/nonexistent/model");
}

#[test]
fn zero_threads_and_unknown_flags_are_usage_errors() {
    assert_bad_input(&["run", "--threads", "0"], "--threads");
    assert_bad_input(&["run", "--limit", "0"], "--limit");
    let o = shakedown(&["run", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn broken_suite_files_name_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    small_suite(
        tmp.path(),
        "{\"id\":\"1\",\"text\":\"x\",\"label\":\"nope\",\"split\":\"test\"}\n",
        "",
    );
    assert_bad_input(
        &["run", "--suite", tmp.path().to_str().unwrap()],
        "d.jsonl:1: field label",
    );
    small_suite(tmp.path(), "not json\n", "");
    assert_bad_input(&["run", "--suite", tmp.path().to_str().unwrap()], "d.jsonl:1");
    let ok = "{\"id\":\"1\",\"text\":\"stop\",\"label\":\"stop\",\"split\":\"test\"}\n";
    small_suite(tmp.path(), ok, "[[gate.rules]]\nmetric = \"accuracy\"\n");
    assert_bad_input(
        &["run", "--suite", tmp.path().to_str().unwrap()],
        "gate.rules[0]: expected a bound",
    );
    small_suite(tmp.path(), ok, "[[gate.rules]]\nmetric = \"speed\"\nmin = 1\n");
    assert_bad_input(&["run", "--suite", tmp.path().to_str().unwrap()], "suite.toml");
}

#[test]
fn corrupt_model_files_are_bad_input_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    std::fs::create_dir(&model).unwrap();
    let src = common::default_model();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(src.join(f), model.join(f)).unwrap();
    }
    std::fs::write(
        model.join("model.safetensors"),
        b"\x08\x00\x00\x00\x00\x00\x00\x00garbage!",
    )
    .unwrap();
    let out = tmp.path().join("run");
    assert_bad_input(
        &[
            "run",
            "--model",
            model.to_str().unwrap(),
            "--limit",
            "2",
            "--out",
            out.to_str().unwrap(),
        ],
        "model.safetensors",
    );
    assert!(!out.exists(), "no run directory for a failed run");

    // A weight with the wrong shape names the tensor.
    let cfg = std::fs::read_to_string(src.join("config.json"))
        .unwrap()
        .replace("\"intermediate_size\": 512", "\"intermediate_size\": 500");
    std::fs::write(model.join("config.json"), cfg).unwrap();
    std::fs::copy(src.join("model.safetensors"), model.join("model.safetensors")).unwrap();
    assert_bad_input(
        &[
            "run",
            "--model",
            model.to_str().unwrap(),
            "--limit",
            "2",
            "--out",
            out.to_str().unwrap(),
        ],
        "intermediate.dense.weight",
    );
}

#[test]
fn bad_shard_sustain_and_run_directories() {
    assert_bad_input(&["run", "--shard", "3/2", "--limit", "2"], "--shard");
    assert_bad_input(&["run", "--sustain-seconds", "0", "--limit", "2"], "--sustain-seconds");
    assert_bad_input(&["report", "/nonexistent/run"], "/nonexistent/run");
    let tmp = tempfile::tempdir().unwrap();
    let ok = "{\"id\":\"1\",\"text\":\"stop\",\"label\":\"stop\",\"split\":\"test\"}\n";
    small_suite(tmp.path(), ok, "[sustain]\nbatch = 0\n");
    assert_bad_input(&["run", "--suite", tmp.path().to_str().unwrap()], "sustain.batch");
}

#[test]
fn seconds_flags_out_of_range_are_refused() {
    assert_bad_input(&["corruptions", "--throughput", "--seconds", "inf"], "--seconds");
    assert_bad_input(&["corruptions", "--throughput", "--seconds=-1"], "--seconds");
    assert_bad_input(&["bench", "--seconds", "1e300", "--json"], "--seconds");
}

/// Sizes that would only allocate or spin: a sustained phase of a billion seconds (it asked for a
/// 448 GB curve), tiny windows, tens of thousands of threads, a decoder bench past the context.
#[test]
fn sizes_beyond_reason_are_refused_before_any_work() {
    assert_bad_input(&["run", "--sustain-seconds", "1e9", "--limit", "2"], "at most 86400");
    let tmp = tempfile::tempdir().unwrap();
    let ok = "{\"id\":\"1\",\"text\":\"go left\",\"label\":\"move_left\",\"split\":\"test\"}\n";
    small_suite(tmp.path(), ok, "[sustain]\nduration_s = 3600\nwindow_s = 0.0001\n");
    assert_bad_input(&["run", "--suite", tmp.path().to_str().unwrap()], "sustain.window_s");
    small_suite(tmp.path(), ok, "[sustain]\nthreads = 100000\n");
    assert_bad_input(&["run", "--suite", tmp.path().to_str().unwrap()], "sustain.threads");
    assert_bad_input(&["run", "--threads", "100000", "--limit", "2"], "--threads");
    assert_bad_input(&["corrupt", "--threads", "100000"], "--threads");
    assert_bad_input(&["bench", "--threads", "1,100000"], "--threads");
    assert_bad_input(&["bench", "--batches", "1000000000", "--seconds", "0.1"], "--batches");
}

/// `corrupt --in FILE` names the file in its errors, and a line that opens a JSON object but is not
/// valid JSON is refused, not corrupted as text with its braces.
#[test]
fn corrupt_names_its_input_file_and_refuses_broken_json_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("lines.jsonl");
    std::fs::write(
        &file,
        "{\"text\": \"put it away\"}\n{\"text\":\"put it away\", \"id\":}\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    assert_bad_input(
        &["corrupt", "--corruptions", "typo:1", "--in", path],
        &format!("{path} line 2"),
    );
    std::fs::write(&file, "{\"id\": \"a\"}\n").unwrap();
    assert_bad_input(
        &["corrupt", "--corruptions", "typo:1", "--in", path],
        "string field \"text\"",
    );
}

/// A BERT folder whose tokenizer has more tokens than the model's vocabulary (another model's
/// tokenizer) is refused at load, naming the tokenizer file.
#[test]
fn a_tokenizer_larger_than_the_vocabulary_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let model = common::default_model();
    let dir = tmp.path().join("model");
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(&model).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let config_path = dir.join("config.json");
    let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    config["vocab_size"] = serde_json::json!(10);
    std::fs::write(&config_path, config.to_string()).unwrap();
    let o = common::shakedown_stdin(&["predict", "--model", dir.to_str().unwrap()], "go left\n");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("tokenizer.json") && stderr.contains("vocab_size"),
        "{stderr}"
    );
}

/// `export --out DIR` (a directory) is refused before the model is read: no temp file of the size of a
/// model is left beside it.
#[test]
fn export_onto_a_directory_is_refused_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dd");
    std::fs::create_dir(&out).unwrap();
    let model = common::default_model();
    for force in [false, true] {
        let mut args = vec![
            "export",
            "--model",
            model.to_str().unwrap(),
            "--scheme",
            "q8_0",
            "--out",
            out.to_str().unwrap(),
        ];
        if force {
            args.push("--force");
        }
        assert_bad_input(&args, "is a directory");
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("dd")]);
}

/// A run directory that cannot be made is refused before any work, naming what cannot be made (under
/// `/proc` the message called the existing `/proc` missing), and the check leaves nothing behind.
#[test]
fn an_out_directory_that_cannot_be_made_is_refused_first() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("afile");
    std::fs::write(&file, "x").unwrap();
    let out = file.join("run");
    assert_bad_input(
        &["run", "--out", out.to_str().unwrap(), "--limit", "2", "--no-sustain"],
        "is a file, not a directory",
    );
    #[cfg(target_os = "linux")]
    assert_bad_input(
        &["run", "--out", "/proc/shakedown-run", "--limit", "2", "--no-sustain"],
        "cannot make a directory in /proc",
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("afile")]);
}

/// Inputs a suite or `corrupt` cannot use as written are refused at load, naming where: a text longer
/// than any small model reads (measuring its variants grew with the square of its length: a 6.4 MB
/// line ran for half an hour without a word), two labels scored by the same continuation (one could
/// never be answered: the run passed its gate), and a data file listed twice.
#[test]
fn texts_too_long_tied_verbalizers_and_repeated_data_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    let long = "go left ".repeat(5000);
    let line = |id: &str, text: &str| {
        format!("{{\"id\":\"{id}\",\"text\":\"{text}\",\"label\":\"stop\",\"split\":\"test\"}}\n")
    };
    small_suite(tmp.path(), &format!("{}{}", line("1", "stop"), line("2", &long)), "");
    assert_bad_input(&["run", "--suite", dir], "d.jsonl:2: field text: 40000 characters");
    let file = tmp.path().join("long.txt");
    std::fs::write(&file, format!("stop\n{long}\n")).unwrap();
    let path = file.to_str().unwrap();
    assert_bad_input(
        &["corrupt", "--corruptions", "typo:1", "--in", path],
        &format!("{path} line 2: field text"),
    );

    let ok = line("1", "stop");
    small_suite(
        tmp.path(),
        &ok,
        "[classify.verbalizers]\nmove_left = \" left\"\nmove_right = \" left\"\n",
    );
    assert_bad_input(&["run", "--suite", dir], "classify.verbalizers.move_right");

    small_suite(tmp.path(), &ok, "");
    let toml = std::fs::read_to_string(tmp.path().join("suite.toml")).unwrap();
    let twice = toml.replace("data = [\"d.jsonl\"]", "data = [\"d.jsonl\", \"d.jsonl\"]");
    assert_ne!(toml, twice);
    std::fs::write(tmp.path().join("suite.toml"), twice).unwrap();
    assert_bad_input(&["run", "--suite", dir], "field data: \"d.jsonl\" is listed twice");
}

/// `--out` naming a folder of other files (no run in it) is refused as such, not as "already holds a
/// run", and its files are left alone.
#[test]
fn an_out_folder_of_other_files_is_named_for_what_it_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let notes = tmp.path().join("notes.txt");
    std::fs::write(&notes, "keep").unwrap();
    let out = tmp.path().to_str().unwrap();
    assert_bad_input(
        &["run", "--limit", "2", "--no-sustain", "--out", out],
        "is not empty and holds no run; choose another directory or pass --force",
    );
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "keep");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}
