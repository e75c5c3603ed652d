//! `shakedown run` and `shakedown sustain`: suite + model + schemes + corruptions -> run directory and verdict.

pub mod compare;
pub mod merge;
pub mod rundir;

use std::path::{Path, PathBuf};

use crate::analysis::gate::Baseline;
use crate::analysis::results::{EvalRow, CLEAN};
use crate::analysis::summary::{build, render_table, RunMeta, SchemeInfo, Summary, WeightStats};
use crate::corrupt::channel::ChannelConfig;
use crate::corrupt::{parse_specs, CorruptionSpec, Registry, RegistryOptions, DEFAULT_CORRUPTIONS};
use crate::engine::quant::scheme::{parse_scheme_list, DEFAULT_SCHEMES};
use crate::engine::{Model, ModelFiles, Scheme};
use crate::error::{Error, Result};
use crate::eval::fidelity::fidelity;
use crate::eval::sustain::{self, SustainConfig, Window};
use crate::eval::{evaluate_with_outputs, make_variants, VariantItem};
use crate::suite::{Example, Suite};
use crate::task::{HeadClassifier, PrototypeClassifier, Scorer};

/// Calibration texts used at most by activation-aware schemes.
pub const CALIBRATION_TEXTS: usize = 128;

/// Everything `run` needs, validated by the caller only as far as types go.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub suite: PathBuf,
    pub model: Option<PathBuf>,
    pub schemes: Option<String>,
    pub corruptions: Option<String>,
    pub seed: u64,
    pub limit: Option<usize>,
    pub out: Option<PathBuf>,
    pub threads: usize,
    /// Skip the sustained-throughput phase.
    pub no_sustain: bool,
    /// Override of the suite's `[sustain] duration_s`.
    pub sustain_seconds: Option<f64>,
    /// Only evaluate the sustain phase (`shakedown sustain`), no accuracy matrix.
    pub sustain_only: bool,
    /// `(k, n)`: run shard k of n, splitting the work by scheme x family.
    pub shard: Option<(usize, usize)>,
    /// A baseline run directory or summary.json, and the allowed accuracy loss in points.
    pub baseline: Option<PathBuf>,
    pub baseline_max_drop: Option<f64>,
    /// The `channel` family's command from the command line (overrides the suite's `[channel]`).
    pub channel: Option<ChannelConfig>,
}

/// What a finished run produced.
pub struct RunOutcome {
    pub dir: PathBuf,
    pub summary: Summary,
    pub table: String,
}

/// The corruption registry's settings: the suite's domain and the channel command (flag, else suite).
fn registry_options(opts: &RunOptions, suite: &Suite, toml_path: &str) -> Result<RegistryOptions> {
    let channel = match (&opts.channel, &suite.file.channel) {
        (Some(c), _) => Some(c.clone()),
        (None, Some(section)) => Some(channel_config(
            &section.command,
            section.timeout_s,
            &format!("{toml_path}: [channel]"),
        )?),
        (None, None) => None,
    };
    Ok(RegistryOptions {
        channel,
        ..RegistryOptions::for_suite(suite)?
    })
}

/// A channel configuration with a checked timeout.
pub fn channel_config(command: &str, timeout_s: f64, origin: &str) -> Result<ChannelConfig> {
    if command.trim().is_empty() {
        return Err(Error::input(origin, "the channel command is empty"));
    }
    if !(timeout_s.is_finite() && timeout_s > 0.0 && timeout_s <= 86_400.0) {
        return Err(Error::input(
            origin,
            format!("channel timeout {timeout_s}: expected seconds > 0 (at most a day)"),
        ));
    }
    Ok(ChannelConfig {
        command: command.to_string(),
        timeout: std::time::Duration::from_secs_f64(timeout_s),
        origin: origin.to_string(),
    })
}

