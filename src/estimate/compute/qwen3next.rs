//! Where Qwen3-Next's graph (src/models/qwen3next.cpp at 0c1e570) differs from Qwen3.5's:
//! plain RoPE, the attention gate made contiguous only after attention, beta and alpha from one
//! `ssm_ba` projection, and q/k heads repeated up to the value heads before the delta net.

use super::Weights;
use super::delta_net::{self, Dims};
use super::graph::{Graph, Id};
use super::inputs::Inputs;
use super::llm::{self, Batch, KvLayer};

/// `build_layer_attn` (qwen3next.cpp).
pub fn full_attn(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id, pos: Id) -> Option<Id> {
    let hd = w.dim(il, "attn_q_norm.weight", 0)?;
    let w_q = w.blk(g, il, "attn_q.weight")?;
    let q_full = g.mul_mat(w_q, cur);
    let w_k = w.blk(g, il, "attn_k.weight")?;
    let k = g.mul_mat(w_k, cur);
    let w_v = w.blk(g, il, "attn_v.weight")?;
    let v = g.mul_mat(w_v, cur);
    let n_head = g.ne(q_full)[0] / hd.saturating_mul(2);
    let n_head_kv = g.ne(k)[0] / hd;
    let nt = b.n_tokens;
    let q_full = g.reshape(q_full, [hd.saturating_mul(2), n_head, nt, 1]);
    let nb = g.t[q_full as usize].nb;
    let q = g.view_nd(q_full, [hd, n_head, nt, 1], nb[1], nb[2], nb[3]);
    let gate = g.view_nd(q_full, [hd, n_head, nt, 1], nb[1], nb[2], nb[3]);
    let k = g.reshape(k, [hd, n_head_kv, nt, 1]);
    let v = g.reshape(v, [hd, n_head_kv, nt, 1]);
    let q = llm::blk_norm(g, w, il, q, "attn_q_norm.weight")?;
    let k = llm::blk_norm(g, w, il, k, "attn_k_norm.weight")?;
    let q = g.rope(q, pos);
    let k = g.rope(k, pos);
    let kv = KvLayer::new(g, b, hd, hd, n_head_kv);
    let cur = llm::attn_kv(g, b, inp, &kv, q, k, v);
    let gate = g.cont(gate, [hd.saturating_mul(n_head), nt, 1, 1]);
    let gate = g.unary(gate);
    let cur = g.binary(cur, gate);
    let w_o = w.blk(g, il, "attn_output.weight")?;
    Some(g.mul_mat(w_o, cur))
}

/// `build_layer_attn_linear` (qwen3next.cpp) with the fused-QKV projection (`attn_qkv`).
pub fn linear_attn(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id) -> Option<Id> {
    let (nst, ns) = (b.n_seq_tokens, b.n_seqs);
    let d = Dims::new(w, il)?;
    let (nv, nk) = (d.n_v_heads, d.n_k_heads.max(1));
    let (qkv, z) = delta_net::qkv_and_gate(g, w, b, il, cur)?;
    let w_ba = w.blk(g, il, "ssm_ba.weight")?;
    let ba = g.mul_mat(w_ba, cur);
    let per = nv / nk;
    let ba = g.reshape(ba, [per.saturating_mul(2), nk, nst, ns]);
    let nb = g.t[ba as usize].nb;
    let beta = g.view_nd(ba, [per, nk, nst, ns], nb[1], nb[2], nb[3]);
    let alpha = g.view_nd(ba, [per, nk, nst, ns], nb[1], nb[2], nb[3]);
    let beta = g.cont(beta, [per, nk, nst, ns]);
    let beta = g.unary(beta);
    let alpha = g.cont(alpha, [nv, nst, ns, 1]);
    let w_dt = w.blk(g, il, "ssm_dt.bias")?;
    let alpha = g.binary(alpha, w_dt);
    let alpha = g.unary(alpha);
    let w_a = w.blk(g, il, "ssm_a")?;
    let gate = g.binary(alpha, w_a);
    let beta = g.reshape(beta, [1, nv, nst, ns]);
    let gate = g.reshape(gate, [1, nv, nst, ns]);
    delta_net::tail(g, w, b, inp, il, &d, [qkv, z, beta, gate], true, false)
}
