//! DeepSeek V2/V3 (`deepseek2`): multi-head latent attention. When the file carries
//! `attention.key_length_mla` and `value_length_mla`, llama.cpp caches one compressed row
//! of `key_length` (kv_lora_rank + rope dims) per token and layer, and no V
//! (`src/llama-kv-cache.cpp`: `has_v = !is_mla`).

use super::ArchSpec;

/// MLA with MoE after `leading_dense_block_count` dense blocks.
pub const SPEC: ArchSpec = ArchSpec { family: "deepseek", archs: &["deepseek2"], swa: None, recurrent: None, recurrent_layers: None, mla: true };
