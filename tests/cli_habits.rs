//! What users of Unix tools expect: a closed pipe ends quietly (a closed stderr does not stop a run), empty lists are refused, run folders
//! carry a readable time, a buffering channel command gets a hint, and `predict` calibrates and
//! answers as the suite's task does.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use common::{shakedown, shakedown_stdin, text};

#[test]
fn a_closed_stdout_ends_the_command_quietly_with_exit_0() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(["corrupt", "--corruptions", "typo:1-5,ocr:1-5"])
        .current_dir(common::root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        for i in 0..5000 {
            if writeln!(stdin, "move the pallet {i} meters left of bay seven").is_err() {
                break;
            }
        }
    });
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then drop: the pipe closes
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("Broken pipe") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn a_closed_stderr_does_not_stop_a_run() {
    // `shakedown run 2>&1 | head -1`: progress goes to stderr, whose reader left after one line.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args([
            "run",
            "--limit",
            "5",
            "--corruptions",
            "typo:1",
            "--no-sustain",
            "--schemes",
            "f32",
        ])
        .arg("--out")
        .arg(&out)
        .current_dir(common::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 8];
    child.stderr.take().unwrap().read_exact(&mut first).unwrap(); // then drop: the pipe closes
    let done = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(matches!(done.status.code(), Some(0 | 1)), "{:?}: {stdout}", done.status);
    assert!(
        stdout.contains("run directory") && out.join("summary.json").exists(),
        "{stdout}"
    );
}

