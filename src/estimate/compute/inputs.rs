//! Graph inputs of llama-graph.cpp (0c1e570): token embeddings (`build_inp_embd`), recurrent
//! state copies (`build_rs_inp_impl`), KV indices and masks (`build_attn_inp_kv_impl`), the
//! Hadamard rotations of quantized caches, positions and output rows.

use super::Weights;
use super::graph::{Graph, Id, NONE, Ty};
use super::llm::Batch;
use crate::model::{Geometry, LayerGeometry, LayerKind};

/// Inputs of a model with a KV cache and/or recurrent state (`build_inp_mem_hybrid` etc.).
#[derive(Clone, Copy, Debug)]
pub struct Inputs {
    /// `rs_s_copy` views: first n_seqs rows, the rest.
    pub s_copy_main: Id,
    /// See `s_copy_main`.
    pub s_copy_extra: Id,
    /// `attn_inp_k_idxs`.
    pub k_idxs: Id,
    /// `attn_inp_v_idxs`.
    pub v_idxs: Id,
    /// `attn_inp_kq_mask`.
    pub kq_mask: Id,
    /// `attn_inp_k_rot` (quantized K cache) or [`NONE`].
    pub k_rot: Id,
    /// `attn_inp_v_rot` (quantized V cache) or [`NONE`].
    pub v_rot: Id,
    /// Inputs of a `llama_kv_cache_iswa` (`llm_graph_input_attn_kv_iswa`), whose `build_attn`
    /// expands q, k, v in that order (llama-graph.cpp:3147) where the others do q, v, k.
    pub iswa: bool,
}

/// `build_inp_embd` (llama-graph.cpp:2376): token ids, the embeddings input, get_rows;
/// both selectable paths are in the graph (`ggml_build_forward_select`).
pub fn inp_embd(g: &mut Graph, b: &Batch, tok_embd: Id, n_embd: u64) -> Id {
    let tokens = g.input(Ty::I32, [b.n_tokens, 1, 1, 1]);
    let embd = g.input(Ty::F32, [n_embd, b.n_tokens, 1, 1]);
    let cur = g.get_rows(tok_embd, tokens);
    g.expand(cur);
    g.expand(embd);
    cur
}

/// Recurrent inputs (`build_rs_inp_impl`, llama-graph.cpp:3548) then KV inputs
/// (`build_attn_inp_kv_impl`, :2840 and `build_attn_inp_kq_mask`, :29). `hd_k` / `hd_v`: the
/// head sizes shared by all KV layers (0 if they differ), for the Hadamard rotation inputs a
/// quantized cache gets (llama-kv-cache.cpp:321-339, 1447-1485).
pub fn inp_mem(g: &mut Graph, b: &Batch, v_trans_rows: u64, hd: (u64, u64), recurrent: bool, attention: bool) -> Inputs {
    let (mut s_copy_main, mut s_copy_extra) = (NONE, NONE);
    if recurrent {
        let s_copy = g.input(Ty::I32, [b.n_rs, 1, 1, 1]);
        s_copy_main = g.view_nd(s_copy, [b.n_seqs, 1, 1, 1], 4 * b.n_seqs, 4 * b.n_seqs, 4 * b.n_seqs);
        let extra = b.n_rs.saturating_sub(b.n_seqs);
        s_copy_extra = g.view_nd(s_copy, [extra, 1, 1, 1], 4 * extra, 4 * extra, 4 * extra);
    }
    let (mut k_idxs, mut v_idxs, mut kq_mask) = (NONE, NONE, NONE);
    if attention {
        k_idxs = g.input(Ty::I64, [b.n_tokens, 1, 1, 1]);
        // Without flash attention V is transposed: one index per token and V element.
        let v_rows = if b.flash_attn { b.n_tokens } else { b.n_tokens.saturating_mul(v_trans_rows) };
        v_idxs = g.input(Ty::I64, [v_rows, 1, 1, 1]);
        let ty = if b.flash_attn { Ty::F16 } else { Ty::F32 };
        kq_mask = g.input(ty, [b.n_kv, b.n_tokens / b.n_stream.max(1), 1, b.n_stream]);
    }
    let (mut k_rot, mut v_rot) = (NONE, NONE);
    if attention && matches!(b.type_k, Ty::Q { .. }) && hd.0 > 0 && hd.0.is_multiple_of(64) {
        // The largest power of two from 64 up dividing the head size.
        let mut n = 64u64;
        while hd.0.is_multiple_of(n * 2) && n < 1 << 20 {
            n *= 2;
        }
        k_rot = g.input(Ty::F32, [n, n, 1, 1]);
    }
    if attention && matches!(b.type_v, Ty::Q { .. }) && hd.1 > 0 && hd.1.is_multiple_of(64) {
        v_rot = g.input(Ty::F32, [64, 64, 1, 1]);
    }
    Inputs { s_copy_main, s_copy_extra, k_idxs, v_idxs, kq_mask, k_rot, v_rot, iswa: false }
}

/// The token embeddings (`token_embd`, then `build_inp_embd`) and the blocks llama.cpp runs
/// (MTP blocks left out): what every builder starts from.
pub fn start<'a>(g: &mut Graph, w: &Weights, geo: &'a Geometry, b: &Batch) -> Option<(Id, Id, Vec<&'a LayerGeometry>)> {
    let tok = w.get(g, "token_embd.weight")?;
    let inp_l = inp_embd(g, b, tok, geo.n_embd);
    Some((tok, inp_l, geo.layers.iter().filter(|l| !l.mtp).collect()))
}

