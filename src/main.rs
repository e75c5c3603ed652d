//! The `shakedown` command line: parses flags into the library's options, runs one command,
//! maps the outcome to an exit code (0 pass, 1 gate failed, 2 bad input or usage, 3 internal error).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shakedown::engine::Scheme;
use shakedown::run::{run, RunOptions};
use shakedown::Error;

/// Robustness and quantization shakedown for small language models before they ship to a device.
#[derive(Parser)]
#[command(name = "shakedown", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Corrupt the suite's test split, run every scheme on clean and corrupted inputs, gate and report.
    Run(RunArgs),
    /// Read lines of text on stdin; print one JSON object per line (label scores, or the embedding).
    Predict(PredictArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Suite folder (or its suite.toml). Default: the built-in suites/warehouse-commands.
    #[arg(long)]
    suite: Option<PathBuf>,
    /// Model folder (config.json, model.safetensors, tokenizer.json). Default: the suite's model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Comma-separated schemes, e.g. f32,int8,w4a16-rtn-g128. Default: the suite's list.
    #[arg(long)]
    schemes: Option<String>,
    /// Corruption families and severities, e.g. typo:1-5,ocr:3 or typo+ocr:2. Default: the suite's list.
    #[arg(long)]
    corruptions: Option<String>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Use only the first N test examples.
    #[arg(long)]
    limit: Option<usize>,
    /// Run directory to write. Default: reports/runs/<suite>-seed<seed>-<time>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads. Default: all cores.
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(clap::Args)]
struct PredictArgs {
    /// Model folder (config.json, model.safetensors, tokenizer.json).
    #[arg(long)]
    model: PathBuf,
    /// Quantization scheme to run the model in.
    #[arg(long, default_value = "f32")]
    scheme: String,
    /// Worker threads. Default: all cores.
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.is_user_error() { 2 } else { 3 })
        }
    }
}

fn dispatch(command: Command) -> Result<ExitCode, Error> {
    match command {
        Command::Run(args) => {
            let threads = init_threads(args.threads)?;
            if args.limit == Some(0) {
                return Err(Error::input("--limit", "expected at least 1"));
            }
            let opts = RunOptions {
                suite: args.suite.unwrap_or_else(default_suite),
                model: args.model,
                schemes: args.schemes,
                corruptions: args.corruptions,
                seed: args.seed,
                limit: args.limit,
                out: args.out,
                threads,
            };
            let outcome = run(&opts, &|line| eprintln!("{line}"))?;
            print!("{}", outcome.table);
            let gate = &outcome.summary.gate;
            for c in gate.checks.iter().filter(|c| !c.passed) {
                println!("FAIL {} [{}, {}]: {}", c.rule, c.scheme, c.family, c.reason);
            }
            println!("gate: {}", if gate.passed { "PASSED" } else { "FAILED" });
            println!("run directory: {}", outcome.dir.display());
            Ok(ExitCode::from(if gate.passed { 0 } else { 1 }))
        }
        Command::Predict(args) => {
            init_threads(args.threads)?;
            let scheme: Scheme = args.scheme.parse().map_err(|m: String| Error::input("--scheme", m))?;
            let stdin = std::io::stdin();
            shakedown::predict::predict(&args.model, scheme, stdin.lock(), std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Sizes rayon's global pool; returns the thread count in use.
fn init_threads(threads: Option<usize>) -> Result<usize, Error> {
    if threads == Some(0) {
        return Err(Error::input("--threads", "expected at least 1"));
    }
    let n = threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
    Ok(n)
}

/// `suites/warehouse-commands` under the current directory, else the one in the source tree.
fn default_suite() -> PathBuf {
    let local = PathBuf::from("suites/warehouse-commands");
    if local.join("suite.toml").exists() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("suites/warehouse-commands")
    }
}
