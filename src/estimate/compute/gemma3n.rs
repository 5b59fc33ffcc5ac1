//! Graph of Gemma 3n (src/models/gemma3n.cpp at 0c1e570): Gemma 3's scaled embeddings and
//! sliding-window caches, plus per-layer token embeddings projected from the input
//! (`build_inp_per_layer`, `project_per_layer_inputs`, shared with Gemma 4), AltUp (the hidden
//! state kept as `n_altup` streams, predicted and corrected around each block), LAuReL (a
//! low-rank residual beside the attention), Gaussian top-k sparsity on the first 10 FFN gates,
//! and the last layers reading the KV cache of earlier ones (`n_layer_kv_from_start`).
//! The `.scale` multiplications `build_lora_mm` adds are in place on the product and left
//! out, as is the final logit soft-capping (in place on the logits).

use super::graph::{Graph, Id, Ty};
use super::inputs::{self, Caches};
use super::llm::{self, Batch, KvLayer};
use super::{Weights, transformer};
use crate::model::{Geometry, LayerGeometry};

/// Layers whose FFN gate goes through `gaussian_topk` (`n_layer_sparsity`, models.h).
const N_LAYER_SPARSITY: usize = 10;

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, inp_l, layers) = inputs::start(g, w, geo, b)?;
    let inp_l = g.unary(inp_l);
    let caches = Caches::new(g, b, &layers);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let n_layer = layers.len() as u64;
    let per_layer = per_layer_inputs(g, w, b, inp_l, n_layer)?;
    let nt = b.n_tokens;
    let n_embd = g.ne(inp_l)[0];
    // n_altup: the streams AltUp keeps, one plus the projections `altup_proj` holds.
    let altup_proj = w.get(g, "altup_proj.weight")?;
    let n_alt = g.ne(altup_proj)[2].saturating_add(1);
    let mut inp_l = {
        let target = magnitude(g, inp_l);
        let rep = g.repeat(inp_l, [n_embd, nt, n_alt - 1, 1]);
        let added = g.mul_mat(altup_proj, rep);
        let new = magnitude(g, added);
        let m = g.binary(added, target);
        let added = g.binary(m, new);
        g.concat(inp_l, added, 2)
    };
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let predictions = altup_predict(g, w, il, inp_l, n_embd)?;
        let active = slice(g, predictions, 0);
        let cur = llm::blk_norm(g, w, il, active, "attn_norm.weight")?;
        let laurel_out = laurel(g, w, il, cur)?;
        let cur = attention(g, w, &caches, l, cur, pos)?;
        let cur = llm::blk_norm(g, w, il, cur, "post_attention_norm.weight")?;
        let cur = g.binary(cur, active);
        let attn_laurel = g.binary(cur, laurel_out);
        let attn_laurel = g.unary(attn_laurel);
        let cur = llm::blk_norm(g, w, il, attn_laurel, "ffn_norm.weight")?;
        let cur = ffn(g, w, il, cur, i < N_LAYER_SPARSITY)?;
        let cur = llm::blk_norm(g, w, il, cur, "post_ffw_norm.weight")?;
        let gated = g.binary(cur, attn_laurel);
        let corrected = altup_correct(g, w, il, predictions, gated, n_embd, n_alt)?;
        let first = slice(g, corrected, 0);
        let scale = w.blk(g, il, "altup_correct_scale.weight")?;
        let first = per_layer_embd(g, w, il, first, per_layer, i as u64, scale)?;
        let head = slice(g, corrected, 0);
        let rest = rest_view(g, corrected, n_alt);
        let tmp = g.binary(rest, first);
        inp_l = g.concat(head, tmp, 2);
    }
    // The streams merged back into one: the others unembedded, rescaled and averaged.
    let cur = inp_l;
    let first = slice(g, cur, 0);
    let target = magnitude(g, first);
    let rest = rest_view(g, cur, n_alt);
    let unembd = w.get(g, "altup_unembd_proj.weight")?;
    let un = g.mul_mat(unembd, rest);
    let new = magnitude(g, un);
    let m = g.binary(un, target);
    let un = g.binary(m, new);
    let mut cur = slice(g, cur, 0);
    for k in 0..n_alt - 1 {
        let s = slice(g, un, k);
        cur = g.binary(cur, s);
    }
    let cur = g.unary(cur);
    let cur = g.get_rows(cur, out_ids);
    transformer::finish(g, w, cur, tok)
}

