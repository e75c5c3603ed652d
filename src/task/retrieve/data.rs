//! A retrieval suite's data: the corpus (`{"id", "text"}` lines) and the queries
//! (`{"id", "text", "split", "relevant": {"chunk-id": grade}}` lines), validated against each other.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use crate::analysis::retrieval::Judgments;
use crate::error::{read_to_string, Error, Result};
use crate::suite::jsonl;
use crate::suite::SPLITS;

/// One chunk of the corpus.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Chunk {
    pub id: String,
    pub text: String,
    /// Other fields (a title, a section) are kept for reports.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One question with the graded ids of the chunks that answer it (grade >= 1 is relevant, 0 is
/// judged not relevant).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Query {
    pub id: String,
    pub text: String,
    pub split: String,
    #[serde(deserialize_with = "unique_judgments")]
    pub relevant: Judgments,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Reads `relevant` refusing a chunk id named twice: JSON parsers keep the last value, so
/// `{"d2": 2, "d2": 0}` would silently judge d2 not relevant.
fn unique_judgments<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Judgments, D::Error> {
    struct Unique;
    impl<'de> serde::de::Visitor<'de> for Unique {
        type Value = Judgments;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of chunk ids to grades (non-negative integers)")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Judgments, A::Error> {
            let mut out = Judgments::new();
            while let Some((id, grade)) = map.next_entry::<String, u32>()? {
                if out.insert(id.clone(), grade).is_some() {
                    return Err(serde::de::Error::custom(format!(
                        "chunk id \"{id}\" is judged twice in relevant"
                    )));
                }
            }
            Ok(out)
        }
    }
    d.deserialize_map(Unique)
}

/// Parses JSON lines of `T`, naming `path:line` and `what` the line should hold on failure.
fn json_lines<T: for<'de> Deserialize<'de>>(path: &Path, what: &str) -> Result<Vec<(String, T)>> {
    let content = read_to_string(path)?;
    let mut out = Vec::new();
    for (n, line) in jsonl::records(&content) {
        let at = format!("{}:{n}", path.display());
        let item = jsonl::parse(line, &at, what)?;
        out.push((at, item));
    }
    Ok(out)
}

/// Loads and checks a corpus: unique, non-empty ids and at least one chunk.
pub fn load_corpus(path: &Path) -> Result<Vec<Chunk>> {
    let lines: Vec<(String, Chunk)> = json_lines(path, "a JSON object with string fields id and text")?;
    let mut ids = HashSet::new();
    for (at, c) in &lines {
        if c.id.is_empty() {
            return Err(Error::input(at, "field id: expected a non-empty chunk id"));
        }
        if !ids.insert(c.id.as_str()) {
            return Err(Error::input(at, format!("field id: \"{}\" appears twice", c.id)));
        }
        jsonl::non_blank(&c.text, "text", at)?;
        // A chunk is an input the noise corrupts and measures like a query: held to the same length.
        jsonl::not_too_long(&c.text, "text", at)?;
    }
    if lines.is_empty() {
        return Err(Error::input(path.display(), "expected at least one chunk"));
    }
    Ok(lines.into_iter().map(|(_, c)| c).collect())
}

