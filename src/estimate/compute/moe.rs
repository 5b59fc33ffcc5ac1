//! `build_moe_ffn` (src/llama-graph.cpp:2007 at 0c1e570): router logits, softmax / sigmoid
//! gating, top-k by argsort, optional weight normalization and scale, separate up/gate/down
//! expert matrices (mul_mat_id, optional per-expert biases), per-expert views summed by a
//! chain of adds; plus the shared expert some families add.

use super::Weights;
use super::graph::{Graph, Id};
use super::llm;
use crate::model::GraphHints;

/// llama.cpp's LLAMA_MAX_EXPERTS bounds experts per token (and the graph size).
const MAX_EXPERTS_USED: u64 = 512;

/// How `build_moe_ffn` turns router logits into expert weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gating {
    /// LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX: softmax over all experts, then select.
    Softmax,
    /// LLAMA_EXPERT_GATING_FUNC_TYPE_SIGMOID.
    Sigmoid,
    /// LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX_WEIGHT: select on logits, softmax the chosen.
    SoftmaxWeight,
}

/// Routing options of one MoE block.
#[derive(Clone, Copy, Debug)]
pub struct Routing {
    /// Gating function.
    pub gating: Gating,
    /// `norm_w`: weights divided by their sum.
    pub norm_w: bool,
    /// `w_scale` is neither 0 nor 1, so the weights are scaled.
    pub scale: bool,
    /// Expert groups and groups used (`n_expert_groups`, `n_group_used`; 0 = no grouping).
    pub groups: (u64, u64),
    /// SwiGLU clamped (`swiglu_clamp_exp` / `_shexp` set for the block) in the routed and the
    /// shared experts: see [`llm::swiglu`].
    pub clamp: (bool, bool),
    /// LLM_FFN_SITU instead of SwiGLU (Kimi-K3), `Some(true)` when it also squashes `up`.
    pub situ: Option<bool>,
    /// The builder passes the per-expert scales (`ffn_{up,down}_exps.scale`, Nemotron-H):
    /// `build_lora_mm_id` gathers and multiplies them in.
    pub exp_scales: bool,
    /// Llama 4 (`arch == LLM_ARCH_LLAMA4` in `build_moe_ffn`): experts selected on the raw
    /// logits, and the weights multiply the input repeated per expert instead of the experts'
    /// outputs (`weight_before_ffn`).
    pub weight_before_ffn: bool,
}

/// What most families pass: softmax gating, normalized weights, no scale.
pub const SOFTMAX_NORM: Routing = Routing {
    gating: Gating::Softmax,
    norm_w: true,
    scale: false,
    groups: (0, 0),
    clamp: (false, false),
    situ: None,
    exp_scales: false,
    weight_before_ffn: false,
};

impl Routing {
    /// Routing read from the model's hyperparameters (deepseek2.cpp `load_arch_hparams`:
    /// gating 0 means softmax).
    pub fn from_hints(h: &GraphHints) -> Self {
        let gating = match h.expert_gating {
            2 => Gating::Sigmoid,
            3 => Gating::SoftmaxWeight,
            _ => Gating::Softmax,
        };
        Routing {
            gating,
            norm_w: h.expert_weights_norm,
            scale: h.expert_weights_scaled,
            groups: h.expert_groups,
            clamp: (false, false),
            situ: None,
            exp_scales: false,
            weight_before_ffn: false,
        }
    }
}

/// Routed experts of block `il` (`build_moe_ffn`): optional router bias
/// (`ffn_gate_inp.bias`), selection bias (`exp_probs_b.bias`) and per-expert biases
/// (`ffn_{up,gate,down}_exps.bias`, added with `ggml_add_id`).
pub fn moe_ffn(g: &mut Graph, w: &Weights, il: u32, cur: Id, n_used: u64, r: Routing) -> Option<Id> {
    let w_ffn_gate_inp = w.blk(g, il, "ffn_gate_inp.weight")?;
    let logits = g.mul_mat(w_ffn_gate_inp, cur);
    moe_ffn_logits(g, w, il, cur, logits, n_used, r)
}

