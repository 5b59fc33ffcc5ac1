//! Graph of HY-V4 (src/models/hy-v4.cpp at 0c1e570) with its sparse attention on
//! (`indexer.top_k` > 0: `llama_kv_cache_dsa`): DeepSeek-V3.2's absorbed MLA and lightning
//! indexer (`deepseek32.rs`) without the indexer's Hadamard rotation, attention sinks, and a
//! sigmoid gate on the decompressed attention output before `wo`; "shared" indexer layers reuse
//! the last full one's top-k. The residual is `hc` parallel streams (hyper-connections): before
//! each attention and FFN `build_hc_pre` mixes them into one input (and the weights
//! `build_hc_post` spreads the output back with), `build_hc_head` mixes them before the output
//! norm. Leading dense blocks, then MoE blocks with a shared expert. The dense form (no top-k)
//! is left to the generic graph: no recorded case covers it.

use super::deepseek2::{self, Mla};
use super::deepseek32::{self, Dsa};
use super::graph::{Graph, Id, Ty};
use super::inputs;
use super::llm::{self, Batch};
use super::moe::{self, Routing};
use super::{Weights, transformer};
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, inp, layers) = inputs::start(g, w, geo, b)?;
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let inp_k = inputs::inp_k(g, b);
    let dsa = Dsa::new(g, w, geo, b, &layers, false)?;
    let hc = w.dim(layers.first()?.index, "hc_attn_base.weight", 0)? / 2;
    let n_embd = g.ne(inp)[0];
    let nt = b.n_tokens;
    if hc == 0 || hc > super::MAX_UNROLLED {
        return None;
    }
    let x = g.reshape(inp, [n_embd, 1, nt, 1]);
    let mut inp_l = g.repeat(x, [n_embd, hc, nt, 1]);
    let routing = Routing::from_hints(&geo.hints);
    let mut last_top = None;
    for l in &layers {
        let il = l.index;
        if l.kind != LayerKind::Mla || !w.has_blk(il, "attn_k_b.weight") {
            return None;
        }
        let residual = inp_l;
        let (cur, post) = hc_pre(g, w, il, inp_l, ["hc_attn_fn.weight", "hc_attn_scale.weight", "hc_attn_base.weight"], hc)?;
        let cur = llm::blk_norm(g, w, il, cur, "attn_norm.weight")?;
        let wq_a = w.blk(g, il, "attn_q_a.weight")?;
        let qr = g.mul_mat(wq_a, cur);
        let qr = llm::blk_norm(g, w, il, qr, "attn_q_a_norm.weight")?;
        if l.indexer.is_some() {
            last_top = Some(dsa.indexer(g, w, b, il, cur, qr, pos)?);
        }
        let mask = deepseek32::sparse_mask(g, &inp_k, last_top?);
        let attn = deepseek2::mla_attn_with(g, w, b, &inp_k, l, cur, Mla { pos: Some(pos), qr, mask, sinks: true, ..Mla::PLAIN })?;
        let wg = w.blk(g, il, "attn_gate.weight")?;
        let gate = g.mul_mat(wg, cur);
        let gate = g.unary(gate); // sigmoid
        let attn = g.binary(attn, gate);
        let wo = w.blk(g, il, "attn_output.weight")?;
        let cur = g.mul_mat(wo, attn);
        inp_l = hc_post(g, cur, residual, post, hc);

        let residual = inp_l;
        let (cur, post) = hc_pre(g, w, il, inp_l, ["hc_ffn_fn.weight", "hc_ffn_scale.weight", "hc_ffn_base.weight"], hc)?;
        let cur = llm::blk_norm(g, w, il, cur, "ffn_norm.weight")?;
        let cur = if w.has_blk(il, "ffn_gate_inp.weight") { moe::moe_ffn_shared(g, w, il, cur, l.n_experts_used, routing)? } else { llm::ffn(g, w, il, cur)? };
        inp_l = hc_post(g, cur, residual, post, hc);
    }
    // The output rows, once, after the last block.
    let flat = g.reshape(inp_l, [n_embd.saturating_mul(hc), nt, 1, 1]);
    let flat = g.get_rows(flat, out_ids);
    let inp_l = g.reshape(flat, [n_embd, hc, b.n_outputs, 1]);
    let cur = hc_head(g, w, inp_l, hc)?;
    transformer::finish(g, w, cur, tok)
}

