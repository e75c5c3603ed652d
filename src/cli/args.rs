//! The command line as clap types: flags only; `plan` turns them into the library's typed options.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Robustness and quantization shakedown for small language models before they ship to a device.
#[derive(Parser)]
#[command(name = "shakedown", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Corrupt the suite's test split, run every scheme on clean and corrupted inputs, measure sustained
    /// throughput, gate each scheme and report. Exit 0: the gate passed under its policy; 1: it failed.
    Run(RunArgs),
    /// Only the sustained-throughput phase: every scheme under continuous load, per the suite's [sustain].
    /// Writes throughput outputs, no accuracy gate; exits 0.
    Sustain(SustainArgs),
    /// Recompute statistics and the gate from a run directory's tables and re-render its outputs; with
    /// --baseline, write the re-gated verdict beside the run's own (gate-vs-<baseline>.*).
    Report(ReportArgs),
    /// Compare two or more run directories side by side.
    Compare(CompareArgs),
    /// Join the shard directories of one run (made with --shard K/N) into one run directory.
    Merge(MergeArgs),
    /// Read lines of text on stdin; print one JSON object per line (the suite task's answer, label scores,
    /// or the embedding).
    Predict(PredictArgs),
    /// Measure kernel GOP/s and end-to-end sentences/s per scheme, as ratios to f32 in the same run; for a
    /// decoder (--model a GGUF file or decoder folder): prompt processing, generation and batched tokens/s.
    Bench(BenchArgs),
    /// Write a decoder (with an optional LoRA adapter merged) as a GGUF file in a scheme GGUF can store; native with an adapter writes the adapter as llama.cpp's GGUF LoRA file.
    Export(ExportArgs),
    /// List the quantization schemes with their bits per weight.
    Schemes(SchemesArgs),
    /// A scheme against f32, for debugging it: per-layer output error for an encoder; for a decoder, the
    /// next-token statistics llama-perplexity --kl-divergence prints (KL divergence, same top-1 token,
    /// perplexity).
    Inspect(InspectArgs),
    /// Corrupt text: JSON lines (with "text", optional "id") or plain lines in; one JSON line per variant out
    /// with the corrupted text, family, severity, seed, CER, WER and edit spans.
    Corrupt(CorruptArgs),
    /// List the corruption families: what each severity aims at, what it achieves on a suite's test texts,
    /// and a live example of each severity.
    Corruptions(CorruptionsArgs),
}

#[derive(clap::Args)]
pub struct ChannelArgs {
    /// Command for the `channel` family: reads one line on stdin, writes one line on stdout; `{severity}` is
    /// replaced by 1..5 (e.g. "python3 scripts/ocr_channel.py --severity {severity}").
    /// In `run`, overrides the suite's [channel].
    #[arg(long)]
    pub channel_cmd: Option<String>,
    /// Seconds the channel command may take for one line.
    #[arg(long, default_value_t = shakedown::corrupt::channel::DEFAULT_TIMEOUT_SECONDS)]
    pub channel_timeout: f64,
}

#[derive(clap::Args)]
pub struct CorruptionsArgs {
    /// Suite whose test texts measure each family (and whose domain picks the jargon lexicon).
    /// Default: the built-in suites/warehouse-commands.
    #[arg(long)]
    pub suite: Option<PathBuf>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Measure each family's speed instead (MB of input text per second, one thread, severity 3).
    #[arg(long)]
    pub throughput: bool,
    /// Seconds per family for --throughput.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
}

#[derive(clap::Args)]
pub struct CorruptArgs {
    /// Families and severities, e.g. typo:1-5,ocr:3 or asr+jargon:2.
    #[arg(long, default_value = shakedown::corrupt::DEFAULT_CORRUPTIONS)]
    pub corruptions: String,
    /// Input file (default, or `-`: standard input). A file is read whole first, so a bad line stops
    /// the command before any output.
    #[arg(long = "in")]
    pub input: Option<PathBuf>,
    /// File to write (default, or `-`: standard output). It appears only complete: on an error nothing
    /// is left.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace `--out` if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads, up to 8 per core (64 on machines of 8 cores or fewer). Default: all cores.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Jargon lexicon: warehouse, support or clinical.
    #[arg(long, default_value = "warehouse")]
    pub domain: String,
    /// Corrupt as a run of this suite does: its domain, its own [jargon] lexicon and the words its
    /// labels hinge on (which table-driven families never bring into a text). Instead of --domain.
    #[arg(long, conflicts_with = "domain")]
    pub suite: Option<PathBuf>,
    #[command(flatten)]
    pub channel: ChannelArgs,
}

