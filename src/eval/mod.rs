//! The run matrix: every scheme on the clean test split and on every family x severity variant.
//! The only module that joins corruption and the engine (through `Scorer`).

pub mod fidelity;
pub mod sustain;

use std::collections::HashMap;

use rayon::prelude::*;

use crate::analysis::results::{EvalRow, CLEAN};
use crate::corrupt::{corrupt_text, CorruptionSpec, Registry};
use crate::error::Result;
use crate::suite::Example;
use crate::task::{argmax, Scorer};

/// One input to score: the clean text of an example or one of its corrupted variants.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantItem {
    pub example: usize,
    pub family: String,
    pub severity: u8,
    pub text: String,
    pub cer: f64,
    /// Normalised word error rate (`corrupt::measure::wer`).
    pub wer: f64,
    /// Word error rate on the texts as written.
    pub wer_raw: f64,
}

/// The clean inputs followed by every spec x severity variant of every example.
/// Each variant's noise comes from its own seeded RNG, so the list is the same whatever the thread count.
pub fn make_variants(
    examples: &[&Example],
    specs: &[CorruptionSpec],
    registry: &Registry,
    seed: u64,
) -> Result<Vec<VariantItem>> {
    let clean = examples.iter().enumerate().map(|(i, e)| VariantItem {
        example: i,
        family: CLEAN.into(),
        severity: 0,
        text: e.text.clone(),
        cer: 0.0,
        wer: 0.0,
        wer_raw: 0.0,
    });
    let jobs: Vec<(&CorruptionSpec, crate::corrupt::Severity)> = specs
        .iter()
        .flat_map(|s| s.severities.iter().map(move |&sev| (s, sev)))
        .collect();
    let corrupted: Vec<VariantItem> = jobs
        .par_iter()
        .flat_map_iter(|&(spec, sev)| {
            examples.iter().enumerate().map(move |(i, e)| {
                let v = corrupt_text(registry, spec, sev, seed, &e.id, &e.text)?;
                Ok(VariantItem {
                    example: i,
                    family: spec.name(),
                    severity: sev.level(),
                    text: v.text,
                    cer: v.cer,
                    wer: v.wer,
                    wer_raw: v.wer_raw,
                })
            })
        })
        .collect::<Result<_>>()?;
    Ok(clean.chain(corrupted).collect())
}

/// Scores every variant with `scorer` and returns one row per variant.
///
/// Variants are scored group by group (one family x severity at a time), and identical texts within
/// a group (inputs the noise left unchanged) are scored once. Because a group's batches never mix
/// with another group's, a run split into shards scores exactly the same batches as the whole run.
pub fn evaluate(
    scorer: &dyn Scorer,
    scheme: &str,
    examples: &[&Example],
    variants: &[VariantItem],
    seed: u64,
) -> Result<Vec<EvalRow>> {
    Ok(evaluate_with_outputs(scorer, scheme, examples, variants, seed)?.rows)
}

/// Rows plus the raw outputs on the clean inputs (one per clean variant, in order), for fidelity.
pub struct Evaluated {
    pub rows: Vec<EvalRow>,
    pub clean_outputs: Vec<Vec<f32>>,
    pub outputs_are_embeddings: bool,
}

/// `evaluate`, keeping the raw outputs of the clean inputs.
pub fn evaluate_with_outputs(
    scorer: &dyn Scorer,
    scheme: &str,
    examples: &[&Example],
    variants: &[VariantItem],
    seed: u64,
) -> Result<Evaluated> {
    let labels = scorer.labels();
    let mut rows = Vec::with_capacity(variants.len());
    let mut clean_outputs = Vec::new();
    let mut outputs_are_embeddings = false;
    for group in variants.chunk_by(|a, b| a.family == b.family && a.severity == b.severity) {
        let mut unique: Vec<&str> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let slots: Vec<usize> = group
            .iter()
            .map(|v| {
                *index.entry(v.text.as_str()).or_insert_with(|| {
                    unique.push(v.text.as_str());
                    unique.len() - 1
                })
            })
            .collect();
        let scores = if group[0].family == CLEAN {
            let scored = scorer.score_with_outputs(&unique)?;
            outputs_are_embeddings = scored.embeddings;
            clean_outputs.extend(slots.iter().map(|&s| scored.outputs[s].clone()));
            scored.scores
        } else {
            scorer.score(&unique)?
        };
        for (v, slot) in group.iter().zip(slots) {
            let (best, confidence) = argmax(&scores[slot]);
            let example = examples[v.example];
            let prediction = labels.get(best).cloned().unwrap_or_default();
            rows.push(EvalRow {
                scheme: scheme.to_string(),
                example_id: example.id.clone(),
                family: v.family.clone(),
                severity: v.severity,
                seed,
                correct: prediction == example.label,
                label: example.label.clone(),
                prediction,
                confidence,
                cer: v.cer,
                wer: v.wer,
                wer_raw: v.wer_raw,
                text: v.text.clone(),
            });
        }
    }
    Ok(Evaluated {
        rows,
        clean_outputs,
        outputs_are_embeddings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrupt::parse_specs;

    /// Predicts "left" when the text contains "left", else "right".
    struct KeywordFake(Vec<String>);
    impl Scorer for KeywordFake {
        fn labels(&self) -> &[String] {
            &self.0
        }
        fn score(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
            Ok(texts
                .iter()
                .map(|t| {
                    if t.contains("left") {
                        vec![1.0, 0.0]
                    } else {
                        vec![0.0, 1.0]
                    }
                })
                .collect())
        }
    }

    fn example(id: &str, text: &str, label: &str) -> Example {
        Example {
            id: id.into(),
            text: text.into(),
            label: label.into(),
            split: "test".into(),
            extra: Default::default(),
        }
    }

    #[test]
    fn rows_cover_every_variant_and_noise_can_flip_predictions() {
        let exs = [
            example("1", "move left now please", "left"),
            example("2", "go right", "right"),
        ];
        let refs: Vec<&Example> = exs.iter().collect();
        let registry = Registry::builtin().unwrap();
        let specs = parse_specs("typo:1-5", &registry).unwrap();
        let variants = make_variants(&refs, &specs, &registry, 3).unwrap();
        assert_eq!(variants.len(), 2 * 6);
        let fake = KeywordFake(vec!["left".into(), "right".into()]);
        let rows = evaluate(&fake, "f32", &refs, &variants, 3).unwrap();
        assert_eq!(rows.len(), 12);
        assert!(rows.iter().filter(|r| r.family == CLEAN).all(|r| r.correct));
        for r in &rows {
            assert_eq!(r.correct, r.text.contains("left") == (r.label == "left"));
        }
    }

    #[test]
    fn variants_do_not_depend_on_thread_count() {
        let exs: Vec<Example> = (0..50)
            .map(|i| example(&format!("e{i}"), "pick up the crate from bay seven", "x"))
            .collect();
        let refs: Vec<&Example> = exs.iter().collect();
        let registry = Registry::builtin().unwrap();
        let specs = parse_specs("typo:1-5,ocr:1-5", &registry).unwrap();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| make_variants(&refs, &specs, &registry, 11).unwrap())
        };
        assert_eq!(run(1), run(2));
    }
}
