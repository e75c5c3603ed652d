//! What the real speech channel does, as the `asr` family copies it (`corruptions/asr/channel_profile.toml`,
//! made by `cargo run --release --example asr_channel -- profile` from recorded transcripts of the
//! `spoken-requests` calibration split), at each noise level it was recorded at: the normalised WER, how
//! often each word class is in error and the shapes of the error regions (n clean words heard as m words,
//! separately for regions that hit a content word and regions of function words only), as measured; and
//! the model's parameters fitted to reproduce them: the weight with which a region is anchored on a word
//! of each class, and the mix of shapes drawn (a region anchored on a name also takes the "to" before it,
//! and a long word nothing sounds like cannot be split, so the weights that give the measured rates differ
//! from the rates), and how readily a region around a hard word runs on into a function word beside it.
//!
//! Between levels everything is interpolated linearly in WER (and held constant outside): at low WER a
//! recogniser's errors sit on rare words and names, at high WER they spread to function words.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::corrupt::wordclass::WordClass;

/// The shipped profile.
pub const CHANNEL_PROFILE: &str = include_str!("../../../corruptions/asr/channel_profile.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    source: String,
    level: Vec<LevelFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelFile {
    wer: f64,
    #[allow(dead_code)]
    texts: usize,
    /// Measured (for the record).
    #[allow(dead_code)]
    class_error_rate: BTreeMap<String, f64>,
    #[allow(dead_code)]
    measured_shapes: BTreeMap<String, BTreeMap<String, f64>>,
    /// Fitted (what the model draws from).
    anchor_weight: BTreeMap<String, f64>,
    budget_scale: f64,
    #[serde(default = "no_preference")]
    function_reach: f64,
    shapes: BTreeMap<String, BTreeMap<String, f64>>,
}

fn no_preference() -> f64 {
    1.0
}

/// Shape of an error region: `n` clean words heard as `m` words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shape {
    pub n: usize,
    pub m: usize,
}

impl Shape {
    /// Word edits the region costs (when no word of it happens to survive).
    pub fn cost(self) -> usize {
        self.n.max(self.m)
    }
}

/// The channel at one noise level.
#[derive(Clone, Debug, PartialEq)]
pub struct Level {
    pub wer: f64,
    /// Weight of anchoring a region on a word of each class (`WordClass::ALL` order).
    pub anchor_weight: [f64; 6],
    /// Regions drawn per expected word edit: above 1 where some drawn regions find no place or no word
    /// that sounds alike, so that the WER reached is the WER aimed at.
    pub budget_scale: f64,
    /// Weight of a function word, against 1 for a content word, of being among the other words of a
    /// multi-word region around an anchor: a recogniser's error around a hard word runs on into the hard
    /// word beside it ("sea shanties" -> "see chanties") more often than into "to" or "the".
    pub function_reach: f64,
    /// Region shapes with their shares, for regions with a content word and for function-only regions.
    pub content_shapes: Vec<(Shape, f64)>,
    pub function_shapes: Vec<(Shape, f64)>,
}

/// The measured channel: its levels, by rising WER.
#[derive(Clone, Debug)]
pub struct Profile {
    pub levels: Vec<Level>,
}

fn shapes(table: Option<&BTreeMap<String, f64>>, what: &str) -> Result<Vec<(Shape, f64)>, String> {
    let Some(table) = table else {
        return Err(format!("channel profile: no [level.shapes.{what}] table"));
    };
    let total: f64 = table.values().sum();
    table
        .iter()
        .map(|(k, &v)| {
            let (n, m) = k
                .split_once('-')
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .ok_or_else(|| format!("channel profile: shape '{k}': expected N-M"))?;
            if !(v >= 0.0 && v.is_finite()) || n > 12 || m > 16 || n + m == 0 {
                return Err(format!(
                    "channel profile: shape '{k}' = {v}: expected a count, at most 12-16"
                ));
            }
            Ok((Shape { n, m }, v / total.max(1e-12)))
        })
        .collect()
}

/// Linear interpolation of two shape mixes (shapes missing from one count as 0 there).
fn mix(a: &[(Shape, f64)], b: &[(Shape, f64)], t: f64) -> Vec<(Shape, f64)> {
    let mut all: BTreeMap<Shape, f64> = BTreeMap::new();
    for &(s, w) in a {
        *all.entry(s).or_default() += (1.0 - t) * w;
    }
    for &(s, w) in b {
        *all.entry(s).or_default() += t * w;
    }
    all.into_iter().filter(|(_, w)| *w > 0.0).collect()
}

