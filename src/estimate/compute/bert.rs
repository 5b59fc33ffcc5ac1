//! Graph of the BERT family (src/models/bert.cpp at 0c1e570, shared by bert, nomic-bert,
//! nomic-bert-moe, jina-bert-v2 (ALiBi: no positions) and jina-bert-v3; XLM-RoBERTa models such as BGE-M3 are converted as `bert`):
//! an encoder without a KV cache. Token embeddings plus the type row 0 (and, for `bert`, learned
//! positions), a layer norm, then per block: Q/K/V (fused or separate, optional layer-normed
//! Q/K), RoPE for the nomic and jina-v3 variants, attention over the micro-batch itself
//! (`build_attn_inp_no_cache`: an `[n_tokens, n_tokens]` mask, llama-graph.cpp:2757), the output
//! projection, residual and post-attention layer norm, a GELU or SwiGLU FFN (or GELU experts
//! every `moe_every_n_layers`), residual and output layer norm. The result is the embeddings
//! (`res->t_embd`): no LM head, and no pooling since the reserve runs without `embeddings`.

use super::Weights;
use super::graph::{Graph, Id, NONE, Ty};
use super::inputs;
use super::llm::{self, Batch};
use super::moe::{self, Routing};
use crate::model::{Geometry, LayerKind};

/// `build_moe_ffn` as bert.cpp calls it: softmax gating, weights neither normalized nor scaled
/// (`expert_weights_scale` is not read by these architectures, so it stays 0).
const BERT_MOE: Routing = Routing { norm_w: false, ..moe::SOFTMAX_NORM };

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let arch = geo.architecture.as_str();
    let rope = matches!(arch, "nomic-bert" | "nomic-bert-moe" | "jina-bert-v3");
    // `build_inp_pos` comes first, for every variant but jina-bert-v2 (ALiBi).
    let pos = if arch == "jina-bert-v2" { NONE } else { g.input(Ty::I32, [b.n_tokens, 1, 1, 1]) };
    let (_, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| !matches!(l.kind, LayerKind::Attention | LayerKind::Sliding)) {
        return None;
    }
    // Token types are fixed to 0 ("Sentence A"): row 0 of the table, a view, is added.
    if let Some(types) = w.get(g, "token_types.weight") {
        let row = g.view_1d(types, geo.n_embd);
        inp_l = g.binary(inp_l, row);
    }
    if arch == "bert" {
        let pe = w.get(g, "position_embd.weight")?;
        let p = g.get_rows(pe, pos);
        inp_l = g.binary(p, inp_l);
    }
    let (nw, nb) = (w.get(g, "token_embd_norm.weight")?, w.get(g, "token_embd_norm.bias")?);
    inp_l = llm::layer_norm(g, inp_l, nw, nb);
    // `build_attn_inp_no_cache`: the keys are the batch's own tokens, in one stream.
    let ty = if b.flash_attn { Ty::F16 } else { Ty::F32 };
    let mask = g.input(ty, [b.n_tokens, b.n_tokens, 1, 1]);
    let swa_mask = if layers.iter().any(|l| l.kind == LayerKind::Sliding) { g.input(ty, [b.n_tokens, b.n_tokens, 1, 1]) } else { mask };
    let out_ids = g.input(Ty::I32, [b.n_outputs, 1, 1, 1]);
    let b1 = Batch { n_stream: 1, ..*b };
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let (q, k, v) = super::transformer::layer_qkv(g, w, l, inp_l)?;
        let q = qk_norm(g, w, il, q, "attn_q_norm.weight", "attn_q_norm.bias");
        let k = qk_norm(g, w, il, k, "attn_k_norm.weight", "attn_k_norm.bias");
        let (q, k) = if rope { (g.rope(q, pos), g.rope(k, pos)) } else { (q, k) };
        // build_attn (no cache) expands Q, K, V together first (llama-graph.cpp:2800).
        for t in [q, k, v] {
            g.expand(t);
        }
        let m = if l.kind == LayerKind::Sliding { swa_mask } else { mask };
        let mut cur = llm::attn_mha(g, &b1, q, k, v, m, NONE);
        let wo = w.blk(g, il, "attn_output.weight")?;
        cur = g.mul_mat(wo, cur);
        if let Some(bias) = w.blk(g, il, "attn_output.bias") {
            cur = g.binary(cur, bias);
        }
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_l = g.get_rows(inp_l, out_ids);
        }
        cur = g.binary(cur, inp_l);
        cur = blk_layer_norm(g, w, il, cur, "attn_output_norm.weight", "attn_output_norm.bias");
        if w.has_blk(il, "attn_norm_2.weight") {
            cur = g.binary(cur, inp_l);
            cur = blk_layer_norm(g, w, il, cur, "attn_norm_2.weight", "attn_norm_2.bias");
        }
        let ffn_inp = cur;
        cur = if w.has_blk(il, "ffn_gate_inp.weight") {
            moe::moe_ffn(g, w, il, cur, l.n_experts_used, BERT_MOE)?
        } else if arch == "jina-bert-v2" {
            jina_v2_ffn(g, w, il, cur)?
        } else if arch == "nomic-bert" {
            // SwiGLU with a parallel gate, no biases.
            let (up, gate, down) = (w.blk(g, il, "ffn_up.weight")?, w.blk(g, il, "ffn_gate.weight")?, w.blk(g, il, "ffn_down.weight")?);
            llm::ffn_biased(g, cur, [up, gate, down], [NONE; 3])
        } else {
            // GELU, sequential: up (+ bias), gelu, down (+ bias).
            llm::ffn_ungated(g, w, il, cur, false)?
        };
        cur = g.binary(cur, ffn_inp);
        inp_l = blk_layer_norm(g, w, il, cur, "layer_output_norm.weight", "layer_output_norm.bias");
    }
    // `res->t_embd`, the graph's output.
    g.set_output(inp_l);
    g.expand(inp_l);
    Some(())
}

