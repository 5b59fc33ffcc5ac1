//! The RWKV model loops (src/models/rwkv6.cpp, rwkv7.cpp, arwkv7.cpp, rwkv6qwen2.cpp at
//! 0c1e570): token-shift state gathered per layer (`build_rwkv_token_shift_load`), the previous
//! token's hidden state concatenated in front, time mix (rwkv6_mix.rs, rwkv7_mix.rs), then
//! either the RWKV channel mix (LayerNorms, two shifts per layer) or, for the Qwen-distilled
//! variants, RMS norms and a SwiGLU FFN (one shift per layer).

use super::graph::{Graph, Id, NONE};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch};
use super::{Weights, rwkv6_mix, rwkv7_mix};
use crate::model::{Geometry, LayerGeometry};

/// What one layer's time mix needs besides its input.
pub struct Mix<'a> {
    /// Recurrent inputs.
    pub inp: &'a Inputs,
    /// Block index.
    pub il: u32,
    /// WKV head size (`wkv.head_size`: the state is head_size * n_embd per sequence).
    pub head_size: u64,
    /// RWKV-7's first-layer value, carried to later layers ([`NONE`] before layer 0).
    pub v_first: Id,
}

impl Mix<'_> {
    /// (n_tokens, head size, n_embd, heads) of a time mix on `cur`.
    pub fn sizes(&self, g: &Graph, b: &Batch, cur: Id) -> (u64, u64, u64, u64) {
        let (hs, n_embd) = (self.head_size.max(1), g.ne(cur)[0]);
        (b.n_tokens, hs, n_embd, n_embd / hs)
    }
}

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (v7, qwen) = match geo.architecture.as_str() {
        "rwkv6" => (false, false),
        "rwkv7" => (true, false),
        "rwkv6qwen2" => (false, true),
        "arwkv7" => (true, true),
        _ => return None,
    };
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    if !qwen {
        let (nw, nb) = (w.get(g, "token_embd_norm.weight")?, w.get(g, "token_embd_norm.bias").unwrap_or(NONE));
        inp_l = llm::layer_norm(g, inp_l, nw, nb);
    }
    let inp = inputs::inp_mem(g, b, 0, (0, 0), true, false);
    let (_, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let mut v_first = NONE;
    for (i, l) in layers.iter().enumerate() {
        let st = l.recurrent?;
        let mut mix = Mix { inp: &inp, il: l.index, head_size: st.state_elements / geo.n_embd.max(1), v_first };
        let time_mix = |g: &mut Graph, mix: &mut Mix, x: Id, x_prev: Id| {
            if v7 { rwkv7_mix::time_mix(g, w, b, mix, x, x_prev) } else { rwkv6_mix::time_mix(g, w, b, mix, x, x_prev) }
        };
        let last = (i + 1 == layers.len()).then_some(out_ids);
        inp_l = if qwen { qwen_block(g, w, b, &mut mix, l, inp_l, last, time_mix)? } else { rwkv_block(g, w, b, &mut mix, l, inp_l, last, v7, time_mix)? };
        v_first = mix.v_first;
    }
    let wn = w.get(g, "output_norm.weight")?;
    let h = if qwen {
        let h = llm::rms_norm(g, inp_l, wn);
        w.get(g, "output_norm.bias").map_or(h, |bias| g.binary(h, bias))
    } else {
        let bias = w.get(g, "output_norm.bias").unwrap_or(NONE);
        llm::layer_norm(g, inp_l, wn, bias)
    };
    llm::lm_head(g, w, h, tok, &[]);
    Some(())
}

/// `build_rwkv_token_shift_load`: the layer's shift state gathered, [n_embd, count, n_seqs];
/// also returns the state cache.
fn shift_load(g: &mut Graph, b: &Batch, inp: &Inputs, l: &LayerGeometry, n_embd: u64) -> Option<(Id, Id)> {
    let n_embd_r = l.recurrent?.conv_elements;
    let all = g.external(super::graph::Ty::F32, [n_embd_r, b.n_rs, 1, 1]);
    let ts = llm::build_rs(g, inp, b, all, n_embd_r);
    Some((g.reshape(ts, [n_embd, n_embd_r / n_embd.max(1), b.n_seqs, 1]), all))
}

/// `build_rwkv_token_shift_store`: the new shift state copied into the cache.
fn shift_store(g: &mut Graph, b: &Batch, ts: Id, all: Id) {
    let n = g.ne(all)[0].saturating_mul(b.n_seqs);
    let src = g.view_1d(ts, n);
    let dst = g.view_1d(all, n);
    let c = g.cpy(src, dst);
    g.expand(c);
}

/// `n` token rows of each sequence of `x` [n_embd, n_seq_tokens, n_seqs], as a view (which
/// rows does not matter to the allocator).
fn rows(g: &mut Graph, x: Id, n: u64) -> Id {
    let (ne, nb) = (g.ne(x), g.t[x as usize].nb);
    g.view_nd(x, [ne[0], n, ne[2], 1], nb[1], nb[2], nb[3])
}

/// The hidden states shifted by one token: the stored last token, then all but the last row.
fn shifted(g: &mut Graph, shift: Id, x: Id) -> Id {
    let n = g.ne(x)[1].saturating_sub(1);
    let head = rows(g, x, n);
    g.concat(shift, head, 1)
}

