//! Graph of Qwen3.5 / Qwen3.5-MoE (src/models/qwen35.cpp, qwen35moe.cpp at 0c1e570): Gated
//! DeltaNet layers (`build_layer_attn_linear`, fused `ggml_gated_delta_net` as the recorded
//! runs use: fused_gdn_ar/ch) and gated full-attention layers (`build_layer_attn`), each
//! followed by a post-attention norm and a dense or MoE FFN (`build_layer_ffn`).

use super::Weights;
use super::delta_net;
use super::graph::{Graph, Id, NONE};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch, KvLayer};
use super::moe;
use super::qwen3next;
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let pos_per_embd = if geo.architecture == "qwen3next" { 1 } else { 4 };
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let inp = inputs::inp_layers(g, b, &layers, true);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, pos_per_embd);
    for l in &layers {
        let il = l.index;
        let inp_sa = inp_l;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        g.expand(cur);
        let next = geo.architecture == "qwen3next";
        let cur = match l.kind {
            LayerKind::Recurrent if next => qwen3next::linear_attn(g, w, b, &inp, il, cur)?,
            LayerKind::Attention if next => qwen3next::full_attn(g, w, b, &inp, il, cur, pos)?,
            LayerKind::Recurrent => linear_attn(g, w, b, &inp, il, cur, false)?,
            LayerKind::Attention => full_attn(g, w, b, &inp, il, cur, pos, NONE)?,
            _ => return None,
        };
        let cur = g.binary(cur, inp_sa);
        let ffn_residual = cur;
        let cur = llm::blk_norm(g, w, il, cur, "post_attention_norm.weight")?;
        let cur = if w.has_blk(il, "ffn_gate_inp.weight") {
            moe::moe_ffn_shared(g, w, il, cur, l.n_experts_used, moe::SOFTMAX_NORM)?
        } else {
            llm::ffn(g, w, il, cur)?
        };
        inp_l = g.binary(cur, ffn_residual);
    }
    let w_output_norm = w.get(g, "output_norm.weight")?;
    let h = llm::rms_norm(g, inp_l, w_output_norm);
    let embd = g.get_rows(h, out_ids);
    llm::lm_head(g, w, embd, tok, &[h]);
    Some(())
}

/// `build_layer_attn` (qwen35.cpp): joint Q+gate projection, Q/K norms, RoPE, attention over
/// the KV cache, sigmoid gate, output projection. `mask`: the attention mask, or [`NONE`] for
/// the cache's own (Qwen4-exp's sparse layers pass theirs).
#[allow(clippy::too_many_arguments)] // the layer's inputs
pub fn full_attn(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id, pos: Id, mask: Id) -> Option<Id> {
    let hd = w.dim(il, "attn_q_norm.weight", 0)?;
    let w_attn_q = w.blk(g, il, "attn_q.weight")?;
    let q_full = g.mul_mat(w_attn_q, cur);
    let w_attn_k = w.blk(g, il, "attn_k.weight")?;
    let k = g.mul_mat(w_attn_k, cur);
    let w_attn_v = w.blk(g, il, "attn_v.weight")?;
    let v = g.mul_mat(w_attn_v, cur);
    let n_head = g.ne(q_full)[0] / hd.saturating_mul(2).max(1);
    let n_head_kv = g.ne(k)[0] / hd.max(1);
    let nt = b.n_tokens;
    let row = hd.saturating_mul(2).saturating_mul(4);
    let q = g.view_nd(q_full, [hd, n_head, nt, 1], row, row.saturating_mul(n_head), row.saturating_mul(n_head).saturating_mul(nt));
    let q = llm::blk_norm(g, w, il, q, "attn_q_norm.weight")?;
    let k = g.reshape(k, [hd, n_head_kv, nt, 1]);
    let k = llm::blk_norm(g, w, il, k, "attn_k_norm.weight")?;
    let gate = g.view_nd(q_full, [hd, n_head, nt, 1], row, row.saturating_mul(n_head), row.saturating_mul(n_head).saturating_mul(nt));
    let gate = g.cont(gate, [hd.saturating_mul(n_head), nt, 1, 1]);
    let v = g.reshape(v, [hd, n_head_kv, nt, 1]);
    let q = g.rope(q, pos);
    let k = g.rope(k, pos);
    let kv = KvLayer::new(g, b, hd, hd, n_head_kv);
    let inp = if mask == NONE { *inp } else { Inputs { kq_mask: mask, ..*inp } };
    let cur = llm::attn_kv(g, b, &inp, &kv, q, k, v);
    let gs = g.unary(gate);
    let cur = g.binary(cur, gs);
    let w_attn_output = w.blk(g, il, "attn_output.weight")?;
    Some(g.mul_mat(w_attn_output, cur))
}

/// `build_layer_attn_linear` (qwen35.cpp): projections, then the shared Gated DeltaNet
/// (`cont_tail`: see [`delta_net::tail`]).
pub fn linear_attn(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id, cont_tail: bool) -> Option<Id> {
    let (nst, ns) = (b.n_seq_tokens, b.n_seqs);
    let d = delta_net::Dims::new(w, il)?;
    let n_v_heads = d.n_v_heads;
    let (qkv, z) = delta_net::qkv_and_gate(g, w, b, il, cur)?;
    let w_ssm_beta = w.blk(g, il, "ssm_beta.weight")?;
    let beta = g.mul_mat(w_ssm_beta, cur);
    let beta = g.reshape(beta, [1, n_v_heads, nst, ns]);
    let beta = g.unary(beta);
    let w_ssm_alpha = w.blk(g, il, "ssm_alpha.weight")?;
    let alpha = g.mul_mat(w_ssm_alpha, cur);
    let alpha = g.reshape(alpha, [n_v_heads, nst, ns, 1]);
    let w_ssm_dt_bias = w.blk(g, il, "ssm_dt.bias")?;
    let alpha = g.binary(alpha, w_ssm_dt_bias);
    let alpha = g.unary(alpha);
    let w_ssm_a = w.blk(g, il, "ssm_a")?;
    let gate = g.binary(alpha, w_ssm_a);
    let gate = g.reshape(gate, [1, n_v_heads, nst, ns]);
    delta_net::tail(g, w, b, inp, il, &d, [qkv, z, beta, gate], false, cont_tail)
}
