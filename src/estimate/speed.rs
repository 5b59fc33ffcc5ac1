//! How fast llama.cpp runs a placement: expected generation (tg) and prompt-processing (pp)
//! speed and the time to the first token of a prompt. These are estimates, calibrated on
//! published llama-bench runs (`data/llama-bench.csv`, `data/README.md`); the bandwidth upper
//! bound (`fit.rs`) stays beside them.
//!
//! Generation, per token: every device reads its share of the bytes one token touches (the
//! weights actually used, routed experts only as many as are routed; the KV cache of its
//! attention layers up to the current depth; its recurrent state, read and written back) at
//! the share of its bandwidth the backend reaches, plus a fixed cost per layer (kernel launches
//! and synchronisation, which is what keeps small models far from the bandwidth bound; MoE and
//! recurrent layers run more kernels and cost more), plus a hop per further GPU. With `-sm
//! layer` the devices work one after another, so their times add.
//!
//! Prompt processing, per token: every device's FLOPs (2 x the matmul parameters, plus attention
//! over the depth) at the share of its FP16 matrix throughput the backend reaches on quantized or
//! on float weights, its weights read once per micro-batch (all of a MoE's experts: a
//! micro-batch of hundreds of tokens routes to nearly every one), the per-layer cost once per
//! micro-batch, and per token the extra cost of MoE layers (expert matmuls over a few tokens
//! each) and recurrent layers (the chunked recurrence). Weights kept in RAM next to a GPU cross PCIe once per micro-batch: llama.cpp
//! runs those matmuls on the GPU for batches of 32 tokens or more.
//!
//! Not modelled: thread counts (CPU rows are fitted as published), speculative decoding,
//! several sequences, tensor parallelism (`-sm row`), power limits, thermal throttling.

use serde::Serialize;
use std::str::FromStr;

/// A llama.cpp backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// NVIDIA CUDA.
    Cuda,
    /// AMD ROCm / HIP.
    Rocm,
    /// Vulkan (any vendor).
    Vulkan,
    /// Apple Metal.
    Metal,
    /// ggml-cpu.
    Cpu,
}

impl Backend {
    /// Every backend, in the order reports list them.
    pub const ALL: [Backend; 5] = [Backend::Cuda, Backend::Rocm, Backend::Vulkan, Backend::Metal, Backend::Cpu];

    /// The name llama-bench prints in its `backend` column.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cuda => "CUDA",
            Backend::Rocm => "ROCm",
            Backend::Vulkan => "Vulkan",
            Backend::Metal => "Metal",
            Backend::Cpu => "CPU",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "cuda" => Ok(Backend::Cuda),
            "rocm" | "hip" => Ok(Backend::Rocm),
            "vulkan" => Ok(Backend::Vulkan),
            "metal" | "mtl" => Ok(Backend::Metal),
            "cpu" => Ok(Backend::Cpu),
            _ => Err(format!("unknown backend {s:?}: expected cuda, rocm, vulkan, metal or cpu")),
        }
    }
}

/// What one backend reaches on the hardware, as calibrated.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Efficiency {
    /// Share of the memory bandwidth reached reading weights, KV and state.
    pub bandwidth: f64,
    /// Fixed cost per layer per generated token, seconds.
    pub layer_seconds: f64,
    /// Share of the FP16 matrix peak reached in prompt processing on quantized weights.
    pub compute_quant: f64,
    /// The same on F16 / BF16 / F32 weights.
    pub compute_float: f64,
    /// Fixed cost per layer per micro-batch in prompt processing, seconds.
    pub pp_layer_seconds: f64,
}

/// Every constant of the model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Constants {
    /// Per backend, in [`Backend::ALL`] order.
    pub backends: [Efficiency; 5],
    /// Extra cost of a MoE layer per generated token (routing, gathers, expert matmuls),
    /// seconds at the reference bandwidth, whatever the backend.
    pub moe_layer: f64,
    /// Extra cost of a recurrent (Gated DeltaNet, Mamba) layer per generated token, likewise.
    pub recurrent_layer: f64,
    /// Cost of passing the hidden state to the next GPU, per generated token, seconds.
    pub hop_seconds: f64,
    /// Prompt processing: extra cost per MoE layer per token (expert matmuls over a few
    /// tokens each), seconds at the reference bandwidth.
    pub moe_pp_layer: f64,
    /// Prompt processing: extra cost per recurrent layer per token (the chunked recurrence).
    pub recurrent_pp_layer: f64,
    /// How the per-layer costs shrink on faster hardware: they scale as (1 TB/s / bandwidth)
    /// to this power (0: a pure launch latency; 1: as slow as the memory). Fitted, empirical.
    pub layer_scaling: f64,
}

