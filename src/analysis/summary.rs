//! The summary of a run: metadata, per-scheme metrics (every family x severity cell, with intervals)
//! and throughput. `build` computes all of it from the result rows and throughput windows, so
//! `shakedown report RUN` recomputes the same summary from a run directory. The gate reads the
//! summary; the summary knows nothing of the gate's verdict.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::gate::rules::{Baseline, GateRule, Policy, Preference};
use crate::analysis::metrics::{Cell, RowIndex};
use crate::analysis::results::{EvalRow, CLEAN};
pub use crate::analysis::schemes::{Memory, SchemeInfo, WeightStats};
use crate::corrupt::coverage;
use crate::eval::fidelity::Fidelity;
use crate::eval::sustain::{self, ThroughputSummary, Window};
use crate::suite::SustainConfig;
use crate::task::kind::TaskKind;

/// The task a run evaluated and the metrics its rows carry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    pub kind: TaskKind,
    /// How answers were obtained (e.g. "classification head", "label log-likelihood", "generate JSON").
    pub method: String,
    /// Names of the per-example measures in `EvalRow::measures`, the primary first.
    pub measures: Vec<String>,
    /// What a retrieval run's noise corrupted (`queries`, `corpus` or `both`); none for other tasks,
    /// whose noise is always on the rows' texts. With `corpus` the rows' texts, CER and WER are the
    /// clean queries', so how many texts the noise changed is not read from them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupted: Option<String>,
}

impl TaskInfo {
    /// The primary metric's name.
    pub fn primary(&self) -> &str {
        self.measures.first().map_or("", String::as_str)
    }
}

/// Where and how a run was made; everything `build` needs besides rows and windows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub tool_version: String,
    pub git_revision: String,
    pub suite: String,
    /// The suite's `description`, shown under the report's title (empty in runs made before it was kept).
    #[serde(default)]
    pub description: String,
    pub suite_dir: String,
    /// SHA-256 of suite.toml and its data files.
    pub suite_sha256: String,
    pub model: String,
    pub model_sha256: String,
    pub task: TaskInfo,
    /// The split evaluated (`test` unless the run chose another).
    pub split: String,
    pub seed: u64,
    pub threads: usize,
    pub limit: Option<usize>,
    /// `--sample`: a seeded random sample of this many examples (absent in runs before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<usize>,
    pub test_examples: usize,
    pub corruptions: String,
    pub cpu_features: Vec<String>,
    /// The kernel table that ran.
    pub kernels: String,
    pub schemes: Vec<SchemeInfo>,
    /// Families and chains in run order.
    pub families: Vec<String>,
    pub gate_rules: Vec<GateRule>,
    pub policy: Policy,
    pub recommend: Preference,
    pub baseline: Option<Baseline>,
    pub sustain: Option<SustainConfig>,
    /// True for `shakedown sustain`: throughput only, no accuracy matrix and no gate.
    pub sustain_only: bool,
    /// `K/N` when this directory holds one shard of a run.
    pub shard: Option<String>,
    /// SHA-256 of the rows `results.parquet` holds (`run::consistency::digest`), set when the directory
    /// is written: `report`, `compare` and `merge` refuse a table that is not the one summarised here.
    /// Absent in directories written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_sha256: Option<String>,
}

/// How the evaluated examples were chosen (`--limit`, `--sample`: `run::subset`), for people; None for
/// the whole split.
pub fn subset_note(limit: Option<usize>, sample: Option<usize>) -> Option<&'static str> {
    if sample.is_some() {
        Some("a random sample drawn from the seed")
    } else if limit.is_some() {
        Some("the split's first, in file order")
    } else {
        None
    }
}

/// `subset_note` in parentheses after a count (" (a random sample drawn from the seed)"), or nothing.
pub fn subset_in_parentheses(limit: Option<usize>, sample: Option<usize>) -> String {
    subset_note(limit, sample).map_or(String::new(), |n| format!(" ({n})"))
}

impl RunMeta {
    /// How the evaluated examples were chosen, for people, in parentheses after their count: nothing
    /// for the whole split.
    pub fn subset_note(&self) -> String {
        subset_in_parentheses(self.limit, self.sample)
    }

    /// Names of the run's schemes in order; the first is the reference for agreement and deltas.
    pub fn scheme_names(&self) -> Vec<String> {
        self.schemes.iter().map(|s| s.name.clone()).collect()
    }
}

