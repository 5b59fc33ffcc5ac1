//! Graph of Qwen4-exp (src/models/qwen4exp.cpp at 0c1e570): Qwen3.5's Gated DeltaNet and gated
//! full-attention layers (`qwen35.rs`) over `hc` hyper-connection streams (`build_hc_mix`: a
//! grouped RMS norm, a low-rank sigmoid gate and the streams' mean, fused by
//! `ggml_dsv4_hc_pre_gated`; `build_hc_combine`: `ggml_dsv4_hc_post` without a comb), the PLE
//! n-gram embedding mixed into the streams of its layer (`build_ple`: a gated value plus a
//! dilated causal convolution whose history is a recurrent row), and, on attention layers with
//! a compress ratio, QSA sparse attention (`build_qsa_top_k`: mean-pooled, normed and roped
//! indexer keys per block of `ratio` cells, rectified head scores summed, spread back to the
//! cells, top `indexer.top_k + ratio - 1` cells, then DSA's sparse mask over the cache). MoE FFN
//! with a gated shared expert on every block.

use super::graph::{Graph, Id, NONE, Ty};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch};
use super::moe::{self, Gating, Routing};
use super::{Weights, deepseek32, qwen35};
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, inp0, layers) = inputs::start(g, w, geo, b)?;
    g.expand(inp0);
    let inp = inputs::inp_layers(g, b, &layers, true);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, if geo.hints.mrope { 4 } else { 1 });
    let n_embd = g.ne(inp0)[0];
    let hc = w.dim(layers.first()?.index, "hc_attn_inject.weight", 1).filter(|&h| h <= super::MAX_UNROLLED)?;
    let nt = b.n_tokens;
    // build_inp_ple: every head's row of the shared table, flattened.
    let ple = match w.get(g, "per_layer_token_embd.weight") {
        Some(table) => {
            let head_dim = g.ne(table)[0].max(1);
            let il = layers.iter().find(|l| w.has_blk(l.index, "ple_key.weight"))?.index;
            let n_heads = w.dim(il, "ple_key.weight", 0)? / head_dim;
            let rows = g.input(Ty::I32, [n_heads.saturating_mul(nt), 1, 1, 1]);
            let emb = g.get_rows(table, rows);
            let emb = g.reshape(emb, [head_dim.saturating_mul(n_heads), nt, 1, 1]);
            g.expand(emb);
            Some(emb)
        }
        None => None,
    };
    let x = g.reshape(inp0, [n_embd, 1, nt, 1]);
    let mut res = g.repeat(x, [n_embd, hc, nt, 1]);
    let routing = Routing { gating: Gating::Softmax, norm_w: true, ..Routing::from_hints(&geo.hints) };
    let mut qsa_inps: Vec<(u64, Qsa)> = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        if w.has_blk(il, "ple_key.weight") {
            res = ple_block(g, w, b, &inp, il, ple?, res, hc, geo.hints.ple_ngram)?;
        }
        let (cur, inject) = hc_mix(g, w, il, res, ["hc_attn_norm.weight", "hc_attn_down.weight", "hc_attn_up.weight", "hc_attn_inject.weight"], hc)?;
        g.expand(cur);
        let mut cur = match l.kind {
            LayerKind::Recurrent => qwen35::linear_attn(g, w, b, &inp, il, cur, true)?,
            LayerKind::Attention => {
                let ratio = geo.hints.compress_ratios.get(il as usize).copied().unwrap_or(0);
                let mask = if ratio > 0 && w.has_blk(il, "indexer.k_proj.weight") {
                    let q = match qsa_inps.iter().find(|(r, _)| *r == ratio) {
                        Some((_, q)) => *q,
                        None => {
                            let q = Qsa::new(g, b, ratio);
                            qsa_inps.push((ratio, q));
                            q
                        }
                    };
                    let top = q.top_k(g, w, b, &inp, il, cur, pos, geo.hints.indexer_top_k)?;
                    deepseek32::sparse_mask(g, &inp, top)
                } else {
                    NONE
                };
                qwen35::full_attn(g, w, b, &inp, il, cur, pos, mask)?
            }
            _ => return None,
        };
        let mut inject = inject;
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inject = g.get_rows(inject, out_ids);
            let flat = g.reshape(res, [n_embd.saturating_mul(hc), nt, 1, 1]);
            let flat = g.get_rows(flat, out_ids);
            res = g.reshape(flat, [n_embd, hc, b.n_outputs, 1]);
        }
        res = hc_combine(g, res, cur, inject);
        let (cur, inject) = hc_mix(g, w, il, res, ["hc_ffn_norm.weight", "hc_ffn_down.weight", "hc_ffn_up.weight", "hc_ffn_inject.weight"], hc)?;
        let cur = moe::moe_ffn_shared(g, w, il, cur, l.n_experts_used, routing)?;
        res = hc_combine(g, res, cur, inject);
    }
    // The head mixer (unfused: il is -1) is the output norm.
    let cur = hc_head(g, w, res, hc)?;
    llm::lm_head(g, w, cur, tok, &[]);
    Some(())
}

