//! llama.cpp's memory rules for every architecture it knows, and what they make of one file's
//! hyperparameters: which layers hold KV (and how wide), which slide, which keep recurrent state.
//!
//! The table (`llama_cpp.rs`) is generated from llama.cpp's source by `scripts/gen_arch_rules.py`;
//! this module is the interpreter: it reads the file's metadata the way llama.cpp's
//! `llama_model_base::load_hparams` and the architecture's `load_arch_hparams` do, then applies
//! `llama_model::create_memory`'s layer filters. Tensors play no part: llama.cpp sizes its caches
//! from hyperparameters alone.

use super::super::meta::Meta;
use super::llama_cpp::RULES;
use crate::read::Value;

/// Which memory module `llama_model::create_memory` builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Memory {
    /// No cache at all: embedding, reranker and diffusion models.
    None,
    /// `llama_kv_cache`, or `llama_kv_cache_iswa` when the model slides.
    Kv,
    /// `llama_memory_recurrent` on every layer.
    Recurrent,
    /// `llama_memory_hybrid(_iswa)`: attention and recurrent layers side by side.
    Hybrid(Hybrid),
    /// A sparse-attention cache (DSA, MSA, DeepSeek-V4, indexer): not sized by gguf-meter yet.
    Special,
    /// An architecture name llama.cpp knows but cannot load (no model class).
    Unsupported,
}

/// How a hybrid model's layers are split between the attention and recurrent caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hybrid {
    /// Recurrent layers to the recurrent cache, the others to the KV cache (llama.cpp's default).
    ByRecurrent,
    /// Every layer has both (Falcon-H1: attention and Mamba-2 in parallel).
    AllBoth,
    /// Only layers without an FFN take part (Nemotron-H: FFN-only layers hold nothing).
    NoFfnOnly,
}

/// llama.cpp's `llama_swa_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwaType {
    /// No sliding window.
    None,
    /// Attend to the last `n_swa` tokens.
    Standard,
    /// Attend within chunks of `n_swa` tokens (Llama 4).
    Chunked,
    /// A window on both sides (bidirectional embedding models).
    Symmetric,
}

/// Which layers slide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Swa {
    /// None.
    None,
    /// `load_swa_pattern(ml, period, dense_first)`: a `sliding_window_pattern` array if present,
    /// else its integer value or `period`, through `set_swa_pattern`.
    Pattern {
        /// Period when the file gives none.
        period: u32,
        /// Full attention at the start of each period instead of its end.
        dense_first: bool,
    },
    /// The `sliding_window_pattern` array is required.
    Array,
    /// Every layer (`set_swa_pattern(0)`).
    All,
    /// Every non-recurrent layer (LFM2).
    NotRecurrent,
    /// Set by code the generator does not read.
    Unknown,
}

/// What turns sliding on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwaSwitch {
    /// Always on.
    Always,
    /// Only when `sliding_window` is present and positive.
    PositiveWindow,
    /// On unless `sliding_window` is present and 0.
    ZeroDisables,
    /// Only for a model with this many layers (EXAONE 4.0 32B).
    LayerCount(u32),
}

/// Which layers are recurrent (`is_recr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recr {
    /// None.
    None,
    /// All.
    All,
    /// Layers with 0 KV heads.
    KvHeadsZero,
    /// Layers with 0 KV heads and 0 FFN (Nemotron-H's Mamba layers).
    KvHeadsAndFfZero,
    /// `attention.recurrent_layers` if present, else all but every `full_attention_interval`-th
    /// layer (default given).
    Interval(u32),
}

/// Layers past a point reuse an earlier layer's KV (`n_layer_kv_from_start`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvFromStart {
    /// Hard-coded (Gemma 3n: 20).
    Fixed(u32),
    /// `n_layer - attention.shared_kv_layers` (Gemma 4).
    SharedKey,
}

/// One architecture's rules.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// `general.architecture`.
    pub arch: &'static str,
    /// Memory module.
    pub memory: Memory,
    /// Sliding-window type when sliding is on.
    pub swa_type: SwaType,
    /// Which layers slide.
    pub swa: Swa,
    /// What turns sliding on.
    pub swa_switch: SwaSwitch,
    /// Window when the file gives none.
    pub window_default: Option<u64>,
    /// The default window is set after the key is read: the key cannot change it.
    pub window_fixed: bool,
    /// Which layers are recurrent.
    pub recr: Recr,
    /// KV sharing between layers.
    pub kv_from_start: Option<KvFromStart>,
    /// Causal attention (false: bidirectional).
    pub causal: bool,
    /// Linear-attention state sized by the K head (MiniMax-01).
    pub la_head_k: bool,
    /// The graph attends within the micro-batch without reading the KV cache it allocates
    /// (`build_attn_inp_no_cache`: llama.cpp's embedding and encoder variants).
    pub no_cache_graph: bool,
    /// A diffusion language model (`llm_arch_is_diffusion`): bidirectional, but it outputs logits.
    pub diffusion: bool,
    /// Recurrent-state keys (`{arch}.` omitted) `load_arch_hparams` reads; others stay 0 even if present.
    pub reads: &'static [&'static str],
    /// Layers repeat `num_loops` times (Nanbeige).
    pub loops: bool,
    /// The generator saw code it does not understand: figures are unverified.
    pub exotic: bool,
}

