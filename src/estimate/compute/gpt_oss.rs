//! Graph of gpt-oss (src/models/openai-moe.cpp at 0c1e570): full and sliding-window attention
//! layers (iswa cache) with Q/K/V/output biases and attention sinks (an extra source of the
//! softmax / flash-attention node, nothing allocated), then a MoE with router and expert
//! biases, SOFTMAX_WEIGHT gating and no weight normalization. The last layer's output is an
//! output (`t_h_nextn`) and is cut to the output rows only after the loop.

use super::graph::Graph;
use super::inputs;
use super::llm::{self, Batch};
use super::moe::{self, Gating, Routing};
use super::{Weights, transformer};
use crate::model::Geometry;

const ROUTING: Routing = Routing { gating: Gating::SoftmaxWeight, norm_w: false, ..moe::SOFTMAX_NORM };

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let caches = inputs::Caches::new(g, b, &layers);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    for l in &layers {
        let il = l.index;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let (inp, bl) = caches.layer(l.kind)?;
        let cur = transformer::self_attn(g, w, bl, inp, l, cur, Some(pos), false)?;
        let ffn_inp = g.binary(cur, inp_l);
        let cur = llm::blk_norm(g, w, il, ffn_inp, "post_attention_norm.weight")?;
        let cur = moe::moe_ffn(g, w, il, cur, l.n_experts_used, ROUTING)?;
        inp_l = g.binary(cur, ffn_inp);
    }
    let h_nextn = inp_l;
    let cur = g.get_rows(inp_l, out_ids);
    let w_output_norm = w.get(g, "output_norm.weight")?;
    let h = llm::rms_norm(g, cur, w_output_norm);
    llm::lm_head(g, w, h, tok, &[h_nextn]);
    Some(())
}
