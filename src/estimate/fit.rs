//! Does a model fit a machine, at which context, with which llama.cpp flags, how fast at best.
//! Every GPU is checked against its own memory: with `-sm layer` each holds its layers'
//! weights, their KV and recurrent state, and its own compute buffer, the scheduler's share of
//! the graph (`Placer::scheduled`), as is the host's buffer against the RAM.

use super::footprint::{Footprint, FootprintError, footprint};
use super::overrides::Overrides;
use super::placement::{FIT_MARGIN, Offload, Placer, Split, all_layers};
use super::settings::Settings;
use super::speed::{self, SpeedEstimate};
use super::vision_compute::Mmproj;
use crate::model::Geometry;
use crate::read::TensorEntry;
use serde::Serialize;

pub use super::command::command_line;
pub use super::machine::{Gpu, Machine};

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
    /// Bytes per side and per device for the planned placement.
    pub split: Split,
    /// GPU memory usable by llama.cpp over all GPUs (after the margin).
    pub gpu_capacity: u64,
    /// Per GPU, memory usable by llama.cpp (after the margin).
    pub device_capacity: Vec<u64>,
    /// RAM usable (after the margin).
    pub ram_capacity: u64,
    /// `-ts` to pass (proportions per GPU), when the default split would not be the one planned.
    pub tensor_split: Option<Vec<u64>>,
    /// Largest context (tokens, multiple of 256) that fits entirely on the GPU(s).
    pub max_full_gpu_ctx: Option<u64>,
    /// Upper bound on decode speed: bandwidth / bytes read per token.
    pub tokens_per_second_bound: f64,
    /// Expected speeds (estimates: `speed.rs`); `None` when a device's bandwidth or throughput is unknown.
    pub speed: Option<SpeedEstimate>,
}

/// Prompt length the speed estimate's time to first token is for, unless told (`--prompt`).
pub const DEFAULT_PROMPT: u64 = 4096;

/// The speed estimate of `p` (planned for `g` on `m`) for a prompt of `prompt` tokens.
pub fn speed_of(g: &Geometry, t: &[TensorEntry], p: &Plan, m: &Machine, prompt: u64) -> Option<SpeedEstimate> {
    let w = speed::workload_for(g, t, &p.footprint, &p.split, m, p.tensor_split.as_deref())?;
    speed::estimate(&w, prompt, p.footprint.resolved.n_ubatch, &speed::CALIBRATED)
}

/// Per GPU of `m`, memory usable by llama.cpp (each minus the margin `--fit` keeps).
pub fn device_capacities(m: &Machine) -> Vec<u64> {
    m.gpus.iter().map(|g| g.vram_bytes.saturating_sub(FIT_MARGIN)).collect()
}

/// GPU capacity of `m` usable by llama.cpp, summed over its GPUs.
pub fn gpu_capacity(m: &Machine) -> u64 {
    device_capacities(m).into_iter().fold(0, u64::saturating_add)
}

/// True when every GPU's share of `sp` fits that GPU of `m`.
pub fn fits_gpus(sp: &Split, m: &Machine) -> bool {
    sp.devices.iter().zip(device_capacities(m)).all(|(d, cap)| d.total_bytes <= cap)
}

fn full_offload(g: &Geometry, m: &Machine) -> Offload {
    Offload { n_gpu_layers: if m.gpus.is_empty() { 0 } else { all_layers(g) }, n_cpu_moe: 0 }
}

/// How `fp` splits with every layer on the GPU(s) of `m` (on a CPU-only machine, all in RAM),
/// each device's compute buffer as [`plan`] counts it (the scheduler's split of the graph).
pub fn all_on_gpu(g: &Geometry, t: &[TensorEntry], fp: &Footprint, m: &Machine) -> Split {
    Placer::new(g, t, &Overrides::default(), &m.tensor_split()).scheduled(true).split(fp, full_offload(g, m))
}

/// Places footprints on one machine: the default split first, then a rebalanced `-ts`.
struct Fitter<'a> {
    m: &'a Machine,
    placer: Placer<'a>,
    n_all: u32,
}

