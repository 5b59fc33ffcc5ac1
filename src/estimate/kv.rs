//! KV cache bytes, per layer, as `llama_kv_cache` / `llama_kv_cache_iswa` allocate them
//! (docs/llama-cpp-memory.md section 2): only layers with attention hold KV; sliding
//! layers hold `PAD(min(n_ctx_seq, n_swa * (unified ? n_seq : 1) + n_ubatch), 256)` cells
//! unless `--swa-full`; MLA layers hold one K row and no V.

use super::settings::Resolved;
use crate::model::{Geometry, LayerGeometry, LayerKind};
use crate::read::GgmlType;
use serde::Serialize;

/// KV bytes of one layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LayerKv {
    /// Block index.
    pub index: u32,
    /// Cells per stream.
    pub cells: u64,
    /// K bytes over all streams.
    pub k_bytes: u64,
    /// V bytes over all streams.
    pub v_bytes: u64,
}

/// Why the KV cache cannot be sized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// A head dimension that is not a whole number of cache-type blocks (llama.cpp refuses too).
    #[error("layer {layer}: a KV row of {width} elements is not a multiple of the {ty} block size")]
    BlockMismatch { layer: u32, width: u64, ty: String },
}

/// Cells per stream of the model's sliding-window cache (its widest window). MLA layers with a
/// window slide too (dots3note's `llama_kv_cache_dsa_iswa`).
pub fn model_swa_cells(g: &Geometry, r: &Resolved) -> u64 {
    let slides = |l: &&LayerGeometry| l.kind == LayerKind::Sliding || l.kind == LayerKind::Mla;
    let n_swa = g.layers.iter().filter(slides).filter_map(|l| l.window).max().unwrap_or(0);
    swa_cells(r, n_swa)
}

/// Bytes of the KQ mask inputs of one micro-batch: one `[n_kv, n_ubatch]` tensor per cache
/// (base and sliding-window), f16 with flash attention, f32 without (llama-graph.cpp:29-46).
pub fn kq_mask_bytes(g: &Geometry, r: &Resolved, n_kv_full: u64, n_kv_swa: u64) -> u64 {
    let elem = if r.flash_attn { 2 } else { 4 };
    let has = |k: &[LayerKind]| g.layers.iter().any(|l| !l.mtp && k.contains(&l.kind));
    let mask = |n_kv: u64| n_kv.saturating_mul(r.n_ubatch).saturating_mul(elem);
    let full = if has(&[LayerKind::Attention, LayerKind::Mla]) { mask(n_kv_full) } else { 0 };
    full.saturating_add(if has(&[LayerKind::Sliding]) { mask(n_kv_swa) } else { 0 })
}

/// Cells per stream of a sliding layer with window `n_swa` (`llama-kv-cache-iswa.cpp:73`).
pub fn swa_cells(r: &Resolved, n_swa: u64) -> u64 {
    swa_cells_in(r, n_swa, r.kv_unified)
}

/// The same for a cache that is `unified` or not whatever the settings say.
fn swa_cells_in(r: &Resolved, n_swa: u64, unified: bool) -> u64 {
    if r.swa_full {
        return r.n_ctx_seq;
    }
    let per = if unified { r.n_seq_max } else { 1 };
    let want = n_swa.saturating_mul(per).saturating_add(r.n_ubatch);
    r.n_ctx_seq.min(want).div_ceil(256) * 256
}

/// KV bytes of every layer that holds KV.
pub fn kv_layers(g: &Geometry, r: &Resolved) -> Result<Vec<LayerKv>, KvError> {
    // Without flash attention V is stored transposed and every layer's V is padded to the widest
    // (`n_embd_v_gqa_max`: over every layer, cached or not).
    let v_max = g.layers.iter().map(|l| l.n_head_kv.saturating_mul(l.head_dim_v)).max().unwrap_or(0);
    let mut out = Vec::new();
    for l in g.layers.iter().filter(|l| l.has_kv()) {
        // DeepSeek-V4 keeps one stream per sequence even with a unified cache.
        let (unified, n_stream) = if l.kv_per_seq { (false, r.n_seq_max.max(1)) } else { (r.kv_unified, r.n_stream) };
        let cells = match (l.kind, l.window) {
            (LayerKind::Sliding | LayerKind::Mla, Some(w)) => swa_cells_in(r, w, unified),
            _ => r.n_ctx_seq,
        };
        let rows = cells.saturating_mul(n_stream);
        let k_width = l.n_head_kv.saturating_mul(l.head_dim_k);
        let k_row = r.type_k.row_bytes(k_width).ok_or_else(|| KvError::BlockMismatch { layer: l.index, width: k_width, ty: r.type_k.name() })?;
        let v_bytes = if l.kind == LayerKind::Mla {
            0
        } else {
            let v_width = if r.flash_attn { l.n_head_kv.saturating_mul(l.head_dim_v) } else { v_max };
            let v_row = r.type_v.row_bytes(v_width).ok_or_else(|| KvError::BlockMismatch { layer: l.index, width: v_width, ty: r.type_v.name() })?;
            v_row.saturating_mul(rows)
        };
        let mut k_bytes = k_row.saturating_mul(rows);
        let mut v_bytes = v_bytes;
        // A sparse-attention indexer cache: one key head per token over the full context.
        if let Some((ik, iv)) = l.indexer {
            let full_rows = r.n_ctx_seq.saturating_mul(r.n_stream);
            let row = |ty: GgmlType, w: u64| ty.row_bytes(w).ok_or_else(|| KvError::BlockMismatch { layer: l.index, width: w, ty: ty.name() });
            k_bytes = k_bytes.saturating_add(row(r.type_k, ik)?.saturating_mul(full_rows));
            if iv > 0 {
                v_bytes = v_bytes.saturating_add(row(r.type_v, iv)?.saturating_mul(full_rows));
            }
        }
        // DeepSeek-V4's compressed K caches: one row per `ratio` tokens of each sequence's context,
        // padded to 256 cells (llama-kv-cache-dsv4.cpp, `GGML_PAD(dsv4_comp_size(kv_size, ratio), 256)`).
        for c in &l.compressed {
            let cells = r.n_ctx_seq.div_ceil(c.ratio.max(1)).max(1).div_ceil(256).saturating_mul(256);
            let row = r.type_k.row_bytes(c.k_width).ok_or_else(|| KvError::BlockMismatch { layer: l.index, width: c.k_width, ty: r.type_k.name() })?;
            k_bytes = k_bytes.saturating_add(row.saturating_mul(cells).saturating_mul(r.n_seq_max.max(1)));
        }
        out.push(LayerKv { index: l.index, cells, k_bytes, v_bytes });
    }
    Ok(out)
}
