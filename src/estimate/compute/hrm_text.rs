//! Graph of HRM-Text (src/models/hrm-text.cpp at 0c1e570): two transformer stacks (low and
//! high) run alternately over the same tokens, `l_cycles` low passes then one high pass,
//! `h_cycles` times; each pass is `layers_per_stack` blocks with a KV cache slot of its own
//! (the file's blocks are the slots), weights shared by all passes of a stack (blocks
//! `0..lps` low, `lps..2·lps` high). A block: unweighted RMS norms, sigmoid-gated attention
//! before `wo`, a SwiGLU FFN; a stack ends in an unweighted RMS norm. The low state starts
//! from the learned `hrm.z_l_init`. There is no output norm: the LM head reads the last high
//! state's output rows.

use super::Weights;
use super::graph::{Graph, Id, NONE};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch, KvLayer};
use super::transformer;
use crate::model::{Geometry, LayerGeometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing or the
/// stack sizes do not match the blocks.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (lps, hc, lc) = geo.hints.hrm_stacks;
    let (tok, mut z_h, layers) = inputs::start(g, w, geo, b)?;
    let slots = lps.checked_mul(hc)?.checked_mul(lc.checked_add(1)?)?;
    if lps == 0 || hc == 0 || lc == 0 || layers.len() as u64 != slots || layers.iter().any(|l| l.kind != LayerKind::Attention) {
        return None;
    }
    let inp = inputs::inp_layers(g, b, &layers, false);
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let st = Stack { w, b, inp: &inp, layers: &layers, pos, lps };
    let mut z_l = w.get(g, "hrm.z_l_init")?;
    for h in 0..hc {
        for l in 0..lc {
            let x = g.binary(z_h, z_l);
            z_l = st.run(g, x, (h * (lc + 1) + l) * lps, 0)?;
        }
        let x = g.binary(z_h, z_l);
        z_h = st.run(g, x, (h * (lc + 1) + lc) * lps, lps)?;
    }
    let cur = g.get_rows(z_h, out_ids);
    llm::lm_head(g, w, cur, tok, &[]);
    Some(())
}

/// What every pass of a stack reads.
struct Stack<'a> {
    w: &'a Weights<'a>,
    b: &'a Batch,
    inp: &'a Inputs,
    layers: &'a [&'a LayerGeometry],
    pos: Id,
    lps: u64,
}

impl Stack<'_> {
    /// `build_stack`: the blocks of cache slots `slot_base..+lps` with the weights of blocks
    /// `blk_base..+lps`, then the stack's norm.
    fn run(&self, g: &mut Graph, mut cur: Id, slot_base: u64, blk_base: u64) -> Option<Id> {
        let (w, b) = (self.w, self.b);
        for i in 0..self.lps {
            let l = self.layers.get(usize::try_from(slot_base + i).ok()?)?;
            let bid = u32::try_from(blk_base + i).ok()?;
            let inp_sa = cur;
            let x = g.unary(cur);
            let w_gate = w.blk(g, bid, "attn_gate.weight")?;
            let gate = g.mul_mat(w_gate, x);
            let (q, k, v) = transformer::qkv(g, w, bid, x, l.head_dim_k, l.n_head, l.n_head_kv)?;
            let q = g.rope(q, self.pos);
            let k = g.rope(k, self.pos);
            let kv = KvLayer::new(g, b, l.head_dim_k, l.head_dim_v, l.n_head_kv);
            let att = llm::attn_kv(g, b, self.inp, &kv, q, k, v);
            let gate = g.unary(gate);
            let att = g.binary(att, gate);
            let wo = w.blk(g, bid, "attn_output.weight")?;
            let att = g.mul_mat(wo, att);
            let sa = g.binary(att, inp_sa);
            let x = g.unary(sa);
            let up = w.blk(g, bid, "ffn_up.weight")?;
            let gt = w.blk(g, bid, "ffn_gate.weight")?;
            let down = w.blk(g, bid, "ffn_down.weight")?;
            let x = llm::ffn_biased(g, x, [up, gt, down], [NONE; 3]);
            cur = g.binary(x, sa);
        }
        Some(g.unary(cur))
    }
}