/// The grouped RMS norm of the streams `x` [n_embd, hc, n_tokens] and the low-rank gate
/// (`build_hc_mix` up to the mix): (xn [hc·n_embd, n_tokens], gate [hc·n_embd, n_tokens]).
fn hc_norm_gate(g: &mut Graph, x: Id, wts: [Id; 3]) -> (Id, Id) {
    let [w_norm, w_down, w_up] = wts;
    let xn = g.ne(x);
    let n = g.unary(x); // ggml_rms_norm
    let n = g.binary(n, w_norm);
    let n = g.reshape(n, [xn[0].saturating_mul(xn[1]), xn[2], 1, 1]);
    let lo = g.mul_mat(w_down, n);
    let lo = g.unary(lo); // ggml_scale
    let lo = g.unary(lo); // silu
    let gate = g.mul_mat(w_up, lo);
    (n, gate)
}

/// `build_hc_mix` of block `il` (fused): the block input [n_embd, n_tokens] and the streams'
/// injection weights [hc, n_tokens].
fn hc_mix(g: &mut Graph, w: &Weights, il: u32, x: Id, names: [&'static str; 4], hc: u64) -> Option<(Id, Id)> {
    let [norm, down, up, inject] = names;
    let wts = [w.blk(g, il, norm)?, w.blk(g, il, down)?, w.blk(g, il, up)?];
    let xn3 = g.ne(x);
    let (xn, gate) = hc_norm_gate(g, x, wts);
    let x3 = g.reshape(xn, [xn3[0], hc, xn3[2], 1]);
    let g3 = g.reshape(gate, [xn3[0], hc, xn3[2], 1]);
    let mixed = g.hc_pre(x3, g3, [xn3[0], xn3[2], 1, 1]); // ggml_dsv4_hc_pre_gated
    let w_inject = w.blk(g, il, inject)?;
    let inj = g.mul_mat(w_inject, xn);
    Some((mixed, inj))
}

/// The final `build_hc_mix` (il = -1, so unfused): sigmoid-gated streams, their mean.
fn hc_head(g: &mut Graph, w: &Weights, x: Id, hc: u64) -> Option<Id> {
    let wts = [w.get(g, "output_hc_norm.weight")?, w.get(g, "output_hc_down.weight")?, w.get(g, "output_hc_up.weight")?];
    let [n_embd, _, nt, _] = g.ne(x);
    let (xn, gate) = hc_norm_gate(g, x, wts);
    let s = g.unary(gate); // sigmoid
    let gated = g.binary(xn, s);
    let gated = g.reshape(gated, [n_embd, hc, nt, 1]);
    let row = n_embd.saturating_mul(4).saturating_mul(hc);
    let first = g.view_nd(gated, [n_embd, nt, 1, 1], row, row.saturating_mul(nt), row.saturating_mul(nt));
    let mut mixed = g.cont(first, [n_embd, nt, 1, 1]);
    for _ in 1..hc {
        let s = g.view_nd(gated, [n_embd, nt, 1, 1], row, row.saturating_mul(nt), row.saturating_mul(nt));
        mixed = g.binary(mixed, s);
    }
    Some(g.unary(mixed)) // ggml_scale
}

/// `build_hc_combine` (fused): 2·sigmoid(inject / hc) weighs the block output into each stream.
fn hc_combine(g: &mut Graph, residual: Id, out: Id, inject: Id) -> Id {
    let wt = g.unary(inject); // ggml_scale
    let wt = g.unary(wt); // sigmoid
    let wt = g.unary(wt); // ggml_scale
    g.hc_post(out, residual, wt, NONE)
}

/// `build_ple` on the streams `hidden` of block `il`: the gated value and its dilated causal
/// convolution (`ngram` apart, history in the block's PLE recurrent row) added to the streams.
#[allow(clippy::too_many_arguments)] // the layer's inputs
fn ple_block(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, emb: Id, hidden: Id, hc: u64, ngram: u64) -> Option<Id> {
    let [n_embd, _, nt, _] = g.ne(hidden);
    let hc_dim = n_embd.saturating_mul(hc);
    let wk = w.blk(g, il, "ple_key.weight")?;
    let key = g.mul_mat(wk, emb);
    let wv = w.blk(g, il, "ple_value.weight")?;
    let value = g.mul_mat(wv, emb);
    let grouped = |g: &mut Graph, x: Id, name: &'static str| -> Option<Id> {
        let t = g.reshape(x, [n_embd, hc, nt, 1]);
        let n = g.unary(t); // ggml_rms_norm
        let wn = w.blk(g, il, name)?;
        Some(g.binary(n, wn))
    };
    let key = grouped(g, key, "ple_norm_key.weight")?;
    let query = grouped(g, hidden, "ple_norm_query.weight")?;
    let kq = g.binary(key, query);
    let s = g.sum_rows(kq);
    let s = g.unary(s); // ggml_scale
    let a = g.unary(s); // abs
    let a = g.unary(a); // clamp
    let mag = g.unary(a); // sqrt
    let sgn = g.unary(s); // sgn
    let gate = g.binary(sgn, mag);
    let gate = g.unary(gate); // sigmoid
    let v3 = g.reshape(value, [n_embd, 1, nt, 1]);
    let v3 = g.repeat(v3, [n_embd, hc, nt, 1]);
    let gated = g.binary(v3, gate);
    let flat = g.reshape(gated, [hc_dim, nt, 1, 1]);
    let normalized = grouped(g, flat, "ple_norm_conv.weight")?;
    let normalized = g.reshape(normalized, [hc_dim, nt, 1, 1]);
    // build_conv_state_at over the PLE row.
    let kern = w.dim(il, "ple_conv1d.weight", 0)?;
    let hist = kern.saturating_sub(1).saturating_mul(ngram);
    if hist == 0 || kern > super::MAX_UNROLLED {
        return None;
    }
    let (nst, ns) = (b.n_seq_tokens, b.n_seqs);
    let row_total = hist.saturating_mul(hc_dim);
    let p_all = g.external(Ty::F32, [row_total, b.n_rs, 1, 1]);
    let rows = llm::build_rs(g, inp, b, p_all, row_total);
    let state = g.reshape(rows, [hist, hc_dim, ns, 1]);
    let x = g.reshape(normalized, [hc_dim, nst, ns, 1]);
    let xt = g.transpose(x);
    let padded = g.concat(state, xt, 0);
    let pb = g.t[padded as usize].nb;
    let tail = g.view_nd(padded, [hist, hc_dim, ns, 1], pb[1], pb[2], pb[3]);
    let tail = g.cont(tail, [hist, hc_dim, ns, 1]);
    let dst = g.view_nd(p_all, [row_total, ns, 1, 1], row_total.saturating_mul(4), 0, 0);
    let c = g.cpy(tail, dst);
    g.expand(c);
    let w_conv = w.blk_as_stored(g, il, "ple_conv1d.weight")?;
    let cb = g.t[w_conv as usize].nb;
    let mut conv = NONE;
    for _ in 0..kern {
        let v = g.view_nd(padded, [nst, hc_dim, ns, 1], pb[1], pb[2], pb[2].saturating_mul(ns));
        let t = g.transpose(v);
        let shifted = g.cont(t, g.ne(t));
        let wk = g.view_nd(w_conv, [1, hc_dim, 1, 1], cb[1], cb[1].saturating_mul(hc_dim), cb[1].saturating_mul(hc_dim));
        let wk = g.cont(wk, [1, hc_dim, 1, 1]);
        let wk = g.reshape(wk, [hc_dim, 1, 1, 1]);
        let wk = if g.t[wk as usize].ty == Ty::F32 { wk } else { g.cast(wk, Ty::F32) };
        let term = g.binary(shifted, wk);
        conv = if conv == NONE { term } else { g.binary(conv, term) };
    }
    let conv = g.unary(conv); // silu
    let conv = g.cont(conv, g.ne(conv));
    let conv = g.reshape(conv, [n_embd, hc, nt, 1]);
    let add = g.binary(gated, conv);
    Some(g.binary(hidden, add))
}

