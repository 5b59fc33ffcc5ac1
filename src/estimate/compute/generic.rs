//! An approximate graph for decoder architectures without a builder of their own: the shape
//! most of llama.cpp's `src/models/*.cpp` share (embeddings; per block a norm, Q/K/V from
//! separate or fused projections with optional biases and Q/K norms, RoPE, attention over the
//! full or sliding-window cache, the output projection, optional post-norms, residuals, a dense
//! or mixture-of-experts FFN; a final norm and the LM head), built from the tensors the file has.
//! Architectures differ in details that move ggml-alloc's peak a little (an extra scale, a
//! layer norm instead of an RMS norm, a parallel residual), so the result is an estimate:
//! `compute()` labels it so, and tests/oracle_archs.rs measures how close it comes per
//! architecture.

use super::Weights;
use super::graph::{Graph, Id};
use super::inputs;
use super::llm::{self, Batch};
use super::moe;
use super::transformer;
use crate::model::{Geometry, LayerKind};

/// Architectures whose graph applies no RoPE: ALiBi or learned positions (`llama_model_rope_type`
/// says NONE, llama-model.cpp; StarCoder's learned positions are found by their tensor).
const NO_ROPE: &[&str] = &["gpt2", "mpt", "refact", "bloom", "jais"];

/// Architectures whose blocks run attention and FFN side by side on one normed input
/// (command-r.cpp, plamo.cpp, phi2.cpp). Cohere 2 does too (cohere2.cpp), and so built its small
/// model comes out exact, but the full-size Command R7B then comes out 27% over at 128K context
/// (how the logits fit after the last mask is freed): left sequential until that is understood.
const PARALLEL: &[&str] = &["command-r", "plamo", "phi2", "cohere2moe"];

/// Baichuan rotates only in its 7B model (32 layers); the others use ALiBi and build no position
/// input (baichuan.cpp: `inp_pos` only for `LLM_TYPE_7B`).
fn alibi_baichuan(geo: &Geometry) -> bool {
    geo.architecture == "baichuan" && geo.n_layers != 32
}

/// Architectures whose `build_moe_ffn` call passes `norm_w = false`: the expert weights are
/// used as the softmax gives them, with no sum / clamp / div (llada-moe.cpp).
const MOE_UNNORMALIZED: &[&str] = &["llada-moe"];

/// The routing the architecture's `build_moe_ffn` call asks for.
fn routing(geo: &Geometry) -> moe::Routing {
    moe::Routing { norm_w: !MOE_UNNORMALIZED.contains(&geo.architecture.as_str()), ..moe::SOFTMAX_NORM }
}

