//! The BERT encoder (Devlin et al., 2019) written against `Linear`, so every scheme runs through this code.
//!
//! A batch is packed: the real tokens of all sequences are stacked into one `[tokens, hidden]`
//! matrix and attention runs per sequence over its own tokens only. This is exactly what padding
//! plus an attention mask computes (masked keys get zero weight, padded queries are discarded),
//! without spending the Linear layers on pad tokens.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::engine::layers::linear::Linear;
use crate::engine::layers::mlp::gelu;
use crate::engine::layers::norm::layer_norm;
use crate::engine::load::ModelFiles;
use crate::engine::quant::scheme::Scheme;
use crate::engine::tensor::{l2_normalize, Matrix};
use crate::error::Result;

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    attn_norm: Norm,
    intermediate: Linear,
    output: Linear,
    out_norm: Norm,
}

/// A BERT encoder with optional pooler + classification head.
pub struct Bert {
    hidden: usize,
    heads: usize,
    eps: f32,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    max_positions: usize,
    emb_norm: Norm,
    layers: Vec<Layer>,
    /// Pooler dense + classifier, kept in f32 whatever the scheme (the scheme covers the transformer blocks).
    head: Option<(Linear, Linear)>,
    num_labels: usize,
}

/// Token rows of a packed batch, with each sequence's start offset (`offsets.len() == sequences + 1`).
pub struct Hidden {
    pub states: Matrix,
    pub offsets: Vec<usize>,
}

