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
    /// The same on a GPU without matrix units (AMD RDNA1 / RDNA2): its catalog figure is the
    /// packed-FP16 vector peak, which scalar and dot-product shaders reach a different share of.
    pub compute_vector: f64,
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
    /// The same for builds that ran the Gated DeltaNet recurrence as a graph of small ops, before
    /// llama.cpp fused it into `GGML_OP_GATED_DELTA_NET` (ggml-org/llama.cpp#19504, February
    /// 2026). Only published runs from those builds use it.
    pub unfused_recurrent_layer: f64,
    /// Cost of passing the hidden state to the next GPU, per generated token, seconds.
    pub hop_seconds: f64,
    /// Prompt processing: extra cost per MoE layer per token (expert matmuls over a few
    /// tokens each), seconds at the reference bandwidth.
    pub moe_pp_layer: f64,
    /// Prompt processing: extra cost per recurrent layer per token (the chunked recurrence).
    pub recurrent_pp_layer: f64,
    /// The same before the fused op (see `unfused_recurrent_layer`).
    pub unfused_recurrent_pp_layer: f64,
    /// Share of the FP16 matrix peak CUDA's MMQ kernels reached with dp4a, before they used int8
    /// tensor cores (ggml-org/llama.cpp#7676, June 2024). Only published runs from then use it.
    pub dp4a_share: f64,
    /// How the per-layer costs shrink on faster hardware: they scale as (1 TB/s / bandwidth)
    /// to this power (0: a pure launch latency; 1: as slow as the memory). Fitted, empirical.
    pub layer_scaling: f64,
}

/// Bandwidth at which the per-layer costs are quoted, bytes/s.
const LAYER_COST_REFERENCE: f64 = 1e12;

/// Bytes moved per attention score and query head without flash attention: `build_attn_mha`
/// (llama-graph.cpp) writes the K·Q matrix in f32, `ggml_soft_max_ext` reads and rewrites it and
/// the KQV matmul reads it again: four passes of 4 bytes.
pub const KQ_BYTES_PER_SCORE: f64 = 16.0;

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
        Efficiency { bandwidth: 0.950, layer_seconds: 89.69e-6, compute_quant: 0.473, compute_float: 0.597, compute_vector: 0.544, pp_layer_seconds: 0.0e-6 },
        // ROCm
        Efficiency { bandwidth: 0.803, layer_seconds: 89.69e-6, compute_quant: 0.410, compute_float: 0.410, compute_vector: 0.383, pp_layer_seconds: 0.0e-6 },
        // Vulkan
        Efficiency { bandwidth: 0.586, layer_seconds: 20.77e-6, compute_quant: 0.508, compute_float: 0.450, compute_vector: 0.286, pp_layer_seconds: 0.0e-6 },
        // Metal
        Efficiency {
            bandwidth: 0.809,
            layer_seconds: 149.60e-6,
            compute_quant: 0.614,
            compute_float: 0.760,
            compute_vector: 0.627,
            pp_layer_seconds: 122.5e-6,
        },
        // CPU
        Efficiency { bandwidth: 0.535, layer_seconds: 89.69e-6, compute_quant: 0.716, compute_float: 0.746, compute_vector: 0.746, pp_layer_seconds: 0.0e-6 },
    ],
    moe_layer: 0e-6,
    recurrent_layer: 50e-6,
    unfused_recurrent_layer: 200e-6,
    hop_seconds: 200e-6,
    moe_pp_layer: 8.0e-6,
    recurrent_pp_layer: 2.0e-6,
    unfused_recurrent_pp_layer: 32.0e-6,
    dp4a_share: 0.250,
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
    /// Query heads, summed over these layers: without flash attention each has a row of scores
    /// per attended position that crosses memory (`KQ_BYTES_PER_SCORE`).
    pub score_heads: f64,
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
    /// A GPU without matrix units (catalog attribute): prompt processing uses `compute_vector`.
    pub vector_only: bool,
}

/// llama.cpp code a published run used where it differs from today's. `fit` always describes
/// the current llama.cpp (`Era::default()`); the calibration data says which runs are older, so
/// the constants that describe today are not fitted on kernels that no longer run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Era {
    /// CUDA dequantized quantized weights to F16 for cuBLAS in batches over 32 tokens (before
    /// MMQ became the default, ggml-org/llama.cpp#8075, June 2024): the GEMM runs at the float
    /// share and every micro-batch writes and reads the F16 copy.
    pub cublas_dequant: bool,
    /// CUDA's MMQ without int8 tensor cores (dp4a; the "master" columns of #7676 / #7716).
    pub mmq_dp4a: bool,
    /// Gated DeltaNet as a graph of small ops (before #19504).
    pub unfused_gdn: bool,
}

/// Everything the speed of one placement depends on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Workload {
    /// Devices in the order a token visits them: GPUs, then the CPU.
    pub parts: Vec<Part>,
    /// Most weight bytes are in a quantized type (not F16 / BF16 / F32).
    pub quantized: bool,
    /// Flash attention on (llama.cpp's default `-fa auto` turns it on on every GPU backend).
    pub flash_attn: bool,
    /// Which llama.cpp kernels ran (older ones only for published runs).
    pub era: Era,
}

