//! The run matrix: every scheme on the clean test split and on every family x severity variant.
//! The only module that joins corruption and the model (through a `Task`).

pub mod fidelity;
pub mod sustain;

use std::collections::HashMap;

use rayon::prelude::*;

use crate::analysis::results::{EvalRow, CLEAN};
use crate::corrupt::{corrupt_text, CorruptionSpec, Registry};
use crate::error::{Error, Result};
use crate::progress::Phase;
use crate::suite::Example;
use crate::task::{answered_all, Output, Probe, Task};

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

/// Refuses the run before any scheme answers when an input's request would not fit the model's
/// context (a decoder refuses it mid-run, after the inputs before it were answered), naming the
/// first such input's example and variant and how many more there are. `origin` names the suite.
pub fn check_context(task: &dyn Task, examples: &[&Example], variants: &[VariantItem], origin: &str) -> Result<()> {
    let Some(max) = task.context_length() else {
        return Ok(());
    };
    let mut unique: Vec<&str> = variants.iter().map(|v| v.text.as_str()).collect();
    unique.sort_unstable();
    unique.dedup();
    let needs: HashMap<&str, usize> = unique.iter().copied().zip(task.context_needs(&unique)?).collect();
    let over: Vec<(&VariantItem, usize)> = variants
        .iter()
        .filter_map(|v| needs.get(v.text.as_str()).filter(|&&n| n > max).map(|&n| (v, n)))
        .collect();
    let Some(&(first, n)) = over.first() else {
        return Ok(());
    };
    let which = if first.family == CLEAN {
        "its clean text".to_string()
    } else {
        format!("its {} variant at severity {}", first.family, first.severity)
    };
    let more = match over.len() - 1 {
        0 => String::new(),
        1 => " (1 more input is too long)".to_string(),
        k => format!(" ({k} more inputs are too long)"),
    };
    Err(Error::input(
        origin,
        format!(
            "example {}: the request for {which} needs {n} tokens (the rendered prompt with the longest answer \
             it may have), more than the model's context of {max}{more}; shorten the text, the prompt's \
             template or few-shot examples, or the answer's max_tokens",
            examples[first.example].id
        ),
    ))
}

/// Rows of one scheme, plus the raw outputs on the clean inputs (one per clean variant, in order),
/// for fidelity.
pub struct Evaluated {
    pub rows: Vec<EvalRow>,
    pub clean_probes: Vec<Probe>,
    /// Rows whose generated answer the token limit stopped (judged as written, usually invalid).
    pub cut_off: usize,
}