/// [`moe_ffn`] with the router logits given (`probs_in`: Kimi-K3 scores the full-width input
/// while the experts run on a latent projection).
pub fn moe_ffn_logits(g: &mut Graph, w: &Weights, il: u32, cur: Id, logits: Id, n_used: u64, r: Routing) -> Option<Id> {
    let n_embd = g.ne(cur)[0];
    let nt = g.ne(cur)[1];
    let mut logits = logits;
    if let Some(bias) = w.blk(g, il, "ffn_gate_inp.bias") {
        logits = g.binary(logits, bias);
    }
    let n_expert = g.ne(logits)[0];
    if n_used > MAX_EXPERTS_USED {
        return None;
    }
    let k = n_used.clamp(1, n_expert.max(1));
    let probs = match r.gating {
        Gating::Softmax | Gating::Sigmoid => g.unary(logits), // ggml_soft_max / ggml_sigmoid
        Gating::SoftmaxWeight => logits,
    };
    let mut selection = match w.blk(g, il, "exp_probs_b.bias") {
        Some(bias) => g.binary(probs, bias),
        None => probs,
    };
    if r.weight_before_ffn {
        selection = logits;
    }
    let (n_groups, n_used_groups) = r.groups;
    if n_groups > 1 && n_used_groups > 0 && n_expert.is_multiple_of(n_groups) {
        selection = select_groups(g, selection, n_groups, n_used_groups);
    }
    let sorted = g.argsort(selection);
    let sn = g.t[sorted as usize].nb;
    let selected = g.view_nd(sorted, [k, nt, 1, 1], sn[1], sn[2], sn[3]);
    let probs3 = g.reshape(probs, [1, n_expert, nt, 1]);
    let mut weights = g.get_rows(probs3, selected);
    if r.gating == Gating::SoftmaxWeight {
        let w2 = g.reshape(weights, [k, nt, 1, 1]);
        let w2 = g.unary(w2); // ggml_soft_max
        weights = g.reshape(w2, [1, k, nt, 1]);
    }
    if r.norm_w {
        let w2 = g.reshape(weights, [k, nt, 1, 1]);
        let sum = g.sum_rows(w2);
        let sum = g.unary(sum); // ggml_clamp
        let w2 = g.binary(w2, sum); // ggml_div
        weights = g.reshape(w2, [1, k, nt, 1]);
    }
    if r.scale {
        weights = g.unary(weights);
    }
    g.expand(weights);
    let mut cur3 = g.reshape(cur, [n_embd, 1, nt, 1]);
    if r.weight_before_ffn {
        let rep = g.repeat(cur3, [n_embd, k, nt, 1]);
        cur3 = g.binary(rep, weights);
    }
    let expert = |g: &mut Graph, name: &'static str, x: Id| -> Option<Id> {
        let wt = w.blk(g, il, name)?;
        let mut y = g.mul_mat_id(wt, x, selected);
        let scale = if r.exp_scales { w.blk_f32(g, il, moe_name(name, "scale")) } else { None };
        if let Some(s) = scale {
            let n = g.ne(s)[0];
            let s = g.reshape(s, [1, n, 1, 1]);
            let s = g.repeat(s, [1, n, nt, 1]);
            let s = g.get_rows(s, selected);
            y = g.binary(y, s);
        }
        Some(match w.blk(g, il, moe_name(name, "bias")) {
            Some(b) => g.add_id(y, b, selected),
            None => y,
        })
    };
    let act = if w.has_blk(il, "ffn_gate_up_exps.weight") {
        // One merged projection, gate then up as views of its halves (build_moe_ffn's gate_up path).
        let gate_up = expert(g, "ffn_gate_up_exps.weight", cur3)?;
        let (ne, nb) = (g.ne(gate_up), g.t[gate_up as usize].nb);
        let half = [ne[0] / 2, ne[1], ne[2], 1];
        let gate = g.view_nd(gate_up, half, nb[1], nb[2], nb[3]);
        let up = g.view_nd(gate_up, half, nb[1], nb[2], nb[3]);
        glu(g, gate, up, r)
    } else {
        let up = expert(g, "ffn_up_exps.weight", cur3)?;
        gated_act(g, w, il, up, r, |g| expert(g, "ffn_gate_exps.weight", cur3))?
    };
    let experts = expert(g, "ffn_down_exps.weight", act)?;

    let experts = if r.weight_before_ffn { experts } else { g.binary(experts, weights) };
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
pub fn moe_ffn_shared(g: &mut Graph, w: &Weights, il: u32, cur: Id, n_used: u64, r: Routing) -> Option<Id> {
    let moe_out = moe_ffn(g, w, il, cur, n_used, r)?;
    if !w.has_blk(il, "ffn_up_shexp.weight") {
        return Some(moe_out);
    }
    let up = w.blk(g, il, "ffn_up_shexp.weight")?;
    let gate = w.blk(g, il, "ffn_gate_shexp.weight")?;
    let down = w.blk(g, il, "ffn_down_shexp.weight")?;
    let mut sh = llm::ffn_swiglu_clamped(g, cur, [up, gate, down], r.clamp.1);
    if let Some(w_gate) = w.blk(g, il, "ffn_gate_inp_shexp.weight") {
        let sg = g.mul_mat(w_gate, cur);
        let sg = g.unary(sg);
        sh = g.binary(sh, sg);
    }
    Some(g.binary(moe_out, sh))
}

