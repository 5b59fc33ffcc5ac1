//! The part of a Gated DeltaNet layer Qwen3.5 and Qwen3-Next share (src/models/qwen35.cpp,
//! qwen3next.cpp `build_layer_attn_linear` after the input projections, with
//! delta-net-base.cpp `build_conv_state`, `build_recurrent_attn` and the fused
//! `build_delta_net_fused`, :373-606): conv state gather + concat, ssm_conv, silu, l2-normed
//! q/k views, `ggml_gated_delta_net` (K = 1 snapshot), gated norm, output projection.

use super::Weights;
use super::graph::{Graph, Id, Ty};
use super::inputs::Inputs;
use super::llm::{self, Batch};

/// Layer sizes read off the tensor shapes.
pub struct Dims {
    /// Value heads (`ssm_dt_rank`, ssm_a's length).
    pub n_v_heads: u64,
    /// Value head size (ssm_norm's length; the key head size is the same, `ssm_d_state`).
    pub head_v: u64,
    /// Key heads (`ssm_n_group`).
    pub n_k_heads: u64,
    /// Convolution kernel width.
    pub conv_k: u64,
    /// Convolution channels (q, k and v).
    pub channels: u64,
}

impl Dims {
    /// Reads block `il`'s sizes; `None` if a tensor is missing.
    pub fn new(w: &Weights, il: u32) -> Option<Self> {
        let n_v_heads = w.dim(il, "ssm_a", 0)?;
        let head_v = w.dim(il, "ssm_norm.weight", 0)?;
        let conv_k = w.dim(il, "ssm_conv1d.weight", 0)?;
        let channels = w.dim(il, "ssm_conv1d.weight", 1)?;
        let key_dim = channels.saturating_sub(head_v.saturating_mul(n_v_heads)) / 2;
        Some(Dims { n_v_heads, head_v, n_k_heads: key_dim / head_v, conv_k, channels })
    }
}

/// The projections both families start with, in their graph order: the fused q/k/v input
/// `[qkv, n_seq_tokens, n_seqs]` and the output gate `z` (qwen35.cpp / qwen3next.cpp
/// `build_layer_attn_linear`).
pub fn qkv_and_gate(g: &mut Graph, w: &Weights, b: &Batch, il: u32, cur: Id) -> Option<(Id, Id)> {
    let w_qkv = w.blk(g, il, "attn_qkv.weight")?;
    let qkv = g.mul_mat(w_qkv, cur);
    let width = g.ne(qkv)[0];
    let qkv = g.reshape(qkv, [width, b.n_seq_tokens, b.n_seqs, 1]);
    let w_gate = w.blk(g, il, "attn_gate.weight")?;
    Some((qkv, g.mul_mat(w_gate, cur)))
}

