//! Which device each layer lands on with `-sm layer` (the default), as
//! `llama_model_base::load_tensors` decides it (`src/llama-model.cpp:1555-1612`), and what
//! pipeline parallelism adds to each GPU's compute buffer.

use super::kv::{kq_mask_bytes, model_swa_cells};
use super::settings::Resolved;
use crate::model::Geometry;

/// A device: a GPU by index, or the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dev {
    /// GPU number N (`CUDA<N>`).
    Gpu(u32),
    /// The host.
    Cpu,
}

/// Cumulative split points, normalised to 1, computed in `f32` as llama.cpp does. `weights`
/// are `-ts` proportions or, by default, each GPU's free memory.
pub fn split_points(weights: &[u64]) -> Vec<f32> {
    let mut acc = 0.0f32;
    let mut points: Vec<f32> = weights
        .iter()
        .map(|&w| {
            acc += w as f32;
            acc
        })
        .collect();
    if acc > 0.0 {
        points.iter_mut().for_each(|p| *p /= acc);
    }
    points
}

/// Device of layer `il` (0..n_layer_all; `n_layer_all` is the output layer) for `-ngl n_gpu_layers`.
pub fn layer_device(il: u32, n_layer_all: u32, n_gpu_layers: u32, points: &[f32]) -> Dev {
    let i_gpu_start = (n_layer_all + 1).saturating_sub(n_gpu_layers);
    let act = if points.is_empty() { 0 } else { n_gpu_layers.min(n_layer_all + 1) };
    if il < i_gpu_start || il - i_gpu_start >= act {
        return Dev::Cpu;
    }
    // std::upper_bound: the first split point strictly above the layer's position.
    let x = (il - i_gpu_start) as f32 / act as f32;
    let gpu = points.iter().position(|&p| p > x).unwrap_or(points.len() - 1);
    Dev::Gpu(gpu as u32)
}

/// `GGML_SCHED_MAX_COPIES`: input copies the scheduler keeps with pipeline parallelism.
pub const SCHED_COPIES: u64 = 4;

/// Bytes one pipeline-parallel GPU adds to its compute buffer: with several GPUs, every layer
/// offloaded, `offload_kqv` and no tensor override (`llama-context.cpp:428-457`), the scheduler
/// keeps `SCHED_COPIES` copies of each split input (`ggml-backend.cpp`, passes 5-6; they are
/// marked as outputs so ggml-alloc never reuses them). A GPU's split inputs are the graph
/// inputs it reads (the KQ masks, positions) and the hidden state from the previous device;
/// the single-device estimate already holds one copy of each.
pub fn pipeline_extra(g: &Geometry, r: &Resolved) -> u64 {
    let t = r.n_ubatch;
    let masks = kq_mask_bytes(g, r, r.n_ctx_seq, model_swa_cells(g, r));
    // Hidden state [n_embd, n_tokens] f32, plus positions (up to 4 per token for M-RoPE, i32).
    let inputs = masks.saturating_add(g.n_embd.saturating_mul(t).saturating_mul(4)).saturating_add(t.saturating_mul(16));
    inputs.saturating_mul(SCHED_COPIES - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_identical_gpus_split_evenly_and_the_last_holds_the_output() {
        let p = split_points(&[24 << 30, 24 << 30]);
        // 40 blocks + output, all offloaded: positions il/41, the second GPU from 0.5 on.
        let devs: Vec<Dev> = (0..=40).map(|il| layer_device(il, 40, 41, &p)).collect();
        assert_eq!(devs.iter().filter(|&&d| d == Dev::Gpu(0)).count(), 21);
        assert_eq!(devs[40], Dev::Gpu(1));
        // -ngl 11: blocks 30..39 and the output on the GPUs, the rest on the CPU.
        assert_eq!(layer_device(29, 40, 11, &p), Dev::Cpu);
        assert_eq!(layer_device(30, 40, 11, &p), Dev::Gpu(0));
        assert_eq!(layer_device(40, 40, 11, &p), Dev::Gpu(1));
        assert_eq!(layer_device(5, 40, 0, &p), Dev::Cpu);
        assert_eq!(layer_device(40, 40, 0, &p), Dev::Cpu);
    }

    #[test]
    fn a_bigger_gpu_takes_more_layers() {
        let p = split_points(&[24, 12]);
        let n0 = (0..=40).filter(|&il| layer_device(il, 40, 41, &p) == Dev::Gpu(0)).count();
        assert_eq!(n0, 28, "positions below 2/3: il/41 < 0.6667 for il <= 27");
        assert_eq!(layer_device(5, 40, 41, &[]), Dev::Cpu, "no GPU: everything on the CPU");
    }
}
