//! Graph of Chameleon (src/models/chameleon.cpp at 0c1e570): a llama-shaped decoder whose Q and
//! K are layer-normed (LLM_NORM: `ggml_norm`, never in place) before RoPE, optionally with the
//! norms after attention and FFN instead of before (`swin_norm`), and whose logits are copied
//! once more by `ggml_set_1d` to blank the image tokens (a clamped 8192-wide leaf written into
//! a new tensor the size of the logits: GGML_OP_SET is not computed in place).

use super::Weights;
use super::graph::{Graph, Id, NONE, Ty};
use super::inputs;
use super::llm::{self, KvLayer};
use super::transformer;
use crate::model::{Geometry, LayerKind};

/// Image tokens chameleon.cpp suppresses: ids 4 to 8196.
const IMG_TOKENS: u64 = 8196 - 4;

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &llm::Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| l.kind != LayerKind::Attention) {
        return None;
    }
    let swin = geo.hints.swin_norm;
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let inp = inputs::inp_layers(g, b, &layers, false);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let mut inp_sa = inp_l;
        let cur = if swin { inp_l } else { llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")? };
        let (q, k, v) = transformer::qkv(g, w, il, cur, l.head_dim_k, l.n_head, l.n_head_kv)?;
        let q = qk_norm(g, w, il, q, "attn_q_norm.weight", "attn_q_norm.bias");
        let k = qk_norm(g, w, il, k, "attn_k_norm.weight", "attn_k_norm.bias");
        let (q, k) = (g.rope(q, pos), g.rope(k, pos));
        let kv = KvLayer::new(g, b, l.head_dim_k, l.head_dim_v, l.n_head_kv);
        let cur = llm::attn_kv(g, b, &inp, &kv, q, k, v);
        let wo = w.blk(g, il, "attn_output.weight")?;
        let mut cur = g.mul_mat(wo, cur);
        if let Some(s) = w.blk(g, il, "attn_output.scale") {
            cur = g.binary(cur, s);
        }
        if i + 1 == layers.len() {
            cur = g.get_rows(cur, out_ids);
            inp_sa = g.get_rows(inp_sa, out_ids);
        }
        if swin {
            cur = llm::blk_norm(g, w, il, cur, "attn_norm.weight")?;
        }
        let ffn_inp = g.binary(cur, inp_sa);
        let cur = if swin { ffn_inp } else { llm::blk_norm(g, w, il, ffn_inp, "ffn_norm.weight")? };
        let (up, gate, down) = (w.blk(g, il, "ffn_up.weight")?, w.blk(g, il, "ffn_gate.weight")?, w.blk(g, il, "ffn_down.weight")?);
        let mut cur = llm::ffn_biased(g, cur, [up, gate, down], [NONE; 3]);
        if swin {
            cur = llm::blk_norm(g, w, il, cur, "ffn_norm.weight")?;
        }
        inp_l = g.binary(cur, ffn_inp);
    }
    let onorm = w.get(g, "output_norm.weight")?;
    let h = llm::rms_norm(g, inp_l, onorm);
    let logits = llm::lm_head(g, w, h, tok, &[]);
    // The image tokens' logits: a plain leaf (no input flag, so ggml-alloc places it), clamped
    // in place, then set into a copy of the logits.
    let img = g.new_leaf(Ty::F32, [IMG_TOKENS, 1, 1, 1]);
    let img = g.unary(img);
    let out = g.unary_like(logits, false, &[logits, img]);
    g.set_output(out);
    g.expand(out);
    Some(())
}

/// The Q or K layer norm over [head_dim, heads, n_tokens] (`build_norm`, LLM_NORM), when the
/// block has one.
fn qk_norm(g: &mut Graph, w: &Weights, il: u32, x: Id, name: &'static str, bias: &'static str) -> Id {
    let Some(wt) = w.blk(g, il, name) else { return x };
    let bt = w.blk_or_none(g, il, bias);
    llm::layer_norm(g, x, wt, bt)
}
