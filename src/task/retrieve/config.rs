//! The `[retrieve]` table of suite.toml and the deployment shapes a retrieval run compares.
//!
//! ```toml
//! [retrieve]
//! corpus = "corpus.jsonl"          # JSON lines {"id", "text"}, chunked by the suite's author
//! k = 10                           # chunks retrieved per query (metrics always look at the top 10)
//! index = ["f32", "int8", "binary"]
//! shapes = ["same", "server-f32"]
//! corrupt = "queries"              # or "corpus" (OCR'd manuals) or "both"
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::analysis::retrieval::DEPTH;
use crate::engine::Scheme;
use crate::error::{Error, Result};
use crate::index::Precision;

/// Who embeds the corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Shape {
    /// Corpus and queries embedded by the same scheme (an index built on the device).
    #[serde(rename = "same")]
    Same,
    /// Corpus embedded by f32 "on the server", queries by the device's scheme.
    #[serde(rename = "server-f32")]
    ServerF32,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Same => "same",
            Shape::ServerF32 => "server-f32",
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which side a corruption applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CorruptSide {
    /// Typed or spoken questions with errors; the corpus stays clean.
    #[default]
    Queries,
    /// The corpus as OCR (or another channel) delivered it; the queries stay clean.
    Corpus,
    /// The same family and severity on both sides.
    Both,
}

impl CorruptSide {
    pub fn queries(self) -> bool {
        matches!(self, CorruptSide::Queries | CorruptSide::Both)
    }
    pub fn corpus(self) -> bool {
        matches!(self, CorruptSide::Corpus | CorruptSide::Both)
    }
    pub fn name(self) -> &'static str {
        match self {
            CorruptSide::Queries => "queries",
            CorruptSide::Corpus => "corpus",
            CorruptSide::Both => "both",
        }
    }
}

fn default_corpus() -> String {
    "corpus.jsonl".into()
}
fn default_k() -> usize {
    DEPTH
}
fn default_index() -> Vec<Precision> {
    Precision::ALL.to_vec()
}
fn default_shapes() -> Vec<Shape> {
    vec![Shape::Same, Shape::ServerF32]
}

/// `[retrieve]`, as written by a user.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetrieveSection {
    #[serde(default = "default_corpus")]
    pub corpus: String,
    /// Chunks retrieved per query; the search goes at least 10 deep for recall@10 and nDCG@10.
    #[serde(default = "default_k")]
    pub k: usize,
    #[serde(default = "default_index")]
    pub index: Vec<Precision>,
    #[serde(default = "default_shapes")]
    pub shapes: Vec<Shape>,
    #[serde(default)]
    pub corrupt: CorruptSide,
}

impl Default for RetrieveSection {
    fn default() -> Self {
        RetrieveSection {
            corpus: default_corpus(),
            k: default_k(),
            index: default_index(),
            shapes: default_shapes(),
            corrupt: CorruptSide::default(),
        }
    }
}

impl RetrieveSection {
    /// Checks the values serde cannot; `origin` names the file.
    pub fn validate(&self, origin: &str) -> Result<()> {
        if self.k == 0 || self.k > 1000 {
            return Err(Error::input(
                origin,
                format!("[retrieve] field k: expected 1 to 1000 chunks, found {}", self.k),
            ));
        }
        if self.corpus.trim().is_empty() {
            return Err(Error::input(
                origin,
                "[retrieve] field corpus: expected a JSONL file name",
            ));
        }
        for (field, empty, dup) in [
            ("index", self.index.is_empty(), has_duplicates(&self.index)),
            ("shapes", self.shapes.is_empty(), has_duplicates(&self.shapes)),
        ] {
            if empty {
                return Err(Error::input(
                    origin,
                    format!("[retrieve] field {field}: expected at least one value"),
                ));
            }
            if dup {
                return Err(Error::input(
                    origin,
                    format!("[retrieve] field {field}: a value appears twice"),
                ));
            }
        }
        Ok(())
    }

