//! The `shakedown` command line: parses flags into the library's options, runs one command,
//! maps the outcome to an exit code (0 pass, 1 gate failed, 2 bad input or usage, 3 internal error).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use shakedown::analysis::summary::{render_table, Summary};
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
    /// Corrupt the suite's test split, run every scheme on clean and corrupted inputs, measure sustained
    /// throughput, gate and report.
    Run(RunArgs),
    /// Only the sustained-throughput phase: every scheme under continuous load, per the suite's [sustain].
    Sustain(SustainArgs),
    /// Recompute statistics and the gate from a run directory's tables and re-render its outputs.
    Report(ReportArgs),
    /// Compare two or more run directories side by side.
    Compare(CompareArgs),
    /// Join the shard directories of one run (made with --shard K/N) into one run directory.
    Merge(MergeArgs),
    /// Read lines of text on stdin; print one JSON object per line (label scores, or the embedding).
    Predict(PredictArgs),
    /// Measure kernel GOP/s and end-to-end sentences/s per scheme, as ratios to f32 in the same run.
    Bench(BenchArgs),
    /// List the quantization schemes with their bits per weight.
    Schemes,
    /// Per-layer output error of a scheme against f32, for debugging a scheme.
    Inspect(InspectArgs),
    /// Corrupt text: JSON lines (with "text", optional "id") or plain lines in; one JSON line per variant out
    /// with the corrupted text, family, severity, seed, CER, WER and edit spans.
    Corrupt(CorruptArgs),
    /// List the corruption families: what each severity aims at, what it achieves on a suite's test texts,
    /// and a live example of each severity.
    Corruptions(CorruptionsArgs),
}

#[derive(clap::Args)]
struct ChannelArgs {
    /// Command for the `channel` family: reads one line on stdin, writes one line on stdout; `{severity}` is
    /// replaced by 1..5 (e.g. "python3 scripts/ocr_channel.py --severity {severity}").
    /// In `run`, overrides the suite's [channel].
    #[arg(long)]
    channel_cmd: Option<String>,
    /// Seconds the channel command may take for one line.
    #[arg(long, default_value_t = shakedown::corrupt::channel::DEFAULT_TIMEOUT_SECONDS)]
    channel_timeout: f64,
}

impl ChannelArgs {
    fn config(&self) -> Result<Option<shakedown::corrupt::channel::ChannelConfig>, Error> {
        self.channel_cmd
            .as_deref()
            .map(|cmd| shakedown::run::channel_config(cmd, self.channel_timeout, "--channel-cmd"))
            .transpose()
    }
}

#[derive(clap::Args)]
struct CorruptionsArgs {
    /// Suite whose test texts measure each family (and whose domain picks the jargon lexicon).
    /// Default: the built-in suites/warehouse-commands.
    #[arg(long)]
    suite: Option<PathBuf>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Measure each family's speed instead (MB of input text per second, one thread, severity 3).
    #[arg(long)]
    throughput: bool,
    /// Seconds per family for --throughput.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
}

#[derive(clap::Args)]
struct CorruptArgs {
    /// Families and severities, e.g. typo:1-5,ocr:3 or asr+jargon:2.
    #[arg(long, default_value = shakedown::corrupt::DEFAULT_CORRUPTIONS)]
    corruptions: String,
    /// Input file (default: standard input).
    #[arg(long = "in")]
    input: Option<PathBuf>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads. Default: all cores.
    #[arg(long)]
    threads: Option<usize>,
    /// Jargon lexicon: warehouse, support or clinical.
    #[arg(long, default_value = "warehouse")]
    domain: String,
    #[command(flatten)]
    channel: ChannelArgs,
}

