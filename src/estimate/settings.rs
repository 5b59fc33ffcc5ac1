//! Runtime settings as llama-server takes them, and how llama.cpp resolves them into the
//! sizes it allocates (`llama_context::llama_context`, `src/llama-context.cpp`; see
//! docs/llama-cpp-memory.md section 1).

use super::cpu_buffers::CpuKind;
use crate::model::{Geometry, LayerKind};
use crate::read::GgmlType;
use serde::Serialize;

/// `-fa on|off|auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum FlashAttn {
    /// Always use flash attention.
    On,
    /// Never use it (K·Q scores are materialised: much larger compute buffers).
    Off,
    /// llama.cpp decides; it resolves to on wherever the backend supports the fused op
    /// (CPU, CUDA, Metal, Vulkan all do), which is what gguf-meter assumes.
    Auto,
}

/// KV cache element types llama.cpp accepts for `-ctk` / `-ctv` (`kv_cache_types`, common/arg.cpp).
pub const CACHE_TYPES: [&str; 9] = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"];

/// What the user asked for. `None` means llama-server's default.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// `-c`: total context; `None` or 0 = the model's trained context.
    pub ctx: Option<u64>,
    /// `-np`: parallel sequences; `None` = auto (4 slots, unified KV).
    pub parallel: Option<u64>,
    /// `-kvu`: one KV stream shared by all sequences.
    pub kv_unified: bool,
    /// `-ctk`.
    pub cache_type_k: GgmlType,
    /// `-ctv`.
    pub cache_type_v: GgmlType,
    /// `-fa`.
    pub flash_attn: FlashAttn,
    /// `-b` (logical batch).
    pub batch: u64,
    /// `-ub` (physical batch: tokens per compute graph).
    pub ubatch: u64,
    /// `--swa-full`: sliding layers keep the whole context.
    pub swa_full: bool,
    /// Load the MTP (next-token prediction) blocks, as llama.cpp does for MTP speculative decoding.
    pub load_mtp: bool,
    /// Map the file (llama-server's default; `--no-mmap` turns it off).
    pub mmap: bool,
    /// The CPU llama.cpp runs on: which weights ggml-cpu repacks.
    pub cpu_kind: CpuKind,
}

impl Default for Settings {
    /// llama-server's defaults (common/common.h, tools/server/server.cpp).
    fn default() -> Self {
        Settings {
            ctx: None,
            parallel: None,
            kv_unified: false,
            cache_type_k: GgmlType::F16,
            cache_type_v: GgmlType::F16,
            flash_attn: FlashAttn::Auto,
            batch: 2048,
            ubatch: 512,
            swa_full: false,
            load_mtp: false,
            mmap: true,
            cpu_kind: CpuKind::X86Avx2,
        }
    }
}

/// The sizes llama.cpp derives from settings and model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resolved {
    /// Total KV cells over all streams (`n_ctx` after padding).
    pub n_ctx: u64,
    /// Cells per stream (`n_ctx_seq`): the context one sequence can use.
    pub n_ctx_seq: u64,
    /// Sequences (`n_seq_max`).
    pub n_seq_max: u64,
    /// KV streams: 1 when unified, else one per sequence.
    pub n_stream: u64,
    /// One shared KV stream.
    pub kv_unified: bool,
    /// Logical batch after capping at the context.
    pub n_batch: u64,
    /// Tokens per compute graph.
    pub n_ubatch: u64,
    /// Flash attention in effect.
    pub flash_attn: bool,
    /// K cache type.
    pub type_k: GgmlType,
    /// V cache type.
    pub type_v: GgmlType,
    /// Full-size SWA cache.
    pub swa_full: bool,
    /// `--load-mtp`: the MTP blocks are loaded (their weights counted and placed).
    pub load_mtp: bool,
}

/// Why settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A cache type llama.cpp refuses.
    #[error("unsupported cache type {0:?}: llama.cpp accepts f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1")]
    CacheType(String),
    /// Quantized V without flash attention.
    #[error("quantized V cache ({0}) requires flash attention; use -fa on or auto")]
    QuantizedVNeedsFlashAttn(String),
    /// A context length beyond what the tool (and any machine) can hold.
    #[error("context {0} is beyond any sane size (at most {MAX_CTX} tokens)")]
    ContextTooLarge(u64),
    /// A zero or absurd batch or parallel count.
    #[error("{0}")]
    Invalid(String),
}

/// Largest context accepted (2^26 tokens, 64x the largest trained context known).
pub const MAX_CTX: u64 = 1 << 26;
/// Largest `-b` / `-ub` accepted.
pub const MAX_BATCH: u64 = 1 << 20;
/// Largest `-np` accepted (llama.cpp's LLAMA_MAX_SEQ is 256).
pub const MAX_SEQ: u64 = 256;

