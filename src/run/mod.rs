//! `shakedown run` and `shakedown sustain`: a typed `Plan` (suite, model, schemes, corruption specs,
//! task, policy) -> the matrix scheme x variant -> run directory and verdict.

pub mod comparable;
pub mod compare;
mod consistency;
pub mod merge;
pub mod model;
pub mod rag;
pub mod retrieval;
pub mod rundir;
pub mod shards;
pub mod source;
pub mod subset;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::analysis::gate::{Baseline, Policy, Preference, Verdict};
use crate::analysis::results::{EvalRow, CLEAN};
use crate::analysis::summary::{build, Memory, RunMeta, SchemeInfo, Summary, TaskInfo};
use crate::corrupt::channel::ChannelConfig;
use crate::corrupt::{CorruptionSpec, Registry, RegistryOptions};
use crate::engine::Scheme;
use crate::error::{Error, Result};
use crate::eval::fidelity::fidelity;
use crate::eval::sustain::{self, Window};
use crate::eval::{check_context, evaluate, make_variants, VariantItem};
use crate::memory;
use crate::progress::Progress;
use crate::suite::SustainConfig;
use crate::suite::{ModelSpec, Suite};
use crate::task::{self, Probe};
use model::OpenedModel;
use shards::shard_units;

/// Calibration texts used at most by activation-aware schemes.
pub const CALIBRATION_TEXTS: usize = 128;

/// A baseline run to gate against.
#[derive(Clone, Debug)]
pub struct BaselineInput {
    /// Where it was read from (a run directory or summary.json).
    pub source: String,
    pub summary: Summary,
    /// Points the primary metric may lose against it.
    pub max_drop: f64,
    /// Compare even when the runs differ in suite, model, seed, limit, split or corruptions.
    pub allow_mismatch: bool,
}

/// Everything a run needs, typed and validated by the caller.
#[derive(Clone, Debug)]
pub struct Plan {
    pub suite: Suite,
    pub model: ModelSpec,
    /// Where `pypi:` models are cached.
    pub cache: PathBuf,
    pub schemes: Vec<Scheme>,
    pub corruptions: Vec<CorruptionSpec>,
    /// The corruption registry's settings (domain, channel).
    pub registry: RegistryOptions,
    pub seed: u64,
    /// `--limit`: the first N examples of the split.
    pub limit: Option<usize>,
    /// `--sample`: a random sample of N examples of the split, drawn from `seed`.
    pub sample: Option<usize>,
    /// The split evaluated (`test` unless asked otherwise).
    pub split: String,
    pub out: PathBuf,
    /// Write into an existing, non-empty run directory.
    pub overwrite: bool,
    pub threads: usize,
    /// The sustained-throughput phase, or None to skip it.
    pub sustain: Option<SustainConfig>,
    /// Only the sustain phase (`shakedown sustain`), no accuracy matrix and no gate.
    pub sustain_only: bool,
    /// `(k, n)`: run shard k of n, splitting the work by scheme x family.
    pub shard: Option<(usize, usize)>,
    pub baseline: Option<BaselineInput>,
    pub policy: Policy,
    pub recommend: Preference,
}

/// What a finished run produced.
pub struct RunOutcome {
    pub dir: PathBuf,
    pub summary: Summary,
    /// None for shards and `sustain` runs.
    pub gate: Option<Verdict>,
}

/// A channel configuration with a checked timeout; `origin` names where it was given.
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

/// The registry settings a suite implies (`RegistryOptions::for_suite`: domain, `[jargon]`, label words)
/// and its `[channel]` (unless `channel` overrides it).
pub fn registry_options(suite: &Suite, channel: Option<ChannelConfig>) -> Result<RegistryOptions> {
    let origin = suite.origin();
    let channel = match (channel, &suite.file.channel) {
        (Some(c), _) => Some(c),
        (None, Some(section)) => Some(channel_config(
            &section.command,
            section.timeout_s,
            &format!("{origin}: [channel]"),
        )?),
        (None, None) => None,
    };
    Ok(RegistryOptions {
        channel,
        ..RegistryOptions::for_suite(suite)?
    })
}

