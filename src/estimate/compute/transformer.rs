//! Graph of the plain decoder-only transformers (src/models/llama.cpp, qwen2.cpp, qwen3.cpp,
//! qwen3moe.cpp at 0c1e570; mixtral is `llama` with experts): RMS norm, Q/K/V projections
//! (`build_qkv`, optional biases, optional Q/K norms), RoPE, attention over the KV cache,
//! output projection, the last layer cut to the output rows, SwiGLU FFN or softmax-gated MoE.

use super::Weights;
use super::graph::{Graph, Id};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch, KvLayer};
use super::moe::{self, Routing};
use crate::model::{Geometry, LayerGeometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| l.kind != LayerKind::Attention) {
        return None;
    }
    let inp = inputs::inp_layers(g, b, &layers, false);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    for (i, l) in layers.iter().enumerate() {
        let cur = llm::blk_norm(g, w, l.index, inp_l, "attn_norm.weight")?;
        let cur = self_attn(g, w, b, &inp, l, cur, Some(pos), false)?;
        let last = (i + 1 == layers.len()).then_some(out_ids);
        inp_l = ffn_block(g, w, l.index, cur, inp_l, last, l.n_experts_used, moe::SOFTMAX_NORM)?;
    }
    finish(g, w, inp_l, tok)
}

/// A block's self-attention after its norm: `build_qkv`, the optional Q/K norms, RoPE (unless
/// `pos` is `None`: Granite's NoPE), Q scaled when `scale_q` (Gemma), `build_attn` over the
/// layer's KV cache, `wo` and its optional bias.
#[allow(clippy::too_many_arguments)] // the C++ builder's state
pub fn self_attn(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, l: &LayerGeometry, x: Id, pos: Option<Id>, scale_q: bool) -> Option<Id> {
    let il = l.index;
    let (q, k, v) = qkv(g, w, il, x, l.head_dim_k, l.n_head, l.n_head_kv)?;
    let mut q = llm::blk_norm(g, w, il, q, "attn_q_norm.weight").unwrap_or(q);
    let mut k = llm::blk_norm(g, w, il, k, "attn_k_norm.weight").unwrap_or(k);
    if let Some(pos) = pos {
        q = g.rope(q, pos);
        k = g.rope(k, pos);
    }
    if scale_q {
        q = g.unary(q);
    }
    let mut kv = KvLayer::new(g, b, l.head_dim_k, l.head_dim_v, l.n_head_kv);
    if g.track {
        kv.sinks = w.blk(g, il, "attn_sinks.weight").unwrap_or(super::graph::NONE);
    }
    attn_out(g, w, b, inp, &kv, il, [q, k, v])
}

/// After a block's token mixing: on the last block keep only the output rows (`inp_out_ids`),
/// add the residual, then `ffn_norm`, the dense FFN or the MoE, and the second residual.
#[allow(clippy::too_many_arguments)] // the C++ layer loop's state
pub fn ffn_block(g: &mut Graph, w: &Weights, il: u32, cur: Id, inp_sa: Id, out_ids: Option<Id>, n_used: u64, r: Routing) -> Option<Id> {
    let (cur, inp_sa) = match out_ids {
        Some(ids) => (g.get_rows(cur, ids), g.get_rows(inp_sa, ids)),
        None => (cur, inp_sa),
    };
    let ffn_inp = g.binary(cur, inp_sa);
    let cur = llm::blk_norm(g, w, il, ffn_inp, "ffn_norm.weight")?;
    let cur = if w.has_blk(il, "ffn_gate_inp.weight") { moe::moe_ffn_shared(g, w, il, cur, n_used, r)? } else { llm::ffn(g, w, il, cur)? };
    Some(g.binary(cur, ffn_inp))
}

/// `output_norm` (`result_norm`, an output) then the LM head.
pub fn finish(g: &mut Graph, w: &Weights, inp_l: Id, tok: Id) -> Option<()> {
    let w_output_norm = w.get(g, "output_norm.weight")?;
    let h = llm::rms_norm(g, inp_l, w_output_norm);
    llm::lm_head(g, w, h, tok, &[]);
    Some(())
}

/// `build_qkv` (llama-graph.cpp:1647) for a layer: its fused projection (`attn_qkv`, plus bias)
/// viewed as Q, K and V, else the three separate projections of [`qkv`].
pub fn layer_qkv(g: &mut Graph, w: &Weights, l: &crate::model::LayerGeometry, x: Id) -> Option<(Id, Id, Id)> {
    let il = l.index;
    let (hd, hv) = (l.head_dim_k, l.head_dim_v);
    if !w.has_blk(il, "attn_qkv.weight") {
        return qkv(g, w, il, x, hd, l.n_head, l.n_head_kv);
    }
    let wqkv = w.blk(g, il, "attn_qkv.weight")?;
    let mut qkv = g.mul_mat(wqkv, x);
    if let Some(bias) = w.blk(g, il, "attn_qkv.bias") {
        qkv = g.binary(qkv, bias);
    }
    let nt = g.ne(qkv)[1];
    let row = g.ne(qkv)[0].saturating_mul(4);
    let all = row.saturating_mul(nt);
    let q = g.view_nd(qkv, [hd, l.n_head, nt, 1], hd.saturating_mul(4), row, all);
    let k = g.view_nd(qkv, [hd, l.n_head_kv, nt, 1], hd.saturating_mul(4), row, all);
    let v = g.view_nd(qkv, [hv, l.n_head_kv, nt, 1], hv.saturating_mul(4), row, all);
    Some((q, k, v))
}

/// `build_qkv` (llama-graph.cpp:1647), separate projections: mul_mat, optional bias add,
/// reshape to [head_dim, heads, n_tokens].
pub fn qkv(g: &mut Graph, w: &Weights, il: u32, cur: Id, hd: u64, n_head: u64, n_head_kv: u64) -> Option<(Id, Id, Id)> {
    let mut proj = |name: &'static str, bias: &'static str, heads: u64| -> Option<Id> {
        let wt = w.blk(g, il, name)?;
        let mut x = g.mul_mat(wt, cur);
        if let Some(b) = w.blk(g, il, bias) {
            x = g.binary(x, b);
        }
        let nt = g.ne(x)[1];
        Some(g.reshape(x, [hd, heads, nt, 1]))
    };
    let q = proj("attn_q.weight", "attn_q.bias", n_head)?;
    let k = proj("attn_k.weight", "attn_k.bias", n_head_kv)?;
    let v = proj("attn_v.weight", "attn_v.bias", n_head_kv)?;
    Some((q, k, v))
}

/// `build_attn` over the KV cache followed by `wo` and its optional bias (llama-graph.cpp:2868).
fn attn_out(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, kv: &KvLayer, il: u32, qkv: [Id; 3]) -> Option<Id> {
    let [q, k, v] = qkv;
    let cur = llm::attn_kv(g, b, inp, kv, q, k, v);
    let wo = w.blk(g, il, "attn_output.weight")?;
    let cur = g.mul_mat(wo, cur);
    Some(match w.blk(g, il, "attn_output.bias") {
        Some(bias) => g.binary(cur, bias),
        None => cur,
    })
}