/// `build_inp_per_layer` then `project_per_layer_inputs` (gemma3n.cpp, gemma4.cpp): the
/// per-layer token embeddings (`per_layer_token_embd` rows, expanded at once) plus the
/// normalized projection of the scaled input embeddings, as [n_embd_per_layer, n_tokens,
/// n_layer].
pub fn per_layer_inputs(g: &mut Graph, w: &Weights, b: &Batch, inp_l: Id, n_layer: u64) -> Option<Id> {
    let table = w.get(g, "per_layer_token_embd.weight")?;
    let e = g.ne(table)[0] / n_layer.max(1);
    let nt = b.n_tokens;
    let tokens = g.input(Ty::I32, [nt, 1, 1, 1]);
    let x = g.get_rows(table, tokens);
    let x = g.reshape(x, [e, n_layer, nt, 1]);
    let x = g.unary(x);
    g.expand(x);
    let proj = w.get(g, "per_layer_model_proj.weight")?;
    let p = g.mul_mat(proj, inp_l);
    let p = g.unary(p);
    let p = g.reshape(p, [e, n_layer, nt, 1]);
    let norm = w.get(g, "per_layer_proj_norm.weight")?;
    let p = llm::rms_norm(g, p, norm);
    let x = g.binary(p, x);
    let x = g.unary(x);
    let x = g.permute_0213(x);
    Some(g.cont(x, g.ne(x)))
}

/// The per-layer embedding applied to `x` ([n_embd, n_tokens]) in block `il`: `x` times
/// `scale` (Gemma 3n's `altup_correct_scale`, or `NONE`),
/// `per_layer_inp_gate`, GELU, times the layer's slice of `per_layer`, `per_layer_proj`,
/// `per_layer_post_norm`.
pub fn per_layer_embd(g: &mut Graph, w: &Weights, il: u32, x: Id, per_layer: Id, slot: u64, scale: Id) -> Option<Id> {
    let x = if scale == super::graph::NONE { x } else { g.binary(x, scale) };
    let gate = w.blk(g, il, "inp_gate.weight")?;
    let x = g.mul_mat(gate, x);
    let x = g.unary(x);
    let this = slice(g, per_layer, slot);
    let x = g.binary(x, this);
    let proj = w.blk(g, il, "proj.weight")?;
    let x = g.mul_mat(proj, x);
    llm::blk_norm(g, w, il, x, "post_norm.weight")
}

/// `gemma3n_view_2d_slice`: the `_idx`-th [ne0, ne1] plane of a 3-d tensor (a view: its
/// offset is no concern of ggml-alloc).
pub fn slice(g: &mut Graph, x: Id, _idx: u64) -> Id {
    let (ne, nb) = (g.ne(x), g.t[x as usize].nb);
    g.view_nd(x, [ne[0], ne[1], 1, 1], nb[1], nb[2], nb[2])
}

/// The planes 1.. of an AltUp stack (a view).
fn rest_view(g: &mut Graph, x: Id, n_alt: u64) -> Id {
    let (ne, nb) = (g.ne(x), g.t[x as usize].nb);
    g.view_nd(x, [ne[0], ne[1], n_alt - 1, 1], nb[1], nb[2], nb[2].saturating_mul(n_alt - 1))
}

/// `calc_magnitude`: sqrt(sum_rows(x²)).
fn magnitude(g: &mut Graph, x: Id) -> Id {
    let s = g.unary(x);
    let s = g.sum_rows(s);
    g.unary(s)
}

/// `altup_compute_router_modalities`: norm, scale, router, tanh ([n_altup, n_tokens]).
fn router(g: &mut Graph, w: &Weights, il: u32, x: Id) -> Option<Id> {
    let x = llm::blk_norm(g, w, il, x, "altup_router_norm.weight")?;
    let x = g.unary(x);
    let r = w.blk(g, il, "altup_router.weight")?;
    let x = g.mul_mat(r, x);
    Some(g.unary(x))
}

/// `altup_predict`: every stream predicted from all of them with per-token coefficients.
fn altup_predict(g: &mut Graph, w: &Weights, il: u32, cur: Id, n_embd: u64) -> Option<Id> {
    let active = slice(g, cur, 0);
    let modalities = router(g, w, il, active)?;
    let coef = w.blk(g, il, "altup_predict_coef.weight")?;
    let coefs = g.mul_mat(coef, modalities);
    let n_alt = g.ne(cur)[2];
    let nt = g.ne(cur)[1];
    let coefs = g.reshape(coefs, [n_alt, n_alt, nt, 1]);
    let p = g.permute(cur, [1, 2, 0, 3]);
    let p = g.cont(p, g.ne(p));
    let pred = g.mul_mat(p, coefs);
    let pred = g.permute_0213(pred);
    let pred = g.cont(pred, [n_embd, nt, n_alt, 1]);
    Some(g.binary(pred, cur))
}

