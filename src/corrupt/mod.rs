//! Corruption: domain-noise models (`Corruptor`s), severities, specs such as `typo:1-5,ocr:3` and
//! chains such as `typo+ocr:2`, seeded per variant, with the achieved noise measured on each variant.
//! Knows nothing of models.

pub mod asr;
pub mod calibrate;
pub mod channel;
pub mod cli;
pub mod coverage;
pub mod disfluent;
pub mod jargon;
pub mod l2;
pub mod measure;
pub mod normalise;
pub mod number_words;
pub mod ocr;
pub mod opmix;
pub mod safety;
pub mod tables;
pub mod throughput;
pub mod typo;
pub mod wordclass;
pub mod words;

use rand::rngs::StdRng;
use rand::SeedableRng;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Noise dose, 1 (light) to 5 (heavy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Severity(u8);

impl Severity {
    /// A severity in 1..=5.
    pub fn new(level: u8) -> Option<Self> {
        (1..=5).contains(&level).then_some(Severity(level))
    }
    /// The level, 1..=5.
    pub fn level(self) -> u8 {
        self.0
    }
    /// Index into per-severity tables, 0..=4.
    pub fn index(self) -> usize {
        self.0 as usize - 1
    }
    /// All five severities, lightest first.
    pub fn all() -> [Severity; 5] {
        [Severity(1), Severity(2), Severity(3), Severity(4), Severity(5)]
    }
}

/// How a family's noise level is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Character error rate against the clean text (edit distance / clean characters), mean over variants.
    Cer,
    /// Word error rate against the clean text after both are normalised (Whisper's English rules: case,
    /// punctuation and number spelling do not count), mean over variants.
    Wer,
    /// Replaced terms / replaceable terms, pooled over the variants that have any.
    Replaced,
    /// Errors applied per sentence, mean over variants.
    ErrorsPerSentence,
}

impl Measure {
    /// Short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Cer => "CER",
            Measure::Wer => "WER",
            Measure::Replaced => "replaced fraction",
            Measure::ErrorsPerSentence => "errors/sentence",
        }
    }
}

/// The noise level each severity 1..5 aims at, in the family's measure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target {
    pub measure: Measure,
    pub levels: [f64; 5],
}

/// A corrupted text with what the model did to it: `applied` edits (or replaced terms, or errors)
/// out of `opportunities` places where it could have acted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corrupted {
    pub text: String,
    pub applied: usize,
    pub opportunities: usize,
}

/// One noise model. Implementations are pure functions of (text, severity, rng), except `channel`,
/// which is as deterministic as the external command it runs.
pub trait Corruptor: Send + Sync {
    /// The family name users type (`typo`, `ocr`, `l2-es`, ...).
    fn family(&self) -> &str;
    /// One line on what the family does.
    fn describe(&self) -> String;
    /// What each severity aims at (None when the level is whatever an external channel does).
    fn target(&self) -> Option<Target>;
    /// A corrupted copy of `text` at `severity`, drawing every random choice from `rng`.
    fn corrupt(&self, text: &str, severity: Severity, rng: &mut StdRng) -> Result<Corrupted>;
}

/// What selects the data-driven families: the suite's domain and own jargon lexicon, the words its labels
/// hinge on, and an optional external channel command.
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// Jargon lexicon domain (`warehouse`, `support`, `clinical`); None means warehouse.
    pub domain: Option<String>,
    /// Where the domain came from, for error messages (e.g. "suite.toml: field domain").
    pub domain_origin: String,
    /// The suite's own jargon lexicon, merged with the domain's or replacing it.
    pub jargon: Option<jargon::SuiteLexicon>,
    /// Words tied to one label of the suite (`safety::label_words`): table-driven families never bring one
    /// into a sentence that lacks it.
    pub label_words: Vec<String>,
    /// The `channel` family's command, if configured.
    pub channel: Option<channel::ChannelConfig>,
}

