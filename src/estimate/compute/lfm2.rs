//! LFM2 / LFM2-MoE (src/models/lfm2.cpp at 0c1e570): short-convolution blocks
//! (short_conv.rs) and attention blocks (Q/K norms, RoPE, full or sliding-window cache), each
//! followed by a dense SwiGLU FFN or a MoE with normalized weights; the final norm is
//! `token_embd_norm`.

use super::graph::Graph;
use super::inputs::{self, Caches};
use super::llm::{self, Batch};
use super::moe::{self, Routing};
use super::{Weights, short_conv, transformer};
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut cur, layers) = inputs::start(g, w, geo, b)?;
    let rs = inputs::inp_mem(g, b, 0, (0, 0), true, false);
    let caches = Caches::new(g, b, &layers).hybrid();
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let routing = Routing { norm_w: true, ..Routing::from_hints(&geo.hints) };
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let mut prev = cur;
        let x = llm::blk_norm(g, w, il, cur, "attn_norm.weight")?;
        let mut x = match (l.kind, caches.layer(l.kind)) {
            (LayerKind::Recurrent, _) => short_conv::block(g, w, b, &rs, il, x)?,
            (_, Some((inp, bl))) => transformer::self_attn(g, w, bl, inp, l, x, Some(pos), false)?,
            _ => return None,
        };
        if i + 1 == layers.len() {
            x = g.get_rows(x, out_ids);
            prev = g.get_rows(prev, out_ids);
        }
        cur = g.binary(prev, x);
        let n = llm::blk_norm(g, w, il, cur, "ffn_norm.weight")?;
        let ffn = if w.has_blk(il, "ffn_gate_inp.weight") { moe::moe_ffn(g, w, il, n, l.n_experts_used, routing)? } else { llm::ffn(g, w, il, n)? };
        cur = g.binary(cur, ffn);
    }
    let w_norm = w.get(g, "token_embd_norm.weight")?;
    let h = llm::rms_norm(g, cur, w_norm);
    llm::lm_head(g, w, h, tok, &[]);
    Some(())
}