/// Runs the whole matrix, writes the run directory and returns the verdict. `log` receives progress lines.
pub fn run(opts: &RunOptions, log: &dyn Fn(&str)) -> Result<RunOutcome> {
    let suite = Suite::load(&opts.suite)?;
    let toml_path = suite.dir.join("suite.toml").display().to_string();
    let schemes = resolve_schemes(opts, &suite, &toml_path)?;
    let registry = Registry::with_options(&registry_options(opts, &suite, &toml_path)?)?;
    let corruptions = if opts.sustain_only {
        String::new()
    } else {
        opts.corruptions
            .clone()
            .or(suite.file.corruptions.clone())
            .unwrap_or_else(|| DEFAULT_CORRUPTIONS.into())
    };
    let origin = if opts.corruptions.is_some() {
        "--corruptions".to_string()
    } else {
        format!("{toml_path}: field corruptions")
    };
    let specs = parse_specs(&corruptions, &registry).map_err(|m| Error::input(origin, m))?;
    let model_dir = opts.model.clone().or_else(|| suite.default_model()).ok_or_else(|| {
        Error::input(
            &toml_path,
            "field model: the suite names no default model; pass --model DIR",
        )
    })?;
    let sustain_cfg = sustain_config(opts, &suite)?;
    let baseline = match &opts.baseline {
        Some(path) => {
            let base = rundir::read_summary(path)?;
            let max_drop = opts.baseline_max_drop.unwrap_or(suite.file.gate.baseline_max_drop);
            Some(Baseline::from_summary(&path.display().to_string(), &base, max_drop))
        }
        None => None,
    };

    let mut test = suite.split("test");
    if let Some(n) = opts.limit {
        test.truncate(n);
    }
    log(&format!(
        "suite {} ({} test examples), model {}",
        suite.file.name,
        test.len(),
        model_dir.display()
    ));
    let files = ModelFiles::load(&model_dir)?;
    let variants = make_variants(&test, &specs, &registry, opts.seed)?;
    let families: Vec<String> = specs.iter().map(CorruptionSpec::name).collect();
    // Activation-aware schemes calibrate on (up to CALIBRATION_TEXTS of) the suite's calibration split.
    let calibration: Vec<&str> = suite
        .split("calibration")
        .iter()
        .take(CALIBRATION_TEXTS)
        .map(|e| e.text.as_str())
        .collect();
    if schemes.iter().any(Scheme::needs_calibration) && calibration.is_empty() {
        return Err(Error::input(
            &toml_path,
            "field data: AWQ schemes need examples with split \"calibration\"",
        ));
    }

    let mut rows: Vec<EvalRow> = Vec::new();
    let mut windows: Vec<Window> = Vec::new();
    let mut infos = Vec::new();
    let mut classifier = String::new();
    let mut reference_outputs: Option<Vec<Vec<f32>>> = None;
    // A shard that evaluates some scheme's clean inputs but not the reference's still measures fidelity:
    // it runs the reference on the clean inputs first (those rows belong to another shard).
    let has_clean = |s: usize| shard_units(s, &families, opts.shard).iter().any(|u| u == CLEAN);
    if !opts.sustain_only && !has_clean(0) && (1..schemes.len()).any(has_clean) {
        let model = Model::build_calibrated(&files, schemes[0], &calibration)?;
        let scorer = make_scorer(model, &suite, &model_dir, &mut classifier)?;
        let clean: Vec<VariantItem> = variants.iter().filter(|v| v.family == CLEAN).cloned().collect();
        let evaluated = evaluate_with_outputs(scorer.as_ref(), &schemes[0].to_string(), &test, &clean, opts.seed)?;
        reference_outputs = Some(evaluated.clean_outputs);
    }
    for (s, &scheme) in schemes.iter().enumerate() {
        let units = shard_units(s, &families, opts.shard);
        let runs_sustain = sustain_cfg.is_some() && units.iter().any(|u| u == CLEAN);
        if units.is_empty() && !runs_sustain {
            infos.push(SchemeInfo {
                name: scheme.to_string(),
                ..Default::default()
            });
            continue;
        }
        let started = std::time::Instant::now();
        let model = Model::build_calibrated(&files, scheme, &calibration)?;
        let (bytes, count) = model.linear_weight_stats();
        let bits = if count > 0 {
            bytes as f64 * 8.0 / count as f64
        } else {
            0.0
        };
        let mut info = SchemeInfo {
            name: scheme.to_string(),
            weights: WeightStats {
                weight_bytes: bytes,
                weight_count: count,
                bits_per_weight: bits,
            },
            fidelity: None,
        };
        let scorer = make_scorer(model, &suite, &model_dir, &mut classifier)?;
        if !opts.sustain_only {
            let mine: Vec<VariantItem> = variants.iter().filter(|v| units.contains(&v.family)).cloned().collect();
            let mut evaluated = evaluate_with_outputs(scorer.as_ref(), &scheme.to_string(), &test, &mine, opts.seed)?;
            log(&format!(
                "  {scheme}: {} predictions in {:.1}s",
                evaluated.rows.len(),
                started.elapsed().as_secs_f64()
            ));
            rows.append(&mut evaluated.rows);
            // Fidelity against the run's first scheme, on the clean inputs both evaluated.
            if units.iter().any(|u| u == CLEAN) {
                if s == 0 {
                    reference_outputs = Some(evaluated.clean_outputs);
                } else if let Some(reference) = &reference_outputs {
                    let name = schemes[0].to_string();
                    let embedding = evaluated.outputs_are_embeddings;
                    info.fidelity = Some(fidelity(&name, reference, &evaluated.clean_outputs, embedding));
                }
            }
        }
        infos.push(info);
        if let (Some(cfg), true) = (&sustain_cfg, runs_sustain) {
            let mut w = run_sustain(scorer.as_ref(), &scheme, cfg, &variants, opts.threads)?;
            let s = sustain::summarize(&scheme.to_string(), &w);
            log(&format!(
                "  {scheme}: sustained {:.1} items/s (burst {:.1}, stability {:.2})",
                s.sustained_items_per_s, s.burst_items_per_s, s.stability
            ));
            windows.append(&mut w);
        }
    }

    let meta = RunMeta {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        git_revision: option_env!("SHAKEDOWN_GIT_REVISION").unwrap_or("unknown").into(),
        suite: suite.file.name.clone(),
        suite_dir: suite.dir.display().to_string(),
        model: model_dir.display().to_string(),
        model_sha256: files.weights_sha256.clone(),
        classifier,
        seed: opts.seed,
        threads: opts.threads,
        limit: opts.limit,
        test_examples: test.len(),
        corruptions,
        cpu_features: cpu_features(),
        kernels: crate::engine::kernels::kernels().name().into(),
        schemes: infos,
        families,
        gate_rules: suite.file.gate.rules.clone(),
        baseline,
        sustain: sustain_cfg,
        shard: opts.shard.map(|(k, n)| format!("{k}/{n}")),
    };
    let summary = build(meta, &rows, &windows);
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| default_run_dir(&suite.file.name, opts.seed));
    rundir::write(&dir, &summary, &rows, &windows)?;
    Ok(RunOutcome {
        table: render_table(&summary),
        dir,
        summary,
    })
}

