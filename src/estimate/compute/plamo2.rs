//! PLaMo-2 (src/models/plamo2.cpp at 0c1e570): its own Mamba layer (in_proj regrouped by
//! head, dt/B/C RMS-normed, one B/C group) and fused-QKV attention with Q/K norms and RoPE;
//! post-mixer and post-FFN norms around a fused SwiGLU FFN.

use super::graph::{Graph, Id};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch, KvLayer};
use super::{Weights, mamba1, transformer};
use crate::model::{Geometry, LayerGeometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let inp = inputs::inp_layers(g, b, &layers, true);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let mut residual = inp_l;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let mut cur = match l.kind {
            LayerKind::Recurrent => mamba(g, w, b, &inp, il, cur)?,
            LayerKind::Attention => attn(g, w, b, &inp, l, cur, pos)?,
            _ => return None,
        };
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            residual = g.get_rows(residual, out_ids);
        }
        let cur = llm::blk_norm(g, w, il, cur, "post_attention_norm")?;
        let residual = g.binary(cur, residual);
        let cur = llm::blk_norm(g, w, il, residual, "ffn_norm.weight")?;
        let up = w.blk(g, il, "ffn_up.weight")?;
        let cur = g.mul_mat(up, cur);
        let cur = g.glu(cur);
        let down = w.blk(g, il, "ffn_down.weight")?;
        let cur = g.mul_mat(down, cur);
        let cur = llm::blk_norm(g, w, il, cur, "post_ffw_norm")?;
        inp_l = g.binary(cur, residual);
    }
    transformer::finish(g, w, inp_l, tok)
}

/// `build_plamo2_attn_layer`: fused QKV viewed per head, Q/K norms, RoPE, attention, `wo`.
fn attn(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, l: &LayerGeometry, x: Id, pos: Id) -> Option<Id> {
    let il = l.index;
    let wqkv = w.blk(g, il, "attn_qkv.weight")?;
    let qkv = g.mul_mat(wqkv, x);
    let nt = g.ne(qkv)[1];
    let (hd, hv) = (l.head_dim_k, l.head_dim_v);
    let row = g.t[qkv as usize].nb[1];
    let all = row.saturating_mul(nt);
    let q = g.view_nd(qkv, [hd, l.n_head, nt, 1], hd.saturating_mul(4), row, all);
    let k = g.view_nd(qkv, [hd, l.n_head_kv, nt, 1], hd.saturating_mul(4), row, all);
    let v = g.view_nd(qkv, [hv, l.n_head_kv, nt, 1], hv.saturating_mul(4), row, all);
    let q = llm::blk_norm(g, w, il, q, "attn_q_norm.weight")?;
    let q = g.rope(q, pos);
    let k = llm::blk_norm(g, w, il, k, "attn_k_norm.weight")?;
    let k = g.rope(k, pos);
    let kv = KvLayer::new(g, b, hd, hv, l.n_head_kv);
    let cur = llm::attn_kv(g, b, inp, &kv, q, k, v);
    let wo = w.blk(g, il, "attn_output.weight")?;
    Some(g.mul_mat(wo, cur))
}