/// `altup_correct`: the streams corrected by the block's innovation on the active one.
fn altup_correct(g: &mut Graph, w: &Weights, il: u32, predictions: Id, activated: Id, n_embd: u64, n_alt: u64) -> Option<Id> {
    let modalities = router(g, w, il, activated)?;
    let active = slice(g, predictions, 0);
    let innovation = g.binary(activated, active);
    let coef = w.blk(g, il, "altup_correct_coef.weight")?;
    let coefs = g.mul_mat(coef, modalities);
    let coefs = g.unary(coefs);
    let nt = g.ne(coefs)[1];
    let coefs = g.transpose(coefs);
    let coefs = g.cont(coefs, [1, nt, n_alt, 1]);
    let innovation = g.repeat(innovation, [n_embd, nt, n_alt, 1]);
    let corrected = g.binary(innovation, coefs);
    Some(g.binary(corrected, predictions))
}

/// `laurel`: a low-rank projection of the normed input, normed, plus the input.
fn laurel(g: &mut Graph, w: &Weights, il: u32, cur: Id) -> Option<Id> {
    let l = w.blk(g, il, "laurel_l.weight")?;
    let t = g.mul_mat(l, cur);
    let r = w.blk(g, il, "laurel_r.weight")?;
    let t = g.mul_mat(r, t);
    let t = llm::blk_norm(g, w, il, t, "laurel_post_norm.weight")?;
    Some(g.binary(t, cur))
}

/// The block's self-attention: Q/K norms, V's unweighted RMS norm, RoPE, then the layer's own
/// cache, or for the layers past `n_layer_kv_from_start` Q alone over an earlier layer's cache.
fn attention(g: &mut Graph, w: &Weights, caches: &Caches, l: &LayerGeometry, cur: Id, pos: Id) -> Option<Id> {
    let il = l.index;
    let (inp, bl) = caches.layer(l.kind)?;
    let kv = KvLayer::new(g, bl, l.head_dim_k, l.head_dim_v, l.n_head_kv);
    let cur = if l.has_kv() {
        let (q, k, v) = transformer::qkv(g, w, il, cur, l.head_dim_k, l.n_head, l.n_head_kv)?;
        let q = llm::blk_norm(g, w, il, q, "attn_q_norm.weight")?;
        let k = llm::blk_norm(g, w, il, k, "attn_k_norm.weight")?;
        let v = g.unary(v);
        let q = g.rope(q, pos);
        let k = g.rope(k, pos);
        llm::attn_kv(g, bl, inp, &kv, q, k, v)
    } else {
        let wq = w.blk(g, il, "attn_q.weight")?;
        let q = g.mul_mat(wq, cur);
        let nt = g.ne(q)[1];
        let q = g.reshape(q, [l.head_dim_k, l.n_head, nt, 1]);
        let q = llm::blk_norm(g, w, il, q, "attn_q_norm.weight")?;
        let q = g.rope(q, pos);
        llm::attn_kv_shared(g, bl, inp, &kv, q)
    };
    let wo = w.blk(g, il, "attn_output.weight")?;
    Some(g.mul_mat(wo, cur))
}

/// The GELU-gated FFN with the gate's Gaussian top-k sparsity when `sparse` (`gaussian_topk`:
/// mean, standard deviation, cutoff, relu of the excess).
fn ffn(g: &mut Graph, w: &Weights, il: u32, cur: Id, sparse: bool) -> Option<Id> {
    let up_w = w.blk(g, il, "ffn_up.weight")?;
    let up = g.mul_mat(up_w, cur);
    let gate_w = w.blk(g, il, "ffn_gate.weight")?;
    let mut gate = g.mul_mat(gate_w, cur);
    if sparse {
        // ggml_mean: a new [1, rows] tensor, never in place, as sum_rows.
        let mean = g.sum_rows(gate);
        let d = g.binary(gate, mean);
        let d = g.unary(d);
        let d = g.sum_rows(d);
        let d = g.unary(d);
        let std = g.unary(d);
        let s = g.unary(std);
        let cutoff = g.binary(mean, s);
        let x = g.binary(gate, cutoff);
        gate = g.unary(x);
    }
    let gate = g.unary(gate);
    let cur = g.binary(up, gate);
    let down = w.blk(g, il, "ffn_down.weight")?;
    Some(g.mul_mat(down, cur))
}
