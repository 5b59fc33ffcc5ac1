//! Shared pieces of llama.cpp's graph builders (src/llama-graph.cpp at 0c1e570), in the
//! tensor order llama.cpp creates and expands them: inputs (`build_inp_*`), `build_norm`,
//! `build_ffn`, `build_attn` / `build_attn_mha` over a KV cache, `build_rs`.

use super::graph::{Graph, Id, Ty, NONE};

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

/// Inputs of a model with a KV cache and/or recurrent state (`build_inp_mem_hybrid` etc.).
#[derive(Clone, Copy, Debug)]
pub struct Inputs {
    /// `rs_s_copy` views: first n_seqs rows, the rest.
    pub s_copy_main: Id,
    /// See `s_copy_main`.
    pub s_copy_extra: Id,
    /// `attn_inp_k_idxs`.
    pub k_idxs: Id,
    /// `attn_inp_v_idxs`.
    pub v_idxs: Id,
    /// `attn_inp_kq_mask`.
    pub kq_mask: Id,
    /// `attn_inp_k_rot` (quantized K cache) or [`NONE`].
    pub k_rot: Id,
    /// `attn_inp_v_rot` (quantized V cache) or [`NONE`].
    pub v_rot: Id,
}

/// `build_inp_embd` (llama-graph.cpp:2376): token ids, the embeddings input, get_rows;
/// both selectable paths are in the graph (`ggml_build_forward_select`).
pub fn inp_embd(g: &mut Graph, b: &Batch, tok_embd: Id, n_embd: u64) -> Id {
    let tokens = g.input(Ty::I32, [b.n_tokens, 1, 1, 1]);
    let embd = g.input(Ty::F32, [n_embd, b.n_tokens, 1, 1]);
    let cur = g.get_rows(tok_embd, tokens);
    g.expand(cur);
    g.expand(embd);
    cur
}

/// Recurrent inputs (`build_rs_inp_impl`, llama-graph.cpp:3548) then KV inputs
/// (`build_attn_inp_kv_impl`, :2840 and `build_attn_inp_kq_mask`, :29). `hd_k` / `hd_v`: the
/// head sizes shared by all KV layers (0 if they differ), for the Hadamard rotation inputs a
/// quantized cache gets (llama-kv-cache.cpp:321-339, 1447-1485).
pub fn inp_mem(g: &mut Graph, b: &Batch, v_trans_rows: u64, hd: (u64, u64), recurrent: bool, attention: bool) -> Inputs {
    let (mut s_copy_main, mut s_copy_extra) = (NONE, NONE);
    if recurrent {
        let s_copy = g.input(Ty::I32, [b.n_rs, 1, 1, 1]);
        s_copy_main = g.view_nd(s_copy, [b.n_seqs, 1, 1, 1], 4 * b.n_seqs, 4 * b.n_seqs, 4 * b.n_seqs);
        let extra = b.n_rs.saturating_sub(b.n_seqs);
        s_copy_extra = g.view_nd(s_copy, [extra, 1, 1, 1], 4 * extra, 4 * extra, 4 * extra);
    }
    let (mut k_idxs, mut v_idxs, mut kq_mask) = (NONE, NONE, NONE);
    if attention {
        k_idxs = g.input(Ty::I64, [b.n_tokens, 1, 1, 1]);
        // Without flash attention V is transposed: one index per token and V element.
        let v_rows = if b.flash_attn { b.n_tokens } else { b.n_tokens.saturating_mul(v_trans_rows) };
        v_idxs = g.input(Ty::I64, [v_rows, 1, 1, 1]);
        let ty = if b.flash_attn { Ty::F16 } else { Ty::F32 };
        kq_mask = g.input(ty, [b.n_kv, b.n_tokens / b.n_stream.max(1), 1, b.n_stream]);
    }
    let (mut k_rot, mut v_rot) = (NONE, NONE);
    if attention && b.type_k == Ty::Other && hd.0 > 0 && hd.0.is_multiple_of(64) {
        // The largest power of two from 64 up dividing the head size.
        let mut n = 64u64;
        while hd.0.is_multiple_of(n * 2) && n < 1 << 20 {
            n *= 2;
        }
        k_rot = g.input(Ty::F32, [n, n, 1, 1]);
    }
    if attention && b.type_v == Ty::Other && hd.1 > 0 && hd.1.is_multiple_of(64) {
        v_rot = g.input(Ty::F32, [64, 64, 1, 1]);
    }
    Inputs { s_copy_main, s_copy_extra, k_idxs, v_idxs, kq_mask, k_rot, v_rot }
}

/// `build_norm` with LLM_NORM_RMS and a weight: rms_norm then mul.
pub fn rms_norm(g: &mut Graph, x: Id, w: Id) -> Id {
    let n = g.unary(x);
    if w == NONE { n } else { g.binary(n, w) }
}

/// `build_ffn` with SILU and a parallel gate (LLM_FFN_PAR): up, gate, swiglu_split, down.
pub fn ffn_swiglu(g: &mut Graph, x: Id, up: Id, gate: Id, down: Id) -> Id {
    let tmp = g.mul_mat(up, x);
    let cur = g.mul_mat(gate, x);
    let cur = g.glu_split(cur, tmp);
    g.mul_mat(down, cur)
}

/// `build_rs` (llama-graph.cpp:3512): zero one state (views only), gather the sequences'
/// states (get_rows, allocated) and copy the untouched extra ones back into the cache.
pub fn build_rs(g: &mut Graph, inp: &Inputs, b: &Batch, s: Id, state_size: u64) -> Id {
    let s_ne = g.ne(s);
    let states = g.reshape(s, [state_size, s_ne[1], 1, 1]);
    let row = state_size.saturating_mul(4);
    let zero = g.view_nd(states, [state_size, 1, 1, 1], row, row, row);
    let scaled = g.write_into(zero, &[zero]); // ggml_scale_inplace: a view of its source
    g.expand(scaled);
    let out = g.get_rows(states, inp.s_copy_main);
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
}

