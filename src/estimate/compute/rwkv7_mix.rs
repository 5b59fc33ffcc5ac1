//! RWKV-7 time mix (src/models/rwkv7-base.cpp `build_rwkv7_time_mix` at 0c1e570), shared by
//! `rwkv7` and `arwkv7`.

use super::Weights;
use super::graph::{Graph, Id, NONE, Ty};
use super::llm::{self, Batch};
use super::rwkv::Mix;
use super::rwkv6_mix::wkv_tail;

/// The time mix of `cur` [n_embd, n_seq_tokens, n_seqs] with the shifted `x_prev`; returns
/// [n_embd, n_seq_tokens, n_seqs]. Layer 0's value becomes `mix.v_first`.
pub fn time_mix(g: &mut Graph, w: &Weights, b: &Batch, mix: &mut Mix, cur: Id, x_prev: Id) -> Option<Id> {
    let il = mix.il;
    let (nt, hs, n_embd, n_head) = mix.sizes(g, b, cur);
    let gating = w.has_blk(il, "time_mix_g1.weight") && w.has_blk(il, "time_mix_g2.weight");
    let sx = g.binary(x_prev, cur);
    let sx = g.repeat(sx, [n_embd, b.n_seq_tokens, b.n_seqs, if gating { 6 } else { 5 }]);
    let fused = w.blk(g, il, "time_mix_lerp_fused.weight")?;
    let xxx = g.binary(sx, fused);
    let xxx = g.binary(xxx, cur);
    let xn = g.t[xxx as usize].nb;
    let part = |g: &mut Graph| g.view_nd(xxx, [n_embd, nt, 1, 1], xn[1], xn[1].saturating_mul(nt), xn[1].saturating_mul(nt));
    let (xr, xw, xk, xv, xa) = (part(g), part(g), part(g), part(g), part(g));
    let xg = if gating { part(g) } else { NONE };
    let mm = |g: &mut Graph, name: &'static str, x: Id| -> Option<Id> {
        let wt = w.blk(g, il, name)?;
        Some(g.mul_mat(wt, x))
    };
    // x · w1 · w2 through a LoRA pair, with `act` (tanh, sigmoid, or none) between.
    let lora = |g: &mut Graph, n1: &'static str, n2: &'static str, x: Id, act: bool| -> Option<Id> {
        let y = mm(g, n1, x)?;
        let y = if act { g.unary(y) } else { y };
        mm(g, n2, y)
    };
    let add_w = |g: &mut Graph, x: Id, name: &'static str| -> Option<Id> {
        let wt = w.blk(g, il, name)?;
        Some(g.binary(x, wt))
    };
    let r = mm(g, "time_mix_receptance.weight", xr)?;
    let wd = lora(g, "time_mix_w1.weight", "time_mix_w2.weight", xw, true)?;
    let wd = add_w(g, wd, "time_mix_w0.weight")?;
    let wd = g.unary(wd); // sigmoid
    let wd = g.unary(wd); // scale
    let wd = g.unary(wd); // exp
    let k = mm(g, "time_mix_key.weight", xk)?;
    let mut v = mm(g, "time_mix_value.weight", xv)?;
    if mix.v_first == NONE {
        mix.v_first = v;
    } else {
        let d = g.binary(mix.v_first, v);
        let gv = lora(g, "time_mix_v1.weight", "time_mix_v2.weight", xv, false)?;
        let gv = add_w(g, gv, "time_mix_v0.weight")?;
        let gv = g.unary(gv);
        let d = g.binary(d, gv);
        v = g.binary(v, d);
    }
    let gate = if gating { lora(g, "time_mix_g1.weight", "time_mix_g2.weight", xg, true)? } else { NONE };
    let a = lora(g, "time_mix_a1.weight", "time_mix_a2.weight", xa, false)?;
    let a = add_w(g, a, "time_mix_a0.weight")?;
    let a = g.unary(a);
    let kk = add_w(g, k, "time_mix_k_k.weight")?; // mul
    let kk = g.reshape(kk, [hs, n_head, nt, 1]);
    let kk = g.norm(kk); // l2_norm
    let ka = add_w(g, k, "time_mix_k_a.weight")?; // mul
    let aka = g.binary(a, ka);
    let aka = g.binary(aka, ka);
    let k = g.binary(k, aka);
    let mut heads = |x: Id| g.reshape(x, [hs, n_head, nt, 1]);
    let (r, wd, k, v, a) = (heads(r), heads(wd), heads(k), heads(v), heads(a));
    let n_embd_s = n_embd.saturating_mul(hs);
    let s_all = g.external(Ty::F32, [n_embd_s, b.n_rs, 1, 1]);
    let state = llm::build_rs(g, mix.inp, b, s_all, n_embd_s);
    let neg_kk = g.unary(kk);
    let kka = g.binary(kk, a);
    let out = g.wkv(k, state, &[r, wd, k, v, neg_kk, kka, state]);
    let norm = w.has_blk(il, "time_mix_ln.weight") && w.has_blk(il, "time_mix_ln.bias");
    let cur = wkv_tail(g, w, b, il, out, s_all, n_embd, hs, norm)?;
    let kr = g.binary(k, r);
    let r_k = w.blk(g, il, "time_mix_r_k.weight")?;
    let r_k = g.reshape(r_k, [hs, n_head, 1, 1]);
    let kr = g.binary(kr, r_k);
    let rk = g.sum_rows(kr);
    let vrk = g.binary(v, rk);
    let vrk = g.reshape(vrk, [n_embd, nt, 1, 1]);
    let mut cur = g.binary(cur, vrk);
    if gating {
        cur = g.binary(cur, gate);
    }
    let wo = w.blk(g, il, "time_mix_output.weight")?;
    let cur = g.mul_mat(wo, cur);
    Some(g.reshape(cur, [n_embd, b.n_seq_tokens, b.n_seqs, 1]))
}