/// `build_plamo2_mamba_layer` (K = 1 snapshot).
fn mamba(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id) -> Option<Id> {
    let (nst, ns) = (b.n_seq_tokens, b.n_seqs);
    let d_conv = w.dim(il, "ssm_conv1d.weight", 0)?;
    let d_inner = w.dim(il, "ssm_conv1d.weight", 1)?;
    let d_state = w.dim(il, "ssm_b_norm", 0)?;
    let dt_dim = w.dim(il, "ssm_dt_norm", 0)?;
    let n_heads = w.dim(il, "ssm_a", 0)?;
    let head_dim = d_inner / n_heads;
    let st = mamba1::States::new(g, b, inp, d_conv, d_inner, d_state);
    let (n_embd_r, n_embd_s, conv_all, ssm_all, conv) = (st.n_embd_r, st.n_embd_s, st.conv_all, st.ssm_all, st.conv);
    let n_embd = g.ne(cur)[0];
    let cur = g.reshape(cur, [n_embd, nst, ns, 1]);
    let w_in = w.blk(g, il, "ssm_in.weight")?;
    let zx = g.mul_mat(w_in, cur);
    let zx = g.permute_0213(zx);
    let zx = g.cont(zx, [head_dim.saturating_mul(2), n_heads, nst, ns]);
    let zn = g.t[zx as usize].nb;
    let x = g.view_nd(zx, [head_dim, n_heads, nst, ns], zn[1], zn[2], zn[3]);
    let x = g.cont(x, [d_inner, nst, ns, 1]);
    let z = g.view_nd(zx, [head_dim, n_heads, nst, ns], zn[1], zn[2], zn[3]);
    let x_t = g.transpose(x);
    let conv_x = g.concat(conv, x_t, 0);
    let cx = g.t[conv_x as usize].nb;
    let last = g.view_nd(conv_x, [d_conv.saturating_sub(1), d_inner, ns, 1], cx[1], cx[2], cx[3]);
    let dst = g.view_1d(conv_all, n_embd_r.saturating_mul(ns));
    let c = g.cpy(last, dst);
    g.expand(c);
    let w_conv = w.blk(g, il, "ssm_conv1d.weight")?;
    let x = g.ssm_conv(conv_x, w_conv);
    let x = g.unary(x);
    let w_x = w.blk(g, il, "ssm_x.weight")?;
    let x_bcdt = g.mul_mat(w_x, x);
    let xb = g.t[x_bcdt as usize].nb;
    let bm = g.view_nd(x_bcdt, [d_state, nst, ns, 1], xb[1], xb[2], xb[3]);
    let cm = g.view_nd(x_bcdt, [d_state, nst, ns, 1], xb[1], xb[2], xb[3]);
    let dt = g.view_nd(x_bcdt, [dt_dim, nst, ns, 1], xb[1], xb[2], xb[3]);
    let bm = llm::blk_norm(g, w, il, bm, "ssm_b_norm")?;
    let cm = llm::blk_norm(g, w, il, cm, "ssm_c_norm")?;
    let dt = llm::blk_norm(g, w, il, dt, "ssm_dt_norm")?;
    let w_dt = w.blk(g, il, "ssm_dt.weight")?;
    let dt = g.mul_mat(w_dt, dt);
    let w_dt_b = w.blk(g, il, "ssm_dt.bias")?;
    let dt = g.binary(dt, w_dt_b);
    let a = w.blk(g, il, "ssm_a")?;
    let a = g.reshape(a, [1, n_heads, 1, 1]);
    let hr = head_dim.saturating_mul(4);
    let x = g.view_nd(x, [head_dim, n_heads, nst, ns], hr, hr.saturating_mul(n_heads), hr.saturating_mul(n_heads).saturating_mul(nst));
    let as4 = |g: &mut Graph, t: Id| {
        let tn = g.t[t as usize].nb;
        g.view(t, [d_state, 1, nst, ns], [4, d_state.saturating_mul(4), tn[1], tn[2]], &[t])
    };
    let (bm, cm) = (as4(g, bm), as4(g, cm));
    let y_ssm = llm::build_rs_with(g, inp, b, ssm_all, n_embd_s, |g, states, ids| {
        let slots = g.ne(states)[1];
        let ssm = g.reshape(states, [d_state, head_dim, n_heads, slots]);
        g.ssm_scan([ssm, x, dt, a, bm, cm, ids], 1)
    });
    let n = n_embd_s.saturating_mul(ns);
    let new_state = g.view_1d(y_ssm, n);
    let dst = g.view_1d(ssm_all, n);
    let c = g.cpy(new_state, dst);
    g.expand(c);
    let y = g.view_nd(y_ssm, [head_dim, n_heads, nst, ns], hr, hr.saturating_mul(n_heads), hr.saturating_mul(n_heads).saturating_mul(nst));
    let d = w.blk(g, il, "ssm_d")?;
    let d = g.reshape(d, [1, n_heads, 1, 1]);
    let xd = g.binary(x, d);
    let y = g.binary(y, xd);
    let z = g.cont(z, [head_dim, n_heads, nst, ns]);
    let y = g.glu_split(z, y);
    let yn = g.t[y as usize].nb;
    let y = g.view_nd(y, [d_inner, nst, ns, 1], yn[2], yn[3], yn[3].saturating_mul(ns));
    let w_out = w.blk(g, il, "ssm_out.weight")?;
    let out = g.mul_mat(w_out, y);
    Some(g.reshape(out, [n_embd, nst.saturating_mul(ns), 1, 1]))
}
