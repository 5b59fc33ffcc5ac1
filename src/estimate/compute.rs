//! Compute buffer estimate. llama.cpp has no closed form for it: it reserves the worst-case
//! graph of one micro-batch (`sched_reserve`) and ggml-alloc packs the live tensors. This
//! model keeps the two phases that dominate: the output phase (logits for every token of
//! the micro-batch plus hidden states) and the attention phase (mask, and without flash
//! attention the full K·Q score matrix of one layer). Calibrated against recorded runs.

use super::settings::Resolved;
use crate::model::{Geometry, LayerKind};

/// Estimated compute buffer bytes for one device holding the whole graph.
pub fn compute_bytes(g: &Geometry, r: &Resolved, n_kv_full: u64, n_kv_swa: u64) -> u64 {
    let n_tok = r.n_ubatch;
    let f32b = 4u64;
    let hidden = g.n_embd * n_tok * f32b;
    let logits = g.n_vocab * n_tok * f32b;
    let output_phase = logits + 2 * hidden;

    let attn_layers = g.layers.iter().filter(|l| l.has_kv());
    let n_head = attn_layers.clone().map(|l| l.n_head).max().unwrap_or(0);
    let has_full = attn_layers.clone().any(|l| l.kind != LayerKind::Sliding);
    let n_kv = if has_full { n_kv_full } else { n_kv_swa };
    let attention_phase = if n_head == 0 {
        0
    } else if r.flash_attn {
        n_kv * n_tok * 2 + 4 * hidden
    } else {
        n_kv * n_tok * f32b * (n_head + 1) + 4 * hidden
    };
    let ffn = g.layers.iter().map(|l| l.ffn_size * l.n_experts_used.max(1)).max().unwrap_or(0) * n_tok * f32b * 3;
    output_phase.max(attention_phase).max(ffn + 2 * hidden)
}
