//! Jamba (src/models/jamba.cpp at 0c1e570): Mamba-1 layers (mamba1.rs, with dt/B/C norms)
//! and attention layers without RoPE, each followed by a dense FFN or a softmax-gated MoE
//! whose weights are not normalized.

use super::graph::Graph;
use super::inputs;
use super::llm::{self, Batch};
use super::moe::{self, Routing};
use super::{Weights, mamba1, transformer};
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let inp = inputs::inp_layers(g, b, &layers, true);
    let (_, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let routing = Routing { norm_w: false, scale: geo.hints.expert_weights_scaled, ..moe::SOFTMAX_NORM };
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let mut cur = match l.kind {
            LayerKind::Recurrent => mamba1::layer(g, w, b, &inp, il, cur, false)?,
            LayerKind::Attention => transformer::self_attn(g, w, b, &inp, l, cur, None, false)?,
            _ => return None,
        };
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_l = g.get_rows(inp_l, out_ids);
        }
        // The residual adds the block input first (src0), which ggml-alloc reuses in place.
        let ffn_inp = g.binary(inp_l, cur);
        let cur = llm::blk_norm(g, w, il, ffn_inp, "ffn_norm.weight")?;
        let cur = if w.has_blk(il, "ffn_gate_inp.weight") { moe::moe_ffn(g, w, il, cur, l.n_experts_used, routing)? } else { llm::ffn(g, w, il, cur)? };
        inp_l = g.binary(ffn_inp, cur);
    }
    transformer::finish(g, w, inp_l, tok)
}
