//! Graph of Gemma 3 (src/models/gemma3.cpp at 0c1e570): scaled embeddings, Q/K norms, RoPE,
//! Q scaled before attention, sliding-window layers on their own KV cache and mask
//! (`llama_kv_cache_iswa`), post-attention and post-FFN norms around a GELU-gated FFN.
//! The scales are in-place `ggml_scale`s; the final logit soft-capping (scale, tanh, scale) is
//! in place on the logits and left out.

use super::graph::Graph;
use super::inputs;
use super::llm::{self, Batch, KvLayer};
use super::{transformer, Weights};
use crate::model::Geometry;

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let tok = w.get(g, "token_embd.weight")?;
    let inp_l = inputs::inp_embd(g, b, tok, geo.n_embd);
    let mut inp_l = g.unary(inp_l);
    let layers: Vec<_> = geo.layers.iter().filter(|l| !l.mtp).collect();
    let caches = inputs::Caches::new(g, b, &layers);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let w_attn_norm = w.blk(g, il, "attn_norm.weight")?;
        let cur = llm::rms_norm(g, inp_l, w_attn_norm);
        let (q, k, v) = transformer::qkv(g, w, il, cur, l.head_dim_k, l.n_head, l.n_head_kv)?;
        let q = transformer::qk_norm(g, w, il, q, "attn_q_norm.weight");
        let q = g.rope(q, pos);
        let k = transformer::qk_norm(g, w, il, k, "attn_k_norm.weight");
        let k = g.rope(k, pos);
        let q = g.unary(q);
        let (inp, bl) = caches.layer(l.kind)?;
        let kv = KvLayer::new(g, bl, l.head_dim_k, l.head_dim_v, l.n_head_kv);
        let mut cur = transformer::attn_out(g, w, bl, inp, &kv, il, [q, k, v])?;
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_l = g.get_rows(inp_l, out_ids);
        }
        let w_post = w.blk(g, il, "post_attention_norm.weight")?;
        let cur = llm::rms_norm(g, cur, w_post);
        let sa_out = g.binary(cur, inp_l);
        let w_ffn_norm = w.blk(g, il, "ffn_norm.weight")?;
        let cur = llm::rms_norm(g, sa_out, w_ffn_norm);
        let cur = llm::ffn(g, w, il, cur)?;
        let w_post_ffw = w.blk(g, il, "post_ffw_norm.weight")?;
        let cur = llm::rms_norm(g, cur, w_post_ffw);
        inp_l = g.binary(cur, sa_out);
    }
    transformer::finish(g, w, inp_l, tok)
}
