//! Qwen3.5 (dense `qwen35`, MoE `qwen35moe`) and Qwen3-Next: hybrid Gated DeltaNet + gated
//! full attention. llama.cpp (`src/models/qwen35moe.cpp`, `load_arch_hparams`): a layer is
//! recurrent unless `(il + 1) % full_attention_interval == 0` (default 4), or as the
//! `attention.recurrent_layers` array says; MTP blocks (`nextn_predict_layers`) are never
//! recurrent. Recurrent state: conv `(ssm.conv_kernel - 1) * (inner_size + 2 * group_count *
//! state_size)` and delta `state_size * inner_size` elements (`llama_hparams::n_embd_r/s`).

use super::{ArchSpec, Meta, RecurrentRule};

fn recurrent_layers(meta: &Meta, n_layer: u32) -> Option<Vec<bool>> {
    if let Some(arr) = meta.bool_array("attention.recurrent_layers") {
        return Some(arr.into_iter().take(n_layer as usize).collect());
    }
    let interval = meta.u64("full_attention_interval").unwrap_or(4).max(1);
    Some((0..n_layer as u64).map(|i| (i + 1) % interval != 0).collect())
}

/// Hybrid Gated DeltaNet + attention.
pub const SPEC: ArchSpec = ArchSpec {
    family: "qwen35",
    archs: &["qwen35", "qwen35moe", "qwen3next"],
    swa: None,
    recurrent: Some(RecurrentRule::Ssm),
    recurrent_layers: Some(recurrent_layers),
    mla: false,
};