#[derive(clap::Args)]
struct InspectArgs {
    /// Model folder.
    #[arg(long)]
    model: PathBuf,
    /// Scheme to inspect.
    #[arg(long)]
    scheme: String,
    /// Suite whose test texts (first 64) are the inputs and whose calibration split calibrates AWQ.
    #[arg(long)]
    suite: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Model folder. Default: the default suite's model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Schemes to measure (f32 is always measured as the baseline).
    #[arg(long, default_value = "f32,int8,w4a16-rtn-g128")]
    schemes: String,
    /// Batch sizes for the end-to-end measurement.
    #[arg(long, default_value = "1,32")]
    batches: String,
    /// Thread counts.
    #[arg(long, default_value = "1,2")]
    threads: String,
    /// Seconds per configuration.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Also measure retrieval queries/s (embed + search, and search alone) per scheme and index
    /// precision on the default retrieval suite (suites/warehouse-sop-rag; pass an embedder with --model).
    #[arg(long)]
    retrieval: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct Common {
    /// Suite folder (or its suite.toml). Default: the built-in suites/warehouse-commands.
    #[arg(long)]
    suite: Option<PathBuf>,
    /// Model folder (config.json, model.safetensors, tokenizer.json). Default: the suite's model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Comma-separated schemes, e.g. f32,int8,w4a16-rtn-g128. Default: the suite's list.
    #[arg(long)]
    schemes: Option<String>,
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
struct RunArgs {
    #[command(flatten)]
    common: Common,
    /// Corruption families and severities, e.g. typo:1-5,ocr:3 or typo+ocr:2. Default: the suite's list.
    #[arg(long)]
    corruptions: Option<String>,
    /// Skip the sustained-throughput phase.
    #[arg(long)]
    no_sustain: bool,
    /// Seconds of sustained load per scheme (overrides the suite's [sustain] duration_s).
    #[arg(long)]
    sustain_seconds: Option<f64>,
    /// Run shard K of N: the scheme x family work is dealt round-robin to N shards; join them with `merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// A baseline run directory or summary.json: fail when any accuracy falls more than the allowed points below it.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Points of accuracy a scheme x family may lose against the baseline (default: the suite's gate.baseline_max_drop).
    #[arg(long)]
    baseline_max_drop: Option<f64>,
    #[command(flatten)]
    channel: ChannelArgs,
}

#[derive(clap::Args)]
struct SustainArgs {
    #[command(flatten)]
    common: Common,
    /// Seconds of sustained load per scheme (overrides the suite's [sustain] duration_s).
    #[arg(long)]
    sustain_seconds: Option<f64>,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// The run directory.
    run: PathBuf,
    /// A baseline run directory or summary.json to gate against.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Points of accuracy a scheme x family may lose against the baseline.
    #[arg(long)]
    baseline_max_drop: Option<f64>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Md,
    Json,
}

#[derive(clap::Args)]
struct CompareArgs {
    /// Run directories; the first is the base of every delta.
    #[arg(required = true, num_args = 2..)]
    runs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(clap::Args)]
struct MergeArgs {
    /// Shard directories.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// Run directory to write.
    #[arg(long)]
    out: PathBuf,
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
    shakedown::memory::keep_freed_memory();
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
            let mut opts = options(args.common)?;
            opts.corruptions = args.corruptions;
            opts.no_sustain = args.no_sustain;
            opts.sustain_seconds = args.sustain_seconds;
            opts.baseline = args.baseline;
            opts.baseline_max_drop = args.baseline_max_drop;
            opts.channel = args.channel.config()?;
            opts.shard = match &args.shard {
                Some(s) => Some(shakedown::run::merge::parse_shard(s).map_err(|m| Error::input("--shard", m))?),
                None => None,
            };
            let outcome = run(&opts, &|line| eprintln!("{line}"))?;
            finish(outcome.summary, &Some(outcome.dir))
        }
        Command::Sustain(args) => {
            let mut opts = options(args.common)?;
            opts.sustain_only = true;
            opts.sustain_seconds = args.sustain_seconds;
            let outcome = run(&opts, &|line| eprintln!("{line}"))?;
            print!("{}", render_sustain(&outcome.summary));
            println!("run directory: {}", outcome.dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => {
            let baseline = args.baseline.as_deref().map(|p| (p, args.baseline_max_drop));
            let summary = shakedown::run::rundir::rerender(&args.run, baseline)?;
            finish(summary, &Some(args.run))
        }
        Command::Compare(args) => {
            let runs = args
                .runs
                .iter()
                .map(|d| shakedown::run::rundir::read(d))
                .collect::<Result<Vec<_>, _>>()?;
            let c = shakedown::run::compare::compare(&runs);
            match args.format {
                Format::Table => print!("{}", shakedown::run::compare::render(&c, false)),
                Format::Md => print!("{}", shakedown::run::compare::render(&c, true)),
                Format::Json => println!("{}", pretty_json(&c)?),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Merge(args) => {
            init_threads(None)?;
            let shards: Vec<&std::path::Path> = args.shards.iter().map(PathBuf::as_path).collect();
            let summary = shakedown::run::merge::merge(&shards, &args.out)?;
            finish(summary, &Some(args.out))
        }
        Command::Bench(args) => {
            let list = |flag: &str, v: &str| -> Result<Vec<usize>, Error> {
                v.split(',')
                    .map(|p| p.trim().parse::<usize>().ok().filter(|n| *n > 0))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| Error::input(flag, format!("'{v}': expected positive integers separated by commas")))
            };
            check_seconds("--seconds", args.seconds)?;
            let suite = shakedown::suite::Suite::load(&default_suite())?;
            let texts = suite.split("test").iter().take(256).map(|e| e.text.clone()).collect();
            let opts = shakedown::probe::bench::BenchOptions {
                model: args.model.or_else(|| suite.default_model()).unwrap_or_default(),
                schemes: shakedown::engine::quant::scheme::parse_scheme_list(&args.schemes)
                    .map_err(|m| Error::input("--schemes", m))?,
                batches: list("--batches", &args.batches)?,
                threads: list("--threads", &args.threads)?,
                seconds: args.seconds,
                texts,
            };
            let mut rows = shakedown::probe::bench::bench(&opts)?;
            if args.retrieval {
                let data = retrieval_bench_data()?;
                rows.extend(shakedown::probe::bench_retrieval::bench_retrieval(&opts, &data)?);
            }
            let kernels = shakedown::engine::kernels::kernels().name();
            if args.json {
                println!("{}", pretty_json(&rows)?);
            } else {
                print!("{}", shakedown::probe::bench::render(&rows, kernels));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect(args) => {
            init_threads(None)?;
            let scheme: Scheme = args.scheme.parse().map_err(|m: String| Error::input("--scheme", m))?;
            let suite = shakedown::suite::Suite::load(&args.suite.unwrap_or_else(default_suite))?;
            let texts: Vec<&str> = suite.split("test").iter().take(64).map(|e| e.text.as_str()).collect();
            let calibration: Vec<&str> = suite
                .split("calibration")
                .iter()
                .take(shakedown::run::CALIBRATION_TEXTS)
                .map(|e| e.text.as_str())
                .collect();
            let files = shakedown::engine::ModelFiles::load(&args.model)?;
            let inspection = shakedown::probe::inspect::inspect(&files, scheme, &texts, &calibration)?;
            if args.json {
                println!("{}", pretty_json(&inspection)?);
            } else {
                print!("{}", shakedown::probe::inspect::render(&inspection));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Corrupt(args) => {
            init_threads(args.threads)?;
            let registry = shakedown::corrupt::RegistryOptions {
                domain: Some(args.domain.clone()),
                domain_origin: "--domain".into(),
                channel: args.channel.config()?,
            };
            let out = std::io::stdout().lock();
            let spec = &args.corruptions;
            match &args.input {
                Some(path) => {
                    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
                    let input = std::io::BufReader::new(file);
                    shakedown::corrupt::cli::corrupt_lines(spec, args.seed, &registry, input, out)?
                }
                None => {
                    let input = std::io::stdin().lock();
                    shakedown::corrupt::cli::corrupt_lines(spec, args.seed, &registry, input, out)?
                }
            };
            Ok(ExitCode::SUCCESS)
        }
        Command::Corruptions(args) => {
            let suite = shakedown::suite::Suite::load(&args.suite.unwrap_or_else(default_suite))?;
            let texts: Vec<(String, String)> = suite
                .split("test")
                .iter()
                .map(|e| (e.id.clone(), e.text.clone()))
                .collect();
            let registry = shakedown::corrupt::RegistryOptions {
                domain: suite.file.domain.clone(),
                domain_origin: format!("{}: field domain", suite.dir.join("suite.toml").display()),
                channel: None,
            };
            if args.throughput {
                check_seconds("--seconds", args.seconds)?;
                let rows = shakedown::corrupt::cli::throughput(&registry, &texts, args.seconds)?;
                if args.json {
                    println!("{}", pretty_json(&rows)?);
                } else {
                    print!(
                        "{}",
                        shakedown::corrupt::cli::render_throughput(&rows, &suite.file.name)
                    );
                }
                return Ok(ExitCode::SUCCESS);
            }
            let families = shakedown::corrupt::cli::describe_families(&registry, &texts, args.seed)?;
            if args.json {
                println!("{}", pretty_json(&families)?);
            } else {
                print!(
                    "{}",
                    shakedown::corrupt::cli::render_families(&families, &suite.file.name)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schemes => {
            println!("{:<22} {:>12} {:>10}  what", "scheme", "bits/weight*", "at 384**");
            for name in shakedown::engine::quant::scheme::ALL_SCHEMES {
                let scheme: Scheme = name.parse().map_err(Error::Internal)?;
                println!(
                    "{name:<22} {:>12.3} {:>10.3}  {}",
                    scheme.bits_per_weight(1536),
                    scheme.bits_per_weight(384),
                    scheme.describe()
                );
            }
            println!(
                "*  for a 1536-wide row (a whole number of every group and block); RTN/AWQ scales and minimums as f32"
            );
            println!("** for a 384-wide row (most of all-MiniLM-L6-v2's Linears): Q4_K pads it to two 256-weight super-blocks");
            println!(
                "bits of the format itself; a kernel's layout can differ (AVX-512 VNNI keeps Q4_K's 6-bit scales in bytes: \
                 +2.8%); runs and bench report the bytes stored"
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Predict(args) => {
            init_threads(args.threads)?;
            let scheme: Scheme = args.scheme.parse().map_err(|m: String| Error::input("--scheme", m))?;
            let stdin = std::io::stdin();
            shakedown::probe::predict::predict(&args.model, scheme, stdin.lock(), std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A seconds flag: positive, finite and at most a day.
fn check_seconds(flag: &str, seconds: f64) -> Result<(), Error> {
    if seconds > 0.0 && seconds <= 86_400.0 {
        Ok(())
    } else {
        Err(Error::input(
            flag,
            format!("{seconds}: expected a positive number of seconds, at most 86400"),
        ))
    }
}

/// `value` as indented JSON.
fn pretty_json(value: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string_pretty(value).map_err(|e| Error::Internal(format!("JSON output: {e}")))
}

fn options(c: Common) -> Result<RunOptions, Error> {
    let threads = init_threads(c.threads)?;
    if c.limit == Some(0) {
        return Err(Error::input("--limit", "expected at least 1"));
    }
    Ok(RunOptions {
        suite: c.suite.unwrap_or_else(default_suite),
        model: c.model,
        schemes: c.schemes,
        seed: c.seed,
        limit: c.limit,
        out: c.out,
        threads,
        ..RunOptions::default()
    })
}

/// Prints the table and the verdict; the exit code follows the gate (shards always exit 0).
fn finish(summary: Summary, dir: &Option<PathBuf>) -> Result<ExitCode, Error> {
    print!("{}", render_table(&summary));
    if summary.meta.shard.is_some() {
        println!(
            "gate: not evaluated for shard {}; join the shards with `shakedown merge`",
            summary.meta.shard.unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    for c in summary.gate.checks.iter().filter(|c| !c.passed) {
        println!("FAIL {} [{}, {}]: {}", c.rule, c.scheme, c.family, c.reason);
    }
    println!("gate: {}", if summary.gate.passed { "PASSED" } else { "FAILED" });
    if let Some(dir) = dir {
        println!("run directory: {}", dir.display());
    }
    Ok(ExitCode::from(if summary.gate.passed { 0 } else { 1 }))
}

fn render_sustain(summary: &Summary) -> String {
    let mut out = format!(
        "{:<18} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9}\n",
        "scheme", "sustained", "burst", "stability", "p50 ms", "p95 ms", "p99 ms"
    );
    for s in &summary.schemes {
        if let Some(t) = &s.throughput {
            out.push_str(&format!(
                "{:<18} {:>10.1} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}\n",
                s.scheme,
                t.sustained_items_per_s,
                t.burst_items_per_s,
                t.stability,
                t.latency_p50_ms,
                t.latency_p95_ms,
                t.latency_p99_ms
            ));
        }
    }
    out.push_str(
        "items/s; sustained = median of the last third of the windows, stability = slowest / fastest window\n",
    );
    out
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
    shipped_suite("warehouse-commands")
}

/// `suites/NAME` under the current directory, else the one in the source tree.
fn shipped_suite(name: &str) -> PathBuf {
    let local = PathBuf::from("suites").join(name);
    if local.join("suite.toml").exists() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("suites").join(name)
    }
}

/// The default retrieval suite's chunks, test questions and calibration questions, for `bench --retrieval`.
fn retrieval_bench_data() -> Result<shakedown::probe::bench_retrieval::RetrievalBench, Error> {
    use shakedown::task::retrieve::{load_corpus, load_queries};
    let dir = shipped_suite("warehouse-sop-rag");
    let corpus = load_corpus(&dir.join("corpus.jsonl"))?;
    let queries = load_queries(&[&dir.join("queries.jsonl")], &corpus)?;
    let split = |name: &str| -> Vec<String> {
        queries
            .iter()
            .filter(|q| q.split == name)
            .map(|q| q.text.clone())
            .collect()
    };
    Ok(shakedown::probe::bench_retrieval::RetrievalBench {
        chunks: corpus.into_iter().map(|c| (c.id, c.text)).collect(),
        queries: split("test"),
        calibration: split("calibration")
            .into_iter()
            .take(shakedown::run::CALIBRATION_TEXTS)
            .collect(),
    })
}
