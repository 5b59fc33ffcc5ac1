//! Graph of MiniMax-M3 (src/models/minimax-m3.cpp at 0c1e570): MiniMax-M2's attention (biased
//! QKV, per-head Q/K RMS norms, partial RoPE) and DeepSeek-V3's leading dense blocks then
//! sigmoid-routed experts with a shared expert, plus MiniMax Sparse Attention (MSA) on the MoE
//! blocks when flash attention is on and every sequence has its own stream
//! (`llama_kv_cache_msa`, `build_attn_inp_kv_msa`, llama-graph.cpp:3394). An MSA layer projects an
//! indexer query (one head per KV group) and key (stored in the indexer cache), scores blocks of
//! `indexer.block_size` positions (a max-pool over the positions the cache holds), keeps the
//! `indexer.top_k` best blocks per group and turns them into a per-group mask of the cache, then
//! runs one flash attention per stream with the groups on its sequence dimension
//! (`build_attn_msa_fa`). Otherwise every layer attends densely (`build_attn`). The decode graph
//! (one token per stream) gathers instead and is not simulated.

use super::graph::{Graph, Id, NONE, Ty};
use super::inputs::{self, Inputs};
use super::llm::{self, Batch, KvLayer};
use super::moe::Routing;
use super::{Weights, transformer};
use crate::model::{Geometry, LayerGeometry, LayerKind};

/// `llama_kv_cache_msa_context::get_n_pos` when the graph is reserved: the cache is empty
/// (`pos_max` is -1), so the positions are the padding, max(n_pad = 1, 256).
const N_POS_RESERVE: u64 = 256;

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let (tok, mut inp_l, layers) = inputs::start(g, w, geo, b)?;
    if layers.iter().any(|l| l.kind != LayerKind::Attention) {
        return None;
    }
    let (pos, out_ids) = inputs::pos_and_out_ids(g, b, 1);
    let inp = inputs::inp_layers(g, b, &layers, false);
    // MSA needs flash attention's V layout and per-sequence streams (a unified cache of several
    // sequences interleaves the cells its blocks are anchored to).
    let msa_on = b.flash_attn && (b.n_seqs == 1 || b.n_stream > 1);
    let msa = if msa_on { Some(Msa::new(g, geo, b, inp.kq_mask)?) } else { None };
    let routing = Routing::from_hints(&geo.hints);
    for (i, l) in layers.iter().enumerate() {
        let il = l.index;
        let cur = llm::blk_norm(g, w, il, inp_l, "attn_norm.weight")?;
        // The MoE blocks (those with an indexer cache) are the sparse ones.
        let cur = match (&msa, l.indexer) {
            (Some(m), Some(_)) => m.attn(g, w, b, &inp, l, cur, pos)?,
            _ => transformer::self_attn(g, w, b, &inp, l, cur, Some(pos), false)?,
        };
        let last = (i + 1 == layers.len()).then_some(out_ids);
        inp_l = transformer::ffn_block(g, w, il, cur, inp_l, last, l.n_experts_used, routing)?;
    }
    transformer::finish(g, w, inp_l, tok)
}

/// The per-graph MSA inputs (`llm_graph_input_msa`) and sizes every sparse layer shares.
struct Msa {
    /// The indexer cache's row indices (`self_k_idxs_idx`).
    k_idxs_idx: Id,
    /// F32 [nblk, n_tokens]: the local-force bias over position blocks.
    bias: Id,
    /// F32 [n_ps, n_tokens]: 0/-inf visibility by position.
    pos_mask: Id,
    /// I32 [n_ps, n_stream]: position to cell.
    pos_slot: Id,
    /// I32 [n_kv, n_stream]: cell to position block.
    cell_blk: Id,
    /// The flash-attention mask cast to f32 (`msa_mf`).
    mask_f32: Id,
    blk: u64,
    n_ps: u64,
    nblk: u64,
    top_k: u64,
}

impl Msa {
    fn new(g: &mut Graph, geo: &Geometry, b: &Batch, kq_mask: Id) -> Option<Self> {
        let blk = geo.hints.indexer_block_size;
        let ns = b.n_stream.max(1);
        if blk == 0 || b.n_tokens / ns <= 1 || ns > super::MAX_UNROLLED {
            return None;
        }
        let n_ps = N_POS_RESERVE.div_ceil(blk).saturating_mul(blk);
        let nblk = n_ps / blk;
        let nt = b.n_tokens;
        Some(Msa {
            k_idxs_idx: g.input(Ty::I64, [nt, 1, 1, 1]),
            bias: g.input(Ty::F32, [nblk, nt, 1, 1]),
            pos_mask: g.input(Ty::F32, [n_ps, nt, 1, 1]),
            pos_slot: g.input(Ty::I32, [n_ps, ns, 1, 1]),
            cell_blk: g.input(Ty::I32, [b.n_kv, ns, 1, 1]),
            mask_f32: g.cast(kq_mask, Ty::F32),
            blk,
            n_ps,
            nblk,
            top_k: geo.hints.indexer_top_k.min(nblk),
        })
    }