/// Loads queries from `paths` and checks them against the corpus: unique ids, a known split, and
/// judgments that name chunks of the corpus with at least one relevant (grade >= 1) chunk, so that
/// every query counts in the averages (pytrec_eval drops queries without judgments).
pub fn load_queries(paths: &[&Path], corpus: &[Chunk]) -> Result<Vec<Query>> {
    let chunk_ids: HashSet<&str> = corpus.iter().map(|c| c.id.as_str()).collect();
    let mut ids = HashSet::new();
    let mut out = Vec::new();
    for path in paths {
        let what = "a JSON object with string fields id, text, split and an object \"relevant\" of chunk ids to \
                    grades (non-negative integers)";
        for (at, q) in json_lines::<Query>(path, what)? {
            if !SPLITS.contains(&q.split.as_str()) {
                return Err(Error::input(
                    &at,
                    format!("field split: expected one of {SPLITS:?}, found \"{}\"", q.split),
                ));
            }
            if !ids.insert(q.id.clone()) {
                return Err(Error::input(&at, format!("field id: \"{}\" appears twice", q.id)));
            }
            jsonl::non_blank(&q.text, "text", &at)?;
            jsonl::not_too_long(&q.text, "text", &at)?;
            if let Some(unknown) = q.relevant.keys().find(|c| !chunk_ids.contains(c.as_str())) {
                return Err(Error::input(
                    &at,
                    format!("field relevant: \"{unknown}\" is not a chunk id of the corpus"),
                ));
            }
            if !q.relevant.values().any(|&g| g >= 1) {
                return Err(Error::input(
                    &at,
                    "field relevant: expected at least one chunk with grade 1 or more",
                ));
            }
            out.push(q);
        }
    }
    if !out.iter().any(|q| q.split == "test") {
        return Err(Error::input(
            paths.first().map(|p| p.display().to_string()).unwrap_or_default(),
            "expected at least one query with split \"test\"",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(corpus: &str, queries: &str) -> (tempfile::TempDir, Vec<Chunk>, Result<Vec<Query>>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("corpus.jsonl"), corpus).unwrap();
        std::fs::write(dir.path().join("q.jsonl"), queries).unwrap();
        let chunks = load_corpus(&dir.path().join("corpus.jsonl")).unwrap();
        let q = load_queries(&[&dir.path().join("q.jsonl")], &chunks);
        (dir, chunks, q)
    }

    const CORPUS: &str = "{\"id\":\"c1\",\"text\":\"charge at station 4\",\"section\":\"charging\"}\n{\"id\":\"c2\",\"text\":\"dock 3\"}\n";

    #[test]
    fn loads_graded_queries_and_keeps_extra_fields() {
        let (_d, chunks, q) = files(
            CORPUS,
            "{\"id\":\"q1\",\"text\":\"where do I charge\",\"split\":\"test\",\"relevant\":{\"c1\":2,\"c2\":0},\"style\":\"spoken\"}\n",
        );
        assert_eq!(chunks[0].extra["section"], "charging");
        let q = q.unwrap();
        assert_eq!(q[0].relevant["c1"], 2);
        assert_eq!(q[0].extra["style"], "spoken");
    }

    #[test]
    fn names_the_line_and_field_of_bad_queries() {
        let cases = [
            (
                "{\"id\":\"q1\",\"text\":\"x\",\"split\":\"test\",\"relevant\":{\"c9\":1}}",
                "\"c9\" is not a chunk id",
            ),
            (
                "{\"id\":\"q1\",\"text\":\"x\",\"split\":\"test\",\"relevant\":{\"c1\":0}}",
                "grade 1 or more",
            ),
            (
                "{\"id\":\"q1\",\"text\":\"x\",\"split\":\"test\",\"relevant\":{\"c1\":-1}}",
                "q.jsonl:1",
            ),
            (
                "{\"id\":\"q1\",\"text\":\"x\",\"split\":\"dev\",\"relevant\":{\"c1\":1}}",
                "field split",
            ),
            (
                "{\"id\":\"q1\",\"text\":\"x\",\"split\":\"train\",\"relevant\":{\"c1\":1}}",
                "split \"test\"",
            ),
            (
                "{\"id\":\"q1\",\"text\":\"x\",\"split\":\"test\",\"relevant\":{\"c1\":2,\"c1\":0}}",
                "chunk id \"c1\" is judged twice",
            ),
            (
                "{\"id\":\"q1\",\"text\":\" \",\"split\":\"test\",\"relevant\":{\"c1\":1}}",
                "q.jsonl:1: field text",
            ),
        ];
        for (line, want) in cases {
            let err = files(CORPUS, line).2.unwrap_err().to_string();
            assert!(err.contains(want), "{line}: {err}");
        }
    }

    #[test]
    fn a_chunk_longer_than_one_input_may_be_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.jsonl");
        let long = "a ".repeat(jsonl::MAX_TEXT_CHARS / 2 + 1);
        std::fs::write(
            &p,
            format!("{{\"id\":\"a\",\"text\":\"x\"}}\n{{\"id\":\"b\",\"text\":\"{long}\"}}\n"),
        )
        .unwrap();
        let err = load_corpus(&p).unwrap_err().to_string();
        assert!(err.contains("c.jsonl:2") && err.contains("field text"), "{err}");
    }

    #[test]
    fn a_duplicate_chunk_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.jsonl");
        std::fs::write(&p, "{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"a\",\"text\":\"y\"}\n").unwrap();
        assert!(load_corpus(&p).unwrap_err().to_string().contains("c.jsonl:2"));
    }
}
