//! Mamba and Mamba-2: every layer is recurrent, no KV cache at all.
//! State per layer (`llama_hparams::n_embd_r/s`): conv `(d_conv - 1) * (d_inner + 2 * n_group *
//! d_state)`, ssm `d_state * d_inner` elements (Mamba-1 has `n_group = 0`).

use super::{ArchSpec, Meta, RecurrentRule};

fn recurrent_layers(_: &Meta, n_layer: u32) -> Option<Vec<bool>> {
    Some(vec![true; n_layer as usize])
}

/// All layers recurrent.
pub const SPEC: ArchSpec = ArchSpec {
    family: "mamba",
    archs: &["mamba", "mamba2"],
    swa: None,
    recurrent: Some(RecurrentRule::Ssm),
    recurrent_layers: Some(recurrent_layers),
    mla: false,
};
