//! `shakedown run` on a `retrieve` suite: every deployment (query scheme x index precision x who
//! embedded the corpus) retrieves for every query under every condition (`task::retrieve`), and the
//! run directory gets the same outputs as any run plus the retrieval ones.
//!
//! The task seam's summary, gate and report work per scheme: each scheme's own deployment (the
//! suite's first index precision, the corpus embedded by the same scheme when the suite lists that
//! shape) becomes one row per query x condition with the retrieval metrics by name (`recall@10`
//! first), so gate rules on `recall@5` or `ndcg@10` judge it like any metric. Every deployment is in
//! `summary.json`'s `retrieval` and in `retrieval.parquet` (one row per query x deployment x condition).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::rundir::{self, ROWS_FILE};
use super::{describe_specs, source, BaselineInput, Plan, RunOutcome, CALIBRATION_TEXTS};
use crate::analysis::gate::Baseline;
use crate::analysis::results::EvalRow;
use crate::analysis::retrieval::cells::{stored, IndexRecord, RetrievalRow, SearchRecord};
use crate::analysis::retrieval::summary::{self as rsummary, RetrievalMeta, RetrievalSummary};
use crate::analysis::retrieval::table::rows_parquet;
use crate::analysis::summary::{build, RunMeta, SchemeInfo, TaskInfo};
use crate::corrupt::{CorruptionSpec, Registry};
use crate::engine::{ModelFiles, Scheme};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::task::kind::{TaskKind, RETRIEVAL};
use crate::task::retrieve::{self, deployments, load_corpus, load_queries, Deployment, EngineEmbedders, Shape};

/// Runs a retrieve suite (called by `run::run` once the output folder is known to be writable).
pub fn run(plan: &Plan, progress: &dyn Progress) -> Result<RunOutcome> {
    let started = Instant::now();
    let suite = &plan.suite;
    let origin = suite.origin();
    refuse_sustain_and_shards(plan)?;
    let section = suite.file.retrieve.clone().unwrap_or_default();
    let (corpus, all_queries) = load(plan)?;
    let (whole, queries) = evaluated_queries(plan, &all_queries, |_| true, progress)?;
    let plan = whole.as_ref().unwrap_or(plan);
    let calibration: Vec<&str> = all_queries
        .iter()
        .filter(|q| q.split == "calibration")
        .take(CALIBRATION_TEXTS)
        .map(|q| q.text.as_str())
        .collect();
    if plan.schemes.iter().any(Scheme::needs_calibration) && calibration.is_empty() {
        return Err(Error::input(
            &origin,
            "field data: AWQ schemes need queries with split \"calibration\"",
        ));
    }
    let model_origin = format!("{origin}: field model");
    let model_path = source::resolve(&plan.model, &plan.cache, &model_origin, progress)?;
    progress.note(&format!(
        "suite {} ({} {} queries{} over {} chunks), embedder {}",
        suite.file.name,
        queries.len(),
        plan.split,
        crate::analysis::summary::subset_in_parentheses(plan.limit, plan.sample),
        corpus.len(),
        model_path.display()
    ));
    let files = ModelFiles::load(&model_path)?;
    for warning in corpus_warnings(&corpus, &files) {
        progress.note(&format!("warning: {warning}"));
    }
    let embedders = EngineEmbedders::new(&files, &calibration);
    let registry = Registry::with_options(&plan.registry)?;
    let all = deployments(&plan.schemes, &section.index, &section.shapes);
    let index_dir = crate::index::default_dir();
    let task_plan = retrieve::Plan {
        corpus: &corpus,
        queries: &queries,
        specs: &plan.corruptions,
        registry: &registry,
        seed: plan.seed,
        side: section.corrupt,
        deployments: &all,
        depth: section.k.max(crate::analysis::retrieval::DEPTH),
        index_dir: &index_dir,
    };
    let evaluated = retrieve::evaluate(&task_plan, &embedders, &|line| progress.note(line))?;
    progress.note(&format!(
        "retrieval: {} searches of {} deployments in {:.1} s",
        evaluated.rows.len(),
        all.len(),
        started.elapsed().as_secs_f64()
    ));

    let schemes: Vec<SchemeInfo> = plan
        .schemes
        .iter()
        .map(|&s| super::model::scheme_info(s.to_string(), embedders.weight_stats(s).unwrap_or_default()))
        .collect();
    let own = own_deployments(&all);
    let task = TaskInfo {
        kind: TaskKind::Retrieve,
        method: method(&own, section.k.max(crate::analysis::retrieval::DEPTH)),
        measures: RETRIEVAL.iter().map(|m| m.to_string()).collect(),
        corrupted: Some(section.corrupt.name().to_string()),
    };
    let mut meta = run_meta(plan, &model_path, &files.weights_sha256, task, queries.len(), schemes);
    if let Some(b) = &plan.baseline {
        meta.baseline = Some(baseline(&meta, b)?);
    }
    let rsum = retrieval_summary(
        plan,
        &meta,
        evaluated.clone_records(),
        &evaluated.rows,
        corpus.len(),
        task_plan.depth,
        &index_dir,
        started,
    );
    let gate_rows = scheme_rows(&evaluated.rows, &own);
    finish(plan, meta, rsum, &gate_rows, &evaluated.rows)
}

