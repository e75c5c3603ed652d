//! `shakedown run` on a `rag` suite: the embedder (the run's model, at `[rag] embedder_scheme`)
//! retrieves for every query with an answer under every condition, once; then each of the run's
//! schemes builds the decoder (`[rag] decoder`) and answers every query twice, from the top `k`
//! chunks retrieved and from the query's gold chunks (`task::rag`). One row per scheme x query x
//! condition carries the rag metrics by name, so summary, gate and report work as for any task;
//! the retrieval of the one deployment is in `summary.json`'s `retrieval` and in
//! `retrieval.parquet`.

use std::collections::BTreeMap;
use std::time::Instant;

use super::model::{scheme_info, OpenedModel};
use super::retrieval::{
    baseline, evaluated_queries, finish, load, refuse_sustain_and_shards, retrieval_summary, run_meta,
};
use super::{build_model, source, Plan, RunOutcome, CALIBRATION_TEXTS};
use crate::analysis::results::EvalRow;
use crate::analysis::retrieval::cells::RetrievalRow;
use crate::analysis::summary::{cut_off_warning, SchemeInfo, TaskInfo};
use crate::corrupt::Registry;
use crate::engine::{ModelFiles, Scheme};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::suite::RagSection;
use crate::task::kind::{TaskKind, RAG};
use crate::task::prompt::Prompt;
use crate::task::rag::{self, Answerer};
use crate::task::retrieve::{self, Chunk, CorruptSide, Deployment, EngineEmbedders, Query, Shape};

