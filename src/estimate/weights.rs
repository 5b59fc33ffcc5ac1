//! Which tensors llama.cpp loads, their buffer bytes, and the bytes one token touches.

use crate::model::Geometry;
use crate::model::layers::block_of;
use crate::read::TensorEntry;

/// ggml's CPU buffer alignment: each tensor in a backend buffer is padded to it.
pub const BUFFER_ALIGNMENT: u64 = 32;

/// True when llama.cpp creates this tensor in a default (non-MTP) load: MTP blocks
/// (index >= n_layers) are `TENSOR_SKIP`ped (docs/llama-cpp-memory.md section 7.3).
pub fn is_loaded(t: &TensorEntry, g: &Geometry) -> bool {
    match block_of(&t.name) {
        Some((n, _)) => n < g.n_layers,
        None => true,
    }
}

/// True for a routed-expert tensor (`ffn_*_exps`, and their biases).
pub fn is_routed_expert(t: &TensorEntry) -> bool {
    t.name.contains("_exps")
}

/// Bytes of one tensor in a backend buffer.
pub fn buffer_bytes(t: &TensorEntry) -> u64 {
    t.bytes.div_ceil(BUFFER_ALIGNMENT) * BUFFER_ALIGNMENT
}

/// Total model buffer bytes (what `--fit`'s no_alloc measure reports); MTP blocks only
/// when `load_mtp`.
pub fn weights_bytes(tensors: &[TensorEntry], g: &Geometry, load_mtp: bool) -> u64 {
    tensors.iter().filter(|t| load_mtp || is_loaded(t, g)).map(buffer_bytes).fold(0, u64::saturating_add)
}

/// Buffer bytes of every tensor, loaded or not (an mmproj, which mtmd loads whole).
pub fn all_buffer_bytes(tensors: &[TensorEntry]) -> u64 {
    tensors.iter().map(buffer_bytes).fold(0, u64::saturating_add)
}

/// Bytes not loaded (MTP blocks, unless `load_mtp`).
pub fn skipped_bytes(tensors: &[TensorEntry], g: &Geometry, load_mtp: bool) -> u64 {
    tensors.iter().filter(|t| !load_mtp && !is_loaded(t, g)).map(|t| t.bytes).fold(0, u64::saturating_add)
}

/// Bytes read to generate one token: every loaded tensor, except that the token embedding
/// contributes one row (a lookup) unless it doubles as the output matrix, and routed
/// expert tensors contribute `n_used / n_experts` of their bytes.
pub fn active_bytes_per_token(tensors: &[TensorEntry], g: &Geometry) -> u64 {
    let tied = is_tied(tensors);
    tensors.iter().filter(|t| is_loaded(t, g)).map(|t| active_bytes(t, g, tied)).fold(0, u64::saturating_add)
}

/// True when the model has no `output.weight` and reuses the token embedding as output.
pub fn is_tied(tensors: &[TensorEntry]) -> bool {
    !tensors.iter().any(|t| t.name == "output.weight")
}

/// Bytes of `t` read per generated token (see [`active_bytes_per_token`]).
pub fn active_bytes(t: &TensorEntry, g: &Geometry, tied: bool) -> u64 {
    if t.name == "token_embd.weight" && !tied {
        let rows = t.dims.iter().skip(1).product::<u64>().max(1);
        t.bytes / rows
    } else if is_routed_expert(t) {
        let n_exp = t.dims.last().copied().unwrap_or(1).max(1);
        (t.bytes / n_exp).saturating_mul(g.n_experts_used.min(n_exp))
    } else {
        t.bytes
    }
}
