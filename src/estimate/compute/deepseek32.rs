//! Graph of DeepSeek-V3.2 (src/models/deepseek32.cpp at 0c1e570): DeepSeek-V3's absorbed MLA
//! (`deepseek2.rs`) with DSA sparse attention. Each layer's lightning indexer projects the
//! low-rank query into `indexer.head_count` heads and the hidden state into one key head
//! (LayerNorm, NeoX RoPE on both, a Hadamard rotation), stores the key in the indexer cache
//! (`llama_kv_cache_dsa`'s second cache), scores every cached key with the fused
//! `ggml_lightning_indexer` (`cparams.fused_lid` is on and never probed: llama-context.cpp:237),
//! and keeps the `indexer.top_k` best cells; the attention mask is the cache's own plus -inf
//! everywhere but those cells (`build_attn` for `llm_graph_input_attn_k_dsa`,
//! llama-graph.cpp:3039). GLM-5 / 5.2 (`glm-dsa`, src/models/glm-dsa.cpp) is the same graph
//! but for the RoPE mode (no effect on memory) and its "shared" indexer layers, which have no
//! indexer cache and reuse the top-k of the last full one.

use super::deepseek2::{self, Mla};
use super::graph::{Graph, Id, NONE, Ty};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch};
use super::moe::Routing;
use super::{Weights, transformer};
use crate::model::{Geometry, LayerGeometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let inp = inputs::inp_k(g, b);
    let dsa = Dsa::new(g, w, geo, b, &layers, true)?;
    let routing = Routing::from_hints(&geo.hints);
    let mut prev_top = None;
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        if l.kind != LayerKind::Mla || !w.has_blk(il, "attn_k_b.weight") {
            return None;
        }
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        let wq_a = w.blk(g, il, "attn_q_a.weight")?;
        let qr = g.mul_mat(wq_a, cur);
        let qr = llm::blk_norm(g, w, il, qr, "attn_q_a_norm.weight")?;
        // GLM-5.2's "shared" indexer layers reuse the previous full layer's choice (glm-dsa.cpp).
        let top = match l.indexer {
            Some(_) => dsa.indexer(g, w, b, il, cur, qr, pos)?,
            None => prev_top?,
        };
        prev_top = Some(top);
        let mask = sparse_mask(g, &inp, top);
        let attn = deepseek2::mla_attn_with(g, w, b, &inp, l, cur, Mla { pos: Some(pos), qr, mask, ..Mla::PLAIN })?;
        let wo = w.blk(g, il, "attn_output.weight")?;
        let cur = g.mul_mat(wo, attn);
        let last = (i + 1 == layers.len()).then_some(out_ids);
        inp_l = transformer::ffn_block(g, w, il, cur, inp_l, last, l.n_experts_used, routing)?;
    }
    transformer::finish(g, w, inp_l, tok)
}

/// The indexer cache's inputs (`build_attn_inp_k_dsa_impl`, llama-graph.cpp:3336) and the
/// indexer's shape: what every DSA layer of a model shares.
pub struct Dsa {
    k_idxs: Id,
    /// F16: the mask of the fused indexer.
    kq_mask: Id,
    /// `self_k_rot_lid` when the indexer rotates q and k (Hadamard: DeepSeek-V3.2 and the
    /// architectures llama-kv-cache.cpp:327-332 names), else [`NONE`] (HY-V4 skips the
    /// rotation, which leaves q.k unchanged).
    k_rot: Id,
    /// The indexer's head size (`indexer.key_length`).
    hs: u64,
    /// `indexer.top_k`.
    top_k: u64,
}

impl Dsa {
    /// The indexer inputs for `layers` (the first with an indexer gives the head size), with
    /// the Hadamard rotation when `rotate`; `None` without an indexer, without `top_k`, or,
    /// rotated, with a head the rotation does not span (a power of two from 64).
    pub fn new(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch, layers: &[&LayerGeometry], rotate: bool) -> Option<Self> {
        let top_k = geo.hints.indexer_top_k;
        let il0 = layers.iter().find(|l| l.indexer.is_some())?.index;
        let hs = w.dim(il0, "indexer.k_norm.weight", 0)?;
        if top_k == 0 || (rotate && (!hs.is_power_of_two() || hs < 64)) {
            return None;
        }
        let ns = b.n_stream.max(1);
        Some(Dsa {
            k_idxs: g.input(Ty::I64, [b.n_tokens, 1, 1, 1]),
            kq_mask: g.input(Ty::F16, [b.n_kv, b.n_tokens / ns, 1, ns]),
            k_rot: if rotate { g.input(Ty::F32, [hs, hs, 1, 1]) } else { NONE },
            hs,
            top_k,
        })
    }

