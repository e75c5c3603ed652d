//! `shakedown run`: suite + model + schemes + corruptions -> run directory and gate verdict.

use std::path::{Path, PathBuf};

use crate::corrupt::{parse_specs, Registry, DEFAULT_CORRUPTIONS};
use crate::engine::scheme::{parse_scheme_list, DEFAULT_SCHEMES};
use crate::engine::{Model, ModelFiles, Scheme};
use crate::error::{write_atomic, Error, Result};
use crate::eval::{evaluate, make_variants};
use crate::gate;
use crate::results::{write_parquet, EvalRow};
use crate::suite::{Example, Suite};
use crate::summary::{families, render_table, summarize_scheme, RunMeta, Summary, WeightStats};
use crate::task::{HeadClassifier, PrototypeClassifier, Scorer};

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
}

/// What a finished run produced.
pub struct RunOutcome {
    pub dir: PathBuf,
    pub summary: Summary,
    pub table: String,
}

/// Runs the whole matrix, writes the run directory and returns the verdict. `log` receives progress lines.
pub fn run(opts: &RunOptions, log: &dyn Fn(&str)) -> Result<RunOutcome> {
    let suite = Suite::load(&opts.suite)?;
    let toml_path = suite.dir.join("suite.toml").display().to_string();
    for (i, rule) in suite.file.gate.rules.iter().enumerate() {
        rule.validate(&toml_path, i)?;
    }
    let schemes = resolve_schemes(opts, &suite, &toml_path)?;
    let registry = Registry::builtin()?;
    let corruptions = opts
        .corruptions
        .clone()
        .or(suite.file.corruptions.clone())
        .unwrap_or_else(|| DEFAULT_CORRUPTIONS.into());
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
    let variants = make_variants(&test, &specs, &registry, opts.seed);
    log(&format!(
        "{} inputs per scheme (clean + {} corruption settings)",
        variants.len(),
        variants.len() / test.len().max(1) - 1
    ));

    let mut rows: Vec<EvalRow> = Vec::new();
    let mut scheme_stats = Vec::new();
    let mut classifier = String::new();
    for &scheme in &schemes {
        let started = std::time::Instant::now();
        let model = Model::build(&files, scheme)?;
        let (bytes, count) = model.linear_weight_stats();
        let scorer = make_scorer(model, &suite, &model_dir, &mut classifier)?;
        let mut scheme_rows = evaluate(scorer.as_ref(), &scheme.to_string(), &test, &variants, opts.seed)?;
        log(&format!(
            "  {scheme}: {} predictions in {:.1}s",
            scheme_rows.len(),
            started.elapsed().as_secs_f64()
        ));
        rows.append(&mut scheme_rows);
        let bits = if count > 0 {
            bytes as f64 * 8.0 / count as f64
        } else {
            0.0
        };
        scheme_stats.push((
            scheme.to_string(),
            WeightStats {
                weight_bytes: bytes,
                weight_count: count,
                bits_per_weight: bits,
            },
        ));
    }

    let scheme_names: Vec<String> = schemes.iter().map(|s| s.to_string()).collect();
    let verdict = gate::evaluate(&suite.file.gate.rules, &rows, &scheme_names, &families(&rows));
    let summary = Summary {
        meta: RunMeta {
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
        },
        schemes: scheme_stats
            .into_iter()
            .map(|(s, w)| summarize_scheme(&rows, &s, w))
            .collect(),
        gate: verdict,
    };
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| default_run_dir(&suite.file.name, opts.seed));
    write_run_dir(&dir, &summary, &rows)?;
    Ok(RunOutcome {
        table: render_table(&summary),
        dir,
        summary,
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

/// Writes results.parquet, summary.json and report.html, each atomically.
pub fn write_run_dir(dir: &Path, summary: &Summary, rows: &[EvalRow]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let html = crate::report::render_html(summary, rows)?;
    let json = serde_json::to_string_pretty(summary).map_err(|e| Error::Internal(format!("summary.json: {e}")))?;
    write_parquet(rows, &dir.join("results.parquet"))?;
    write_atomic(&dir.join("summary.json"), json.as_bytes())?;
    write_atomic(&dir.join("report.html"), html.as_bytes())
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