/// Bandwidth at which the per-layer costs are quoted, bytes/s.
const LAYER_COST_REFERENCE: f64 = 1e12;

fn layer_scale(p: &Part, c: &Constants) -> f64 {
    if p.bandwidth > 0.0 { (LAYER_COST_REFERENCE / p.bandwidth).powf(c.layer_scaling) } else { 1.0 }
}

impl Constants {
    /// The efficiency of `b`.
    pub fn of(&self, b: Backend) -> &Efficiency {
        &self.backends[b.index()]
    }
    /// Mutable efficiency of `b` (calibration).
    pub fn of_mut(&mut self, b: Backend) -> &mut Efficiency {
        &mut self.backends[b.index()]
    }
}

/// PCIe throughput assumed for weights streamed from RAM to a GPU (PCIe 4.0 x16 in practice);
/// not calibrated: no run in the dataset offloads weights.
pub const PCIE_BYTES_PER_SECOND: f64 = 25e9;

/// llama-server's default micro-batch (`-ub`).
pub const DEFAULT_UBATCH: u64 = 512;

/// The constants fitted by `cargo run --release --example speed_calibration` on the calibration
/// split of `data/llama-bench.csv` (the figures it prints are in data/README.md).
pub const CALIBRATED: Constants = Constants {
    backends: [
        // CUDA
        Efficiency { bandwidth: 0.973, layer_seconds: 91.45e-6, compute_quant: 0.379, compute_float: 0.592, pp_layer_seconds: 0.0e-6 },
        // ROCm
        Efficiency { bandwidth: 0.809, layer_seconds: 91.45e-6, compute_quant: 0.467, compute_float: 0.467, pp_layer_seconds: 0.0e-6 },
        // Vulkan
        Efficiency { bandwidth: 0.603, layer_seconds: 22.38e-6, compute_quant: 0.518, compute_float: 0.518, pp_layer_seconds: 0.0e-6 },
        // Metal
        Efficiency { bandwidth: 0.808, layer_seconds: 149.82e-6, compute_quant: 0.605, compute_float: 0.747, pp_layer_seconds: 81.3e-6 },
        // CPU
        Efficiency { bandwidth: 0.536, layer_seconds: 91.45e-6, compute_quant: 0.738, compute_float: 0.738, pp_layer_seconds: 0.0e-6 },
    ],
    moe_layer: 0e-6,
    recurrent_layer: 200e-6,
    hop_seconds: 200e-6,
    moe_pp_layer: 16.0e-6,
    recurrent_pp_layer: 2.0e-6,
    layer_scaling: 0.50,
};

/// Attention layers of one kind on one device.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Attention {
    /// K + V bytes per cached position, summed over these layers.
    pub kv_bytes_per_position: f64,
    /// FLOPs per token per attended position (QK and PV: 2 x heads x (K dim + V dim)), summed.
    pub flops_per_position: f64,
    /// Sliding window: positions beyond it are not attended.
    pub window: Option<u64>,
}

/// What one device does for each token.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Part {
    /// Backend running it.
    pub backend: Backend,
    /// Memory bandwidth, bytes/s.
    pub bandwidth: f64,
    /// Dense FP16 matrix throughput, FLOP/s.
    pub flops: f64,
    /// Weight bytes read per generated token.
    pub weight_bytes: f64,
    /// Matmul parameters used per token (FLOPs are twice this).
    pub matmul_params: f64,
    /// Layers run here (a block split between devices counts on each).
    pub layers: f64,
    /// Of those, MoE layers.
    pub moe_layers: f64,
    /// Of those, recurrent layers.
    pub recurrent_layers: f64,
    /// Attention layers, grouped by window.
    pub attention: Vec<Attention>,
    /// Recurrent state bytes of one sequence (read and written each token).
    pub state_bytes: f64,
    /// Weights held in RAM whose prompt-processing matmuls a GPU runs (they cross PCIe).
    pub host_weight_bytes: f64,
    /// All weight bytes held here: a micro-batch of many tokens touches nearly every expert.
    pub resident_weight_bytes: f64,
}