/// Builds the pp graph into `g`; `None` when the model is not of this shape.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    if geo.hints.attn_no_cache && geo.layers.iter().all(|l| l.recurrent.is_none()) {
        return build_no_cache(g, w, geo, b);
    }
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| !matches!(l.kind, LayerKind::Attention | LayerKind::Sliding) || !l.kv_cache || l.recurrent.is_some()) {
        return None;
    }
    let caches = inputs::Caches::new(g, b, &layers);
    let (pos, out_ids) = if alibi_baichuan(geo) {
        // No position input at all.
        let out_ids = g.input(super::graph::Ty::I32, [b.n_outputs, 1, 1, 1]);
        (out_ids, out_ids)
    } else {
        inputs::pos_and_out_ids(g, b, 1)
    };
    // Learned absolute positions (GPT-2, StarCoder, JAIS) are added to the embeddings; they and
    // ALiBi models (BLOOM, MPT, Refact) rotate nothing.
    let learned_pos = w.get(g, "position_embd.weight");
    if let Some(pe) = learned_pos {
        let p = g.get_rows(pe, pos);
        inp_l = g.binary(inp_l, p);
    }
    let rope = (learned_pos.is_none() && !NO_ROPE.contains(&geo.architecture.as_str()) && !alibi_baichuan(geo)).then_some(pos);
    inp_l = norm(g, w, None, inp_l, "token_embd_norm.weight", "token_embd_norm.bias");
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let normed = norm(g, w, Some(il), inp_l, "attn_norm.weight", "attn_norm.bias");
        let cur = normed;
        let (inp, bl) = caches.layer(l.kind)?;
        // Cohere 2 rotates only its sliding-window layers (cohere2.cpp); Cohere 2 MoE also its
        // leading dense ones (cohere2moe.cpp `force_rope`).
        let rope = match geo.architecture.as_str() {
            "cohere2" if l.kind != LayerKind::Sliding => None,
            "cohere2moe" if l.kind != LayerKind::Sliding && w.has_blk(il, "ffn_gate_inp.weight") => None,
            _ => rope,
        };
        let mut cur = if w.has_blk(il, "attn_qkv.weight") {
            fused_attn(g, w, bl, inp, l, cur, rope)?
        } else {
            transformer::self_attn(g, w, bl, inp, l, cur, rope, false)?
        };
        if PARALLEL.contains(&geo.architecture.as_str()) {
            // Attention and FFN both read the block's normed input; their sum joins the residual.
            let mut normed = normed;
            // Cohere 2 MoE keeps every row unless embeddings_nextn_masked (cohere2moe.cpp).
            if i + 1 == layers.len() && geo.architecture != "cohere2moe" {
                cur = g.get_rows(cur, out_ids);
                inp_l = g.get_rows(inp_l, out_ids);
                normed = g.get_rows(normed, out_ids);
            }
            let ffn_out = if w.has_blk(il, "ffn_gate_inp.weight") {
                moe::moe_ffn_shared(g, w, il, normed, l.n_experts_used, routing(geo))?
            } else {
                ffn(g, w, il, normed)?
            };
            let sum = g.binary(ffn_out, inp_l);
            inp_l = g.binary(sum, cur);
            continue;
        }
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_l = g.get_rows(inp_l, out_ids);
        }
        let cur = norm(g, w, Some(il), cur, "post_attention_norm.weight", "post_attention_norm.bias");
        let sa_out = g.binary(cur, inp_l);
        let cur = norm(g, w, Some(il), sa_out, "ffn_norm.weight", "ffn_norm.bias");
        let cur = if w.has_blk(il, "ffn_gate_inp.weight") { moe::moe_ffn_shared(g, w, il, cur, l.n_experts_used, routing(geo))? } else { ffn(g, w, il, cur)? };
        let cur = norm(g, w, Some(il), cur, "post_ffw_norm.weight", "post_ffw_norm.bias");
        inp_l = g.binary(cur, sa_out);
    }
    let h = norm(g, w, None, inp_l, "output_norm.weight", "output_norm.bias");
    llm::lm_head(g, w, h, tok, &[]);
    Some(())
}

/// `build_qkv` with one fused projection (`attn_qkv`): one mul_mat, then Q, K, V as views.
fn fused_attn(g: &mut Graph, w: &Weights, b: &Batch, inp: &inputs::Inputs, l: &crate::model::LayerGeometry, x: Id, pos: Option<Id>) -> Option<Id> {
    let il = l.index;
    let (hd, hv) = (l.head_dim_k, l.head_dim_v);
    let (q, k, v) = transformer::layer_qkv(g, w, l, x)?;
    let (q, k) = match pos {
        Some(pos) => (g.rope(q, pos), g.rope(k, pos)),
        None => (q, k),
    };
    let kv = llm::KvLayer::new(g, b, hd, hv, l.n_head_kv);
    let cur = llm::attn_kv(g, b, inp, &kv, q, k, v);
    let wo = w.blk(g, il, "attn_output.weight")?;
    let cur = g.mul_mat(wo, cur);
    Some(match w.blk(g, il, "attn_output.bias") {
        Some(bias) => g.binary(cur, bias),
        None => cur,
    })
}

/// A dense FFN: gated (SwiGLU-like) when the block has `ffn_gate`; else up, activation, down,
/// where an `ffn_up` twice as wide as `ffn_down`'s input holds gate and up together (Phi-3,
/// ChatGLM: `LLM_FFN_SWIGLU` without a gate, one `ggml_swiglu` halving the width).
fn ffn(g: &mut Graph, w: &Weights, il: u32, x: Id) -> Option<Id> {
    if w.has_blk(il, "ffn_gate.weight") {
        return llm::ffn(g, w, il, x);
    }
    let (up, down) = (w.blk(g, il, "ffn_up.weight")?, w.blk(g, il, "ffn_down.weight")?);
    if g.ne(up)[1] != g.ne(down)[0].saturating_mul(2) {
        return llm::ffn_ungated(g, w, il, x, false);
    }
    let mut cur = g.mul_mat(up, x);
    if let Some(b) = w.blk(g, il, "ffn_up.bias") {
        cur = g.binary(cur, b);
    }
    let cur = g.glu(cur);
    let mut cur = g.mul_mat(down, cur);
    if let Some(b) = w.blk(g, il, "ffn_down.bias") {
        cur = g.binary(cur, b);
    }
    Some(cur)
}

