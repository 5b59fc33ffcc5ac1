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
//! Compute buffers: llama.cpp's scheduler gives each backend (each GPU and the host) a buffer for
//! its part of the graph. With [`Placer::scheduled`] the graph is rebuilt and split as the
//! scheduler splits it (`compute::DeviceGraph`, checked against llama.cpp on RPC devices:
//! `scripts/oracle/multi.py`); the graph is built once per setting and shared by every placement
//! of the same `Placer` (and its `with_split` copies), so `fit` searches with it. Without it (or
//! without a graph) the rule is conservative: every GPU holding a layer reserves the whole
//! single-device estimate, plus the pipeline-parallel input copies (`layer_split::pipeline_extra`)
//! when they apply.
//!
//! `rope_freqs` and the rope factors are loaded once per buffer holding a layer
//! (`TENSOR_DUPLICATED`, llama-model-loader.cpp:1371-1387), so each such device pays for them.

use super::compute::{DeviceGraph, Layout};
use super::footprint::Footprint;
use super::kv::{kv_layers, model_swa_cells};
use super::layer_split::{Dev, SCHED_COPIES, layer_device, pipeline_extra, split_points};
use super::overrides::{Buft, Overrides, cpu_moe_block};
use super::recurrent::layer_bytes;
use super::settings::Resolved;
use super::weights::{active_bytes, buffer_bytes, is_loaded, is_tied};
use crate::model::Geometry;
use crate::model::layers::block_of;
use crate::read::TensorEntry;
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;

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
    /// How the compute buffers were found: `scheduler` (llama.cpp's graph split by device and
    /// replayed), `scheduler-estimate` (the same over the generic graph of an architecture without
    /// a builder), or `whole-graph-per-gpu` (the conservative rule).
    pub compute_method: &'static str,
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
    /// Loaded once per buffer holding a layer (`TENSOR_DUPLICATED`: rope frequencies and factors).
    per_layer_buffer: bool,
}

/// A graph shared by placements (`None`: no graph for this model).
type GraphRef = Rc<Option<DeviceGraph>>;

