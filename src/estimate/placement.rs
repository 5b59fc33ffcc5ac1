//! Where llama.cpp puts each byte for a given `-ngl` / `--n-cpu-moe` / `-ot`, per device
//! (docs/llama-cpp-memory.md sections 6.3 and 7.1).
//!
//! Rules modelled: layers go to devices by llama.cpp's `-sm layer` split (`layer_split.rs`); the
//! token embedding stays on the CPU (input layer); a tensor matched by an override goes to its
//! buffer, the user's `-ot` first, then `--n-cpu-moe`'s patterns; KV and recurrent state live with
//! their layer (`offload_kqv`); a tied output matrix is a second copy of the embedding on the
//! output device; logits stay in host memory; an mmproj (weights and its clip compute buffer)
//! sits on the first GPU unless `--no-mmproj-offload`.
//!
//! Compute buffers: llama.cpp's scheduler gives each backend a buffer for its part of the graph,
//! which gguf-meter cannot measure for several GPUs (its oracle is CPU-only). The rule taken is
//! conservative: every GPU holding a layer reserves the whole single-device estimate, plus the
//! pipeline-parallel input copies (`layer_split::pipeline_extra`) when they apply.

use super::footprint::Footprint;
use super::kv::kv_layers;
use super::layer_split::{Dev, layer_device, pipeline_extra, split_points};
use super::overrides::{Buft, Overrides, cpu_moe_block};
use super::recurrent::layer_bytes;
use super::weights::{active_bytes, buffer_bytes, is_loaded, is_tied};
use crate::model::Geometry;
use crate::model::layers::block_of;
use crate::read::TensorEntry;
use serde::Serialize;

/// llama.cpp `--fit`'s default free-memory margin per device (common/common.h: 1024 MiB).
pub const FIT_MARGIN: u64 = 1 << 30;

/// A placement in llama.cpp's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Offload {
    /// `-ngl`: output layer + the last `n_gpu_layers - 1` blocks on the GPU(s) (0 = CPU only).
    pub n_gpu_layers: u32,
    /// `--n-cpu-moe`: routed experts of the first N blocks stay on the CPU.
    pub n_cpu_moe: u32,
}

/// What one device holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeviceBytes {
    /// `GPU0`, `GPU1`, ... or `CPU`.
    pub device: String,
    /// Repeating blocks assigned to it (MTP blocks not counted).
    pub blocks: u32,
    /// Holds the output layer.
    pub output_layer: bool,
    /// Model weights in its buffers.
    pub weights_bytes: u64,
    /// KV cache of its attention layers.
    pub kv_bytes: u64,
    /// Recurrent state of its recurrent layers.
    pub recurrent_bytes: u64,
    /// Compute buffer.
    pub compute_bytes: u64,
    /// Logits and mmproj weights (host memory only).
    pub other_bytes: u64,
    /// Everything above.
    pub total_bytes: u64,
    /// Bytes read from it per generated token.
    pub active_bytes: u64,
}

/// Bytes on each side for a placement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Split {
    /// The placement.
    pub offload: Offload,
    /// Bytes on the GPU(s), compute buffers included (sum over GPUs).
    pub gpu_bytes: u64,
    /// Bytes in system RAM.
    pub cpu_bytes: u64,
    /// Bytes read per token from GPU memory.
    pub gpu_active: u64,
    /// Bytes read per token from system RAM.
    pub cpu_active: u64,
    /// Per device: GPU 0..N-1, then the CPU.
    pub devices: Vec<DeviceBytes>,
}

/// What placing one loaded tensor needs, worked out once per model.
#[derive(Clone)]
struct Item {
    /// `blk.N`, or `None` for the input/output tensors.
    block: Option<u32>,
    /// The token embedding.
    embd: bool,
    bytes: u64,
    buffer: u64,
    /// Bytes read per token (the whole tensor if it doubles as the output matrix).
    active: u64,
    /// Bytes read per token as the input lookup alone (one row).
    lookup: u64,
    /// The user's first matching override.
    target: Option<Buft>,
    /// The block `--n-cpu-moe`'s patterns would match.
    moe_block: Option<u32>,
    /// An MTP block's tensor: placed only with `--load-mtp`, and not read per generated token.
    mtp: bool,
}

/// A model and the layout rules, ready to split footprints for several placements.
pub struct Placer<'a> {
    g: &'a Geometry,
    items: std::rc::Rc<Vec<Item>>,
    tied: bool,
    points: Vec<f32>,
    user_overrides: bool,
}

impl<'a> Placer<'a> {
    /// `gpu_split`: one weight per GPU, the `-ts` proportions (by default each GPU's memory).
    pub fn new(g: &'a Geometry, tensors: &'a [TensorEntry], ov: &Overrides, gpu_split: &[u64]) -> Self {
        let tied = is_tied(tensors);
        let items = tensors
            .iter()
            .map(|t| Item {
                block: block_of(&t.name).map(|(b, _)| b),
                embd: t.name == "token_embd.weight",
                bytes: t.bytes,
                buffer: buffer_bytes(t),
                active: if is_loaded(t, g) { active_bytes(t, g, tied) } else { 0 },
                lookup: active_bytes(t, g, false),
                target: ov.find(&t.name).map(|o| o.buft),
                moe_block: cpu_moe_block(&t.name),
                mtp: !is_loaded(t, g),
            })
            .collect();
        Placer { g, items: std::rc::Rc::new(items), tied, points: split_points(gpu_split), user_overrides: !ov.is_empty() }
    }