impl RegistryOptions {
    /// The options a suite sets: its domain, its `[jargon]` lexicon (read from the suite folder) and its
    /// label words; no channel.
    pub fn for_suite(suite: &crate::suite::Suite) -> Result<Self> {
        let toml_path = suite.origin();
        let jargon = match &suite.file.jargon {
            Some(section) => Some(jargon::SuiteLexicon::load(
                &suite.dir.join(&section.lexicon),
                section.mode,
                &format!("{toml_path}: [jargon] lexicon"),
            )?),
            None => None,
        };
        let examples: Vec<(&str, &str)> = suite
            .examples
            .iter()
            .filter_map(|e| Some((e.text.as_str(), e.label.as_deref()?)))
            .collect();
        Ok(RegistryOptions {
            domain: suite.file.domain.clone(),
            domain_origin: format!("{toml_path}: field domain"),
            jargon,
            label_words: safety::label_words(&examples, &suite.file.labels),
            channel: None,
        })
    }
}

/// The families this build knows, by name.
pub struct Registry {
    corruptors: Vec<Box<dyn Corruptor>>,
}

impl Registry {
    /// Every built-in family with its shipped tables, the warehouse jargon lexicon and no channel.
    pub fn builtin() -> Result<Self> {
        Self::with_options(&RegistryOptions::default())
    }

    /// Every built-in family, jargon for `options.domain`, plus `channel` when a command is given.
    pub fn with_options(options: &RegistryOptions) -> Result<Self> {
        let keys = tables::keyboard_neighbours(tables::QWERTY).map_err(Error::Internal)?;
        let ocr = tables::ocr_confusions(tables::OCR_CONFUSIONS).map_err(Error::Internal)?;
        let domain = options.domain.as_deref().unwrap_or(jargon::DEFAULT_DOMAIN);
        let builtin_lexicon = jargon::lexicon_for(domain).map_err(|m| {
            Error::input(
                if options.domain_origin.is_empty() {
                    "domain"
                } else {
                    &options.domain_origin
                },
                m,
            )
        })?;
        let (name, lexicon) = match &options.jargon {
            Some(own) => own.combine(domain, builtin_lexicon),
            None => (domain.to_string(), builtin_lexicon),
        };
        let mut corruptors: Vec<Box<dyn Corruptor>> = vec![
            Box::new(typo::Typo::new(keys)),
            Box::new(ocr::Ocr::new(ocr)),
            Box::new(asr::Asr::builtin(&options.label_words)?),
            Box::new(disfluent::Disfluent::new(&options.label_words)),
            Box::new(jargon::Jargon::new(&name, lexicon)),
        ];
        for profile in l2::builtin_profiles()? {
            corruptors.push(Box::new(l2::L2::new(profile)?));
        }
        if let Some(cfg) = &options.channel {
            corruptors.push(Box::new(channel::Channel::new(cfg.clone())));
        }
        Ok(Registry { corruptors })
    }

    /// The family called `name`.
    pub fn get(&self, name: &str) -> Option<&dyn Corruptor> {
        self.corruptors.iter().find(|c| c.family() == name).map(|c| c.as_ref())
    }

    /// Names of all families.
    pub fn names(&self) -> Vec<&str> {
        self.corruptors.iter().map(|c| c.family()).collect()
    }
}

/// A family or chain of families with the severities to run, e.g. `typo:1-5` or `typo+ocr:3`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorruptionSpec {
    pub chain: Vec<String>,
    pub severities: Vec<Severity>,
}

impl CorruptionSpec {
    /// The name results use: the chain joined by `+`.
    pub fn name(&self) -> String {
        self.chain.join("+")
    }
}

/// The corruptions a run uses when neither the suite nor the command line names any.
pub const DEFAULT_CORRUPTIONS: &str = "typo:1-5,ocr:1-5,asr:1-5,jargon:1-5,l2:1-5";

/// Parses `typo:1-5,ocr:3,typo+ocr:2,4` style lists; a family without severities means 1-5.
/// Every family must be known to `registry`.
pub fn parse_specs(list: &str, registry: &Registry) -> std::result::Result<Vec<CorruptionSpec>, String> {
    let specs = parse_spec_list(list)?;
    for family in specs.iter().flat_map(|s| &s.chain) {
        if registry.get(family).is_none() {
            let hint = if family == "channel" {
                " (the channel family needs a command: --channel-cmd, or [channel] command in suite.toml)"
            } else {
                ""
            };
            return Err(format!(
                "unknown corruption family '{family}': expected one of {}{hint}",
                registry.names().join(", ")
            ));
        }
    }
    Ok(specs)
}

