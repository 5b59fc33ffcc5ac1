//! Model layer: GGUF structure -> geometry (layers, heads, experts, recurrent state).
//! Reads only what the read layer produced; knows nothing of runtime settings.

pub mod arch;
pub mod geometry;
pub mod layers;
pub mod meta;
pub mod required_keys;
pub mod summary;
pub mod tensors;
pub mod vision;

pub use geometry::{CompressedKv, Geometry, GraphHints, LayerGeometry, LayerKind, RecurrentState, VisionGeometry};

use crate::read::{Header, TensorEntry};
use layers::{Block, Context, block_of};
use meta::Meta;
use std::collections::BTreeMap;

/// Block indices above this are not treated as layers, nor is a larger block_count believed:
/// a hostile name or count must not size the layer list (real models have a few hundred
/// blocks at most; 65,536 claimed layers made `inspect --json` build 340 MB from a 14 KB file).
const MAX_BLOCKS: u32 = 1 << 12;

fn graph_hints(meta: &Meta) -> GraphHints {
    let flag = |k: &str| meta.get(k).and_then(|v| v.as_u64()).map(|x| x != 0);
    let scale = meta.get("expert_weights_scale").and_then(|v| v.as_f64()).unwrap_or(0.0);
    GraphHints {
        rope_finetuned: flag("rope.scaling.finetuned").unwrap_or(true),
        expert_gating: meta.u64("expert_gating_func").unwrap_or(0),
        expert_weights_norm: flag("expert_weights_norm").unwrap_or(false),
        expert_weights_scaled: scale != 0.0 && scale != 1.0,
        expert_groups: (meta.u64("expert_group_count").unwrap_or(0), meta.u64("expert_group_used_count").unwrap_or(0)),
        attn_no_cache: false,
        embeddings_only: false,
        ssm_dt_b_c_rms: flag("ssm.dt_b_c_rms").unwrap_or(false),
        mrope: meta.per_layer("rope.dimension_sections", 0).unwrap_or(0) > 0 && meta.per_layer("rope.dimension_sections", 1).unwrap_or(0) > 0,
        swiglu_clamp_exp: clamps(meta, "swiglu_clamp_exp"),
        swiglu_clamp_shexp: clamps(meta, "swiglu_clamp_shexp"),
        attn_res_block: meta.u64("attn_res.block_size").unwrap_or(0),
        situ_linear: meta.get("activation.situ_linear_beta").and_then(|v| v.as_f64()).is_some_and(|x| x > 0.0),
        indexer_top_k: meta.u64("attention.indexer.top_k").unwrap_or(0),
        indexer_block_size: meta.u64("attention.indexer.block_size").unwrap_or(0),
        indexer_kpool: meta.u64("attention.indexer.kpool").unwrap_or(0),
        indexer_kpool_tail: flag("attention.indexer.kpool_select_tail").unwrap_or(false),
        compress_ratios: per_block(meta, "attention.compress_ratios"),
        ple_ngram: meta.u64("ple.ngram_size").unwrap_or(0),
        swin_norm: flag("swin_norm").unwrap_or(false),
        hrm_stacks: (meta.u64("hrm.layers_per_stack").unwrap_or(0), meta.u64("hrm.h_cycles").unwrap_or(0), meta.u64("hrm.l_cycles").unwrap_or(0)),
    }
}

/// `{arch}.{key}` read as llama.cpp's `get_key_or_arr` does (a scalar for every block or one
/// value per block), as "above 1e-6" flags; at most [`MAX_BLOCKS`] entries.
fn clamps(meta: &Meta, key: &str) -> Vec<bool> {
    let on = |v: &crate::read::Value| v.as_f64().is_some_and(|x| x > 1e-6);
    match meta.get(key) {
        Some(crate::read::Value::Array(a)) => a.items.iter().take(MAX_BLOCKS as usize).map(on).collect(),
        Some(v) => vec![on(v); meta.u64("block_count").unwrap_or(0).min(u64::from(MAX_BLOCKS)) as usize],
        None => Vec::new(),
    }
}

