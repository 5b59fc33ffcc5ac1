//! Shared pieces of llama.cpp's graph builders (src/llama-graph.cpp at 0c1e570), in the
//! tensor order llama.cpp creates and expands them: `build_norm`, `build_ffn`, `build_attn` /
//! `build_attn_mha` over a KV cache, `build_rs`, the LM head. Inputs are in `inputs.rs`.

use super::Weights;
use super::graph::{Graph, Id, KQV_OUT, NONE, NORM, TOP, Ty};
use super::inputs::Inputs;

/// Sizes of the reserved micro-batch (llama-context.cpp `sched_reserve`, `graph_reserve`).
#[derive(Clone, Copy, Debug)]
pub struct Batch {
    /// Tokens in the graph (`ubatch.n_tokens`).
    pub n_tokens: u64,
    /// Sequences (`ubatch.n_seqs` = n_seq_max when reserving).
    pub n_seqs: u64,
    /// Tokens per sequence.
    pub n_seq_tokens: u64,
    /// Rows of logits (`n_outputs`).
    pub n_outputs: u64,
    /// KV cells per stream visible to attention (`get_n_kv`, the full cache when reserving).
    pub n_kv: u64,
    /// KV cells per stream of the sliding-window cache (`llama_kv_cache_iswa`).
    pub n_kv_swa: u64,
    /// KV streams.
    pub n_stream: u64,
    /// Flash attention.
    pub flash_attn: bool,
    /// Recurrent state cells (`max(1, n_seq_max)`).
    pub n_rs: u64,
    /// Element type of the K cache (f32/f16/bf16 only: quantized caches add Hadamard inputs).
    pub type_k: Ty,
    /// Element type of the V cache.
    pub type_v: Ty,
}

/// `build_norm` with LLM_NORM_RMS and a weight: rms_norm then mul.
pub fn rms_norm(g: &mut Graph, x: Id, w: Id) -> Id {
    let n = g.unary(x);
    if w == NONE {
        n
    } else {
        g.t[n as usize].flags |= NORM;
        g.binary(n, w)
    }
}

/// `build_norm` with LLM_NORM: norm, then the optional weight (mul) and bias (add).
pub fn layer_norm(g: &mut Graph, x: Id, w: Id, bias: Id) -> Id {
    let mut n = g.norm(x);
    if w != NONE || bias != NONE {
        g.t[n as usize].flags |= NORM;
    }
    if w != NONE {
        n = g.binary(n, w);
    }
    if bias != NONE {
        n = g.binary(n, bias);
    }
    n
}

/// `build_norm(x, blk.il.name, LLM_NORM_RMS)`; `None` when the block lacks the weight.
pub fn blk_norm(g: &mut Graph, w: &Weights, il: u32, x: Id, name: &'static str) -> Option<Id> {
    let wt = w.blk(g, il, name)?;
    Some(rms_norm(g, x, wt))
}

/// `build_ffn` (llama-graph.cpp:1762) with SILU, LLM_FFN_PAR and optional biases added after
/// each projection: `w` and `bias` are [up, gate, down].
pub fn ffn_biased(g: &mut Graph, x: Id, w: [Id; 3], bias: [Id; 3]) -> Id {
    ffn_inner(g, x, w, bias, false)
}

/// `build_ffn` with SILU and a parallel gate (LLM_FFN_PAR), no biases, the SwiGLU clamped when `clamp` (`swiglu_clamp_shexp` set for the
/// block); `w` is [up, gate, down].
pub fn ffn_swiglu_clamped(g: &mut Graph, x: Id, w: [Id; 3], clamp: bool) -> Id {
    ffn_inner(g, x, w, [NONE; 3], clamp)
}

/// SwiGLU of `gate` and `up`: the fused `ggml_swiglu_split` (never in place), or, with a
/// clamp limit set (llama-graph.cpp:1827 / 2278), clamp(up), clamp(silu(gate)) and their
/// product, all in place.
pub fn swiglu(g: &mut Graph, gate: Id, up: Id, clamp: bool) -> Id {
    if !clamp {
        return g.glu_split(gate, up);
    }
    let up = g.unary(up);
    let act = g.unary(gate);
    let act = g.unary(act);
    g.binary(act, up)
}

