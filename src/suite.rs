//! `Suite`: a folder with `suite.toml` and JSONL examples; parsed, validated and split here.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::gate::GateRule;
use crate::error::{read_to_string, Error, Result};
use crate::eval::sustain::SustainConfig;

/// The splits an example can belong to.
pub const SPLITS: [&str; 4] = ["test", "calibration", "train", "fewshot"];

/// `suite.toml`, as written by a user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_task")]
    pub task: String,
    #[serde(default)]
    pub domain: Option<String>,
    /// The labels of a `classify` suite (a `retrieve` suite has none).
    #[serde(default)]
    pub labels: Vec<String>,
    pub data: Vec<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub schemes: Option<Vec<String>>,
    #[serde(default)]
    pub corruptions: Option<String>,
    /// For models without a classification head: how many `train` examples per label form its prototype.
    #[serde(default = "default_prototypes")]
    pub prototypes_per_label: usize,
    #[serde(default)]
    pub gate: GateSection,
    #[serde(default)]
    pub sustain: SustainConfig,
    /// The `channel` corruption family's external command.
    #[serde(default)]
    pub channel: Option<ChannelSection>,
    /// `[retrieve]`: corpus, depth, index precisions, shapes and corrupted side of a `retrieve` suite.
    #[serde(default)]
    pub retrieve: Option<crate::task::retrieve::RetrieveSection>,
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

/// The `[gate]` section: a list of rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateSection {
    #[serde(default)]
    pub rules: Vec<GateRule>,
    /// With `--baseline`: the most accuracy (points) any scheme x family may lose against the baseline run.
    #[serde(default = "default_baseline_max_drop")]
    pub baseline_max_drop: f64,
}

impl Default for GateSection {
    fn default() -> Self {
        GateSection {
            rules: Vec::new(),
            baseline_max_drop: default_baseline_max_drop(),
        }
    }
}

fn default_baseline_max_drop() -> f64 {
    2.0
}

fn default_task() -> String {
    "classify".into()
}
fn default_prototypes() -> usize {
    64
}

/// One labelled input. Fields other than these are kept in `extra`.
#[derive(Debug, Clone, Deserialize)]
pub struct Example {
    pub id: String,
    pub text: String,
    pub label: String,
    pub split: String,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A loaded, validated suite.
#[derive(Debug, Clone)]
pub struct Suite {
    pub dir: PathBuf,
    pub file: SuiteFile,
    pub examples: Vec<Example>,
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
        let file: SuiteFile =
            toml::from_str(&text).map_err(|e| Error::input(toml_path.display(), e.to_string().trim().to_string()))?;
        validate_file(&file, &toml_path)?;
        if file.task == "retrieve" {
            // Queries and corpus have their own shapes: `task::retrieve::data` loads them.
            return Ok(Suite {
                dir,
                file,
                examples: Vec::new(),
            });
        }
        let labels: HashSet<&str> = file.labels.iter().map(String::as_str).collect();
        let mut examples = Vec::new();
        let mut ids = HashSet::new();
        for data in &file.data {
            let data_path = dir.join(data);
            let content = read_to_string(&data_path)?;
            for (n, line) in content.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let at = format!("{}:{}", data_path.display(), n + 1);
                let ex: Example = serde_json::from_str(line).map_err(|e| {
                    Error::input(
                        &at,
                        format!("expected a JSON object with string fields id, text, label, split: {e}"),
                    )
                })?;
                if !labels.contains(ex.label.as_str()) {
                    return Err(Error::input(
                        &at,
                        format!(
                            "field label: \"{}\" is not one of the suite's labels {:?}",
                            ex.label, file.labels
                        ),
                    ));
                }
                if !SPLITS.contains(&ex.split.as_str()) {
                    return Err(Error::input(
                        &at,
                        format!("field split: expected one of {SPLITS:?}, found \"{}\"", ex.split),
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
                toml_path.display(),
                "field data: expected at least one example with split \"test\"",
            ));
        }
        Ok(Suite { dir, file, examples })
    }

    /// Examples of one split, in file order.
    pub fn split(&self, name: &str) -> Vec<&Example> {
        self.examples.iter().filter(|e| e.split == name).collect()
    }

    /// The suite's default model folder, if it names one.
    pub fn default_model(&self) -> Option<PathBuf> {
        self.file.model.as_ref().map(|m| self.dir.join(m))
    }
}

fn validate_file(file: &SuiteFile, path: &Path) -> Result<()> {
    if file.task != "classify" && file.task != "retrieve" {
        return Err(Error::input(
            path.display(),
            format!(
                "field task: expected \"classify\" or \"retrieve\", found \"{}\"",
                file.task
            ),
        ));
    }
    if file.task == "retrieve" {
        file.retrieve
            .clone()
            .unwrap_or_default()
            .validate(&path.display().to_string())?;
    } else if file.retrieve.is_some() {
        return Err(Error::input(
            path.display(),
            "[retrieve]: only a suite with task = \"retrieve\" takes this table",
        ));
    }
    if file.task == "classify" && file.labels.len() < 2 {
        return Err(Error::input(
            path.display(),
            "field labels: expected at least two labels",
        ));
    }
    if file.data.is_empty() {
        return Err(Error::input(
            path.display(),
            "field data: expected at least one JSONL file",
        ));
    }
    for (i, rule) in file.gate.rules.iter().enumerate() {
        rule.validate(&path.display().to_string(), i)?;
    }
    file.sustain.validate(&path.display().to_string())?;
    if file.prototypes_per_label == 0 {
        return Err(Error::input(
            path.display(),
            "field prototypes_per_label: expected at least 1",
        ));
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

    #[test]
    fn loads_examples_and_keeps_unknown_fields() {
        let dir = write_suite(
            TOML,
            "{\"id\":\"1\",\"text\":\"x\",\"label\":\"a\",\"split\":\"test\",\"speaker\":\"s1\"}\n",
        );
        let suite = Suite::load(dir.path()).unwrap();
        assert_eq!(suite.split("test").len(), 1);
        assert_eq!(suite.examples[0].extra["speaker"], "s1");
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
    fn a_retrieve_suite_needs_no_labels_and_checks_its_table() {
        let toml = "name = \"r\"\ntask = \"retrieve\"\ndata = [\"d.jsonl\"]\n[retrieve]\nindex = [\"int8\"]\n";
        let dir = write_suite(toml, "");
        let suite = Suite::load(dir.path()).unwrap();
        assert_eq!(suite.file.retrieve.unwrap().index, vec![crate::index::Precision::Int8]);
        let dir = write_suite(&toml.replace("int8", "int4"), "");
        assert!(Suite::load(dir.path()).unwrap_err().to_string().contains("int4"));
        let dir = write_suite(&format!("{TOML}[retrieve]\nk = 5\n"), "");
        assert!(Suite::load(dir.path()).unwrap_err().to_string().contains("[retrieve]"));
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
}