/// Everything the speed of one placement depends on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Workload {
    /// Devices in the order a token visits them: GPUs, then the CPU.
    pub parts: Vec<Part>,
    /// Most weight bytes are in a quantized type (not F16 / BF16 / F32).
    pub quantized: bool,
}

impl Workload {
    fn gpu_parts(&self) -> usize {
        self.parts.iter().filter(|p| p.backend != Backend::Cpu && p.layers > 0.0).count()
    }
}

fn layer_seconds(p: &Part, e: &Efficiency, c: &Constants) -> f64 {
    (e.layer_seconds * p.layers + c.moe_layer * p.moe_layers + c.recurrent_layer * p.recurrent_layers) * layer_scale(p, c)
}

fn attended(depth: f64, window: Option<u64>) -> f64 {
    match window {
        Some(w) => depth.min(w as f64),
        None => depth,
    }
}

/// Seconds to generate one token with `depth` positions already in the KV cache.
pub fn tg_seconds(w: &Workload, depth: f64, c: &Constants) -> f64 {
    let mut t = 0.0;
    for p in &w.parts {
        let e = c.of(p.backend);
        let kv: f64 = p.attention.iter().map(|a| a.kv_bytes_per_position * attended(depth, a.window)).sum();
        let bytes = p.weight_bytes + kv + 2.0 * p.state_bytes;
        if p.bandwidth > 0.0 && e.bandwidth > 0.0 {
            t += bytes / (p.bandwidth * e.bandwidth);
        }
        t += layer_seconds(p, e, c);
    }
    t + c.hop_seconds * w.gpu_parts().saturating_sub(1) as f64
}

/// Seconds per token to process a micro-batch of `ubatch` prompt tokens whose mean position is
/// `depth`.
pub fn pp_seconds_per_token(w: &Workload, depth: f64, ubatch: u64, c: &Constants) -> f64 {
    let u = ubatch.max(1) as f64;
    // With a GPU, matmuls of weights in RAM run on the first GPU.
    let host_gpu = w.parts.iter().find(|p| p.backend != Backend::Cpu && p.flops > 0.0);
    let mut t = 0.0;
    for p in &w.parts {
        let e = c.of(p.backend);
        let share = |e: &Efficiency| if w.quantized { e.compute_quant } else { e.compute_float };
        let attn: f64 = p.attention.iter().map(|a| a.flops_per_position * attended(depth, a.window)).sum();
        let rate = p.flops * share(e);
        if rate > 0.0 {
            t += attn / rate;
        }
        let matmul = 2.0 * p.matmul_params;
        match host_gpu.filter(|_| p.backend == Backend::Cpu && p.host_weight_bytes > 0.0) {
            Some(g) => {
                let ge = c.of(g.backend);
                let grate = g.flops * share(ge);
                if grate > 0.0 {
                    t += matmul / grate;
                }
                t += p.host_weight_bytes / PCIE_BYTES_PER_SECOND / u;
            }
            None => {
                if rate > 0.0 {
                    t += matmul / rate;
                }
                if p.bandwidth > 0.0 && e.bandwidth > 0.0 {
                    let per_batch = p.resident_weight_bytes.max(p.weight_bytes).min(p.weight_bytes * u);
                    t += per_batch / (p.bandwidth * e.bandwidth) / u;
                }
            }
        }
        t += (e.pp_layer_seconds * p.layers / u + c.moe_pp_layer * p.moe_layers + c.recurrent_pp_layer * p.recurrent_layers) * layer_scale(p, c);
    }
    t
}

