//! Mamba-2 (src/models/mamba.cpp with mamba-base.cpp `build_mamba2_layer` at 0c1e570): the
//! layer Granite-4.0-H shares (granite_hybrid.rs), and the pure Mamba model loop, which runs
//! Mamba-1 layers (mamba1.rs) for `mamba`.

use super::Weights;
use super::graph::{Graph, Id, Ty};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch};
use super::{mamba1, transformer};
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph of a `mamba` or `mamba2` model into `g`; `None` when a tensor is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| l.kind != LayerKind::Recurrent) {
        return None;
    }
    let inp = inputs::inp_layers(g, b, &layers, true);
    let (_, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let v2 = geo.architecture == "mamba2";
    for (i, l) in layers.iter().enumerate() {
        let cur = llm::blk_norm(g, w, l.index, inp_l, "attn_norm.weight")?;
        let mut cur = if v2 { layer(g, w, b, &inp, l.index, cur)? } else { mamba1::layer(g, w, b, &inp, l.index, cur, geo.hints.ssm_dt_b_c_rms)? };
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_l = g.get_rows(inp_l, out_ids);
        }
        inp_l = g.binary(cur, inp_l);
    }
    transformer::finish(g, w, inp_l, tok)
}

/// `build_mamba2_layer` (mamba-base.cpp:153) with one state snapshot (K = 1, `n_rs_seq` = 0):
/// ssm_in projection split into z / xBC / dt, conv state gather + concat, ssm_conv, bias, silu,
/// `ggml_ssm_scan` over the gathered states, y + x·D, swiglu with z, grouped RMS norm, ssm_out.
pub fn layer(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id) -> Option<Id> {
    let (nst, ns) = (b.n_seq_tokens, b.n_seqs);
    let d_conv = w.dim(il, "ssm_conv1d.weight", 0)?;
    let channels = w.dim(il, "ssm_conv1d.weight", 1)?;
    let n_head = w.dim(il, "ssm_dt.bias", 0)?;
    let d_inner = w.dim(il, "ssm_out.weight", 0)?;
    let n_group = w.dim(il, "ssm_norm.weight", 1).unwrap_or(1);
    let head_dim = d_inner / n_head;
    let d_state = channels.saturating_sub(d_inner) / n_group.saturating_mul(2);
    let n_embd_r = d_conv.saturating_sub(1).saturating_mul(channels);
    let n_embd_s = d_state.saturating_mul(d_inner);
    let conv_all = g.external(Ty::F32, [n_embd_r, b.n_rs, 1, 1]);
    let ssm_all = g.external(Ty::F32, [n_embd_s, b.n_rs, 1, 1]);
    let conv = llm::build_rs(g, inp, b, conv_all, n_embd_r);
    let conv = g.reshape(conv, [d_conv.saturating_sub(1), channels, ns, 1]);
    let w_ssm_in = w.blk(g, il, "ssm_in.weight")?;
    let zx = g.mul_mat(w_ssm_in, cur);
    let zx = g.reshape(zx, [g.ne(zx)[0], nst, ns, 1]);
    let nb = g.t[zx as usize].nb;
    let z = g.view_nd(zx, [head_dim, n_head, nst, ns], head_dim.saturating_mul(4), nb[1], nb[2]);
    let xbc = g.view_nd(zx, [channels, nst, ns, 1], nb[1], nb[2], nb[3]);
    let dt = g.view_nd(zx, [n_head, nst, ns, 1], nb[1], nb[2], nb[3]);
    let xbc_t = g.transpose(xbc);
    let conv_x = g.concat(conv, xbc_t, 0);
    let cx = g.t[conv_x as usize].nb;
    let last = g.view_nd(conv_x, [d_conv.saturating_sub(1), channels, ns, 1], cx[1], cx[2], cx[3]);
    let dst = g.view_nd(conv_all, [n_embd_r, ns, 1, 1], n_embd_r.saturating_mul(4), 0, 0);
    let c = g.cpy(last, dst);
    g.expand(c);
    let w_conv = w.blk(g, il, "ssm_conv1d.weight")?;
    let xbc = g.ssm_conv(conv_x, w_conv);
    let w_conv_b = w.blk(g, il, "ssm_conv1d.bias")?;
    let xbc = g.binary(xbc, w_conv_b);
    let xbc = g.unary(xbc);
    let xn = g.t[xbc as usize].nb;
    let x = g.view_nd(xbc, [head_dim, n_head, nst, ns], head_dim.saturating_mul(4), xn[1], xn[2]);
    let bm = g.view_nd(xbc, [d_state, n_group, nst, ns], d_state.saturating_mul(4), xn[1], xn[2]);
    let cm = g.view_nd(xbc, [d_state, n_group, nst, ns], d_state.saturating_mul(4), xn[1], xn[2]);
    let dt = g.cont(dt, [n_head, nst, ns, 1]);
    let w_dt_b = w.blk(g, il, "ssm_dt.bias")?;
    let dt = g.binary(dt, w_dt_b);
    let w_a = w.blk(g, il, "ssm_a")?;
    let y_ssm = llm::build_rs_with(g, inp, b, ssm_all, n_embd_s, |g, states, ids| {
        let slots = g.ne(states)[1];
        let ssm = g.reshape(states, [d_state, head_dim, n_head, slots]);
        g.ssm_scan([ssm, x, dt, w_a, bm, cm, ids], 1)
    });
    let row = n_embd_s.saturating_mul(4);
    let new_state = g.view_nd(y_ssm, [n_embd_s, ns, 1, 1], row, row.saturating_mul(ns), row.saturating_mul(ns));
    let dst = g.view_nd(ssm_all, [n_embd_s, ns, 1, 1], row, row.saturating_mul(b.n_rs), row.saturating_mul(b.n_rs));
    let c = g.cpy(new_state, dst);
    g.expand(c);
    let xr = head_dim.saturating_mul(4);
    let y = g.view_nd(y_ssm, [head_dim, n_head, nst, ns], xr, xr.saturating_mul(n_head), xr.saturating_mul(n_head).saturating_mul(nst));
    let w_d = w.blk(g, il, "ssm_d")?;
    let xd = g.binary(x, w_d);
    let y = g.binary(y, xd);
    let z = g.cont(z, [head_dim, n_head, nst, ns]);
    let mut y = g.glu_split(z, y);
    if w.has_blk(il, "ssm_norm.weight") {
        y = g.reshape(y, [d_inner / n_group.max(1), n_group, nst, ns]);
        y = llm::blk_norm(g, w, il, y, "ssm_norm.weight")?;
    }
    let y = g.reshape(y, [d_inner, nst.saturating_mul(ns), 1, 1]);
    let w_out = w.blk(g, il, "ssm_out.weight")?;
    Some(g.mul_mat(w_out, y))
}
