//! Compute buffer estimate. llama.cpp has no closed form for it: `sched_reserve`
//! (llama-context.cpp:614-760) builds the worst-case graph of one micro-batch (pp graph with
//! n_tokens = n_ubatch; the tg graph with n_seq_max tokens is always smaller) and ggml-alloc
//! (ggml/src/ggml-alloc.c:718-823) packs its tensors greedily: inputs (leafs) first, every node
//! freed once its last consumer ran, some ops reusing their parent in place
//! (`ggml_op_can_inplace`, ggml-alloc.c:22). The buffer is therefore the peak of
//! simultaneously-live tensors (plus fragmentation). This model takes the maximum over the
//! phases of the graph that can hold that peak:
//!
//! - output: logits plus two hidden states;
//! - per layer, FFN: the KQ masks (inputs, alive until the last attention layer) plus the FFN
//!   activations and the residual stream;
//! - per attention layer without flash attention: masks plus the K·Q score matrix;
//! - MLA (deepseek2): the absorbed query and the decompressed attention output;
//! - Mamba-2 and Gated DeltaNet layers: projections, convolution input/output and scan output.
//!
//! Sizes are in f32 elements per token of the micro-batch unless noted. The small coefficients
//! on the residual stream (2.5·n_embd, 4·n_embd) stand for the handful of `n_embd`-wide
//! tensors alive at that point plus the holes ggml-alloc leaves between them; they were read off
//! recorded runs (fixtures/oracle) and hold to within a few percent across dense, MoE, SWA, MLA
//! and hybrid models.

use crate::estimate::kv::kq_mask_bytes;
use crate::estimate::settings::Resolved;
use crate::model::{Geometry, LayerKind};
use crate::read::TensorEntry;
use std::collections::HashMap;

const F32: u64 = 4;
/// Largest tensor width taken into the estimate (real widths are below 2^20).
const MAX_WIDTH: u64 = 1 << 32;