/// `build_inp_pos` (llama-graph.cpp:2465) and `build_inp_out_ids` (:2494).
pub fn pos_and_out_ids(g: &mut Graph, b: &Batch, pos_per_embd: u64) -> (Id, Id) {
    let pos = g.input(Ty::I32, [b.n_tokens.saturating_mul(pos_per_embd), 1, 1, 1]);
    let out_ids = g.input(Ty::I32, [b.n_outputs, 1, 1, 1]);
    (pos, out_ids)
}

/// [`inp_mem`] for `layers`: the V index rows are sized for the widest V (`n_embd_v_gqa_max`);
/// the rotation inputs need one head size shared by the cache's layers (`kinds`).
fn inp_cache(g: &mut Graph, b: &Batch, layers: &[&LayerGeometry], recurrent: bool, kinds: &[LayerKind]) -> Inputs {
    let all_kv = || layers.iter().filter(|l| matches!(l.kind, LayerKind::Attention | LayerKind::Sliding));
    let v_rows = all_kv().map(|l| l.n_head_kv.saturating_mul(l.head_dim_v)).max().unwrap_or(0);
    let kv = layers.iter().copied().filter(|l| kinds.contains(&l.kind));
    inp_mem(g, b, v_rows, shared_head_dims(kv.clone()), recurrent, kv.clone().next().is_some())
}

/// The K and V head sizes shared by `kv`'s layers (0 where they differ).
fn shared_head_dims<'a>(kv: impl Iterator<Item = &'a LayerGeometry> + Clone) -> (u64, u64) {
    let shared = |f: fn(&LayerGeometry) -> u64| {
        let mut it = kv.clone().map(f);
        let first = it.next().unwrap_or(0);
        if it.all(|x| x == first) { first } else { 0 }
    };
    (shared(|l| l.head_dim_k), shared(|l| l.head_dim_v))
}

/// `build_inp_mem_hybrid` for models whose blocks hold recurrent state and possibly a KV cache
/// too (Falcon-H1 runs both in every block): the KV inputs follow which layers have a cache,
/// not their kind.
pub fn inp_hybrid(g: &mut Graph, b: &Batch, layers: &[&LayerGeometry]) -> Inputs {
    let kv = layers.iter().copied().filter(|l| l.has_kv());
    let v_rows = kv.clone().map(|l| l.n_head_kv.saturating_mul(l.head_dim_v)).max().unwrap_or(0);
    inp_mem(g, b, v_rows, shared_head_dims(kv.clone()), true, kv.clone().next().is_some())
}

/// Inputs of a model with one KV cache (`build_attn_inp_kv`, `build_inp_mem_hybrid`) and/or
/// recurrent state.
pub fn inp_layers(g: &mut Graph, b: &Batch, layers: &[&LayerGeometry], recurrent: bool) -> Inputs {
    inp_cache(g, b, layers, recurrent, &[LayerKind::Attention, LayerKind::Sliding])
}

/// The KV inputs of a model with full and possibly sliding-window attention layers, and the
/// batch each kind of layer sees (the SWA cache has `n_kv_swa` cells).
pub struct Caches {
    base: Inputs,
    swa: Inputs,
    b: Batch,
    b_swa: Batch,
}

impl Caches {
    /// `build_attn_inp_kv_iswa` (llama-graph.cpp:3425) when a layer slides: inputs of the full
    /// cache then of the sliding-window cache; else `build_attn_inp_kv` (:2860).
    pub fn new(g: &mut Graph, b: &Batch, layers: &[&LayerGeometry]) -> Self {
        if !layers.iter().any(|l| l.kind == LayerKind::Sliding) {
            let inp = inp_layers(g, b, layers, false);
            return Caches { base: inp, swa: inp, b: *b, b_swa: *b };
        }
        let base = inp_cache(g, b, layers, false, &[LayerKind::Attention]);
        let b_swa = Batch { n_kv: b.n_kv_swa, ..*b };
        let swa = inp_cache(g, &b_swa, layers, false, &[LayerKind::Sliding]);
        Caches { base: Inputs { iswa: true, ..base }, swa: Inputs { iswa: true, ..swa }, b: *b, b_swa }
    }

    /// The same caches as a hybrid model builds them: `build_inp_mem_hybrid_iswa`
    /// (llama-graph.cpp:3655) makes no Hadamard rotation inputs, so a quantized sliding-window
    /// cache is used unrotated (the non-iswa hybrid input keeps them).
    pub fn hybrid(mut self) -> Self {
        if self.base.iswa {
            for i in [&mut self.base, &mut self.swa] {
                i.k_rot = NONE;
                i.v_rot = NONE;
            }
        }
        self
    }

    /// The inputs and batch of a layer of this kind; `None` for a layer without KV.
    pub fn layer(&self, kind: LayerKind) -> Option<(&Inputs, &Batch)> {
        match kind {
            LayerKind::Sliding => Some((&self.swa, &self.b_swa)),
            LayerKind::Attention => Some((&self.base, &self.b)),
            _ => None,
        }
    }
}

/// `build_attn_inp_k` (llama-graph.cpp:2973): K indices and the mask of a K-only cache (MLA),
/// which builds no rotation inputs.
pub fn inp_k(g: &mut Graph, b: &Batch) -> Inputs {
    let inp = inp_mem(g, b, 0, (0, 0), false, true);
    Inputs { v_idxs: NONE, ..inp }
}

/// `build_inp_mem_hybrid_k` (llama-graph.cpp:3645): recurrent state copies plus the inputs of
/// a K-only (MLA) cache.
pub fn inp_hybrid_k(g: &mut Graph, b: &Batch) -> Inputs {
    let rs = inp_mem(g, b, 0, (0, 0), true, false);
    Inputs { s_copy_main: rs.s_copy_main, s_copy_extra: rs.s_copy_extra, ..inp_k(g, b) }
}