/// Runs a rag suite (called by `run::run` once the output folder is known to be writable).
pub fn run(plan: &Plan, progress: &dyn Progress) -> Result<RunOutcome> {
    let started = Instant::now();
    let suite = &plan.suite;
    let origin = suite.origin();
    refuse_sustain_and_shards(plan)?;
    let section = suite.file.retrieve.clone().unwrap_or_default();
    if section.corrupt != CorruptSide::Queries {
        return Err(Error::input(
            &origin,
            "field retrieve.corrupt: a rag run corrupts the queries only (the decoder would read the noised chunks, which is not built yet)",
        ));
    }
    let rag_section = suite
        .file
        .rag
        .clone()
        .ok_or_else(|| Error::input(&origin, "field rag: the rag task needs a [rag] table"))?;
    // The answer prompt, compiled (and so checked) once before any work; each scheme's model
    // binds it to its chat template.
    let prompt = Prompt::new(&rag_section.prompt, Vec::new(), &format!("{origin}: [rag]"))?;
    let embedder_scheme: Scheme = rag_section.embedder_scheme(&origin)?;
    let (corpus, all_queries) = load(plan)?;
    let spans: BTreeMap<&str, Vec<String>> = all_queries
        .iter()
        .map(|q| Ok(rag::answer_spans(q, &origin)?.map(|s| (q.id.as_str(), s))))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    let (whole, queries) = evaluated_queries(plan, &all_queries, |q| spans.contains_key(q.id.as_str()), progress)?;
    let plan = whole.as_ref().unwrap_or(plan);
    let calibration_queries: Vec<&Query> = all_queries
        .iter()
        .filter(|q| q.split == "calibration")
        .take(CALIBRATION_TEXTS)
        .collect();
    let embedder_calibration: Vec<&str> = calibration_queries.iter().map(|q| q.text.as_str()).collect();
    if (embedder_scheme.needs_calibration() || plan.schemes.iter().any(Scheme::needs_calibration))
        && calibration_queries.is_empty()
    {
        return Err(Error::input(
            &origin,
            "field data: AWQ schemes need queries with split \"calibration\"",
        ));
    }

    // Retrieval: one deployment, every condition.
    let embedder_origin = format!("{origin}: field model (the embedder)");
    let embedder_path = source::resolve(&plan.model, &plan.cache, &embedder_origin, progress)?;
    let decoder_spec = suite
        .rag_decoder()?
        .ok_or_else(|| Error::input(&origin, "field rag.decoder: expected the decoder that answers"))?;
    let decoder_path = source::resolve(
        &decoder_spec,
        &plan.cache,
        &format!("{origin}: [rag] decoder"),
        progress,
    )?;
    progress.note(&format!(
        "suite {} ({} {} queries with answers{} over {} chunks), embedder {} ({embedder_scheme}, {} index), decoder {}",
        suite.file.name,
        queries.len(),
        plan.split,
        crate::analysis::summary::subset_in_parentheses(plan.limit, plan.sample),
        corpus.len(),
        embedder_path.display(),
        rag_section.index,
        decoder_path.display()
    ));
    let files = ModelFiles::load(&embedder_path)?;
    let embedders = EngineEmbedders::new(&files, &embedder_calibration);
    let registry = Registry::with_options(&plan.registry)?;
    let deployment = [Deployment {
        scheme: embedder_scheme,
        precision: rag_section.index,
        shape: Shape::Same,
    }];
    let index_dir = crate::index::default_dir();
    let task_plan = retrieve::Plan {
        corpus: &corpus,
        queries: &queries,
        specs: &plan.corruptions,
        registry: &registry,
        seed: plan.seed,
        side: section.corrupt,
        deployments: &deployment,
        depth: section.depth().max(rag_section.k),
        index_dir: &index_dir,
    };
    let retrieved = retrieve::evaluate(&task_plan, &embedders, &|line| progress.note(line))?;
    let embedder_stats = embedders.weight_stats(embedder_scheme).unwrap_or_default();
    drop(embedders);

    // Answers: every decoder scheme, from the retrieved and from the gold chunks.
    let chunks: BTreeMap<&str, &Chunk> = corpus.iter().map(|c| (c.id.as_str(), c)).collect();
    let by_id: BTreeMap<&str, &Query> = queries.iter().map(|q| (q.id.as_str(), *q)).collect();
    let contexts = Contexts::new(&retrieved.rows, &by_id, &chunks, rag_section.k);
    let opened = OpenedModel::open(&decoder_path, decoder_spec.adapter.as_deref())?;
    let mut rows: Vec<EvalRow> = Vec::new();
    let mut schemes: Vec<SchemeInfo> = Vec::new();
    let mut method = String::new();
    let calibration = decoder_calibration(&rag_section, &prompt, &opened, &calibration_queries, &chunks, &origin)?;
    let calibration: Vec<&str> = calibration.iter().map(String::as_str).collect();
    for &scheme in &plan.schemes {
        let (model, stats) = build_model(&opened, scheme, &calibration, progress)?;
        let answerer = Answerer::new(&rag_section, &prompt, model.as_ref())?;
        if method.is_empty() {
            method = format!(
                "retrieve the top {} chunks ({embedder_scheme} embedder, {} index) and answer from them and from the gold chunks, {}",
                rag_section.k,
                rag_section.index,
                answerer.describe()
            );
        }
        let prompts = contexts.prompts(&answerer, &retrieved.rows)?;
        if let Some((i, need, max)) = answerer.first_too_long(&prompts)? {
            // Named before any scheme answers (the engine would refuse it without saying which query).
            let r = &retrieved.rows[i / 2];
            let read = if i % 2 == 0 { "retrieved" } else { "gold" };
            let variant = match r.family.as_str() {
                crate::analysis::results::CLEAN => "clean".to_string(),
                f => format!("{f} at severity {}", r.severity),
            };
            return Err(Error::input(
                &origin,
                format!(
                    "query {} ({variant}) read with its {read} chunks needs {need} tokens with the \
                     answer's max_tokens, more than the decoder's context of {max}; fewer or shorter chunks \
                     ([rag] k, the corpus's chunking) or a shorter prompt",
                    r.query_id
                ),
            ));
        }
        // Identical prompts (texts the noise left unchanged) are answered once.
        let distinct = prompts.iter().collect::<std::collections::HashSet<_>>().len();
        let phase = progress.start(&format!("{scheme}: answering"), Some(distinct as u64));
        let scheme_started = Instant::now();
        let answers = answerer.answer(&prompts, &|n| phase.advance(n as u64))?;
        phase.finish(&format!(
            "{scheme}: {} answers in {:.1} s",
            answers.len(),
            scheme_started.elapsed().as_secs_f64()
        ));
        let cut_off = answers.iter().filter(|a| a.cut_off).count();
        if let Some(w) = cut_off_warning(TaskKind::Rag, &scheme.to_string(), cut_off, answers.len()) {
            progress.note(&format!("warning: {w}"));
        }
        for (i, r) in retrieved.rows.iter().enumerate() {
            let (from_retrieved, from_gold) = (&answers[2 * i], &answers[2 * i + 1]);
            let want = &spans[r.query_id.as_str()];
            let ctx = &contexts.per_row[i];
            let judged = rag::judge(
                want,
                &from_retrieved.text,
                &from_gold.text,
                &ctx.read,
                &ctx.gold,
                r.scores.ndcg_10,
            );
            rows.push(EvalRow {
                scheme: scheme.to_string(),
                example_id: r.query_id.clone(),
                family: r.family.clone(),
                severity: r.severity,
                seed: r.seed,
                expected: want.join(" | "),
                prediction: rag::tokens(&from_retrieved.text).join(" "),
                correct: judged.correct,
                score: None,
                raw_output: Some(format!(
                    "{} [read {}; from the gold chunks: {}]",
                    from_retrieved.text,
                    ctx.read.join(", "),
                    from_gold.text
                )),
                measures: judged.measures,
                cer: r.cer,
                wer: r.wer,
                wer_raw: r.wer_raw,
                text: r.text.clone(),
            });
        }
        let mut info = scheme_info(scheme.to_string(), stats);
        info.answers_cut_off = cut_off;
        schemes.push(info);
    }

    let task = TaskInfo {
        kind: TaskKind::Rag,
        method,
        measures: RAG.iter().map(|m| m.to_string()).collect(),
        // A rag suite's noise is on its queries, the rows' texts (other sides are refused above).
        corrupted: None,
    };
    let mut meta = run_meta(plan, &decoder_path, opened.sha256(), task, queries.len(), schemes);
    if let Some(b) = &plan.baseline {
        meta.baseline = Some(baseline(&meta, b)?);
    }
    let mut rsum = retrieval_summary(
        plan,
        &meta,
        retrieved.clone_records(),
        &retrieved.rows,
        corpus.len(),
        task_plan.depth,
        &index_dir,
        started,
    );
    // The retrieval section describes the embedder, not the decoder schemes of the run.
    rsum.meta.model = embedder_path.display().to_string();
    rsum.meta.model_sha256 = files.weights_sha256.clone();
    rsum.meta.schemes = vec![scheme_info(embedder_scheme.to_string(), embedder_stats)];
    finish(plan, meta, rsum, &rows, &retrieved.rows)
}