/// The syntax of `parse_specs` alone, families not looked up: what a run directory's `summary.json`
/// records of its corruptions is read back with it, without the suite's registry.
pub fn parse_spec_list(list: &str) -> std::result::Result<Vec<CorruptionSpec>, String> {
    let mut specs: Vec<CorruptionSpec> = Vec::new();
    // The spec the previous part named (a bare number continues it).
    let mut last: Option<usize> = None;
    // An empty item ("typo:1,,ocr:2", a trailing comma) is a typo in the list, not a spec to skip: some
    // family the user meant may be missing. A wholly empty list is its callers' to judge.
    let parts: Vec<&str> = list.split(',').map(str::trim).collect();
    if parts.len() > 1 && parts.iter().any(|p| p.is_empty()) {
        return Err(format!("'{list}': an empty item between commas"));
    }
    // Commas separate specs and also severity lists ("ocr:2,4"): a bare number continues the previous spec.
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        if part.chars().all(|c| c.is_ascii_digit() || c == '-') {
            let spec = last
                .and_then(|i| specs.get_mut(i))
                .ok_or_else(|| format!("'{part}': a severity needs a family before it"))?;
            spec.severities.extend(parse_levels(part)?);
            continue;
        }
        let (chain, levels) = part.split_once(':').unwrap_or((part, "1-5"));
        let chain: Vec<String> = chain.split('+').map(|f| f.trim().to_string()).collect();
        if chain.iter().any(String::is_empty) {
            return Err(format!("'{part}': expected a family name before each '+' and ':'"));
        }
        let severities = parse_levels(levels)?;
        // A family (or chain) named twice is one family with both severity lists: counted twice, its
        // examples would be pooled twice and its intervals drawn too narrow.
        match specs.iter().position(|s| s.chain == chain) {
            Some(i) => {
                specs[i].severities.extend(severities);
                last = Some(i);
            }
            None => {
                specs.push(CorruptionSpec { chain, severities });
                last = Some(specs.len() - 1);
            }
        }
    }
    for spec in &mut specs {
        spec.severities.sort();
        spec.severities.dedup();
    }
    Ok(specs)
}

fn parse_levels(s: &str) -> std::result::Result<Vec<Severity>, String> {
    let bad = || format!("severity '{s}': expected a level 1-5 or a range such as 1-5");
    let (lo, hi) = match s.split_once('-') {
        Some((a, b)) => (
            a.trim().parse::<u8>().map_err(|_| bad())?,
            b.trim().parse::<u8>().map_err(|_| bad())?,
        ),
        None => {
            let v = s.trim().parse::<u8>().map_err(|_| bad())?;
            (v, v)
        }
    };
    if lo > hi {
        return Err(bad());
    }
    (lo..=hi).map(|l| Severity::new(l).ok_or_else(bad)).collect()
}

/// The RNG of one variant: derived from the run seed, the example id, the family (or chain) and the
/// severity only, so a variant's text does not depend on threads or on which other variants exist.
pub fn variant_rng(seed: u64, example_id: &str, family: &str, severity: Severity) -> StdRng {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(example_id.as_bytes());
    h.update([0]);
    h.update(family.as_bytes());
    h.update([0, severity.level()]);
    StdRng::from_seed(h.finalize().into())
}

/// A corrupted copy of one example's text with its measured noise.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub text: String,
    /// Character error rate against the clean text, on the raw characters.
    pub cer: f64,
    /// Word error rate after normalisation (`measure::wer`).
    pub wer: f64,
    /// Word error rate on the texts as written (case and punctuation count).
    pub wer_raw: f64,
    /// Edits, replacements or errors the families applied (summed over a chain).
    pub applied: usize,
    /// Places where they could have acted (summed over a chain).
    pub opportunities: usize,
}

/// Applies a chain of families in order at one severity: the corrupted text, edits applied and places.
pub fn corrupt_chain(
    registry: &Registry,
    spec: &CorruptionSpec,
    severity: Severity,
    seed: u64,
    example_id: &str,
    clean: &str,
) -> Result<Corrupted> {
    let mut rng = variant_rng(seed, example_id, &spec.name(), severity);
    let mut text = clean.to_string();
    let (mut applied, mut opportunities) = (0, 0);
    for family in &spec.chain {
        let c = registry
            .get(family)
            .ok_or_else(|| Error::Internal(format!("corruption family '{family}' is not registered")))?;
        let out = c.corrupt(&text, severity, &mut rng)?;
        text = out.text;
        applied += out.applied;
        opportunities += out.opportunities;
    }
    Ok(Corrupted {
        text,
        applied,
        opportunities,
    })
}

