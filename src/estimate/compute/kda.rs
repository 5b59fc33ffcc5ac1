//! Kimi Delta Attention, the linear-attention layer of Kimi-Linear and Ling/Bailing-MoE 3
//! (src/models/kimi-linear.cpp `causal_conv1d` and its KDA branch, bailingmoe3.cpp
//! `bailingmoe3_causal_conv1d`, delta-net-base.cpp `build_delta_net_fused` at 0c1e570): Q, K
//! and V each through a short causal convolution whose three states share one cache row,
//! l2-normed Q/K, `ggml_gated_delta_net` with a per-channel gate, a gated RMS norm, `wo`.

use super::Weights;
use super::graph::{Graph, Id, Ty};
use super::inputs::Inputs;
use super::llm::{self, Batch};

/// Sizes of one KDA layer, read off its tensors.
#[derive(Clone, Copy)]
pub struct Dims {
    /// Convolution kernel width.
    pub d_conv: u64,
    /// Heads (`ssm_beta`'s output width).
    pub n_head: u64,
    /// Head size (`n_embd_head_kda`).
    pub head_dim: u64,
}

impl Dims {
    /// Block `il`'s sizes; `None` if a tensor is missing.
    pub fn new(w: &Weights, il: u32) -> Option<Self> {
        let d_conv = w.dim(il, "ssm_conv1d_q.weight", 0)?;
        let d_inner = w.dim(il, "ssm_conv1d_q.weight", 2)?;
        let n_head = w.dim(il, "ssm_beta.weight", 1)?;
        Some(Dims { d_conv, n_head, head_dim: d_inner / n_head })
    }

    fn d_inner(&self) -> u64 {
        self.head_dim.saturating_mul(self.n_head)
    }
}

/// The gathered conv states, then Q, K, V through their convolutions, each
/// [head_dim, n_head, n_seq_tokens, n_seqs]. `x`: the inputs of the three convolutions
/// ([n_embd, n_tokens]) and their projections ([`super::graph::NONE`] when already projected).
pub fn conv_qkv(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, d: Dims, x: [(Id, Id); 3]) -> Option<[Id; 3]> {
    let n_embd_r = d.d_conv.saturating_sub(1).saturating_mul(d.d_inner()).saturating_mul(3);
    let conv_all = g.external(Ty::F32, [n_embd_r, b.n_rs, 1, 1]);
    let conv_state = llm::build_rs(g, inp, b, conv_all, n_embd_r);
    let mut out = [0; 3];
    let names = ["ssm_conv1d_q.weight", "ssm_conv1d_k.weight", "ssm_conv1d_v.weight"];
    for ((o, (xi, proj)), name) in out.iter_mut().zip(x).zip(names) {
        *o = conv(g, w, b, il, d, conv_state, conv_all, xi, proj, name)?;
    }
    Some(out)
}

#[allow(clippy::too_many_arguments)] // the C++ helper's signature
fn conv(g: &mut Graph, w: &Weights, b: &Batch, il: u32, d: Dims, state: Id, all: Id, x: Id, proj: Id, name: &'static str) -> Option<Id> {
    let (nst, ns, di, dc) = (b.n_seq_tokens, b.n_seqs, d.d_inner(), d.d_conv.saturating_sub(1));
    let row = g.ne(state)[0].saturating_mul(4);
    let state_x = g.view_nd(state, [dc, di, ns, 1], dc.saturating_mul(4), row, row.saturating_mul(ns));
    let x = if proj == super::graph::NONE { x } else { g.mul_mat(proj, x) };
    let x3 = g.reshape(x, [di, nst, ns, 1]);
    let xt = g.transpose(x3);
    let conv_x = g.concat(state_x, xt, 0);
    let cn = g.t[conv_x as usize].nb;
    let last = g.view_nd(conv_x, [dc, di, ns, 1], cn[1], cn[2], cn[3]);
    let dst = g.view_nd(all, [dc, di, ns, 1], dc.saturating_mul(4), row, row.saturating_mul(ns));
    let c = g.cpy(last, dst);
    g.expand(c);
    let kernel = w.blk(g, il, name)?;
    let kernel = g.reshape(kernel, [d.d_conv, di, 1, 1]);
    let y = g.ssm_conv(conv_x, kernel);
    let y = g.reshape(y, [di, b.n_tokens, 1, 1]);
    let y = g.unary(y); // silu
    Some(g.reshape(y, [d.head_dim, d.n_head, nst, ns]))
}

/// The recurrence: the gathered state, l2-normed Q/K, the fused gated delta net with `gate`
/// [head_dim, n_head, n_seq_tokens, n_seqs] and `beta` [1, n_head, ...], the new state copied
/// back; returns the output made contiguous, [head_dim, n_head, n_seq_tokens, n_seqs].
#[allow(clippy::too_many_arguments)] // the C++ builder's state
pub fn recurrence(g: &mut Graph, b: &Batch, inp: &Inputs, d: Dims, qkv: [Id; 3], gate: Id, beta: Id) -> Id {
    let [q, k, v] = qkv;
    let (hd, nh, ns) = (d.head_dim, d.n_head, b.n_seqs);
    let n_embd_s = hd.saturating_mul(hd).saturating_mul(nh);
    let s_all = g.external(Ty::F32, [n_embd_s, b.n_rs, 1, 1]);
    let state = llm::build_rs(g, inp, b, s_all, n_embd_s);
    let state = g.reshape(state, [hd, hd, nh, ns]);
    let mut l2 = |x: Id| {
        let n = g.unary(x); // rms_norm
        g.unary(n) // scale
    };
    let (q, k) = (l2(q), l2(k));
    let result = g.gated_delta_net([q, k, v, gate, beta, state], 1);
    let r = hd.saturating_mul(4);
    let nst = b.n_seq_tokens;
    let output = g.view_nd(result, [hd, nh, nst, ns], r, r.saturating_mul(nh), r.saturating_mul(nh).saturating_mul(nst));
    let new_state = g.view_nd(result, [hd, hd, nh, ns], r, r.saturating_mul(hd), n_embd_s.saturating_mul(4));
    let dst = g.view_nd(s_all, [n_embd_s, ns, 1, 1], n_embd_s.saturating_mul(4), 0, 0);
    let c = g.cpy(new_state, dst);
    let out = g.cont(output, [hd, nh, nst, ns]);
    g.expand(c);
    out
}

/// The output: `out` RMS-normed per head (`o_norm`), times sigmoid(`out_gate`), made
/// contiguous, through `wo`.
pub fn output(g: &mut Graph, w: &Weights, il: u32, d: Dims, out: Id, out_gate: Id, o_norm: &'static str) -> Option<Id> {
    let nt = g.ne(out_gate)[1];
    let gate = g.reshape(out_gate, [d.head_dim, d.n_head, nt, 1]);
    let out = g.reshape(out, [d.head_dim, d.n_head, nt, 1]);
    let normed = llm::blk_norm(g, w, il, out, o_norm)?;
    let gate = g.unary(gate); // sigmoid
    let gated = g.binary(normed, gate);
    let gated = g.cont(gated, [d.d_inner(), nt, 1, 1]);
    let wo = w.blk(g, il, "attn_output.weight")?;
    Some(g.mul_mat(wo, gated))
}