/// The families (`clean` included) of scheme number `s` that this shard evaluates. Units are the
/// scheme x family pairs in run order, dealt round-robin to the shards.
fn shard_units(s: usize, families: &[String], shard: Option<(usize, usize)>) -> Vec<String> {
    let per_scheme = families.len() + 1;
    std::iter::once(CLEAN.to_string())
        .chain(families.iter().cloned())
        .enumerate()
        .filter(|(f, _)| shard.is_none_or(|(k, n)| (s * per_scheme + f) % n == k - 1))
        .map(|(_, name)| name)
        .collect()
}

fn sustain_config(opts: &RunOptions, suite: &Suite) -> Result<Option<SustainConfig>> {
    if opts.no_sustain && !opts.sustain_only {
        return Ok(None);
    }
    let mut cfg = suite.file.sustain.clone();
    if let Some(secs) = opts.sustain_seconds {
        cfg.duration_s = secs;
        cfg.window_s = cfg.window_s.min(secs);
        cfg.validate("--sustain-seconds")?;
    }
    Ok(Some(cfg))
}

/// Runs one scheme continuously over a deterministic mix of clean and corrupted inputs.
fn run_sustain(
    scorer: &dyn Scorer,
    scheme: &Scheme,
    cfg: &SustainConfig,
    variants: &[VariantItem],
    run_threads: usize,
) -> Result<Vec<Window>> {
    let clean: Vec<&str> = variants
        .iter()
        .filter(|v| v.family == CLEAN)
        .map(|v| v.text.as_str())
        .collect();
    let corrupted: Vec<&str> = variants
        .iter()
        .filter(|v| v.family != CLEAN)
        .map(|v| v.text.as_str())
        .collect();
    // Every k-th input corrupted, the rest clean, in a fixed order.
    let mix: Vec<&str> = (0..clean.len().max(1) * 2)
        .filter_map(|i| {
            let corrupt = !corrupted.is_empty()
                && ((i as f64 + 0.5) * cfg.corrupted_fraction).floor()
                    > ((i as f64 - 0.5) * cfg.corrupted_fraction).floor();
            if corrupt {
                corrupted.get(i % corrupted.len())
            } else {
                clean.get(i % clean.len().max(1))
            }
            .copied()
        })
        .collect();
    if mix.is_empty() {
        return Ok(Vec::new());
    }
    let threads = if cfg.threads == 0 { run_threads } else { cfg.threads };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::Internal(format!("sustain thread pool: {e}")))?;
    let tokens: Vec<u64> = mix.iter().map(|t| scorer.count_tokens(&[t])).collect::<Result<_>>()?;
    let name = scheme.to_string();
    pool.install(|| {
        sustain::measure(&name, cfg, |call| {
            let picks: Vec<usize> = (0..cfg.batch).map(|j| (call * cfg.batch + j) % mix.len()).collect();
            let batch: Vec<&str> = picks.iter().map(|&i| mix[i]).collect();
            scorer.score(&batch)?;
            Ok((batch.len() as u64, picks.iter().map(|&i| tokens[i]).sum()))
        })
    })
}

