//! Nemotron-H (src/models/nemotron-h.cpp at 0c1e570, also run by `nemotron_h_moe`): each block
//! is one of a Mamba-2 layer (mamba2.rs), attention without RoPE (output bias optional), or a
//! squared-ReLU FFN; the output rows are taken after the final norm.

use super::graph::Graph;
use super::inputs;
use super::llm::{self, Batch};
use super::{Weights, mamba2, transformer};
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing or a block
/// routes experts (the MoE variant's graph is not modelled here).
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let inp = inputs::inp_layers(g, b, &layers, true);
    let (_, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    for l in &layers {
        let il = l.index;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let cur = match l.kind {
            LayerKind::Recurrent => mamba2::layer(g, w, b, &inp, il, cur)?,
            LayerKind::Attention => transformer::self_attn(g, w, b, &inp, l, cur, None, false)?,
            LayerKind::None if !w.has_blk(il, "ffn_gate_inp.weight") => llm::ffn_ungated(g, w, il, cur)?,
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
