//! Graph of GLM-5-Next (src/models/glm5-next.cpp at 0c1e570): KDA linear-attention layers
//! (Kimi-Linear's, `kimi_linear.rs`) and RoPE-less absorbed MLA layers with a pooled sparse
//! indexer (`build_kpool_select`), over `hc` hyper-connection streams mixed by ggml's fused
//! DeepSeek-V4 ops (`cparams.fused_dsv4_hc_*` are on and the CPU runs them). The indexer caches
//! each token's key, pool gate and pooled key in one row (`llama_memory_hybrid_idx`), pools the
//! keys of the pools a micro-batch completes (softmax over `indexer.kpool` members), scores the
//! pools with the fused lightning indexer, keeps the top `top_k / kpool` (plus the incomplete
//! tail) and scatters them into an attention mask over the cache; "shared" indexer layers reuse
//! the last full one's mask. The reserved graph sizes the pools for a full cache: `idx_size /
//! kpool * n_seq_max` real pools, all new, the cache safe. Small decode batches gather instead
//! (at most 16 tokens): not simulated.

use super::graph::{Graph, Id, Ty};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch};
use super::moe::{self, Routing};
use super::{Weights, hy_v4, kimi_linear, transformer};
use crate::model::{Geometry, LayerGeometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, inp0, layers) = inputs::start(g, w, geo, b)?;
    let inp = inputs::inp_hybrid_k(g, b);
    let pool = Kpool::new(g, w, geo, b, &layers)?;
    let (_, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let hc_mix = w.dim(layers.first()?.index, "hc_attn_base.weight", 0)?;
    let hc = 4; // ggml_dsv4_hc_comb takes four streams only
    if hc_mix != (2 + hc) * hc {
        return None;
    }
    let n_embd = g.ne(inp0)[0];
    let nt = b.n_tokens;
    let x = g.reshape(inp0, [n_embd, 1, nt, 1]);
    let mut inp_l = g.repeat(x, [n_embd, hc, nt, 1]);
    let routing = Routing::from_hints(&geo.hints);
    let mut prev_sel = None;
    for l in &layers {
        let il = l.index;
        let residual = inp_l;
        let (cur, post, comb) = hc_pre(g, w, il, inp_l, ["hc_attn_fn.weight", "hc_attn_scale.weight", "hc_attn_base.weight"], hc)?;
        let cur = llm::blk_norm(g, w, il, cur, "attn_norm.weight")?;
        g.expand(cur);
        let cur = match l.kind {
            LayerKind::Recurrent => kimi_linear::kda_layer(g, w, b, &inp, il, cur)?,
            LayerKind::Mla if w.has_blk(il, "attn_k_b.weight") => dsa_layer(g, w, b, &inp, &pool, l, cur, &mut prev_sel)?,
            _ => return None,
        };
        inp_l = g.hc_post(cur, residual, post, comb);
        let residual = inp_l;
        let (cur, post, comb) = hc_pre(g, w, il, inp_l, ["hc_ffn_fn.weight", "hc_ffn_scale.weight", "hc_ffn_base.weight"], hc)?;
        let cur = llm::blk_norm(g, w, il, cur, "ffn_norm.weight")?;
        let cur = if w.has_blk(il, "ffn_gate_inp.weight") { moe::moe_ffn_shared(g, w, il, cur, l.n_experts_used, routing)? } else { llm::ffn(g, w, il, cur)? };
        inp_l = g.hc_post(cur, residual, post, comb);
    }
    let flat = g.reshape(inp_l, [n_embd.saturating_mul(hc), nt, 1, 1]);
    let flat = g.get_rows(flat, out_ids);
    let inp_l = g.reshape(flat, [n_embd, hc, b.n_outputs, 1]);
    // build_hc_mean: the streams summed, then scaled.
    let xb = g.t[inp_l as usize].nb;
    let n_out = b.n_outputs;
    let mut acc = g.view_nd(inp_l, [n_embd, n_out, 1, 1], xb[2], xb[2].saturating_mul(n_out), xb[2].saturating_mul(n_out));
    for _ in 1..hc {
        let s = g.view_nd(inp_l, [n_embd, n_out, 1, 1], xb[2], xb[2].saturating_mul(n_out), xb[2].saturating_mul(n_out));
        acc = g.binary(acc, s);
    }
    let cur = g.unary(acc); // ggml_scale
    transformer::finish(g, w, cur, tok)
}

