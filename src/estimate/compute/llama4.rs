//! Graph of Llama 4 (src/models/llama4.cpp at 0c1e570): chunked-attention layers on their own
//! cache (`llama_kv_cache_iswa`) and every fourth layer full attention without RoPE
//! (`n_no_rope_layer_step`, 4 unless the file turns sliding off, then every layer ropes),
//! where Q is multiplied by the temperature-tuning input (`build_inp_attn_scale`); an
//! unweighted Q/K RMS norm after RoPE (`use_kq_norm`, all but the 128-expert model); dense
//! and MoE blocks interleaved, the MoE one with sigmoid routing on the raw logits, the expert
//! weights applied to the input before the experts, and a shared expert.

use super::Weights;
use super::graph::{Graph, Ty};
use super::inputs::{self, Caches};
use super::llm::{self, Batch, KvLayer};
use super::moe::{self, Gating, Routing};
use super::transformer;
use crate::model::{Geometry, LayerKind};

/// `n_no_rope_layer_step` (llama-hparams.h default, kept when sliding is on).
const NO_ROPE_STEP: u32 = 4;
/// Llama 4 Maverick (LLM_TYPE_17B_128E) is the one without the Q/K norm.
const NO_KQ_NORM_EXPERTS: u64 = 128;

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| !matches!(l.kind, LayerKind::Attention | LayerKind::Sliding)) {
        return None;
    }
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let attn_scale = g.input(Ty::F32, [1, 1, b.n_tokens, 1]);
    let caches = Caches::new(g, b, &layers);
    // llama4.cpp `load_arch_hparams`: sliding off means RoPE on every layer.
    let sliding = layers.iter().any(|l| l.kind == LayerKind::Sliding);
    let kq_norm = geo.n_experts != NO_KQ_NORM_EXPERTS;
    let routing = Routing { gating: Gating::Sigmoid, norm_w: false, weight_before_ffn: true, ..Routing::from_hints(&geo.hints) };
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let use_rope = !sliding || (il + 1) % NO_ROPE_STEP != 0;
        let mut inp_sa = inp_l;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let (mut q, mut k, v) = transformer::qkv(g, w, il, cur, l.head_dim_k, l.n_head, l.n_head_kv)?;
        if use_rope {
            q = g.rope(q, pos);
            k = g.rope(k, pos);
        } else {
            q = g.binary(q, attn_scale);
        }
        if use_rope && kq_norm {
            q = g.unary(q);
            k = g.unary(k);
        }
        let (inp, bl) = caches.layer(l.kind)?;
        let kv = KvLayer::new(g, bl, l.head_dim_k, l.head_dim_v, l.n_head_kv);
        let cur = llm::attn_kv(g, bl, inp, &kv, q, k, v);
        let wo = w.blk(g, il, "attn_output.weight")?;
        let mut cur = g.mul_mat(wo, cur);
        if let Some(bias) = w.blk(g, il, "attn_output.bias") {
            cur = g.binary(cur, bias);
        }
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_sa = g.get_rows(inp_sa, out_ids);
        }
        let ffn_inp = g.binary(cur, inp_sa);
        let cur = llm::blk_norm(g, w, il, ffn_inp, "ffn_norm.weight")?;
        let cur = if w.has_blk(il, "ffn_gate_inp.weight") { moe::moe_ffn_shared(g, w, il, cur, l.n_experts_used, routing)? } else { llm::ffn(g, w, il, cur)? };
        inp_l = g.binary(cur, ffn_inp);
    }
    transformer::finish(g, w, inp_l, tok)
}
