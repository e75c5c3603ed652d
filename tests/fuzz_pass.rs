//! The short fuzz pass CI runs: every cargo-fuzz target's body (`fuzz/bodies/`) over its committed seeds, its
//! regression inputs and a fixed number of seeded mutations of them, in the ordinary release test build.
//!
//! Why not `cargo fuzz run` in CI: the instrumented build of the fuzz crate (polars and tokenizers with
//! coverage counters) takes 20 minutes on CI's two cores, on top of the test run, and CI keeps no build cache.
//! This pass calls the same bodies without coverage guidance: it cannot steer into new paths as libFuzzer
//! does, but every input it makes is a real input to the parser, it is deterministic (same seed, same
//! inputs), and a panic fails the test with the input written under `target/fuzz-pass/<target>/`, where
//! `cargo +nightly fuzz run <target> <file>` replays it. The long coverage-guided runs (10^6 executions per
//! target) are `scripts/fuzz/run.sh`; their counts are in the README.
//!
//! The mutations are the usual byte-level ones (bit flips, "interesting" bytes and little-endian integers,
//! insertions, deletions, duplicated ranges, truncation, splices of two seeds), one to four stacked per
//! input. `SHAKEDOWN_FUZZ_PASS_RUNS` sets the mutations per target (default 20 000, a few seconds per target);
//! `SHAKEDOWN_FUZZ_PASS_LAST=FILE` keeps the input being run in FILE (for aborts, which cannot be caught).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

macro_rules! targets {
    ($($name:ident = $file:literal),* $(,)?) => {
        $(
            #[path = $file]
            mod $name;

            #[test]
            fn $name() {
                pass(stringify!($name), $name::run);
            }
        )*
    };
}

targets!(
    suite_toml = "../fuzz/bodies/suite_toml.rs",
    data_jsonl = "../fuzz/bodies/data_jsonl.rs",
    scheme_names = "../fuzz/bodies/scheme_names.rs",
    corruption_specs = "../fuzz/bodies/corruption_specs.rs",
    gate_rules = "../fuzz/bodies/gate_rules.rs",
    run_tables = "../fuzz/bodies/run_tables.rs",
    model_files = "../fuzz/bodies/model_files.rs",
    extract_answer = "../fuzz/bodies/extract_answer.rs",
    gguf = "../fuzz/bodies/gguf.rs",
);

/// Inputs kept for a target: its seeds and its regressions, in name order (the pass is deterministic).
fn committed(target: &str) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files: Vec<PathBuf> = ["seeds", "regressions"]
        .iter()
        .filter_map(|kind| std::fs::read_dir(root.join(kind).join(target)).ok())
        .flat_map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn runs() -> usize {
    std::env::var("SHAKEDOWN_FUZZ_PASS_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// Runs the committed inputs, then `runs()` mutations of them; the first input that panics is written out
/// and fails the test.
fn pass(target: &str, body: fn(&[u8])) {
    let seeds = committed(target);
    assert!(!seeds.is_empty(), "fuzz/seeds/{target} holds no seed");
    // One seed per target, from its name: targets do not share a mutation stream.
    let seed = target.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = StdRng::seed_from_u64(seed);
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failure = None;
    let inputs = seeds
        .iter()
        .cloned()
        .chain((0..runs()).map(|_| mutate(&seeds, &mut rng)));
    // An abort (a failed allocation) cannot be caught: with SHAKEDOWN_FUZZ_PASS_LAST=FILE each input is
    // written there before it runs, so the one that aborted the process is left behind.
    let last = std::env::var_os("SHAKEDOWN_FUZZ_PASS_LAST");
    for input in inputs {
        if let Some(file) = &last {
            let _ = std::fs::write(file, &input);
        }
        if catch_unwind(AssertUnwindSafe(|| body(&input))).is_err() {
            failure = Some(input);
            break;
        }
    }
    std::panic::set_hook(quiet);
    if let Some(input) = failure {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-pass").join(target);
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(format!("crash-{:016x}", fnv(&input)));
        let _ = std::fs::write(&file, &input);
        // Run once more outside catch_unwind's silence so the panic message is in the test's output.
        body(&input);
        panic!("{target}: an input panicked (kept in {})", file.display());
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// One to four stacked byte-level mutations of a committed input (possibly spliced with another).
fn mutate(seeds: &[Vec<u8>], rng: &mut StdRng) -> Vec<u8> {
    const BYTES: [u8; 8] = [0, 1, 0x7f, 0x80, 0xff, b'"', b'\n', b'9'];
    const WORDS: [u64; 7] = [0, 1, 0x7fff_ffff, 0xffff_ffff, 0x8000_0000_0000_0000, u64::MAX, 1 << 40];
    let mut out = seeds[rng.random_range(0..seeds.len())].clone();
    for _ in 0..rng.random_range(1..=4) {
        let len = out.len();
        match rng.random_range(0..8) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] = BYTES[rng.random_range(0..BYTES.len())];
            }
            2 if len >= 8 => {
                let width = [2usize, 4, 8][rng.random_range(0..3)];
                let i = rng.random_range(0..=len - width);
                let word = WORDS[rng.random_range(0..WORDS.len())].to_le_bytes();
                out[i..i + width].copy_from_slice(&word[..width]);
            }
            3 => {
                let i = rng.random_range(0..=len);
                let n = rng.random_range(1..=16);
                let fill: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                out.splice(i..i, fill);
            }
            4 if len > 0 => {
                let i = rng.random_range(0..len);
                let n = rng.random_range(1..=(len - i).min(64));
                out.drain(i..i + n);
            }
            5 if len > 0 => {
                let i = rng.random_range(0..len);
                let n = rng.random_range(1..=(len - i).min(64));
                let copy = out[i..i + n].to_vec();
                let at = rng.random_range(0..=len);
                out.splice(at..at, copy);
            }
            6 if len > 0 => out.truncate(rng.random_range(0..len)),
            7 => {
                let other = &seeds[rng.random_range(0..seeds.len())];
                let cut = rng.random_range(0..=len);
                let from = rng.random_range(0..=other.len());
                out.truncate(cut);
                out.extend_from_slice(&other[from..]);
            }
            _ => {}
        }
    }
    out
}
