//! Plain transformer families with full attention on every layer: Llama 3, Mistral/Mixtral,
//! Qwen2, Qwen3, Qwen3-MoE. Heads, experts and FFN sizes all come from tensor shapes.

use super::ArchSpec;

/// Full attention everywhere; experts (Mixtral, Qwen3-MoE) show up as `_exps` tensors.
pub const SPEC: ArchSpec = ArchSpec {
    family: "llama",
    archs: &["llama", "mistral", "mistral3", "qwen2", "qwen2moe", "qwen3", "qwen3moe", "mixtral"],
    swa: None,
    recurrent: None,
    recurrent_layers: None,
    mla: false,
};