/// Parses a `-ctk`/`-ctv` value.
pub fn cache_type(name: &str) -> Result<GgmlType, SettingsError> {
    let lower = name.to_ascii_lowercase();
    if !CACHE_TYPES.contains(&lower.as_str()) {
        return Err(SettingsError::CacheType(name.to_string()));
    }
    GgmlType::from_name(&lower).ok_or_else(|| SettingsError::CacheType(name.to_string()))
}

fn pad(x: u64, n: u64) -> u64 {
    x.div_ceil(n) * n
}

/// Resolves settings the way llama-server + llama.cpp do.
pub fn resolve(s: &Settings, g: &Geometry) -> Result<Resolved, SettingsError> {
    if s.batch == 0 || s.ubatch == 0 || s.batch > MAX_BATCH || s.ubatch > MAX_BATCH {
        return Err(SettingsError::Invalid(format!("batch and ubatch must be between 1 and {MAX_BATCH}")));
    }
    // -np auto: 4 slots sharing one unified KV stream (tools/server/server.cpp).
    let (n_seq_max, kv_unified) = match s.parallel {
        None => (4, true),
        Some(0) => return Err(SettingsError::Invalid("--parallel must be at least 1".into())),
        Some(n) if n > MAX_SEQ => return Err(SettingsError::Invalid(format!("--parallel {n} exceeds llama.cpp's {MAX_SEQ}"))),
        Some(n) => (n, s.kv_unified),
    };
    let n_stream = if kv_unified { 1 } else { n_seq_max };
    // -c 0 / absent: the trained context per stream (common/fit.cpp when n_ctx == 0).
    let requested = match s.ctx {
        None | Some(0) => g.context_length.max(1).saturating_mul(n_stream),
        Some(c) => c,
    };
    if requested > MAX_CTX * n_stream {
        return Err(SettingsError::ContextTooLarge(requested));
    }
    let n_batch = requested.min(s.batch);
    let n_ubatch = n_batch.min(s.ubatch);
    let mut n_ctx = pad(requested, 256);
    let n_ctx_seq = if kv_unified { n_ctx } else { pad(n_ctx / n_seq_max, 256) };
    if !kv_unified {
        n_ctx = n_ctx_seq * n_seq_max;
    }
    // llama_init_from_model (llama-context.cpp:3816): flash attention is forced off for Grok.
    let flash_attn = s.flash_attn != FlashAttn::Off && g.architecture != "grok";
    // llama_init_from_model (llama-context.cpp:3835): an MLA cache stores V inside K.
    if s.cache_type_k != s.cache_type_v && (g.layers.iter().any(|l| l.kind == LayerKind::Mla) || g.architecture == "deepseek4") {
        return Err(SettingsError::Invalid(format!(
            "this model's MLA cache holds V inside K: llama.cpp refuses different K ({}) and V ({}) cache types",
            s.cache_type_k.name().to_lowercase(),
            s.cache_type_v.name().to_lowercase()
        )));
    }
    let is_quant = |t: GgmlType| !matches!(t.name().as_str(), "F32" | "F16" | "BF16");
    if !flash_attn && is_quant(s.cache_type_v) {
        return Err(SettingsError::QuantizedVNeedsFlashAttn(s.cache_type_v.name().to_lowercase()));
    }
    // llama-context.cpp:3851-3870: with flash attention a quantized cache type's blocks must divide
    // every layer's head size (not only the row: a head of 80 refuses q8_0's 32).
    if flash_attn {
        for (ty, which) in [(s.cache_type_k, "K"), (s.cache_type_v, "V")] {
            let block = ty.traits().map_or(1, |t| t.block_size.max(1));
            if !is_quant(ty) || block <= 1 {
                continue;
            }
            let head = |l: &crate::model::LayerGeometry| if which == "K" { l.head_dim_k } else { l.head_dim_v };
            if let Some(l) = g.layers.iter().find(|l| !l.mtp && head(l) % block != 0) {
                return Err(SettingsError::Invalid(format!(
                    "{which} cache type {} with block size {block} does not divide layer {}'s head size {}: llama.cpp refuses it",
                    ty.name().to_lowercase(),
                    l.index,
                    head(l)
                )));
            }
        }
    }
    Ok(Resolved {
        n_ctx,
        n_ctx_seq,
        n_seq_max,
        n_stream,
        kv_unified,
        n_batch,
        n_ubatch,
        flash_attn,
        type_k: s.cache_type_k,
        type_v: s.cache_type_v,
        swa_full: s.swa_full,
        load_mtp: s.load_mtp,
    })
}
