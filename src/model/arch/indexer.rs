//! The lightning-indexer key caches of llama.cpp's sparse-attention architectures, written by hand
//! from `llama_model::create_memory` (src/llama-model.cpp at 0c1e570) and the architectures'
//! `load_arch_hparams`: `llama_kv_cache_dsa` (DeepSeek-V3.2, GLM-5, HY-V4), `_dsa_iswa` (dots3note),
//! `llama_kv_cache_msa` (MiniMax-M3) and `llama_memory_hybrid_idx` (Qwen4-exp, GLM-5-Next) add, next
//! to the attention cache, a cache of one `indexer.key_length` key head per token on the layers
//! that own an indexer. The memory itself is otherwise a plain (MLA) KV cache, or a hybrid one.
//! DeepSeek-V4's `llama_kv_cache_dsv4` (llama-kv-cache-dsv4.cpp) is K-only sliding attention on
//! every layer plus compressed caches and compressor state on some ([`dsv4`]).

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
        "deepseek32" | "glm-dsa" | "hy_v4" | "dots3note" | "minimax-m3" | "deepseek4" => Some(Memory::Kv),
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

/// `llama_kv_cache_dsv4`'s compression ratios (llama-kv-cache-dsv4.cpp `DSV4_CSA_RATIO`,
/// `DSV4_HCA_RATIO`).
const CSA: u64 = 4;
const HCA: u64 = 128;

/// One DeepSeek-V4 layer's share of `llama_kv_cache_dsv4` beyond its raw sliding K cache.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dsv4Layer {
    /// `attention.compress_ratios[il]`: 4 (CSA + lightning indexer), 128 (HCA) or none.
    pub ratio: u64,
    /// K head size (`n_embd_head_k`).
    head_k: u64,
    /// Lightning-indexer key size.
    index_k: u64,
    /// f32 elements per sequence of the layer's compressor states.
    pub state: u64,
}

impl Dsv4Layer {
    /// The layer's compressed K caches: `kv_csa` (ratio 4, n_head_kv K heads) and `kv_lid` (ratio
    /// 4, one indexer key head), or `kv_hca` (ratio 128).
    pub fn caches(&self, n_head_kv: u64) -> Vec<crate::model::CompressedKv> {
        use crate::model::CompressedKv;
        let width = n_head_kv.saturating_mul(self.head_k);
        match self.ratio {
            CSA => vec![CompressedKv { ratio: CSA, k_width: width }, CompressedKv { ratio: CSA, k_width: self.index_k }],
            HCA => vec![CompressedKv { ratio: HCA, k_width: width }],
            _ => Vec::new(),
        }
    }
}

/// Per main layer (`n_layer` long), DeepSeek-V4's compressed caches and compressor state, from
/// `attention.compress_ratios` (`llama_model_deepseek4::load_arch_hparams`). The compressor states
/// (`llama_dsv4_comp_state`, one per sequence without speculative rollback planes) are a `kv` and a
/// `score` tensor of `n_embd_state x state_size` f32 each: CSA `2 n_embd_head_k x 8`, HCA
/// `n_embd_head_k x 128`, indexer `2 indexer_head_size x 8`.
pub fn dsv4(meta: &Meta, n_layer: usize, head_k: u64) -> Vec<Dsv4Layer> {
    let index_k = meta.u64("attention.indexer.key_length").unwrap_or(0);
    let ratios: Vec<u64> =
        meta.get("attention.compress_ratios").and_then(|v| v.as_array()).map(|a| a.items.iter().map(|x| x.as_u64().unwrap_or(0)).collect()).unwrap_or_default();
    (0..n_layer)
        .map(|il| {
            let ratio = ratios.get(il).copied().unwrap_or(0);
            let state = match ratio {
                CSA => 2u64.saturating_mul(2 * 2 * CSA).saturating_mul(head_k.saturating_add(index_k)),
                HCA => 2u64.saturating_mul(HCA).saturating_mul(head_k),
                _ => 0,
            };
            Dsv4Layer { ratio, head_k, index_k, state }
        })
        .collect()
}
