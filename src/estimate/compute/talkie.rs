//! Graph of Talkie (src/models/talkie.cpp at 0c1e570): unweighted RMS norms (on the
//! embeddings, before attention and FFN, at the output), RoPE then Q/K norms (Q's weighted
//! per head), a SwiGLU FFN, and the normed embeddings added back to every block's output
//! through a per-block scale (`embd_skip`). The logit scale is in place on the logits and left
//! out.

use super::Weights;
use super::graph::Graph;
use super::inputs;
use super::llm::{self, Batch, KvLayer};
use super::transformer;
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| l.kind != LayerKind::Attention) {
        return None;
    }
    let mut inp_l = g.unary(inp_l);
    let embd_skip = inp_l;
    let inp = inputs::inp_layers(g, b, &layers, false);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let (mut inp_sa, mut skip) = (inp_l, embd_skip);
        let cur = g.unary(inp_l);
        let (q, k, v) = transformer::qkv(g, w, il, cur, l.head_dim_k, l.n_head, l.n_head_kv)?;
        let q = g.rope(q, pos);
        let k = g.rope(k, pos);
        let q = llm::blk_norm(g, w, il, q, "attn_q_norm.weight")?;
        let k = g.unary(k);
        let kv = KvLayer::new(g, b, l.head_dim_k, l.head_dim_v, l.n_head_kv);
        let cur = llm::attn_kv(g, b, &inp, &kv, q, k, v);
        let wo = w.blk(g, il, "attn_output.weight")?;
        let mut cur = g.mul_mat(wo, cur);
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_sa = g.get_rows(inp_sa, out_ids);
            skip = g.get_rows(skip, out_ids);
        }
        let ffn_inp = g.binary(cur, inp_sa);
        let cur = g.unary(ffn_inp);
        let cur = llm::ffn(g, w, il, cur)?;
        let cur = g.binary(cur, ffn_inp);
        let scale = w.blk(g, il, "layer_output_scale.weight")?;
        let skip = g.binary(skip, scale);
        inp_l = g.binary(cur, skip);
    }
    let h = g.unary(inp_l);
    llm::lm_head(g, w, h, tok, &[]);
    Some(())
}
