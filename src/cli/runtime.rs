//! Runtime flags shared by the commands, named as llama-server names them (its single-dash
//! spellings are in flags.rs), and the parsers of token counts and memory sizes.

use crate::estimate::CpuKind;
use crate::estimate::overrides::Overrides;
use crate::estimate::placement::Offload;
use crate::estimate::settings::{FlashAttn, Settings, cache_type};
use crate::util::units::parse_bytes;

/// llama.cpp runtime settings (defaults = llama-server's).
#[derive(clap::Args, Clone, Debug)]
pub struct RuntimeArgs {
    /// Context size in tokens: 8192, 32K (K = 1024); 0 = the model's trained context, as in
    /// llama.cpp (default: the trained context).
    #[arg(short = 'c', long = "ctx-size", visible_alias = "ctx", value_name = "N", value_parser = tokens)]
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

/// `-c 0`, said in words: what llama.cpp does with it.
pub fn ctx_zero_note(ctx: Option<u64>, trained: u64) -> Option<String> {
    (ctx == Some(0)).then(|| format!("-c 0: the model's trained context ({trained} tokens per sequence), as llama.cpp reads it"))
}

/// A token count: `8192`, `32K`/`32k` (x 1024, as llama.cpp users write contexts), `1M` (x 1024^2).
pub fn tokens(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 1 << 10),
        Some((i, 'M' | 'm')) => (&t[..i], 1 << 20),
        _ => (t, 1),
    };
    let v: u64 = num.trim().parse().map_err(|_| format!("{s:?}: expected tokens such as 32768 or 32K"))?;
    v.checked_mul(mult).ok_or_else(|| format!("{s:?}: too large"))
}

/// A memory size with its unit: `24GiB`, `64GB`, `512MiB`, `16g`, or bytes with `B`. A bare
/// number is refused with the unit it probably lacks: `--vram 24` is not 24 bytes.
pub fn size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        // A small number is GiB forgotten; a large one is probably a byte count.
        let guess = if t.parse::<f64>().is_ok_and(|v| v >= (1u64 << 20) as f64) { format!("{t}B") } else { format!("{t}GiB") };
        return Err(format!("{s:?} has no unit; did you mean {guess}? (sizes take a unit: 24GiB, 64GB, 512MiB; bytes: {t}B)"));
    }
    parse_bytes(t).ok_or_else(|| format!("{s:?}: expected a size such as 24GiB, 64GB or 512MiB"))
}

/// Every runtime flag except the context (for `table`, which takes a list of contexts).
#[derive(clap::Args, Clone, Debug)]
pub struct SessionArgs {
    /// Parallel sequences (default: auto = 4 with a unified KV cache).
    #[arg(long = "parallel", value_name = "N")]
    pub parallel: Option<u64>,
    /// One KV buffer shared by all sequences.
    #[arg(long = "kv-unified")]
    pub kv_unified: bool,
    /// K cache type (f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1).
    #[arg(long = "cache-type-k", value_name = "TYPE", default_value = "f16")]
    pub cache_type_k: String,
    /// V cache type.
    #[arg(long = "cache-type-v", value_name = "TYPE", default_value = "f16")]
    pub cache_type_v: String,
    /// Flash attention.
    #[arg(long = "flash-attn", value_enum, default_value = "auto")]
    pub flash_attn: FlashAttn,
    /// Logical batch size.
    #[arg(short = 'b', long = "batch-size", value_name = "N", default_value_t = 2048, value_parser = tokens)]
    pub batch: u64,
    /// Physical batch size (tokens per compute graph).
    #[arg(long = "ubatch-size", value_name = "N", default_value_t = 512, value_parser = tokens)]
    pub ubatch: u64,
    /// Keep the full context in sliding-window layers.
    #[arg(long = "swa-full")]
    pub swa_full: bool,
    /// Count the MTP (next-token prediction) blocks as loaded, as for MTP speculative decoding.
    #[arg(long = "load-mtp")]
    pub load_mtp: bool,
}

