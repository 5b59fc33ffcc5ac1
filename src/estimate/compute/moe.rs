//! `build_moe_ffn` (src/llama-graph.cpp:2007 at 0c1e570) as the Qwen MoE families call it:
//! softmax gating, top-k by argsort, normalized weights, separate up/gate/down expert
//! matrices (mul_mat_id), per-expert views summed by a chain of adds; plus the shared expert
//! some families add.

use super::graph::{Graph, Id};
use super::llm;
use super::Weights;

/// llama.cpp's LLAMA_MAX_EXPERTS bounds experts per token (and the graph size).
const MAX_EXPERTS_USED: u64 = 512;

/// Routed experts (`build_moe_ffn` with SOFTMAX gating and `norm_w`) of block `il`.
pub fn moe_ffn(g: &mut Graph, w: &Weights, il: u32, cur: Id, n_used: u64) -> Option<Id> {
    let n_embd = g.ne(cur)[0];
    let nt = g.ne(cur)[1];
    let w_ffn_gate_inp = w.blk(g, il, "ffn_gate_inp.weight")?;
    let logits = g.mul_mat(w_ffn_gate_inp, cur);
    let n_expert = g.ne(logits)[0];
    if n_used > MAX_EXPERTS_USED {
        return None;
    }
    let k = n_used.clamp(1, n_expert.max(1));
    let probs = g.unary_like(logits, true, &[logits]); // ggml_soft_max (GGML_OP_SOFT_MAX)
    let sorted = g.argsort(probs);
    let sn = g.t[sorted as usize].nb;
    let selected = g.view_nd(sorted, [k, nt, 1, 1], sn[1], sn[2], sn[3]);
    let probs3 = g.reshape(probs, [1, n_expert, nt, 1]);
    let weights = g.get_rows(probs3, selected);
    let weights = g.reshape(weights, [k, nt, 1, 1]);
    let sum = g.sum_rows(weights);
    let sum = g.unary(sum); // ggml_clamp
    let weights = g.binary(weights, sum); // ggml_div
    let weights = g.reshape(weights, [1, k, nt, 1]);
    g.expand(weights);
    let cur3 = g.reshape(cur, [n_embd, 1, nt, 1]);
    let w_ffn_up_exps = w.blk(g, il, "ffn_up_exps.weight")?;
    let up = g.mul_mat_id(w_ffn_up_exps, cur3, selected);
    let w_ffn_gate_exps = w.blk(g, il, "ffn_gate_exps.weight")?;
    let gate = g.mul_mat_id(w_ffn_gate_exps, cur3, selected);
    let act = g.glu_split(gate, up);
    let w_ffn_down_exps = w.blk(g, il, "ffn_down_exps.weight")?;
    let experts = g.mul_mat_id(w_ffn_down_exps, act, selected);
    let experts = g.binary(experts, weights);
    g.expand(experts);
    let en = g.t[experts as usize].nb;
    // The views are pushed back to back, so view i has id first + i.
    let first = g.t.len() as Id;
    for _ in 0..k {
        let v = g.view_nd(experts, [n_embd, nt, 1, 1], en[2], en[2].saturating_mul(nt), en[2].saturating_mul(nt));
        g.expand(v);
    }
    let mut out = first;
    for i in 1..k as Id {
        out = g.binary(out, first + i);
        g.expand(out);
    }
    if k == 1 {
        let n = g.ne(out);
        out = g.cont(out, n);
    }
    Some(out)
}

/// Routed experts plus, when the block has one, a shared expert added to them: gated by
/// sigmoid(ffn_gate_inp_shexp · x) when that tensor exists (qwen35moe.cpp / qwen3next.cpp
/// `build_layer_ffn`), plain otherwise (granite-hybrid.cpp `build_layer_ffn`).
pub fn moe_ffn_shared(g: &mut Graph, w: &Weights, il: u32, cur: Id, n_used: u64) -> Option<Id> {
    let moe_out = moe_ffn(g, w, il, cur, n_used)?;
    if !w.has_blk(il, "ffn_up_shexp.weight") {
        return Some(moe_out);
    }
    let up = w.blk(g, il, "ffn_up_shexp.weight")?;
    let gate = w.blk(g, il, "ffn_gate_shexp.weight")?;
    let down = w.blk(g, il, "ffn_down_shexp.weight")?;
    let mut sh = llm::ffn_swiglu(g, cur, up, gate, down);
    if let Some(w_gate) = w.blk(g, il, "ffn_gate_inp_shexp.weight") {
        let sg = g.mul_mat(w_gate, cur);
        let sg = g.unary(sg);
        sh = g.binary(sh, sg);
    }
    Some(g.binary(moe_out, sh))
}
