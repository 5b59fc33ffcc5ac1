//! Does a model fit a machine, at which context, with which llama.cpp flags, how fast at best.

use super::footprint::{footprint, Footprint, FootprintError};
use super::placement::{all_layers, split, Offload, Split, FIT_MARGIN};
use super::settings::Settings;
use super::vision_compute::Mmproj;
use crate::model::Geometry;
use crate::read::TensorEntry;
use serde::Serialize;

/// The hardware to fit: `gpus` identical GPUs (or none) and system RAM.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Machine {
    /// Number of GPUs (0 = CPU only).
    pub gpus: u32,
    /// Memory of one GPU usable by llama.cpp, in bytes (for unified memory: the GPU share).
    pub vram_bytes: u64,
    /// GPU memory bandwidth, bytes/s.
    pub gpu_bandwidth: u64,
    /// System RAM available for the CPU side, bytes.
    pub ram_bytes: u64,
    /// System RAM bandwidth, bytes/s.
    pub cpu_bandwidth: u64,
    /// Description for reports.
    pub label: String,
}

/// The verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Everything on the GPU(s) (or, CPU-only, in RAM).
    FitsFully,
    /// Runs with part of the model in system RAM.
    PartialOffload,
    /// Not even with everything that can go to RAM in RAM.
    DoesNotFit,
}

/// A fit plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    /// Verdict.
    pub verdict: Verdict,
    /// Footprint at the planned context.
    pub footprint: Footprint,
    /// Bytes per side for the planned placement.
    pub split: Split,
    /// GPU memory usable by llama.cpp over all GPUs (after the margin).
    pub gpu_capacity: u64,
    /// RAM usable (after the margin).
    pub ram_capacity: u64,
    /// Largest context (tokens, multiple of 256) that fits entirely on the GPU(s).
    pub max_full_gpu_ctx: Option<u64>,
    /// Upper bound on decode speed: bandwidth / bytes read per token.
    pub tokens_per_second_bound: f64,
}

fn fits_gpu(s: &Split, cap: u64) -> bool {
    s.gpu_bytes <= cap
}

/// GPU capacity of `m` usable by llama.cpp (all GPUs, each minus the margin `--fit` keeps).
pub fn gpu_capacity(m: &Machine) -> u64 {
    u64::from(m.gpus) * m.vram_bytes.saturating_sub(FIT_MARGIN)
}

/// How `fp` splits with every layer on the GPU(s) of `m` (on a CPU-only machine, all in RAM).
pub fn all_on_gpu(g: &Geometry, t: &[TensorEntry], fp: &Footprint, m: &Machine) -> Split {
    let all = Offload { n_gpu_layers: if m.gpus == 0 { 0 } else { all_layers(g) }, n_cpu_moe: 0 };
    split(g, t, fp, all, u64::from(m.gpus))
}

fn at_ctx(g: &Geometry, t: &[TensorEntry], base: &Settings, ctx: Option<u64>, mmproj: &Mmproj) -> Result<Footprint, FootprintError> {
    footprint(g, t, &Settings { ctx, ..base.clone() }, mmproj)
}