    /// How deep each query is searched: `k`, and at least the metrics' depth.
    pub fn depth(&self) -> usize {
        self.k.max(DEPTH)
    }
}

fn has_duplicates<T: PartialEq>(xs: &[T]) -> bool {
    xs.iter().enumerate().any(|(i, x)| xs[..i].contains(x))
}

/// One way to deploy retrieval on a device: the scheme that embeds the queries, the precision the
/// index stores, and who embedded the corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Deployment {
    pub scheme: Scheme,
    pub precision: Precision,
    pub shape: Shape,
}

impl Deployment {
    /// The scheme the corpus is embedded with.
    pub fn corpus_scheme(&self) -> Scheme {
        match self.shape {
            Shape::Same => self.scheme,
            Shape::ServerF32 => Scheme::F32,
        }
    }
}

impl fmt::Display for Deployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {} index / {}", self.scheme, self.precision, self.shape)
    }
}

/// Every scheme x precision x shape, in that order. For f32 the server shape is the same
/// deployment as `same` and is listed once (as `same`).
pub fn deployments(schemes: &[Scheme], precisions: &[Precision], shapes: &[Shape]) -> Vec<Deployment> {
    let mut out = Vec::new();
    for &scheme in schemes {
        for &precision in precisions {
            for &shape in shapes {
                let d = Deployment {
                    scheme,
                    precision,
                    shape,
                };
                let same = Deployment {
                    shape: Shape::Same,
                    ..d
                };
                if shape == Shape::ServerF32 && scheme == Scheme::F32 {
                    if !shapes.contains(&Shape::Same) {
                        out.push(same);
                    }
                    continue;
                }
                out.push(d);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_with_defaults_and_rejects_what_it_cannot_use() {
        let s: RetrieveSection = toml::from_str("corrupt = \"both\"\nindex = [\"int8\"]").unwrap();
        assert_eq!(s.corrupt, CorruptSide::Both);
        assert_eq!(
            (s.k, s.corpus.as_str(), s.index.as_slice()),
            (10, "corpus.jsonl", &[Precision::Int8][..])
        );
        assert_eq!(s.shapes, vec![Shape::Same, Shape::ServerF32]);
        assert!(toml::from_str::<RetrieveSection>("corrupt = \"answers\"").is_err());
        assert!(toml::from_str::<RetrieveSection>("index = [\"f16\"]").is_err());
        assert!(
            toml::from_str::<RetrieveSection>("shape = [\"same\"]").is_err(),
            "misspelled key"
        );
        let bad = RetrieveSection {
            index: vec![Precision::F32, Precision::F32],
            ..Default::default()
        };
        assert!(bad
            .validate("suite.toml")
            .unwrap_err()
            .to_string()
            .contains("appears twice"));
        let bad = RetrieveSection {
            k: 0,
            ..Default::default()
        };
        assert!(bad.validate("suite.toml").is_err());
        assert_eq!(
            RetrieveSection {
                k: 3,
                ..Default::default()
            }
            .depth(),
            10
        );
    }

    #[test]
    fn f32_has_one_deployment_per_precision() {
        let ds = deployments(
            &[Scheme::F32, Scheme::Int8],
            &[Precision::F32, Precision::Binary],
            &[Shape::Same, Shape::ServerF32],
        );
        let names: Vec<String> = ds.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            names,
            [
                "f32 / f32 index / same",
                "f32 / binary index / same",
                "int8 / f32 index / same",
                "int8 / f32 index / server-f32",
                "int8 / binary index / same",
                "int8 / binary index / server-f32",
            ]
        );
        assert_eq!(ds[3].corpus_scheme(), Scheme::F32);
        assert_eq!(ds[2].corpus_scheme(), Scheme::Int8);
        let only_server = deployments(&[Scheme::F32], &[Precision::F32], &[Shape::ServerF32]);
        assert_eq!(only_server[0].shape, Shape::Same);
    }
}