impl Fitter<'_> {
    /// A split of `fp` for `o` whose every GPU fits, with the `-ts` it needs, if there is one.
    fn place(&self, fp: &Footprint, o: Offload) -> Option<(Split, Option<Vec<u64>>)> {
        let sp = self.placer.split(fp, o);
        if fits_gpus(&sp, self.m) {
            return Some((sp, self.m.mixed().then(|| self.m.tensor_split())));
        }
        if self.m.gpus.len() < 2 {
            return None;
        }
        // -ts as layer counts puts exactly c_i layers on GPU i (split points c/act, upper_bound).
        // A device's bytes only grow with its share, so the largest prefix each GPU can take,
        // front to back, is a feasible split whenever one exists.
        let act = o.n_gpu_layers.min(self.n_all + 1);
        let n = self.m.gpus.len();
        let mut counts: Vec<u64> = Vec::with_capacity(n);
        for i in 0..n {
            let left = u64::from(act) - counts.iter().sum::<u64>();
            let with = |c: u64| {
                let mut ts = counts.clone();
                ts.push(c);
                ts.push(left - c);
                ts.resize(n.max(ts.len()), 0);
                ts.truncate(n);
                ts
            };
            let fits = |c: u64| {
                let ts = with(c);
                fits_one(&self.placer.with_split(&ts).split(fp, o), self.m, i)
            };
            if i == n - 1 {
                if !fits(left) {
                    return None;
                }
                counts.push(left);
                break;
            }
            let (mut lo, mut hi) = (0u64, left);
            if !fits(0) {
                return None;
            }
            while lo < hi {
                let mid = (lo + hi).div_ceil(2);
                if fits(mid) { lo = mid } else { hi = mid - 1 }
            }
            counts.push(lo);
        }
        let sp = self.placer.with_split(&counts).split(fp, o);
        fits_gpus(&sp, self.m).then_some((sp, Some(counts)))
    }
}

fn fits_one(sp: &Split, m: &Machine, i: usize) -> bool {
    sp.devices[i].total_bytes <= m.gpus[i].vram_bytes.saturating_sub(FIT_MARGIN)
}

fn at_ctx(g: &Geometry, t: &[TensorEntry], base: &Settings, ctx: Option<u64>, mmproj: &Mmproj) -> Result<Footprint, FootprintError> {
    footprint(g, t, &Settings { ctx, ..base.clone() }, mmproj)
}

/// Plans how to run `g` on `m` with `s` and the user's `-ot` overrides. With no `-c`, prefers
/// the trained context, then the largest context that fits on the GPU (not below 4096, like
/// `--fit`), then a partial offload at min(trained, 32768).
pub fn plan(g: &Geometry, t: &[TensorEntry], s: &Settings, m: &Machine, mmproj: impl Into<Mmproj>, ov: &Overrides) -> Result<Plan, FootprintError> {
    let mmproj: &Mmproj = &mmproj.into();
    let ram_cap = m.ram_bytes.saturating_sub(FIT_MARGIN);
    let all = full_offload(g, m);
    let f = Fitter { m, placer: Placer::new(g, t, ov, &m.tensor_split()).scheduled(true), n_all: g.layers.len() as u32 };
    let full = |fp: &Footprint| {
        if m.gpus.is_empty() {
            let sp = f.placer.split(fp, all);
            return (sp.cpu_bytes <= ram_cap).then_some((sp, None));
        }
        f.place(fp, all).filter(|(sp, _)| sp.cpu_bytes <= ram_cap)
    };

    // Largest context that fits fully: binary search in units of 256 tokens.
    let streams = s.parallel.map_or(1, |p| if s.kv_unified { 1 } else { p });
    let trained = g.context_length.max(256).saturating_mul(streams).min(super::settings::MAX_CTX * streams);
    let (mut lo, mut hi) = (0u64, trained.div_ceil(256));
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if full(&at_ctx(g, t, s, Some(mid * 256), mmproj)?).is_some() { lo = mid } else { hi = mid - 1 }
    }
    let max_full = (lo > 0).then_some(lo * 256);

    let chosen_ctx = match (s.ctx, max_full) {
        (Some(c), _) if c > 0 => Some(c),
        (_, Some(c)) if c >= trained => None,
        (_, Some(c)) if c >= 4096 => Some(c),
        _ => Some(trained.min(32768)),
    };
    let fp = at_ctx(g, t, s, chosen_ctx, mmproj)?;
    let (verdict, sp, ts) = match full(&fp) {
        Some((sp, ts)) => (Verdict::FitsFully, sp, ts),
        None => {
            let candidates: Vec<Offload> = if m.gpus.is_empty() {
                Vec::new()
            } else if g.n_experts > 0 {
                // MoE: keep attention and shared experts on the GPU; move routed experts block by block.
                (0..=g.n_layers)
                    .map(|n| Offload { n_gpu_layers: all.n_gpu_layers, n_cpu_moe: n })
                    .chain((0..all.n_gpu_layers).rev().map(|n| Offload { n_gpu_layers: n, n_cpu_moe: g.n_layers }))
                    .collect()
            } else {
                (0..all.n_gpu_layers).rev().map(|n| Offload { n_gpu_layers: n, n_cpu_moe: 0 }).collect()
            };
            // Each candidate puts less on the GPUs than the one before, so whether it fits is
            // monotone along the list: the first that fits is found by bisection.
            let first = candidates.partition_point(|&o| f.place(&fp, o).is_none());
            match candidates.get(first).and_then(|&o| f.place(&fp, o)) {
                Some((sp, ts)) => (if sp.cpu_bytes <= ram_cap { Verdict::PartialOffload } else { Verdict::DoesNotFit }, sp, ts),
                None => (Verdict::DoesNotFit, f.placer.split(&fp, all), m.mixed().then(|| m.tensor_split())),
            }
        }
    };
    let tokens_per_second_bound = tokens_per_second(m, &sp);
    let mut p = Plan {
        verdict,
        footprint: fp,
        split: sp,
        gpu_capacity: gpu_capacity(m),
        device_capacity: device_capacities(m),
        ram_capacity: ram_cap,
        tensor_split: ts,
        max_full_gpu_ctx: max_full,
        tokens_per_second_bound,
        speed: None,
    };
    if p.verdict != Verdict::DoesNotFit {
        p.speed = speed_of(g, t, &p, m, DEFAULT_PROMPT);
    }
    Ok(p)
}