/// The optional Q or K layer norm: reshaped to 2-D, normed, reshaped back.
fn qk_norm(g: &mut Graph, w: &Weights, il: u32, x: Id, name: &'static str, bias: &'static str) -> Id {
    let Some(wt) = w.blk(g, il, name) else { return x };
    let bt = w.blk_or_none(g, il, bias);
    let ne = g.ne(x);
    let flat = g.reshape(x, [ne[0].saturating_mul(ne[1]), ne[2], 1, 1]);
    let n = llm::layer_norm(g, flat, wt, bt);
    g.reshape(n, ne)
}

/// `build_norm(.., LLM_NORM, il)` with a block's weight and bias (each optional).
fn blk_layer_norm(g: &mut Graph, w: &Weights, il: u32, x: Id, name: &'static str, bias: &'static str) -> Id {
    let (wt, bt) = (w.blk_or_none(g, il, name), w.blk_or_none(g, il, bias));
    llm::layer_norm(g, x, wt, bt)
}

/// jina-bert-v2's FFN (`build_ffn` with LLM_FFN_PAR): up (+ bias), then GEGLU against `ffn_gate`
/// when the block has one, else `ggml_geglu` halving an up projection wider than `ffn_down`'s
/// input (gate and up fused), else GELU; down (+ bias).
fn jina_v2_ffn(g: &mut Graph, w: &Weights, il: u32, x: Id) -> Option<Id> {
    let up = w.blk(g, il, "ffn_up.weight")?;
    let down = w.blk(g, il, "ffn_down.weight")?;
    let mut tmp = g.mul_mat(up, x);
    if let Some(bias) = w.blk(g, il, "ffn_up.bias") {
        tmp = g.binary(tmp, bias);
    }
    let cur = if let Some(gate) = w.blk(g, il, "ffn_gate.weight") {
        let gated = g.mul_mat(gate, x);
        g.glu_split(gated, tmp)
    } else if g.ne(up)[1] != g.ne(down)[0] {
        g.glu(tmp)
    } else {
        g.unary(tmp)
    };
    let mut cur = g.mul_mat(down, cur);
    if let Some(bias) = w.blk(g, il, "ffn_down.bias") {
        cur = g.binary(cur, bias);
    }
    Some(cur)
}