impl Workload {
    fn gpu_parts(&self) -> usize {
        self.parts.iter().filter(|p| p.backend != Backend::Cpu && p.layers > 0.0).count()
    }
}

fn layer_seconds(p: &Part, e: &Efficiency, c: &Constants, era: Era) -> f64 {
    let rec = if era.unfused_gdn { c.unfused_recurrent_layer } else { c.recurrent_layer };
    (e.layer_seconds * p.layers + c.moe_layer * p.moe_layers + rec * p.recurrent_layers) * layer_scale(p, c)
}

/// Bytes of attention scores one token moves without flash attention, at `depth`.
fn score_bytes(p: &Part, depth: f64, flash_attn: bool) -> f64 {
    if flash_attn {
        return 0.0;
    }
    p.attention.iter().map(|a| a.score_heads * attended(depth, a.window) * KQ_BYTES_PER_SCORE).sum()
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
        let bytes = p.weight_bytes + kv + 2.0 * p.state_bytes + score_bytes(p, depth, w.flash_attn);
        if p.bandwidth > 0.0 && e.bandwidth > 0.0 {
            t += bytes / (p.bandwidth * e.bandwidth);
        }
        t += layer_seconds(p, e, c, w.era);
    }
    t + c.hop_seconds * w.gpu_parts().saturating_sub(1) as f64
}

