//! The examples the report shows: one per family x severity, the inputs the noise flipped, and the
//! inputs where a scheme answers differently from the reference scheme. Long lists are sampled with
//! a seeded RNG, round-robin over the family x severity cells, so every cell is represented and the
//! same run shows the same examples.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;

use crate::analysis::results::{EvalRow, CLEAN};
use crate::corrupt::measure::{edit_segments, Segment};

/// Flipped examples shown at most.
pub const MAX_FLIPS: usize = 60;
/// Disagreements with the reference shown at most.
pub const MAX_DISAGREEMENTS: usize = 40;

/// One scheme's answers on the clean and the corrupted text.
#[derive(Serialize)]
pub struct Prediction {
    pub scheme: String,
    pub clean: String,
    pub corrupted: String,
    pub correct: bool,
    pub flipped: bool,
    /// Differs from the reference scheme's answer on the same input.
    pub disagrees: bool,
}

/// A variant (clean or corrupted) with the clean text beside it, the edits marked, and every
/// scheme's answers.
#[derive(Serialize)]
pub struct Example {
    pub family: String,
    pub severity: u8,
    pub expected: String,
    pub clean: String,
    pub segments: Vec<Segment>,
    pub cer: f64,
    /// Normalised word error rate.
    pub wer: f64,
    /// Word error rate on the texts as written.
    pub wer_raw: f64,
    pub predictions: Vec<Prediction>,
}

/// What the report shows, with the totals the samples come from.
#[derive(Serialize)]
pub struct Shown {
    pub per_cell: Vec<Example>,
    pub flipped: Vec<Example>,
    pub flipped_total: usize,
    pub disagreements: Vec<Example>,
    pub disagreements_total: usize,
}

type Key<'a> = (&'a str, u8, &'a str);

/// One variant (family, severity, example) with every scheme's row.
type Variant<'a> = Vec<&'a EvalRow>;

/// Every variant with all schemes' rows, in first-seen order, rows in scheme order.
fn variants<'a>(rows: &'a [EvalRow], schemes: &[String]) -> Vec<Variant<'a>> {
    let mut order: Vec<Key<'a>> = Vec::new();
    let mut by_key: HashMap<Key<'a>, Vec<&EvalRow>> = HashMap::new();
    for r in rows {
        let key = (r.family.as_str(), r.severity, r.example_id.as_str());
        let entry = by_key.entry(key).or_default();
        if entry.is_empty() {
            order.push(key);
        }
        entry.push(r);
    }
    order
        .into_iter()
        .filter_map(|k| by_key.remove(&k))
        .map(|mut v| {
            v.sort_by_key(|r| schemes.iter().position(|s| *s == r.scheme));
            v
        })
        .collect()
}

/// Picks up to `max` of `items`, round-robin over their (family, severity) cells, each cell's items
/// shuffled by a seeded RNG.
fn sample<'a>(items: Vec<&'a Variant<'a>>, max: usize, seed: u64) -> Vec<&'a Variant<'a>> {
    let mut cells: Vec<((String, u8), Vec<&Variant>)> = Vec::new();
    for v in items {
        let key = (v[0].family.clone(), v[0].severity);
        match cells.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(v),
            None => cells.push((key, vec![v])),
        }
    }
    let mut rng = StdRng::seed_from_u64(seed);
    for (_, list) in &mut cells {
        list.shuffle(&mut rng);
    }
    let mut out = Vec::new();
    let mut round = 0;
    while out.len() < max {
        let mut any = false;
        for (_, list) in &cells {
            if let Some(v) = list.get(round) {
                if out.len() < max {
                    out.push(*v);
                }
                any = true;
            }
        }
        if !any {
            break;
        }
        round += 1;
    }
    out
}