#[derive(clap::Args)]
pub struct InspectArgs {
    /// Model folder or GGUF file. Default: the suite's model, with its LoRA adapter if it names one (--model replaces both).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Scheme to inspect.
    #[arg(long)]
    pub scheme: String,
    /// Suite whose test texts are the inputs (an encoder's first 64; a decoder's first 16 prompts
    /// with their answers) and whose calibration split calibrates AWQ. Default: the built-in
    /// suites/warehouse-commands.
    #[arg(long)]
    pub suite: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Model folder. Default: the default suite's model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Schemes to measure (for an encoder f32 is always measured and shown too, as the baseline of the ratios;
    /// a decoder measures the schemes given).
    #[arg(long, default_value = "f32,int8,w4a16-rtn-g128")]
    pub schemes: String,
    /// Encoders: batch sizes of the end-to-end measurement (decoders: see --sequences).
    #[arg(long, default_value = "1,32")]
    pub batches: String,
    /// Thread counts, each up to 8 per core (64 on machines of 8 cores or fewer).
    #[arg(long, default_value = "1,2")]
    pub threads: String,
    /// Seconds per configuration.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
    /// Decoders: prompt lengths of the prompt-processing tests.
    #[arg(long, default_value = "64,512")]
    pub prompt_tokens: String,
    /// Decoders: tokens of the generation tests (one sequence).
    #[arg(long, default_value = "32,128")]
    pub gen_tokens: String,
    /// Decoders: sequences decoded together in the aggregate test (0 skips it).
    #[arg(long, default_value_t = 16)]
    pub sequences: usize,
    /// Also measure retrieval queries/s (embed + search, and search alone) per scheme and index
    /// precision on the default retrieval suite (suites/warehouse-sop-rag; pass an embedder with --model).
    #[arg(long)]
    pub retrieval: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The model: a GGUF file (a Hugging Face folder cannot be exported yet).
    #[arg(long)]
    pub model: PathBuf,
    /// A LoRA adapter (PEFT folder or llama.cpp GGUF file) to merge into the weights; with --scheme
    /// native, written alone as llama.cpp's GGUF adapter (the base file ships unchanged).
    #[arg(long)]
    pub adapter: Option<PathBuf>,
    /// GGUF-expressible scheme: native, f32, f16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k.
    #[arg(long)]
    pub scheme: String,
    /// The GGUF file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace `--out` if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args)]
pub struct Common {
    /// Suite folder (or its suite.toml). Default: the built-in suites/warehouse-commands.
    #[arg(long)]
    pub suite: Option<PathBuf>,
    /// Model folder or file. Default: the suite's model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Comma-separated schemes, e.g. f32,int8,w4a16-rtn-g128. Default: the suite's list.
    #[arg(long)]
    pub schemes: Option<String>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Use only the first N examples of the split, in file order (a quick look, not a random sample).
    #[arg(long, conflicts_with = "sample")]
    pub limit: Option<usize>,
    /// Use a random sample of N examples of the split, drawn from --seed (a fair draw; kept in file order).
    #[arg(long)]
    pub sample: Option<usize>,
    /// The split to evaluate: test, or one the suite declares in `splits` (e.g. a hand-written set).
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Run directory to write. Default: reports/runs/<suite>-seed<seed>-<UTC time>.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write into --out even when it already holds a run.
    #[arg(long)]
    pub force: bool,
    /// Worker threads, up to 8 per core (64 on machines of 8 cores or fewer). Default: all cores.
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PolicyArg {
    /// Every scheme must pass.
    All,
    /// At least one scheme must pass.
    Any,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PreferenceArg {
    Smallest,
    Fastest,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DecodingArg {
    Free,
    Json,
}

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub common: Common,
    /// Corruption families and severities, e.g. typo:1-5,ocr:3 or typo+ocr:2; `none` for clean inputs
    /// only. Default: the suite's list.
    #[arg(long)]
    pub corruptions: Option<String>,
    /// Skip the sustained-throughput phase.
    #[arg(long)]
    pub no_sustain: bool,
    /// Seconds of sustained load per scheme (overrides the suite's [sustain] duration_s; its windows
    /// shrink to a third of it when longer, so the curve has at least three).
    #[arg(long, conflicts_with = "no_sustain")]
    pub sustain_seconds: Option<f64>,
    /// Run shard K of N: the scheme x family work is dealt round-robin to N shards; join them with `merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// A baseline run directory or summary.json: fail a scheme when its primary metric falls more than the
    /// allowed points below the baseline's.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Points a scheme x family may lose against the baseline (default: the suite's gate.baseline_max_drop).
    #[arg(long, requires = "baseline")]
    pub baseline_max_drop: Option<f64>,
    /// Gate against a baseline that differs in suite, model, seed, limit, split or corruptions.
    #[arg(long, requires = "baseline")]
    pub allow_mismatch: bool,
    /// What the exit code follows (default: the suite's gate.policy, else all).
    #[arg(long, value_enum)]
    pub policy: Option<PolicyArg>,
    /// The scheme you intend to ship: the run passes when it passes (policy "ship").
    #[arg(long, conflicts_with = "policy")]
    pub ship: Option<String>,
    /// Which passing scheme to recommend (default: the suite's gate.recommend, else smallest).
    #[arg(long, value_enum)]
    pub recommend: Option<PreferenceArg>,
    /// Extraction suites: free or JSON-constrained decoding (default: the suite's extract.decoding).
    #[arg(long, value_enum)]
    pub decoding: Option<DecodingArg>,
    /// Rag suites: the decoder that answers (a GGUF file or decoder folder; default: the suite's
    /// [rag] decoder). The run's --model is the embedder.
    #[arg(long, value_name = "PATH")]
    pub decoder: Option<PathBuf>,
    #[command(flatten)]
    pub channel: ChannelArgs,
}

#[derive(clap::Args)]
pub struct SustainArgs {
    #[command(flatten)]
    pub common: Common,
    /// Seconds of sustained load per scheme (overrides the suite's [sustain] duration_s; its windows
    /// shrink to a third of it when longer, so the curve has at least three).
    #[arg(long)]
    pub sustain_seconds: Option<f64>,
}

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The run directory.
    pub run: PathBuf,
    /// A baseline run directory or summary.json to gate against (the verdict goes to gate-vs-<baseline>.*).
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Points a scheme x family may lose against the baseline.
    #[arg(long, requires = "baseline")]
    pub baseline_max_drop: Option<f64>,
    /// Gate against a baseline that differs in suite, model, seed, limit, split or corruptions.
    #[arg(long, requires = "baseline")]
    pub allow_mismatch: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Md,
    Json,
}

#[derive(clap::Args)]
pub struct CompareArgs {
    /// Run directories; the first is the base of every delta.
    #[arg(required = true, num_args = 2..)]
    pub runs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Compare runs that differ in suite, model, seed, limit, split or corruptions (paired tests are
    /// dropped where the inputs differ).
    #[arg(long)]
    pub allow_mismatch: bool,
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// Shard directories.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Run directory to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Write into --out even when it already holds a run.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args)]
pub struct PredictArgs {
    /// Model folder or file. Default: the suite's model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Answer as this suite's task does (labels, prototypes from its train split, its prompt);
    /// its calibration split calibrates AWQ. Without it: a head's label scores, an embedding, or a
    /// decoder's greedy continuation.
    #[arg(long)]
    pub suite: Option<PathBuf>,
    /// Quantization scheme to run the model in.
    #[arg(long, default_value = "f32")]
    pub scheme: String,
    /// Calibration texts for schemes that need them (AWQ), one a line.
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// Tokens a decoder generates per line at most (1 to 4096): without a suite (default 64), or in place
    /// of an extract suite's max_tokens.
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// Worker threads, up to 8 per core (64 on machines of 8 cores or fewer). Default: all cores.
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(clap::Args)]
pub struct SchemesArgs {
    /// One JSON object per scheme (name, aliases, bits per weight at rows of 1536 and 384, description).
    #[arg(long)]
    pub json: bool,
}