#[test]
fn an_empty_corruption_list_is_refused_and_none_means_clean_only() {
    let o = shakedown(&["run", "--corruptions", "", "--limit", "2"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--corruptions"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let o = shakedown(&[
        "run",
        "--corruptions",
        "none",
        "--limit",
        "5",
        "--schemes",
        "f32",
        "--no-sustain",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    let rows = shakedown::analysis::tables::read_results(&out.join("results.parquet"))
        .unwrap()
        .1;
    assert!(rows.len() == 5 && rows.iter().all(|r| r.family == "clean"));
}

#[test]
fn run_folders_are_named_with_a_readable_utc_time() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args([
            "run",
            "--suite",
            common::default_suite().to_str().unwrap(),
            "--limit",
            "3",
            "--schemes",
            "f32",
            "--corruptions",
            "typo:1",
            "--no-sustain",
        ])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    let runs: Vec<String> = std::fs::read_dir(tmp.path().join("reports/runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(runs.len(), 1);
    let stamp = runs[0].strip_prefix("warehouse-commands-seed1-").expect(&runs[0]);
    let ok = stamp.len() == 16
        && stamp.ends_with('Z')
        && stamp.as_bytes()[8] == b'T'
        && stamp.chars().filter(|c| c.is_ascii_digit()).count() == 14;
    assert!(ok, "{stamp}");
}

#[test]
fn a_silent_channel_command_gets_a_hint_about_output_buffering() {
    let o = shakedown_stdin(
        &[
            "corrupt",
            "--corruptions",
            "channel:1",
            "--channel-cmd",
            "sed 's/e/3/'",
            "--channel-timeout",
            "1",
        ],
        "move left\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("hint:") && err.contains("sed -u") && err.contains("stdbuf -oL"),
        "{err}"
    );
}

#[test]
fn predict_calibrates_awq_and_answers_as_the_suite_task() {
    let lines = "move the pallet left of bay seven\nraise the forks to level two\n";
    // AWQ needs calibration texts: a file of them, or the suite's calibration split.
    let o = shakedown_stdin(&["predict", "--scheme", "w4a16-awq-g128"], lines);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--calibration") && err.contains("--suite"), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    let calibration = tmp.path().join("cal.txt");
    std::fs::write(&calibration, "go left\nstop now\nmove to dock three\n").unwrap();
    let o = shakedown_stdin(
        &[
            "predict",
            "--scheme",
            "w4a16-awq-g128",
            "--calibration",
            calibration.to_str().unwrap(),
        ],
        lines,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let suite = common::default_suite();
    let o = shakedown_stdin(
        &[
            "predict",
            "--scheme",
            "w4a16-awq-g128",
            "--suite",
            suite.to_str().unwrap(),
        ],
        lines,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let answers: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers[0]["label"], "move_left");
    assert_eq!(answers[1]["label"], "forks_level_2");
    // An embedding model with a suite classifies by prototypes instead of printing embeddings.
    let minilm = common::minilm_dir();
    let o = shakedown_stdin(
        &[
            "predict",
            "--model",
            minilm.to_str().unwrap(),
            "--suite",
            suite.to_str().unwrap(),
        ],
        lines,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap()).unwrap();
    assert!(
        first["label"].is_string() && first["scores"]["move_left"].is_number(),
        "{first}"
    );
    assert!(first.get("embedding").is_none());
}

#[test]
fn empty_texts_are_refused_and_none_in_suite_toml_means_clean_only() {
    let tmp = tempfile::tempdir().unwrap();
    let line = |id: &str, text: &str, label: &str| {
        format!("{{\"id\": \"{id}\", \"text\": \"{text}\", \"label\": \"{label}\", \"split\": \"test\"}}\n")
    };
    let good = [
        line("a", "move the pallet left", "move_left"),
        line("b", "go right now", "move_right"),
        line("c", "stop right there", "stop"),
    ]
    .concat();
    let blank = format!("{good}{}", line("d", "  ", "stop"));
    // A suite of `data` and `extra` toml run into `name-run` with f32, no sustain phase.
    let run = |name: &str, data: &str, extra: &str| {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let suite = common::small_suite(&dir, data, extra);
        let out = tmp.path().join(format!("{name}-run"));
        let args = [
            "run",
            "--suite",
            suite.to_str().unwrap(),
            "--no-sustain",
            "--schemes",
            "f32",
            "--out",
        ];
        let mut args: Vec<&str> = args.to_vec();
        args.push(out.to_str().unwrap());
        (shakedown(&args), out)
    };
    let (o, _) = run("blank", &blank, "");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("d.jsonl:4") && stderr.contains("field text"),
        "{stderr}"
    );
    let (o, out) = run("none", &good, "corruptions = \"none\"\n");
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["meta"]["families"],
        serde_json::json!([]),
        "{}",
        summary["meta"]
    );
}

/// `corrupt --in FILE` reads the file whole before writing a variant, so a bad line leaves no output;
/// `--out FILE` appears only complete, and an existing file is replaced only with `--force`.
#[test]
fn corrupt_writes_nothing_before_a_bad_line_of_a_file_and_out_appears_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(&bad, "stop here\nmove the pallet left\n{\"id\": 3}\nstop\n").unwrap();
    let out = tmp.path().join("variants.jsonl");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_shakedown"))
            .args(["corrupt", "--corruptions", "typo:1"])
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["--in", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(o.stdout.is_empty(), "no variant before the error: {}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("line 3"), "{}", text(&o));

    let o = run(&["--in", bad.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("bad.jsonl")],
        "no output, no temp file"
    );

    // Standard input is a stream: lines before the bad one are written to stdout, but --out stays whole.
    let o = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(["corrupt", "--corruptions", "typo:1", "--out", out.to_str().unwrap()])
        .stdin(std::fs::File::open(&bad).unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!out.exists() && o.stdout.is_empty(), "{}", text(&o));

    let good = tmp.path().join("good.txt");
    std::fs::write(&good, "stop here\nmove the pallet left\n").unwrap();
    let o = run(&["--in", good.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(o.stdout.is_empty());
    let to_stdout = run(&["--in", good.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        to_stdout.stdout,
        "the same bytes as to stdout"
    );
    assert_eq!(to_stdout.stdout.iter().filter(|&&b| b == b'\n').count(), 2);

    let o = run(&["--in", good.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an existing --out is not replaced: {}",
        text(&o)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists; pass --force"));
    let o = run(&[
        "--in",
        good.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--force",
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

/// `corrupt --in` names a pipe as readily as a file (`--in /dev/stdin`, a shell's `<(...)`): it is read
/// once, so every line's variants come out (reading it a second time found the pipe empty and wrote
/// nothing, with exit 0), the same bytes as from the file itself.
#[test]
fn corrupt_reads_a_pipe_named_by_in_once() {
    use std::io::Write;
    use std::process::Stdio;
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.txt");
    let lines = "stop here\nmove the pallet left\n";
    std::fs::write(&good, lines).unwrap();
    let from_file = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args([
            "corrupt",
            "--corruptions",
            "typo:1,ocr:2",
            "--in",
            good.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(from_file.status.success(), "{}", text(&from_file));
    let mut child = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(["corrupt", "--corruptions", "typo:1,ocr:2", "--in", "/dev/stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
    let from_pipe = child.wait_with_output().unwrap();
    assert!(from_pipe.status.success(), "{}", text(&from_pipe));
    assert_eq!(
        from_pipe.stdout.iter().filter(|&&b| b == b'\n').count(),
        4,
        "2 lines x 2 families"
    );
    assert_eq!(from_pipe.stdout, from_file.stdout);
}