/// A model and the layout rules, ready to split footprints for several placements.
pub struct Placer<'a> {
    g: &'a Geometry,
    tensors: &'a [TensorEntry],
    items: Rc<Vec<Item>>,
    tied: bool,
    points: Vec<f32>,
    user_overrides: bool,
    kv_offload: bool,
    scheduled: bool,
    no_alloc: bool,
    /// The last graph built for the scheduler's split, by the settings it was built for:
    /// shared by every placement of the same model (`with_split`), so a search over layers
    /// and `-ts` builds it once per context.
    graph: Rc<RefCell<Option<(Resolved, GraphRef)>>>,
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
                per_layer_buffer: matches!(t.name.as_str(), "rope_freqs.weight" | "rope_factors_long.weight" | "rope_factors_short.weight"),
            })
            .collect();
        Placer {
            g,
            tensors,
            items: Rc::new(items),
            tied,
            points: split_points(gpu_split),
            user_overrides: !ov.is_empty(),
            kv_offload: true,
            scheduled: false,
            no_alloc: false,
            graph: Rc::default(),
        }
    }

    /// The same model and overrides with another `-ts`.
    pub fn with_split(&self, gpu_split: &[u64]) -> Placer<'a> {
        Placer { points: split_points(gpu_split), items: self.items.clone(), graph: self.graph.clone(), ..*self }
    }

    /// `--no-kv-offload` when `false`: KV cache and recurrent state stay in host memory, and the
    /// attention between the cache and its output runs on the CPU.
    pub fn kv_offload(self, on: bool) -> Self {
        Placer { kv_offload: on, ..self }
    }

    /// Compute buffers per device from the scheduler's split of the rebuilt graph (one graph
    /// build and allocation replay per [`Placer::split`]).
    pub fn scheduled(self, on: bool) -> Self {
        Placer { scheduled: on, ..self }
    }

    /// The compute buffers as llama.cpp's no_alloc measure finds them (what `--fit` and the
    /// oracle see): the scheduler forgets llama.cpp's own node assignments there (`sched.rs`).
    pub fn no_alloc(self, on: bool) -> Self {
        Placer { no_alloc: on, ..self }
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
                None if t.per_layer_buffer && user.is_none() => {
                    // One copy in each device's buffer that holds a block.
                    let mut held: Vec<Dev> = g.layers.iter().filter(|l| !l.mtp || fp.resolved.load_mtp).map(|l| layer(l.index)).collect();
                    held.sort();
                    held.dedup();
                    for (i, d) in held.iter().enumerate() {
                        add_w(*d, t.buffer, if i == 0 { t.active } else { 0 });
                    }
                }
                None => add_w(user.unwrap_or(out_dev), t.buffer, t.active),
            }
        }
        let r = &fp.resolved;
        // KV cache and recurrent state live with their layer, or on the host (--no-kv-offload).
        let state_dev = |il: u32| if self.kv_offload { layer(il) } else { Dev::Cpu };
        if let Ok(kv) = kv_layers(g, r) {
            for l in kv {
                let x = &mut devs[slot(state_dev(l.index))];
                x.kv_bytes = x.kv_bytes.saturating_add(l.k_bytes.saturating_add(l.v_bytes));
            }
        }
        for l in &g.layers {
            if let Some(b) = layer_bytes(l, r) {
                let x = &mut devs[slot(state_dev(l.index))];
                x.recurrent_bytes = x.recurrent_bytes.saturating_add(b);
            }
            if !l.mtp {
                devs[slot(layer(l.index))].blocks += 1;
            }
        }
        devs[slot(out_dev)].output_layer = true;
        // llama-context.cpp:428-433: several devices, every layer offloaded, -sm layer,
        // offload_kqv and no tensor override (--n-cpu-moe is one).
        let pipeline = self.n_gpus() > 1 && o.n_gpu_layers > n_all && !self.user_overrides && o.n_cpu_moe == 0 && self.kv_offload;
        let scheduled = if self.scheduled { self.scheduled_compute(fp, o, pipeline) } else { None };
        let method = match scheduled {
            Some((sizes, simulated)) => {
                for (d, b) in devs.iter_mut().zip(sizes) {
                    d.compute_bytes = b;
                }
                if simulated { "scheduler" } else { "scheduler-estimate" }
            }
            None => {
                let per_gpu = if pipeline { fp.compute_bytes.saturating_add(pipeline_extra(g, r)) } else { fp.compute_bytes };
                let mut any_gpu = false;
                for d in devs.iter_mut().take(cpu).filter(|d| d.blocks > 0 || d.output_layer) {
                    d.compute_bytes = per_gpu;
                    any_gpu = true;
                }
                if !any_gpu {
                    devs[cpu].compute_bytes = fp.compute_bytes;
                }
                "whole-graph-per-gpu"
            }
        };
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
            compute_method: method,
        }
    }

    /// The compute buffer of each GPU and of the host (last) from the scheduler's split of the
    /// graph, and whether the graph is llama.cpp's own; `None` without a graph.
    fn scheduled_compute(&self, fp: &Footprint, o: Offload, pipeline: bool) -> Option<(Vec<u64>, bool)> {
        let g = self.g;
        let n_all = g.layers.len() as u32;
        let cpu = self.n_gpus();
        let slot = |d: Dev| match d {
            Dev::Gpu(i) => (i as usize).min(cpu),
            Dev::Cpu => cpu,
        };
        let layer_dev = |il: u32| slot(layer_device(il, n_all, o.n_gpu_layers, &self.points));
        // The device an override (the user's first match, then --n-cpu-moe's) gives each tensor.
        let forced: std::collections::HashMap<&str, usize> = self
            .tensors
            .iter()
            .zip(self.items.iter())
            .filter_map(|(t, it)| {
                let user = it.target.map(|b| self.dev_of(b));
                let moe = it.moe_block.is_some_and(|b| b < o.n_cpu_moe).then_some(Dev::Cpu);
                user.or(moe).map(|d| (t.name.as_str(), slot(d)))
            })
            .collect();
        let weight_dev = |name: &str| forced.get(name).copied();
        let lay = Layout {
            n_gpus: cpu,
            layer_dev: &layer_dev,
            weight_dev: &weight_dev,
            output_layer: n_all,
            offload_kqv: self.kv_offload,
            full_offload: o.n_gpu_layers > n_all,
            n_copies: if pipeline { SCHED_COPIES as usize } else { 1 },
            pins: !self.no_alloc,
        };
        Some(self.graph_for(&fp.resolved).as_ref().as_ref()?.sizes(&lay))
    }

    /// The graph at settings `r`, built on first use.
    fn graph_for(&self, r: &Resolved) -> GraphRef {
        let mut cache = self.graph.borrow_mut();
        if let Some((key, graph)) = cache.as_ref()
            && key == r
        {
            return graph.clone();
        }
        let graph = Rc::new(DeviceGraph::build(self.g, self.tensors, r, r.n_ctx_seq, model_swa_cells(self.g, r)));
        *cache = Some((r.clone(), graph.clone()));
        graph
    }
}

/// Everything on the GPU: `-ngl` = all blocks + output.
pub fn all_layers(g: &Geometry) -> u32 {
    g.layers.len() as u32 + 1
}
