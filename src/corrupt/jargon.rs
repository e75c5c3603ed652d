//! `jargon`: the vocabulary of the floor instead of the vocabulary of the test set: abbreviations, slang,
//! synonyms and codes from a lexicon per domain (`corruptions/jargon/DOMAIN.tsv`), chosen by the suite's
//! `domain`. Severity sets the fraction of replaceable terms that are replaced, from one in five to all.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::RngExt;

use super::safety::replacement_is_safe;
use super::words::{join, match_case, shuffled, stochastic_round, tokens, Token};
use super::{Corrupted, Corruptor, Measure, Severity, Target};
use crate::error::Result;

/// Fraction of the replaceable terms of a text that are replaced, per severity 1..5.
pub const JARGON_REPLACED: [f64; 5] = [0.2, 0.4, 0.6, 0.8, 1.0];

/// The lexicon used when a suite names no domain.
pub const DEFAULT_DOMAIN: &str = "warehouse";

/// The shipped lexicons, by domain.
const LEXICONS: [(&str, &str); 3] = [
    ("warehouse", include_str!("../../corruptions/jargon/warehouse.tsv")),
    ("support", include_str!("../../corruptions/jargon/support.tsv")),
    ("clinical", include_str!("../../corruptions/jargon/clinical.tsv")),
];

/// Names of the shipped domains.
pub fn domains() -> Vec<&'static str> {
    LEXICONS.iter().map(|(d, _)| *d).collect()
}

/// One lexicon entry: a plain term (lowercase words) and the jargon forms that mean the same.
#[derive(Clone, Debug)]
pub struct Entry {
    pub term: Vec<String>,
    pub replacements: Vec<String>,
}

/// Parses a lexicon (`TERM<TAB>REPLACEMENT|REPLACEMENT...<TAB>KIND`), dropping replacements that would
/// introduce a direction, number or negation the term lacks.
pub fn parse_lexicon(domain: &str, table: &str) -> std::result::Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    for (n, line) in table.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.trim_end_matches('\r').split('\t').collect();
        let [term, repl, kind] = cols.as_slice() else {
            return Err(format!(
                "jargon lexicon '{domain}' line {} ('{line}'): expected TERM<TAB>REPLACEMENT|...<TAB>KIND",
                n + 1
            ));
        };
        if !["abbrev", "slang", "synonym", "code"].contains(&kind.trim()) {
            return Err(format!(
                "jargon lexicon '{domain}' line {} ('{line}'): unknown kind '{kind}': expected abbrev, slang, \
                 synonym or code",
                n + 1
            ));
        }
        let term_text = term.trim().to_lowercase();
        let replacements: Vec<String> = repl
            .split('|')
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty() && r.to_lowercase() != term_text && replacement_is_safe(&term_text, r))
            .collect();
        if term_text.is_empty() || replacements.is_empty() {
            continue;
        }
        out.push(Entry {
            term: term_text.split_whitespace().map(str::to_string).collect(),
            replacements,
        });
    }
    Ok(out)
}

/// The lexicon of `domain`, or a message naming the domains there are.
pub fn lexicon_for(domain: &str) -> std::result::Result<Vec<Entry>, String> {
    let Some((_, table)) = LEXICONS.iter().find(|(d, _)| *d == domain) else {
        return Err(format!(
            "no jargon lexicon for domain '{domain}': expected one of {}",
            domains().join(", ")
        ));
    };
    parse_lexicon(domain, table)
}

/// How a suite's own lexicon joins the built-in domain's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LexiconMode {
    /// Both lexicons; the suite's entries win where both have a term.
    #[default]
    Merge,
    /// The suite's lexicon alone.
    Replace,
}

/// A suite's own jargon lexicon (`[jargon] lexicon = "jargon.tsv"`), in the format of the shipped ones.
#[derive(Clone, Debug)]
pub struct SuiteLexicon {
    /// File name without extension, for the family's description.
    pub name: String,
    pub mode: LexiconMode,
    pub entries: Vec<Entry>,
}

impl SuiteLexicon {
    /// Reads and parses the lexicon at `path`; errors name the file and line (`origin` when it cannot be read).
    pub fn load(path: &std::path::Path, mode: LexiconMode, origin: &str) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            crate::error::Error::input(
                origin,
                format!("cannot read the jargon lexicon {}: {e}", path.display()),
            )
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "suite".into());
        let entries = parse_lexicon(&name, &text).map_err(|m| crate::error::Error::input(path.display(), m))?;
        if entries.is_empty() {
            return Err(crate::error::Error::input(
                path.display(),
                "expected at least one line TERM<TAB>REPLACEMENT|...<TAB>KIND with a safe replacement",
            ));
        }
        Ok(SuiteLexicon { name, mode, entries })
    }

    /// The lexicon the family uses with the built-in `domain`'s entries, and its name.
    pub fn combine(&self, domain: &str, builtin: Vec<Entry>) -> (String, Vec<Entry>) {
        match self.mode {
            LexiconMode::Replace => (self.name.clone(), self.entries.clone()),
            LexiconMode::Merge => {
                let mut all = self.entries.clone();
                all.extend(
                    builtin
                        .into_iter()
                        .filter(|b| !self.entries.iter().any(|e| e.term == b.term)),
                );
                (format!("{domain}+{}", self.name), all)
            }
        }
    }
}