/// SITU (Kimi-K3, llama-graph.cpp:2296 and kimi-k3.cpp `kimi_k3_situ`):
/// beta·tanh(gate/beta)·sigmoid(gate) times `up`, itself squashed the same way when `linear`.
pub fn situ(g: &mut Graph, gate: Id, up: Id, linear: bool) -> Id {
    let a = g.unary(gate); // scale
    let a = g.unary(a); // tanh
    let a = g.unary(a); // scale
    let s = g.unary(gate); // sigmoid
    let a = g.binary(a, s);
    let up = if linear {
        let u = g.unary(up);
        let u = g.unary(u);
        g.unary(u)
    } else {
        up
    };
    g.binary(a, up)
}

fn ffn_inner(g: &mut Graph, x: Id, w: [Id; 3], bias: [Id; 3], clamp: bool) -> Id {
    let add = |g: &mut Graph, x: Id, b: Id| if b == NONE { x } else { g.binary(x, b) };
    let tmp = g.mul_mat(w[0], x);
    let tmp = add(g, tmp, bias[0]);
    let cur = g.mul_mat(w[1], x);
    let cur = add(g, cur, bias[1]);
    let cur = swiglu(g, cur, tmp, clamp);
    let cur = g.mul_mat(w[2], cur);
    add(g, cur, bias[2])
}

/// The dense FFN of block `il` (`ffn_{up,gate,down}.weight`, optional `.bias`).
pub fn ffn(g: &mut Graph, w: &Weights, il: u32, x: Id) -> Option<Id> {
    let up = w.blk(g, il, "ffn_up.weight")?;
    let gate = w.blk(g, il, "ffn_gate.weight")?;
    let down = w.blk(g, il, "ffn_down.weight")?;
    let bias = [w.blk_or_none(g, il, "ffn_up.bias"), w.blk_or_none(g, il, "ffn_gate.bias"), w.blk_or_none(g, il, "ffn_down.bias")];
    Some(ffn_biased(g, x, [up, gate, down], bias))
}

/// The dense FFN (or, with `shexp`, the shared expert) of block `il` without a gate
/// (`build_ffn` with up and down only, optional biases): up, activation (one or more in-place
/// unary ops: relu², gelu, ...), down.
pub fn ffn_ungated(g: &mut Graph, w: &Weights, il: u32, x: Id, shexp: bool) -> Option<Id> {
    let [up, up_b, down, down_b] = if shexp {
        ["ffn_up_shexp.weight", "ffn_up_shexp.bias", "ffn_down_shexp.weight", "ffn_down_shexp.bias"]
    } else {
        ["ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias"]
    };
    let up = w.blk(g, il, up)?;
    let down = w.blk(g, il, down)?;
    let mut cur = g.mul_mat(up, x);
    if let Some(b) = w.blk(g, il, up_b) {
        cur = g.binary(cur, b);
    }
    let cur = g.unary(cur);
    let mut cur = g.mul_mat(down, cur);
    if let Some(b) = w.blk(g, il, down_b) {
        cur = g.binary(cur, b);
    }
    Some(cur)
}

/// The LM head on the final hidden state `h`: `output.weight` (or the tied token
/// embeddings), plus `output.bias` when present; `h`, `extra` and the logits are the graph's
/// outputs (`llm_graph_result::set_outputs`, llama-graph.cpp:1367).
pub fn lm_head(g: &mut Graph, w: &Weights, h: Id, tok: Id, extra: &[Id]) -> Id {
    lm_head_on(g, w, h, h, tok, extra)
}

/// [`lm_head`] applied to `x`, a tensor computed from the output embedding `h` (MiniCPM3's
/// scaled `result_norm`): `h` stays an output, `x` is not one.
pub fn lm_head_on(g: &mut Graph, w: &Weights, h: Id, x: Id, tok: Id, extra: &[Id]) -> Id {
    let head = match w.get(g, "output.weight") {
        Some(h) => h,
        // A tied output is the embedding loaded a second time on the output device
        // (TENSOR_DUPLICATED): for the multi-device replay, a weight of its own.
        None if g.track => {
            let ne = g.ne(tok);
            g.cur_layer = TOP;
            let h = g.external(Ty::Other, ne);
            g.name_weight(h, "output.weight".into());
            h
        }
        None => tok,
    };
    let mut logits = g.mul_mat(head, x);
    if let Some(bias) = w.get(g, "output.bias") {
        logits = g.binary(logits, bias);
    }
    for &t in extra.iter().chain([&h, &logits]) {
        g.set_output(t);
    }
    g.expand(logits);
    logits
}