fn resolve_schemes(opts: &RunOptions, suite: &Suite, toml_path: &str) -> Result<Vec<Scheme>> {
    match (&opts.schemes, &suite.file.schemes) {
        (Some(list), _) => parse_scheme_list(list).map_err(|m| Error::input("--schemes", m)),
        (None, Some(list)) => {
            parse_scheme_list(&list.join(",")).map_err(|m| Error::input(format!("{toml_path}: field schemes"), m))
        }
        (None, None) => parse_scheme_list(DEFAULT_SCHEMES).map_err(Error::Internal),
    }
}

fn make_scorer(model: Model, suite: &Suite, model_dir: &Path, kind: &mut String) -> Result<Box<dyn Scorer>> {
    if model.has_classifier() {
        *kind = "classification head".into();
        return Ok(Box::new(HeadClassifier::new(
            model,
            &suite.file.labels,
            &model_dir.display().to_string(),
        )?));
    }
    let per_label = suite.file.prototypes_per_label;
    let train: Vec<&Example> = suite.split("train");
    let mut picked: Vec<(&str, &str)> = Vec::new();
    for label in &suite.file.labels {
        picked.extend(
            train
                .iter()
                .filter(|e| &e.label == label)
                .take(per_label)
                .map(|e| (e.label.as_str(), e.text.as_str())),
        );
    }
    *kind = format!("nearest label prototype (mean embedding of up to {per_label} train examples per label)");
    Ok(Box::new(PrototypeClassifier::new(model, &suite.file.labels, &picked)?))
}

/// `reports/runs/<suite>-seed<seed>-<unix seconds>` under the current directory.
fn default_run_dir(suite: &str, seed: u64) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let safe: String = suite
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from("reports")
        .join("runs")
        .join(format!("{safe}-seed{seed}-{secs}"))
}

/// The SIMD features of this CPU that the kernels care about.
pub fn cpu_features() -> Vec<String> {
    let mut out = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($f:tt),*) => { $( if std::arch::is_x86_feature_detected!($f) { out.push($f.to_string()); } )* };
        }
        probe!(
            "sse4.2",
            "avx",
            "avx2",
            "fma",
            "avx512f",
            "avx512bw",
            "avx512vnni",
            "avxvnni"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            out.push("neon".into());
        }
        if std::arch::is_aarch64_feature_detected!("dotprod") {
            out.push("dotprod".into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_every_scheme_family_unit() {
        let families = vec!["typo".to_string(), "ocr".to_string()];
        for n in 1..=4 {
            let mut seen = Vec::new();
            for k in 1..=n {
                for s in 0..3 {
                    for f in shard_units(s, &families, Some((k, n))) {
                        seen.push((s, f));
                    }
                }
            }
            seen.sort();
            let mut all: Vec<(usize, String)> = (0..3)
                .flat_map(|s| shard_units(s, &families, None).into_iter().map(move |f| (s, f)))
                .collect();
            all.sort();
            assert_eq!(seen, all, "{n} shards");
        }
    }
}
