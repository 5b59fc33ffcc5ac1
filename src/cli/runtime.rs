//! Runtime flags shared by `footprint` and `fit`, named as llama-server names them.

use crate::estimate::CpuKind;
use crate::estimate::overrides::Overrides;
use crate::estimate::settings::{FlashAttn, Settings, cache_type};

/// llama.cpp runtime settings (defaults = llama-server's).
#[derive(clap::Args, Clone, Debug)]
pub struct RuntimeArgs {
    /// -c: context size in tokens (default: the model's trained context).
    #[arg(short = 'c', long = "ctx", alias = "ctx-size")]
    pub ctx: Option<u64>,
    #[command(flatten)]
    pub rest: SessionArgs,
}

impl RuntimeArgs {
    /// Converts to estimate settings, validating cache types.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        self.rest.settings(self.ctx)
    }
}

/// Every runtime flag except the context (for `table`, which takes a list of contexts).
#[derive(clap::Args, Clone, Debug)]
pub struct SessionArgs {
    /// -np: parallel sequences (default: auto = 4 with a unified KV cache).
    #[arg(long = "parallel")]
    pub parallel: Option<u64>,
    /// -kvu: one KV buffer shared by all sequences.
    #[arg(long = "kv-unified")]
    pub kv_unified: bool,
    /// -ctk: K cache type (f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1).
    #[arg(long = "cache-type-k", default_value = "f16")]
    pub cache_type_k: String,
    /// -ctv: V cache type.
    #[arg(long = "cache-type-v", default_value = "f16")]
    pub cache_type_v: String,
    /// -fa: flash attention.
    #[arg(long = "flash-attn", value_enum, default_value = "auto")]
    pub flash_attn: FlashAttn,
    /// -b: logical batch size.
    #[arg(short = 'b', long = "batch-size", default_value_t = 2048)]
    pub batch: u64,
    /// -ub: physical batch size (tokens per compute graph).
    #[arg(long = "ubatch-size", default_value_t = 512)]
    pub ubatch: u64,
    /// --swa-full: keep the full context in sliding-window layers.
    #[arg(long = "swa-full")]
    pub swa_full: bool,
    /// Count the MTP (next-token prediction) blocks as loaded, as for MTP speculative decoding.
    #[arg(long = "load-mtp")]
    pub load_mtp: bool,
}

impl SessionArgs {
    /// Converts to estimate settings at context `ctx`, validating cache types.
    pub fn settings(&self, ctx: Option<u64>) -> anyhow::Result<Settings> {
        Ok(Settings {
            ctx,
            parallel: self.parallel,
            kv_unified: self.kv_unified,
            cache_type_k: cache_type(&self.cache_type_k)?,
            cache_type_v: cache_type(&self.cache_type_v)?,
            flash_attn: self.flash_attn,
            batch: self.batch,
            ubatch: self.ubatch,
            swa_full: self.swa_full,
            load_mtp: self.load_mtp,
            ..Settings::default()
        })
    }
}

/// How llama.cpp loads the weights on the CPU (`footprint`): mmap and the CPU's repacking.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct LoadArgs {
    /// Do not map the file (older llama-server's --no-mmap; --load-mode none in newer ones):
    /// the CPU weights are read into an anonymous buffer instead of a CPU_Mapped one.
    #[arg(long = "no-mmap", conflicts_with = "load_mode")]
    pub no_mmap: bool,
    /// -lm: llama-server's --load-mode (auto, mmap, mmap+mlock map the file; none, mlock, dio do not).
    #[arg(long = "load-mode", value_name = "MODE", value_parser = ["auto", "none", "mmap", "mlock", "mmap+mlock", "dio"])]
    pub load_mode: Option<String>,
    /// The CPU llama.cpp runs on, which decides what ggml-cpu repacks into CPU_REPACK:
    /// x86-avx2 (default), x86-avx512, arm (also apple, arm-i8mm, arm-dotprod), none (also x86: no AVX2).
    #[arg(long = "cpu-kind", value_enum, default_value = "x86-avx2")]
    pub cpu_kind: CpuKind,
}

impl LoadArgs {
    /// Sets `s.mmap` and `s.cpu_kind`.
    pub fn apply(&self, s: &mut Settings) {
        s.mmap = !self.no_mmap && matches!(self.load_mode.as_deref(), None | Some("auto" | "mmap" | "mmap+mlock"));
        s.cpu_kind = self.cpu_kind;
    }
}

/// `-ot` / `--override-tensor`, for `footprint`, `fit` and `table`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct OverrideArgs {
    /// -ot: put tensors whose name matches a regular expression in a buffer (CPU, CUDA0, CUDA1, ...),
    /// first match wins; repeatable, and comma-separated lists as llama.cpp takes them.
    #[arg(long = "override-tensor", value_name = "PATTERN=BUFFER,...")]
    pub override_tensor: Vec<String>,
}

impl OverrideArgs {
    /// The overrides, checked against a machine with `n_gpus` GPUs (`None`: no machine known).
    pub fn overrides(&self, n_gpus: Option<u32>) -> anyhow::Result<Overrides> {
        Ok(Overrides::parse(&self.override_tensor, n_gpus)?)
    }
}

/// Rewrites llama.cpp's multi-letter short flags (`-np 4`, `-ctk q8_0`, `-fa on`, `-ub 256`,
/// `-kvu`, `-ngl 20`, `-ot x=CPU`, `-lm none`) to their long forms, which is all clap accepts.
pub fn llama_style_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    args.into_iter()
        .map(|a| {
            let long = match a.to_str().unwrap_or_default() {
                "-np" => "--parallel",
                "-ctk" => "--cache-type-k",
                "-ctv" => "--cache-type-v",
                "-fa" => "--flash-attn",
                "-ub" => "--ubatch-size",
                "-kvu" => "--kv-unified",
                "-ngl" => "--n-gpu-layers",
                "-ot" => "--override-tensor",
                "-lm" => "--load-mode",
                _ => return a,
            };
            long.into()
        })
        .collect()
}
