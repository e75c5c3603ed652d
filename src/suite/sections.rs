//! What `suite.toml` may say: the file's tables as plain data, with the checks serde cannot make.
//! The modules that act on a section (tasks, the gate, the sustain phase, retrieval) read it from
//! here; nothing here reads them back, so a suite loads without the code that runs it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::analysis::gate::rules::{GateRule, Preference};
use crate::error::{Error, Result};
use crate::task::kind::TaskKind;
use crate::task::retrieve::config::RetrieveSection;

/// `suite.toml`, as written by a user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub task: TaskKind,
    #[serde(default)]
    pub domain: Option<String>,
    /// Classify: the labels an example can have.
    #[serde(default)]
    pub labels: Vec<String>,
    pub data: Vec<String>,
    /// A model folder (a string), or a `[model]` table with `base`, `sha256` and `adapter`.
    #[serde(default)]
    pub model: Option<toml::Value>,
    #[serde(default)]
    pub schemes: Option<Vec<String>>,
    #[serde(default)]
    pub corruptions: Option<String>,
    /// For models without a classification head: how many `train` examples per label form its prototype.
    /// Absent: 64. Only a classify suite reads it (a retrieve, rag or extract suite refuses it).
    #[serde(default)]
    pub prototypes_per_label: Option<usize>,
    /// Evaluation splits besides the built-in ones (e.g. `["handwritten"]`), selectable for a run.
    #[serde(default)]
    pub splits: Vec<String>,
    #[serde(default)]
    pub prompt: Option<PromptSection>,
    #[serde(default)]
    pub classify: ClassifySection,
    #[serde(default)]
    pub extract: Option<ExtractSection>,
    #[serde(default)]
    pub gate: GateSection,
    #[serde(default)]
    pub sustain: SustainConfig,
    /// The `channel` corruption family's external command.
    #[serde(default)]
    pub channel: Option<ChannelSection>,
    /// The suite's own jargon lexicon for the `jargon` family.
    #[serde(default)]
    pub jargon: Option<JargonSection>,
    /// Retrieve: corpus, depth, index precisions, deployment shapes and the corrupted side.
    #[serde(default)]
    pub retrieve: Option<RetrieveSection>,
    /// Rag: the decoder, chunks read, embedder scheme, index and prompt of retrieval-augmented
    /// answers.
    #[serde(default)]
    pub rag: Option<RagSection>,
}

/// `[jargon]`: a lexicon file in the suite folder (format of `corruptions/jargon/*.tsv`), merged with the
/// domain's built-in lexicon (`mode = "merge"`, the default) or replacing it (`mode = "replace"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JargonSection {
    pub lexicon: String,
    #[serde(default)]
    pub mode: crate::corrupt::jargon::LexiconMode,
}

/// `[prompt]`: what a decoder reads before its answer.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PromptSection {
    /// A system message (or a first paragraph, without a chat template).
    #[serde(default)]
    pub system: Option<String>,
    /// A minijinja template over `text` and `fewshot` (a list of `{text, answer}`).
    #[serde(default = "default_template")]
    pub template: String,
    /// How many `fewshot` split examples (in file order) the template receives.
    #[serde(default)]
    pub fewshot: usize,
    /// Render through the model's chat template when it has one.
    #[serde(default = "yes")]
    pub chat: bool,
}

impl Default for PromptSection {
    fn default() -> Self {
        PromptSection {
            system: None,
            template: default_template(),
            fewshot: 0,
            chat: true,
        }
    }
}

fn default_template() -> String {
    "{{ text }}".into()
}
fn yes() -> bool {
    true
}

/// `[classify]`: settings of classification by label likelihood (decoders).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClassifySection {
    /// The continuation scored for each label (default: a space and the label).
    #[serde(default)]
    pub verbalizers: BTreeMap<String, String>,
}

/// How an extraction answer is generated.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Decoding {
    /// Whatever the model generates.
    #[default]
    Free,
    /// Constrained to a JSON object with the suite's fields (in order) and their allowed values.
    Json,
}

impl Decoding {
    pub fn name(self) -> &'static str {
        match self {
            Decoding::Free => "free",
            Decoding::Json => "json",
        }
    }
}

