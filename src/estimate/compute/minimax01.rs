//! MiniMax-01 (src/models/minimax-01.cpp at 0c1e570): lightning-attention layers (a linear
//! attention over per-head decayed Q/K with the state carried in the recurrent cache) and
//! softmax-attention layers with RoPE, each followed by a softmax-gated MoE; both residuals
//! start from the *normed* input and are scaled.

use super::graph::{Graph, Id, Ty};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch};
use super::moe::{self, Routing};
use super::{Weights, transformer};
use crate::model::{Geometry, LayerGeometry, LayerKind};

/// The lightning-attention inputs (`llm_graph_input_la`): slopes and the decay exponents.
struct La {
    slopes: Id,
    q_decay: Id,
    k_decay: Id,
    diag_decay: Id,
}

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let inp = inputs::inp_layers(g, b, &layers, true);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let (nst, ns) = (b.n_seq_tokens, b.n_seqs);
    let n_head = layers.iter().map(|l| l.n_head).max()?;
    let la = La {
        slopes: g.input(Ty::F32, [n_head, 1, 1, 1]),
        q_decay: g.input(Ty::F32, [1, n_head, nst, ns]),
        k_decay: g.input(Ty::F32, [1, n_head, nst, ns]),
        diag_decay: g.input(Ty::F32, [nst, nst, n_head, ns]),
    };
    let routing = Routing { scale: geo.hints.expert_weights_scaled, ..moe::SOFTMAX_NORM };
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let mut residual = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let mut cur = match l.kind {
            LayerKind::Attention => transformer::self_attn(g, w, b, &inp, l, residual, Some(pos), false)?,
            LayerKind::Recurrent => lightning(g, w, b, &inp, &la, l, residual, n_head)?,
            _ => return None,
        };
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            residual = g.get_rows(residual, out_ids);
        }
        let residual = g.unary(residual); // scale
        let ffn_inp = g.binary(cur, residual);
        let normed = llm::blk_norm(g, w, il, ffn_inp, "ffn_norm.weight")?;
        let cur = moe::moe_ffn(g, w, il, normed, l.n_experts_used, routing)?;
        let residual = g.unary(normed); // scale
        inp_l = g.binary(cur, residual);
    }
    transformer::finish(g, w, inp_l, tok)
}

/// The lightning-attention layer on the normed input `x` [n_embd, n_tokens].
#[allow(clippy::too_many_arguments)] // the C++ builder's state
fn lightning(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, la: &La, l: &LayerGeometry, x: Id, n_head: u64) -> Option<Id> {
    let il = l.index;
    let (nst, ns) = (b.n_seq_tokens, b.n_seqs);
    let hd = l.head_dim_k;
    let st = l.recurrent?;
    let conv_all = g.external(Ty::F32, [st.conv_elements, b.n_rs, 1, 1]);
    let conv = llm::build_rs(g, inp, b, conv_all, st.conv_elements);
    g.expand(conv);
    let slope_rate = g.unary(la.slopes); // scale
    let n_embd = g.ne(x)[0];
    let cur = g.reshape(x, [n_embd, nst, 1, ns]);
    let wqkv = w.blk(g, il, "attn_qkv.weight")?;
    let qkv = g.mul_mat(wqkv, cur);
    let qkv = g.unary(qkv); // silu
    let qkv = g.reshape(qkv, [hd.saturating_mul(3), n_head, nst, ns]);
    let qn = g.t[qkv as usize].nb;
    let mut head = || g.view_nd(qkv, [hd, n_head, nst, ns], qn[1], qn[2], qn[3]);
    let (q, k, v) = (head(), head(), head());
    let s_all = g.external(Ty::F32, [st.state_elements, b.n_rs, 1, 1]);
    let state = llm::build_rs(g, inp, b, s_all, st.state_elements);
    let kv_old = g.reshape(state, [hd, hd, n_head, ns]);
    let mut decay = |d: Id| {
        let s = g.unary(d); // scale
        g.unary(s) // exp
    };
    let (q_decay, k_decay, diag_decay) = (decay(la.q_decay), decay(la.k_decay), decay(la.diag_decay));
    let q_s = g.binary(q, q_decay);
    let q_s_t = g.permute_0213(q_s);
    let none_diag = g.mul_mat(kv_old, q_s_t);
    let q_t = g.permute_0213(q);
    let k_t = g.permute_0213(k);
    let qk = g.mul_mat(k_t, q_t);
    let qk = g.binary(qk, diag_decay);
    let to_rows = |g: &mut Graph, t: Id| {
        let p = g.permute(t, [1, 2, 0, 3]);
        g.cont(p, g.ne(p))
    };
    let v_t = to_rows(g, v);
    let diag = g.mul_mat(v_t, qk);
    let out = g.binary(none_diag, diag);
    g.expand(out);
    let slopes_neg = g.unary(slope_rate); // scale
    let block_decay = g.unary(slopes_neg); // exp
    let block_decay = g.reshape(block_decay, [1, 1, n_head, 1]);
    let kv_old_s = g.binary(kv_old, block_decay);
    let k_ad = g.binary(k, k_decay);
    let k_ad_t = to_rows(g, k_ad);
    let kv_cur = g.mul_mat(k_ad_t, v_t);
    let kv_new = g.binary(kv_old_s, kv_cur);
    let dst = g.view_1d(s_all, st.state_elements.saturating_mul(ns));
    let c = g.cpy(kv_new, dst);
    g.expand(c);
    let out = g.permute_0213(out);
    let out = g.cont(out, g.ne(out));
    let on = g.ne(out);
    let out = g.reshape(out, [on[0].saturating_mul(on[1]), on[2], 1, on[3]]);
    let normed = llm::blk_norm(g, w, il, out, "attn_norm_2.weight")?;
    let wg = w.blk(g, il, "attn_gate.weight")?;
    let gate = g.mul_mat(wg, cur);
    let gate = g.unary(gate); // sigmoid
    let cur = g.binary(gate, normed);
    let wo = w.blk(g, il, "attn_output.weight")?;
    let cur = g.mul_mat(wo, cur);
    Some(g.reshape(cur, [g.ne(cur)[0], nst.saturating_mul(ns), 1, 1]))
}