/// Asks `task` for an answer to every variant and judges it; one row per variant.
///
/// Variants are answered group by group (one family x severity at a time), and identical texts
/// within a group (inputs the noise left unchanged) are answered once. Because a group's batches
/// never mix with another group's, a run split into shards asks exactly the same batches as the
/// whole run. Where the task's answers do not depend on the texts answered with them
/// (`Task::answers_alone`), a text already answered in an earlier group (a corrupted variant the
/// noise left as the clean text, or as another severity made it) is not asked again: a fresh call
/// would give the same bits, in the whole run and in a shard alike. `phase` advances by one per
/// variant.
pub fn evaluate(
    task: &dyn Task,
    scheme: &str,
    examples: &[&Example],
    variants: &[VariantItem],
    seed: u64,
    phase: &dyn Phase,
) -> Result<Evaluated> {
    let mut rows = Vec::with_capacity(variants.len());
    let mut clean_probes = Vec::new();
    let reuse = task.answers_alone();
    let mut answered: HashMap<String, Output> = HashMap::new();
    let mut cut_off = 0;
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
        let fresh: Vec<&str> = unique.iter().copied().filter(|t| !answered.contains_key(*t)).collect();
        let got = task.infer_reporting(&fresh, &|n| phase.advance(n as u64))?;
        let mut got = answered_all(got, fresh.len())?.into_iter();
        phase.advance((group.len() - fresh.len()) as u64);
        // `fresh` is `unique` without the texts already answered, in order, and `got` has one answer each.
        let outputs: Vec<Output> = unique
            .iter()
            .filter_map(|t| answered.get(*t).cloned().or_else(|| got.next()))
            .collect();
        if reuse {
            for (t, o) in unique.iter().zip(&outputs) {
                answered.entry(t.to_string()).or_insert_with(|| o.clone());
            }
        }
        if group[0].family == CLEAN {
            clean_probes.extend(slots.iter().map(|&s| outputs[s].probe()));
        }
        for (v, slot) in group.iter().zip(slots) {
            let example = examples[v.example];
            let o = task.judge(example, &outputs[slot]);
            cut_off += outputs[slot].cut_off() as usize;
            rows.push(EvalRow {
                scheme: scheme.to_string(),
                example_id: example.id.clone(),
                family: v.family.clone(),
                severity: v.severity,
                seed,
                expected: o.expected,
                prediction: o.prediction,
                correct: o.correct,
                score: o.score,
                raw_output: o.raw_output,
                measures: o.measures,
                cer: v.cer,
                wer: v.wer,
                wer_raw: v.wer_raw,
                text: v.text.clone(),
            });
        }
    }
    Ok(Evaluated {
        rows,
        clean_probes,
        cut_off,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrupt::parse_specs;
    use crate::progress::{Progress, Silent};
    use crate::task::fakes::{self, FakeDecoder, FakeEncoder};

    fn example(id: &str, text: &str, label: &str) -> Example {
        fakes::example(id, text, Some(label), None)
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
        let model = FakeEncoder::with_head(&["left", "right"]);
        let suite = fakes::classify_suite(&["left", "right"], "");
        let task = crate::task::build(&suite, &model, "m").unwrap();
        let phase = Silent.start("x", None);
        let out = evaluate(task.as_ref(), "f32", &refs, &variants, 3, phase.as_ref()).unwrap();
        let rows = out.rows;
        assert_eq!(rows.len(), 12);
        assert_eq!(out.clean_probes.len(), 2);
        assert!(rows.iter().filter(|r| r.family == CLEAN).all(|r| r.correct));
        // The fake head says "right" only when the text has the word right and not the word left.
        let has = |t: &str, w: &str| {
            t.split(|c: char| !c.is_alphanumeric())
                .any(|x| x.eq_ignore_ascii_case(w))
        };
        for r in &rows {
            let said = if has(&r.text, "right") && !has(&r.text, "left") {
                "right"
            } else {
                "left"
            };
            assert_eq!((r.prediction.as_str(), r.correct), (said, said == r.expected), "{r:?}");
            assert_eq!(r.measures, vec![r.correct as u8 as f64]);
        }
    }

    #[test]
    fn an_input_too_long_for_the_context_is_named_before_any_answer() {
        let suite = fakes::extract_suite("free");
        let refs = suite.split("test");
        let registry = Registry::builtin().unwrap();
        let specs = parse_specs("disfluent:5", &registry).unwrap();
        let variants = make_variants(&refs, &specs, &registry, 1).unwrap();
        let clean: Vec<VariantItem> = variants.iter().filter(|v| v.family == CLEAN).cloned().collect();
        // The fake decoder reads a word as a token.
        let words = |t: &str| {
            t.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .count()
        };
        let longest = |vs: &[VariantItem]| vs.iter().map(|v| words(&v.text)).max().unwrap();
        assert!(
            longest(&variants) > longest(&clean),
            "fillers and repeats lengthen a text"
        );
        let first = refs[0].text.as_str();

        let mut model = FakeDecoder::new();
        {
            let task = crate::task::build(&suite, &model, "m").unwrap();
            assert!(
                task.context_needs(&[first]).unwrap().is_empty(),
                "no context limit: nothing counted"
            );
            check_context(task.as_ref(), &refs, &variants, "suite.toml").unwrap();
        }
        model.context = Some(usize::MAX);
        let around = {
            let task = crate::task::build(&suite, &model, "m").unwrap();
            task.context_needs(&[first]).unwrap()[0] - words(first)
        };
        assert_eq!(
            around,
            2 + 40,
            "\"Command\", \"JSON\" and the 40 tokens the suite lets extract generate"
        );
        // Room for every clean request, not for the longest variant's.
        let max = around + longest(&clean);
        model.context = Some(max);
        let task = crate::task::build(&suite, &model, "m").unwrap();
        check_context(task.as_ref(), &refs, &clean, "suite.toml").unwrap();
        let err = check_context(task.as_ref(), &refs, &variants, "suite.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("suite.toml: example "), "{err}");
        assert!(err.contains("its disfluent variant at severity 5 needs"), "{err}");
        assert!(
            err.contains(&format!("more than the model's context of {max}")),
            "{err}"
        );
        assert!(
            model.generated.lock().unwrap().is_empty(),
            "nothing was asked of the model"
        );
    }

    #[test]
    fn extraction_rows_keep_raw_output_and_every_field_measure() {
        let suite = fakes::extract_suite("free");
        let refs = suite.split("test");
        let registry = Registry::builtin().unwrap();
        let specs = parse_specs("typo:5", &registry).unwrap();
        let variants = make_variants(&refs, &specs, &registry, 1).unwrap();
        let model = FakeDecoder::new();
        let task = crate::task::build(&suite, &model, "m").unwrap();
        let phase = Silent.start("x", None);
        let out = evaluate(task.as_ref(), "f32", &refs, &variants, 1, phase.as_ref()).unwrap();
        let clean: Vec<&EvalRow> = out.rows.iter().filter(|r| r.family == CLEAN).collect();
        assert_eq!(clean.len(), 3);
        assert!(clean[..2].iter().all(|r| r.correct && r.raw_output.is_some()));
        assert_eq!(clean[0].expected, r#"{"action": "move", "direction": "left"}"#);
        assert!(out.rows.iter().all(|r| r.measures.len() == 5));
        assert!(matches!(out.clean_probes[0], Probe::Text(_)));
    }

    #[test]
    fn a_text_answered_in_an_earlier_group_is_asked_again_only_where_answers_depend_on_the_batch() {
        let suite = fakes::extract_suite("free");
        let refs = suite.split("test");
        let registry = Registry::builtin().unwrap();
        // Variants made by hand: a family whose texts are all the clean ones, and one whose texts are
        // the clean ones but for a new first text.
        let mut variants = make_variants(&refs, &[], &registry, 1).unwrap();
        let clean = variants.clone();
        let copy = |family: &str| -> Vec<VariantItem> {
            clean
                .iter()
                .map(|v| VariantItem {
                    family: family.into(),
                    severity: 1,
                    ..v.clone()
                })
                .collect()
        };
        variants.extend(copy("jargon"));
        variants.extend(copy("l2").into_iter().enumerate().map(|(i, mut v)| {
            if i == 0 {
                v.text = "pick the tote up".into();
            }
            v
        }));
        for alone in [false, true] {
            let mut model = FakeDecoder::new();
            model.alone = alone;
            let task = crate::task::build(&suite, &model, "m").unwrap();
            let phase = Silent.start("x", None);
            let out = evaluate(task.as_ref(), "f32", &refs, &variants, 1, phase.as_ref()).unwrap();
            let asked = model.generated.lock().unwrap().len();
            let n = clean.len();
            assert_eq!(asked, if alone { n + 1 } else { 3 * n }, "alone: {alone}");
            // The rows are the same either way: every variant judged, reused answers included.
            assert_eq!(out.rows.len(), 3 * n);
            for (r, c) in out.rows[n..2 * n].iter().zip(&out.rows[..n]) {
                assert_eq!((&r.raw_output, r.correct), (&c.raw_output, c.correct));
            }
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