/// `[extract]`: the fields a decoder's JSON answer must hold.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExtractSection {
    pub fields: Vec<String>,
    #[serde(default)]
    pub decoding: Decoding,
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    /// `max_tokens` was set by `predict --max-tokens`, not by suite.toml: errors about it name the flag.
    #[serde(skip)]
    pub max_tokens_from_flag: bool,
    /// Allowed values per field (for constrained decoding and validation); null is always allowed.
    #[serde(default)]
    pub values: BTreeMap<String, Vec<String>>,
}

fn default_max_tokens() -> usize {
    48
}

/// `[channel]`: an external command that corrupts one line at a time (see `corrupt::channel`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSection {
    /// Shell command; `{severity}` is replaced by 1..5.
    pub command: String,
    /// Seconds one line may take.
    #[serde(default = "default_channel_timeout")]
    pub timeout_s: f64,
}

fn default_channel_timeout() -> f64 {
    crate::corrupt::channel::DEFAULT_TIMEOUT_SECONDS
}

/// The `[gate]` section: rules, what the exit code follows, and how to pick the scheme to ship.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateSection {
    #[serde(default)]
    pub rules: Vec<GateRule>,
    /// With a baseline run: the most the primary metric of any scheme x family may lose against it, in points.
    #[serde(default = "default_baseline_max_drop")]
    pub baseline_max_drop: f64,
    /// `all` (every scheme must pass), `any` (at least one) or `ship` (the scheme named by `ship`).
    #[serde(default)]
    pub policy: Option<String>,
    /// The scheme the team intends to ship (implies `policy = "ship"`).
    #[serde(default)]
    pub ship: Option<String>,
    /// Which passing scheme to recommend: `smallest` (fewest weight bytes) or `fastest` (sustained items/s).
    #[serde(default)]
    pub recommend: Preference,
}

impl Default for GateSection {
    fn default() -> Self {
        GateSection {
            rules: Vec::new(),
            baseline_max_drop: default_baseline_max_drop(),
            policy: None,
            ship: None,
            recommend: Preference::default(),
        }
    }
}

fn default_baseline_max_drop() -> f64 {
    2.0
}
/// Train examples per label that form a label's prototype when the suite does not say.
pub const DEFAULT_PROTOTYPES: usize = 64;

/// Where a suite's model comes from: a local path or a file inside a pinned PyPI wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelBase {
    /// A model folder or file, already joined to the suite's folder.
    Path(PathBuf),
    /// `pypi:NAME==VERSION/path/inside/the/wheel`.
    PyPi { requirement: String, member: String },
}

/// The `[model]` table (or `model = "dir"`), resolved against the suite's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    pub base: ModelBase,
    /// Expected hex SHA-256 of the base file (required for PyPI sources).
    pub sha256: Option<String>,
    /// A LoRA adapter applied on top of the base: a PEFT folder or a llama.cpp GGUF adapter file.
    pub adapter: Option<PathBuf>,
}

/// One input with its expected answer. Fields other than these are kept in `extra`.
#[derive(Debug, Clone, Deserialize)]
pub struct Example {
    pub id: String,
    pub text: String,
    pub split: String,
    /// Classify: the example's label.
    #[serde(default)]
    pub label: Option<String>,
    /// Extract: the expected value (a string or null) of each of the suite's fields.
    #[serde(default)]
    pub fields: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The longest sustained phase (and warm-up) accepted: a day.
const DAY_S: f64 = 86_400.0;
/// The most texts per engine call of the sustained phase.
const MAX_BATCH: usize = 4096;
/// The most windows (points of the throughput curve) a sustained phase may have.
const MAX_WINDOWS: f64 = 100_000.0;

/// `[sustain]` in suite.toml.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SustainConfig {
    /// Seconds of measured load per scheme (after warm-up).
    pub duration_s: f64,
    /// Seconds per window.
    pub window_s: f64,
    /// Seconds of unmeasured load before the first window.
    pub warmup_s: f64,
    /// Texts per engine call.
    pub batch: usize,
    /// Worker threads (0: the run's thread count).
    pub threads: usize,
    /// Fraction of the input mix drawn from corrupted variants (the rest is clean text).
    pub corrupted_fraction: f64,
}