/// A placement the user gave (`-ngl`, `--n-cpu-moe`, `-ts` as llama-server takes them) checked on
/// `m` instead of searched: the footprint at the context [`plan`] chooses (or `-c`), split as
/// those flags place it. The verdict says whether every GPU and the RAM hold their share;
/// `max_full_gpu_ctx` stays the searched plan's (what would fit with everything on the GPUs).
/// `kv_offload` false is `--no-kv-offload` (KV cache and recurrent state in host memory).
#[allow(clippy::too_many_arguments)]
pub fn plan_placed(
    g: &Geometry,
    t: &[TensorEntry],
    s: &Settings,
    m: &Machine,
    mmproj: impl Into<Mmproj>,
    ov: &Overrides,
    o: Offload,
    tensor_split: Option<Vec<u64>>,
    kv_offload: bool,
) -> Result<Plan, FootprintError> {
    let mmproj: Mmproj = mmproj.into();
    let searched = plan(g, t, s, m, mmproj.clone(), ov)?;
    let fp = footprint(g, t, &Settings { ctx: Some(searched.footprint.resolved.n_ctx), ..s.clone() }, &mmproj)?;
    let sp = Placer::new(g, t, ov, tensor_split.as_deref().unwrap_or(&m.tensor_split())).kv_offload(kv_offload).scheduled(true).split(&fp, o);
    let everything = o.n_cpu_moe == 0 && (m.gpus.is_empty() || o.n_gpu_layers >= all_layers(g));
    let verdict = match (fits_gpus(&sp, m) && sp.cpu_bytes <= searched.ram_capacity, everything) {
        (false, _) => Verdict::DoesNotFit,
        (true, true) => Verdict::FitsFully,
        (true, false) => Verdict::PartialOffload,
    };
    let tokens_per_second_bound = tokens_per_second(m, &sp);
    Ok(Plan { verdict, footprint: fp, split: sp, tensor_split, tokens_per_second_bound, ..searched })
}

/// Upper bound on decode speed for split `sp`: layers run one device after another for each
/// token, so the times (bytes read / bandwidth) add up.
fn tokens_per_second(m: &Machine, sp: &Split) -> f64 {
    let secs = |bytes: u64, bw: u64| if bw == 0 { 0.0 } else { bytes as f64 / bw as f64 };
    let t_tok = m.gpus.iter().zip(&sp.devices).map(|(gpu, d)| secs(d.active_bytes, gpu.bandwidth)).sum::<f64>() + secs(sp.cpu_active, m.cpu_bandwidth);
    if t_tok > 0.0 { 1.0 / t_tok } else { 0.0 }
}
