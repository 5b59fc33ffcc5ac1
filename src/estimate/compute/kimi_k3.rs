//! Kimi-K3 (src/models/kimi-k3.cpp at 0c1e570): Kimi-Linear's KDA and RoPE-less MLA layers
//! (kimi_linear.rs, deepseek2.rs) plus cross-layer residual attention (earlier layer inputs,
//! banked every `attn_res.block_size` blocks, mixed back in by softmax scores before each
//! norm), a sigmoid output gate on MLA, SITU instead of SwiGLU, and latent MoE.

use super::graph::{Graph, Id, NONE};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch};
use super::moe::{self, Routing};
use super::{Weights, deepseek2, kimi_linear};
use crate::model::{Geometry, LayerGeometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let inp = inputs::inp_hybrid_k(g, b);
    let (_, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let bs = geo.hints.attn_res_block;
    let linear = geo.hints.situ_linear;
    let routing = Routing { situ: Some(linear), ..Routing::from_hints(&geo.hints) };
    let mut stack = NONE;
    let n_embd = geo.n_embd;
    for l in &layers {
        let il = l.index;
        let prefix = inp_l;
        let cur = mix(g, w, il, stack, prefix, "attn_res_score.weight")?;
        let banked = bs > 0 && u64::from(il).is_multiple_of(bs);
        if banked {
            let ckpt = g.reshape(prefix, [n_embd, 1, b.n_tokens, 1]);
            stack = if stack == NONE { ckpt } else { g.concat(stack, ckpt, 1) };
        }
        let cur = llm::blk_norm(g, w, il, cur, "attn_norm.weight")?;
        g.expand(cur);
        let cur = match l.kind {
            LayerKind::Recurrent => kimi_linear::kda_layer(g, w, b, &inp, il, cur)?,
            LayerKind::Mla if w.has_blk(il, "attn_k_b.weight") => gated_mla(g, w, b, &inp, l, cur)?,
            _ => return None,
        };
        let prefix = if banked { cur } else { g.binary(prefix, cur) };
        let cur = mix(g, w, il, stack, prefix, "ffn_res_score.weight")?;
        let cur = llm::blk_norm(g, w, il, cur, "ffn_norm.weight")?;
        let cur =
            if w.has_blk(il, "ffn_gate_inp.weight") { latent_moe(g, w, il, cur, l.n_experts_used, routing)? } else { situ_ffn(g, w, il, cur, "", linear)? };
        inp_l = g.binary(prefix, cur);
    }
    let mut cur = inp_l;
    if bs > 0 {
        let score = w.get(g, "output_res_score.weight")?;
        cur = res_mix(g, stack, cur, score);
    }
    let cur = g.get_rows(cur, out_ids);
    let w_norm = w.get(g, "output_norm.weight")?;
    let h = llm::rms_norm(g, cur, w_norm);
    llm::lm_head(g, w, h, tok, &[]);
    Some(())
}

/// [`res_mix`] with block `il`'s score weight `name` (nothing to mix before the first bank).
fn mix(g: &mut Graph, w: &Weights, il: u32, stack: Id, cur: Id, name: &'static str) -> Option<Id> {
    if stack == NONE {
        return Some(cur);
    }
    let score = w.blk(g, il, name)?;
    Some(res_mix(g, stack, cur, score))
}

/// `res_mix`: softmax over the banked checkpoints' and the current stream's RMS-normed scores,
/// the checkpoints summed by `ggml_dsv4_hc_pre`, the current stream by a broadcast multiply.
fn res_mix(g: &mut Graph, stack: Id, cur: Id, score_w: Id) -> Id {
    if stack == NONE {
        return cur;
    }
    let [n_embd, n_ckpt, nt, _] = g.ne(stack);
    let sc = g.unary(stack); // rms_norm
    let sc = g.binary(sc, score_w);
    let sc = g.sum_rows(sc);
    let sc_src = g.reshape(sc, [n_ckpt, nt, 1, 1]);
    let sc = g.unary(cur); // rms_norm
    let sc = g.binary(sc, score_w);
    let sc_cur = g.sum_rows(sc);
    let scores = g.concat(sc_src, sc_cur, 0);
    let probs = g.unary(scores); // soft_max
    let pn = g.t[probs as usize].nb;
    let p_src = g.view_nd(probs, [n_ckpt, nt, 1, 1], pn[1], pn[2], pn[3]);
    let p_src = g.cont(p_src, [n_ckpt, nt, 1, 1]);
    let p_cur = g.view_nd(probs, [1, nt, 1, 1], pn[1], pn[2], pn[3]);
    let p_cur = g.cont(p_cur, [1, nt, 1, 1]);
    let out = g.hc_pre(stack, p_src, [n_embd, nt, 1, 1]);
    let m = g.binary(cur, p_cur);
    g.binary(out, m)
}

/// The MLA layer: attention, times sigmoid(`attn_gate` · x) when the block has it, `wo`.
fn gated_mla(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, l: &LayerGeometry, x: Id) -> Option<Id> {
    let il = l.index;
    let mut out = deepseek2::mla_attn(g, w, b, inp, l, x, None)?;
    if let Some(wg) = w.blk(g, il, "attn_gate.weight") {
        let gate = g.mul_mat(wg, x);
        let gate = g.unary(gate); // sigmoid
        out = g.binary(out, gate);
    }
    let wo = w.blk(g, il, "attn_output.weight")?;
    Some(g.mul_mat(wo, out))
}

/// A dense FFN (`suffix` "") or the shared expert (`suffix` "_shexp") with SITU.
fn situ_ffn(g: &mut Graph, w: &Weights, il: u32, x: Id, suffix: &str, linear: bool) -> Option<Id> {
    let (gate_name, up_name, down_name) = if suffix.is_empty() {
        ("ffn_gate.weight", "ffn_up.weight", "ffn_down.weight")
    } else {
        ("ffn_gate_shexp.weight", "ffn_up_shexp.weight", "ffn_down_shexp.weight")
    };
    let wg = w.blk(g, il, gate_name)?;
    let gate = g.mul_mat(wg, x);
    let wu = w.blk(g, il, up_name)?;
    let up = g.mul_mat(wu, x);
    let cur = llm::situ(g, gate, up, linear);
    let wd = w.blk(g, il, down_name)?;
    Some(g.mul_mat(wd, cur))
}

/// `build_latent_moe`: router logits on the full-width input, routed experts on its latent
/// projection (normed and projected back), plus the shared expert.
fn latent_moe(g: &mut Graph, w: &Weights, il: u32, x: Id, n_used: u64, r: Routing) -> Option<Id> {
    let routed_in = match w.blk(g, il, "ffn_routed_down.weight") {
        Some(d) => g.mul_mat(d, x),
        None => x,
    };
    let w_inp = w.blk(g, il, "ffn_gate_inp.weight")?;
    let logits = g.mul_mat(w_inp, x);
    let mut out = moe::moe_ffn_logits(g, w, il, routed_in, logits, n_used, r)?;
    if w.has_blk(il, "ffn_routed_norm.weight") {
        out = llm::blk_norm(g, w, il, out, "ffn_routed_norm.weight")?;
    }
    if let Some(up) = w.blk(g, il, "ffn_routed_up.weight") {
        out = g.mul_mat(up, out);
    }
    if w.has_blk(il, "ffn_gate_shexp.weight") {
        let sh = situ_ffn(g, w, il, x, "_shexp", r.situ == Some(true))?;
        out = g.binary(out, sh);
    }
    Some(out)
}
