//! Graph of Phi-3 / Phi-4 (`phi3`, src/models/phi3.cpp at 0c1e570): RMS norms with optional
//! biases, `build_qkv` (fused `attn_qkv` as views, or separate projections with biases), RoPE,
//! Q scaled before attention, sliding-window layers on their own cache when the model has
//! them, the output projection's optional bias, then an ungated SwiGLU FFN (`ffn_up` holds
//! gate and up: `ggml_swiglu` halves it) or softmax-routed experts.

use super::Weights;
use super::graph::{Graph, Id};
use super::inputs::{self, Caches};
use super::llm::{self, Batch, KvLayer};
use super::moe::{self, Gating, Routing};
use super::transformer;
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| !matches!(l.kind, LayerKind::Attention | LayerKind::Sliding)) {
        return None;
    }
    let caches = Caches::new(g, b, &layers);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let routing = Routing { gating: Gating::Softmax, norm_w: true, ..Routing::from_hints(&geo.hints) };
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let mut residual = inp_l;
        let x = norm(g, w, il, inp_l, "attn_norm.weight", "attn_norm.bias")?;
        let (q, k, v) = transformer::layer_qkv(g, w, l, x)?;
        let q = g.rope(q, pos);
        let k = g.rope(k, pos);
        let q = g.unary(q);
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
            residual = g.get_rows(residual, out_ids);
        }
        let residual = g.binary(cur, residual);
        let x = norm(g, w, il, residual, "ffn_norm.weight", "ffn_norm.bias")?;
        let cur = if w.has_blk(il, "ffn_gate_inp.weight") {
            moe::moe_ffn(g, w, il, x, l.n_experts_used, routing)?
        } else {
            let up = w.blk(g, il, "ffn_up.weight")?;
            let t = g.mul_mat(up, x);
            let t = g.glu(t);
            let down = w.blk(g, il, "ffn_down.weight")?;
            g.mul_mat(down, t)
        };
        inp_l = g.binary(residual, cur);
    }
    let nw = w.get(g, "output_norm.weight")?;
    let mut h = llm::rms_norm(g, inp_l, nw);
    if let Some(bias) = w.get(g, "output_norm.bias") {
        h = g.binary(h, bias);
    }
    llm::lm_head(g, w, h, tok, &[]);
    Some(())
}

/// `build_norm` with LLM_NORM_RMS, the weight and an optional bias.
fn norm(g: &mut Graph, w: &Weights, il: u32, x: Id, weight: &'static str, bias: &'static str) -> Option<Id> {
    let n = llm::blk_norm(g, w, il, x, weight)?;
    Some(match w.blk(g, il, bias) {
        Some(b) => g.binary(n, b),
        None => n,
    })
}
