//! Where llama.cpp puts each byte for a given `-ngl` / `--n-cpu-moe`, and the search for the
//! placement that fits a machine (docs/llama-cpp-memory.md sections 6.3 and 7.1).
//!
//! Rules modelled: the token embedding always stays on the CPU (input layer); `-ngl N`
//! offloads the output layer plus the last N-1 blocks; `--n-cpu-moe N` keeps the routed
//! experts of blocks 0..N on the CPU; KV and recurrent state live with their layer
//! (`offload_kqv`); a tied output matrix is a second copy of the embedding on the GPU; the
//! compute buffer sits on the GPU when anything is offloaded; logits stay in host memory; an
//! mmproj (weights and its clip compute buffer) sits on a GPU unless `--no-mmproj-offload`.
//! Several GPUs of one kind are treated as one pool whose every device also holds a compute
//! buffer and the `--fit` margin.

use super::footprint::Footprint;
use super::kv::kv_layers;
use super::recurrent::layer_bytes;
use super::weights::{active_bytes, buffer_bytes, is_loaded, is_routed_expert, is_tied};
use crate::model::layers::block_of;
use crate::model::Geometry;
use crate::read::TensorEntry;
use serde::Serialize;

/// llama.cpp `--fit`'s default free-memory margin per device (common/common.h: 1024 MiB).
pub const FIT_MARGIN: u64 = 1 << 30;

/// A placement in llama.cpp's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Offload {
    /// `-ngl`: output layer + the last `n_gpu_layers - 1` blocks on the GPU (0 = CPU only).
    pub n_gpu_layers: u32,
    /// `--n-cpu-moe`: routed experts of the first N blocks stay on the CPU.
    pub n_cpu_moe: u32,
}

/// Bytes on each side for a placement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Split {
    /// The placement.
    pub offload: Offload,
    /// Bytes on the GPU(s), compute buffers included.
    pub gpu_bytes: u64,
    /// Bytes in system RAM.
    pub cpu_bytes: u64,
    /// Bytes read per token from GPU memory.
    pub gpu_active: u64,
    /// Bytes read per token from system RAM.
    pub cpu_active: u64,
}

/// Splits a footprint between GPU and CPU for `o`, with `n_gpus` devices each holding a compute buffer.
pub fn split(g: &Geometry, tensors: &[TensorEntry], fp: &Footprint, o: Offload, n_gpus: u64) -> Split {
    let n_all = g.layers.len() as u32;
    let i_gpu_start = (n_all + 1).saturating_sub(o.n_gpu_layers);
    let output_on_gpu = o.n_gpu_layers >= 1;
    let tied = is_tied(tensors);
    let (mut gpu, mut cpu, mut gpu_act, mut cpu_act) = (0u64, 0u64, 0u64, 0u64);
    let mut put = |on_gpu: bool, bytes: u64, act: u64| {
        if on_gpu {
            gpu = gpu.saturating_add(bytes);
            gpu_act = gpu_act.saturating_add(act);
        } else {
            cpu = cpu.saturating_add(bytes);
            cpu_act = cpu_act.saturating_add(act);
        }
    };
    for t in tensors.iter().filter(|t| is_loaded(t, g)) {
        let act = active_bytes(t, g, tied);
        match block_of(&t.name) {
            Some((il, _)) => {
                let on_gpu = il >= i_gpu_start && !(is_routed_expert(t) && il < o.n_cpu_moe);
                put(on_gpu, buffer_bytes(t), act);
            }
            None if t.name == "token_embd.weight" => {
                // The input layer never leaves the CPU; a tied output reads a GPU copy.
                put(false, buffer_bytes(t), if tied && output_on_gpu { active_bytes(t, g, false) } else { act });
                if tied && output_on_gpu {
                    put(true, buffer_bytes(t), t.bytes);
                }
            }
            None => put(output_on_gpu, buffer_bytes(t), act),
        }
    }
    let r = &fp.resolved;
    if let Ok(kv) = kv_layers(g, r) {
        for l in kv {
            put(l.index >= i_gpu_start, l.k_bytes.saturating_add(l.v_bytes), 0);
        }
    }
    for l in &g.layers {
        if let Some(b) = layer_bytes(l, r) {
            put(l.index >= i_gpu_start, b, 0);
        }
    }
    if o.n_gpu_layers > 0 {
        put(true, fp.compute_bytes.saturating_mul(n_gpus.max(1)), 0);
    } else {
        put(false, fp.compute_bytes, 0);
    }
    put(false, fp.output_bytes, 0);
    // mtmd's clip context takes the first GPU whatever -ngl says (`mmproj_use_gpu`, default on).
    put(fp.mmproj_offload && n_gpus > 0, fp.mmproj_bytes.saturating_add(fp.mmproj_compute_bytes.unwrap_or(0)), 0);
    Split { offload: o, gpu_bytes: gpu, cpu_bytes: cpu, gpu_active: gpu_act, cpu_active: cpu_act }
}

/// Everything on the GPU: `-ngl` = all blocks + output.
pub fn all_layers(g: &Geometry) -> u32 {
    g.layers.len() as u32 + 1
}