    /// The same model and overrides with another `-ts`.
    pub fn with_split(&self, gpu_split: &[u64]) -> Placer<'a> {
        Placer { g: self.g, items: self.items.clone(), tied: self.tied, points: split_points(gpu_split), user_overrides: self.user_overrides }
    }

    fn n_gpus(&self) -> usize {
        self.points.len()
    }

    fn dev_of(&self, b: Buft) -> Dev {
        match b {
            Buft::Gpu(i) if (i as usize) < self.n_gpus() => Dev::Gpu(i),
            _ => Dev::Cpu,
        }
    }

    /// Splits `fp` for placement `o`.
    pub fn split(&self, fp: &Footprint, o: Offload) -> Split {
        let g = self.g;
        let n_all = g.layers.len() as u32;
        let layer = |il: u32| layer_device(il, n_all, o.n_gpu_layers, &self.points);
        let out_dev = layer(n_all);
        let mut devs: Vec<DeviceBytes> = (0..self.n_gpus()).map(|i| DeviceBytes { device: format!("GPU{i}"), ..Default::default() }).collect();
        devs.push(DeviceBytes { device: "CPU".into(), ..Default::default() });
        let cpu = devs.len() - 1;
        let slot = |d: Dev| match d {
            Dev::Gpu(i) => i as usize,
            Dev::Cpu => cpu,
        };
        let mut add_w = |d: Dev, bytes: u64, act: u64| {
            let x = &mut devs[slot(d)];
            x.weights_bytes = x.weights_bytes.saturating_add(bytes);
            x.active_bytes = x.active_bytes.saturating_add(act);
        };
        for t in self.items.iter().filter(|t| !t.mtp || fp.resolved.load_mtp) {
            let user = t.target.map(|b| self.dev_of(b));
            match t.block {
                Some(il) => {
                    let moe = t.moe_block.is_some_and(|b| b < o.n_cpu_moe).then_some(Dev::Cpu);
                    add_w(user.or(moe).unwrap_or_else(|| layer(il)), t.buffer, t.active);
                }
                None if t.embd => {
                    // The input layer stays on the CPU; a tied output is created from the same
                    // tensor name on the output device, a second copy unless it lands in the same buffer.
                    let input = user.unwrap_or(Dev::Cpu);
                    let output = user.unwrap_or(out_dev);
                    if self.tied && output != input {
                        add_w(input, t.buffer, t.lookup);
                        add_w(output, t.buffer, t.bytes);
                    } else {
                        add_w(input, t.buffer, t.active);
                    }
                }
                None => add_w(user.unwrap_or(out_dev), t.buffer, t.active),
            }
        }
        let r = &fp.resolved;
        if let Ok(kv) = kv_layers(g, r) {
            for l in kv {
                let x = &mut devs[slot(layer(l.index))];
                x.kv_bytes = x.kv_bytes.saturating_add(l.k_bytes.saturating_add(l.v_bytes));
            }
        }
        for l in &g.layers {
            if let Some(b) = layer_bytes(l, r) {
                let x = &mut devs[slot(layer(l.index))];
                x.recurrent_bytes = x.recurrent_bytes.saturating_add(b);
            }
            if !l.mtp {
                devs[slot(layer(l.index))].blocks += 1;
            }
        }
        devs[slot(out_dev)].output_layer = true;
        let pipeline = self.n_gpus() > 1 && o.n_gpu_layers > n_all && !self.user_overrides && o.n_cpu_moe == 0;
        let per_gpu = if pipeline { fp.compute_bytes.saturating_add(pipeline_extra(g, r)) } else { fp.compute_bytes };
        let mut any_gpu = false;
        for d in devs.iter_mut().take(cpu).filter(|d| d.blocks > 0 || d.output_layer) {
            d.compute_bytes = per_gpu;
            any_gpu = true;
        }
        if !any_gpu {
            devs[cpu].compute_bytes = fp.compute_bytes;
        }
        devs[cpu].other_bytes = fp.output_bytes;
        // mtmd's clip context takes the first GPU whatever -ngl says (`mmproj_use_gpu`, default on).
        let mmproj = fp.mmproj_bytes.saturating_add(fp.mmproj_compute_bytes.unwrap_or(0));
        let mm = if fp.mmproj_offload && cpu > 0 { 0 } else { cpu };
        devs[mm].other_bytes = devs[mm].other_bytes.saturating_add(mmproj);
        for d in &mut devs {
            d.total_bytes = [d.weights_bytes, d.kv_bytes, d.recurrent_bytes, d.compute_bytes, d.other_bytes].iter().fold(0, |a, &b| a.saturating_add(b));
        }
        let sum = |f: fn(&DeviceBytes) -> u64| devs[..cpu].iter().map(f).fold(0u64, u64::saturating_add);
        Split {
            offload: o,
            gpu_bytes: sum(|d| d.total_bytes),
            cpu_bytes: devs[cpu].total_bytes,
            gpu_active: sum(|d| d.active_bytes),
            cpu_active: devs[cpu].active_bytes,
            devices: devs,
        }
    }
}

/// Everything on the GPU: `-ngl` = all blocks + output.
pub fn all_layers(g: &Geometry) -> u32 {
    g.layers.len() as u32 + 1
}
