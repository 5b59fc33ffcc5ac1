//! Graph of Command R7B (`cohere2`, src/models/cohere2.cpp at 0c1e570): LayerNorm, then
//! attention and the SwiGLU FFN in parallel on the same normed input, both added to the
//! residual; RoPE on the sliding-window layers only (the full-attention ones are NoPE), each
//! kind of layer on its own cache (`llama_kv_cache_iswa`). The logit scale is in place on the
//! logits and left out.

use super::graph::{Graph, NONE};
use super::inputs::{self, Caches};
use super::llm::{self, Batch};
use super::{Weights, transformer};
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let caches = Caches::new(g, b, &layers);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let nw = w.blk(g, il, "attn_norm.weight")?;
        let nb = w.blk_or_none(g, il, "attn_norm.bias");
        let mut ffn_inp = llm::layer_norm(g, inp_l, nw, nb);
        let (inp, bl) = caches.layer(l.kind)?;
        let rope = (l.kind == LayerKind::Sliding).then_some(pos);
        let mut cur = transformer::self_attn(g, w, bl, inp, l, ffn_inp, rope, false)?;
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_l = g.get_rows(inp_l, out_ids);
            ffn_inp = g.get_rows(ffn_inp, out_ids);
        }
        let ffn = llm::ffn(g, w, il, ffn_inp)?;
        let sum = g.binary(ffn, inp_l);
        inp_l = g.binary(sum, cur);
    }
    let nw = w.get(g, "output_norm.weight")?;
    let nb = w.get(g, "output_norm.bias").unwrap_or(NONE);
    let h = llm::layer_norm(g, inp_l, nw, nb);
    llm::lm_head(g, w, h, tok, &[]);
    Some(())
}
