//! Graph of DeepSeek-V2/V3 (src/models/deepseek2.cpp at 0c1e570) with multi-head latent
//! attention in its absorbed form (`is_mla`: `attn_k_b` / `attn_v_b` present): low-rank Q,
//! compressed KV row plus a roped part, Q's no-RoPE half absorbed through `wk_b`, one K-only
//! cache viewed as V, and `wv_b` decompressing the attention output. Leading dense blocks,
//! then MoE blocks with routing from the hyperparameters and a shared expert. Models without
//! `attn_k_b` (MHA form) and `attn_temperature_scale` (Mistral-Large) are not simulated.

use super::graph::{Graph, Id, NONE};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch};
use super::moe::Routing;
use super::{Weights, transformer};
use crate::model::{Geometry, LayerGeometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let inp = inputs::inp_k(g, b);
    let routing = Routing::from_hints(&geo.hints);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        if l.kind != LayerKind::Mla || !w.has_blk(il, "attn_k_b.weight") {
            return None;
        }
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let cur = mla(g, w, b, &inp, l, cur, Some(pos))?;
        let last = (i + 1 == layers.len()).then_some(out_ids);
        inp_l = transformer::ffn_block(g, w, il, cur, inp_l, last, l.n_experts_used, routing)?;
    }
    transformer::finish(g, w, inp_l, tok)
}

/// The absorbed-MLA attention of one layer, output projection included; `pos` is `None` for
/// Kimi-Linear, whose MLA has no RoPE.
pub fn mla(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, l: &LayerGeometry, cur: Id, pos: Option<Id>) -> Option<Id> {
    let cur = mla_attn(g, w, b, inp, l, cur, pos)?;
    let wo = w.blk(g, l.index, "attn_output.weight")?;
    Some(g.mul_mat(wo, cur))
}

/// [`mla`] without the output projection: [v_head_dim * n_head, n_tokens].
pub fn mla_attn(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, l: &LayerGeometry, cur: Id, pos: Option<Id>) -> Option<Id> {
    mla_attn_with(g, w, b, inp, l, cur, Mla { pos, ..Mla::PLAIN })
}

/// What the MLA variants of DeepSeek-V2's kin change in [`mla_attn_with`].
#[derive(Clone, Copy, Debug)]
pub struct Mla {
    /// Positions for RoPE, or `None` (Kimi-Linear's MLA has no RoPE).
    pub pos: Option<Id>,
    /// The normed low-rank query, already computed (DSA shares it with its indexer), or
    /// [`NONE`]: from `cur`.
    pub qr: Id,
    /// The attention mask (DSA's sparse one), or [`NONE`]: the cache's own.
    pub mask: Id,
    /// The roped key part is RMS-normed (`attn_k_norm`) before RoPE (dots3note.cpp).
    pub k_pe_norm: bool,
    /// The attention has sinks (`attn_sinks`, HY-V4), a weight that places the softmax or
    /// flash attention in the multi-device replay.
    pub sinks: bool,
}

impl Mla {
    /// DeepSeek-V2/V3's own: no RoPE positions given, nothing shared, the cache's mask.
    pub const PLAIN: Mla = Mla { pos: None, qr: NONE, mask: NONE, k_pe_norm: false, sinks: false };
}

/// [`mla_attn`] with the variations of [`Mla`].
pub fn mla_attn_with(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, l: &LayerGeometry, cur: Id, o: Mla) -> Option<Id> {
    let Mla { pos, qr, mask, k_pe_norm, sinks } = o;
    let rope = |g: &mut Graph, x: Id| match pos {
        Some(p) => g.rope(x, p),
        None => x,
    };
    let (il, n_head, nt) = (l.index, l.n_head.max(1), b.n_tokens);
    let q = match w.blk(g, il, "attn_q.weight") {
        Some(wq) if qr == NONE => g.mul_mat(wq, cur),
        _ if qr != NONE => {
            let wq_b = w.blk(g, il, "attn_q_b.weight")?;
            g.mul_mat(wq_b, qr)
        }
        _ => {
            let wq_a = w.blk(g, il, "attn_q_a.weight")?;
            let q = g.mul_mat(wq_a, cur);
            let q = llm::blk_norm(g, w, il, q, "attn_q_a_norm.weight")?;
            let wq_b = w.blk(g, il, "attn_q_b.weight")?;
            g.mul_mat(wq_b, q)
        }
    };
    let hk = g.ne(q)[0] / n_head;
    let q = g.reshape(q, [hk, n_head, nt, 1]);
    let kv_lora = w.dim(il, "attn_kv_a_norm.weight", 0)?;
    let wkv_a = w.blk(g, il, "attn_kv_a_mqa.weight")?;
    let kv_pe = g.mul_mat(wkv_a, cur);
    let width = g.ne(kv_pe)[0];
    let n_rot = width.checked_sub(kv_lora)?;
    let nope = hk.checked_sub(n_rot)?;
    let row = width.saturating_mul(4);
    let kv_cmpr = g.view_nd(kv_pe, [kv_lora, nt, 1, 1], row, row.saturating_mul(nt), row.saturating_mul(nt));
    let k_pe = g.view_nd(kv_pe, [n_rot, 1, nt, 1], row, row, row.saturating_mul(nt));
    let k_pe = if k_pe_norm { llm::blk_norm(g, w, il, k_pe, "attn_k_norm.weight")? } else { k_pe };
    let k_pe = rope(g, k_pe);
    let kv_cmpr = llm::blk_norm(g, w, il, kv_cmpr, "attn_kv_a_norm.weight")?;
    let qnb = g.t[q as usize].nb;
    let q_nope = g.view_nd(q, [nope, n_head, nt, 1], qnb[1], qnb[2], qnb[3]);
    let q_pe = g.view_nd(q, [n_rot, n_head, nt, 1], qnb[1], qnb[2], qnb[3]);
    let q_pe = rope(g, q_pe);
    let q_nope = g.permute_0213(q_nope);
    let wk_b = w.blk(g, il, "attn_k_b.weight")?;
    let absorbed = g.mul_mat(wk_b, q_nope);
    let absorbed = g.permute_0213(absorbed);
    let q = g.concat(absorbed, q_pe, 0);
    let kv_cmpr = g.reshape(kv_cmpr, [kv_lora, 1, nt, 1]);
    let k = g.concat(kv_cmpr, k_pe, 0);
    // build_attn with llm_graph_input_attn_k (llama-graph.cpp:2981): V is K's first columns.
    for t in [q, kv_cmpr, k] {
        g.expand(t);
    }
    let hd_k = g.ne(k)[0];
    let cache = g.external(b.type_k, [hd_k, b.n_kv, b.n_stream, 1]);
    llm::store_rows(g, b, cache, k, inp.k_idxs);
    let ek = b.type_k.size();
    let (nb1, nb3) = (ek.saturating_mul(hd_k), ek.saturating_mul(hd_k).saturating_mul(b.n_kv));
    let kview = g.view_nd(cache, [hd_k, 1, b.n_kv, b.n_stream], nb1, nb1, nb3);
    let vview = g.view_nd(cache, [kv_lora, 1, b.n_kv, b.n_stream], nb1, nb1, nb3);
    let wv_b = w.blk(g, il, "attn_v_b.weight")?;
    let mask = if mask == NONE { inp.kq_mask } else { mask };
    let sinks = if sinks && g.track { w.blk(g, il, "attn_sinks.weight")? } else { NONE };
    Some(llm::attn_mha_sinks(g, b, q, kview, vview, mask, wv_b, sinks))
}