/// Estimated compute buffer bytes for one device holding the whole graph.
/// `n_kv_full` / `n_kv_swa`: KV cells per stream of the full and sliding-window caches.
pub fn compute_bytes(g: &Geometry, tensors: &[TensorEntry], r: &Resolved, n_kv_full: u64, n_kv_swa: u64) -> u64 {
    let dims: HashMap<&str, &[u64]> = tensors.iter().map(|t| (t.name.as_str(), t.dims.as_slice())).collect();
    let width = |il: u32, name: &str, axis: usize| -> u64 {
        // Clamped so that hostile shapes cannot overflow the sums below.
        dims.get(format!("blk.{il}.{name}").as_str()).and_then(|d| d.get(axis).copied()).unwrap_or(0).min(MAX_WIDTH)
    };

    let t = r.n_ubatch; // graph_reserve(n_ubatch, ...) for the pp graph (llama-context.cpp:670-673)
    let e = g.n_embd;
    let tok = |floats: u64| floats.saturating_mul(t).saturating_mul(F32);
    let layers: Vec<_> = g.layers.iter().filter(|l| !l.mtp).collect();

    // KQ masks: inputs allocated as leafs before any node (ggml-alloc.c:725-728), alive
    // until the last attention layer.
    let masks = kq_mask_bytes(g, r, n_kv_full, n_kv_swa);

    // Output phase: result_output = mul_mat(output, norm) -> [n_vocab, n_outputs] f32 with
    // n_outputs = n_ubatch during reserve (llama-context.cpp:670), next to the final norm and
    // the last residual ([n_embd, n_tokens] each). The masks are freed by then.
    let mut peak = tok(g.n_vocab + 2 * e);

    for l in &layers {
        let il = l.index;
        // FFN phase (llm_graph_context::build_ffn / build_moe_ffn, llama-graph.cpp): gate, up and
        // the swiglu product are three [n_ff, n_tokens] tensors (MoE: [n_ff_exp, n_expert_used,
        // n_tokens] from mul_mat_id), beside ~4 residual-stream tensors.
        let n_used = l.n_experts_used.max(1);
        let ffn_act = l.ffn_size * n_used;
        // The routed-expert output [n_embd, n_expert_used, n_tokens] (build_moe_ffn
        // `experts`) is still alive when a shared expert (ffn_*_shexp) is evaluated next to it.
        let moe_out = if l.n_experts > 0 && l.n_experts_shared > 0 { e * n_used } else { 0 };
        peak = peak.max(masks.saturating_add(tok(3 * ffn_act + 4 * e + moe_out)));

        match l.kind {
            LayerKind::Attention | LayerKind::Sliding => {
                if !r.flash_attn {
                    // kq = mul_mat(k, q): [n_kv, n_tokens/n_stream, n_head, n_stream] f32
                    // (llama-graph.cpp build_attn_mha, `kq`), softmax in place. With flash
                    // attention this matrix never exists (ggml_flash_attn_ext).
                    let n_kv = if l.kind == LayerKind::Sliding { n_kv_swa } else { n_kv_full };
                    let kq = n_kv.saturating_mul(t).saturating_mul(l.n_head).saturating_mul(F32);
                    // Residual, normed input and Q around it; the FFN's freed tensors leave a
                    // hole of about half its width below kq.
                    peak = peak.max(masks.saturating_add(kq).saturating_add(tok(e * 5 / 2 + ffn_act / 2)));
                }
            }
            LayerKind::Mla => {
                // deepseek2 absorbed MLA (src/models/deepseek2.cpp): q_nope absorbed through
                // wk_b -> [kv_lora, n_head, T], concatenated with q_pe -> [kv_lora+rope, n_head, T]
                // (head_dim_k), and the attention output [kv_lora, n_head, T] before v_mla.
                let mut x = tok(l.n_head * (l.head_dim_k + 2 * l.head_dim_v) + e * 5 / 2);
                if !r.flash_attn {
                    // V is a view of the K cache (not transposed), so build_attn_mha does
                    // `v = ggml_cont(ggml_transpose(v))`: [n_kv, kv_lora] per stream, cache type.
                    let v_cont = r.type_k.row_bytes(l.head_dim_v).unwrap_or(l.head_dim_v * 2).saturating_mul(n_kv_full).saturating_mul(r.n_stream);
                    let kq = n_kv_full.saturating_mul(t).saturating_mul(l.n_head).saturating_mul(F32);
                    x = x.saturating_add(v_cont).saturating_add(kq);
                }
                peak = peak.max(masks.saturating_add(x));
            }
            LayerKind::Recurrent => {
                let Some(rs) = l.recurrent else { continue };
                // Per-sequence states gathered for the step: conv rows (build_rs) and the scan's
                // state output appended to y (ggml_ssm_scan / ggml_gated_delta_net).
                let states = rs.conv_elements.saturating_add(rs.state_elements).saturating_mul(r.n_seq_max * F32);
                let conv_ch = width(il, "ssm_conv1d.weight", 1);
                let d_inner = width(il, "ssm_out.weight", 0);
                let ssm_in = width(il, "ssm_in.weight", 1);
                let x = if ssm_in > 0 && dims.contains_key(format!("blk.{il}.ssm_d").as_str()) {
                    // Mamba-2 (src/models/mamba-base.cpp build_mamba2_layer): zxBCdt = ssm_in(x),
                    // conv_x = concat(conv_states, xBC^T) and ssm_conv's output (conv channels
                    // each), y from ssm_scan plus y*D / cont(z) (d_inner each), residual.
                    e + ssm_in + 2 * conv_ch + 2 * d_inner
                } else {
                    // Gated DeltaNet (src/models/delta-net-base.cpp, qwen35/qwen3next): input
                    // projections (qkv, gate z, beta/alpha), conv input and output over the
                    // qkv channels, fused ggml_gated_delta_net output [d_inner, T] (fused_gdn_ch).
                    let proj: u64 = ["attn_qkv.weight", "attn_gate.weight", "ssm_ba.weight", "ssm_alpha.weight", "ssm_beta.weight", "ssm_in.weight"]
                        .iter()
                        .map(|n| width(il, n, 1))
                        .sum();
                    e + proj + 2 * conv_ch + d_inner
                };
                peak = peak.max(masks.saturating_add(tok(x)).saturating_add(states));
            }
            LayerKind::None => {}
        }
    }
    peak
}