/// One family (or chain) under one scheme.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilySummary {
    pub family: String,
    /// All severities of the run pooled.
    pub pooled: Cell,
    pub severities: Vec<Cell>,
    /// Set when the family changed under half of the test texts (at severity 3, else pooled): its accuracy
    /// then says little about robustness (`corrupt::coverage`).
    #[serde(default)]
    pub low_coverage: Option<String>,
}

impl FamilySummary {
    /// The single-severity cells with results in `lo..=hi`, in severity order.
    pub fn cells_in(&self, lo: u8, hi: u8) -> impl Iterator<Item = &Cell> {
        self.severities
            .iter()
            .filter(move |c| c.n > 0 && (lo..=hi).contains(&c.severity_lo))
    }
}

/// How a check or table names a rule's severities `lo..=hi` of which the run holds only `held`
/// ("1, 3 of 1-5"); None when it holds all of them or none (then the range is judged whole, or skipped).
pub fn partial_range(held: &[u8], lo: u8, hi: u8) -> Option<String> {
    let whole = usize::from(hi.saturating_sub(lo)) + 1;
    (!held.is_empty() && held.len() < whole).then(|| {
        let list: Vec<String> = held.iter().map(u8::to_string).collect();
        format!("{} of {lo}-{hi}", list.join(", "))
    })
}

/// One scheme's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemeSummary {
    pub scheme: String,
    pub weights: WeightStats,
    pub fidelity: Option<Fidelity>,
    pub memory: Option<Memory>,
    pub clean: Cell,
    /// The primary metric pooled over every corrupted variant, in percent (None without corruptions).
    pub mean_corrupted: Option<f64>,
    pub families: Vec<FamilySummary>,
    pub throughput: Option<ThroughputSummary>,
}

/// The warning for a scheme with `cut_off` of its `answers` stopped by the token limit, None
/// without any. What such an answer costs depends on the task: an extract answer whose JSON is
/// unfinished is judged invalid; a rag answer is judged on the words it got out.
pub fn cut_off_warning(kind: TaskKind, scheme: &str, cut_off: usize, answers: usize) -> Option<String> {
    let verb = if cut_off == 1 { "was" } else { "were" };
    (cut_off > 0).then(|| match kind {
        TaskKind::Rag => format!(
            "{scheme}: {cut_off} of {answers} answers (two per query: from the retrieved and from the gold chunks) reached the token limit before the end of their line and {verb} judged as far as they went; raise [rag] max_tokens if the model's answers are longer"
        ),
        _ => format!(
            "{scheme}: {cut_off} of {answers} answers reached the token limit before their JSON was whole and {verb} judged invalid; raise [extract] max_tokens if the model's answers are longer"
        ),
    })
}

/// How many answers a scheme's `rows` (result rows) hold: a rag row holds two (from the retrieved
/// and from the gold chunks), any other row one.
pub fn answers_in(kind: TaskKind, rows: usize) -> usize {
    if kind == TaskKind::Rag {
        2 * rows
    } else {
        rows
    }
}

/// A run's metrics (`summary.json` adds the gate's verdict).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub meta: RunMeta,
    /// The scheme agreement and deltas are measured against (the run's first scheme).
    pub reference: String,
    pub schemes: Vec<SchemeSummary>,
    /// A retrieve run's every deployment (query scheme x index precision x who embedded the
    /// corpus); `schemes` holds each scheme's own deployment, the one the gate judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieval: Option<crate::analysis::retrieval::summary::RetrievalSummary>,
}

impl Summary {
    /// The families' low-coverage warnings. Coverage depends on the inputs, not the scheme: the first
    /// scheme's families say it for all.
    pub fn coverage_warnings(&self) -> impl Iterator<Item = &String> {
        self.schemes
            .first()
            .into_iter()
            .flat_map(|s| &s.families)
            .filter_map(|f| f.low_coverage.as_ref())
    }

    /// What a reader must know before trusting the figures: the families' low coverage, then each
    /// scheme whose generated answers the token limit stopped.
    pub fn warnings(&self) -> Vec<String> {
        let answers = |scheme: &str| {
            self.scheme(scheme).map_or(0, |s| {
                s.clean.n
                    + s.families
                        .iter()
                        .flat_map(|f| &f.severities)
                        .map(|c| c.n)
                        .sum::<usize>()
            })
        };
        let cut_off = self.meta.schemes.iter().filter_map(|s| {
            let kind = self.meta.task.kind;
            cut_off_warning(kind, &s.name, s.answers_cut_off, answers_in(kind, answers(&s.name)))
        });
        self.coverage_warnings().cloned().chain(cut_off).collect()
    }

