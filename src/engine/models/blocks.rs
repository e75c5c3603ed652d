//! The seam between `Decoder` and an architecture: the blocks' forward step over a packed batch
//! (`Pass`: each sequence's cache, its rows, every row's position) and their Linears by name.

use crate::engine::layers::attention::{KvCache, Span};
use crate::engine::layers::lora::LinearLayer;
use crate::engine::layers::mlp::GatedMlp;
use crate::engine::tensor::Matrix;

/// The new tokens of a forward step: for each sequence its cache and its rows in the packed batch,
/// and every row's position.
pub struct Pass<'c> {
    pub caches: Vec<&'c mut KvCache>,
    pub spans: Vec<Span>,
    pub positions: Vec<usize>,
    /// Per row, whether its sequence rotates with LongRoPE's long factors (its cache's `long_rope`).
    pub long_rope: Vec<bool>,
}

/// The seven linear layers of each block under their GGUF names (`blk.N.attn_q`, ...),
/// the names AWQ captures and weight statistics use: attention q, k, v, output, then the
/// gated MLP's gate, up and down.
pub(crate) fn block_linears<'a>(
    blocks: impl Iterator<Item = ([&'a LinearLayer; 4], &'a GatedMlp)>,
) -> Vec<(String, &'a LinearLayer)> {
    let mut out = Vec::new();
    for (l, ([q, k, v, o], mlp)) in blocks.enumerate() {
        for (n, lin) in [
            ("attn_q", q),
            ("attn_k", k),
            ("attn_v", v),
            ("attn_output", o),
            ("ffn_gate", &mlp.gate),
            ("ffn_up", &mlp.up),
            ("ffn_down", &mlp.down),
        ] {
            out.push((format!("blk.{l}.{n}"), lin));
        }
    }
    out
}

/// An architecture's transformer blocks.
pub trait Blocks: Send + Sync {
    /// Runs every block over the packed hidden states `x` (appending to each sequence's cache);
    /// `observe` sees each Linear's input by name (`blk.3.attn_q`).
    fn forward(&self, x: Matrix, pass: &mut Pass<'_>, observe: &mut dyn FnMut(&str, &Matrix)) -> Matrix;
    /// Every Linear of the blocks by name, in forward order.
    fn linears(&self) -> Vec<(String, &LinearLayer)>;
}
