//! Graph of Refact (src/models/refact.cpp at 0c1e570): a llama-like decoder with ALiBi (no
//! RoPE, no position input: the bias is a parameter of the softmax or flash attention), Q/K/V
//! biases through `build_qkv`, and no output or FFN biases in the graph even when the file has
//! them. The loader accepts experts, but the graph never routes to them: with no `ffn_up` the
//! FFN (`build_ffn` with null weights) is a bare SiLU of the normed input.

use super::Weights;
use super::graph::{Graph, NONE};
use super::inputs;
use super::llm::{self, Batch, KvLayer};
use super::transformer;
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| l.kind != LayerKind::Attention) {
        return None;
    }
    let inp = inputs::inp_layers(g, b, &layers, false);
    let (_, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let mut inp_sa = inp_l;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let (q, k, v) = transformer::qkv(g, w, il, cur, l.head_dim_k, l.n_head, l.n_head_kv)?;
        let kv = KvLayer::new(g, b, l.head_dim_k, l.head_dim_v, l.n_head_kv);
        let cur = llm::attn_kv(g, b, &inp, &kv, q, k, v);
        let wo = w.blk(g, il, "attn_output.weight")?;
        let mut cur = g.mul_mat(wo, cur);
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_sa = g.get_rows(inp_sa, out_ids);
        }
        let ffn_inp = g.binary(cur, inp_sa);
        let cur = llm::blk_norm(g, w, il, ffn_inp, "ffn_norm.weight")?;
        let cur = if w.has_blk(il, "ffn_up.weight") {
            let up = w.blk(g, il, "ffn_up.weight")?;
            let gate = w.blk(g, il, "ffn_gate.weight")?;
            let down = w.blk(g, il, "ffn_down.weight")?;
            llm::ffn_biased(g, cur, [up, gate, down], [NONE; 3])
        } else {
            g.unary(cur)
        };
        inp_l = g.binary(cur, ffn_inp);
    }
    transformer::finish(g, w, inp_l, tok)
}