/// `build_norm` with an optional weight and bias (LLM_NORM / LLM_NORM_RMS alike for memory).
fn norm(g: &mut Graph, w: &Weights, il: Option<u32>, x: Id, name: &'static str, bias: &'static str) -> Id {
    let get = |g: &mut Graph, n: &'static str| match il {
        Some(il) => w.blk(g, il, n),
        None => w.get(g, n),
    };
    let Some(wt) = get(g, name) else { return x };
    let n = g.unary(x);
    let n = g.binary(n, wt);
    match get(g, bias) {
        Some(bt) => g.binary(n, bt),
        None => n,
    }
}

/// Encoders and other models without a cache (BERT and its kin, diffusion LMs): attention over
/// the micro-batch itself with an `[n_tokens, n_tokens]` mask (`build_attn_inp_no_cache`,
/// llama-graph.cpp:2757), post-norm blocks when the file has `attn_output_norm`.
fn build_no_cache(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    // Token types are fixed to 0: row 0 of the table is added to every token (bert.cpp), a view.
    if let Some(types) = w.get(g, "token_types.weight") {
        let row = g.view_1d(types, geo.n_embd);
        inp_l = g.binary(inp_l, row);
    }
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let learned_pos = w.get(g, "position_embd.weight");
    if let Some(pe) = learned_pos {
        let p = g.get_rows(pe, pos);
        inp_l = g.binary(inp_l, p);
    }
    inp_l = norm(g, w, None, inp_l, "token_embd_norm.weight", "token_embd_norm.bias");
    let ty = if b.flash_attn { super::graph::Ty::F16 } else { super::graph::Ty::F32 };
    let mask = g.input(ty, [b.n_tokens, b.n_tokens, 1, 1]);
    let swa_mask = if layers.iter().any(|l| l.kind == LayerKind::Sliding) { g.input(ty, [b.n_tokens, b.n_tokens, 1, 1]) } else { mask };
    let b1 = Batch { n_stream: 1, ..*b };
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let cur = norm(g, w, Some(il), inp_l, "attn_norm.weight", "attn_norm.bias");
        let (q, k, v) = transformer::layer_qkv(g, w, l, cur)?;
        let (q, k) = if learned_pos.is_none() { (g.rope(q, pos), g.rope(k, pos)) } else { (q, k) };
        // `build_attn` without a cache expands Q, K and V before `build_attn_mha`
        // (llama-graph.cpp:2800), as bert.rs does, so all three are computed before K and V are cast.
        for t in [q, k, v] {
            g.expand(t);
        }
        let m = if l.kind == LayerKind::Sliding { swa_mask } else { mask };
        let mut cur = llm::attn_mha(g, &b1, q, k, v, m, super::graph::NONE);
        let wo = w.blk(g, il, "attn_output.weight")?;
        cur = g.mul_mat(wo, cur);
        if let Some(bias) = w.blk(g, il, "attn_output.bias") {
            cur = g.binary(cur, bias);
        }
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_l = g.get_rows(inp_l, out_ids);
        }
        let sa_out = g.binary(cur, inp_l);
        let sa_out = norm(g, w, Some(il), sa_out, "attn_output_norm.weight", "attn_output_norm.bias");
        let cur = norm(g, w, Some(il), sa_out, "ffn_norm.weight", "ffn_norm.bias");
        let cur = if w.has_blk(il, "ffn_gate_inp.weight") { moe::moe_ffn_shared(g, w, il, cur, l.n_experts_used, routing(geo))? } else { ffn(g, w, il, cur)? };
        let out = g.binary(cur, sa_out);
        inp_l = norm(g, w, Some(il), out, "layer_output_norm.weight", "layer_output_norm.bias");
    }
    let h = norm(g, w, None, inp_l, "output_norm.weight", "output_norm.bias");
    if geo.hints.embeddings_only {
        // The result is the embeddings (`res->t_embd`): no LM head.
        g.set_output(h);
        g.expand(h);
    } else {
        llm::lm_head(g, w, h, tok, &[]);
    }
    Some(())
}
