//! Graph of AFMoE (src/models/afmoe.cpp at 0c1e570): scaled embeddings, Q/K norms, RoPE on
//! all but every fourth layer (`n_no_rope_layer_step`, 4 by default and never read from the
//! file), the attention output gated by sigmoid(`attn_gate` · x) before `wo`, post-attention
//! and post-FFN norms, sliding-window layers on their own cache, dense leading blocks then
//! MoE blocks (sigmoid gating unless the file says otherwise) with a shared expert.

use super::Weights;
use super::graph::{Graph, NONE};
use super::inputs::{self, Caches};
use super::llm::{self, Batch, KvLayer};
use super::moe::{self, Gating, Routing};
use super::transformer;
use crate::model::Geometry;

/// `n_no_rope_layer_step` (llama-hparams.h): every this-many-th layer has no RoPE.
const NO_ROPE_STEP: u32 = 4;

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, inp_l, layers) = inputs::start(g, w, geo, b)?;
    let mut inp_l = g.unary(inp_l);
    let caches = Caches::new(g, b, &layers);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let mut routing = Routing::from_hints(&geo.hints);
    // afmoe.cpp `load_arch_hparams`: sigmoid when the file sets no gating function.
    if geo.hints.expert_gating == 0 {
        routing.gating = Gating::Sigmoid;
    }
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let mut inp_sa = inp_l;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let (q, k, v) = transformer::qkv(g, w, il, cur, l.head_dim_k, l.n_head, l.n_head_kv)?;
        let w_gate = w.blk(g, il, "attn_gate.weight")?;
        let gate = g.mul_mat(w_gate, cur);
        let mut q = llm::blk_norm(g, w, il, q, "attn_q_norm.weight")?;
        let mut k = llm::blk_norm(g, w, il, k, "attn_k_norm.weight")?;
        if (il + 1) % NO_ROPE_STEP != 0 {
            q = g.rope(q, pos);
            k = g.rope(k, pos);
        }
        let (inp, bl) = caches.layer(l.kind)?;
        let kv = KvLayer::new(g, bl, l.head_dim_k, l.head_dim_v, l.n_head_kv);
        let cur = llm::attn_kv(g, bl, inp, &kv, q, k, v);
        let gate = g.unary(gate);
        let cur = g.binary(cur, gate);
        let wo = w.blk(g, il, "attn_output.weight")?;
        let cur = g.mul_mat(wo, cur);
        let mut cur = llm::blk_norm(g, w, il, cur, "post_attention_norm.weight")?;
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_sa = g.get_rows(inp_sa, out_ids);
        }
        let ffn_inp = g.binary(cur, inp_sa);
        let cur = llm::blk_norm(g, w, il, ffn_inp, "ffn_norm.weight")?;
        let cur = if w.has_blk(il, "ffn_gate_inp.weight") {
            let clamp = (geo.hints.swiglu_clamp(il, false), geo.hints.swiglu_clamp(il, true));
            moe::moe_ffn_shared(g, w, il, cur, l.n_experts_used, Routing { clamp, ..routing })?
        } else {
            let up = w.blk(g, il, "ffn_up.weight")?;
            let gate = w.blk(g, il, "ffn_gate.weight")?;
            let down = w.blk(g, il, "ffn_down.weight")?;
            llm::ffn_biased(g, cur, [up, gate, down], [NONE; 3])
        };
        let cur = llm::blk_norm(g, w, il, cur, "post_ffw_norm.weight")?;
        inp_l = g.binary(cur, ffn_inp);
    }
    transformer::finish(g, w, inp_l, tok)
}
