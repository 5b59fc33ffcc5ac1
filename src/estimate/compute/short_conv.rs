//! LFM2's gated short convolution (src/models/lfm2.cpp `build_shortconv_block` at 0c1e570,
//! causal, one state snapshot): in_proj split into b / c / x, b·x transposed after the
//! gathered conv state, the last columns written back, ssm_conv, c·conv, out_proj.

use super::Weights;
use super::graph::{Graph, Id, Ty};
use super::inputs::Inputs;
use super::llm::{self, Batch};

/// The block on the normed input `cur` [n_embd, n_tokens]; returns [n_embd, n_tokens].
pub fn block(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id) -> Option<Id> {
    let (nst, ns) = (b.n_seq_tokens, b.n_seqs);
    let n_embd = g.ne(cur)[0];
    let d_conv = w.dim(il, "shortconv.conv.weight", 0)?.saturating_sub(1);
    let cur = g.reshape(cur, [n_embd, nst, ns, 1]);
    let w_in = w.blk(g, il, "shortconv.in_proj.weight")?;
    let bcx = g.mul_mat(w_in, cur);
    let chunk = g.ne(bcx)[0] / 3;
    let nb = g.t[bcx as usize].nb;
    let third = |g: &mut Graph| g.view_nd(bcx, [chunk, nst, ns, 1], nb[1], nb[2], nb[3]);
    let (bv, c, x) = (third(g), third(g), third(g));
    let bx = g.binary(bv, x);
    let bx = g.transpose(bx);
    let n_embd_r = d_conv.saturating_mul(n_embd);
    let conv_all = g.external(Ty::F32, [n_embd_r, b.n_rs, 1, 1]);
    let conv = llm::build_rs(g, inp, b, conv_all, n_embd_r);
    let conv = g.reshape(conv, [d_conv, n_embd, ns, 1]);
    let bx = g.concat(conv, bx, 0);
    let bn = g.t[bx as usize].nb;
    let snap = g.view_nd(bx, [d_conv, n_embd, ns, 1], bn[1], bn[2], bn[3]);
    let dst = g.view_nd(conv_all, [n_embd_r, ns, 1, 1], n_embd_r.saturating_mul(4), 0, 0);
    let c_ = g.cpy(snap, dst);
    g.expand(c_);
    let kernel = w.blk(g, il, "shortconv.conv.weight")?;
    let conv_out = g.ssm_conv(bx, kernel);
    let y = g.binary(c, conv_out);
    let w_out = w.blk(g, il, "shortconv.out_proj.weight")?;
    let y = g.mul_mat(w_out, y);
    let n = g.ne(y)[0];
    Some(g.reshape(y, [n, nst.saturating_mul(ns), 1, 1]))
}