impl Default for SustainConfig {
    fn default() -> Self {
        SustainConfig {
            duration_s: 4.0,
            window_s: 0.5,
            warmup_s: 0.5,
            batch: 8,
            threads: 0,
            corrupted_fraction: 0.5,
        }
    }
}

impl SustainConfig {
    /// Checks the values; `origin` names the file for errors.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let bad = |f: &str, m: &str| Err(Error::input(origin, format!("sustain.{f}: {m}")));
        if !(self.duration_s > 0.0 && self.duration_s <= DAY_S) {
            return bad("duration_s", "expected a positive number of seconds, at most 86400");
        }
        if !(self.window_s > 0.0 && self.window_s <= self.duration_s) {
            return bad("window_s", "expected a positive number of seconds, at most duration_s");
        }
        // The curve keeps one point per window: bound them, or a tiny window asks for billions.
        if self.duration_s / self.window_s > MAX_WINDOWS {
            return bad(
                "window_s",
                &format!("expected at most {MAX_WINDOWS} windows in duration_s (window_s at least duration_s / {MAX_WINDOWS})"),
            );
        }
        if !(self.warmup_s >= 0.0 && self.warmup_s <= DAY_S) {
            return bad("warmup_s", "expected zero or more seconds, at most 86400");
        }
        if !(1..=MAX_BATCH).contains(&self.batch) {
            return bad("batch", &format!("expected 1 to {MAX_BATCH} texts per call"));
        }
        if self.threads != 0 {
            crate::threads::check(&format!("{origin}: sustain.threads"), self.threads)?;
        }
        if !(0.0..=1.0).contains(&self.corrupted_fraction) {
            return bad("corrupted_fraction", "expected a fraction between 0 and 1");
        }
        Ok(())
    }
}

fn default_rag_k() -> usize {
    3
}
fn default_rag_scheme() -> String {
    "f32".into()
}
fn default_rag_index() -> crate::index::Precision {
    crate::index::Precision::F32
}
fn default_rag_max_tokens() -> usize {
    24
}
fn default_rag_prompt() -> PromptSection {
    PromptSection {
        system: Some("Answer the question from the manual excerpts, in a few words.".into()),
        template: "{% for c in chunks %}{{ c.title }}: {{ c.text }}\n{% endfor %}\nQuestion: {{ text }}".into(),
        fewshot: 0,
        chat: true,
    }
}

/// `[rag]` in suite.toml, as written by a user.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RagSection {
    /// The decoder that answers, written as `model` is (a path, or a table with base, sha256 and
    /// adapter); `run --decoder` overrides it. The run's model is the embedder.
    #[serde(default)]
    pub decoder: Option<toml::Value>,
    /// Chunks the decoder reads per query.
    #[serde(default = "default_rag_k")]
    pub k: usize,
    /// The scheme the embedder runs in (the suite's and the run's schemes are the decoder's).
    #[serde(default = "default_rag_scheme")]
    pub embedder_scheme: String,
    /// The index's precision.
    #[serde(default = "default_rag_index")]
    pub index: crate::index::Precision,
    /// Tokens generated per answer at most.
    #[serde(default = "default_rag_max_tokens")]
    pub max_tokens: usize,
    /// The prompt: a template over the query's `text` and the `chunks` read (`{id, title, text}`).
    #[serde(default = "default_rag_prompt")]
    pub prompt: PromptSection,
}

impl RagSection {
    /// Checks the values serde cannot; `origin` names the file. (The answer prompt's template is
    /// checked where the task compiles it, `task::prompt::Prompt::new`.)
    pub fn validate(&self, origin: &str) -> Result<()> {
        let bad = |m: String| Err(Error::input(origin, format!("[rag] field {m}")));
        if !(1..=20).contains(&self.k) {
            return bad(format!("k: expected 1 to 20 chunks, found {}", self.k));
        }
        if !(1..=512).contains(&self.max_tokens) {
            return bad(format!("max_tokens: expected 1 to 512, found {}", self.max_tokens));
        }
        self.embedder_scheme(origin)?;
        Ok(())
    }

    /// The embedder's scheme, parsed; `origin` names the file.
    pub fn embedder_scheme(&self, origin: &str) -> Result<crate::engine::Scheme> {
        self.embedder_scheme
            .parse()
            .map_err(|e| Error::input(origin, format!("[rag] field embedder_scheme: {e}")))
    }
}
