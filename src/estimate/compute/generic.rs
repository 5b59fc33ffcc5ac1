//! An approximate graph for decoder architectures without a builder of their own: the shape
//! most of llama.cpp's `src/models/*.cpp` share (embeddings; per block a norm, Q/K/V from
//! separate or fused projections with optional biases and Q/K norms, RoPE, attention over the
//! full or sliding-window cache, the output projection, optional post-norms, residuals, a dense
//! or mixture-of-experts FFN; a final norm and the LM head), built from the tensors the file has.
//! Architectures differ in details that move ggml-alloc's peak a little (an extra scale, a
//! layer norm instead of an RMS norm, a parallel residual), so the result is an estimate:
//! `compute()` labels it so, and tests/oracle_archs.rs measures how close it comes per
//! architecture.

use super::Weights;
use super::graph::{Graph, Id};
use super::inputs;
use super::llm::{self, Batch};
use super::moe;
use super::transformer;
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when the model is not of this shape.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| !matches!(l.kind, LayerKind::Attention | LayerKind::Sliding) || !l.kv_cache || l.recurrent.is_some()) {
        return None;
    }
    let caches = inputs::Caches::new(g, b, &layers);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight").unwrap_or(inp_l);
        let (inp, bl) = caches.layer(l.kind)?;
        let mut cur = if w.has_blk(il, "attn_qkv.weight") {
            fused_attn(g, w, bl, inp, l, cur, pos)?
        } else {
            transformer::self_attn(g, w, bl, inp, l, cur, Some(pos), false)?
        };
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_l = g.get_rows(inp_l, out_ids);
        }
        let cur = llm::blk_norm(g, w, il, cur, "post_attention_norm.weight").unwrap_or(cur);
        let sa_out = g.binary(cur, inp_l);
        let cur = llm::blk_norm(g, w, il, sa_out, "ffn_norm.weight").unwrap_or(sa_out);
        let cur =
            if w.has_blk(il, "ffn_gate_inp.weight") { moe::moe_ffn_shared(g, w, il, cur, l.n_experts_used, moe::SOFTMAX_NORM)? } else { ffn(g, w, il, cur)? };
        let cur = llm::blk_norm(g, w, il, cur, "post_ffw_norm.weight").unwrap_or(cur);
        inp_l = g.binary(cur, sa_out);
    }
    let h = match w.get(g, "output_norm.weight") {
        Some(wn) => llm::rms_norm(g, inp_l, wn),
        None => inp_l,
    };
    llm::lm_head(g, w, h, tok, &[]);
    Some(())
}

/// `build_qkv` with one fused projection (`attn_qkv`): one mul_mat, then Q, K, V as views.
fn fused_attn(g: &mut Graph, w: &Weights, b: &Batch, inp: &inputs::Inputs, l: &crate::model::LayerGeometry, x: Id, pos: Id) -> Option<Id> {
    let il = l.index;
    let wqkv = w.blk(g, il, "attn_qkv.weight")?;
    let mut qkv = g.mul_mat(wqkv, x);
    if let Some(bias) = w.blk(g, il, "attn_qkv.bias") {
        qkv = g.binary(qkv, bias);
    }
    let nt = g.ne(qkv)[1];
    let (hd, hv) = (l.head_dim_k, l.head_dim_v);
    let row = g.ne(qkv)[0].saturating_mul(4);
    let all = row.saturating_mul(nt);
    let q = g.view_nd(qkv, [hd, l.n_head, nt, 1], hd.saturating_mul(4), row, all);
    let k = g.view_nd(qkv, [hd, l.n_head_kv, nt, 1], hd.saturating_mul(4), row, all);
    let v = g.view_nd(qkv, [hv, l.n_head_kv, nt, 1], hv.saturating_mul(4), row, all);
    let q = g.rope(q, pos);
    let k = g.rope(k, pos);
    let kv = llm::KvLayer::new(g, b, hd, hv, l.n_head_kv);
    let cur = llm::attn_kv(g, b, inp, &kv, q, k, v);
    let wo = w.blk(g, il, "attn_output.weight")?;
    let cur = g.mul_mat(wo, cur);
    Some(match w.blk(g, il, "attn_output.bias") {
        Some(bias) => g.binary(cur, bias),
        None => cur,
    })
}

/// A dense FFN: gated (SwiGLU-like) when the block has `ffn_gate`, else up, activation, down.
fn ffn(g: &mut Graph, w: &Weights, il: u32, x: Id) -> Option<Id> {
    if w.has_blk(il, "ffn_gate.weight") {
        return llm::ffn(g, w, il, x);
    }
    let up = w.blk(g, il, "ffn_up.weight")?;
    let down = w.blk(g, il, "ffn_down.weight")?;
    let mut cur = g.mul_mat(up, x);
    if let Some(b) = w.blk(g, il, "ffn_up.bias") {
        cur = g.binary(cur, b);
    }
    let cur = g.unary(cur);
    let mut cur = g.mul_mat(down, cur);
    if let Some(b) = w.blk(g, il, "ffn_down.bias") {
        cur = g.binary(cur, b);
    }
    Some(cur)
}