/// `build_rs` (llama-graph.cpp:3512) gathering with get_rows.
pub fn build_rs(g: &mut Graph, inp: &Inputs, b: &Batch, s: Id, state_size: u64) -> Id {
    build_rs_with(g, inp, b, s, state_size, |g, states, ids| g.get_rows(states, ids))
}

/// `build_rs` (llama-graph.cpp:3512): zero one state (views only), gather the sequences'
/// states with `gather(states, ids)` and copy the untouched extra ones back into the cache.
pub fn build_rs_with(g: &mut Graph, inp: &Inputs, b: &Batch, s: Id, state_size: u64, gather: impl FnOnce(&mut Graph, Id, Id) -> Id) -> Id {
    let s_ne = g.ne(s);
    let states = g.reshape(s, [state_size, s_ne[1], 1, 1]);
    let row = state_size.saturating_mul(4);
    let zero = g.view_nd(states, [state_size, 1, 1, 1], row, row, row);
    let scaled = g.write_into(zero, &[zero]); // ggml_scale_inplace: a view of its source
    g.expand(scaled);
    let out = gather(g, states, inp.s_copy_main);
    g.expand(out);
    let extra = g.get_rows(states, inp.s_copy_extra);
    let n_extra = b.n_rs.saturating_sub(b.n_seqs);
    let dst = g.view_nd(s, [state_size, n_extra, 1, 1], row, row.saturating_mul(n_extra), row.saturating_mul(n_extra));
    let c = g.cpy(extra, dst);
    g.expand(c);
    out
}

/// Per-layer KV cache geometry.
#[derive(Clone, Copy, Debug)]
pub struct KvLayer {
    /// K cache tensor (external).
    pub k: Id,
    /// V cache tensor (external).
    pub v: Id,
    /// K head size.
    pub hd_k: u64,
    /// V head size.
    pub hd_v: u64,
    /// KV heads.
    pub n_head_kv: u64,
    /// The layer's attention sinks (a weight read by the softmax or flash attention), or
    /// [`NONE`]; set for the multi-device replay, where the weight places the softmax.
    pub sinks: Id,
    /// A bias added to the attention scores (T5's relative position bias), or [`NONE`].
    pub kq_b: Id,
}

impl KvLayer {
    /// A layer's K and V caches: [head_dim * n_head_kv, n_kv, n_stream] each.
    pub fn new(g: &mut Graph, b: &Batch, hd_k: u64, hd_v: u64, n_head_kv: u64) -> Self {
        let k = g.external(b.type_k, [hd_k.saturating_mul(n_head_kv), b.n_kv, b.n_stream, 1]);
        let v = g.external(b.type_v, [hd_v.saturating_mul(n_head_kv), b.n_kv, b.n_stream, 1]);
        KvLayer { k, v, hd_k, hd_v, n_head_kv, sinks: NONE, kq_b: NONE }
    }
}

/// `build_attn` with a KV cache and no output projection (llama-graph.cpp:2868): store K/V
/// (set_rows), view the cache, then `build_attn_mha` (:2616). q: [hd, n_head, n_tokens].
pub fn attn_kv(g: &mut Graph, b: &Batch, inp: &Inputs, kv: &KvLayer, q: Id, k: Id, v: Id) -> Id {
    attn_kv_opt(g, b, inp, kv, q, Some((k, v)))
}

/// [`attn_kv`] for a layer that reuses an earlier layer's cache (`n_layer_kv_from_start`,
/// Gemma 3n / Gemma 4: `build_attn` with no K or V, llama-graph.cpp:3115): Q alone is
/// rotated and expanded, nothing is stored, the cache is read as the owner layer's.
pub fn attn_kv_shared(g: &mut Graph, b: &Batch, inp: &Inputs, kv: &KvLayer, q: Id) -> Id {
    attn_kv_opt(g, b, inp, kv, q, None)
}