/// `build_hc_pre` with the fused ops: the streams RMS-normed and projected to (2 + hc)·hc
/// mixes, the pre and post weights from the first 2·hc, `ggml_dsv4_hc_comb` from all, and the
/// block input from `ggml_dsv4_hc_pre`. Returns (input, post, comb).
fn hc_pre(g: &mut Graph, w: &Weights, il: u32, x: Id, names: [&'static str; 3], hc: u64) -> Option<(Id, Id, Id)> {
    let xn = g.ne(x);
    let (mixes, w_scale, w_base) = hy_v4::hc_mixes(g, w, il, x, names)?;
    let nt = xn[2];
    let mnb = g.t[mixes as usize].nb[1];
    // pre: sigmoid(mixes[:hc]·scale + base) + eps; post: 2·sigmoid(mixes[hc:2hc]·scale + base).
    let gate = |g: &mut Graph| {
        let s = g.view_1d(w_scale, 1);
        let bse = g.view_1d(w_base, hc);
        let v = g.view_nd(mixes, [hc, nt, 1, 1], mnb, mnb.saturating_mul(nt), mnb.saturating_mul(nt));
        let v = g.binary(v, s);
        let v = g.binary(v, bse);
        let v = g.unary(v); // sigmoid
        g.unary(v) // ggml_scale_bias (pre) / ggml_scale (post)
    };
    let pre = gate(g);
    let post = gate(g);
    let comb = g.hc_comb(mixes, w_scale, w_base, hc);
    let out = g.hc_pre(x, pre, [xn[0], nt, 1, 1]);
    Some((out, post, comb))
}

/// The pooled indexer's inputs (`build_inp_kpool`) and sizes.
struct Kpool {
    k_idxs: Id,
    pool_cells: Id,
    pool_idxs: Id,
    pool_mask: Id,
    tail_idxs: Id,
    gather_mask: Id,
    new_pool_idxs: Id,
    new_pool_rep: Id,
    kpool: u64,
    n_pool: u64,
    n_new: u64,
    n_top_pool: u64,
    /// `kpool_select_tail`: the incomplete last pool joins the selection.
    tail: bool,
    hs: u64,
}

impl Kpool {
    fn new(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch, layers: &[&LayerGeometry]) -> Option<Self> {
        let kpool = geo.hints.indexer_kpool;
        let top_k = geo.hints.indexer_top_k;
        let nt = b.n_tokens;
        if kpool < 2 || top_k == 0 || !top_k.is_multiple_of(kpool) || nt <= 16 {
            return None; // llama.cpp refuses the first; small batches take the gather path
        }
        let il0 = layers.iter().find(|l| l.indexer.is_some())?.index;
        let hs = w.dim(il0, "indexer.k_norm.weight", 0)?;
        // llama_memory_hybrid_idx_context's full-cache constructor and kpool_pad.
        let n_pool_real = (b.n_kv / kpool).saturating_mul(b.n_seqs);
        let n_pool = n_pool_real.saturating_add(1).div_ceil(64).saturating_mul(64).max(64);
        let n_new = n_pool_real.max(1);
        let n_top_pool = n_pool.min(top_k / kpool);
        let tail = geo.hints.indexer_kpool_tail;
        let n_sel = kpool.saturating_mul(n_top_pool).saturating_add(if tail { kpool - 1 } else { 0 });
        let k_idxs = g.input(Ty::I64, [nt, 1, 1, 1]);
        let pool_cells = g.input(Ty::I32, [n_pool, 1, 1, 1]);
        let pool_idxs = g.input(Ty::I32, [kpool, n_pool, 1, 1]);
        let pool_mask = g.input(Ty::F16, [n_pool, nt, 1, 1]); // the fused indexer's f16 mask
        let tail_idxs = g.input(Ty::I32, [kpool - 1, nt, 1, 1]);
        for t in [pool_cells, pool_idxs, pool_mask, tail_idxs] {
            g.expand(t);
        }
        let gather_mask = g.input(Ty::F32, [n_sel, 1, 1, nt]);
        g.expand(gather_mask);
        let new_pool_idxs = g.input(Ty::I32, [kpool, n_new, 1, 1]);
        let new_pool_rep = g.input(Ty::I64, [n_new, 1, 1, 1]);
        Some(Kpool {
            k_idxs,
            pool_cells,
            pool_idxs,
            pool_mask,
            tail_idxs,
            gather_mask,
            new_pool_idxs,
            new_pool_rep,
            kpool,
            n_pool,
            n_new,
            n_top_pool,
            tail,
            hs,
        })
    }

    /// `build_kpool_select` (scatter path): the attention mask of the selected pools, with the
    /// cache's causal mask folded in: [n_kv, n_tokens].
    #[allow(clippy::too_many_arguments)] // the layer's inputs
    fn select(&self, g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id, qr: Id) -> Option<Id> {
        let (hs, kpool, n_pool, n_new, nt) = (self.hs, self.kpool, self.n_pool, self.n_new, b.n_tokens);
        let wq = w.blk(g, il, "indexer.attn_q_b.weight")?;
        let iq = g.mul_mat(wq, qr);
        let n_ih = g.ne(iq)[0] / hs;
        let iq = g.reshape(iq, [hs, n_ih, nt, 1]);
        let wk = w.blk(g, il, "indexer.attn_k.weight")?;
        let ik = g.mul_mat(wk, cur);
        let (nw, nb) = (w.blk_or_none(g, il, "indexer.k_norm.weight"), w.blk_or_none(g, il, "indexer.k_norm.bias"));
        let ik = llm::layer_norm(g, ik, nw, nb);
        let wg = w.blk(g, il, "indexer_compressor_gate.weight")?;
        let ig = g.mul_mat(wg, cur);
        let pzero = g.new_leaf(Ty::F32, [hs, nt, 1, 1]);
        let pzero = g.unary(pzero); // ggml_fill
        let packed = g.concat(ik, ig, 0);
        let packed = g.concat(packed, pzero, 0);
        let packed = g.reshape(packed, [hs.saturating_mul(3), 1, nt, 1]);
        let ns = b.n_stream.max(1);
        let cache = g.external(b.type_k, [hs.saturating_mul(3), b.n_kv, ns, 1]);
        llm::store_rows(g, b, cache, packed, self.k_idxs);
        // kpool_access: key|gate and pooled views of the whole storage.
        let row = b.type_k.size().saturating_mul(hs.saturating_mul(3)) / b.type_k.block();
        let n_cells = b.n_kv.saturating_mul(ns);
        let key_gate = g.view_nd(cache, [hs.saturating_mul(2), n_cells, 1, 1], row, row.saturating_mul(n_cells), row.saturating_mul(n_cells));
        let pooled_v = g.view_nd(cache, [hs, n_cells, 1, 1], row, row.saturating_mul(n_cells), row.saturating_mul(n_cells));
        let ids = g.reshape(self.new_pool_idxs, [kpool.saturating_mul(n_new), 1, 1, 1]);
        let rows = g.get_rows(key_gate, ids);
        let rows = g.reshape(rows, [hs.saturating_mul(2), kpool, n_new, 1]);
        let rb = g.t[rows as usize].nb;
        let pk = g.view_nd(rows, [hs, kpool, n_new, 1], rb[1], rb[2], rb[2].saturating_mul(n_new));
        let pg = g.view_nd(rows, [hs, kpool, n_new, 1], rb[1], rb[2], rb[2].saturating_mul(n_new));
        let ape = w.blk(g, il, "indexer_compressor_ape.weight")?;
        let logits = g.binary(pg, ape);
        let logits = g.permute(logits, [1, 0, 2, 3]);
        let logits = g.cont(logits, g.ne(logits));
        let logits = g.reshape(logits, [kpool, hs.saturating_mul(n_new), 1, 1]);
        let probs = g.unary(logits); // ggml_soft_max
        let probs = g.reshape(probs, [kpool, hs, n_new, 1]);
        let pk = g.permute(pk, [1, 0, 2, 3]);
        let pk = g.cont(pk, g.ne(pk));
        let prod = g.binary(probs, pk);
        let pooled_new = g.sum_rows(prod);
        let pooled_new = g.reshape(pooled_new, [hs, n_new, 1, 1]);
        let sc = g.set_rows(pooled_v, pooled_new, self.new_pool_rep);
        g.expand(sc);
        let pooled = g.get_rows(pooled_v, self.pool_cells);
        let pooled = g.reshape(pooled, [hs, 1, n_pool, 1]);
        let wp = w.blk(g, il, "indexer.proj.weight")?;
        let weights = g.mul_mat(wp, cur);
        let weights = g.unary(weights); // ggml_scale
        let score = g.lightning_indexer(iq, pooled, weights, self.pool_mask);
        let n_top = self.n_top_pool;
        let top = g.top_k(score, n_top);
        let score3 = g.reshape(score, [1, n_pool, nt, 1]);
        let sel_score = g.get_rows(score3, top);
        let sel_score = g.reshape(sel_score, [n_top, nt, 1, 1]);
        let order = g.argsort(sel_score);
        let top_f = g.cast(top, Ty::F32);
        let top_f = g.reshape(top_f, [1, n_top, nt, 1]);
        let top = g.get_rows(top_f, order);
        let top = g.reshape(top, [n_top, nt, 1, 1]);
        let top = g.cont(top, [n_top, nt, 1, 1]);
        let top = g.cast(top, Ty::I32);
        let top1 = g.reshape(top, [n_top.saturating_mul(nt), 1, 1, 1]);
        let sel_idx = g.get_rows(self.pool_idxs, top1);
        let mut sel_idx = g.reshape(sel_idx, [kpool.saturating_mul(n_top), nt, 1, 1]);
        if self.tail {
            sel_idx = g.concat(sel_idx, self.tail_idxs, 0);
        }
        let n_sel = g.ne(sel_idx)[0];
        // The scatter mask: -inf over the cache plus one dump row per slot, 0 on the selection.
        let n_kv = b.n_kv;
        let seed = g.view_1d(sel_idx, 1);
        let seed = g.cast(seed, Ty::F32);
        let mask_ty = g.t[inp.kq_mask as usize].ty;
        let mask_seed = if mask_ty == Ty::F32 { seed } else { g.cast(seed, mask_ty) };
        let mask_seed = g.unary(mask_seed); // ggml_fill -inf
        let mask_all = g.repeat(mask_seed, [1, n_kv.saturating_add(n_sel), nt, 1]);
        let mask_all = g.reshape(mask_all, [1, n_kv.saturating_add(n_sel), nt, 1]);
        let zero_seed = g.unary(seed); // ggml_fill 0
        let zeros = g.repeat(zero_seed, [1, n_sel, nt, 1]);
        let zeros = g.reshape(zeros, [1, n_sel, nt, 1]);
        let gm = g.reshape(self.gather_mask, [n_sel, nt, 1, 1]);
        let live = g.unary(gm); // ggml_exp
        let dump = g.arange(n_sel);
        let idx_f = g.cast(sel_idx, Ty::F32);
        let d = g.binary(idx_f, dump); // ggml_sub
        let d = g.binary(d, live);
        let idx_f = g.binary(d, dump);
        let sel_i = g.cast(idx_f, Ty::I32);
        let sel_i = g.reshape(sel_i, [n_sel, nt, 1, 1]);
        let sel = g.set_rows(mask_all, zeros, sel_i);
        let sb = g.t[sel as usize].nb;
        let sel = g.view_nd(sel, [n_kv, nt, 1, 1], sb[2], sb[2].saturating_mul(nt), sb[2].saturating_mul(nt));
        let kq = g.reshape(inp.kq_mask, [n_kv, nt, 1, 1]);
        Some(g.binary(sel, kq))
    }
}

/// `build_dsa_layer` (scatter path): the RoPE-less absorbed MLA over the pooled selection,
/// `wo` included.
#[allow(clippy::too_many_arguments)] // the layer's inputs
fn dsa_layer(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, pool: &Kpool, l: &LayerGeometry, cur: Id, prev_sel: &mut Option<Id>) -> Option<Id> {
    let il = l.index;
    let (n_head, nt) = (l.n_head.max(1), b.n_tokens);
    let wq_a = w.blk(g, il, "attn_q_a.weight")?;
    let qr = g.mul_mat(wq_a, cur);
    let qr = llm::blk_norm(g, w, il, qr, "attn_q_a_norm.weight")?;
    let wq_b = w.blk(g, il, "attn_q_b.weight")?;
    let q = g.mul_mat(wq_b, qr);
    let nope = g.ne(q)[0] / n_head;
    let q = g.reshape(q, [nope, n_head, nt, 1]);
    let wkv = w.blk(g, il, "attn_kv_a_mqa.weight")?;
    let kv = g.mul_mat(wkv, cur);
    let kv = llm::blk_norm(g, w, il, kv, "attn_kv_a_norm.weight")?;
    let kv_lora = g.ne(kv)[0];
    let kv = g.reshape(kv, [kv_lora, 1, nt, 1]);
    let qa = g.permute_0213(q);
    let wk_b = w.blk(g, il, "attn_k_b.weight")?;
    let qa = g.mul_mat(wk_b, qa);
    let qa = g.permute_0213(qa);
    let sel = match l.indexer {
        Some(_) => pool.select(g, w, b, inp, il, cur, qr)?,
        None => (*prev_sel)?,
    };
    *prev_sel = Some(sel);
    g.expand(qa);
    g.expand(kv);
    let ns = b.n_stream.max(1);
    let cache = g.external(b.type_k, [kv_lora, b.n_kv, ns, 1]);
    llm::store_rows(g, b, cache, kv, inp.k_idxs);
    let mask = g.reshape(sel, g.ne(inp.kq_mask));
    let row = b.type_k.size().saturating_mul(kv_lora) / b.type_k.block();
    let k = g.view_nd(cache, [kv_lora, 1, b.n_kv, ns], row, row, row.saturating_mul(b.n_kv));
    let v = g.view_nd(cache, [kv_lora, 1, b.n_kv, ns], row, row, row.saturating_mul(b.n_kv));
    let wv_b = w.blk(g, il, "attn_v_b.weight")?;
    let out = llm::attn_mha(g, b, qa, k, v, mask, wv_b);
    let wo = w.blk(g, il, "attn_output.weight")?;
    Some(g.mul_mat(wo, out))
}