/// The QSA inputs of one compress ratio (shared by the layers that have it).
#[derive(Clone, Copy)]
struct Qsa {
    k_idxs: Id,
    cell_blk: Id,
    blk_cells: Id,
    blk_pos: Id,
    bias: Id,
    ratio: u64,
    n_blocks: u64,
}

impl Qsa {
    /// The inputs; the bias is per block, as the KQ mask is the cache's own
    /// ([n_kv, n_tokens / n_stream, 1, n_stream], no ALiBi).
    fn new(g: &mut Graph, b: &Batch, ratio: u64) -> Self {
        let ns = b.n_stream.max(1);
        let n_blocks = b.n_kv.div_ceil(ratio.max(1));
        Qsa {
            k_idxs: g.input(Ty::I64, [b.n_tokens, 1, 1, 1]),
            cell_blk: g.input(Ty::I32, [b.n_kv, ns, 1, 1]),
            blk_cells: g.input(Ty::I32, [ratio.saturating_mul(n_blocks), ns, 1, 1]),
            blk_pos: g.input(Ty::I32, [n_blocks.saturating_mul(4).saturating_mul(ns), 1, 1, 1]),
            bias: g.input(Ty::F32, [n_blocks, b.n_tokens / ns, ns, 1]),
            ratio,
            n_blocks,
        }
    }