/// An RWKV-6/7 block: LayerNorms, time mix, channel mix, two token shifts.
#[allow(clippy::too_many_arguments)] // the C++ layer loop's state
fn rwkv_block(
    g: &mut Graph,
    w: &Weights,
    b: &Batch,
    mix: &mut Mix,
    l: &LayerGeometry,
    inp_l: Id,
    out_ids: Option<Id>,
    v7: bool,
    time_mix: impl Fn(&mut Graph, &mut Mix, Id, Id) -> Option<Id>,
) -> Option<Id> {
    let il = l.index;
    let n_embd = g.ne(inp_l)[0];
    let nt = b.n_tokens;
    let inp3 = g.reshape(inp_l, [n_embd, b.n_seq_tokens, b.n_seqs, 1]);
    let (ts, all) = shift_load(g, b, mix.inp, l, n_embd)?;
    let att_shift = rows(g, ts, 1);
    let ffn_shift = rows(g, ts, 1);
    let norm = |g: &mut Graph, x: Id, name: &'static str, bias: &'static str| {
        let (nw, nb) = (w.blk_or_none(g, il, name), w.blk_or_none(g, il, bias));
        llm::layer_norm(g, x, nw, nb)
    };
    let att_norm = norm(g, inp3, "attn_norm.weight", "attn_norm.bias");
    let x_prev = shifted(g, att_shift, att_norm);
    let cur = time_mix(g, mix, att_norm, x_prev)?;
    let ffn_inp = g.binary(cur, inp3);
    let ffn_norm = norm(g, ffn_inp, "attn_norm_2.weight", "attn_norm_2.bias");
    let x_prev = shifted(g, ffn_shift, ffn_norm);
    let (a_last, f_last) = (rows(g, att_norm, 1), rows(g, ffn_norm, 1));
    let ts = g.concat(a_last, f_last, 1);
    shift_store(g, b, ts, all);
    let mut flat = |x: Id| g.reshape(x, [n_embd, nt, 1, 1]);
    let (mut ffn_inp, mut ffn_norm, mut x_prev) = (flat(ffn_inp), flat(ffn_norm), flat(x_prev));
    if let Some(ids) = out_ids {
        ffn_inp = g.get_rows(ffn_inp, ids);
        ffn_norm = g.get_rows(ffn_norm, ids);
        x_prev = g.get_rows(x_prev, ids);
    }
    let cur = channel_mix(g, w, il, ffn_norm, x_prev, v7)?;
    Some(g.binary(cur, ffn_inp))
}

/// `build_rwkv6_channel_mix` / `build_rwkv7_channel_mix`: token-shift lerps, squared-ReLU key,
/// value (RWKV-6 gates it with a sigmoid receptance).
fn channel_mix(g: &mut Graph, w: &Weights, il: u32, cur: Id, x_prev: Id, v7: bool) -> Option<Id> {
    let sx = g.binary(x_prev, cur);
    let lerp = |g: &mut Graph, name: &'static str| -> Option<Id> {
        let lw = w.blk(g, il, name)?;
        let m = g.binary(sx, lw);
        Some(g.binary(m, cur))
    };
    let key = |g: &mut Graph, xk: Id| -> Option<Id> {
        let wk = w.blk(g, il, "channel_mix_key.weight")?;
        let k = g.mul_mat(wk, xk);
        let k = g.unary(k);
        let k = g.unary(k);
        let wv = w.blk(g, il, "channel_mix_value.weight")?;
        Some(g.mul_mat(wv, k))
    };
    if v7 {
        let xk = lerp(g, "channel_mix_lerp_k.weight")?;
        return key(g, xk);
    }
    let xk = lerp(g, "channel_mix_lerp_k.weight")?;
    let xr = lerp(g, "channel_mix_lerp_r.weight")?;
    let wr = w.blk(g, il, "channel_mix_receptance.weight")?;
    let r = g.mul_mat(wr, xr);
    let r = g.unary(r);
    let kv = key(g, xk)?;
    Some(g.binary(r, kv))
}

/// An ARWKV-7 / RWKV6-Qwen2 block: RMS norm, time mix, one token shift, SwiGLU FFN.
#[allow(clippy::too_many_arguments)] // the C++ layer loop's state
fn qwen_block(
    g: &mut Graph,
    w: &Weights,
    b: &Batch,
    mix: &mut Mix,
    l: &LayerGeometry,
    inp_l: Id,
    out_ids: Option<Id>,
    time_mix: impl Fn(&mut Graph, &mut Mix, Id, Id) -> Option<Id>,
) -> Option<Id> {
    let il = l.index;
    let n_embd = g.ne(inp_l)[0];
    let inp3 = g.reshape(inp_l, [n_embd, b.n_seq_tokens, b.n_seqs, 1]);
    let (ts, all) = shift_load(g, b, mix.inp, l, n_embd)?;
    let mut att_norm = llm::blk_norm(g, w, il, inp3, "attn_norm.weight")?;
    if let Some(bias) = w.blk(g, il, "attn_norm.bias") {
        att_norm = g.binary(att_norm, bias);
    }
    let x_prev = shifted(g, ts, att_norm);
    let cur = time_mix(g, mix, att_norm, x_prev)?;
    let last = rows(g, att_norm, 1);
    shift_store(g, b, last, all);
    let ffn_inp = g.binary(cur, inp3);
    let mut ffn_inp = g.reshape(ffn_inp, [n_embd, b.n_tokens, 1, 1]);
    if let Some(ids) = out_ids {
        ffn_inp = g.get_rows(ffn_inp, ids);
    }
    let cur = llm::blk_norm(g, w, il, ffn_inp, "ffn_norm.weight")?;
    let cur = llm::ffn(g, w, il, cur)?;
    Some(g.binary(cur, ffn_inp))
}
