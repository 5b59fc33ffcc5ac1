//! Falcon-H1 (src/models/falcon-h1.cpp at 0c1e570): every block runs attention (RoPE, no
//! output bias) and a Mamba-2 layer (mamba2.rs) side by side on the same normed input (the
//! norm is built twice), adds them, then a dense FFN with optional biases.

use super::graph::{Graph, Id};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch, KvLayer};
use super::{Weights, mamba2, transformer};
use crate::model::{Geometry, LayerGeometry};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let inp = inputs::inp_hybrid(g, b, &layers);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let attn_out = attn(g, w, b, &inp, l, cur, pos)?;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let ssm_out = mamba2::layer(g, w, b, &inp, il, cur)?;
        let cur = g.binary(attn_out, ssm_out);
        let mut inp_sa = g.binary(cur, inp_l);
        // llama.cpp also cuts `cur` to the output rows, but nothing reads that.
        if i + 1 == layers.len() {
            inp_sa = g.get_rows(inp_sa, out_ids);
        }
        let cur = llm::blk_norm(g, w, il, inp_sa, "ffn_norm")?;
        let cur = llm::ffn(g, w, il, cur)?;
        inp_l = g.binary(cur, inp_sa);
    }
    transformer::finish(g, w, inp_l, tok)
}

/// The attention half: `build_qkv`, RoPE, `build_attn` with `wo` and no bias.
fn attn(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, l: &LayerGeometry, x: Id, pos: Id) -> Option<Id> {
    let (q, k, v) = transformer::qkv(g, w, l.index, x, l.head_dim_k, l.n_head, l.n_head_kv)?;
    let q = g.rope(q, pos);
    let k = g.rope(k, pos);
    let kv = KvLayer::new(g, b, l.head_dim_k, l.head_dim_v, l.n_head_kv);
    let cur = llm::attn_kv(g, b, inp, &kv, q, k, v);
    let wo = w.blk(g, l.index, "attn_output.weight")?;
    Some(g.mul_mat(wo, cur))
}
