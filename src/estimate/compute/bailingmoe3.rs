//! Ling / Bailing-MoE 3 (src/models/bailingmoe3.cpp at 0c1e570): KDA layers (kda.rs) with a
//! sigmoid-bounded gate, and MLA layers (absorbed, RoPE or M-RoPE, deepseek2.rs) whose output
//! is gated per head before `wo`; a dense FFN or a MoE with a shared expert, SwiGLU clamped in
//! the blocks that set a limit; the output rows are taken after the final norm.

use super::graph::{Graph, Id};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch};
use super::moe::{self, Routing};
use super::{Weights, deepseek2, kda};
use crate::model::{Geometry, LayerGeometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let inp = inputs::inp_hybrid_k(g, b);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, if geo.hints.mrope { 4 } else { 1 });
    for l in &layers {
        let il = l.index;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let cur = match l.kind {
            LayerKind::Recurrent => kda_layer(g, w, b, &inp, il, cur)?,
            LayerKind::Mla if w.has_blk(il, "attn_k_b.weight") => gated_mla(g, w, b, &inp, l, cur, pos)?,
            _ => return None,
        };
        let ffn_inp = g.binary(cur, inp_l);
        let cur = llm::blk_norm(g, w, il, ffn_inp, "ffn_norm.weight")?;
        let clamp = (geo.hints.swiglu_clamp(il, false), geo.hints.swiglu_clamp(il, true));
        let cur = if w.has_blk(il, "ffn_gate_inp.weight") {
            let routing = Routing { clamp, ..Routing::from_hints(&geo.hints) };
            moe::moe_ffn_shared(g, w, il, cur, l.n_experts_used, routing)?
        } else {
            let ws = [w.blk(g, il, "ffn_up.weight")?, w.blk(g, il, "ffn_gate.weight")?, w.blk(g, il, "ffn_down.weight")?];
            llm::ffn_swiglu_clamped(g, cur, ws, clamp.1)
        };
        inp_l = g.binary(cur, ffn_inp);
    }
    let w_output_norm = w.get(g, "output_norm.weight")?;
    let h = llm::rms_norm(g, inp_l, w_output_norm);
    let embd = g.get_rows(h, out_ids);
    llm::lm_head(g, w, embd, tok, &[h]);
    Some(())
}

/// The KDA branch: projections through the convolutions, gate = bound · sigmoid(A · (f_a·x +
/// dt_bias)), beta, the recurrence, output gate g_a·x.
fn kda_layer(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id) -> Option<Id> {
    let d = kda::Dims::new(w, il)?;
    let (nst, ns, nt) = (b.n_seq_tokens, b.n_seqs, b.n_tokens);
    let x = [(cur, w.blk(g, il, "attn_q.weight")?), (cur, w.blk(g, il, "attn_k.weight")?), (cur, w.blk(g, il, "attn_v.weight")?)];
    let qkv = kda::conv_qkv(g, w, b, inp, il, d, x)?;
    let f_a = w.blk(g, il, "ssm_f_a.weight")?;
    let gate = g.mul_mat(f_a, cur);
    let dt_b = w.blk(g, il, "ssm_dt.bias")?;
    let gate = g.binary(gate, dt_b);
    let gate = g.reshape(gate, [d.head_dim, d.n_head, nt, 1]);
    let a = w.blk(g, il, "ssm_a")?;
    let a = g.reshape(a, [1, d.n_head, 1, 1]);
    let gate = g.binary(gate, a);
    let gate = g.unary(gate); // sigmoid
    let gate = g.unary(gate); // scale by the lower bound
    let gate = g.reshape(gate, [d.head_dim, d.n_head, nst, ns]);
    let w_beta = w.blk(g, il, "ssm_beta.weight")?;
    let beta = g.mul_mat(w_beta, cur);
    let beta = g.reshape(beta, [1, d.n_head, nst, ns]);
    let beta = g.unary(beta); // sigmoid
    let out = kda::recurrence(g, b, inp, d, qkv, gate, beta);
    let g_a = w.blk(g, il, "ssm_g_a.weight")?;
    let out_gate = g.mul_mat(g_a, cur);
    kda::output(g, w, il, d, out, out_gate, "ssm_norm.weight")
}

/// The MLA branch: attention, a per-head sigmoid gate from the normed input, `wo`.
fn gated_mla(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, l: &LayerGeometry, x: Id, pos: Id) -> Option<Id> {
    let il = l.index;
    let n_head = l.n_head.max(1);
    let nt = b.n_tokens;
    let cur = deepseek2::mla_attn(g, w, b, inp, l, x, Some(pos))?;
    let wg = w.blk(g, il, "attn_gate.weight")?;
    let gate = g.mul_mat(wg, x);
    let gate = g.reshape(gate, [1, n_head, nt, 1]);
    let gate = g.unary(gate); // sigmoid
    let hv = g.ne(cur)[0] / n_head;
    let cur = g.reshape(cur, [hv, n_head, nt, 1]);
    let cur = g.binary(cur, gate);
    let cur = g.cont(cur, [hv.saturating_mul(n_head), nt, 1, 1]);
    let wo = w.blk(g, il, "attn_output.weight")?;
    Some(g.mul_mat(wo, cur))
}
