//! Helpers shared by the integration tests: the real binary, the shipped suite and model, fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Every built-in corruption family, in the order `shakedown corruptions` lists them.
pub const FAMILIES: [&str; 9] = [
    "typo",
    "ocr",
    "asr",
    "disfluent",
    "jargon",
    "l2",
    "l2-es",
    "l2-zh",
    "l2-hi",
];

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The built-in default suite.
pub fn default_suite() -> PathBuf {
    root().join("suites/warehouse-commands")
}

/// The built-in default model.
pub fn default_model() -> PathBuf {
    default_suite().join("model")
}

/// Runs the real `shakedown` binary with `args` in the repository root.
pub fn shakedown(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("spawn shakedown")
}

/// Runs the binary with `stdin` piped in.
pub fn shakedown_stdin(args: &[&str], stdin: impl AsRef<[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn shakedown");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_ref())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// The all-MiniLM-L6-v2 folder: `$SHAKEDOWN_MINILM_DIR`, else the cache `scripts/fetch_minilm.sh` fills.
/// Panics with instructions when it is missing: the golden test must not be skipped silently.
pub fn minilm_dir() -> PathBuf {
    let dir = std::env::var_os("SHAKEDOWN_MINILM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("SHAKEDOWN_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/shakedown")
                });
            cache.join("all-MiniLM-L6-v2")
        });
    assert!(
        dir.join("model.safetensors").exists(),
        "all-MiniLM-L6-v2 not found at {}: run scripts/fetch_minilm.sh (scripts/test.sh does) or set SHAKEDOWN_MINILM_DIR",
        dir.display()
    );
    dir
}

/// Parses a JSON fixture from tests/fixtures.
pub fn fixture(name: &str) -> serde_json::Value {
    let path = root().join("tests/fixtures").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read fixture")).expect("parse fixture")
}

/// Output as text, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Writes a small suite into `dir` whose model is the default model; `extra` is appended to suite.toml.
pub fn small_suite(dir: &Path, data: &str, extra: &str) -> PathBuf {
    let toml = format!(
        "name = \"small\"\nlabels = [\"move_left\", \"move_right\", \"stop\"]\ndata = [\"d.jsonl\"]\nmodel = \"{}\"\n{extra}",
        default_model().display()
    );
    std::fs::write(dir.join("suite.toml"), toml).unwrap();
    std::fs::write(dir.join("d.jsonl"), data).unwrap();
    dir.to_path_buf()
}

/// `shakedown run` on one corruption (typo:1) without the sustain phase, into `out`; `extra` adds
/// flags (a suite, schemes, a seed, ...).
pub fn quick_run(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--corruptions",
        "typo:1",
        "--no-sustain",
        "--out",
        out.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    shakedown(&args)
}

/// The first `n` test lines of the default suite's data, for suites made in tests.
pub fn default_test_lines(n: usize) -> String {
    std::fs::read_to_string(default_suite().join("data.jsonl"))
        .expect("read the default suite")
        .lines()
        .filter(|l| l.contains("\"split\": \"test\""))
        .take(n)
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A real decoder GGUF file fetched by `scripts/fetch_model.sh <name>` (`smollm2`, `gemma3`):
/// `$SHAKEDOWN_<NAME>` (e.g. SHAKEDOWN_SMOLLM2), else the cache path the script fills. Panics with
/// instructions when it is missing: golden tests must not be skipped silently.
pub fn decoder_gguf(name: &str) -> PathBuf {
    let file = match name {
        "smollm2" => "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        "gemma3" => "gemma3/gemma-3-270m-q4_k_m.gguf",
        other => panic!("no fetch rule for decoder {other}"),
    };
    let path = std::env::var_os(format!("SHAKEDOWN_{}", name.to_uppercase()))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("SHAKEDOWN_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/shakedown")
                });
            cache.join(file)
        });
    assert!(
        path.exists(),
        "{name} not found at {}: run scripts/fetch_model.sh {name} (scripts/test.sh does) or set SHAKEDOWN_{}",
        path.display(),
        name.to_uppercase()
    );
    path
}