/// `typo:1-2,ocr:1,3`: the specs as text that parses back to the same specs.
pub fn describe_specs(specs: &[CorruptionSpec]) -> String {
    specs
        .iter()
        .map(|s| {
            let levels: Vec<u8> = s.severities.iter().map(|l| l.level()).collect();
            let mut runs: Vec<String> = Vec::new();
            let mut i = 0;
            while i < levels.len() {
                let mut j = i;
                while j + 1 < levels.len() && levels[j + 1] == levels[j] + 1 {
                    j += 1;
                }
                runs.push(if i == j {
                    levels[i].to_string()
                } else {
                    format!("{}-{}", levels[i], levels[j])
                });
                i = j + 1;
            }
            format!("{}:{}", s.name(), runs.join(","))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Calibration texts for activation-aware schemes: up to `CALIBRATION_TEXTS` of the suite's
/// calibration split, as the model will read them (the prompt around them, for decoders).
fn calibration_texts(suite: &Suite, decoder: bool) -> Result<Vec<String>> {
    let texts = suite.split("calibration").into_iter().take(CALIBRATION_TEXTS);
    if !decoder {
        return Ok(texts.map(|e| e.text.clone()).collect());
    }
    let section = suite.file.prompt.clone().unwrap_or_default();
    let prompt = task::prompt::Prompt::new(&section, Vec::new(), &suite.origin())?;
    texts.map(|e| prompt.render(&e.text)).collect()
}

/// Runs the whole matrix, writes the run directory and returns the verdict.
pub fn run(plan: &Plan, progress: &dyn Progress) -> Result<RunOutcome> {
    rundir::check_writable(&plan.out, plan.overwrite)?;
    match plan.suite.file.task {
        crate::task::kind::TaskKind::Retrieve => return retrieval::run(plan, progress),
        crate::task::kind::TaskKind::Rag => return rag::run(plan, progress),
        _ => {}
    }
    let split_size = plan.suite.split(&plan.split).len();
    let whole = whole_split(plan, split_size, "examples", progress);
    let plan = whole.as_ref().unwrap_or(plan);
    let suite = &plan.suite;
    let origin = suite.origin();
    let registry = Registry::with_options(&plan.registry)?;
    let specs = if plan.sustain_only {
        Vec::new()
    } else {
        plan.corruptions.clone()
    };
    let examples = limited(plan, suite.split(&plan.split), "examples")?;
    let model_origin = format!("{origin}: field model");
    let model_path = source::resolve(&plan.model, &plan.cache, &model_origin, progress)?;
    progress.note(&format!(
        "suite {} ({} {} examples{}), model {}",
        suite.file.name,
        examples.len(),
        plan.split,
        crate::analysis::summary::subset_note(plan.limit, plan.sample).map_or(String::new(), |n| format!(", {n}")),
        model_path.display()
    ));
    let opened = OpenedModel::open(&model_path, plan.model.adapter.as_deref())?;
    let calibration_owned = calibration_texts(suite, opened.is_decoder())?;
    let calibration: Vec<&str> = calibration_owned.iter().map(String::as_str).collect();
    if plan.schemes.iter().any(Scheme::needs_calibration) && calibration.is_empty() {
        return Err(Error::input(
            &origin,
            "field data: AWQ schemes need examples with split \"calibration\"",
        ));
    }
    let families: Vec<String> = specs.iter().map(CorruptionSpec::name).collect();
    let mut meta = RunMeta {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        git_revision: option_env!("SHAKEDOWN_GIT_REVISION").unwrap_or("unknown").into(),
        suite: suite.file.name.clone(),
        description: suite.file.description.clone(),
        suite_dir: suite.dir.display().to_string(),
        suite_sha256: suite.sha256.clone(),
        model: model_path.display().to_string(),
        model_sha256: opened.sha256().to_string(),
        task: TaskInfo {
            kind: suite.file.task,
            ..Default::default()
        },
        split: plan.split.clone(),
        seed: plan.seed,
        threads: plan.threads,
        limit: plan.limit,
        sample: plan.sample,
        test_examples: examples.len(),
        corruptions: describe_specs(&specs),
        cpu_features: cpu_features(),
        kernels: crate::engine::kernel_table().into(),
        schemes: Vec::new(),
        families: families.clone(),
        gate_rules: suite.file.gate.rules.clone(),
        policy: plan.policy.clone(),
        recommend: plan.recommend,
        baseline: None,
        sustain: plan.sustain.clone(),
        sustain_only: plan.sustain_only,
        shard: plan.shard.map(|(k, n)| format!("{k}/{n}")),
        results_sha256: None,
    };
    if let Some(b) = &plan.baseline {
        let found = comparable::check(&meta, &b.summary.meta, &b.source, b.allow_mismatch)?;
        let mut base = Baseline::from_summary(&b.source, &b.summary, b.max_drop);
        base.mismatches = found.iter().map(comparable::Mismatch::describe).collect();
        meta.baseline = Some(base);
    }
    let variants = make_variants(&examples, &specs, &registry, plan.seed)?;

    let mut rows: Vec<EvalRow> = Vec::new();
    let mut windows: Vec<Window> = Vec::new();
    let mut reference_probes: Option<Vec<Probe>> = None;
    let schemes = &plan.schemes;
    let model_name = model_path.display().to_string();
    // A shard that evaluates some scheme's clean inputs but not the reference's still measures
    // fidelity: it runs the reference on the clean inputs first (those rows belong to another shard).
    let has_clean = |s: usize| shard_units(s, &families, plan.shard).iter().any(|u| u == CLEAN);
    if !plan.sustain_only && !has_clean(0) && (1..schemes.len()).any(has_clean) {
        let (model, _) = build_model(&opened, schemes[0], &calibration, progress)?;
        let task = task::build(suite, model.as_ref(), &model_name)?;
        check_context(task.as_ref(), &examples, &variants, &origin)?;
        let clean: Vec<VariantItem> = variants.iter().filter(|v| v.family == CLEAN).cloned().collect();
        let phase = progress.start(
            &format!("{}: reference answers for fidelity", schemes[0]),
            Some(clean.len() as u64),
        );
        let evaluated = evaluate(
            task.as_ref(),
            &schemes[0].to_string(),
            &examples,
            &clean,
            plan.seed,
            phase.as_ref(),
        )?;
        phase.finish("done");
        reference_probes = Some(evaluated.clean_probes);
    }
    for (s, &scheme) in schemes.iter().enumerate() {
        let name = scheme.to_string();
        let units = shard_units(s, &families, plan.shard);
        let runs_sustain = plan.sustain.is_some() && units.iter().any(|u| u == CLEAN);
        let evaluates = !plan.sustain_only && !units.is_empty();
        if !evaluates && !runs_sustain {
            meta.schemes.push(SchemeInfo {
                name,
                ..Default::default()
            });
            continue;
        }
        // The peak resident memory is reset before each scheme, so its figure covers this scheme
        // alone (on top of what the process holds), whatever the run order.
        memory::release_freed_memory();
        let reset = memory::reset_peak();
        let rss_at_start_bytes = memory::resident_bytes();
        let (model, stats) = build_model(&opened, scheme, &calibration, progress)?;
        // The whole scheme's peak so far (the build's), then a second peak for its answering alone,
        // once the build's temporaries are handed back: what a device serving the built model holds.
        let build_peak = memory::peak_resident_bytes();
        memory::release_freed_memory();
        let serving_reset = reset && memory::reset_peak();
        let task = task::build(suite, model.as_ref(), &model_name)?;
        if meta.task.measures.is_empty() {
            // Once, with the first model built: every scheme shares the tokenizer and context.
            check_context(task.as_ref(), &examples, &variants, &origin)?;
            meta.task.method = task.method();
            meta.task.measures = task.measures();
        }
        let mut info = model::scheme_info(name.clone(), stats);
        // This scheme's rows join the run's after its memory is read: growing the run's table copies
        // every earlier scheme's rows, which is the harness's memory, not the scheme's.
        let mut scheme_rows = Vec::new();
        if evaluates {
            let started = Instant::now();
            let mine: Vec<VariantItem> = variants.iter().filter(|v| units.contains(&v.family)).cloned().collect();
            let phase = progress.start(&format!("{name}: evaluating"), Some(mine.len() as u64));
            let mut evaluated = evaluate(task.as_ref(), &name, &examples, &mine, plan.seed, phase.as_ref())?;
            phase.finish(&format!(
                "{name}: {} answers in {:.1} s",
                evaluated.rows.len(),
                started.elapsed().as_secs_f64()
            ));
            scheme_rows = std::mem::take(&mut evaluated.rows);
            info.answers_cut_off = evaluated.cut_off;
            let kind = meta.task.kind;
            if let Some(w) =
                crate::analysis::summary::cut_off_warning(kind, &name, evaluated.cut_off, scheme_rows.len())
            {
                progress.note(&format!("warning: {w}"));
            }
            // Fidelity against the run's first scheme, on the clean inputs both evaluated.
            if units.iter().any(|u| u == CLEAN) {
                if s == 0 {
                    reference_probes = Some(evaluated.clean_probes);
                } else if let Some(reference) = &reference_probes {
                    info.fidelity = Some(fidelity(&schemes[0].to_string(), reference, &evaluated.clean_probes));
                }
            }
        }
        if let (Some(cfg), true) = (&plan.sustain, runs_sustain) {
            let phase = progress.start(
                &format!("{name}: sustained load"),
                Some(sustain::window_count(cfg) as u64),
            );
            let mut w = sustain::sustain_task(task.as_ref(), &name, cfg, &variants, plan.threads, phase.as_ref())?;
            let t = sustain::summarize(&name, &w);
            phase.finish(&format!(
                "{name}: sustained {:.1} items/s (burst {:.1}, stability {:.2}{})",
                t.sustained_items_per_s,
                t.burst_items_per_s,
                t.stability,
                if t.noisy { ", noisy" } else { "" }
            ));
            windows.append(&mut w);
        }
        // Memory is a performance figure, measured with the sustain phase; a run without one
        // stays deterministic byte for byte.
        if runs_sustain {
            let serving_peak = memory::peak_resident_bytes();
            info.memory = Some(Memory {
                peak_rss_bytes: serving_peak.max(build_peak),
                rss_at_start_bytes,
                scope: if serving_reset { "scheme" } else { "process" }.into(),
                serving_peak_rss_bytes: serving_peak.filter(|_| serving_reset),
            });
        }
        rows.append(&mut scheme_rows);
        meta.schemes.push(info);
    }
    if meta.task.measures.is_empty() {
        meta.task.measures = vec![suite.file.task.primary().to_string()];
    }

    let summary = build(meta, &rows, &windows);
    let gate = rundir::judge(&summary, &rows);
    rundir::write_run(&plan.out, &summary, gate.as_ref(), &rows, &windows, &[])?;
    Ok(RunOutcome {
        dir: plan.out.clone(),
        summary,
        gate,
    })
}

/// A --limit or --sample of at least the `available` items of the split is the whole split: the plan
/// without them, so that the run is recorded as what it is and compares with (and gates against) a run
/// of the whole split. None when the plan already evaluates what it says.
fn whole_split(plan: &Plan, available: usize, what: &str, progress: &dyn Progress) -> Option<Plan> {
    let n = plan
        .limit
        .or(plan.sample)
        .filter(|&n| n >= available && available > 0)?;
    let flag = if plan.limit.is_some() { "--limit" } else { "--sample" };
    progress.note(&format!(
        "{flag} {n} is at least the {available} {} {what}: the whole split is evaluated",
        plan.split
    ));
    Some(Plan {
        limit: None,
        sample: None,
        ..plan.clone()
    })
}

/// The first `--limit` or the `--sample` of a split's `items` (examples or queries); none is an input
/// error.
fn limited<'a, T>(plan: &Plan, items: Vec<&'a T>, what: &str) -> Result<Vec<&'a T>> {
    let items = subset::pick(items, plan.limit, plan.sample, plan.seed, &plan.split);
    if items.is_empty() {
        return Err(Error::input(
            plan.suite.origin(),
            format!("field data: no {what} with split \"{}\"", plan.split),
        ));
    }
    Ok(items)
}

/// Builds one scheme's model, reporting the (possibly long) calibration as a phase.
fn build_model(
    opened: &OpenedModel,
    scheme: Scheme,
    calibration: &[&str],
    progress: &dyn Progress,
) -> Result<(Box<dyn crate::engine::LanguageModel>, crate::engine::WeightStats)> {
    let what = if scheme.needs_calibration() {
        "calibrating and quantizing"
    } else {
        "preparing weights"
    };
    let phase = progress.start(&format!("{scheme}: {what}"), None);
    let started = Instant::now();
    let built = opened.build(scheme, calibration)?;
    phase.finish(&format!(
        "{scheme}: weights ready in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(built)
}

/// `reports/runs/<suite>-seed<seed>-<UTC time, e.g. 20260105T134501Z>`.
pub fn default_run_dir(suite: &str, seed: u64, now: std::time::SystemTime) -> PathBuf {
    let secs = now
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
    Path::new("reports")
        .join("runs")
        .join(format!("{safe}-seed{seed}-{}", utc_stamp(secs)))
}

/// `YYYYMMDDTHHMMSSZ` for seconds since the Unix epoch, by Howard Hinnant's `civil_from_days`
/// (chrono-compatible algorithms, public domain).
fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
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
    fn run_folders_carry_a_readable_utc_time() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        // 2024-02-29 12:34:56 UTC (a leap day).
        assert_eq!(utc_stamp(1_709_210_096), "20240229T123456Z");
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_709_210_096);
        assert_eq!(
            default_run_dir("a b", 3, t),
            Path::new("reports/runs/a_b-seed3-20240229T123456Z")
        );
    }

    #[test]
    fn spec_text_round_trips() {
        let registry = Registry::builtin().unwrap();
        let text = "typo:1-2,ocr:1,3,asr+jargon:2,l2:1-5";
        let specs = crate::corrupt::parse_specs(text, &registry).unwrap();
        assert_eq!(describe_specs(&specs), text);
    }
}