/// The rules for an architecture llama.cpp knows.
pub fn rule_for(arch: &str) -> Option<&'static Rule> {
    RULES.binary_search_by(|r| r.arch.cmp(arch)).ok().map(|i| &RULES[i])
}

/// Every architecture name llama.cpp knows.
pub fn llama_cpp_architectures() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|r| r.arch)
}

/// What llama.cpp allocates for one layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerPlan {
    /// Query heads.
    pub n_head: u64,
    /// KV heads.
    pub n_head_kv: u64,
    /// K and V head sizes for this layer (sliding layers may have their own).
    pub head_k: u64,
    /// V head size.
    pub head_v: u64,
    /// Slides (its KV lives in the sliding-window cache).
    pub sliding: bool,
    /// Holds a KV cache of its own.
    pub kv: bool,
    /// Holds recurrent state.
    pub state: bool,
    /// `hparams.is_recr(il)`: a recurrent layer (whether or not its state is cached).
    pub recurrent: bool,
    /// K and V widths of its row in a sparse-attention indexer cache (`arch::indexer`).
    pub indexer: Option<(u64, u64)>,
    /// DeepSeek-V4's compressed K caches for this layer (`arch::indexer::dsv4`).
    pub compressed: Vec<crate::model::CompressedKv>,
    /// f32 elements per sequence of its compressors' state (DeepSeek-V4).
    pub comp_state: u64,
    /// Its caches stay per sequence even when unified (DeepSeek-V4).
    pub kv_per_seq: bool,
}

/// What llama.cpp makes of a file's hyperparameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Per layer, `n_layer_all` long (NextN / MTP layers last).
    pub layers: Vec<LayerPlan>,
    /// Sliding-window size, when some layer slides.
    pub n_swa: u64,
    /// Sliding-window type in force.
    pub swa_type: SwaType,
    /// Recurrent state per layer and sequence: conv (`n_embd_r`) and SSM/WKV (`n_embd_s`) elements.
    pub state: (u64, u64),
    /// Causal attention.
    pub causal: bool,
    /// Multi-head latent attention (`is_mla`): the cache holds one compressed K row per token and
    /// V is a view of it.
    pub mla: bool,
}

fn u64_array(v: &Value) -> Option<Vec<u64>> {
    let a = v.as_array()?;
    a.items.iter().map(|x| x.as_u64()).collect()
}

/// `get_key_or_arr`: a scalar fills every layer, an array gives one value per layer.
fn per_layer(meta: &Meta, key: &str, n: usize) -> Option<Vec<u64>> {
    let v = meta.get(key)?;
    match u64_array(v) {
        Some(a) => Some((0..n).map(|i| a.get(i).copied().unwrap_or(0)).collect()),
        None => v.as_u64().map(|x| vec![x; n]),
    }
}

/// Nanbeige's layer loop: the first `phys` entries, `loops` times over.
fn repeat<T: Clone>(v: &mut Vec<T>, phys: usize, loops: usize) {
    v.truncate(phys);
    let base = v.clone();
    for _ in 1..loops {
        v.extend_from_slice(&base);
    }
}

/// `llama_hparams::set_swa_pattern`.
fn pattern(n_pattern: u64, dense_first: bool, n_layer: usize, n_all: usize) -> Vec<bool> {
    (0..n_all)
        .map(|il| {
            if il >= n_layer {
                return false;
            }
            let il = il as u64;
            n_pattern == 0 || if dense_first { !il.is_multiple_of(n_pattern) } else { il % n_pattern < n_pattern - 1 }
        })
        .collect()
}

