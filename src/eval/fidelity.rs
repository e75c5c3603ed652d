//! Fidelity of a quantized scheme to the reference scheme on the same clean inputs: for classifiers
//! the top-1 agreement and KL divergence of the label distributions, for embedding models the cosine
//! similarity of the sentence embeddings, for generation the share of identical outputs.

use serde::{Deserialize, Serialize};

use crate::task::Probe;

/// How closely one scheme's raw outputs follow the reference scheme's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fidelity {
    pub reference: String,
    /// "label distribution", "embedding" or "generated text".
    pub kind: String,
    pub n: usize,
    /// Percent of inputs whose most likely label matches the reference's (label distributions only;
    /// for embedding models, label agreement is the run's `agreement` metric).
    pub top1_agreement: Option<f64>,
    /// Mean KL(reference || scheme) of the label distributions, in nats.
    pub mean_kl: Option<f64>,
    pub mean_cosine: Option<f64>,
    pub min_cosine: Option<f64>,
    /// Percent of inputs on which the scheme generated exactly the reference's text.
    #[serde(default)]
    pub identical_output: Option<f64>,
}

fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |b, (i, &x)| if x > b.1 { (i, x) } else { b })
        .0
}

/// Compares a scheme's raw outputs with the reference scheme's on the same inputs.
pub fn fidelity(reference_name: &str, reference: &[Probe], outputs: &[Probe]) -> Fidelity {
    let n = reference.len().min(outputs.len());
    let texts: Vec<(&String, &String)> = reference
        .iter()
        .zip(outputs)
        .filter_map(|p| match p {
            (Probe::Text(a), Probe::Text(b)) => Some((a, b)),
            _ => None,
        })
        .collect();
    if !texts.is_empty() {
        let same = texts.iter().filter(|(a, b)| a == b).count();
        return Fidelity {
            reference: reference_name.into(),
            kind: "generated text".into(),
            n,
            identical_output: Some(100.0 * same as f64 / texts.len() as f64),
            ..Default::default()
        };
    }
    let vectors = |ps: &[Probe]| -> Vec<Vec<f32>> {
        ps.iter()
            .map(|p| match p {
                Probe::Distribution(v) | Probe::Embedding(v) => v.clone(),
                Probe::Text(_) => Vec::new(),
            })
            .collect()
    };
    let embedding = matches!(reference.first(), Some(Probe::Embedding(_)));
    vectors_fidelity(reference_name, &vectors(reference), &vectors(outputs), embedding)
}

/// Compares probability vectors (`embedding = false`) or L2-normalised embeddings.
fn vectors_fidelity(reference_name: &str, reference: &[Vec<f32>], outputs: &[Vec<f32>], embedding: bool) -> Fidelity {
    let n = reference.len().min(outputs.len());
    let pairs = || reference.iter().zip(outputs).take(n);
    let agree = pairs().filter(|(a, b)| argmax(a) == argmax(b)).count();
    let mean = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let (mean_kl, mean_cosine, min_cosine) = if embedding {
        let cos: Vec<f64> = pairs()
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum())
            .collect();
        let min = cos.iter().copied().reduce(f64::min);
        (None, mean(cos), min)
    } else {
        // Renormalised in f64; the clamp removes rounding noise below zero (KL is never negative).
        let kl: Vec<f64> = pairs()
            .map(|(p, q)| {
                let (sp, sq) = (
                    p.iter().map(|v| *v as f64).sum::<f64>(),
                    q.iter().map(|v| *v as f64).sum::<f64>(),
                );
                let kl: f64 = p
                    .iter()
                    .zip(q)
                    .filter(|(p, _)| **p > 0.0)
                    .map(|(p, q)| {
                        let (p, q) = (*p as f64 / sp, (*q as f64 / sq).max(1e-300));
                        p * (p / q).ln()
                    })
                    .sum();
                kl.max(0.0)
            })
            .collect();
        (mean(kl), None, None)
    };
    Fidelity {
        reference: reference_name.into(),
        kind: if embedding { "embedding" } else { "label distribution" }.into(),
        n,
        top1_agreement: (!embedding && n > 0).then(|| 100.0 * agree as f64 / n as f64),
        mean_kl,
        mean_cosine,
        min_cosine,
        identical_output: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(v: &[Vec<f32>]) -> Vec<Probe> {
        v.iter().map(|x| Probe::Distribution(x.clone())).collect()
    }

    #[test]
    fn identical_outputs_are_perfectly_faithful() {
        let p = dist(&[vec![0.7, 0.2, 0.1], vec![0.1, 0.1, 0.8]]);
        let f = fidelity("f32", &p, &p);
        assert_eq!((f.n, f.top1_agreement), (2, Some(100.0)));
        assert!(f.mean_kl.unwrap().abs() < 1e-12);
    }

    #[test]
    fn kl_and_cosine_match_hand_computed_values() {
        let f = fidelity("f32", &dist(&[vec![0.5, 0.5]]), &dist(&[vec![0.25, 0.75]]));
        let want = 0.5 * (0.5f64 / 0.25).ln() + 0.5 * (0.5f64 / 0.75).ln();
        assert!((f.mean_kl.unwrap() - want).abs() < 1e-9);
        let s = std::f32::consts::FRAC_1_SQRT_2;
        let emb = |v: &[Vec<f32>]| v.iter().map(|x| Probe::Embedding(x.clone())).collect::<Vec<_>>();
        let e = fidelity(
            "f32",
            &emb(&[vec![1.0, 0.0], vec![1.0, 0.0]]),
            &emb(&[vec![s, s], vec![1.0, 0.0]]),
        );
        assert!((e.min_cosine.unwrap() - s as f64).abs() < 1e-6);
        assert!((e.mean_cosine.unwrap() - (1.0 + s as f64) / 2.0).abs() < 1e-6);
        assert_eq!(e.top1_agreement, None);
    }

    #[test]
    fn generated_text_counts_identical_outputs() {
        let t = |v: &[&str]| v.iter().map(|x| Probe::Text(x.to_string())).collect::<Vec<_>>();
        let f = fidelity("f32", &t(&["a", "b", "c", "d"]), &t(&["a", "b", "x", "d"]));
        assert_eq!((f.kind.as_str(), f.identical_output), ("generated text", Some(75.0)));
    }
}