/// A retrieve or rag run has neither a sustained-load phase nor shards.
pub(super) fn refuse_sustain_and_shards(plan: &Plan) -> Result<()> {
    if plan.sustain.is_some() || plan.sustain_only || plan.shard.is_some() {
        return Err(Error::input(
            plan.suite.origin(),
            format!(
                "field task: a {} run has no sustained-load phase and is not split into shards",
                plan.suite.file.task.name()
            ),
        ));
    }
    Ok(())
}

/// Summarises and gates the task's `rows`, then writes the run directory with the retrieval rows.
pub(super) fn finish(
    plan: &Plan,
    meta: RunMeta,
    mut retrieval: RetrievalSummary,
    rows: &[EvalRow],
    retrieval_rows: &[RetrievalRow],
) -> Result<RunOutcome> {
    let mut summary = build(meta, rows, &[]);
    retrieval.meta.rows_sha256 = Some(super::consistency::digest(retrieval_rows)?);
    summary.retrieval = Some(retrieval);
    let gate = rundir::judge(&summary, rows);
    let table = rows_parquet(retrieval_rows)?;
    rundir::write_run(&plan.out, &summary, gate.as_ref(), rows, &[], &[(ROWS_FILE, table)])?;
    Ok(RunOutcome {
        dir: plan.out.clone(),
        summary,
        gate,
    })
}

/// The `retrieval` part of summary.json: every deployment's cells, searches and indexes, with
/// the context of the figures (CPU, index folder, the time spent building indexes).
#[allow(clippy::too_many_arguments)]
pub(super) fn retrieval_summary(
    plan: &Plan,
    meta: &RunMeta,
    (searches, indexes): (Vec<SearchRecord>, Vec<IndexRecord>),
    rows: &[RetrievalRow],
    chunks: usize,
    depth: usize,
    index_dir: &Path,
    started: Instant,
) -> RetrievalSummary {
    let section = plan.suite.file.retrieve.clone().unwrap_or_default();
    // Precisions built together share one embedding pass: count each pass once.
    let mut passes: Vec<(&str, &str, u8, f64)> = Vec::new();
    for r in &indexes {
        let key = (r.corpus_scheme.as_str(), r.family.as_str(), r.severity);
        let build = r.build_seconds.unwrap_or(0.0);
        match passes.iter_mut().find(|p| (p.0, p.1, p.2) == key) {
            Some(p) => p.3 = p.3.max(build),
            None => passes.push((key.0, key.1, key.2, build)),
        }
    }
    let index_seconds: f64 =
        passes.iter().map(|p| p.3).sum::<f64>() + indexes.iter().map(|r| r.verify_seconds).sum::<f64>();
    let rmeta = RetrievalMeta {
        task: meta.task.kind.name().into(),
        tool_version: meta.tool_version.clone(),
        git_revision: meta.git_revision.clone(),
        suite: meta.suite.clone(),
        suite_dir: meta.suite_dir.clone(),
        model: meta.model.clone(),
        model_sha256: meta.model_sha256.clone(),
        seed: plan.seed,
        threads: plan.threads,
        limit: plan.limit,
        sample: plan.sample,
        queries: meta.test_examples,
        chunks,
        corruptions: meta.corruptions.clone(),
        families: meta.families.clone(),
        corrupt: section.corrupt.name().to_string(),
        depth,
        cpu_model: cpu_model(),
        cpu_features: meta.cpu_features.clone(),
        kernels: meta.kernels.clone(),
        schemes: meta.schemes.clone(),
        index_dir: index_dir.display().to_string(),
        wall_seconds: stored(started.elapsed().as_secs_f64()),
        index_seconds: stored(index_seconds),
        rows_sha256: None,
    };
    rsummary::build(rmeta, rows, searches, indexes)
}

