//! The binary's side of the split: flags -> typed plan -> library call -> terminal tables, progress
//! and the exit code (0 pass, 1 gate failed, 2 bad input or usage, 3 internal error; a closed stdout
//! ends quietly with 0).

pub mod args;
pub mod output;
pub mod plan;
pub mod progress;
pub mod tables;

use std::path::PathBuf;
use std::process::ExitCode;

use shakedown::analysis::gate::Verdict;
use shakedown::analysis::summary::Summary;
use shakedown::engine::Scheme;
use shakedown::Error;

use args::{Command, Format};
use output::{out, outln};
use plan::{check_seconds, init_threads, load_suite, on_pool};

/// Prompts with answers `shakedown inspect` scores a decoder on.
const INSPECT_STREAMS: usize = 16;

/// Runs one command; the exit code follows its outcome.
pub fn dispatch(command: Command) -> Result<ExitCode, Error> {
    let bars = progress::Bars::new();
    match command {
        Command::Run(args) => {
            let plan = plan::plan(&args.common, Some(&args), args.sustain_seconds)?;
            let outcome = on_pool(|| shakedown::run::run(&plan, &bars))?;
            finish(&outcome.summary, outcome.gate.as_ref(), &outcome.dir)
        }
        Command::Sustain(args) => {
            let plan = plan::plan(&args.common, None, args.sustain_seconds)?;
            let outcome = on_pool(|| shakedown::run::run(&plan, &bars))?;
            out(&tables::sustain(&outcome.summary))?;
            outln(&format!("run directory: {}", outcome.dir.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => match &args.baseline {
            None => {
                let (summary, gate) = shakedown::run::rundir::rerender(&args.run)?;
                finish(&summary, gate.as_ref(), &args.run)
            }
            Some(baseline) => {
                if let Some(d) = args.baseline_max_drop.filter(|d| !(d.is_finite() && *d >= 0.0)) {
                    return Err(Error::input(
                        "--baseline-max-drop",
                        format!("{d}: expected zero or more points"),
                    ));
                }
                let r =
                    shakedown::run::rundir::regate(&args.run, baseline, args.baseline_max_drop, args.allow_mismatch)?;
                let mut text = String::new();
                for m in &r.mismatches {
                    text.push_str(&format!("note: the baseline's {}\n", m.describe()));
                }
                text.push_str(&tables::run_table(&r.summary, Some(&r.verdict)));
                text.push_str(&tables::verdict(&r.verdict));
                let files: Vec<String> = r.files.iter().map(|f| f.display().to_string()).collect();
                text.push_str(&format!(
                    "wrote {} (the run's own summary.json, junit.xml and summary.md are unchanged)\n",
                    files.join(", ")
                ));
                output::out_verdict_text(&text)?;
                Ok(exit_for(Some(&r.verdict)))
            }
        },
        Command::Compare(args) => {
            // The same folder twice is allowed (it compares to zero) but is rarely meant.
            let folders: Vec<Option<PathBuf>> = args.runs.iter().map(|d| d.canonicalize().ok()).collect();
            for (i, f) in folders.iter().enumerate() {
                if f.is_some() && folders[..i].contains(f) {
                    output::err_line(&format!(
                        "note: {} is given twice: the same run compared with itself",
                        args.runs[i].display()
                    ));
                }
            }
            let runs = args
                .runs
                .iter()
                .map(|d| shakedown::run::rundir::read(d))
                .collect::<Result<Vec<_>, _>>()?;
            let c = shakedown::run::compare::compare(&runs, args.allow_mismatch)?;
            match args.format {
                Format::Table => out(&tables::compare(&c, false))?,
                Format::Md => out(&tables::compare(&c, true))?,
                Format::Json => outln(&pretty_json(&c)?)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Merge(args) => {
            init_threads(None)?;
            let shards: Vec<&std::path::Path> = args.shards.iter().map(PathBuf::as_path).collect();
            if !args.force && std::fs::read_dir(&args.out).is_ok_and(|mut d| d.next().is_some()) {
                return Err(Error::input(
                    "--out",
                    format!(
                        "{} already holds a run; choose another directory or pass --force to overwrite it",
                        args.out.display()
                    ),
                ));
            }
            let (summary, gate) = shakedown::run::merge::merge(&shards, &args.out, args.force)?;
            finish(&summary, gate.as_ref(), &args.out)
        }
        Command::Bench(args) => {
            let list = |flag: &str, v: &str| -> Result<Vec<usize>, Error> {
                v.split(',')
                    .map(|p| p.trim().parse::<usize>().ok().filter(|n| *n > 0))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| Error::input(flag, format!("'{v}': expected positive integers separated by commas")))
            };
            let thread_list = |v: &str| -> Result<Vec<usize>, Error> {
                let threads = list("--threads", v)?;
                threads
                    .iter()
                    .try_for_each(|&n| shakedown::threads::check("--threads", n))?;
                Ok(threads)
            };
            check_seconds("--seconds", args.seconds)?;
            let suite = load_suite(None)?;
            let schemes =
                shakedown::engine::parse_scheme_list(&args.schemes).map_err(|m| Error::input("--schemes", m))?;
            if let Some(model) = &args.model {
                let source = shakedown::engine::ModelSource::open(model)?;
                if source.kind() == shakedown::engine::ModelKind::Decoder {
                    if args.retrieval {
                        return Err(Error::input(
                            "--retrieval",
                            "measures an embedder's queries/s: pass an encoder with --model (the decoder is measured without it)",
                        ));
                    }
                    let opts = shakedown::probe::bench_decoder::DecoderBenchOptions {
                        schemes,
                        threads: thread_list(&args.threads)?,
                        prompt_tokens: list("--prompt-tokens", &args.prompt_tokens)?,
                        gen_tokens: list("--gen-tokens", &args.gen_tokens)?,
                        sequences: args.sequences,
                        seconds: args.seconds,
                        calibration: suite
                            .split("calibration")
                            .iter()
                            .take(shakedown::run::CALIBRATION_TEXTS)
                            .map(|e| e.text.clone())
                            .collect(),
                    };
                    // The default suite (4,000 parsed examples, 2.5 MB) is not part of a model's footprint.
                    drop(suite);
                    let rows = shakedown::probe::bench_decoder::bench_decoder(&source, &opts)?;
                    let kernels = shakedown::engine::kernel_table();
                    if args.json {
                        outln(&pretty_json(&rows)?)?;
                    } else {
                        out(&shakedown::probe::bench_decoder::render_decoder(&rows, kernels))?;
                    }
                    return Ok(ExitCode::SUCCESS);
                }
            }
            let texts = suite.split("test").iter().take(256).map(|e| e.text.clone()).collect();
            let model = match args.model {
                Some(m) => m,
                None => plan::model_path(&plan::model_spec(None, &suite)?, &suite, &bars)?,
            };
            let opts = shakedown::probe::bench::BenchOptions {
                model,
                schemes,
                batches: list("--batches", &args.batches)?,
                threads: thread_list(&args.threads)?,
                seconds: args.seconds,
                texts,
            };
            let mut rows = shakedown::probe::bench::bench(&opts, &bars)?;
            if args.retrieval {
                let data = plan::retrieval_bench_data()?;
                rows.extend(shakedown::probe::bench_retrieval::bench_retrieval(&opts, &data, &bars)?);
            }
            let kernels = shakedown::engine::kernel_table();
            if args.json {
                outln(&pretty_json(&rows)?)?;
            } else {
                out(&tables::bench(&rows, kernels))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export(args) => {
            let scheme = plan::scheme(&args.scheme)?;
            shakedown::files::refuse_directory(&args.out)?;
            if args.out.exists() && !args.force {
                return Err(Error::input(
                    args.out.display(),
                    "already exists; pass --force to replace it",
                ));
            }
            let mut source = shakedown::engine::ModelSource::open(&args.model)?;
            if let Some(a) = &args.adapter {
                source = source.with_adapter(a)?;
            }
            let written = shakedown::engine::export::export_gguf(&source, scheme, &args.out)?;
            if written.adapter_only {
                output::err_line(&format!(
                    "wrote {}: the LoRA adapter as llama.cpp's GGUF adapter (llama-cli -m {} --lora {}); native is \
                     the model file unchanged plus this adapter, as run gates it",
                    args.out.display(),
                    args.model.display(),
                    args.out.display()
                ));
                return Ok(ExitCode::SUCCESS);
            }
            let types: Vec<String> = written.types.iter().map(|(t, n)| format!("{n} {t}")).collect();
            output::err_line(&format!(
                "wrote {} ({scheme}): tensors {}",
                args.out.display(),
                types.join(", ")
            ));
            if written.fell_back > 0 {
                output::err_line(&format!(
                    "note: {} block Linears are not {scheme}: their rows are not whole {scheme} blocks, so they take \
                     llama.cpp's fallback type (as its quantizer does, and as `run --schemes {scheme}` measures)",
                    written.fell_back
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect(args) => {
            init_threads(None)?;
            let scheme = plan::scheme(&args.scheme)?;
            let suite = load_suite(args.suite.as_deref())?;
            let spec = plan::model_spec(args.model.as_deref(), &suite)?;
            let model = plan::model_path(&spec, &suite, &bars)?;
            let mut source = shakedown::engine::ModelSource::open(&model)?;
            // The suite's adapter is part of its model: inspect what `run` gates.
            if let Some(a) = &spec.adapter {
                source = source.with_adapter(a)?;
            }
            if source.kind() == shakedown::engine::ModelKind::Decoder {
                let streams = shakedown::probe::inspect::answered_prompts(&suite, "test", INSPECT_STREAMS)?;
                let calibration_owned = shakedown::probe::inspect::answered_prompts(
                    &suite,
                    "calibration",
                    shakedown::run::CALIBRATION_TEXTS,
                )?;
                let calibration: Vec<&str> = calibration_owned.iter().map(String::as_str).collect();
                let inspection = shakedown::probe::inspect::inspect_decoder(&source, scheme, &streams, &calibration)?;
                if args.json {
                    outln(&pretty_json(&inspection)?)?;
                } else {
                    out(&tables::inspect_decoder(&inspection))?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            let texts: Vec<&str> = suite.split("test").iter().take(64).map(|e| e.text.as_str()).collect();
            let calibration: Vec<&str> = suite
                .split("calibration")
                .iter()
                .take(shakedown::run::CALIBRATION_TEXTS)
                .map(|e| e.text.as_str())
                .collect();
            let files = shakedown::engine::ModelFiles::load(&model)?;
            let inspection = shakedown::probe::inspect::inspect(&files, scheme, &texts, &calibration)?;
            if args.json {
                outln(&pretty_json(&inspection)?)?;
            } else {
                out(&tables::inspect(&inspection))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Corrupt(args) => {
            init_threads(args.threads)?;
            let mut registry = match &args.suite {
                Some(dir) => shakedown::corrupt::RegistryOptions::for_suite(&load_suite(Some(dir))?)?,
                None => shakedown::corrupt::RegistryOptions {
                    domain: Some(args.domain.clone()),
                    domain_origin: "--domain".into(),
                    ..Default::default()
                },
            };
            registry.channel = args.channel.config()?;
            // An unparsable list is refused below, naming the flag.
            if let Ok(specs) = shakedown::corrupt::parse_spec_list(&args.corruptions) {
                args.channel.warn_if_unused(&specs);
            }
            // `-` names standard input and output, as in most command-line tools.
            let dash = |p: &Option<std::path::PathBuf>| p.clone().filter(|p| p.as_os_str() != "-");
            let (input, out_path) = (dash(&args.input), dash(&args.out));
            if let Some(out) = &out_path {
                shakedown::files::refuse_directory(out)?;
                if out.exists() && !args.force {
                    return Err(Error::input(
                        out.display(),
                        "already exists; pass --force to replace it",
                    ));
                }
            }
            let mut file = out_path
                .as_deref()
                .map(shakedown::files::AtomicFile::create)
                .transpose()?;
            // `corrupt` streams many short lines: one buffered writer instead of a write per line.
            let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let (output, sink): (&mut dyn std::io::Write, String) = match &mut file {
                Some(f) => {
                    let name = f.temp_path().display().to_string();
                    (f, name)
                }
                None => (&mut stdout, "<stdout>".into()),
            };
            let spec = &args.corruptions;
            match &input {
                Some(path) => {
                    // Read once, whole: a pipe, a FIFO or /dev/stdin cannot be read a second time, and a bad
                    // line must stop the run before any output.
                    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
                    let source = path.display().to_string();
                    shakedown::corrupt::cli::check_lines(bytes.as_slice(), &source)?;
                    shakedown::corrupt::cli::corrupt_lines(
                        spec,
                        args.seed,
                        &registry,
                        bytes.as_slice(),
                        &source,
                        output,
                        &sink,
                    )?
                }
                None => {
                    let input = std::io::stdin().lock();
                    shakedown::corrupt::cli::corrupt_lines(spec, args.seed, &registry, input, "<stdin>", output, &sink)?
                }
            };
            if let Some(f) = file {
                f.commit()?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Corruptions(args) => {
            let suite = load_suite(args.suite.as_deref())?;
            let texts: Vec<(String, String)> = suite
                .split("test")
                .iter()
                .map(|e| (e.id.clone(), e.text.clone()))
                .collect();
            let registry = shakedown::corrupt::RegistryOptions::for_suite(&suite)?;
            if args.throughput {
                check_seconds("--seconds", args.seconds)?;
                let rows = shakedown::corrupt::cli::throughput(&registry, &texts, args.seconds)?;
                if args.json {
                    outln(&pretty_json(&rows)?)?;
                } else {
                    out(&shakedown::corrupt::cli::render_throughput(&rows, &suite.file.name))?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            let families = shakedown::corrupt::cli::describe_families(&registry, &texts, args.seed)?;
            if args.json {
                outln(&pretty_json(&families)?)?;
            } else {
                out(&shakedown::corrupt::cli::render_families(&families, &suite.file.name))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schemes(args) => schemes(&args),
        Command::Predict(args) => predict(args, &bars),
    }
}

/// `shakedown predict`: the model (flag, else the suite's), calibration texts when the scheme needs
/// them (a file, else the suite's calibration split), the suite's task when a suite is given.
fn predict(args: args::PredictArgs, bars: &progress::Bars) -> Result<ExitCode, Error> {
    init_threads(args.threads)?;
    let scheme = plan::scheme(&args.scheme)?;
    let mut suite = load_suite(args.suite.as_deref())?;
    let max_tokens = plan::predict_max_tokens(args.max_tokens, args.suite.is_some().then_some(&mut suite))?;
    let spec = plan::model_spec(args.model.as_deref(), &suite)?;
    let model = plan::model_path(&spec, &suite, bars)?;
    let calibration: Vec<String> = match &args.calibration {
        Some(path) => shakedown::error::read_to_string(path)?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(String::from)
            .collect(),
        None if args.suite.is_some() => suite
            .split("calibration")
            .iter()
            .take(shakedown::run::CALIBRATION_TEXTS)
            .map(|e| e.text.clone())
            .collect(),
        None => Vec::new(),
    };
    if scheme.needs_calibration() && calibration.is_empty() {
        return Err(match &args.calibration {
            Some(path) => Error::input(
                path.display(),
                format!("holds no texts; {scheme} needs calibration texts (one a line)"),
            ),
            None => Error::input(
                "--scheme",
                format!("{scheme} needs calibration texts: pass --calibration FILE (one text a line) or --suite DIR"),
            ),
        });
    }
    let opts = shakedown::probe::predict::PredictOptions {
        model: &model,
        adapter: spec.adapter.as_deref(),
        scheme,
        calibration: &calibration,
        suite: args.suite.is_some().then_some(&suite),
        max_tokens,
    };
    on_pool(|| shakedown::probe::predict::predict(&opts, std::io::stdin(), std::io::stdout().lock()))?;
    Ok(ExitCode::SUCCESS)
}

/// `shakedown schemes`: every scheme with its bits per weight, as a table or (`--json`) for scripts.
fn schemes(args: &args::SchemesArgs) -> Result<ExitCode, Error> {
    let mut text = format!("{:<22} {:>12} {:>10}  what\n", "scheme", "bits/weight*", "at 384**");
    let mut rows = Vec::new();
    for name in shakedown::engine::ALL_SCHEMES {
        let scheme: Scheme = name.parse().map_err(Error::Internal)?;
        let bits = |n: usize| {
            scheme
                .bits_per_weight(n)
                .map_or("as stored".to_string(), |b| format!("{b:.3}"))
        };
        // W8A8 is what the literature calls int8's recipe; both names are accepted.
        let aliases: &[&str] = if scheme == Scheme::Int8 { &["w8a8"] } else { &[] };
        let described = match aliases {
            [] => scheme.describe(),
            a => format!("{} (also: {})", scheme.describe(), a.join(", ")),
        };
        text.push_str(&format!(
            "{name:<22} {:>12} {:>10}  {described}\n",
            bits(1536),
            bits(384)
        ));
        rows.push(serde_json::json!({
            "name": name,
            "aliases": aliases,
            "bits_per_weight_1536": scheme.bits_per_weight(1536),
            "bits_per_weight_384": scheme.bits_per_weight(384),
            "description": scheme.describe(),
        }));
    }
    if args.json {
        outln(&pretty_json(&rows)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    text.push_str(
        "*  for a 1536-wide row (a whole number of every group and block); RTN/AWQ scales and minimums as f32\n\
         ** for a 384-wide row (most of all-MiniLM-L6-v2's Linears): Q4_K pads it to two 256-weight super-blocks\n\
         bits of the format itself; a kernel's layout can differ (AVX-512 VNNI keeps Q4_K's 6-bit scales in bytes: \
         +2.8%); runs and bench report the bytes stored\n",
    );
    out(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `value` as indented JSON.
fn pretty_json(value: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string_pretty(value).map_err(|e| Error::Internal(format!("JSON output: {e}")))
}

fn exit_for(gate: Option<&Verdict>) -> ExitCode {
    ExitCode::from(if gate.is_none_or(|g| g.passed) { 0 } else { 1 })
}

/// Prints the table and the verdict; the exit code follows the gate (shards always exit 0), also
/// when the reader of stdout went away before the verdict was printed.
fn finish(summary: &Summary, gate: Option<&Verdict>, dir: &std::path::Path) -> Result<ExitCode, Error> {
    let mut text = tables::run_table(summary, gate);
    if let Some(r) = &summary.retrieval {
        text.push_str(&tables::retrieval(r));
    }
    if let Some(shard) = &summary.meta.shard {
        text.push_str(&format!(
            "gate: not evaluated for shard {shard}; join the shards with `shakedown merge`\n"
        ));
    }
    match gate {
        Some(g) => text.push_str(&tables::verdict(g)),
        None if summary.meta.shard.is_none() && !summary.meta.sustain_only => text.push_str(
            "gate: none: suite.toml defines no [[gate.rules]], so nothing was judged (exit 0 means the run finished, not that it passed)\n",
        ),
        None => {}
    }
    text.push_str(&format!("run directory: {}\n", dir.display()));
    output::out_verdict_text(&text)?;
    Ok(exit_for(gate))
}

/// What to tell the user after an error, besides the error itself.
pub fn hint(e: &Error) -> Option<&'static str> {
    let text = e.to_string();
    if matches!(e, Error::Incomparable { .. }) {
        return Some("pass --allow-mismatch to compare them anyway");
    }
    if text.contains("gave no output line within") {
        return Some(
            "a command that buffers its output answers only when the buffer fills: make it flush each line \
             (sed -u, python3 -u, or stdbuf -oL CMD)",
        );
    }
    None
}
