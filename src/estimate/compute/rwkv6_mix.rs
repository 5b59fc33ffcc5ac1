//! RWKV-6 time mix (src/models/rwkv6-base.cpp `build_rwkv6_time_mix` at 0c1e570), also
//! RWKV6-Qwen2's (no `time_mix_first`: gated linear attention, a sigmoid gate, no group norm).

use super::Weights;
use super::graph::{Graph, Id, Ty};
use super::llm::{self, Batch};
use super::rwkv::Mix;

/// The time mix of `cur` [n_embd, n_seq_tokens, n_seqs] with the shifted `x_prev`; returns
/// [n_embd, n_seq_tokens, n_seqs].
pub fn time_mix(g: &mut Graph, w: &Weights, b: &Batch, mix: &mut Mix, cur: Id, x_prev: Id) -> Option<Id> {
    let il = mix.il;
    let (nt, hs, n_embd, n_head) = mix.sizes(g, b, cur);
    let qrwkv = !w.has_blk(il, "time_mix_first.weight");
    let sx = g.binary(x_prev, cur);
    let sx = g.reshape(sx, [n_embd, nt, 1, 1]);
    let cur = g.reshape(cur, [n_embd, nt, 1, 1]);
    let lerp_x = w.blk(g, il, "time_mix_lerp_x.weight")?;
    let xxx = g.binary(sx, lerp_x);
    let xxx = g.binary(xxx, cur);
    let w1 = w.blk(g, il, "time_mix_w1.weight")?;
    let xxx = g.mul_mat(w1, xxx);
    let xxx = g.unary(xxx);
    let d = g.ne(xxx)[0] / 5;
    let xxx = g.reshape(xxx, [d, 1, 5, nt]);
    let xxx = g.permute(xxx, [0, 1, 3, 2]);
    let xxx = g.cont(xxx, g.ne(xxx));
    let w2 = w.blk(g, il, "time_mix_w2.weight")?;
    let w2n = g.ne(w2);
    let w2 = g.reshape(w2, [w2n[0], w2n[1], 1, 5]);
    let xxx = g.mul_mat(w2, xxx);
    let xn = g.t[xxx as usize].nb;
    let part = |g: &mut Graph| g.view_nd(xxx, [n_embd, nt, 1, 1], xn[1], xn[1].saturating_mul(nt), xn[1].saturating_mul(nt));
    let [xw, xk, xv, xr, xg] = if let Some(fused) = w.blk(g, il, "time_mix_lerp_fused.weight") {
        let sx3 = g.reshape(sx, [n_embd, 1, nt, 1]);
        let cur3 = g.reshape(cur, [n_embd, 1, nt, 1]);
        let x = g.binary(xxx, fused);
        let x = g.binary(x, sx3);
        let x = g.binary(x, cur3);
        let xn = g.t[x as usize].nb;
        let part = |g: &mut Graph| g.view_nd(x, [n_embd, nt, 1, 1], xn[1], xn[1].saturating_mul(nt), xn[1].saturating_mul(nt));
        [part(g), part(g), part(g), part(g), part(g)]
    } else {
        let mut out = [0; 5];
        for (o, name) in out.iter_mut().zip([
            "time_mix_lerp_w.weight",
            "time_mix_lerp_k.weight",
            "time_mix_lerp_v.weight",
            "time_mix_lerp_r.weight",
            "time_mix_lerp_g.weight",
        ]) {
            let v = part(g);
            let lw = w.blk(g, il, name)?;
            let x = g.binary(v, lw);
            let x = g.binary(x, sx);
            *o = g.binary(x, cur);
        }
        out
    };
    let proj = |g: &mut Graph, name: &'static str, bias: &'static str, x: Id| -> Option<Id> {
        let wt = w.blk(g, il, name)?;
        let y = g.mul_mat(wt, x);
        Some(match w.blk(g, il, bias) {
            Some(bb) => g.binary(y, bb),
            None => y,
        })
    };
    let r = proj(g, "time_mix_receptance.weight", "time_mix_receptance.bias", xr)?;
    let mut k = proj(g, "time_mix_key.weight", "time_mix_key.bias", xk)?;
    let mut v = proj(g, "time_mix_value.weight", "time_mix_value.bias", xv)?;
    let wg = w.blk(g, il, "time_mix_gate.weight")?;
    let gate = g.mul_mat(wg, xg);
    let gate = g.unary(gate); // sigmoid (qrwkv) or silu
    let n_head_kv = g.ne(k)[0] / hs;
    if n_head_kv != 0 && n_head_kv != n_head {
        let ne = [hs, n_head / n_head_kv, n_head_kv, nt];
        let k4 = g.reshape(k, [hs, 1, n_head_kv, nt]);
        let v4 = g.reshape(v, [hs, 1, n_head_kv, nt]);
        k = g.repeat(k4, ne);
        v = g.repeat(v4, ne);
    }
    let k = g.reshape(k, [hs, n_head, nt, 1]);
    let v = g.reshape(v, [hs, n_head, nt, 1]);
    let r = g.reshape(r, [hs, n_head, nt, 1]);
    let d1 = w.blk(g, il, "time_mix_decay_w1.weight")?;
    let dw = g.mul_mat(d1, xw);
    let dw = g.unary(dw);
    let d2 = w.blk(g, il, "time_mix_decay_w2.weight")?;
    let dw = g.mul_mat(d2, dw);
    let decay = w.blk(g, il, "time_mix_decay.weight")?;
    let dw = g.binary(dw, decay);
    let dw = g.unary(dw); // exp
    let dw = g.unary(dw); // neg
    let dw = g.unary(dw); // exp
    let dw = g.reshape(dw, [hs, n_head, nt, 1]);
    let k = if qrwkv {
        let kw = g.binary(k, dw);
        g.binary(k, kw)
    } else {
        k
    };
    let n_embd_s = n_embd.saturating_mul(hs);
    let s_all = g.external(Ty::F32, [n_embd_s, b.n_rs, 1, 1]);
    let state = llm::build_rs(g, mix.inp, b, s_all, n_embd_s);
    let out = if qrwkv {
        g.wkv(k, state, &[k, v, r, dw, state])
    } else {
        let tf = w.blk(g, il, "time_mix_first.weight")?;
        g.wkv(k, state, &[k, v, r, tf, dw, state])
    };
    let cur = wkv_tail(g, w, b, il, out, s_all, n_embd, hs, !qrwkv)?;
    let cur = g.binary(cur, gate);
    let wo = w.blk(g, il, "time_mix_output.weight")?;
    let cur = g.mul_mat(wo, cur);
    Some(g.reshape(cur, [n_embd, b.n_seq_tokens, b.n_seqs, 1]))
}

