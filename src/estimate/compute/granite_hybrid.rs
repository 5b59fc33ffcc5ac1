//! Granite-4.0-H (src/models/granite-hybrid.cpp at 0c1e570): Mamba-2 layers (mamba2.rs) and
//! attention layers without RoPE when `rope.scaling.finetuned` is false, each followed by a
//! dense FFN or MoE with a shared expert. The embedding, residual and logit scales are
//! in-place `ggml_scale`s on tensors with one consumer, so they change no allocation and are
//! left out.

use super::graph::Graph;
use super::inputs;
use super::llm::{self, Batch};
use super::{Weights, mamba2, moe, transformer};
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let inp = inputs::inp_layers(g, b, &layers, true);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let pos = geo.hints.rope_finetuned.then_some(pos);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let cur = match l.kind {
            LayerKind::Recurrent => mamba2::layer(g, w, b, &inp, il, cur)?,
            LayerKind::Attention => transformer::self_attn(g, w, b, &inp, l, cur, pos, false)?,
            _ => return None,
        };
        let last = (i + 1 == layers.len()).then_some(out_ids);
        inp_l = transformer::ffn_block(g, w, il, cur, inp_l, last, l.n_experts_used, moe::SOFTMAX_NORM)?;
    }
    transformer::finish(g, w, inp_l, tok)
}
