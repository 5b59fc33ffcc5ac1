//! Kimi-Linear (src/models/kimi-linear.cpp at 0c1e570): KDA layers (kda.rs) with a softplus
//! gate through a LoRA pair, and MLA layers without RoPE in their absorbed form
//! (deepseek2.rs), each followed by a dense FFN or a MoE with a shared expert.

use super::graph::{Graph, Id, NONE};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch};
use super::moe::Routing;
use super::{Weights, deepseek2, kda, transformer};
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing (or the MLA
/// layers are in their MHA form, which this does not model).
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let inp = inputs::inp_hybrid_k(g, b);
    let (_, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let routing = Routing { norm_w: true, ..Routing::from_hints(&geo.hints) };
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        g.expand(cur);
        let cur = match l.kind {
            LayerKind::Recurrent => kda_layer(g, w, b, &inp, il, cur)?,
            LayerKind::Mla if w.has_blk(il, "attn_k_b.weight") => deepseek2::mla(g, w, b, &inp, l, cur, None)?,
            _ => return None,
        };
        let last = (i + 1 == layers.len()).then_some(out_ids);
        inp_l = transformer::ffn_block(g, w, il, cur, inp_l, last, l.n_experts_used, routing)?;
    }
    transformer::finish(g, w, inp_l, tok)
}

/// The KDA branch of the layer loop on the normed input `cur` [n_embd, n_tokens] (also
/// Kimi-K3's: its gate through a lower bound has the same allocations, and its output gate
/// is one full-rank `ssm_g`).
pub fn kda_layer(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id) -> Option<Id> {
    let d = kda::Dims::new(w, il)?;
    let (nst, ns, nt) = (b.n_seq_tokens, b.n_seqs, b.n_tokens);
    let x = match w.blk(g, il, "attn_qkv.weight") {
        Some(wqkv) => {
            let qkv = g.mul_mat(wqkv, cur);
            let row = g.t[qkv as usize].nb[1];
            let di = d.head_dim.saturating_mul(d.n_head);
            let mut third = || {
                let v = g.view_nd(qkv, [di, nt, 1, 1], row, row.saturating_mul(nt), row.saturating_mul(nt));
                (g.cont(v, [di, nt, 1, 1]), NONE)
            };
            [third(), third(), third()]
        }
        None => [(cur, w.blk(g, il, "attn_q.weight")?), (cur, w.blk(g, il, "attn_k.weight")?), (cur, w.blk(g, il, "attn_v.weight")?)],
    };
    let qkv = kda::conv_qkv(g, w, b, inp, il, d, x)?;
    let lora = |g: &mut Graph, a: &'static str, bb: &'static str| -> Option<Id> {
        let wa = w.blk(g, il, a)?;
        let y = g.mul_mat(wa, cur);
        let wb = w.blk(g, il, bb)?;
        Some(g.mul_mat(wb, y))
    };
    let g1 = lora(g, "ssm_f_a.weight", "ssm_f_b.weight")?;
    let dt_b = w.blk(g, il, "ssm_dt.bias")?;
    let g1 = g.binary(g1, dt_b);
    let g1 = g.unary(g1); // softplus
    let g1 = g.reshape(g1, [d.head_dim, d.n_head, nt, 1]);
    let a = w.blk(g, il, "ssm_a")?;
    let a = g.reshape(a, [1, d.n_head, 1, 1]);
    let g1 = g.binary(g1, a);
    let g1 = g.reshape(g1, [d.head_dim, d.n_head, nst, ns]);
    let w_beta = w.blk(g, il, "ssm_beta.weight")?;
    let beta = g.mul_mat(w_beta, cur);
    let beta = g.reshape(beta, [1, d.n_head, nst, ns]);
    let beta = g.unary(beta); // sigmoid
    let out = kda::recurrence(g, b, inp, d, qkv, g1, beta);
    let g2 = match w.blk(g, il, "ssm_g.weight") {
        Some(wg) => g.mul_mat(wg, cur),
        None => lora(g, "ssm_g_a.weight", "ssm_g_b.weight")?,
    };
    kda::output(g, w, il, d, out, g2, "ssm_norm.weight")
}