/// `{arch}.{key}` read as `get_key_or_arr` reads integers (a scalar for every block or one
/// value per block); at most [`MAX_BLOCKS`] entries.
fn per_block(meta: &Meta, key: &str) -> Vec<u64> {
    let n = meta.u64("block_count").unwrap_or(0).min(u64::from(MAX_BLOCKS)) as usize;
    (0..n).map(|il| meta.per_layer(key, il).unwrap_or(0)).collect()
}

/// Qwen4-exp's PLE layer and the elements of the convolution history llama.cpp keeps for it in
/// the recurrent cache beside R and S (`llama_memory_recurrent`'s `cache_ple_r_l`, when that layer
/// is recurrent): `(ple_conv_kernel - 1) * ple_ngram_size * hyper_connection.count * n_embd`
/// (`llama_hparams::ple_conv_state`). Only `models/qwen4exp.cpp` reads the `ple.*` keys in the
/// pinned llama.cpp, and it refuses a file listing more than one PLE layer.
fn ple_history(meta: &Meta, arch: &str) -> Option<(u64, u64)> {
    if arch != "qwen4exp" {
        return None;
    }
    let layers = meta.get("ple.layers")?.as_array()?;
    if layers.items.len() != 1 {
        return None;
    }
    let il = layers.items.first()?.as_u64()?;
    let kernel = meta.u64("ple.conv_kernel")?;
    let ngram = meta.u64("ple.ngram_size")?;
    let heads = ngram.checked_sub(1)?.checked_mul(meta.u64("ple.heads_per_ngram")?)?;
    if kernel == 0 || heads == 0 {
        return None;
    }
    let hc = meta.u64("hyper_connection.count")?;
    let n_embd = meta.u64("embedding_length")?;
    Some((il, (kernel - 1).saturating_mul(ngram).saturating_mul(hc).saturating_mul(n_embd)))
}

/// True for a tokenizer file: no tensors and a `tokenizer.ggml.model` (llama.cpp's own
/// `models/ggml-vocab-*.gguf`). llama.cpp loads such a file only with `vocab_only`: it is not a
/// model and has no memory to estimate.
pub fn is_vocab_only(header: &Header, tensors: &[TensorEntry]) -> bool {
    tensors.is_empty() && header.get("tokenizer.ggml.model").is_some()
}