/// Applies a chain of families in order at one severity and measures the result against `clean`.
pub fn corrupt_text(
    registry: &Registry,
    spec: &CorruptionSpec,
    severity: Severity,
    seed: u64,
    example_id: &str,
    clean: &str,
) -> Result<Variant> {
    let out = corrupt_chain(registry, spec, severity, seed, example_id, clean)?;
    Ok(Variant {
        cer: measure::cer(clean, &out.text),
        wer: measure::wer(clean, &out.text),
        wer_raw: measure::wer_raw(clean, &out.text),
        text: out.text,
        applied: out.applied,
        opportunities: out.opportunities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENTENCES: [&str; 4] = [
        "move the pallet left of bay seven",
        "Pick up the tote from aisle 12 please",
        "raise the forks to level three and hold",
        "Could you return to the charger, unit four?",
    ];

    #[test]
    fn parses_ranges_lists_and_chains() {
        let r = Registry::builtin().unwrap();
        let specs = parse_specs("typo:1-3,ocr:5,2, typo+ocr:4", &r).unwrap();
        assert_eq!(specs.len(), 3);
        assert_eq!(
            specs[0].severities.iter().map(|s| s.level()).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(
            specs[1].severities.iter().map(|s| s.level()).collect::<Vec<_>>(),
            vec![2, 5]
        );
        assert_eq!(specs[2].name(), "typo+ocr");
        assert_eq!(parse_specs("ocr", &r).unwrap()[0].severities.len(), 5);
        assert!(parse_specs("asdf:1", &r)
            .unwrap_err()
            .contains("unknown corruption family"));
        // A family named twice is one family; a bare number continues the family named just before it.
        let merged = parse_specs("typo:1,ocr:2,typo:1,4", &r).unwrap();
        let levels = |s: &CorruptionSpec| s.severities.iter().map(|v| v.level()).collect::<Vec<_>>();
        assert_eq!(merged.len(), 2);
        assert_eq!((merged[0].name(), levels(&merged[0])), ("typo".to_string(), vec![1, 4]));
        assert_eq!(levels(&merged[1]), vec![2]);
        for empty_item in ["typo:1,,ocr:2", "typo:1,", ",typo:1"] {
            let err = parse_specs(empty_item, &r).unwrap_err();
            assert!(err.contains("an empty item between commas"), "{empty_item}: {err}");
        }
        assert!(parse_specs("typo:0-6", &r).is_err());
        assert!(parse_specs("typo:4-2", &r).is_err());
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let r = Registry::builtin().unwrap();
        for spec in parse_specs("typo:5,ocr:5,asr:5,jargon:5,l2:5,asr+jargon:3", &r).unwrap() {
            let sev = spec.severities[0];
            let a: Vec<Variant> = SENTENCES
                .iter()
                .map(|s| corrupt_text(&r, &spec, sev, 7, s, s).unwrap())
                .collect();
            let b: Vec<Variant> = SENTENCES
                .iter()
                .rev()
                .map(|s| corrupt_text(&r, &spec, sev, 7, s, s).unwrap())
                .rev()
                .collect();
            let c: Vec<Variant> = SENTENCES
                .iter()
                .map(|s| corrupt_text(&r, &spec, sev, 8, s, s).unwrap())
                .collect();
            assert_eq!(a, b, "order of generation must not matter");
            assert_ne!(a, c, "another seed must give other noise");
        }
    }

    #[test]
    fn noise_grows_with_severity_and_is_measured() {
        let r = Registry::builtin().unwrap();
        for family in ["typo", "ocr"] {
            let spec = parse_specs(family, &r).unwrap().remove(0);
            let mut last = -1.0;
            for &sev in &spec.severities {
                let mean: f64 = (0..200)
                    .map(|i| {
                        let s = SENTENCES[i % SENTENCES.len()];
                        corrupt_text(&r, &spec, sev, 1, &format!("ex{i}"), s).unwrap().cer
                    })
                    .sum::<f64>()
                    / 200.0;
                assert!(
                    mean > last,
                    "{family}: severity {} mean CER {mean} not above {last}",
                    sev.level()
                );
                assert!(mean > 0.0 && mean < 0.5, "{family}: CER {mean} out of range");
                last = mean;
            }
        }
    }
}