/// Chooses the examples of the report. `schemes[0]` is the reference.
pub fn choose(rows: &[EvalRow], schemes: &[String], seed: u64) -> Shown {
    let clean: HashMap<(&str, &str), &EvalRow> = rows
        .iter()
        .filter(|r| r.family == CLEAN)
        .map(|r| ((r.scheme.as_str(), r.example_id.as_str()), r))
        .collect();
    let reference = schemes.first().map(String::as_str).unwrap_or("");
    let all = variants(rows, schemes);
    let flipped_of = |v: &Vec<&EvalRow>| {
        v[0].family != CLEAN
            && v.iter().any(|r| {
                clean
                    .get(&(r.scheme.as_str(), r.example_id.as_str()))
                    .is_some_and(|c| c.prediction != r.prediction)
            })
    };
    let disagrees_of = |v: &Vec<&EvalRow>| {
        let Some(r0) = v.iter().find(|r| r.scheme == reference) else {
            return false;
        };
        v.iter().any(|r| r.prediction != r0.prediction)
    };
    let example = |variant: &[&EvalRow]| -> Option<Example> {
        let first = variant.first()?;
        let reference_answer = variant
            .iter()
            .find(|r| r.scheme == reference)
            .map(|r| r.prediction.as_str());
        let clean_text = clean
            .get(&(first.scheme.as_str(), first.example_id.as_str()))
            .map(|r| r.text.clone())
            .unwrap_or_default();
        Some(Example {
            family: first.family.clone(),
            severity: first.severity,
            expected: first.expected.clone(),
            segments: edit_segments(&clean_text, &first.text),
            clean: clean_text,
            cer: first.cer,
            wer: first.wer,
            wer_raw: first.wer_raw,
            predictions: variant
                .iter()
                .map(|r| {
                    let before = clean
                        .get(&(r.scheme.as_str(), r.example_id.as_str()))
                        .map(|c| c.prediction.clone())
                        .unwrap_or_default();
                    Prediction {
                        scheme: r.scheme.clone(),
                        flipped: before != r.prediction,
                        disagrees: reference_answer.is_some_and(|a| a != r.prediction),
                        clean: before,
                        corrupted: r.prediction.clone(),
                        correct: r.correct,
                    }
                })
                .collect(),
        })
    };
    let mut per_cell: Vec<Example> = Vec::new();
    let mut cells: Vec<(&str, u8)> = Vec::new();
    for v in all.iter().filter(|v| v[0].family != CLEAN) {
        let key = (v[0].family.as_str(), v[0].severity);
        if !cells.contains(&key) {
            cells.push(key);
        }
    }
    for (family, severity) in cells {
        let in_cell: Vec<&Vec<&EvalRow>> = all
            .iter()
            .filter(|v| v[0].family == family && v[0].severity == severity)
            .collect();
        let pick = in_cell
            .iter()
            .find(|v| flipped_of(v))
            .or_else(|| in_cell.iter().find(|v| v[0].cer > 0.0))
            .or(in_cell.first());
        if let Some(e) = pick.and_then(|v| example(v)) {
            per_cell.push(e);
        }
    }
    let flipped: Vec<&Vec<&EvalRow>> = all.iter().filter(|v| flipped_of(v)).collect();
    let flipped_total = flipped.len();
    let disagreements: Vec<&Vec<&EvalRow>> = all.iter().filter(|v| disagrees_of(v)).collect();
    let disagreements_total = disagreements.len();
    Shown {
        per_cell,
        flipped: sample(flipped, MAX_FLIPS, seed)
            .into_iter()
            .filter_map(|v| example(v))
            .collect(),
        flipped_total,
        disagreements: sample(disagreements, MAX_DISAGREEMENTS, seed ^ 0xd15a_9ee5)
            .into_iter()
            .filter_map(|v| example(v))
            .collect(),
        disagreements_total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scheme: &str, family: &str, severity: u8, id: usize, prediction: &str) -> EvalRow {
        EvalRow::labelled(scheme, family, severity, &id.to_string(), prediction)
    }

    #[test]
    fn flips_are_sampled_from_every_cell_and_disagreements_found() {
        let mut rows = Vec::new();
        for id in 0..100 {
            rows.push(row("f32", CLEAN, 0, id, "a"));
            rows.push(row("int8", CLEAN, 0, id, if id == 7 { "b" } else { "a" }));
            for (family, sev) in [("typo", 1), ("typo", 2), ("ocr", 5)] {
                // Every corrupted input flips for f32: 300 flips, far more than shown.
                rows.push(row("f32", family, sev, id, "b"));
                rows.push(row("int8", family, sev, id, "b"));
            }
        }
        let schemes = vec!["f32".to_string(), "int8".to_string()];
        let shown = choose(&rows, &schemes, 1);
        assert_eq!((shown.flipped_total, shown.flipped.len()), (300, MAX_FLIPS));
        for cell in [("typo", 1), ("typo", 2), ("ocr", 5)] {
            let n = shown
                .flipped
                .iter()
                .filter(|e| (e.family.as_str(), e.severity) == cell)
                .count();
            assert_eq!(n, MAX_FLIPS / 3, "{cell:?}");
        }
        let same = choose(&rows, &schemes, 1);
        let texts = |s: &Shown| s.flipped.iter().map(|e| e.clean.clone()).collect::<Vec<_>>();
        assert_eq!(texts(&shown), texts(&same), "seeded");
        assert_ne!(texts(&shown), texts(&choose(&rows, &schemes, 2)));
        // int8 answers b on clean example 7 where f32 answers a: one disagreement, a clean one.
        assert_eq!(shown.disagreements_total, 1);
        let d = &shown.disagreements[0];
        assert_eq!((d.family.as_str(), d.predictions[1].disagrees), (CLEAN, true));
        assert_eq!(shown.per_cell.len(), 3);
    }
}