/// Derives the geometry of a model from its metadata header and all its tensors.
pub fn analyze(header: &Header, tensors: &[TensorEntry]) -> Geometry {
    let arch = header.get("general.architecture").and_then(|v| v.as_str()).unwrap_or("unknown").to_string();
    let meta = Meta { header, arch: &arch };
    let spec = arch::spec_for(&arch);
    let mut warnings = Vec::new();
    let parameter_count = tensors.iter().filter_map(|t| t.dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d))).fold(0u64, u64::saturating_add);

    let mut g = Geometry {
        architecture: arch.clone(),
        family: spec.family,
        n_layers: 0,
        n_mtp_layers: 0,
        layers: Vec::new(),
        n_embd: 0,
        n_vocab: 0,
        context_length: meta.u64("context_length").unwrap_or(0),
        n_experts: 0,
        n_experts_used: 0,
        n_experts_shared: 0,
        parameter_count,
        vision: None,
        warnings: Vec::new(),
        hints: graph_hints(&meta),
        estimated: Vec::new(),
    };
    if arch == "clip" {
        g.family = "clip";
        g.vision = Some(vision::vision_geometry(header, tensors));
        return g;
    }
    // An architecture without a hand-written spec is still described by llama.cpp's rules
    // (`arch::rules`) when llama.cpp knows it; only an unknown one is read from tensors alone.
    if spec.family == "generic" && arch::rules::rule_for(&arch).is_some() {
        g.family = "llama.cpp-rules";
    } else if spec.family == "generic" {
        warnings.push(format!("architecture {arch:?} has no gguf-meter description; geometry read from tensors only"));
        if meta.get("attention.sliding_window").is_some() {
            warnings.push("it declares a sliding window, but which layers slide is unknown: all treated as full attention".into());
        }
    }

    let token_embd = tensors.iter().find(|t| t.name == "token_embd.weight");
    g.n_embd = meta.u64("embedding_length").or_else(|| token_embd.and_then(|t| t.dims.first().copied())).unwrap_or(0);
    g.n_vocab = token_embd
        .and_then(|t| t.dims.get(1).copied())
        .or_else(|| meta.u64("vocab_size"))
        .or_else(|| meta.raw("tokenizer.ggml.tokens").and_then(|v| v.as_array()).map(|a| a.len))
        .unwrap_or(0);

    let mut blocks: BTreeMap<u32, Vec<(&str, &TensorEntry)>> = BTreeMap::new();
    for t in tensors {
        if let Some((n, rest)) = block_of(&t.name) {
            if n < MAX_BLOCKS {
                blocks.entry(n).or_default().push((rest, t));
            } else {
                warnings.push(format!("tensor {:?} has a block index beyond {MAX_BLOCKS}; ignored", t.name));
            }
        }
    }
    let counted = blocks.keys().next_back().map_or(0, |&m| m + 1);
    let block_count = match meta.u64("block_count") {
        Some(n) if n <= MAX_BLOCKS as u64 => n as u32,
        _ => counted,
    };
    if counted > block_count {
        warnings.push(format!("tensors name block {} but block_count is {block_count}", counted - 1));
    }
    let nextn = meta.u64("nextn_predict_layers").unwrap_or(0).min(block_count as u64) as u32;
    g.n_layers = block_count - nextn;
    g.n_mtp_layers = nextn;

    let mut cx = Context { meta, spec, n_layer: g.n_layers, n_embd: g.n_embd, warnings: &mut warnings };
    for il in 0..block_count.max(counted) {
        let tensors = blocks.remove(&il).unwrap_or_default();
        g.layers.push(layers::layer_geometry(&mut cx, &Block { index: il, tensors }));
    }

    if let Some(expected) = spec.recurrent_layers.and_then(|f| f(&meta, g.n_layers)) {
        let differ: Vec<u32> = g
            .layers
            .iter()
            .filter(|l| !l.mtp)
            .filter(|l| expected.get(l.index as usize).copied().unwrap_or(false) != (l.kind == LayerKind::Recurrent))
            .map(|l| l.index)
            .collect();
        if !differ.is_empty() {
            warnings.push(format!("metadata and tensors disagree on which layers are recurrent at blocks {differ:?}; tensors used"));
        }
    }

    apply_llama_cpp_rules(&mut g, &meta, block_count, nextn, &mut warnings);

    g.n_experts = g.layers.iter().map(|l| l.n_experts).max().unwrap_or(0);
    g.n_experts_used = g.layers.iter().map(|l| l.n_experts_used).max().unwrap_or(0);
    g.n_experts_shared = g.layers.iter().map(|l| l.n_experts_shared).max().unwrap_or(0);
    g.warnings = warnings;
    g
}