/// Seconds to process a prompt of `n` tokens starting at position `start`, `ubatch` at a time.
pub fn prompt_seconds(w: &Workload, start: u64, n: u64, ubatch: u64, c: &Constants) -> f64 {
    let u = ubatch.max(1);
    // The cost per token is piecewise linear in the depth, so a long prompt is summed over at
    // most 1024 stretches of whole micro-batches, each at its middle position.
    let stretch = n.div_ceil(u).div_ceil(1024).max(1).saturating_mul(u);
    let mut done = 0u64;
    let mut t = 0.0;
    while done < n {
        let chunk = stretch.min(n - done);
        let mid = start.saturating_add(done) as f64 + chunk as f64 / 2.0;
        t += chunk as f64 * pp_seconds_per_token(w, mid, u.min(chunk), c);
        done += chunk;
    }
    t
}

/// Seconds to generate `n` tokens after `start` positions (llama-bench `tgN@dM`).
pub fn generation_seconds(w: &Workload, start: u64, n: u64, c: &Constants) -> f64 {
    // The cost is linear in the depth, so the mean depth gives the mean time.
    n as f64 * tg_seconds(w, start as f64 + n.saturating_sub(1) as f64 / 2.0, c)
}

/// The speed estimate `fit`, `table` and `footprint` print.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpeedEstimate {
    /// Backend of the first device (the GPU's, or the CPU's).
    pub backend: Backend,
    /// Expected generation speed at a short context (llama-bench tg128), tokens/s.
    pub tg_tokens_per_second: f64,
    /// Expected generation speed right after a prompt of `prompt_tokens`, tokens/s.
    pub tg_tokens_per_second_after_prompt: f64,
    /// Expected prompt-processing speed over a prompt of `prompt_tokens`, tokens/s.
    pub pp_tokens_per_second: f64,
    /// Prompt length the last two figures and `ttft_seconds` are for.
    pub prompt_tokens: u64,
    /// Time to the first generated token after that prompt, seconds.
    pub ttft_seconds: f64,
}

/// The estimate for `w` with a prompt of `prompt` tokens, `ubatch` tokens per micro-batch.
pub fn estimate(w: &Workload, prompt: u64, ubatch: u64, c: &Constants) -> Option<SpeedEstimate> {
    let backend = w.parts.iter().find(|p| p.layers > 0.0 || p.weight_bytes > 0.0)?.backend;
    let rate = |secs: f64| if secs > 0.0 && secs.is_finite() { 1.0 / secs } else { 0.0 };
    let tg = rate(generation_seconds(w, 0, 128, c) / 128.0);
    if tg <= 0.0 {
        return None;
    }
    let pp_secs = prompt_seconds(w, 0, prompt.max(1), ubatch, c);
    let ttft = pp_secs + tg_seconds(w, prompt as f64, c);
    // Geometry no real model has can make a figure meaningless: then there is no estimate.
    if !(tg.is_finite() && pp_secs.is_finite() && pp_secs > 0.0 && ttft.is_finite()) {
        return None;
    }
    Some(SpeedEstimate {
        backend,
        tg_tokens_per_second: tg,
        tg_tokens_per_second_after_prompt: rate(tg_seconds(w, prompt as f64, c)),
        pp_tokens_per_second: rate(pp_secs / prompt.max(1) as f64),
        prompt_tokens: prompt,
        ttft_seconds: ttft,
    })
}

