//! Graph of Gemma 4 (src/models/gemma4.cpp at 0c1e570), dense blocks: Gemma 3's scaled
//! embeddings, sliding-window caches and post-norms, with V's unweighted RMS norm (V is K when
//! a block has no `attn_v`), no Q scaling, the optional per-layer embeddings of Gemma 3n
//! (`gemma3n::per_layer_inputs`, added after each block), the optional `layer_output_scale`,
//! the layers past `n_layer_kv_from_start` attending over an earlier layer's cache, and the
//! output rows taken after the final norm, whose full-batch result is an output too
//! (`t_h_nextn`). The `.scale` multiplications and the final logit soft-capping are in place
//! and left out. MoE blocks (`ffn_gate_inp`) are not built here: no recorded case covers them.

use super::Weights;
use super::gemma3n;
use super::graph::{Graph, Id, NONE};
use super::inputs::{self, Caches};
use super::llm::{self, Batch, KvLayer};
use crate::model::{Geometry, LayerGeometry};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing or a block
/// is a MoE one.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| w.has_blk(l.index, "ffn_gate_inp.weight")) {
        return None;
    }
    let mut inp_l = g.unary(inp_l);
    let caches = Caches::new(g, b, &layers);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let per_layer = if w.top_has("per_layer_token_embd.weight") { Some(gemma3n::per_layer_inputs(g, w, b, inp_l, layers.len() as u64)?) } else { None };
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let cur = attention(g, w, &caches, l, cur, pos)?;
        let cur = llm::blk_norm(g, w, il, cur, "post_attention_norm.weight")?;
        let attn_out = g.binary(cur, inp_l);
        let cur = llm::blk_norm(g, w, il, attn_out, "ffn_norm.weight")?;
        let cur = llm::ffn(g, w, il, cur)?;
        let cur = llm::blk_norm(g, w, il, cur, "post_ffw_norm.weight")?;
        let mut cur = g.binary(cur, attn_out);
        if let Some(per_layer) = per_layer {
            let pe = gemma3n::per_layer_embd(g, w, il, cur, per_layer, i as u64, NONE)?;
            cur = g.binary(cur, pe);
        }
        if let Some(s) = w.blk(g, il, "layer_output_scale.weight") {
            cur = g.binary(cur, s);
        }
        inp_l = cur;
    }
    let norm = w.get(g, "output_norm.weight")?;
    let h = llm::rms_norm(g, inp_l, norm);
    let cur = g.get_rows(h, out_ids);
    llm::lm_head(g, w, cur, tok, &[h]);
    Some(())
}

/// The block's self-attention: Q from `attn_q`, normed and rotated; on a layer with a cache
/// of its own K (and V, else K again) normed, V by an unweighted RMS norm, K rotated, both
/// stored; on the others Q alone over an earlier layer's cache.
fn attention(g: &mut Graph, w: &Weights, caches: &Caches, l: &LayerGeometry, cur: Id, pos: Id) -> Option<Id> {
    let il = l.index;
    let (inp, bl) = caches.layer(l.kind)?;
    let hd = l.head_dim_k;
    let kv = KvLayer::new(g, bl, hd, l.head_dim_v, l.n_head_kv);
    let wq = w.blk(g, il, "attn_q.weight")?;
    let q = g.mul_mat(wq, cur);
    let nt = g.ne(q)[1];
    let q = g.reshape(q, [hd, l.n_head, nt, 1]);
    let q = llm::blk_norm(g, w, il, q, "attn_q_norm.weight")?;
    let q = g.rope(q, pos);
    let cur = if l.has_kv() {
        let wk = w.blk(g, il, "attn_k.weight")?;
        let k = g.mul_mat(wk, cur);
        let v = match w.blk(g, il, "attn_v.weight") {
            Some(wv) => g.mul_mat(wv, cur),
            None => k,
        };
        let k = g.reshape(k, [hd, l.n_head_kv, nt, 1]);
        let v = g.reshape(v, [hd, l.n_head_kv, nt, 1]);
        let k = llm::blk_norm(g, w, il, k, "attn_k_norm.weight")?;
        let v = g.unary(v);
        let k = g.rope(k, pos);
        llm::attn_kv(g, bl, inp, &kv, q, k, v)
    } else {
        llm::attn_kv_shared(g, bl, inp, &kv, q)
    };
    let wo = w.blk(g, il, "attn_output.weight")?;
    Some(g.mul_mat(wo, cur))
}