/// `build_hc_pre`: the streams `x` ([n_embd, hc, n_tokens]) RMS-normed and projected to
/// 2·hc mixes; the first hc weigh the streams into the block's input (`hy_v4_hc_reduce`), the
/// last hc are returned as the weights `build_hc_post` spreads the block's output with.
fn hc_pre(g: &mut Graph, w: &Weights, il: u32, x: Id, names: [&'static str; 3], hc: u64) -> Option<(Id, Id)> {
    let xn = g.ne(x);
    let (mixes, w_scale, w_base) = hc_mixes(g, w, il, x, names)?;
    let scale_pre = g.view_1d(w_scale, 1);
    let scale_post = g.view_1d(w_scale, 1);
    let base_pre = g.view_1d(w_base, hc);
    let base_post = g.view_1d(w_base, hc);
    let mnb = g.t[mixes as usize].nb[1];
    let nt = xn[2];
    let gate = |g: &mut Graph, scale: Id, base: Id, magnitude: bool| {
        let v = g.view_nd(mixes, [hc, nt, 1, 1], mnb, mnb.saturating_mul(nt), mnb.saturating_mul(nt));
        let v = g.binary(v, scale);
        let v = g.binary(v, base);
        let v = g.unary(v); // sigmoid
        let v = if magnitude { g.unary(v) } else { v }; // ggml_scale
        g.unary(v) // ggml_scale_bias
    };
    let pre = gate(g, scale_pre, base_pre, false);
    let post = gate(g, scale_post, base_post, true);
    Some((reduce(g, x, pre, hc), post))
}

/// The start every `build_hc_pre` shares (HY-V4, GLM-5-Next): the streams `x` ([n_embd, hc,
/// n_tokens]) flattened, RMS-normed and projected by the block's `hc_*_fn` weight; returns the
/// mixes and the block's scale and base weights, in llama.cpp's node order.
pub(super) fn hc_mixes(g: &mut Graph, w: &Weights, il: u32, x: Id, names: [&'static str; 3]) -> Option<(Id, Id, Id)> {
    let [fn_, scale, base] = names;
    let xn = g.ne(x);
    let flat = g.reshape(x, [xn[0].saturating_mul(xn[1]), xn[2], 1, 1]);
    let norm = g.unary(flat); // ggml_rms_norm
    let w_fn = w.blk(g, il, fn_)?;
    let mixes = g.mul_mat(w_fn, norm);
    Some((mixes, w.blk(g, il, scale)?, w.blk(g, il, base)?))
}

/// `hy_v4_hc_reduce`: the streams of `x` weighed by `wts` ([hc, n_tokens]) and summed in f32,
/// then cast back to `x`'s type: [n_embd, n_tokens].
fn reduce(g: &mut Graph, x: Id, wts: Id, hc: u64) -> Id {
    let [n_embd, _, nt, _] = g.ne(x);
    let x32 = g.cast(x, Ty::F32);
    let xnb = g.t[x32 as usize].nb;
    let wnb = g.t[wts as usize].nb;
    let mut result = None;
    for _ in 0..hc {
        let xh = g.view_nd(x32, [n_embd, nt, 1, 1], xnb[2], xnb[2].saturating_mul(nt), xnb[2].saturating_mul(nt));
        let wh = g.view_nd(wts, [1, nt, 1, 1], wnb[1], wnb[1].saturating_mul(nt), wnb[1].saturating_mul(nt));
        let cur = g.binary(xh, wh);
        result = Some(match result {
            Some(r) => g.binary(r, cur),
            None => cur,
        });
    }
    let ty = g.t[x as usize].ty;
    match result {
        Some(r) => g.cast(r, ty),
        None => x32,
    }
}

/// `build_hc_post`: the block's output `x` ([n_embd, n_tokens]) weighed per stream by `post`
/// and added to each residual stream, in f32: [n_embd, hc, n_tokens].
fn hc_post(g: &mut Graph, x: Id, residual: Id, post: Id, hc: u64) -> Id {
    let [n_embd, nt, ..] = g.ne(x);
    let x32 = g.cast(x, Ty::F32);
    let post32 = g.cast(post, Ty::F32);
    let res32 = g.cast(residual, Ty::F32);
    let (rnb, pnb) = (g.t[res32 as usize].nb, g.t[post32 as usize].nb);
    let mut out = None;
    for _ in 0..hc {
        let res_i = g.view_nd(res32, [n_embd, nt, 1, 1], rnb[2], rnb[2].saturating_mul(nt), rnb[2].saturating_mul(nt));
        let post_i = g.view_nd(post32, [1, nt, 1, 1], pnb[1], pnb[1].saturating_mul(nt), pnb[1].saturating_mul(nt));
        let m = g.binary(x32, post_i);
        let cur = g.binary(res_i, m);
        let cur = g.reshape(cur, [n_embd, 1, nt, 1]);
        out = Some(match out {
            Some(o) => g.concat(o, cur, 1),
            None => cur,
        });
    }
    let ty = g.t[residual as usize].ty;
    let out = out.unwrap_or(res32);
    g.cast(out, ty)
}

/// `build_hc_head`: the streams mixed into one hidden state before the output norm.
fn hc_head(g: &mut Graph, w: &Weights, x: Id, hc: u64) -> Option<Id> {
    let xn = g.ne(x);
    let flat = g.reshape(x, [xn[0].saturating_mul(xn[1]), xn[2], 1, 1]);
    let norm = g.unary(flat); // ggml_rms_norm
    let w_fn = w.get(g, "output_hc_fn.weight")?;
    let mixes = g.mul_mat(w_fn, norm);
    let (w_scale, w_base) = (w.get(g, "output_hc_scale.weight")?, w.get(g, "output_hc_base.weight")?);
    let pre = g.binary(mixes, w_scale);
    let pre = g.binary(pre, w_base);
    let pre = g.unary(pre); // sigmoid
    let pre = g.unary(pre); // ggml_scale_bias
    Some(reduce(g, x, pre, hc))
}