fn attn_kv_opt(g: &mut Graph, b: &Batch, inp: &Inputs, kv: &KvLayer, q: Id, kv_cur: Option<(Id, Id)>) -> Id {
    let q = if inp.k_rot != NONE { hadamard(g, q, inp.k_rot) } else { q };
    let (ek, ev) = (b.type_k.size(), b.type_v.size());
    let gqa_k = kv.hd_k.saturating_mul(kv.n_head_kv);
    let gqa_v = kv.hd_v.saturating_mul(kv.n_head_kv);
    let Some((k, v)) = kv_cur else {
        g.expand(q);
        return attn_kv_read(g, b, inp, kv, q, [ek, ev], [gqa_k, gqa_v]);
    };
    let k = if inp.k_rot != NONE { hadamard(g, k, inp.k_rot) } else { k };
    let v = if inp.v_rot != NONE { hadamard(g, v, inp.v_rot) } else { v };
    for t in if inp.iswa { [q, k, v] } else { [q, v, k] } {
        g.expand(t);
    }
    let gqa_k = store_rows(g, b, kv.k, k, inp.k_idxs);
    let vn = g.ne(v);
    let gqa_v = vn[0].saturating_mul(vn[1]);
    if b.flash_attn {
        store_rows(g, b, kv.v, v, inp.v_idxs);
    } else {
        let all = g.ne(kv.v).iter().fold(1u64, |a, &x| a.saturating_mul(x));
        let v_view = g.reshape(kv.v, [1, all, 1, 1]);
        // Rows of n_embd_gqa are reshaped; a view of a fused QKV projection is copied (cont_2d).
        let packed = g.t[v as usize].nb[2] == gqa_v.saturating_mul(g.t[v as usize].ty.size());
        let v_cur = if packed { g.reshape(v, [gqa_v, vn[2], 1, 1]) } else { g.cont(v, [gqa_v, vn[2], 1, 1]) };
        let v_cur = g.reshape(v_cur, [1, gqa_v.saturating_mul(vn[2]), 1, 1]);
        let sv = g.set_rows(v_view, v_cur, inp.v_idxs);
        g.expand(sv);
    }
    attn_kv_read(g, b, inp, kv, q, [ek, ev], [gqa_k, gqa_v])
}

/// The cache views and `build_attn_mha` of [`attn_kv`]; `e`: K and V element sizes, `gqa`:
/// K and V row widths.
fn attn_kv_read(g: &mut Graph, b: &Batch, inp: &Inputs, kv: &KvLayer, q: Id, e: [u64; 2], gqa: [u64; 2]) -> Id {
    let ([ek, ev], [gqa_k, gqa_v]) = (e, gqa);
    let (ns, nkv) = (b.n_stream, b.n_kv);
    let kview = g.view_nd(kv.k, [kv.hd_k, kv.n_head_kv, nkv, ns], ek * kv.hd_k, ek * gqa_k, ek * gqa_k * nkv);
    let vview = if b.flash_attn {
        g.view_nd(kv.v, [kv.hd_v, kv.n_head_kv, nkv, ns], ev * kv.hd_v, ev * gqa_v, ev * gqa_v * nkv)
    } else {
        g.view_nd(kv.v, [nkv, kv.n_head_kv, kv.hd_v, ns], ev * nkv * kv.hd_v, ev * nkv, ev * nkv * gqa_v)
    };
    let cur = attn_mha_full(g, b, q, kview, vview, kv.kq_b, inp.kq_mask, NONE, kv.sinks);
    // The rotation of V is undone on the attention output.
    if inp.v_rot != NONE { hadamard(g, cur, inp.v_rot) } else { cur }
}

/// `cpy_k`, and `cpy_v` without a transposed V (llama-kv-cache.cpp:1328): the rows of `x`
/// ([hd, heads, n_tokens]) set into `cache` (streams merged); returns the row width.
pub fn store_rows(g: &mut Graph, b: &Batch, cache: Id, x: Id, idxs: Id) -> u64 {
    let xn = g.ne(x);
    let gqa = xn[0].saturating_mul(xn[1]);
    let cur = g.view_nd(x, [gqa, xn[2], 1, 1], g.t[x as usize].nb[2], 0, 0);
    let n_cells = g.ne(cache)[1];
    let dst = if b.n_stream > 1 { g.reshape(cache, [gqa, n_cells.saturating_mul(b.n_stream), 1, 1]) } else { cache };
    let s = g.set_rows(dst, cur, idxs);
    g.expand(s);
    gqa
}

