//! Nemotron-H (src/models/nemotron-h.cpp at 0c1e570, also run by `nemotron_h_moe`): each block
//! is one of a Mamba-2 layer (mamba2.rs), attention without RoPE (output bias optional), or a
//! squared-ReLU FFN, dense or a sigmoid-routed MoE (optionally in a latent space, with
//! per-expert scales) plus a shared expert; the output rows are taken after the final norm.

use super::graph::Graph;
use super::graph::Id;
use super::inputs;
use super::llm::{self, Batch};
use super::moe::{self, Gating, Routing};
use super::{Weights, mamba2, transformer};
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let inp = inputs::inp_layers(g, b, &layers, true);
    let (_, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let routing = Routing { gating: Gating::Sigmoid, exp_scales: true, ..Routing::from_hints(&geo.hints) };
    for l in &layers {
        let il = l.index;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let cur = match l.kind {
            LayerKind::Recurrent => mamba2::layer(g, w, b, &inp, il, cur)?,
            LayerKind::Attention => transformer::self_attn(g, w, b, &inp, l, cur, None, false)?,
            LayerKind::None if w.has_blk(il, "ffn_gate_inp.weight") => moe_layer(g, w, il, cur, l.n_experts_used, routing)?,
            LayerKind::None => llm::ffn_ungated(g, w, il, cur, false)?,
            _ => return None,
        };
        inp_l = g.binary(cur, inp_l);
    }
    let w_output_norm = w.get(g, "output_norm.weight")?;
    let h = llm::rms_norm(g, inp_l, w_output_norm);
    let embd = g.get_rows(h, out_ids);
    llm::lm_head(g, w, embd, tok, &[h]);
    Some(())
}

/// `build_ffn_layer`'s MoE branch: router logits on the input, experts on its latent
/// projection (projected back), plus the ungated shared expert.
fn moe_layer(g: &mut Graph, w: &Weights, il: u32, cur: Id, n_used: u64, r: Routing) -> Option<Id> {
    let latent = match w.blk(g, il, "ffn_latent_down.weight") {
        Some(d) => g.mul_mat(d, cur),
        None => cur,
    };
    let w_inp = w.blk(g, il, "ffn_gate_inp.weight")?;
    let logits = g.mul_mat(w_inp, cur);
    let mut out = moe::moe_ffn_logits(g, w, il, latent, logits, n_used, r)?;
    if let Some(up) = w.blk(g, il, "ffn_latent_up.weight") {
        out = g.mul_mat(up, out);
    }
    let sh = llm::ffn_ungated(g, w, il, cur, true)?;
    Some(g.binary(out, sh))
}
