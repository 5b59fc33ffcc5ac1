//! Granite 4.0 hybrid (`granitehybrid`): Mamba-2 layers plus a few attention layers.
//! llama.cpp `src/models/granite-hybrid.cpp`: a layer is recurrent where the per-layer
//! `attention.head_count_kv` array is 0.

use super::{ArchSpec, Meta, RecurrentRule};

fn recurrent_layers(meta: &Meta, n_layer: u32) -> Option<Vec<bool>> {
    (0..n_layer as usize).map(|il| meta.per_layer("attention.head_count_kv", il).map(|h| h == 0)).collect()
}

/// Mamba-2 + attention hybrid.
pub const SPEC: ArchSpec = ArchSpec {
    family: "granite",
    archs: &["granitehybrid"],
    swa: None,
    recurrent: Some(RecurrentRule::Ssm),
    recurrent_layers: Some(recurrent_layers),
    mla: false,
};
