//! A run's schemes as its summary lists them: each scheme's storage, memory and closeness to the
//! reference. Kept apart from `summary` so the retrieval summary can list them too without reading
//! the classify/extract summary that holds it.

use serde::{Deserialize, Serialize};

use crate::eval::fidelity::Fidelity;

/// Storage of one scheme's quantized weights.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightStats {
    /// Stored bytes and count of the quantized Linears (what `bits_per_weight` describes).
    pub weight_bytes: usize,
    pub weight_count: usize,
    pub bits_per_weight: f64,
    /// Stored bytes of every weight matrix the scheme ships (Linears, output head, embeddings), for
    /// decoders, whose head format differs by scheme; absent for encoders and in older runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_bytes: Option<usize>,
    /// A decoder's output head format (`f32`, or the file's type where the scheme keeps it as
    /// stored, as `export` writes it); absent for encoders and in older runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
}

impl WeightStats {
    /// The bytes a deployment of the scheme stores: every weight matrix where known, else the Linears.
    pub fn shipped_bytes(&self) -> usize {
        self.model_bytes.unwrap_or(self.weight_bytes)
    }

    /// Whether the run built the scheme: a shard records a scheme whose work is all in other shards
    /// with no weights (zeros in its summary.json, filled by `merge`), which tables show as "-".
    pub fn built(&self) -> bool {
        self.weight_count > 0
    }
}

/// Resident memory of one scheme.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// Peak resident set size (`VmHWM`) while the scheme was built, evaluated and sustained.
    pub peak_rss_bytes: Option<u64>,
    /// Resident set size just before the scheme was built (what the process already held: the
    /// binary, the source weights, the inputs); `peak_rss_bytes` minus this is the scheme's own cost.
    pub rss_at_start_bytes: Option<u64>,
    /// `scheme`: the peak was reset before the scheme, so it covers this scheme alone whatever the run
    /// order; `process`: the kernel refused the reset and the figure is the process's peak so far.
    pub scope: String,
    /// Peak resident set size while the scheme answered (evaluation and sustained load), reset after
    /// its build once the build's freed memory was handed back; absent in runs before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving_peak_rss_bytes: Option<u64>,
}

impl Memory {
    /// What the scheme added while it answered: its model as built plus its working memory (KV cache,
    /// activations), over what the process held before the build. Build-time temporaries (quantizing,
    /// calibrating) and what earlier schemes left behind are not in it, so it does not rank run order
    /// as the peak does. None when the kernel refused to reset the peak or a reading is missing.
    pub fn serving_bytes(&self) -> Option<u64> {
        if self.scope != "scheme" {
            return None;
        }
        Some(self.serving_peak_rss_bytes?.saturating_sub(self.rss_at_start_bytes?))
    }
}

/// A scheme of the run, in run order, with its storage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemeInfo {
    pub name: String,
    pub weights: WeightStats,
    /// Closeness to the reference scheme's raw outputs on the clean inputs (absent for the reference,
    /// and in a shard that did not evaluate both schemes' clean inputs).
    #[serde(default)]
    pub fidelity: Option<Fidelity>,
    #[serde(default)]
    pub memory: Option<Memory>,
    /// Answers the token limit stopped: an extract answer whose JSON was not whole (judged invalid,
    /// so a limit too small for the model reads as a model that writes invalid JSON), or a rag answer
    /// before the end of its line (two answers per query: from the retrieved and the gold chunks).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub answers_cut_off: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serving_figure_is_claimed_only_where_the_peak_was_reset() {
        let m = Memory {
            peak_rss_bytes: Some(150),
            rss_at_start_bytes: Some(100),
            scope: "scheme".into(),
            serving_peak_rss_bytes: Some(130),
        };
        assert_eq!(m.serving_bytes(), Some(30));
        let process = Memory {
            scope: "process".into(),
            ..m.clone()
        };
        assert_eq!(process.serving_bytes(), None);
        let older_run = Memory {
            serving_peak_rss_bytes: None,
            ..m
        };
        assert_eq!(older_run.serving_bytes(), None);
    }
}