/// Jargon substitution over one domain's lexicon.
pub struct Jargon {
    domain: String,
    /// Entries by their first word, longest terms first.
    by_first: HashMap<String, Vec<Entry>>,
}

impl Jargon {
    /// A jargon model for `domain` over its lexicon.
    pub fn new(domain: &str, lexicon: Vec<Entry>) -> Self {
        let mut by_first: HashMap<String, Vec<Entry>> = HashMap::new();
        for e in lexicon {
            if let Some(first) = e.term.first() {
                by_first.entry(first.clone()).or_default().push(e);
            }
        }
        for list in by_first.values_mut() {
            list.sort_by_key(|e| std::cmp::Reverse(e.term.len()));
        }
        Jargon {
            domain: domain.to_string(),
            by_first,
        }
    }

    /// Non-overlapping matches (start token, token count, entry), leftmost-longest.
    fn matches(&self, toks: &[Token]) -> Vec<(usize, usize, &Entry)> {
        let keys: Vec<String> = toks.iter().map(Token::key).collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < keys.len() {
            let found = self.by_first.get(&keys[i]).and_then(|list| {
                list.iter().find(|e| {
                    keys[i..].starts_with(&e.term)
                        // Punctuation inside a multi-word term ("left, bay") breaks it.
                        && toks[i..i + e.term.len() - 1].iter().all(|t| t.trail.is_empty())
                })
            });
            match found {
                Some(e) => {
                    out.push((i, e.term.len(), e));
                    i += e.term.len();
                }
                None => i += 1,
            }
        }
        out
    }
}

impl Corruptor for Jargon {
    fn family(&self) -> &str {
        "jargon"
    }

    fn describe(&self) -> String {
        format!(
            "domain abbreviations, slang, synonyms and codes from the '{}' lexicon",
            self.domain
        )
    }

    fn target(&self) -> Option<Target> {
        Some(Target {
            measure: Measure::Replaced,
            levels: JARGON_REPLACED,
        })
    }

    fn corrupt(&self, text: &str, severity: Severity, rng: &mut StdRng) -> Result<Corrupted> {
        let toks = tokens(text);
        let found = self.matches(&toks);
        let k = stochastic_round(JARGON_REPLACED[severity.index()] * found.len() as f64, rng).min(found.len());
        if k == 0 {
            return Ok(Corrupted {
                text: text.to_string(),
                applied: 0,
                opportunities: found.len(),
            });
        }
        let mut chosen: Vec<usize> = shuffled(found.len(), rng).into_iter().take(k).collect();
        chosen.sort_unstable();
        let mut out: Vec<Token> = Vec::with_capacity(toks.len());
        let mut next = 0;
        for &m in &chosen {
            let (start, len, entry) = found[m];
            out.extend_from_slice(&toks[next..start]);
            let replacement = &entry.replacements[rng.random_range(0..entry.replacements.len())];
            out.push(Token {
                lead: toks[start].lead.clone(),
                word: match_case(&toks[start].word, replacement),
                trail: toks[start + len - 1].trail.clone(),
            });
            next = start + len;
        }
        out.extend_from_slice(&toks[next..]);
        Ok(Corrupted {
            text: join(&out),
            applied: k,
            opportunities: found.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn model() -> Jargon {
        let table =
            "pallet\tskid\tslang\nleft\tLH|right\tabbrev\nleft of\tLH of\tabbrev\nforklift truck\tFLT\tabbrev\n";
        Jargon::new("test", parse_lexicon("test", table).unwrap())
    }

    #[test]
    fn replaces_longest_terms_and_never_antonyms() {
        let j = model();
        let mut rng = StdRng::seed_from_u64(1);
        let out = j
            .corrupt(
                "Move the Pallet left of the forklift truck.",
                Severity::new(5).unwrap(),
                &mut rng,
            )
            .unwrap();
        assert_eq!(out.text, "Move the Skid LH of the FLT.");
        assert_eq!((out.applied, out.opportunities), (3, 3));
    }

    #[test]
    fn shipped_lexicons_parse_and_are_safe() {
        for d in domains() {
            let entries = lexicon_for(d).unwrap();
            assert!(entries.len() >= 60, "{d}: only {} entries", entries.len());
        }
        assert!(lexicon_for("astrology")
            .unwrap_err()
            .contains("warehouse, support, clinical"));
    }
}
