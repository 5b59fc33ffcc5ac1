//! Recurrent state bytes (`llama_memory_recurrent`, docs/llama-cpp-memory.md section 3):
//! per recurrent layer, `n_embd_r` + `n_embd_s` f32 elements for each of `max(1, n_seq_max)`
//! cells, whatever the context length; plus the third row a few layers keep in the same cells
//! (Qwen4-exp's PLE history, `cache_ple_r_l`).

use super::settings::Resolved;
use crate::model::{Geometry, LayerGeometry, LayerKind};

/// State bytes (R + S + the extra row) of one layer over all cells; `None` for a layer without recurrent state.
pub fn layer_bytes(l: &LayerGeometry, r: &Resolved) -> Option<u64> {
    if !l.has_state() {
        return None;
    }
    let s = l.recurrent?;
    Some(s.conv_elements.saturating_add(s.state_elements).saturating_add(s.extra_elements).saturating_mul(4).saturating_mul(r.n_seq_max.max(1)))
}

/// Bytes of the conv (R), SSM/delta (S) and extra (P) rows over all recurrent layers.
pub fn recurrent_bytes(g: &Geometry, r: &Resolved) -> (u64, u64, u64) {
    let cells = r.n_seq_max.max(1);
    let bytes = |elements: u64| elements.saturating_mul(4).saturating_mul(cells);
    let (mut conv, mut state, mut extra) = (0u64, 0u64, 0u64);
    for l in g.layers.iter().filter(|l| l.has_state()) {
        if let Some(s) = l.recurrent {
            conv = conv.saturating_add(bytes(s.conv_elements));
            state = state.saturating_add(bytes(s.state_elements));
            extra = extra.saturating_add(bytes(s.extra_elements));
        }
    }
    (conv, state, extra)
}

/// True when some recurrent layer has a state size gguf-meter cannot derive.
pub fn unknown_state(g: &Geometry) -> bool {
    g.layers.iter().any(|l| l.kind == LayerKind::Recurrent && !l.mtp && l.recurrent.is_none())
}
