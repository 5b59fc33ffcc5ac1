//! Graph of MiniCPM3 (src/models/minicpm3.cpp at 0c1e570): scaled embeddings, DeepSeek-style
//! low-rank Q and compressed KV (`attn_q_a`/`attn_q_b`, `attn_kv_a_mqa`/`attn_kv_b`) expanded
//! to full K and V before a plain KV cache (no MLA cache), RoPE on Q and on the shared
//! `k_pe` repeated over the heads, residuals scaled per block, and the LM head on a scaled
//! copy of the output norm (`result_norm` stays an output).

use super::Weights;
use super::graph::Graph;
use super::inputs;
use super::llm::{self, Batch, KvLayer};
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| l.kind != LayerKind::Attention) {
        return None;
    }
    let mut inp_l = g.unary(inp_l);
    let inp = inputs::inp_layers(g, b, &layers, false);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let nt = b.n_tokens;
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let (hd_k, hd_v, n_head) = (l.head_dim_k, l.head_dim_v, l.n_head);
        let mut inp_sa = inp_l;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let wq_a = w.blk(g, il, "attn_q_a.weight")?;
        let q = g.mul_mat(wq_a, cur);
        let q = llm::blk_norm(g, w, il, q, "attn_q_a_norm.weight")?;
        let wq_b = w.blk(g, il, "attn_q_b.weight")?;
        let q = g.mul_mat(wq_b, q);
        let q = g.reshape(q, [hd_k, n_head, nt, 1]);
        // kv_lora_rank and n_rot from the compressed projection: [rank + n_rot] rows.
        let rank = w.dim(il, "attn_kv_a_norm.weight", 0)?;
        let n_rot = w.dim(il, "attn_kv_a_mqa.weight", 1)?.checked_sub(rank)?;
        let nope = hd_k.checked_sub(n_rot)?;
        let wkv_a = w.blk(g, il, "attn_kv_a_mqa.weight")?;
        let kv_pe = g.mul_mat(wkv_a, cur);
        let row = g.t[kv_pe as usize].nb[1];
        let kv_c = g.view_nd(kv_pe, [rank, nt, 1, 1], row, row.saturating_mul(nt), row.saturating_mul(nt));
        let k_pe = g.view_nd(kv_pe, [n_rot, 1, nt, 1], row, row, row.saturating_mul(nt));
        let kv_c = llm::blk_norm(g, w, il, kv_c, "attn_kv_a_norm.weight")?;
        let wkv_b = w.blk(g, il, "attn_kv_b.weight")?;
        let kv = g.mul_mat(wkv_b, kv_c);
        let r = nope.saturating_add(hd_v).saturating_mul(4);
        let k_nope = g.view_nd(kv, [nope, n_head, nt, 1], r, r.saturating_mul(n_head), r.saturating_mul(n_head).saturating_mul(nt));
        let v = g.view_nd(kv, [hd_v, n_head, nt, 1], r, r.saturating_mul(n_head), r.saturating_mul(n_head).saturating_mul(nt));
        let v = g.cont(v, [hd_v, n_head, nt, 1]);
        let q = g.rope(q, pos);
        let k_pe = g.rope(k_pe, pos);
        let k_pe = g.repeat(k_pe, [n_rot, n_head, nt, 1]);
        let k = g.concat(k_nope, k_pe, 0);
        let kvl = KvLayer::new(g, b, hd_k, hd_v, l.n_head_kv);
        let cur = llm::attn_kv(g, b, &inp, &kvl, q, k, v);
        let wo = w.blk(g, il, "attn_output.weight")?;
        let mut cur = g.mul_mat(wo, cur);
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_sa = g.get_rows(inp_sa, out_ids);
        }
        let cur = g.unary(cur);
        let ffn_inp = g.binary(cur, inp_sa);
        let cur = llm::blk_norm(g, w, il, ffn_inp, "ffn_norm.weight")?;
        let cur = llm::ffn(g, w, il, cur)?;
        let cur = g.unary(cur);
        inp_l = g.binary(cur, ffn_inp);
    }
    let norm = w.get(g, "output_norm.weight")?;
    let h = llm::rms_norm(g, inp_l, norm);
    let x = g.unary(h);
    llm::lm_head_on(g, w, h, x, tok, &[]);
    Some(())
}