/// `build_attn` with a KV cache and no output projection (llama-graph.cpp:2868): store K/V
/// (set_rows), view the cache, then `build_attn_mha` (:2616). q: [hd, n_head, n_tokens].
pub fn attn_kv(g: &mut Graph, b: &Batch, inp: &Inputs, kv: &KvLayer, q: Id, k: Id, v: Id) -> Id {
    let (q, k) = if inp.k_rot != NONE { (hadamard(g, q, inp.k_rot), hadamard(g, k, inp.k_rot)) } else { (q, k) };
    let v = if inp.v_rot != NONE { hadamard(g, v, inp.v_rot) } else { v };
    g.expand(q);
    g.expand(v);
    g.expand(k);
    let (ek, ev) = (b.type_k.size(), b.type_v.size());
    let kn = g.ne(k);
    let gqa_k = kn[0].saturating_mul(kn[1]);
    let k_cur = g.view_nd(k, [gqa_k, kn[2], 1, 1], g.t[k as usize].nb[2], 0, 0);
    let k_dst = if b.n_stream > 1 { g.reshape(kv.k, [gqa_k, b.n_kv.saturating_mul(b.n_stream), 1, 1]) } else { kv.k };
    let sk = g.set_rows(k_dst, k_cur, inp.k_idxs);
    g.expand(sk);
    let vn = g.ne(v);
    let gqa_v = vn[0].saturating_mul(vn[1]);
    let sv = if b.flash_attn {
        let v_cur = g.view_nd(v, [gqa_v, vn[2], 1, 1], g.t[v as usize].nb[2], 0, 0);
        let v_dst = if b.n_stream > 1 { g.reshape(kv.v, [gqa_v, b.n_kv.saturating_mul(b.n_stream), 1, 1]) } else { kv.v };
        g.set_rows(v_dst, v_cur, inp.v_idxs)
    } else {
        // v_cur is contiguous here (rows of n_embd_gqa), so reshape rather than cont_2d.
        let all = g.ne(kv.v).iter().fold(1u64, |a, &x| a.saturating_mul(x));
        let v_view = g.reshape(kv.v, [1, all, 1, 1]);
        let v_cur = g.reshape(v, [gqa_v, vn[2], 1, 1]);
        let v_cur = g.reshape(v_cur, [1, gqa_v.saturating_mul(vn[2]), 1, 1]);
        g.set_rows(v_view, v_cur, inp.v_idxs)
    };
    g.expand(sv);
    let (ns, nkv) = (b.n_stream, b.n_kv);
    let kview = g.view_nd(kv.k, [kv.hd_k, kv.n_head_kv, nkv, ns], ek * kv.hd_k, ek * gqa_k, ek * gqa_k * nkv);
    let vview = if b.flash_attn {
        g.view_nd(kv.v, [kv.hd_v, kv.n_head_kv, nkv, ns], ev * kv.hd_v, ev * gqa_v, ev * gqa_v * nkv)
    } else {
        g.view_nd(kv.v, [nkv, kv.n_head_kv, kv.hd_v, ns], ev * nkv * kv.hd_v, ev * nkv, ev * nkv * gqa_v)
    };
    let cur = attn_mha(g, b, q, kview, vview, inp.kq_mask);
    // The rotation of V is undone on the attention output.
    if inp.v_rot != NONE { hadamard(g, cur, inp.v_rot) } else { cur }
}

/// `build_attn_mha` (llama-graph.cpp:2616): split streams, permute, then flash attention or
/// kq = k·q, softmax, kqv = v·kq; the result is [hd_v * n_head, n_tokens].
pub fn attn_mha(g: &mut Graph, b: &Batch, q: Id, k: Id, v: Id, mask: Id) -> Id {
    let (qn, qnb) = (g.ne(q), g.t[q as usize].nb);
    let ns = b.n_stream.max(1);
    let per = qn[2] / ns;
    let q = g.view_nd(q, [qn[0], qn[1], per, ns], qnb[1], qnb[2], qnb[2].saturating_mul(per));
    let q = g.permute_0213(q);
    let k = g.permute_0213(k);
    let v = g.permute_0213(v);
    let cur = if b.flash_attn {
        let fa = g.flash_attn_ext(q, k, v, mask);
        let n = g.ne(fa);
        g.reshape(fa, [n[0].saturating_mul(n[1]), n[2].saturating_mul(n[3]), 1, 1])
    } else {
        let kq = g.mul_mat(k, q);
        let kq = g.soft_max_ext(kq, mask);
        let kqv = g.mul_mat(v, kq);
        let cur = g.permute_0213(kqv);
        let n = g.ne(cur);
        g.cont(cur, [n[0].saturating_mul(n[1]), n[2].saturating_mul(n[3]), 1, 1])
    };
    g.expand(cur);
    cur
}

/// `llama_mul_mat_hadamard` (llama-impl.h:57): rows of `rot`'s width times the rotation.
/// The tensors rotated here are contiguous (rope outputs, reshaped projections).
fn hadamard(g: &mut Graph, cur: Id, rot: Id) -> Id {
    let n = g.ne(rot)[0].max(1);
    let ne = g.ne(cur);
    let all = ne.iter().fold(1u64, |a, &x| a.saturating_mul(x));
    let res = g.reshape(cur, [n, all / n, 1, 1]);
    let res = g.mul_mat(rot, res);
    g.reshape(res, ne)
}