    /// `build_qsa_top_k`: the cells each token attends, [width, n_tps, 1, n_stream] i32.
    #[allow(clippy::too_many_arguments)] // the layer's inputs
    fn top_k(&self, g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id, pos: Id, top_k: u64) -> Option<Id> {
        let (r, nbk, n_kv, nt) = (self.ratio, self.n_blocks, b.n_kv, b.n_tokens);
        let ns = b.n_stream.max(1);
        let n_tps = nt / ns;
        if r > super::MAX_UNROLLED {
            return None;
        }
        let idx_dim = w.dim(il, "indexer.k_norm.weight", 0)?;
        let wk = w.blk(g, il, "indexer.k_proj.weight")?;
        let k_raw = g.mul_mat(wk, cur);
        let k_raw = g.reshape(k_raw, [idx_dim, 1, nt, 1]);
        let cache = g.external(b.type_k, [idx_dim, n_kv, ns, 1]);
        llm::store_rows(g, b, cache, k_raw, self.k_idxs);
        let row = b.type_k.size().saturating_mul(idx_dim) / b.type_k.block();
        let k_all = g.view_nd(cache, [idx_dim, n_kv, ns, 1], row, row.saturating_mul(n_kv), row.saturating_mul(n_kv).saturating_mul(ns));
        let members = g.get_rows(k_all, self.blk_cells);
        let members = g.reshape(members, [idx_dim, r, nbk, ns]);
        let mb = g.t[members as usize].nb;
        let mut pooled = NONE;
        for _ in 0..r {
            let v = g.view_nd(members, [idx_dim, nbk, ns, 1], mb[2], mb[3], mb[3].saturating_mul(ns));
            let slice = g.cont(v, [idx_dim, nbk, ns, 1]);
            pooled = if pooled == NONE { slice } else { g.binary(pooled, slice) };
        }
        let pooled = g.unary(pooled); // ggml_scale
        let pooled = g.reshape(pooled, [idx_dim, nbk.saturating_mul(ns), 1, 1]);
        let pooled = llm::blk_norm(g, w, il, pooled, "indexer.k_norm.weight")?;
        let pooled = g.reshape(pooled, [idx_dim, 1, nbk.saturating_mul(ns), 1]);
        let pooled = g.rope(pooled, self.blk_pos);
        let pooled = g.reshape(pooled, [idx_dim, nbk, ns, 1]);
        let wq = w.blk(g, il, "indexer.q_proj.weight")?;
        let q = g.mul_mat(wq, cur);
        let n_idx_h = g.ne(q)[0] / idx_dim;
        if n_idx_h > super::MAX_UNROLLED {
            return None;
        }
        let q = g.reshape(q, [idx_dim, n_idx_h, nt, 1]);
        let q = llm::blk_norm(g, w, il, q, "indexer.q_norm.weight")?;
        let q = g.rope(q, pos);
        let q3 = g.reshape(q, [idx_dim, n_idx_h.saturating_mul(n_tps), ns, 1]);
        let score = g.mul_mat(pooled, q3);
        let score = g.reshape(score, [nbk, n_idx_h, n_tps, ns]);
        let score = g.unary(score); // relu
        let sb = g.t[score as usize].nb;
        let mut summed = NONE;
        for _ in 0..n_idx_h {
            let slice = g.view_nd(score, [nbk, n_tps, ns, 1], sb[2], sb[3], sb[3].saturating_mul(ns));
            summed = if summed == NONE { g.cont(slice, [nbk, n_tps, ns, 1]) } else { g.binary(summed, slice) };
        }
        let score = g.binary(summed, self.bias);
        let p = g.permute(score, [1, 0, 2, 3]);
        let p = g.cont(p, g.ne(p));
        let expanded = g.get_rows(p, self.cell_blk);
        let p = g.permute(expanded, [1, 0, 2, 3]);
        let expanded = g.cont(p, g.ne(p));
        let mask = inp.kq_mask;
        let mask = if g.t[mask as usize].ty == Ty::F32 { mask } else { g.cast(mask, Ty::F32) };
        let mask = g.reshape(mask, [n_kv, n_tps, ns, 1]);
        let expanded = g.binary(expanded, mask);
        let width = n_kv.min(top_k.saturating_add(r).saturating_sub(1));
        let top = g.top_k(expanded, width);
        let top = g.cont(top, g.ne(top));
        Some(g.reshape(top, [width, n_tps, 1, ns]))
    }
}