impl Bert {
    /// Builds the model from loaded files, quantizing every encoder Linear for `scheme`;
    /// `calibration` holds each Linear's calibration inputs (by tensor name) for schemes that need them.
    pub fn build(files: &ModelFiles, scheme: Scheme, calibration: Option<&HashMap<String, Matrix>>) -> Result<Self> {
        let c = &files.config;
        let h = c.hidden_size;
        let prefix = if files.has("bert.embeddings.word_embeddings.weight") {
            "bert."
        } else {
            ""
        };
        let t = |name: &str, shape: &[usize]| files.tensor(&format!("{prefix}{name}"), shape).map(|t| t.data.clone());
        let norm = |name: &str| -> Result<Norm> {
            Ok(Norm {
                gamma: t(&format!("{name}.weight"), &[h])?,
                beta: t(&format!("{name}.bias"), &[h])?,
            })
        };
        let linear = |name: &str, out_f: usize, in_f: usize, scheme: Scheme| -> Result<Linear> {
            let w = t(&format!("{name}.weight"), &[out_f, in_f])?;
            let b = t(&format!("{name}.bias"), &[out_f])?;
            match (scheme, calibration.and_then(|c| c.get(name))) {
                (Scheme::W4A16Awq { group }, Some(x)) => Ok(Linear::new_awq(&w, b, out_f, in_f, group, x)),
                _ => Ok(Linear::new(&w, b, out_f, in_f, scheme)),
            }
        };
        let mut layers = Vec::with_capacity(c.num_hidden_layers);
        for l in 0..c.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            layers.push(Layer {
                query: linear(&format!("{p}.attention.self.query"), h, h, scheme)?,
                key: linear(&format!("{p}.attention.self.key"), h, h, scheme)?,
                value: linear(&format!("{p}.attention.self.value"), h, h, scheme)?,
                attn_out: linear(&format!("{p}.attention.output.dense"), h, h, scheme)?,
                attn_norm: norm(&format!("{p}.attention.output.LayerNorm"))?,
                intermediate: linear(&format!("{p}.intermediate.dense"), c.intermediate_size, h, scheme)?,
                output: linear(&format!("{p}.output.dense"), h, c.intermediate_size, scheme)?,
                out_norm: norm(&format!("{p}.output.LayerNorm"))?,
            });
        }
        let (head, num_labels) = if files.has("classifier.weight") {
            let n = files.tensors["classifier.weight"].shape.first().copied().unwrap_or(0);
            let pooler = linear("pooler.dense", h, h, Scheme::F32)?;
            let w = files.tensor("classifier.weight", &[n, h])?.data.clone();
            let b = files.tensor("classifier.bias", &[n])?.data.clone();
            (Some((pooler, Linear::new(&w, b, n, h, Scheme::F32))), n)
        } else {
            (None, 0)
        };
        Ok(Bert {
            hidden: h,
            heads: c.num_attention_heads,
            eps: c.layer_norm_eps,
            word: t("embeddings.word_embeddings.weight", &[c.vocab_size, h])?,
            position: t("embeddings.position_embeddings.weight", &[c.max_position_embeddings, h])?,
            token_type: t("embeddings.token_type_embeddings.weight", &[c.type_vocab_size, h])?,
            max_positions: c.max_position_embeddings,
            emb_norm: norm("embeddings.LayerNorm")?,
            layers,
            head,
            num_labels,
        })
    }

    /// Number of classification labels (0 when the model has no classification head).
    pub fn num_labels(&self) -> usize {
        self.num_labels
    }

    /// Stored bytes and count of the encoder's Linear weights (the part a scheme quantizes).
    pub fn linear_weight_stats(&self) -> (usize, usize) {
        self.layers
            .iter()
            .flat_map(|l| [&l.query, &l.key, &l.value, &l.attn_out, &l.intermediate, &l.output])
            .fold((0, 0), |(b, n), lin| (b + lin.weight_bytes(), n + lin.weight_count()))
    }

    /// Runs the encoder on token-id sequences (each already truncated to the model's limit).
    pub fn encode(&self, batch: &[Vec<u32>]) -> Hidden {
        self.encode_observed(batch, &mut |_, _| {})
    }

    /// Every encoder Linear by tensor name, in forward order.
    pub fn linears(&self) -> Vec<(String, &Linear)> {
        let mut out = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let p = format!("encoder.layer.{l}");
            out.push((format!("{p}.attention.self.query"), &layer.query));
            out.push((format!("{p}.attention.self.key"), &layer.key));
            out.push((format!("{p}.attention.self.value"), &layer.value));
            out.push((format!("{p}.attention.output.dense"), &layer.attn_out));
            out.push((format!("{p}.intermediate.dense"), &layer.intermediate));
            out.push((format!("{p}.output.dense"), &layer.output));
        }
        out
    }

    /// Runs the encoder over `texts` in batches and keeps, for every encoder Linear (by tensor name),
    /// the first `rows` token rows of its input: the calibration activations of AWQ.
    pub fn capture_linear_inputs(&self, ids: &[Vec<u32>], rows: usize) -> HashMap<String, Matrix> {
        let mut kept: HashMap<String, Matrix> = HashMap::new();
        for chunk in ids.chunks(32) {
            self.encode_observed(chunk, &mut |name, x| {
                let m = kept.entry(name.to_string()).or_insert_with(|| Matrix::zeros(0, x.cols));
                let take = rows.saturating_sub(m.rows).min(x.rows);
                m.data.extend_from_slice(&x.data[..take * x.cols]);
                m.rows += take;
            });
        }
        kept
    }

    /// `encode`, showing every encoder Linear's input to `observe` (tensor name, input rows), and each
    /// layer's output (`encoder.layer.N`).
    pub fn encode_observed(&self, batch: &[Vec<u32>], observe: &mut dyn FnMut(&str, &Matrix)) -> Hidden {
        let h = self.hidden;
        let mut offsets = vec![0];
        for seq in batch {
            offsets.push(offsets.last().copied().unwrap_or(0) + seq.len().min(self.max_positions));
        }
        let total = offsets.last().copied().unwrap_or(0);
        let vocab = self.word.len() / h;
        let mut x = Matrix::zeros(total, h);
        for (s, seq) in batch.iter().enumerate() {
            for (pos, &id) in seq.iter().take(self.max_positions).enumerate() {
                let id = (id as usize).min(vocab - 1);
                let row = x.row_mut(offsets[s] + pos);
                let (w, p, tt) = (&self.word[id * h..], &self.position[pos * h..], &self.token_type[..h]);
                for j in 0..h {
                    row[j] = w[j] + p[j] + tt[j];
                }
            }
        }
        layer_norm(&mut x, &self.emb_norm.gamma, &self.emb_norm.beta, self.eps);
        for (l, layer) in self.layers.iter().enumerate() {
            x = self.layer_forward(l, layer, x, &offsets, observe);
            observe(&format!("encoder.layer.{l}"), &x);
        }
        Hidden { states: x, offsets }
    }

    fn layer_forward(
        &self,
        l: usize,
        layer: &Layer,
        x: Matrix,
        offsets: &[usize],
        observe: &mut dyn FnMut(&str, &Matrix),
    ) -> Matrix {
        let p = format!("encoder.layer.{l}");
        for name in ["attention.self.query", "attention.self.key", "attention.self.value"] {
            observe(&format!("{p}.{name}"), &x);
        }
        let q = layer.query.forward(&x);
        let k = layer.key.forward(&x);
        let v = layer.value.forward(&x);
        let ctx = self.attention(&q, &k, &v, offsets);
        observe(&format!("{p}.attention.output.dense"), &ctx);
        let mut a = layer.attn_out.forward(&ctx);
        a.add_assign(&x);
        layer_norm(&mut a, &layer.attn_norm.gamma, &layer.attn_norm.beta, self.eps);
        observe(&format!("{p}.intermediate.dense"), &a);
        let mut inter = layer.intermediate.forward(&a);
        gelu(&mut inter);
        observe(&format!("{p}.output.dense"), &inter);
        let mut out = layer.output.forward(&inter);
        out.add_assign(&a);
        layer_norm(&mut out, &layer.out_norm.gamma, &layer.out_norm.beta, self.eps);
        out
    }

    /// Scaled dot-product attention per sequence and head: `softmax(Q K^T / sqrt(d)) V`. Sequences
    /// are spread over threads; each writes its own rows of the context.
    fn attention(&self, q: &Matrix, k: &Matrix, v: &Matrix, offsets: &[usize]) -> Matrix {
        let (h, heads) = (self.hidden, self.heads);
        let d = h / heads;
        let scale = 1.0 / (d as f32).sqrt();
        let kernels = crate::engine::kernels::kernels();
        let mut ctx = Matrix::zeros(q.rows, h);
        let mut rest: &mut [f32] = &mut ctx.data;
        let mut sequences = Vec::with_capacity(offsets.len().saturating_sub(1));
        for w in offsets.windows(2) {
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut((w[1] - w[0]) * h);
            sequences.push((w[0], mine));
            rest = tail;
        }
        sequences.into_par_iter().for_each(|(start, out)| {
            let n = out.len() / h.max(1);
            let mut scores = vec![0.0f32; n];
            for hd in 0..heads {
                let cols = hd * d..(hd + 1) * d;
                for i in 0..n {
                    let qi = &q.row(start + i)[cols.clone()];
                    for (j, sc) in scores.iter_mut().enumerate() {
                        *sc = kernels.dot_f32(qi, &k.row(start + j)[cols.clone()]) * scale;
                    }
                    kernels.softmax(&mut scores);
                    let oi = &mut out[i * h + hd * d..i * h + (hd + 1) * d];
                    for (j, &p) in scores.iter().enumerate() {
                        kernels.axpy(p, &v.row(start + j)[cols.clone()], oi);
                    }
                }
            }
        });
        ctx
    }

    /// Mean of each sequence's token states, L2-normalised (sentence-transformers' mean pooling).
    pub fn mean_pooled(&self, hidden: &Hidden) -> Vec<Vec<f32>> {
        (0..hidden.offsets.len() - 1)
            .map(|s| {
                let (a, b) = (hidden.offsets[s], hidden.offsets[s + 1]);
                let mut v = vec![0.0f32; self.hidden];
                for r in a..b {
                    for (acc, x) in v.iter_mut().zip(hidden.states.row(r)) {
                        *acc += x;
                    }
                }
                let n = (b - a).max(1) as f32;
                v.iter_mut().for_each(|x| *x /= n);
                l2_normalize(&mut v);
                v
            })
            .collect()
    }

    /// Classification logits from the `[CLS]` state through pooler (tanh) and classifier;
    /// `None` when the model has no classification head.
    pub fn logits(&self, hidden: &Hidden) -> Option<Vec<Vec<f32>>> {
        let (pooler, classifier) = self.head.as_ref()?;
        let sequences = hidden.offsets.len() - 1;
        let mut cls = Matrix::zeros(sequences, self.hidden);
        for s in 0..sequences {
            if hidden.offsets[s + 1] > hidden.offsets[s] {
                cls.row_mut(s).copy_from_slice(hidden.states.row(hidden.offsets[s]));
            }
        }
        let mut pooled = pooler.forward(&cls);
        pooled.data.iter_mut().for_each(|v| *v = v.tanh());
        let logits = classifier.forward(&pooled);
        Some((0..sequences).map(|s| logits.row(s).to_vec()).collect())
    }
}