    /// One sparse layer's attention after its norm, `wo` included.
    #[allow(clippy::too_many_arguments)] // the layer's inputs
    fn attn(&self, g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, l: &LayerGeometry, cur: Id, pos: Id) -> Option<Id> {
        let il = l.index;
        let (d, n_head, hkv) = (l.head_dim_k, l.n_head.max(1), l.n_head_kv.max(1));
        let nt = b.n_tokens;
        let ns = b.n_stream.max(1);
        let n_tps = nt / ns;
        let (q, k, v) = transformer::qkv(g, w, il, cur, d, n_head, hkv)?;
        let q = llm::blk_norm(g, w, il, q, "attn_q_norm.weight")?;
        let k = llm::blk_norm(g, w, il, k, "attn_k_norm.weight")?;
        let q = g.rope(q, pos);
        let k = g.rope(k, pos);
        // The indexer branch: projections, norms, RoPE, the key into the indexer cache.
        let n_idx = w.dim(il, "indexer.k_norm.weight", 0)?;
        let wiq = w.blk(g, il, "indexer.q_proj.weight")?;
        let wik = w.blk(g, il, "indexer.k_proj.weight")?;
        let iq = g.mul_mat(wiq, cur);
        let ik = g.mul_mat(wik, cur);
        let hd = g.ne(iq)[0] / n_idx;
        if hd != hkv || !n_head.is_multiple_of(hkv) {
            return None; // one indexer head per KV group (llama.cpp asserts it)
        }
        let iq = g.reshape(iq, [n_idx, hd, nt, 1]);
        let ik = g.reshape(ik, [n_idx, 1, nt, 1]);
        let iq = llm::blk_norm(g, w, il, iq, "indexer.q_norm.weight")?;
        let ik = llm::blk_norm(g, w, il, ik, "indexer.k_norm.weight")?;
        let iq = g.rope(iq, pos);
        let ik = g.rope(ik, pos);
        let idx_cache = g.external(b.type_k, [n_idx, b.n_kv, ns, 1]);
        llm::store_rows(g, b, idx_cache, ik, self.k_idxs_idx);
        // The main branch: rotations of a quantized cache, K and V stored.
        let (q, k) = if inp.k_rot != NONE { (llm::hadamard(g, q, inp.k_rot), llm::hadamard(g, k, inp.k_rot)) } else { (q, k) };
        let v = if inp.v_rot != NONE { llm::hadamard(g, v, inp.v_rot) } else { v };
        for t in [q, k, v] {
            g.expand(t);
        }
        let kv = KvLayer::new(g, b, d, l.head_dim_v, hkv);
        llm::store_rows(g, b, kv.k, k, inp.k_idxs);
        llm::store_rows(g, b, kv.v, v, inp.v_idxs);
        let row = |ty: Ty, n: u64| ty.size().saturating_mul(n) / ty.block();
        let gp = n_head / hkv;
        let mut out = None;
        for _ in 0..ns {
            let o = self.stream(g, b, [iq, q], [idx_cache, kv.k, kv.v], [n_idx, hd, d, n_head, n_tps, gp], &row);
            out = Some(match out {
                Some(prev) => g.concat(prev, o, 1),
                None => o,
            });
        }
        let cur = out?;
        let cur = if inp.v_rot != NONE { llm::hadamard(g, cur, inp.v_rot) } else { cur };
        let wo = w.blk(g, il, "attn_output.weight")?;
        Some(g.mul_mat(wo, cur))
    }