/// The corpus and every query of a retrieve (or rag) suite, checked against each other.
pub(super) fn load(plan: &Plan) -> Result<(Vec<retrieve::Chunk>, Vec<retrieve::Query>)> {
    let suite = &plan.suite;
    let section = suite.file.retrieve.clone().unwrap_or_default();
    let corpus = load_corpus(&suite.dir.join(&section.corpus))?;
    let paths: Vec<PathBuf> = suite.file.data.iter().map(|d| suite.dir.join(d)).collect();
    let path_refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let queries = load_queries(&path_refs, &corpus)?;
    Ok((corpus, queries))
}

/// The queries of the run's split that `keep` accepts, the first `--limit` or the `--sample` of them
/// (an empty set is an input error), and the plan without either when it asked for at least them all.
pub(super) fn evaluated_queries<'q>(
    plan: &Plan,
    all: &'q [retrieve::Query],
    keep: impl Fn(&retrieve::Query) -> bool,
    progress: &dyn Progress,
) -> Result<(Option<Plan>, Vec<&'q retrieve::Query>)> {
    let what = if plan.suite.file.task == TaskKind::Rag {
        "queries carrying an answer"
    } else {
        "queries"
    };
    let eligible: Vec<_> = all.iter().filter(|q| q.split == plan.split && keep(q)).collect();
    let whole = super::whole_split(plan, eligible.len(), what, progress);
    let queries = super::limited(whole.as_ref().unwrap_or(plan), eligible, what)?;
    Ok((whole, queries))
}

/// The run's metadata for a retrieve or rag run: `model` is the embedder's path and weights hash.
pub(super) fn run_meta(
    plan: &Plan,
    model: &Path,
    model_sha256: &str,
    task: TaskInfo,
    examples: usize,
    schemes: Vec<SchemeInfo>,
) -> RunMeta {
    let suite = &plan.suite;
    RunMeta {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        git_revision: option_env!("SHAKEDOWN_GIT_REVISION").unwrap_or("unknown").into(),
        suite: suite.file.name.clone(),
        description: suite.file.description.clone(),
        suite_dir: suite.dir.display().to_string(),
        suite_sha256: suite.sha256.clone(),
        model: model.display().to_string(),
        model_sha256: model_sha256.to_string(),
        task,
        split: plan.split.clone(),
        seed: plan.seed,
        threads: plan.threads,
        limit: plan.limit,
        sample: plan.sample,
        test_examples: examples,
        corruptions: describe_specs(&plan.corruptions),
        cpu_features: super::cpu_features(),
        kernels: crate::engine::kernel_table().into(),
        families: plan.corruptions.iter().map(CorruptionSpec::name).collect(),
        schemes,
        gate_rules: suite.file.gate.rules.clone(),
        policy: plan.policy.clone(),
        recommend: plan.recommend,
        baseline: None,
        sustain: None,
        sustain_only: false,
        shard: None,
        results_sha256: None,
    }
}

/// The gate's baseline, refused when the runs are not comparable (unless allowed).
pub(super) fn baseline(meta: &RunMeta, b: &BaselineInput) -> Result<Baseline> {
    let found = super::comparable::check(meta, &b.summary.meta, &b.source, b.allow_mismatch)?;
    let mut base = Baseline::from_summary(&b.source, &b.summary, b.max_drop);
    base.mismatches = found.iter().map(super::comparable::Mismatch::describe).collect();
    Ok(base)
}

/// Each scheme's own deployment: its first one with the corpus embedded by the same scheme, else
/// its first one.
pub fn own_deployments(all: &[Deployment]) -> Vec<Deployment> {
    let mut out: Vec<Deployment> = Vec::new();
    for d in all {
        match out.iter().position(|o| o.scheme == d.scheme) {
            None => out.push(*d),
            Some(i) if out[i].shape != Shape::Same && d.shape == Shape::Same => out[i] = *d,
            Some(_) => {}
        }
    }
    out
}