/// From the projections `[qkv (reshaped to [conv_dim, nst, ns]), z, beta, gate]` to the
/// layer output [n_embd, n_tokens]. `repeat`: Qwen3-Next repeats q/k heads up to the value
/// heads when they differ (ggml_repeat_4d), even with the fused op. `cont_tail`: the new conv
/// state is made contiguous before it is copied back (Qwen4-exp's `build_conv_state_at`).
#[allow(clippy::too_many_arguments)] // mirrors the C++ signature chain
pub fn tail(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, d: &Dims, p: [Id; 4], repeat: bool, cont_tail: bool) -> Option<Id> {
    let [qkv, z, beta, gate] = p;
    let (nst, ns) = (b.n_seq_tokens, b.n_seqs);
    let (n_v_heads, head_v, head_k, n_k_heads, conv_k, channels) = (d.n_v_heads, d.head_v, d.head_v, d.n_k_heads, d.conv_k, d.channels);
    let d_inner = head_v.saturating_mul(n_v_heads);
    let n_embd_r = conv_k.saturating_sub(1).saturating_mul(channels);
    let n_embd_s = head_v.saturating_mul(head_v).saturating_mul(n_v_heads);
    let conv_all = g.external(Ty::F32, [n_embd_r, b.n_rs, 1, 1]);
    let ssm_all = g.external(Ty::F32, [n_embd_s, b.n_rs, 1, 1]);
    // build_conv_state
    let conv_states = llm::build_rs(g, inp, b, conv_all, n_embd_r);
    let conv_states = g.reshape(conv_states, [conv_k.saturating_sub(1), channels, ns, 1]);
    let qkv_t = g.transpose(qkv);
    let conv_input = g.concat(conv_states, qkv_t, 0);
    let ci = g.t[conv_input as usize].clone();
    let last = g.view_nd(conv_input, [conv_k.saturating_sub(1), channels, ns, 1], ci.nb[1], ci.nb[2], ci.nb[3]);
    let last = if cont_tail { g.cont(last, g.ne(last)) } else { last };
    let upd = g.view_nd(conv_all, [n_embd_r, ns, 1, 1], n_embd_r.saturating_mul(4), 0, 0);
    let c = g.cpy(last, upd);
    g.expand(c);
    let state = llm::build_rs(g, inp, b, ssm_all, n_embd_s);
    let state = g.reshape(state, [head_v, head_v, n_v_heads, ns]);
    let w_ssm_conv1d = w.blk(g, il, "ssm_conv1d.weight")?;
    let conv_out = g.ssm_conv(conv_input, w_ssm_conv1d);
    let conv_out = g.unary(conv_out);
    let nb1 = channels.saturating_mul(4);
    let (nb2, nb3) = (nb1.saturating_mul(nst), nb1.saturating_mul(nst).saturating_mul(ns));
    let q = g.view_nd(conv_out, [head_k, n_k_heads, nst, ns], nb1, nb2, nb3);
    let k = g.view_nd(conv_out, [head_k, n_k_heads, nst, ns], nb1, nb2, nb3);
    let v = g.view_nd(conv_out, [head_v, n_v_heads, nst, ns], nb1, nb2, nb3);
    let q = g.unary(q); // build_gdn_l2_norm: rms_norm then scale
    let q = g.unary(q);
    let k = g.unary(k);
    let k = g.unary(k);
    let (q, k) = if repeat && n_k_heads != n_v_heads {
        let rf = n_v_heads / n_k_heads.max(1);
        let mut rep = |x: Id| {
            let x = g.reshape(x, [head_k, 1, n_k_heads, nst.saturating_mul(ns)]);
            let x = g.repeat(x, [head_k, rf, n_k_heads, nst.saturating_mul(ns)]);
            g.reshape(x, [head_k, n_k_heads.saturating_mul(rf), nst, ns])
        };
        (rep(q), rep(k))
    } else {
        (q, k)
    };
    let result = g.gated_delta_net([q, k, v, gate, beta, state], 1);
    let output = g.view_nd(
        result,
        [head_v, n_v_heads, nst, ns],
        head_v * 4,
        head_v.saturating_mul(n_v_heads) * 4,
        head_v.saturating_mul(n_v_heads).saturating_mul(nst) * 4,
    );
    let new_state = g.view_nd(result, [head_v, head_v, n_v_heads, ns], head_v * 4, head_v.saturating_mul(head_v) * 4, n_embd_s * 4);
    let dst = g.view_nd(ssm_all, [n_embd_s, ns, 1, 1], n_embd_s.saturating_mul(4), 0, 0);
    let c = g.cpy(new_state, dst);
    g.expand(c);
    let z = g.reshape(z, [head_v, n_v_heads, nst, ns]);
    let normed = llm::blk_norm(g, w, il, output, "ssm_norm.weight")?;
    let zs = g.unary(z);
    let gated = g.binary(normed, zs);
    let fin = g.reshape(gated, [d_inner, nst, ns, 1]);
    let w_ssm_out = w.blk(g, il, "ssm_out.weight")?;
    let out = g.mul_mat(w_ssm_out, fin);
    let n = g.ne(out)[0];
    Some(g.reshape(out, [n, nst.saturating_mul(ns), 1, 1]))
}