/// The workload of a placement planned by `fit`: `split` of footprint `fp` on machine `m`,
/// layers spread by `-ts` `tensor_split` (the machine's default when `None`). `None` when a
/// device's bandwidth or throughput is unknown.
pub fn workload_for(
    g: &crate::model::Geometry,
    tensors: &[crate::read::TensorEntry],
    fp: &super::footprint::Footprint,
    split: &super::placement::Split,
    m: &super::machine::Machine,
    tensor_split: Option<&[u64]>,
) -> Option<Workload> {
    use super::layer_split::{Dev, layer_device, split_points};
    use super::weights::{is_loaded, is_routed_expert, is_tied};
    use crate::model::LayerKind;
    if m.gpus.iter().any(|gpu| gpu.bandwidth == 0 || gpu.flops == 0) || m.cpu_bandwidth == 0 {
        return None;
    }
    if split.devices.len() != m.gpus.len() + 1 {
        return None;
    }
    let r = &fp.resolved;
    let tied = is_tied(tensors);
    // Matmul parameters per byte read: routed experts as many as are used, the embedding as a lookup.
    let (mut params, mut bytes, mut float_bytes) = (0f64, 0f64, 0f64);
    for t in tensors.iter().filter(|t| is_loaded(t, g) && t.dims.len() >= 2) {
        let elements = t.dims.iter().map(|&d| d as f64).product::<f64>();
        let share = if is_routed_expert(t) {
            let n = t.dims.last().copied().unwrap_or(1).max(1);
            g.n_experts_used.min(n) as f64 / n as f64
        } else if t.name == "token_embd.weight" && !tied {
            0.0
        } else {
            1.0
        };
        params += elements * share;
        bytes += t.bytes as f64 * share;
        if matches!(t.ggml_type.name().as_str(), "F16" | "BF16" | "F32") {
            float_bytes += t.bytes as f64 * share;
        }
    }
    let params_per_byte = if bytes > 0.0 { params / bytes } else { 0.0 };
    let n_gpus = m.gpus.len();
    let ts = tensor_split.map(<[u64]>::to_vec).unwrap_or_else(|| m.tensor_split());
    let points = if n_gpus == 0 { Vec::new() } else { split_points(&ts) };
    let n_all = g.layers.len() as u32;
    let slot = |d: Dev| match d {
        Dev::Gpu(i) => (i as usize).min(n_gpus),
        Dev::Cpu => n_gpus,
    };
    let mut parts: Vec<Part> = (0..=n_gpus)
        .map(|i| {
            let (backend, bandwidth, flops) = match m.gpus.get(i) {
                Some(gpu) => (gpu.backend, gpu.bandwidth as f64, gpu.flops as f64),
                None => (Backend::Cpu, m.cpu_bandwidth as f64, m.cpu_flops as f64),
            };
            let d = &split.devices[i];
            Part {
                backend,
                bandwidth,
                flops,
                weight_bytes: d.active_bytes as f64,
                matmul_params: d.active_bytes as f64 * params_per_byte,
                layers: 0.0,
                moe_layers: 0.0,
                recurrent_layers: 0.0,
                attention: Vec::new(),
                state_bytes: 0.0,
                host_weight_bytes: 0.0,
                resident_weight_bytes: d.weights_bytes as f64,
            }
        })
        .collect();
    let kv = super::kv::kv_layers(g, r).ok()?;
    let o = split.offload;
    for l in g.layers.iter().filter(|l| !l.mtp) {
        let dev = slot(layer_device(l.index, n_all, o.n_gpu_layers, &points));
        let p = &mut parts[dev];
        p.layers += 1.0;
        if l.n_experts > 0 {
            p.moe_layers += 1.0;
            if l.index < o.n_cpu_moe && dev != n_gpus {
                // --n-cpu-moe: the routed experts run on the CPU, one more backend switch each.
                parts[n_gpus].layers += 1.0;
                parts[n_gpus].moe_layers += 1.0;
            }
        }
        let p = &mut parts[dev];
        if l.kind == LayerKind::Recurrent {
            p.recurrent_layers += 1.0;
            if let Some(s) = l.recurrent {
                p.state_bytes += s.conv_elements.saturating_add(s.state_elements) as f64 * 4.0;
            }
        }
        if let Some(k) = kv.iter().find(|k| k.index == l.index) {
            let rows = k.cells.max(1).saturating_mul(r.n_stream.max(1)) as f64;
            let window = if l.kind == LayerKind::Sliding { l.window } else { None };
            let a = Attention {
                kv_bytes_per_position: k.k_bytes.saturating_add(k.v_bytes) as f64 / rows,
                flops_per_position: 2.0 * l.n_head as f64 * (l.head_dim_k as f64 + l.head_dim_v as f64),
                window,
            };
            match p.attention.iter_mut().find(|x| x.window == window) {
                Some(x) => {
                    x.kv_bytes_per_position += a.kv_bytes_per_position;
                    x.flops_per_position += a.flops_per_position;
                }
                None => p.attention.push(a),
            }
        }
    }
    if n_gpus > 0 {
        // Weights in RAM that the GPU multiplies in prompt processing; the embedding is only looked up.
        let embd = tensors.iter().find(|t| t.name == "token_embd.weight").map_or(0, |t| t.bytes);
        let cpu = &split.devices[split.devices.len() - 1];
        parts[n_gpus].host_weight_bytes = cpu.weights_bytes.saturating_sub(embd) as f64;
    }
    parts.retain(|p| p.layers > 0.0 || p.weight_bytes > 0.0);
    Some(Workload { parts, quantized: float_bytes < bytes / 2.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(backend: Backend, gbs: f64, tflops: f64, gb: f64) -> Part {
        Part {
            backend,
            bandwidth: gbs * 1e9,
            flops: tflops * 1e12,
            weight_bytes: gb * 1e9,
            matmul_params: 8e9,
            layers: 32.0,
            moe_layers: 0.0,
            recurrent_layers: 0.0,
            attention: vec![Attention { kv_bytes_per_position: 131072.0, flops_per_position: 32.0 * 2.0 * 32.0 * 256.0, window: None }],
            state_bytes: 0.0,
            host_weight_bytes: 0.0,
            resident_weight_bytes: gb * 1e9,
        }
    }

    #[test]
    fn deeper_context_and_more_bytes_are_slower() {
        let w = Workload { parts: vec![part(Backend::Cuda, 1000.0, 300.0, 4.9)], quantized: true };
        let c = &CALIBRATED;
        assert!(tg_seconds(&w, 0.0, c) < tg_seconds(&w, 32768.0, c));
        assert!(pp_seconds_per_token(&w, 0.0, 512, c) < pp_seconds_per_token(&w, 32768.0, 512, c));
        let heavier = Workload { parts: vec![part(Backend::Cuda, 1000.0, 300.0, 9.8)], quantized: true };
        assert!(tg_seconds(&w, 0.0, c) < tg_seconds(&heavier, 0.0, c));
        // Never above the bandwidth bound.
        assert!(1.0 / tg_seconds(&w, 0.0, c) < 1000.0 / 4.9);
    }

    #[test]
    fn weights_in_ram_cost_pcie_time_in_prompt_processing() {
        let gpu = part(Backend::Cuda, 1000.0, 300.0, 2.0);
        let mut cpu = part(Backend::Cpu, 80.0, 2.0, 3.0);
        cpu.host_weight_bytes = 0.0;
        let a = Workload { parts: vec![gpu.clone(), cpu.clone()], quantized: true };
        cpu.host_weight_bytes = 12e9;
        let b = Workload { parts: vec![gpu, cpu], quantized: true };
        let c = &CALIBRATED;
        // Offloaded to the GPU, the CPU part's matmuls run faster, but the weights cross PCIe.
        let (ta, tb) = (pp_seconds_per_token(&a, 0.0, 512, c), pp_seconds_per_token(&b, 0.0, 512, c));
        assert!(tb > 12e9 / PCIE_BYTES_PER_SECOND / 512.0);
        assert!(ta > 0.0 && tb > 0.0);
    }

    #[test]
    fn prompt_time_adds_up_micro_batches() {
        let w = Workload { parts: vec![part(Backend::Metal, 400.0, 16.0, 4.9)], quantized: true };
        let c = &CALIBRATED;
        let whole = prompt_seconds(&w, 0, 4096, 512, c);
        let halves = prompt_seconds(&w, 0, 2048, 512, c) + prompt_seconds(&w, 2048, 2048, 512, c);
        assert!((whole - halves).abs() < 1e-9 * whole.max(1.0));
        // A prompt of any length is summed in bounded time.
        assert!(prompt_seconds(&w, 0, u64::MAX / 2, 512, c).is_finite());
        assert!(estimate(&w, u64::MAX, 512, c).is_some());
        let e = estimate(&w, 4096, 512, c).unwrap();
        assert!(e.ttft_seconds > whole && e.tg_tokens_per_second > e.tg_tokens_per_second_after_prompt);
        assert_eq!("rocm".parse::<Backend>(), Ok(Backend::Rocm));
        assert!("opencl".parse::<Backend>().is_err());
    }
}