    /// The lightning indexer of block `il` (`None` when its head size is not the model's):
    /// the indices of the cells each token attends, [n_top_k, n_tokens / n_stream, 1,
    /// n_stream] i32.
    #[allow(clippy::too_many_arguments)] // the layer's inputs
    pub fn indexer(&self, g: &mut Graph, w: &Weights, b: &Batch, il: u32, cur: Id, qr: Id, pos: Id) -> Option<Id> {
        let hs = self.hs;
        if w.dim(il, "indexer.k_norm.weight", 0) != Some(hs) {
            return None;
        }
        let nt = b.n_tokens;
        let ns = b.n_stream.max(1);
        let wq = w.blk(g, il, "indexer.attn_q_b.weight")?;
        let q = g.mul_mat(wq, qr);
        let n_ih = g.ne(q)[0] / hs;
        let q = g.reshape(q, [hs, n_ih, nt, 1]);
        let q = g.rope(q, pos);
        let wk = w.blk(g, il, "indexer.attn_k.weight")?;
        let k = g.mul_mat(wk, cur);
        let (nw, nb) = (w.blk_or_none(g, il, "indexer.k_norm.weight"), w.blk_or_none(g, il, "indexer.k_norm.bias"));
        let k = llm::layer_norm(g, k, nw, nb);
        let k = g.reshape(k, [hs, 1, nt, 1]);
        let k = g.rope(k, pos);
        let (q, k) = if self.k_rot != NONE { (g.mul_mat(self.k_rot, q), g.mul_mat(self.k_rot, k)) } else { (q, k) };
        let cache = g.external(b.type_k, [hs, b.n_kv, ns, 1]);
        llm::store_rows(g, b, cache, k, self.k_idxs);
        let wp = w.blk(g, il, "indexer.proj.weight")?;
        let weights = g.mul_mat(wp, cur);
        let ek = b.type_k.size();
        let row = ek.saturating_mul(hs);
        let k = g.view_nd(cache, [hs, 1, b.n_kv, ns], row, row, row.saturating_mul(b.n_kv));
        let per = nt / ns;
        let qnb = g.t[q as usize].nb;
        let q = g.view_nd(q, [hs, n_ih, per, ns], qnb[1], qnb[2], qnb[3] / ns);
        let wnb = g.t[weights as usize].nb;
        let weights = g.view_nd(weights, [n_ih, per, 1, ns], wnb[1], wnb[2] / ns, wnb[3] / ns);
        let weights = g.unary(weights); // ggml_scale
        let score = g.lightning_indexer(q, k, weights, self.kq_mask);
        let n_top = g.ne(score)[0].min(self.top_k);
        let top = g.top_k(score, n_top);
        Some(g.cont(top, g.ne(top)))
    }
}

/// The MLA mask `inp.kq_mask` with every cell but the chosen ones set to -inf (llama-graph.cpp:3068-3095).
pub fn sparse_mask(g: &mut Graph, inp: &Inputs, top: Id) -> Id {
    let mask = inp.kq_mask;
    let all = g.unary(mask); // ggml_fill, -inf
    let (mn, mb) = (g.ne(all), g.t[all as usize].nb);
    let all = g.view_nd(all, [1, mn[0], mn[1], mn[3]], mb[0], mb[1], mb[2]);
    let (tn, tb) = (g.ne(top), g.t[top as usize].nb);
    let top3 = g.view_nd(top, [tn[0], tn[1], tn[3], 1], tb[1], tb[2], tn[3].saturating_mul(tb[3]));
    let t3 = g.ne(top3);
    let zeros = g.new_leaf(Ty::F32, [1, t3[0], t3[1], t3[2]]);
    let zeros = g.unary(zeros); // ggml_fill, 0
    let set = g.set_rows(all, zeros, top3);
    let (sn, sb) = (g.ne(set), g.t[set as usize].nb);
    let set = g.view_nd(set, [sn[1], sn[2], 1, sn[3]], sb[2], sb[3], sb[3]);
    g.binary(set, mask)
}