/// Where the layers go, as llama-server is told (`footprint` splits its figures per device;
/// `fit` checks this placement instead of searching one).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct PlacementArgs {
    /// Layers on the GPU(s): the output layer and the last N-1 blocks; `all` for every layer.
    #[arg(long = "n-gpu-layers", visible_alias = "gpu-layers", value_name = "N", value_parser = gpu_layers)]
    pub n_gpu_layers: Option<u32>,
    /// How the layers are shared between GPUs, comma-separated proportions (3,1) or layer counts.
    #[arg(long = "tensor-split", value_name = "N,...", value_delimiter = ',')]
    pub tensor_split: Vec<f64>,
    /// Keep the routed experts of the first N blocks in system RAM.
    #[arg(long = "n-cpu-moe", value_name = "N")]
    pub n_cpu_moe: Option<u32>,
    /// Keep every routed expert in system RAM.
    #[arg(long = "cpu-moe", conflicts_with = "n_cpu_moe")]
    pub cpu_moe: bool,
    /// The main GPU: with -sm none the only GPU llama.cpp uses (default 0); with -sm layer it
    /// changes nothing gguf-meter models.
    #[arg(long = "main-gpu", value_name = "N")]
    pub main_gpu: Option<u32>,
    /// Keep the KV cache and recurrent state in system RAM (the attention then runs on the CPU).
    #[arg(long = "no-kv-offload", visible_alias = "no-kv-offload")]
    pub no_kv_offload: bool,
    /// How several GPUs share the model: layer (default) or none (the main GPU alone); row and
    /// tensor are refused (not modelled).
    #[arg(long = "split-mode", value_name = "MODE", value_parser = ["layer", "row", "none", "tensor"])]
    pub split_mode: Option<String>,
}

/// `-ngl`: a number, or `all` / `-1`... as llama.cpp takes them (`all` = every layer).
fn gpu_layers(s: &str) -> Result<u32, String> {
    match s.trim() {
        "all" | "-1" => Ok(u32::MAX),
        t => t.parse().map_err(|_| format!("{s:?}: expected a number of layers or `all`")),
    }
}

impl PlacementArgs {
    /// True when any placement flag was given.
    pub fn given(&self) -> bool {
        self.n_gpu_layers.is_some() || !self.tensor_split.is_empty() || self.n_cpu_moe.is_some() || self.cpu_moe || self.no_kv_offload
    }

    /// The placement for a model with `n_layers` blocks: `-ngl` (default all when a GPU split
    /// or expert flag is given alone) and `--n-cpu-moe` (`--cpu-moe` = every block).
    pub fn offload(&self, all_layers: u32, n_layers: u32) -> Offload {
        Offload {
            n_gpu_layers: self.n_gpu_layers.unwrap_or(all_layers).min(all_layers),
            n_cpu_moe: if self.cpu_moe { n_layers } else { self.n_cpu_moe.unwrap_or(0).min(n_layers) },
        }
    }

    /// `-ts` as the integer weights the placement takes, or
    /// `None` when not given. Refuses negative, non-finite or all-zero splits.
    pub fn split(&self) -> anyhow::Result<Option<Vec<u64>>> {
        if self.tensor_split.is_empty() {
            return Ok(None);
        }
        if self.tensor_split.iter().any(|v| !v.is_finite() || *v < 0.0 || *v > 1e9) || self.tensor_split.iter().all(|v| *v == 0.0) {
            anyhow::bail!("-ts {:?}: expected non-negative proportions, not all zero", self.tensor_split);
        }
        if self.tensor_split.len() > 64 {
            anyhow::bail!("-ts: at most 64 GPUs");
        }
        // Whole numbers (layer counts, 3,1) as given; fractions (0.6,0.4) scaled, same ratios.
        let scale = if self.tensor_split.iter().all(|v| v.fract() == 0.0) { 1.0 } else { 1000.0 };
        Ok(Some(self.tensor_split.iter().map(|v| (v * scale).round() as u64).collect()))
    }

    /// With `-sm none`, the one GPU llama.cpp uses (`-mg`, default 0: `llama_prepare_model_devices`
    /// drops every other device, so their memory and `-ts` play no part); `None` with `-sm layer`.
    /// `-sm row` (matrices split by rows in CUDA's split buffer type, KV and compute on the main
    /// GPU) and `-sm tensor` are refused: gguf-meter cannot say what each GPU then holds.
    pub fn single_gpu(&self) -> anyhow::Result<Option<u32>> {
        match self.split_mode.as_deref() {
            None | Some("layer") => Ok(None),
            Some("none") => Ok(Some(self.main_gpu.unwrap_or(0))),
            Some(m) => anyhow::bail!(
                "-sm {m}: not modelled (llama.cpp then splits each weight matrix across the GPUs{}); gguf-meter plans -sm layer (the default) and -sm none",
                if m == "row" { " by rows in CUDA's split buffer, with KV and compute on the main GPU" } else { " and the KV cache with them" }
            ),
        }
    }

    /// Notes on flags that change nothing here.
    pub fn notes(&self) -> Vec<String> {
        match (self.main_gpu, self.split_mode.as_deref()) {
            (Some(g), None | Some("layer")) => {
                vec![format!(
                    "-mg {g}: the main GPU matters with -sm none (modelled) and -sm row (not modelled); with -sm layer, planned here, it changes nothing"
                )]
            }
            _ => Vec::new(),
        }
    }
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
    /// llama-server's --load-mode (auto, mmap, mmap+mlock map the file; none, mlock, dio do not).
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
    /// Put tensors whose name matches a regular expression in a buffer (CPU, CUDA0, CUDA1, ...),
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