/// What would make the run's figures say less than they seem to: a corpus no larger than the metrics'
/// depth (every relevant chunk is then in the top 10, so recall@10 is 100 % whatever the model), and
/// chunks longer than the embedder reads (embedded from their first `max_len` tokens only, so a fact
/// further on cannot be found).
fn corpus_warnings(corpus: &[retrieve::Chunk], files: &ModelFiles) -> Vec<String> {
    let depth = crate::analysis::retrieval::DEPTH;
    let mut out = Vec::new();
    if corpus.len() <= depth {
        out.push(format!(
            "the corpus has {} chunks, no more than the {depth} the metrics look at: recall@{depth} is 100 % \
             whatever the model; judge recall@1 or recall@5, or add chunks",
            corpus.len()
        ));
    }
    let long: Vec<&str> = corpus
        .iter()
        .filter(|c| {
            files
                .tokenizer
                .encode(c.text.as_str(), true)
                .is_ok_and(|e| !e.get_overflowing().is_empty())
        })
        .map(|c| c.id.as_str())
        .collect();
    if let Some(first) = long.first() {
        out.push(format!(
            "{} of {} chunks are longer than the embedder's {} tokens and are embedded from their first {} \
             tokens only (the first: {first}); split them to have all their text searched",
            long.len(),
            corpus.len(),
            files.max_len,
            files.max_len
        ));
    }
    out
}

fn method(own: &[Deployment], k: usize) -> String {
    let d = own
        .first()
        .map_or(String::new(), |d| format!("{} index, corpus {}", d.precision, d.shape));
    format!("embed the query, exact top-{k} search ({d})")
}

/// The rows of each scheme's own deployment as the task seam's rows: measures named by
/// `RETRIEVAL` (recall@10 first); right when a relevant chunk is in the top 10; the prediction is
/// the top chunk (flip rate and agreement: the top chunk changed).
pub fn scheme_rows(rows: &[RetrievalRow], own: &[Deployment]) -> Vec<EvalRow> {
    let is_own = |r: &RetrievalRow| {
        own.iter().any(|d| {
            d.scheme.to_string() == r.scheme && d.precision.to_string() == r.index && d.shape.name() == r.shape
        })
    };
    rows.iter()
        .filter(|r| is_own(r))
        .map(|r| {
            let s = &r.scores;
            let best = r
                .relevant
                .iter()
                .filter(|(_, g)| **g > 0)
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map_or(String::new(), |(id, _)| id.clone());
            EvalRow {
                scheme: r.scheme.clone(),
                example_id: r.query_id.clone(),
                family: r.family.clone(),
                severity: r.severity,
                seed: r.seed,
                expected: best,
                prediction: r.retrieved.first().cloned().unwrap_or_default(),
                correct: s.recall_10 > 0.0,
                score: None,
                raw_output: Some(r.retrieved.join(" ")),
                measures: vec![s.recall_10, s.recall_1, s.recall_5, s.mrr_10, s.ndcg_10],
                cer: r.cer,
                wer: r.wer,
                wer_raw: r.wer_raw,
                text: r.text.clone(),
            }
        })
        .collect()
}

/// The CPU's model name (`/proc/cpuinfo`), for the figures' context.
pub(super) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Precision;

    #[test]
    fn a_schemes_own_deployment_is_its_first_on_a_same_shape() {
        let d = |scheme, precision, shape| Deployment {
            scheme,
            precision,
            shape,
        };
        let all = [
            d(Scheme::Int8, Precision::F32, Shape::ServerF32),
            d(Scheme::Int8, Precision::Int8, Shape::Same),
            d(Scheme::Int8, Precision::F32, Shape::Same),
            d(Scheme::F32, Precision::Binary, Shape::ServerF32),
        ];
        assert_eq!(
            own_deployments(&all),
            [all[1], all[3]],
            "int8's first same-shape deployment; f32's only one"
        );
    }

    #[test]
    fn scheme_rows_carry_the_metrics_by_name_and_the_top_chunk() {
        let own = [Deployment {
            scheme: Scheme::F32,
            precision: Precision::Int8,
            shape: Shape::Same,
        }];
        let row = |index: &str| RetrievalRow {
            scheme: "f32".into(),
            index: index.into(),
            shape: "same".into(),
            family: "clean".into(),
            query_id: "q1".into(),
            retrieved: vec!["c2".into(), "c1".into()],
            relevant: [("c1".to_string(), 1), ("c3".to_string(), 2)].into_iter().collect(),
            scores: crate::analysis::retrieval::QueryScores {
                recall_10: 0.5,
                ndcg_10: 0.25,
                ..Default::default()
            },
            ..Default::default()
        };
        let rows = scheme_rows(&[row("f32"), row("int8")], &own);
        assert_eq!(rows.len(), 1, "only the scheme's own deployment");
        let r = &rows[0];
        assert_eq!((r.expected.as_str(), r.prediction.as_str()), ("c3", "c2"));
        assert!(r.correct);
        assert_eq!(r.measures[0], 0.5);
        assert_eq!(
            r.measures[RETRIEVAL.iter().position(|m| *m == "ndcg@10").unwrap()],
            0.25
        );
    }
}