/// Seconds per token to process a micro-batch of `ubatch` prompt tokens whose mean position is
/// `depth`.
pub fn pp_seconds_per_token(w: &Workload, depth: f64, ubatch: u64, c: &Constants) -> f64 {
    let u = ubatch.max(1) as f64;
    // With a GPU, matmuls of weights in RAM run on the first GPU.
    let host_gpu = w.parts.iter().find(|p| p.backend != Backend::Cpu && p.flops > 0.0);
    let era = w.era;
    // The share of the FP16 peak the matmuls of `p` reach, and whether the quantized weights are
    // first dequantized to F16 (the cuBLAS era).
    let share = |p: &Part| -> (f64, bool) {
        let e = c.of(p.backend);
        let cuda = p.backend == Backend::Cuda;
        if p.vector_only {
            (e.compute_vector, false)
        } else if !w.quantized {
            (e.compute_float, false)
        } else if cuda && era.mmq_dp4a {
            (c.dp4a_share, false)
        } else if cuda && era.cublas_dequant {
            (e.compute_float, true)
        } else {
            (e.compute_quant, false)
        }
    };
    let mut t = 0.0;
    for p in &w.parts {
        let e = c.of(p.backend);
        let (s, _) = share(p);
        let attn: f64 = p.attention.iter().map(|a| a.flops_per_position * attended(depth, a.window)).sum();
        let rate = p.flops * s;
        if rate > 0.0 {
            t += attn / rate;
        }
        let matmul = 2.0 * p.matmul_params;
        let memory = p.bandwidth * e.bandwidth;
        if memory > 0.0 {
            t += score_bytes(p, depth, w.flash_attn) / memory;
        }
        match host_gpu.filter(|_| p.backend == Backend::Cpu && p.host_weight_bytes > 0.0) {
            Some(g) => {
                let grate = g.flops * share(g).0;
                if grate > 0.0 {
                    t += matmul / grate;
                }
                t += p.host_weight_bytes / PCIE_BYTES_PER_SECOND / u;
            }
            None => {
                let (_, dequant) = share(p);
                if rate > 0.0 {
                    t += matmul / rate;
                }
                if memory > 0.0 {
                    let per_batch = p.resident_weight_bytes.max(p.weight_bytes).min(p.weight_bytes * u);
                    // cuBLAS era: the F16 copy of the weights is written and read once per micro-batch.
                    let f16_copy = if dequant { 2.0 * 2.0 * p.matmul_params } else { 0.0 };
                    t += (per_batch + f16_copy) / memory / u;
                }
            }
        }
        let rec = if era.unfused_gdn { c.unfused_recurrent_pp_layer } else { c.recurrent_pp_layer };
        t += (e.pp_layer_seconds * p.layers / u + c.moe_pp_layer * p.moe_layers + rec * p.recurrent_layers) * layer_scale(p, c);
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
            let (backend, bandwidth, flops, vector_only) = match m.gpus.get(i) {
                Some(gpu) => (gpu.backend, gpu.bandwidth as f64, gpu.flops as f64, gpu.vector_only),
                None => (Backend::Cpu, m.cpu_bandwidth as f64, m.cpu_flops as f64, false),
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
                vector_only,
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
                p.state_bytes += s.conv_elements.saturating_add(s.state_elements).saturating_add(s.extra_elements) as f64 * 4.0;
            }
        }
        if let Some(k) = kv.iter().find(|k| k.index == l.index) {
            let rows = k.cells.max(1).saturating_mul(r.n_stream.max(1)) as f64;
            let window = if l.kind == LayerKind::Sliding { l.window } else { None };
            let a = Attention {
                kv_bytes_per_position: k.k_bytes.saturating_add(k.v_bytes) as f64 / rows,
                flops_per_position: 2.0 * l.n_head as f64 * (l.head_dim_k as f64 + l.head_dim_v as f64),
                window,
                score_heads: l.n_head as f64,
            };
            match p.attention.iter_mut().find(|x| x.window == window) {
                Some(x) => {
                    x.kv_bytes_per_position += a.kv_bytes_per_position;
                    x.flops_per_position += a.flops_per_position;
                    x.score_heads += a.score_heads;
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
    Some(Workload { parts, quantized: float_bytes < bytes / 2.0, flash_attn: r.flash_attn, era: Era::default() })
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
            attention: vec![Attention {
                kv_bytes_per_position: 131072.0,
                flops_per_position: 32.0 * 2.0 * 32.0 * 256.0,
                window: None,
                score_heads: 32.0 * 32.0,
            }],
            state_bytes: 0.0,
            host_weight_bytes: 0.0,
            resident_weight_bytes: gb * 1e9,
            vector_only: false,
        }
    }

    #[test]
    fn deeper_context_and_more_bytes_are_slower() {
        let w = Workload { parts: vec![part(Backend::Cuda, 1000.0, 300.0, 4.9)], quantized: true, flash_attn: true, era: Era::default() };
        let c = &CALIBRATED;
        assert!(tg_seconds(&w, 0.0, c) < tg_seconds(&w, 32768.0, c));
        assert!(pp_seconds_per_token(&w, 0.0, 512, c) < pp_seconds_per_token(&w, 32768.0, 512, c));
        let heavier = Workload { parts: vec![part(Backend::Cuda, 1000.0, 300.0, 9.8)], quantized: true, flash_attn: true, era: Era::default() };
        assert!(tg_seconds(&w, 0.0, c) < tg_seconds(&heavier, 0.0, c));
        // Never above the bandwidth bound.
        assert!(1.0 / tg_seconds(&w, 0.0, c) < 1000.0 / 4.9);
    }

    #[test]
    fn weights_in_ram_cost_pcie_time_in_prompt_processing() {
        let gpu = part(Backend::Cuda, 1000.0, 300.0, 2.0);
        let mut cpu = part(Backend::Cpu, 80.0, 2.0, 3.0);
        cpu.host_weight_bytes = 0.0;
        let a = Workload { parts: vec![gpu.clone(), cpu.clone()], quantized: true, flash_attn: true, era: Era::default() };
        cpu.host_weight_bytes = 12e9;
        let b = Workload { parts: vec![gpu, cpu], quantized: true, flash_attn: true, era: Era::default() };
        let c = &CALIBRATED;
        // Offloaded to the GPU, the CPU part's matmuls run faster, but the weights cross PCIe.
        let (ta, tb) = (pp_seconds_per_token(&a, 0.0, 512, c), pp_seconds_per_token(&b, 0.0, 512, c));
        assert!(tb > 12e9 / PCIE_BYTES_PER_SECOND / 512.0);
        assert!(ta > 0.0 && tb > 0.0);
    }

    #[test]
    fn prompt_time_adds_up_micro_batches() {
        let w = Workload { parts: vec![part(Backend::Metal, 400.0, 16.0, 4.9)], quantized: true, flash_attn: true, era: Era::default() };
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

    #[test]
    fn flash_attention_off_and_older_kernels_cost_what_they_moved() {
        let c = &CALIBRATED;
        let on = Workload { parts: vec![part(Backend::Cuda, 1000.0, 300.0, 4.9)], quantized: true, flash_attn: true, era: Era::default() };
        let off = Workload { flash_attn: false, ..on.clone() };
        // No scores at depth 0; at depth d every head's row of d f32 scores crosses memory four times.
        assert_eq!(tg_seconds(&on, 0.0, c), tg_seconds(&off, 0.0, c));
        let extra = pp_seconds_per_token(&off, 4096.0, 512, c) - pp_seconds_per_token(&on, 4096.0, 512, c);
        let want = 32.0 * 32.0 * 4096.0 * KQ_BYTES_PER_SCORE / (1000e9 * c.of(Backend::Cuda).bandwidth);
        assert!((extra - want).abs() < 1e-9 * want.max(1.0), "{extra} vs {want}");
        // The cuBLAS era wrote and read an F16 copy of every weight per micro-batch.
        let cublas = Workload { era: Era { cublas_dequant: true, ..Era::default() }, ..on.clone() };
        let f16_copy = 4.0 * 8e9 / 512.0 / (1000e9 * c.of(Backend::Cuda).bandwidth);
        assert!(pp_seconds_per_token(&cublas, 0.0, 512, c) > f16_copy);
        // Unfused Gated DeltaNet costs more per recurrent layer than the fused op.
        let mut rec = on.clone();
        rec.parts[0].recurrent_layers = 24.0;
        let unfused = Workload { era: Era { unfused_gdn: true, ..Era::default() }, ..rec.clone() };
        assert!(tg_seconds(&unfused, 0.0, c) > tg_seconds(&rec, 0.0, c));
    }
}