    /// One stream of the batch graph: block scores, the top-k block mask over the cache, and
    /// the grouped flash attention; [D * n_head, n_tps].
    fn stream(&self, g: &mut Graph, b: &Batch, q: [Id; 2], caches: [Id; 3], dims: [u64; 6], row: &dyn Fn(Ty, u64) -> u64) -> Id {
        let [iq, q] = q;
        let [idx_cache, k_cache, v_cache] = caches;
        let [n_idx, hd, d, n_head, n_tps, gp] = dims;
        let (n_kv, n_ps, nblk, k_top) = (b.n_kv, self.n_ps, self.nblk, self.top_k);
        let nb = |g: &Graph, x: Id| g.t[x as usize].nb;
        let iqb = nb(g, iq);
        let iq_s = g.view_nd(iq, [n_idx, hd, n_tps, 1], iqb[1], iqb[2], iqb[2].saturating_mul(n_tps));
        let irow = row(b.type_k, n_idx);
        let ik_s = g.view_nd(idx_cache, [n_idx, n_kv, 1, 1], irow, irow.saturating_mul(n_kv), irow.saturating_mul(n_kv));
        let psl_s = g.view_1d(self.pos_slot, n_ps);
        let pmb = nb(g, self.pos_mask);
        let pm_s = g.view_nd(self.pos_mask, [n_ps, 1, n_tps, 1], pmb[1], pmb[1], pmb[1].saturating_mul(n_tps));
        let cb_s = g.view_1d(self.cell_blk, n_kv);
        let mfb = nb(g, self.mask_f32);
        let mf_s = g.view_nd(self.mask_f32, [n_kv, n_tps, 1, 1], mfb[1], mfb[3], mfb[3]);
        let bb = nb(g, self.bias);
        let bias_s = g.view_nd(self.bias, [nblk, 1, n_tps, 1], bb[1], bb[1], bb[1].saturating_mul(n_tps));
        let qb = nb(g, q);
        let q_s = g.view_nd(q, [d, n_head, n_tps, 1], qb[1], qb[2], qb[2].saturating_mul(n_tps));
        let hkv = hd;
        let (kr, vr) = (row(b.type_k, d), row(b.type_v, d));
        let k_s = g.view_nd(k_cache, [d, hkv, n_kv, 1], kr, kr.saturating_mul(hkv), kr.saturating_mul(hkv).saturating_mul(n_kv));
        let v_s = g.view_nd(v_cache, [d, hkv, n_kv, 1], vr, vr.saturating_mul(hkv), vr.saturating_mul(hkv).saturating_mul(n_kv));
        // Block scores: the indexer keys gathered by position, max over each block.
        let ikp = g.get_rows(ik_s, psl_s);
        let iq2 = g.reshape(iq_s, [n_idx, hd.saturating_mul(n_tps), 1, 1]);
        let sc = g.mul_mat(ikp, iq2);
        let sc = g.reshape(sc, [n_ps, hd, n_tps, 1]);
        let sc = g.write_into(sc, &[sc, pm_s]); // ggml_add_inplace
        let bs = g.pool_2d_rows(sc, self.blk);
        let bsf = g.binary(bs, bias_s);
        let idx = g.top_k(bsf, k_top);
        // The block mask: -inf everywhere, 0 on the chosen blocks, spread to the cells.
        let ninf = g.unary(bias_s); // ggml_scale_bias
        let ninf = g.cast(ninf, Ty::F16);
        let ninf = g.repeat(ninf, [nblk, hd, n_tps, 1]);
        let zero = g.cast(idx, Ty::F32);
        let zero = g.unary(zero); // ggml_scale
        let rows = hd.saturating_mul(n_tps);
        let ninf3 = g.reshape(ninf, [1, nblk, rows, 1]);
        let zero3 = g.reshape(zero, [1, k_top, rows, 1]);
        let idx2 = g.reshape(idx, [k_top, rows, 1, 1]);
        let bm = g.set_rows(ninf3, zero3, idx2);
        let bm = g.reshape(bm, [nblk, hd, n_tps, 1]);
        let bm = g.permute_0213(bm);
        let bm = g.cont(bm, g.ne(bm));
        let bm2 = g.reshape(bm, [nblk, rows, 1, 1]);
        let bm2 = g.transpose(bm2);
        let bm2 = g.cont(bm2, g.ne(bm2));
        let bmc = g.get_rows(bm2, cb_s);
        let bmx = g.transpose(bmc);
        let bmx = g.cont(bmx, g.ne(bmx));
        let bmx = g.reshape(bmx, [n_kv, n_tps, hd, 1]);
        let mask4 = g.write_into(bmx, &[bmx, mf_s]); // ggml_add_inplace
        let mask4 = g.reshape(mask4, [n_kv, n_tps, 1, hd]);
        let mask4 = g.cast(mask4, Ty::F16);
        let kfa = g.permute(k_s, [0, 3, 1, 2]);
        let vfa = g.permute(v_s, [0, 3, 1, 2]);
        fa(g, q_s, kfa, vfa, mask4, gp)
    }
}

/// `build_attn_msa_fa`: one flash attention for all KV groups, mapped onto its sequence
/// dimension; [D * HQ, T].
fn fa(g: &mut Graph, q: Id, k: Id, v: Id, mask: Id, gp: u64) -> Id {
    let [d, hq, t, _] = g.ne(q);
    let c = g.ne(k)[3].max(1);
    let r = hq.saturating_mul(t) / gp.saturating_mul(c).max(1);
    let q = g.reshape(q, [d, gp, c, r]);
    let q = g.permute(q, [0, 2, 3, 1]);
    let o = g.flash_attn_ext(q, k, v, mask);
    let o = g.permute(o, [0, 1, 3, 2]);
    let o = if g.is_contiguous(o) { o } else { g.cont(o, g.ne(o)) };
    g.reshape(o, [d.saturating_mul(hq), t, 1, 1])
}