/// Overrides what tensors suggested with what llama.cpp's rules for the architecture make of the
/// hyperparameters (`arch::rules`): which layers hold KV and how wide, which slide and over how
/// many tokens, which keep recurrent state and how much. llama.cpp sizes its caches from these
/// alone, so they decide; tensors remain the source for layers llama.cpp does not describe.
fn apply_llama_cpp_rules(g: &mut Geometry, meta: &Meta, block_count: u32, nextn: u32, warnings: &mut Vec<String>) {
    use arch::rules::{self, Memory};
    let Some(rule) = rules::rule_for(&g.architecture) else {
        if g.architecture != "unknown" {
            warnings.push(format!("llama.cpp does not know the architecture {:?}: it will not load this file", g.architecture));
        }
        return;
    };
    match rule.memory {
        Memory::Unsupported => {
            warnings.push(format!("llama.cpp knows the architecture {:?} by name but cannot load it", g.architecture));
            return;
        }
        Memory::Special if arch::indexer::base_memory(&g.architecture).is_none() => {
            warnings.push(format!(
                "{}: llama.cpp gives this architecture a sparse-attention cache gguf-meter does not size yet; KV cache estimated as a plain cache",
                g.architecture
            ));
            g.estimated.push("kv_cache".into());
            return;
        }
        _ => {}
    }
    if rule.exotic {
        g.estimated.push("kv_cache".into());
        warnings.push(format!("{}: some of llama.cpp's memory rules for this architecture are not modelled; KV cache unverified", g.architecture));
    }
    g.hints.attn_no_cache = rule.no_cache_graph || rule.memory == Memory::None;
    g.hints.embeddings_only = g.hints.attn_no_cache && !rule.diffusion && rule.arch != "t5";
    let Some(plan) = rules::plan(meta, rule, block_count, nextn, g.n_embd) else {
        warnings.push(format!("{}: a hyperparameter llama.cpp requires is missing (sliding_window_pattern?); llama.cpp will refuse this file", g.architecture));
        return;
    };
    // Nanbeige-style loops make more logical layers than blocks: they reuse the blocks' weights.
    let n_blocks = g.layers.len();
    for i in n_blocks..plan.layers.len().min(MAX_BLOCKS as usize) {
        if n_blocks == 0 {
            break;
        }
        let mut l = g.layers[i % n_blocks].clone();
        l.index = i as u32;
        l.bytes = 0;
        l.expert_bytes = 0;
        g.layers.push(l);
    }
    let ple = ple_history(meta, rule.arch);
    for (l, p) in g.layers.iter_mut().zip(&plan.layers) {
        let mla = l.kind == LayerKind::Mla || (plan.mla && p.kv);
        l.kv_cache = p.kv;
        l.indexer = p.indexer.filter(|_| p.kv);
        if plan.mla && p.kv && l.kind != LayerKind::Mla {
            l.kind = LayerKind::Mla;
            l.n_head_kv = p.n_head_kv;
            l.head_dim_k = p.head_k;
            l.head_dim_v = p.head_v;
        }
        if !mla {
            l.n_head_kv = p.n_head_kv;
            l.head_dim_k = p.head_k;
            l.head_dim_v = p.head_v;
            if p.n_head > 0 {
                l.n_head = p.n_head;
            }
        }
        if p.state {
            let (conv_elements, state_elements) = plan.state;
            let extra_elements = if Some(u64::from(l.index)) == ple.map(|p| p.0) { ple.map_or(0, |p| p.1) } else { 0 };
            l.recurrent = Some(RecurrentState { conv_elements, state_elements, extra_elements });
            if !p.kv {
                l.kind = LayerKind::Recurrent;
                l.n_head_kv = 0;
            }
        } else {
            l.recurrent = None;
            if l.kind == LayerKind::Recurrent {
                l.kind = LayerKind::None;
            }
        }
        if !mla && l.kind != LayerKind::Recurrent && (p.kv || l.kind != LayerKind::None) {
            l.kind = if p.sliding { LayerKind::Sliding } else { LayerKind::Attention };
            l.window = p.sliding.then_some(plan.n_swa);
        } else if l.kind == LayerKind::Mla {
            // dots3note, DeepSeek-V4: MLA (K-only) layers that slide keep their rows in the
            // window-sized half of an iSWA cache (llama_kv_cache_dsa_iswa's filter_swa).
            l.window = p.sliding.then_some(plan.n_swa);
        }
        if p.kv {
            l.compressed = p.compressed.clone();
            l.kv_per_seq = p.kv_per_seq;
            // DeepSeek-V4's compressor state: fixed per sequence, counted as recurrent state.
            if p.comp_state > 0 {
                l.recurrent = Some(RecurrentState { conv_elements: 0, state_elements: p.comp_state, extra_elements: 0 });
            }
        }
    }
}