/// `build_attn_mha` (llama-graph.cpp:2616): split streams, permute, then flash attention or
/// kq = k·q, softmax, kqv = v·kq; MLA's `v_mla` (or [`NONE`]) decompresses the result. The
/// result is [hd_v * n_head, n_tokens].
pub fn attn_mha(g: &mut Graph, b: &Batch, q: Id, k: Id, v: Id, mask: Id, v_mla: Id) -> Id {
    attn_mha_sinks(g, b, q, k, v, mask, v_mla, NONE)
}

/// [`attn_mha`] with attention sinks (`ggml_flash_attn_ext_add_sinks` / `ggml_soft_max_add_sinks`,
/// an extra source of the op), or [`NONE`].
#[allow(clippy::too_many_arguments)] // build_attn_mha's arguments
pub fn attn_mha_sinks(g: &mut Graph, b: &Batch, q: Id, k: Id, v: Id, mask: Id, v_mla: Id, sinks: Id) -> Id {
    attn_mha_full(g, b, q, k, v, NONE, mask, v_mla, sinks)
}

/// [`attn_mha_sinks`] with a bias `kq_b` added to the scores (or [`NONE`]): with one, flash
/// attention is never used (`use_flash_attn = cparams.flash_attn && kq_b == nullptr`).
#[allow(clippy::too_many_arguments)] // build_attn_mha's arguments
pub fn attn_mha_full(g: &mut Graph, b: &Batch, q: Id, k: Id, v: Id, kq_b: Id, mask: Id, v_mla: Id, sinks: Id) -> Id {
    let (qn, qnb) = (g.ne(q), g.t[q as usize].nb);
    let vnb = g.t[v as usize].nb;
    let v_trans = vnb[1] > vnb[2];
    let ns = b.n_stream.max(1);
    let per = qn[2] / ns;
    let q = g.view_nd(q, [qn[0], qn[1], per, ns], qnb[1], qnb[2], qnb[2].saturating_mul(per));
    let q = g.permute_0213(q);
    let k = g.permute_0213(k);
    let v = g.permute_0213(v);
    let flat = |g: &mut Graph, x: Id| {
        let n = g.ne(x);
        [n[0].saturating_mul(n[1]), n[2].saturating_mul(n[3]), 1, 1]
    };
    let cur = if b.flash_attn && kq_b == NONE {
        // An f32 K or V (an f32 cache) is cast to f16 first (:2651-2658).
        let f16 = |g: &mut Graph, x: Id| if g.t[x as usize].ty == Ty::F32 { g.cast(x, Ty::F16) } else { x };
        let (k, v) = (f16(g, k), f16(g, v));
        let mut cur = g.flash_attn_ext(q, k, v, mask);
        g.t[cur as usize].src[4] = sinks;
        if v_mla != NONE {
            let p = g.permute_0213(cur);
            let m = g.mul_mat(v_mla, p);
            let p = g.permute_0213(m);
            cur = g.cont(p, g.ne(p));
        }
        let ne = flat(g, cur);
        g.reshape(cur, ne)
    } else {
        let mut kq = g.mul_mat(k, q);
        if kq_b != NONE {
            kq = g.binary(kq, kq_b);
        }
        let kq = if sinks == NONE { g.soft_max_ext(kq, mask) } else { g.unary_like(kq, true, &[kq, mask, sinks]) };
        let v = if v_trans {
            v
        } else {
            let t = g.transpose(v);
            g.cont(t, g.ne(t))
        };
        let mut kqv = g.mul_mat(v, kq);
        if v_mla != NONE {
            kqv = g.mul_mat(v_mla, kqv);
        }
        let cur = g.permute_0213(kqv);
        let ne = flat(g, cur);
        let cur = g.cont(cur, ne);
        // Without flash attention this node is pinned to the CPU when the cache is there.
        g.t[cur as usize].flags |= KQV_OUT;
        cur
    };
    g.expand(cur);
    cur
}

/// `llama_mul_mat_hadamard` (llama-impl.h:57): rows of `rot`'s width times the rotation.
/// The tensors rotated here are contiguous (rope outputs, reshaped projections).
pub fn hadamard(g: &mut Graph, cur: Id, rot: Id) -> Id {
    let n = g.ne(rot)[0].max(1);
    let ne = g.ne(cur);
    let all = ne.iter().fold(1u64, |a, &x| a.saturating_mul(x));
    let res = g.reshape(cur, [n, all / n, 1, 1]);
    let res = g.mul_mat(rot, res);
    g.reshape(res, ne)
}