/// The file's hyperparameters as llama.cpp reads them for `rule`; `None` when the rule needs a key
/// the file lacks (llama.cpp would refuse it too).
pub fn plan(meta: &Meta, rule: &Rule, n_layer_all: u32, n_layer_nextn: u32, n_embd: u64) -> Option<Plan> {
    // A sparse-attention cache is an attention (or hybrid) cache plus an indexer cache.
    let memory = match rule.memory {
        Memory::Special => super::indexer::base_memory(rule.arch)?,
        m => m,
    };
    let mut n_all = n_layer_all as usize;
    let n_layer = n_all.saturating_sub(n_layer_nextn as usize);
    let n_head = per_layer(meta, "attention.head_count", n_all).unwrap_or_else(|| vec![0; n_all]);
    let mut n_head_kv = per_layer(meta, "attention.head_count_kv", n_all).unwrap_or_else(|| n_head.clone());
    let mut n_ff = per_layer(meta, "feed_forward_length", n_all).unwrap_or_else(|| vec![0; n_all]);
    let head0 = n_head.first().copied().unwrap_or(0);
    // n_embd / n_head unless the file gives key/value lengths; 0 for a model without heads.
    let per_head = n_embd.checked_div(head0);
    let (head_k, head_v) = match per_head {
        Some(d) => (meta.u64("attention.key_length").unwrap_or(d), meta.u64("attention.value_length").unwrap_or(d)),
        None => (0, 0),
    };
    let head_k_swa = meta.u64("attention.key_length_swa").unwrap_or(head_k);
    let head_v_swa = meta.u64("attention.value_length_swa").unwrap_or(head_v);

    // Recurrent layers first: LFM2's sliding layers are the non-recurrent ones.
    let mut is_recr: Vec<bool> = match rule.recr {
        Recr::None => vec![false; n_all],
        Recr::All => vec![true; n_all],
        Recr::KvHeadsZero => n_head_kv.iter().map(|&h| h == 0).collect(),
        Recr::KvHeadsAndFfZero => (0..n_all).map(|i| i < n_layer && n_head_kv[i] == 0 && n_ff[i] == 0).collect(),
        Recr::Interval(default) => match meta.get("attention.recurrent_layers") {
            Some(v) => match u64_array(v) {
                Some(a) => (0..n_all).map(|i| a.get(i).is_some_and(|&x| x != 0)).collect(),
                None => vec![v.as_u64().is_some_and(|x| x != 0); n_all],
            },
            None => {
                let every = meta.u64("full_attention_interval").unwrap_or(default.into()).max(1);
                (0..n_all).map(|i| i < n_layer && !(i as u64 + 1).is_multiple_of(every)).collect()
            }
        },
    };

    let window_key = meta.u64("attention.sliding_window");
    let on = match rule.swa_switch {
        SwaSwitch::Always => true,
        SwaSwitch::PositiveWindow => window_key.is_some_and(|w| w > 0),
        SwaSwitch::ZeroDisables => window_key != Some(0),
        SwaSwitch::LayerCount(n) => n_layer == n as usize,
    };
    let mut swa_type = if on { rule.swa_type } else { SwaType::None };
    let n_swa = if rule.window_fixed { rule.window_default } else { window_key.or(rule.window_default) }.unwrap_or(0);
    let mut is_swa = vec![false; n_all];
    if swa_type != SwaType::None {
        let array = meta.get("attention.sliding_window_pattern").and_then(u64_array);
        is_swa = match rule.swa {
            Swa::None => vec![false; n_all],
            Swa::Pattern { period, dense_first } => match &array {
                Some(a) => (0..n_all).map(|i| a.get(i).is_some_and(|&x| x != 0)).collect(),
                None => {
                    let p = meta.u64("attention.sliding_window_pattern").unwrap_or(period.into());
                    pattern(p, dense_first, n_layer, n_all)
                }
            },
            Swa::Array => (0..n_all).map(|i| array.as_ref()?.get(i).map(|&x| x != 0).or(Some(false))).collect::<Option<Vec<bool>>>()?,
            Swa::All => pattern(0, false, n_layer, n_all),
            Swa::NotRecurrent => is_recr.iter().map(|r| !r).collect(),
            Swa::Unknown => return None,
        };
    }
    if !is_swa.iter().any(|&s| s) {
        swa_type = SwaType::None;
    }

    // Nanbeige: the layers repeat `num_loops` times, caches included.
    if rule.loops {
        // Bounded so the logical layers stay within the 4,096 blocks gguf-meter believes.
        let loops = (meta.u64("num_loops").unwrap_or(1).clamp(1, 64) as usize).min(4096 / n_layer.max(1)).max(1);
        if loops > 1 {
            let phys = n_layer;
            for v in [&mut n_head_kv, &mut n_ff] {
                repeat(v, phys, loops);
            }
            for v in [&mut is_swa, &mut is_recr] {
                repeat(v, phys, loops);
            }
            n_all = phys * loops;
        }
    }
    let n_layer = n_all.saturating_sub(if rule.loops { 0 } else { n_layer_nextn as usize });

    let kv_from_start = match rule.kv_from_start {
        Some(KvFromStart::Fixed(n)) => Some(n as usize),
        Some(KvFromStart::SharedKey) => Some(n_all.saturating_sub(meta.u64("attention.shared_kv_layers").unwrap_or(0) as usize)),
        None => None,
    };
    let attn_filter = |i: usize| -> bool {
        let has_kv = kv_from_start.is_none_or(|n| i < n);
        let nextn = n_layer_nextn > 0 && i >= n_layer;
        has_kv
            && !nextn
            && match memory {
                Memory::Kv => true,
                Memory::Hybrid(Hybrid::ByRecurrent) => !is_recr[i],
                Memory::Hybrid(Hybrid::AllBoth) => true,
                Memory::Hybrid(Hybrid::NoFfnOnly) => !is_recr[i] && n_ff[i] == 0,
                _ => false,
            }
    };
    let recr_filter = |i: usize| -> bool {
        i < n_layer
            && match memory {
                Memory::Recurrent => true,
                Memory::Hybrid(Hybrid::ByRecurrent) => is_recr[i],
                Memory::Hybrid(Hybrid::AllBoth) => true,
                Memory::Hybrid(Hybrid::NoFfnOnly) => is_recr[i] && n_ff[i] == 0,
                _ => false,
            }
    };
    let n_head_at = |i: usize| n_head.get(i).copied().unwrap_or(head0);
    let indexer = super::indexer::widths(meta, rule.arch, n_all, n_layer, &is_recr, head_v);
    let dsv4 = if rule.arch == "deepseek4" { super::indexer::dsv4(meta, n_layer, head_k) } else { Vec::new() };
    let layers = (0..n_all)
        .map(|i| LayerPlan {
            indexer: indexer.get(i).copied().flatten(),
            compressed: dsv4.get(i).map(|d| d.caches(n_head_kv.get(i).copied().unwrap_or(0))).unwrap_or_default(),
            comp_state: dsv4.get(i).map_or(0, |d| d.state),
            kv_per_seq: rule.arch == "deepseek4",
            n_head: n_head_at(i),
            n_head_kv: n_head_kv.get(i).copied().unwrap_or(0),
            head_k: if is_swa[i] { head_k_swa } else { head_k },
            head_v: if is_swa[i] { head_v_swa } else { head_v },
            sliding: is_swa[i] && swa_type != SwaType::None,
            kv: attn_filter(i),
            state: recr_filter(i),
            recurrent: is_recr.get(i).copied().unwrap_or(false),
        })
        .collect();
    let read = |s: &str| if rule.reads.contains(&s) { meta.u64(s).unwrap_or(0) } else { 0 };
    // DeepSeek-V4's caches are K-only, as MLA's are (`dsv4_make_k_only`).
    let mla = (read("attention.key_length_mla") != 0 && read("attention.value_length_mla") != 0) || rule.arch == "deepseek4";
    Some(Plan { layers, n_swa, swa_type, state: state_elements(meta, rule, n_embd, head0, head_k), causal: rule.causal, mla })
}