    /// The summary of `scheme`, if the run has it.
    pub fn scheme(&self, scheme: &str) -> Option<&SchemeSummary> {
        self.schemes.iter().find(|s| s.scheme == scheme)
    }

    /// Every cell: clean, pooled families and single severities, scheme by scheme.
    pub fn cells(&self) -> Vec<&Cell> {
        let mut out = Vec::new();
        for s in &self.schemes {
            out.push(&s.clean);
            for f in &s.families {
                out.push(&f.pooled);
                out.extend(f.severities.iter());
            }
        }
        out
    }

    /// The primary metric's name.
    pub fn primary(&self) -> &str {
        self.meta.task.primary()
    }
}

/// Computes the summary of a run from its rows and throughput windows.
pub fn build(meta: RunMeta, rows: &[EvalRow], windows: &[Window]) -> Summary {
    let index = RowIndex::new(rows, &meta.task.measures, meta.seed);
    let severities_of = |scheme: &str, family: &str| -> Vec<u8> {
        let mut v: Vec<u8> = rows
            .iter()
            .filter(|r| r.scheme == scheme && r.family == family)
            .map(|r| r.severity)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let schemes: Vec<SchemeSummary> = meta
        .schemes
        .par_iter()
        .map(|info| {
            // A shard may hold a scheme's corrupted inputs without its clean ones (another shard's):
            // what the noise changed is then unknown there (`changed` is None), and no coverage warning
            // is made up.
            let clean = index.cell(&info.name, CLEAN, 0, 0);
            let families: Vec<FamilySummary> = meta
                .families
                .iter()
                .map(|family| {
                    let pooled = index.cell(&info.name, family, 1, 5);
                    let severities: Vec<Cell> = severities_of(&info.name, family)
                        .into_iter()
                        .map(|s| index.cell(&info.name, family, s, s))
                        .collect();
                    // Coverage is read where the gate reads the family (the mildest severity a rule
                    // names, which changes the fewest texts), else in the middle of the scale, else
                    // pooled: a gate on l2 at severity 1, which changed 49% of the texts, was not
                    // warned about while severity 3 changed most of them.
                    let gated = meta
                        .gate_rules
                        .iter()
                        .filter(|r| r.severity.is_some() && (&r.family == family || r.family == "*"))
                        .filter_map(|r| r.severity_range().ok())
                        .flat_map(|(lo, hi)| lo..=hi)
                        .filter(|s| severities.iter().any(|c| c.severity_lo == *s))
                        .min();
                    let judged = gated
                        .and_then(|s| severities.iter().find(|c| c.severity_lo == s))
                        .or_else(|| severities.iter().find(|c| c.severity_lo == coverage::COVERAGE_SEVERITY))
                        .unwrap_or(&pooled);
                    // The severities the pooled cell holds are those run, not the 1-5 of its key.
                    let (lo, hi) = match (severities.first(), severities.last()) {
                        (Some(a), Some(b)) if judged.severity_lo != judged.severity_hi => {
                            (a.severity_lo, b.severity_lo)
                        }
                        _ => (judged.severity_lo, judged.severity_hi),
                    };
                    let severity = if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") };
                    FamilySummary {
                        family: family.clone(),
                        low_coverage: judged
                            .changed
                            .filter(|_| meta.task.corrupted.as_deref() != Some("corpus"))
                            .and_then(|changed| coverage::warning(family, &severity, changed / 100.0, judged.n)),
                        pooled,
                        severities,
                    }
                })
                .collect();
            let corrupted: Vec<f64> = rows
                .iter()
                .filter(|r| r.scheme == info.name && r.family != CLEAN)
                .map(|r| r.measures.first().copied().unwrap_or(0.0))
                .collect();
            let mean_corrupted =
                (!corrupted.is_empty()).then(|| 100.0 * corrupted.iter().sum::<f64>() / corrupted.len() as f64);
            let has_windows = windows.iter().any(|w| w.scheme == info.name);
            SchemeSummary {
                scheme: info.name.clone(),
                weights: info.weights.clone(),
                fidelity: info.fidelity.clone(),
                memory: info.memory.clone(),
                clean,
                mean_corrupted,
                families,
                throughput: has_windows.then(|| sustain::summarize(&info.name, windows)),
            }
        })
        .collect();
    Summary {
        reference: meta.schemes.first().map(|s| s.name.clone()).unwrap_or_default(),
        meta,
        schemes,
        retrieval: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `report` and `merge` read summary.json back and write it again: every f64 must come back as the
    /// bits written (serde_json's default float parser was one unit in the last place off on some, so
    /// a merged run's mean KL differed from the unsharded run's in its last digit).
    #[test]
    fn floats_read_back_from_json_are_the_bits_written() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let known = [0.001_329_878_413_490_627_9_f64, 1.471_369_244_766_644_7e-6];
        let drawn = (0..20_000).map(|_| rng.random::<f64>() * 10f64.powi(rng.random_range(-12..6)));
        for x in known.into_iter().chain(drawn) {
            let y: f64 = serde_json::from_str(&serde_json::to_string(&x).unwrap()).unwrap();
            assert_eq!(x.to_bits(), y.to_bits(), "{x:e}");
        }
    }

    #[test]
    fn build_pools_families_and_keeps_every_severity() {
        let mut rows = Vec::new();
        for i in 0..4 {
            let id = i.to_string();
            rows.push(EvalRow {
                scheme: "f32".into(),
                example_id: id.clone(),
                family: CLEAN.into(),
                correct: true,
                measures: vec![1.0],
                ..Default::default()
            });
            for sev in [2u8, 4] {
                let correct = i < 3 || sev == 2;
                rows.push(EvalRow {
                    scheme: "f32".into(),
                    example_id: id.clone(),
                    family: "ocr".into(),
                    severity: sev,
                    correct,
                    measures: vec![correct as u8 as f64],
                    cer: 0.1,
                    ..Default::default()
                });
            }
        }
        let meta = RunMeta {
            schemes: vec![SchemeInfo {
                name: "f32".into(),
                ..Default::default()
            }],
            families: vec!["ocr".into()],
            task: TaskInfo {
                measures: vec!["accuracy".into()],
                ..Default::default()
            },
            ..Default::default()
        };
        let s = build(meta, &rows, &[]);
        let f = &s.schemes[0].families[0];
        assert_eq!(
            f.severities
                .iter()
                .map(|c| (c.severity_lo, c.primary().value))
                .collect::<Vec<_>>(),
            vec![(2, 100.0), (4, 75.0)]
        );
        assert_eq!(
            (f.pooled.n, f.pooled.primary().value, f.pooled.drop),
            (8, 87.5, Some(12.5))
        );
        assert_eq!(s.schemes[0].mean_corrupted, Some(87.5));
        assert_eq!(s.primary(), "accuracy");
    }

    /// Coverage is read at the severity the gate judges: l2 changed one text in four at severity 1
    /// and all of them at 3; a rule on severity 1 gets the warning, a run without one does not.
    #[test]
    fn coverage_is_read_where_the_gate_reads_the_family() {
        let mut rows = Vec::new();
        for i in 0..4 {
            let row = |family: &str, severity: u8, text: String| EvalRow {
                scheme: "f32".into(),
                example_id: i.to_string(),
                family: family.into(),
                severity,
                text,
                correct: true,
                measures: vec![1.0],
                ..Default::default()
            };
            rows.push(row(CLEAN, 0, format!("text {i}")));
            let mild = if i == 0 {
                format!("txet {i}")
            } else {
                format!("text {i}")
            };
            rows.push(row("l2", 1, mild));
            rows.push(row("l2", 3, format!("txet {i}")));
        }
        let meta = |rules: Vec<GateRule>| RunMeta {
            schemes: vec![SchemeInfo {
                name: "f32".into(),
                ..Default::default()
            }],
            families: vec!["l2".into()],
            gate_rules: rules,
            task: TaskInfo {
                measures: vec!["accuracy".into()],
                ..Default::default()
            },
            ..Default::default()
        };
        let ungated = build(meta(vec![]), &rows, &[]);
        assert_eq!(
            ungated.schemes[0].families[0].low_coverage, None,
            "severity 3 changed every text"
        );
        let rule: GateRule = toml::from_str("metric = \"drop\"\nfamily = \"l2\"\nseverity = \"1\"\nmax = 10").unwrap();
        let gated = build(meta(vec![rule]), &rows, &[]);
        let warning = gated.schemes[0].families[0].low_coverage.clone().unwrap_or_default();
        assert!(
            warning.contains("only 25% of the 4 test texts at severity 1"),
            "{warning}"
        );
    }
}
