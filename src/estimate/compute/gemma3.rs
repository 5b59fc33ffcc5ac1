//! Graph of Gemma 3 (src/models/gemma3.cpp at 0c1e570): scaled embeddings, Q/K norms, RoPE,
//! Q scaled before attention, sliding-window layers on their own KV cache and mask
//! (`llama_kv_cache_iswa`), post-attention and post-FFN norms around a GELU-gated FFN.
//! The scales are in-place `ggml_scale`s; the final logit soft-capping (scale, tanh, scale) is
//! in place on the logits and left out.

use super::graph::Graph;
use super::inputs;
use super::llm::{self, Batch};
use super::{Weights, transformer};
use crate::model::Geometry;

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, inp_l, layers) = inputs::start(g, w, geo, b)?;
    let mut inp_l = g.unary(inp_l);
    let caches = inputs::Caches::new(g, b, &layers);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let (inp, bl) = caches.layer(l.kind)?;
        let mut cur = transformer::self_attn(g, w, bl, inp, l, cur, Some(pos), true)?;
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_l = g.get_rows(inp_l, out_ids);
        }
        let cur = llm::blk_norm(g, w, il, cur, "post_attention_norm.weight")?;
        let sa_out = g.binary(cur, inp_l);
        let cur = llm::blk_norm(g, w, il, sa_out, "ffn_norm.weight")?;
        let cur = llm::ffn(g, w, il, cur)?;
        let cur = llm::blk_norm(g, w, il, cur, "post_ffw_norm.weight")?;
        inp_l = g.binary(cur, sa_out);
    }
    transformer::finish(g, w, inp_l, tok)
}