/// What the decoder reads for one retrieval row.
struct Context {
    /// The retrieved chunks it reads (the top `k`).
    read: Vec<String>,
    /// The query's gold chunks.
    gold: Vec<String>,
}

/// The contexts of every retrieval row, in row order.
struct Contexts<'a> {
    per_row: Vec<Context>,
    chunks: &'a BTreeMap<&'a str, &'a Chunk>,
}

impl<'a> Contexts<'a> {
    fn new(
        rows: &[RetrievalRow],
        queries: &BTreeMap<&str, &Query>,
        chunks: &'a BTreeMap<&'a str, &'a Chunk>,
        k: usize,
    ) -> Self {
        let per_row = rows
            .iter()
            .map(|r| Context {
                read: r.retrieved.iter().take(k).cloned().collect(),
                gold: queries
                    .get(r.query_id.as_str())
                    .map(|q| rag::gold_chunks(q, k))
                    .unwrap_or_default(),
            })
            .collect();
        Contexts { per_row, chunks }
    }

    /// Two prompts per row: the (possibly corrupted) query read with the retrieved chunks, then
    /// with the gold chunks.
    fn prompts(&self, answerer: &Answerer, rows: &[RetrievalRow]) -> Result<Vec<String>> {
        let mut out = Vec::with_capacity(2 * rows.len());
        for (r, ctx) in rows.iter().zip(&self.per_row) {
            out.push(answerer.render(&r.text, &rag::context(&ctx.read, self.chunks))?);
            out.push(answerer.render(&r.text, &rag::context(&ctx.gold, self.chunks))?);
        }
        Ok(out)
    }
}

/// Calibration prompts of activation-aware decoder schemes: calibration queries read with their
/// gold chunks, as the decoder will read them (without its chat template, as the other tasks).
fn decoder_calibration(
    section: &RagSection,
    prompt: &Prompt,
    opened: &OpenedModel,
    queries: &[&Query],
    chunks: &BTreeMap<&str, &Chunk>,
    origin: &str,
) -> Result<Vec<String>> {
    if !opened.is_decoder() {
        return Err(Error::input(
            format!("{origin}: [rag] decoder"),
            format!(
                "{} is an encoder; the rag task answers with a decoder",
                opened.path().display()
            ),
        ));
    }
    queries
        .iter()
        .map(|q| prompt.render_with(&q.text, &rag::context(&rag::gold_chunks(q, section.k), chunks)))
        .collect()
}