/// Plans how to run `g` on `m` with `s`. With no `-c`, prefers the trained context, then the
/// largest context that fits on the GPU (not below 4096, like `--fit`), then a partial
/// offload at min(trained, 32768).
pub fn plan(g: &Geometry, t: &[TensorEntry], s: &Settings, m: &Machine, mmproj: impl Into<Mmproj>) -> Result<Plan, FootprintError> {
    let mmproj: &Mmproj = &mmproj.into();
    let n_gpus = u64::from(m.gpus);
    let gpu_cap = gpu_capacity(m);
    let ram_cap = m.ram_bytes.saturating_sub(FIT_MARGIN);
    let all = Offload { n_gpu_layers: if m.gpus == 0 { 0 } else { all_layers(g) }, n_cpu_moe: 0 };
    let full = |fp: &Footprint| {
        let sp = all_on_gpu(g, t, fp, m);
        if m.gpus == 0 { sp.cpu_bytes <= ram_cap } else { fits_gpu(&sp, gpu_cap) && sp.cpu_bytes <= ram_cap }
    };

    // Largest context that fits fully: binary search in units of 256 tokens.
    let streams = s.parallel.map_or(1, |p| if s.kv_unified { 1 } else { p });
    let trained = g.context_length.max(256).saturating_mul(streams).min(super::settings::MAX_CTX * streams);
    let (mut lo, mut hi) = (0u64, trained.div_ceil(256));
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if full(&at_ctx(g, t, s, Some(mid * 256), mmproj)?) { lo = mid } else { hi = mid - 1 }
    }
    let max_full = (lo > 0).then_some(lo * 256);

    let chosen_ctx = match (s.ctx, max_full) {
        (Some(c), _) if c > 0 => Some(c),
        (_, Some(c)) if c >= trained => None,
        (_, Some(c)) if c >= 4096 => Some(c),
        _ => Some(trained.min(32768)),
    };
    let fp = at_ctx(g, t, s, chosen_ctx, mmproj)?;
    let mut sp = split(g, t, &fp, all, n_gpus);
    let mut verdict = if full(&fp) { Verdict::FitsFully } else { Verdict::DoesNotFit };
    if verdict != Verdict::FitsFully && m.gpus > 0 {
        let candidates: Vec<Offload> = if g.n_experts > 0 {
            // MoE: keep attention and shared experts on the GPU; move routed experts block by block.
            (0..=g.n_layers).map(|n| Offload { n_gpu_layers: all.n_gpu_layers, n_cpu_moe: n }).chain((0..all.n_gpu_layers).rev().map(|n| Offload { n_gpu_layers: n, n_cpu_moe: g.n_layers })).collect()
        } else {
            (0..all.n_gpu_layers).rev().map(|n| Offload { n_gpu_layers: n, n_cpu_moe: 0 }).collect()
        };
        if let Some(o) = candidates.into_iter().find(|&o| fits_gpu(&split(g, t, &fp, o, n_gpus), gpu_cap)) {
            sp = split(g, t, &fp, o, n_gpus);
            verdict = if sp.cpu_bytes <= ram_cap { Verdict::PartialOffload } else { Verdict::DoesNotFit };
        }
    }
    let secs = |bytes: u64, bw: u64| if bw == 0 { 0.0 } else { bytes as f64 / bw as f64 };
    let t_tok = secs(sp.gpu_active, m.gpu_bandwidth) + secs(sp.cpu_active, m.cpu_bandwidth);
    Ok(Plan {
        verdict,
        footprint: fp,
        split: sp,
        gpu_capacity: gpu_cap,
        ram_capacity: ram_cap,
        max_full_gpu_ctx: max_full,
        tokens_per_second_bound: if t_tok > 0.0 { 1.0 / t_tok } else { 0.0 },
    })
}

/// The llama-server command line for a plan. `model` and `mmproj` are the flags that say where
/// the files are (`-m path`, or `-mu URL` / `-hf repo -hff file` for remote ones).
pub fn command_line(model: &str, p: &Plan, s: &Settings, mmproj: Option<&str>) -> String {
    let r = &p.footprint.resolved;
    let mut c = format!("llama-server {model} -c {}", r.n_ctx);
    if let Some(np) = s.parallel {
        c += &format!(" -np {np}");
        if s.kv_unified {
            c += " -kvu";
        }
    }
    let o = p.split.offload;
    c += &format!(" -ngl {}", o.n_gpu_layers);
    if o.n_cpu_moe > 0 {
        c += &format!(" --n-cpu-moe {}", o.n_cpu_moe);
    }
    c += if r.flash_attn { " -fa on" } else { " -fa off" };
    if r.type_k.name() != "F16" {
        c += &format!(" -ctk {}", r.type_k.name().to_lowercase());
    }
    if r.type_v.name() != "F16" {
        c += &format!(" -ctv {}", r.type_v.name().to_lowercase());
    }
    if r.n_ubatch != 512 {
        c += &format!(" -ub {}", r.n_ubatch);
    }
    if let Some(mm) = mmproj {
        c += &format!(" {mm}");
    }
    c + " --fit off"
}