/// After the WKV kernel (both RWKV-6 and RWKV-7): the new states copied to the cache, the
/// output viewed as [n_embd, n_tokens], group-normed by head with `time_mix_ln` when `norm`.
#[allow(clippy::too_many_arguments)] // the C++ builder's state
pub fn wkv_tail(g: &mut Graph, w: &Weights, b: &Batch, il: u32, out: Id, s_all: Id, n_embd: u64, hs: u64, norm: bool) -> Option<Id> {
    let nt = b.n_tokens;
    let cur = g.view_1d(out, n_embd.saturating_mul(nt));
    let n = n_embd.saturating_mul(hs).saturating_mul(b.n_seqs);
    let state = g.view_1d(out, n);
    let dst = g.view_1d(s_all, n);
    let c = g.cpy(state, dst);
    g.expand(c);
    if !norm {
        return Some(g.reshape(cur, [n_embd, nt, 1, 1]));
    }
    let cur = g.reshape(cur, [hs, n_embd / hs.max(1), nt, 1]);
    let cur = g.norm(cur);
    let cur = g.reshape(cur, [n_embd, nt, 1, 1]);
    let ln = w.blk(g, il, "time_mix_ln.weight")?;
    let ln_b = w.blk(g, il, "time_mix_ln.bias")?;
    let cur = g.binary(cur, ln);
    Some(g.binary(cur, ln_b))
}