impl Profile {
    /// Parses a profile.
    pub fn parse(text: &str) -> Result<Self, String> {
        let f: File = toml::from_str(text).map_err(|e| format!("channel profile: {e}"))?;
        let mut levels = Vec::with_capacity(f.level.len());
        for l in f.level {
            let mut anchor_weight = [0.0; 6];
            for class in WordClass::ALL {
                let w = l
                    .anchor_weight
                    .get(class.name())
                    .copied()
                    .ok_or_else(|| format!("channel profile: no anchor_weight.{}", class.name()))?;
                if !(w >= 0.0 && w.is_finite()) {
                    return Err(format!("channel profile: anchor_weight.{} = {w}", class.name()));
                }
                anchor_weight[class.index()] = w;
            }
            if !(l.wer > 0.0 && l.wer.is_finite()) {
                return Err(format!(
                    "channel profile: level wer {}: expected a positive rate",
                    l.wer
                ));
            }
            if !(l.budget_scale > 0.0 && l.budget_scale.is_finite()) {
                return Err(format!("channel profile: budget_scale {}", l.budget_scale));
            }
            if !(l.function_reach > 0.0 && l.function_reach <= 1e3) {
                return Err(format!(
                    "channel profile: function_reach {}: expected a positive weight, at most 1000",
                    l.function_reach
                ));
            }
            levels.push(Level {
                wer: l.wer,
                anchor_weight,
                budget_scale: l.budget_scale,
                function_reach: l.function_reach,
                content_shapes: shapes(l.shapes.get("content"), "content")?,
                function_shapes: shapes(l.shapes.get("function"), "function")?,
            });
        }
        if levels.is_empty() {
            return Err("channel profile: no [[level]]".into());
        }
        levels.sort_by(|a, b| a.wer.total_cmp(&b.wer));
        Ok(Profile { levels })
    }

    /// The shipped profile.
    pub fn builtin() -> Result<Self, String> {
        Self::parse(CHANNEL_PROFILE)
    }

    /// The channel at `wer`: interpolated between the two levels around it, the nearest level outside.
    pub fn at(&self, wer: f64) -> Level {
        let first = &self.levels[0];
        let last = &self.levels[self.levels.len() - 1];
        if wer <= first.wer {
            return first.clone();
        }
        if wer >= last.wer {
            return last.clone();
        }
        let i = self.levels.iter().position(|l| l.wer >= wer).unwrap_or(1).max(1);
        let (a, b) = (&self.levels[i - 1], &self.levels[i]);
        let t = (wer - a.wer) / (b.wer - a.wer).max(1e-12);
        let mut anchor_weight = [0.0; 6];
        for (k, r) in anchor_weight.iter_mut().enumerate() {
            *r = (1.0 - t) * a.anchor_weight[k] + t * b.anchor_weight[k];
        }
        Level {
            wer,
            anchor_weight,
            budget_scale: (1.0 - t) * a.budget_scale + t * b.budget_scale,
            function_reach: (1.0 - t) * a.function_reach + t * b.function_reach,
            content_shapes: mix(&a.content_shapes, &b.content_shapes, t),
            function_shapes: mix(&a.function_shapes, &b.function_shapes, t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"
source = "test"
[[level]]
wer = 0.2
texts = 10
class_error_rate = {}
measured_shapes = {}
anchor_weight = { function = 0.1, number = 0.2, frequent = 0.1, known = 0.1, name = 0.2, rare = 0.6 }
budget_scale = 1.0
shapes.content = { "1-1" = 3, "1-2" = 1 }
shapes.function = { "1-0" = 1 }
[[level]]
wer = 0.4
texts = 10
class_error_rate = {}
measured_shapes = {}
anchor_weight = { function = 0.3, number = 0.4, frequent = 0.3, known = 0.3, name = 0.4, rare = 0.8 }
budget_scale = 1.2
function_reach = 0.5
shapes.content = { "1-1" = 1 }
shapes.function = { "1-1" = 1 }
"#;

    #[test]
    fn levels_interpolate_in_wer_and_hold_outside() {
        let p = Profile::parse(TWO).unwrap();
        let mid = p.at(0.3);
        assert!((mid.anchor_weight[WordClass::Function.index()] - 0.2).abs() < 1e-12);
        assert!(
            (mid.function_reach - 0.75).abs() < 1e-12,
            "1 where a level does not say, interpolated"
        );
        let share = |v: &[(Shape, f64)], n, m| v.iter().find(|(s, _)| *s == Shape { n, m }).map_or(0.0, |x| x.1);
        assert!((share(&mid.content_shapes, 1, 2) - 0.125).abs() < 1e-12);
        assert!((share(&mid.function_shapes, 1, 0) - 0.5).abs() < 1e-12);
        assert_eq!(p.at(0.05).anchor_weight, p.levels[0].anchor_weight);
        assert_eq!(p.at(0.9).anchor_weight, p.levels[1].anchor_weight);
        assert!(Profile::builtin().unwrap().levels.len() >= 2);
    }
}