/// Keeps the best `n_used` of `n_groups` expert groups (llama-graph.cpp:2094-2117): top-2
/// scores per group summed, top groups, the others filled with -inf (`ggml_fill` +
/// `ggml_set_rows`).
fn select_groups(g: &mut Graph, probs: Id, n_groups: u64, n_used: u64) -> Id {
    let [n_expert, nt, ..] = g.ne(probs);
    let per = n_expert / n_groups;
    let top_k = |g: &mut Graph, a: Id, k: u64| {
        let s = g.argsort(a);
        let (ne, nb) = (g.ne(s), g.t[s as usize].nb);
        g.view_nd(s, [k.min(ne[0]), ne[1], ne[2], ne[3]], nb[1], nb[2], nb[3])
    };
    let groups = g.reshape(probs, [per, n_groups, nt, 1]);
    let scores = top_k(g, groups, 2);
    let groups4 = g.reshape(groups, [1, per, n_groups, nt]);
    let scores = g.get_rows(groups4, scores);
    let scores = g.reshape(scores, [2.min(per), n_groups, nt, 1]);
    let scores = g.sum_rows(scores);
    let scores = g.reshape(scores, [n_groups, nt, 1, 1]);
    let chosen = top_k(g, scores, n_used);
    let kept = g.get_rows(groups, chosen);
    let filled = g.unary(groups); // ggml_fill (not the in-place variant)
    let masked = g.set_rows(filled, kept, chosen);
    g.reshape(masked, [n_expert, nt, 1, 1])
}

/// `ffn_*_exps.bias` / `.scale` for `ffn_*_exps.weight`.
fn moe_name(weight: &'static str, what: &str) -> &'static str {
    match (weight, what) {
        ("ffn_up_exps.weight", "bias") => "ffn_up_exps.bias",
        ("ffn_gate_exps.weight", "bias") => "ffn_gate_exps.bias",
        ("ffn_down_exps.weight", "bias") => "ffn_down_exps.bias",
        ("ffn_gate_up_exps.weight", "bias") => "ffn_gate_up_exps.bias",
        ("ffn_up_exps.weight" | "ffn_gate_up_exps.weight", _) => "ffn_up_exps.scale",
        ("ffn_gate_exps.weight", _) => "ffn_gate_exps.scale",
        _ => "ffn_down_exps.scale",
    }
}

/// The experts' activation on `up` with the gate projection `gate()` when the block has one;
/// without a gate an in-place unary chain (silu, relu, relu then sqr).
fn gated_act(g: &mut Graph, w: &Weights, il: u32, up: Id, r: Routing, gate: impl FnOnce(&mut Graph) -> Option<Id>) -> Option<Id> {
    if !w.has_blk(il, "ffn_gate_exps.weight") {
        return Some(g.unary(up));
    }
    let gate = gate(g)?;
    Some(glu(g, gate, up, r))
}

/// SITU, or SwiGLU (all GGML_OP_GLU: swiglu / geglu / swiglu_oai; clamped when set).
fn glu(g: &mut Graph, gate: Id, up: Id, r: Routing) -> Id {
    match r.situ {
        Some(linear) => llm::situ(g, gate, up, linear),
        None => llm::swiglu(g, gate, up, r.clamp.0),
    }
}
