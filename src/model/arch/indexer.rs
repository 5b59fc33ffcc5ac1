//! The lightning-indexer key caches of llama.cpp's sparse-attention architectures, written by hand
//! from `llama_model::create_memory` (src/llama-model.cpp at 0c1e570) and the architectures'
//! `load_arch_hparams`: `llama_kv_cache_dsa` (DeepSeek-V3.2, GLM-5, HY-V4), `_dsa_iswa` (dots3note),
//! `llama_kv_cache_msa` (MiniMax-M3) and `llama_memory_hybrid_idx` (Qwen4-exp, GLM-5-Next) add, next
//! to the attention cache, a cache of one `indexer.key_length` key head per token on the layers
//! that own an indexer. The memory itself is otherwise a plain (MLA) KV cache, or a hybrid one.

use super::super::meta::Meta;
use super::rules::{Hybrid, Memory};

/// GLM 5.2's indexer layers when the file does not list them (glm-dsa.cpp
/// `GLM_5_2_DEFAULT_INDEXER_TYPES`): the first two, then every fourth.
fn glm52_default(il: usize) -> bool {
    il < 2 || (il - 2).is_multiple_of(4)
}

/// `attention.indexer.types` as `get_key_or_arr` reads it over `n_layer` layers, else `default`.
fn indexer_types(meta: &Meta, n_layer: usize, default: impl Fn(usize) -> bool) -> Vec<bool> {
    let mut out: Vec<bool> = (0..n_layer).map(&default).collect();
    if let Some(v) = meta.get("attention.indexer.types") {
        match v.as_array() {
            Some(a) => {
                for (o, x) in out.iter_mut().zip(&a.items) {
                    *o = x.as_u64().is_some_and(|x| x != 0);
                }
            }
            None => out.fill(v.as_u64().is_some_and(|x| x != 0)),
        }
    }
    out
}

/// How an architecture's base memory is built when llama.cpp gives it a special cache: the
/// memory module its attention part behaves like.
pub fn base_memory(arch: &str) -> Option<Memory> {
    match arch {
        "deepseek32" | "glm-dsa" | "hy_v4" | "dots3note" | "minimax-m3" => Some(Memory::Kv),
        "glm5-next" => Some(Memory::Hybrid(Hybrid::ByRecurrent)),
        _ => None,
    }
}

/// Per layer (`n_all` long), the indexer cache's K and V widths, or `None` for a layer without
/// one. `is_recr`: the recurrent layers; `head_v`: the model's V head size.
pub fn widths(meta: &Meta, arch: &str, n_all: usize, n_layer: usize, is_recr: &[bool], head_v: u64) -> Vec<Option<(u64, u64)>> {
    let key = meta.u64("attention.indexer.key_length").unwrap_or(0);
    let top_k = meta.u64("attention.indexer.top_k").unwrap_or(0);
    let recr = |il: usize| is_recr.get(il).copied().unwrap_or(false);
    let (layer, k, v): (Box<dyn Fn(usize) -> bool>, u64, u64) = match arch {
        "deepseek32" => (Box::new(|il| il < n_layer), key, 0),
        "glm-dsa" => {
            let pre_52 = meta.u64("context_length").unwrap_or(0) < 1_048_576;
            let full = indexer_types(meta, n_layer, |il| pre_52 || glm52_default(il));
            (Box::new(move |il| il < n_layer && full[il]), key, 0)
        }
        "hy_v4" if top_k > 0 => {
            let full = indexer_types(meta, n_layer, |_| false);
            (Box::new(move |il| il < n_layer && full[il]), key, 0)
        }
        "dots3note" => {
            let full = indexer_types(meta, n_layer, |_| false);
            (Box::new(move |il| il < n_layer && full[il]), key, 0)
        }
        "minimax-m3" => {
            let dense = meta.u64("leading_dense_block_count").unwrap_or(0) as usize;
            (Box::new(move |il| il >= dense), key, head_v)
        }
        "qwen4exp" if key > 0 => (Box::new(move |il| il < n_layer && !recr(il)), key, 0),
        "glm5-next" => {
            let full = indexer_types(meta, n_layer, |_| true);
            let pooled = if meta.u64("attention.indexer.kpool").unwrap_or(0) > 0 { 3 } else { 1 };
            (Box::new(move |il| il < n_layer && !recr(il) && full[il]), key.saturating_mul(pooled), 0)
        }
        _ => return vec![None; n_all],
    };
    (0..n_all).map(|il| layer(il).then_some((k, v))).collect()
}