/// `llama_hparams::n_embd_r` and `n_embd_s` (llama-hparams.cpp), from the keys each
/// architecture's `load_arch_hparams` reads.
fn state_elements(meta: &Meta, rule: &Rule, n_embd: u64, n_head: u64, head_k: u64) -> (u64, u64) {
    let k = |s: &str| if rule.reads.contains(&s) { meta.u64(s).unwrap_or(0) } else { 0 };
    let wkv = k("wkv.head_size");
    let d_conv = k("ssm.conv_kernel");
    if wkv != 0 {
        let shift = if rule.reads.contains(&"token_shift_count") { meta.u64("token_shift_count").unwrap_or(2) } else { 2 };
        return (shift.saturating_mul(n_embd), n_embd.saturating_mul(wkv));
    }
    let shortconv = k("shortconv.l_cache");
    let kda = k("kda.head_dim");
    let r = if shortconv != 0 {
        n_embd.saturating_mul(shortconv - 1)
    } else if kda != 0 {
        3u64.saturating_mul(if d_conv > 0 { d_conv - 1 } else { 3 }).saturating_mul(n_head.saturating_mul(kda))
    } else {
        d_conv
            .saturating_sub(1)
            .saturating_mul(k("ssm.inner_size").saturating_add(2u64.saturating_mul(k("ssm.group_count")).saturating_mul(k("ssm.state_size"))))
    };
    let la = if rule.la_head_k { head_k } else { 0 };
    let s = if kda != 0 {
        kda.saturating_mul(kda).saturating_mul(n_head)
    } else if la != 0 {
        la.saturating_mul(la).saturating_mul(n_head)
    } else {
        k("ssm.state_size").saturating_mul(k("ssm.inner_size"))
    };
    (r, s)
}
