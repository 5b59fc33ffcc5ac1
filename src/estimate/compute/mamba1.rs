//! The Mamba-1 layer (src/models/mamba-base.cpp `build_mamba_layer` at 0c1e570), shared by
//! `mamba` (mamba2.rs runs the model loop) and Jamba.

use super::Weights;
use super::graph::{Graph, Id, Ty};
use super::inputs::Inputs;
use super::llm::{self, Batch};

/// `build_mamba_layer` with one state snapshot (K = 1): ssm_in split into x / z, conv state
/// gather + concat, ssm_conv, bias, silu, the x projection split into dt / B / C (RMS-normed
/// when the block has `ssm_{dt,b,c}_norm`, as Jamba's), dt projection, `ggml_ssm_scan` over
/// the gathered states, y + x·D, swiglu with z, ssm_out. `cur`: [n_embd, n_tokens];
/// `dt_b_c_rms`: Falcon-Mamba's weightless RMS norms of dt, B and C.
#[allow(clippy::too_many_arguments)] // the C++ builder's state
pub fn layer(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id, dt_b_c_rms: bool) -> Option<Id> {
    let (nst, ns) = (b.n_seq_tokens, b.n_seqs);
    let d_conv = w.dim(il, "ssm_conv1d.weight", 0)?;
    let d_inner = w.dim(il, "ssm_conv1d.weight", 1)?;
    let d_state = w.dim(il, "ssm_a", 0)?;
    let dt_rank = w.dim(il, "ssm_dt.weight", 0)?;
    let st = States::new(g, b, inp, d_conv, d_inner, d_state);
    let (n_embd_r, n_embd_s, conv_all, ssm_all, conv) = (st.n_embd_r, st.n_embd_s, st.conv_all, st.ssm_all, st.conv);
    let n_embd = g.ne(cur)[0];
    let cur = g.reshape(cur, [n_embd, nst, ns, 1]);
    let w_in = w.blk(g, il, "ssm_in.weight")?;
    let xz = g.mul_mat(w_in, cur);
    let xn = g.t[xz as usize].nb;
    let x = g.view_nd(xz, [d_inner, nst, ns, 1], xn[1], xn[2], xn[3]);
    let z = g.view_nd(xz, [d_inner, nst, ns, 1], xn[1], xn[2], xn[3]);
    let x_t = g.transpose(x);
    let conv_x = g.concat(conv, x_t, 0);
    let cx = g.t[conv_x as usize].nb;
    let last = g.view_nd(conv_x, [d_conv.saturating_sub(1), d_inner, ns, 1], cx[1], cx[2], cx[3]);
    let dst = g.view_nd(conv_all, [n_embd_r.saturating_mul(ns), 1, 1, 1], 0, 0, 0);
    let c = g.cpy(last, dst);
    g.expand(c);
    let w_conv = w.blk(g, il, "ssm_conv1d.weight")?;
    let x = g.ssm_conv(conv_x, w_conv);
    let w_conv_b = w.blk(g, il, "ssm_conv1d.bias")?;
    let x = g.binary(x, w_conv_b);
    let x = g.unary(x);
    let w_x = w.blk(g, il, "ssm_x.weight")?;
    let x_db = g.mul_mat(w_x, x);
    let db = g.t[x_db as usize].nb;
    let dt = g.view_nd(x_db, [dt_rank, nst, ns, 1], db[1], db[2], db[3]);
    let bm = g.view(x_db, [d_state, 1, nst, ns], [4, d_state.saturating_mul(4), db[1], db[2]], &[x_db]);
    let cm = g.view(x_db, [d_state, 1, nst, ns], [4, d_state.saturating_mul(4), db[1], db[2]], &[x_db]);
    let normed = w.has_blk(il, "ssm_dt_norm.weight") && w.has_blk(il, "ssm_b_norm.weight") && w.has_blk(il, "ssm_c_norm.weight");
    let (dt, bm, cm) = if normed || dt_b_c_rms {
        let mut norm = |x: Id, name: &'static str| {
            let wt = w.blk_or_none(g, il, name);
            llm::rms_norm(g, x, wt)
        };
        (norm(dt, "ssm_dt_norm.weight"), norm(bm, "ssm_b_norm.weight"), norm(cm, "ssm_c_norm.weight"))
    } else {
        (g.cont(dt, [dt_rank, nst, ns, 1]), bm, cm)
    };
    let w_dt = w.blk(g, il, "ssm_dt.weight")?;
    let dt = g.mul_mat(w_dt, dt);
    let w_dt_b = w.blk(g, il, "ssm_dt.bias")?;
    let dt = g.binary(dt, w_dt_b);
    let x_in = x;
    let x = g.reshape(x, [1, d_inner, nst, ns]);
    let w_a = w.blk(g, il, "ssm_a")?;
    let y_ssm = llm::build_rs_with(g, inp, b, ssm_all, n_embd_s, |g, states, ids| {
        let slots = g.ne(states)[1];
        let ssm = g.reshape(states, [d_state, 1, d_inner, slots]);
        g.ssm_scan([ssm, x, dt, w_a, bm, cm, ids], 1)
    });
    let n = n_embd_s.saturating_mul(ns);
    let new_state = g.view_nd(y_ssm, [n, 1, 1, 1], 0, 0, 0);
    let dst = g.view_nd(ssm_all, [n, 1, 1, 1], 0, 0, 0);
    let c = g.cpy(new_state, dst);
    g.expand(c);
    let y = g.view_nd(y_ssm, [d_inner, nst, ns, 1], d_inner.saturating_mul(4), d_inner.saturating_mul(nst).saturating_mul(4), 0);
    let w_d = w.blk(g, il, "ssm_d")?;
    let xd = g.binary(x_in, w_d);
    let y = g.binary(y, xd);
    let z = g.cont(z, [d_inner, nst, ns, 1]);
    let y = g.glu_split(z, y);
    let w_out = w.blk(g, il, "ssm_out.weight")?;
    let out = g.mul_mat(w_out, y);
    Some(g.reshape(out, [n_embd, nst.saturating_mul(ns), 1, 1]))
}

/// The state caches of a Mamba-1-style layer (one B/C group: Mamba-1, PLaMo-2) and the
/// gathered conv states, [d_conv - 1, d_inner, n_seqs].
pub struct States {
    /// Conv state elements per sequence.
    pub n_embd_r: u64,
    /// SSM state elements per sequence.
    pub n_embd_s: u64,
    /// The conv state cache.
    pub conv_all: Id,
    /// The SSM state cache.
    pub ssm_all: Id,
    /// The gathered conv states.
    pub conv: Id,
}

impl States {
    /// The caches, and the conv states gathered by `build_rs`.
    pub fn new(g: &mut Graph, b: &Batch, inp: &Inputs, d_conv: u64, d_inner: u64, d_state: u64) -> Self {
        let n_embd_r = d_conv.saturating_sub(1).saturating_mul(d_inner);
        let n_embd_s = d_state.saturating_mul(d_inner);
        let conv_all = g.external(Ty::F32, [n_embd_r, b.n_rs, 1, 1]);
        let ssm_all = g.external(Ty::F32, [n_embd_s, b.n_rs, 1, 1]);
        let conv = llm::build_rs(g, inp, b, conv_all, n_embd_r);
        let conv = g.reshape(conv, [d_conv.saturating_sub(1), d_inner, b.n_seqs, 1]);
        States { n_embd_r, n_embd_s, conv_all, ssm_all, conv }
    }
}
