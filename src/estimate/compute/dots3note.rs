//! Graph of dots3note (src/models/dots3note.cpp at 0c1e570): DeepSeek-V3.2's absorbed MLA with
//! DSA sparse attention (`deepseek32.rs`: the same lightning indexer, Hadamard rotation and
//! sparse mask) on its full-attention layers, plain MLA over a sliding-window cache on the
//! others (`llama_kv_cache_dsa_iswa`: `build_attn_inp_k_dsa_iswa`, llama-graph.cpp:3376), each
//! layer with its own latent width and head count. The roped key part is RMS-normed before
//! RoPE (`attn_k_norm`), and a per-head sigmoid gate from the block's input scales the attention
//! output before `wo`. Leading dense blocks, then MoE blocks with a shared expert.

use super::deepseek2::{self, Mla};
use super::deepseek32::{self, Dsa};
use super::graph::Graph;
use super::inputs;
use super::llm::{self, Batch};
use super::moe::Routing;
use super::{Weights, transformer};
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    // The DSA cache's inputs (MLA then indexer), then the sliding-window cache's.
    let inp = inputs::inp_k(g, b);
    let dsa = Dsa::new(g, w, geo, b, &layers, true)?;
    let b_swa = Batch { n_kv: b.n_kv_swa, ..*b };
    let inp_swa = inputs::inp_k(g, &b_swa);
    let routing = Routing::from_hints(&geo.hints);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        if l.kind != LayerKind::Mla || !w.has_blk(il, "attn_k_b.weight") {
            return None;
        }
        let swa = l.window.is_some();
        let attn_inp = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let wq_a = w.blk(g, il, "attn_q_a.weight")?;
        let qr = g.mul_mat(wq_a, attn_inp);
        let qr = llm::blk_norm(g, w, il, qr, "attn_q_a_norm.weight")?;
        let o = Mla { pos: Some(pos), qr, k_pe_norm: true, ..Mla::PLAIN };
        let attn = if swa {
            deepseek2::mla_attn_with(g, w, &b_swa, &inp_swa, l, attn_inp, o)?
        } else {
            l.indexer?;
            let top = dsa.indexer(g, w, b, il, attn_inp, qr, pos)?;
            let mask = deepseek32::sparse_mask(g, &inp, top);
            deepseek2::mla_attn_with(g, w, b, &inp, l, attn_inp, Mla { mask, ..o })?
        };
        // The per-head gate: [n_head, n_tokens] broadcast over each head's values.
        let wg = w.blk(g, il, "attn_gate.weight")?;
        let gate = g.mul_mat(wg, attn_inp);
        let gate = g.unary(gate); // sigmoid
        let (an, gn) = (g.ne(attn), g.ne(gate));
        let heads = gn[0].max(1);
        let attn3 = g.reshape(attn, [an[0] / heads, heads, an[1], 1]);
        let gate3 = g.reshape(gate, [1, heads, gn[1], 1]);
        let gated = g.binary(attn3, gate3);
        let gated = g.reshape(gated, [an[0], an[1], 1, 1]);
        let wo = w.blk(g, il, "attn_output.weight")?;
        let cur = g.mul_mat(wo, gated);
        let last = (i + 1 == layers.len()).then_some(out_ids);
        inp_l = transformer::ffn_block(g, w, il, cur, inp_l, last, l.n_experts_used, routing)?;
    }
    transformer::finish(g, w, inp_l, tok)
}
