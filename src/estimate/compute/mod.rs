//! Compute buffer size. llama.cpp reserves it by building the worst-case graph of one
//! micro-batch and dry-running ggml-alloc over it (`sched_reserve`, llama-context.cpp:615:
//! with `no_alloc`, as `--fit` and the oracle run, the size measured is that of the first pp
//! graph: n_tokens = min(n_ctx, n_ubatch) rounded up to a multiple of n_seq_max, n_outputs =
//! min(n_tokens, n_batch); `graph_reserve`, :2523). With one CPU backend the scheduler makes
//! one split and adds no copies, so the buffer is what `ggml_gallocr_reserve_n_size` reports.
//!
//! For architectures with a graph builder here (`transformer.rs` for llama/qwen2/qwen3/qwen3moe;
//! `bert.rs` for the BERT encoders: bert, nomic-bert, nomic-bert-moe, jina-bert-v2/v3; `t5.rs` for
//! T5's decoder (the graph its context reserves) and T5-encoder; `chameleon.rs`; `wavtokenizer.rs`
//! (WavTokenizer's convolutional decoder);
//! `gemma3`, `gemma3n`, `gemma4` (dense), `cohere2`, `minicpm3`, `talkie`, `refact`, `afmoe`, `hrm_text`, `llama4`, `phi3`,
//! `gpt-oss`, `deepseek2` (MLA; Mistral 4 is its graph), `deepseek32` / `glm-dsa` (MLA with
//! DSA sparse attention), `dots3note` (the same with sliding-window MLA layers), `hy_v4` (DSA
//! with hyper-connections), `glm5-next` (KDA and pooled-indexer sparse MLA with hyper-connections), `qwen4exp`
//! (Gated DeltaNet, PLE and QSA block-sparse attention with hyper-connections), `qwen35`/`qwen35moe`/
//! `qwen3next`, and the recurrent and hybrid families: Mamba-1/2, Jamba, Falcon-H1, Nemotron-H, Granite hybrid, PLaMo-2, LFM2, RWKV-6/7,
//! ARWKV-7, MiniMax-01, MiniMax-M3 (sparse attention over position blocks), Kimi-Linear, Kimi-K3, Bailing-MoE 3; see `simulate()`) gguf-meter rebuilds
//! that graph (`graph.rs`, `ggml.rs`, `inputs.rs`, `llm.rs`, `moe.rs`, one file per family) and
//! replays the allocator (`alloc.rs`), which is exact to the byte on every recorded run (f16,
//! f32 and quantized KV caches, with and without flash attention, unified or per-sequence
//! streams). Other architectures get `generic.rs`'s graph built from the tensors present (a
//! plain decoder, or an encoder attending within the micro-batch), an estimate; failing that,
//! the calibrated estimate in `heuristic.rs`.

mod afmoe;
pub(crate) mod alloc;
#[cfg(test)]
mod alloc_tests;
mod bailingmoe3;
mod bert;
mod chameleon;
mod cohere2;
mod deepseek2;
mod deepseek32;
mod delta_net;
mod dots3note;
mod falcon_h1;
mod gemma3;
mod gemma3n;
mod gemma4;
mod generic;
mod ggml;
mod glm5_next;
mod gpt_oss;
mod granite_hybrid;
pub(crate) mod graph;
mod heuristic;
mod hrm_text;
mod hy_v4;
mod inputs;
mod jamba;
mod kda;
mod kimi_k3;
mod kimi_linear;
mod lfm2;
mod llama4;
mod llm;
mod mamba1;
mod mamba2;
mod minicpm3;
mod minimax01;
mod minimax_m3;
mod moe;
mod nemotron_h;
mod phi3;
mod plamo2;
mod qwen35;
mod qwen3next;
mod qwen4exp;
mod refact;
mod rwkv;
mod rwkv6_mix;
mod rwkv7_mix;
mod sched;
mod short_conv;
mod t5;
mod talkie;
mod transformer;
mod wavtokenizer;

use super::settings::Resolved;
use crate::model::Geometry;
use crate::read::{GgmlType, TensorEntry};
use graph::{Graph, Id, Ty};
use std::collections::HashMap;

pub use sched::Layout;

/// Largest tensor width taken into the simulation (real widths are below 2^20).
const MAX_WIDTH: u64 = 1 << 32;
/// Largest graph simulated, in tensors (the biggest real ones have ~10^4: DeepSeek-V3 about
/// 8,000); a header claiming thousands of layers of hundreds of experts gets the heuristic.
const MAX_TENSORS: u64 = 1 << 18;
/// Largest count a builder unrolls into one op per item, as llama.cpp's graph code loops over
/// hyper-connection streams, indexer heads, pool members, convolution taps or streams (real
/// models have at most a few dozen); a header claiming more gets the generic graph.
const MAX_UNROLLED: u64 = 1024;
/// Upper bound of the tensors one block adds, beyond two per routed expert used.
const TENSORS_PER_BLOCK: u64 = 160;

/// Compute buffer bytes for one device holding the whole graph.
/// `n_kv_full` / `n_kv_swa`: KV cells per stream of the full and sliding-window caches.
/// Returns the bytes, and whether they were simulated (exact) rather than estimated.
pub fn compute(g: &Geometry, tensors: &[TensorEntry], r: &Resolved, n_kv_full: u64, n_kv_swa: u64) -> (u64, bool) {
    if let Some(b) = simulate(g, tensors, r, n_kv_full, n_kv_swa) {
        return (b, true);
    }
    // No builder of its own: the generic decoder graph when the model has that shape (an
    // estimate, close for most decoders), else the calibrated heuristic.
    let b = run(generic::build, g, tensors, r, n_kv_full, n_kv_swa).unwrap_or_else(|| heuristic::compute_bytes(g, tensors, r, n_kv_full, n_kv_swa));
    (b, false)
}

/// The calibrated estimate alone (the fallback when no builder covers a model), exposed so
/// that tests keep it honest on architectures the simulation now covers.
pub fn heuristic_bytes(g: &Geometry, tensors: &[TensorEntry], r: &Resolved, n_kv_full: u64, n_kv_swa: u64) -> u64 {
    heuristic::compute_bytes(g, tensors, r, n_kv_full, n_kv_swa)
}

/// Compute buffers per backend (the GPUs of `lay`, then the CPU) when the model's graph is
/// split over several devices as ggml-backend's scheduler splits it (`sched.rs`), and whether
/// the graph is llama.cpp's own (else `generic.rs`'s, an estimate). `None` without a graph.
pub fn per_device(g: &Geometry, tensors: &[TensorEntry], r: &Resolved, n_kv_full: u64, n_kv_swa: u64, lay: &Layout) -> Option<(Vec<u64>, bool)> {
    Some(DeviceGraph::build(g, tensors, r, n_kv_full, n_kv_swa)?.sizes(lay))
}

/// A model's graph at one setting, built once and split for as many placements as needed
/// (the graph does not depend on where layers go, only its split does).
pub struct DeviceGraph {
    graph: Graph,
    simulated: bool,
}

impl DeviceGraph {
    /// The graph llama.cpp reserves (else `generic.rs`'s), tracked for the scheduler's split;
    /// `None` without a graph.
    pub fn build(g: &Geometry, tensors: &[TensorEntry], r: &Resolved, n_kv_full: u64, n_kv_swa: u64) -> Option<Self> {
        let (build, simulated) = match builder(g) {
            Some(b) => (b, true),
            None => (generic::build as Builder, false),
        };
        Some(DeviceGraph { graph: build_graph(build, g, tensors, r, n_kv_full, n_kv_swa, true)?, simulated })
    }

    /// Compute buffers per backend (the GPUs of `lay`, then the CPU), and whether the graph is
    /// llama.cpp's own.
    pub fn sizes(&self, lay: &Layout) -> (Vec<u64>, bool) {
        (sched::sizes(&self.graph, lay), self.simulated)
    }
}

/// The simulated size, or `None` when no builder covers this model and these settings.
fn simulate(geo: &Geometry, tensors: &[TensorEntry], r: &Resolved, n_kv: u64, n_kv_swa: u64) -> Option<u64> {
    run(builder(geo)?, geo, tensors, r, n_kv, n_kv_swa)
}

/// The graph builder of the model's architecture, if it has one.
fn builder(geo: &Geometry) -> Option<Builder> {
    let build = match geo.architecture.as_str() {
        "qwen35" | "qwen35moe" | "qwen3next" => qwen35::build,
        "llama" | "qwen2" | "qwen3" | "qwen3moe" => transformer::build,
        "mamba" | "mamba2" => mamba2::build,
        "gemma3" => gemma3::build,
        "cohere2" => cohere2::build,
        "minicpm3" => minicpm3::build,
        "talkie" => talkie::build,
        "refact" => refact::build,
        "afmoe" => afmoe::build,
        "hrm_text" => hrm_text::build,
        "llama4" => llama4::build,
        "phi3" => phi3::build,
        "gemma3n" => gemma3n::build,
        "gemma4" => gemma4::build,
        "gpt-oss" => gpt_oss::build,
        "deepseek2" | "mistral4" => deepseek2::build,
        "deepseek32" | "glm-dsa" => deepseek32::build,
        "dots3note" => dots3note::build,
        "hy_v4" => hy_v4::build,
        "glm5-next" => glm5_next::build,
        "qwen4exp" => qwen4exp::build,
        "granitehybrid" => granite_hybrid::build,
        "jamba" => jamba::build,
        "falcon-h1" => falcon_h1::build,
        "nemotron_h" | "nemotron_h_moe" => nemotron_h::build,
        "lfm2" | "lfm2moe" => lfm2::build,
        "plamo2" => plamo2::build,
        "minimax-01" => minimax01::build,
        "minimax-m3" => minimax_m3::build,
        "kimi-linear" => kimi_linear::build,
        "kimi-k3" => kimi_k3::build,
        "bailingmoe3" => bailingmoe3::build,
        "t5encoder" => t5::build_encoder,
        "chameleon" => chameleon::build,
        "wavtokenizer-dec" => wavtokenizer::build,
        "t5" => t5::build_decoder,
        "bert" | "nomic-bert" | "nomic-bert-moe" | "jina-bert-v2" | "jina-bert-v3" => bert::build,
        // rwkv6qwen2 (the same pieces) is left out until a recorded run confirms it.
        "rwkv6" | "rwkv7" | "arwkv7" => rwkv::build,
        _ => return None,
    };
    Some(build)
}

/// A graph builder's signature.
type Builder = fn(&mut Graph, &Weights, &Geometry, &llm::Batch) -> Option<()>;

/// Builds the graph with `build` and replays the allocator over it.
fn run(build: Builder, geo: &Geometry, tensors: &[TensorEntry], r: &Resolved, n_kv: u64, n_kv_swa: u64) -> Option<u64> {
    let g = build_graph(build, geo, tensors, r, n_kv, n_kv_swa, false)?;
    Some(alloc::Gallocr::default().reserve(&g))
}

/// Builds the graph with `build` (recording each tensor's block and the weights' names when
/// `track`, for the multi-device replay).
fn build_graph(build: Builder, geo: &Geometry, tensors: &[TensorEntry], r: &Resolved, n_kv: u64, n_kv_swa: u64, track: bool) -> Option<Graph> {
    let size = geo.layers.iter().map(|l| TENSORS_PER_BLOCK.saturating_add(l.n_experts_used.saturating_mul(2))).fold(0u64, u64::saturating_add);
    if size > MAX_TENSORS {
        return None;
    }
    let b = batch(r, n_kv, n_kv_swa)?;
    let w = Weights::new(tensors);
    // `size` is an upper bound for real graphs, so the vectors never grow.
    let mut g = Graph::with_capacity(size as usize);
    g.track = track;
    build(&mut g, &w, geo, &b)?;
    Some(g)
}

/// The micro-batch `sched_reserve` reserves its first graph for.
fn batch(r: &Resolved, n_kv: u64, n_kv_swa: u64) -> Option<llm::Batch> {
    let n_seqs = r.n_seq_max.max(1);
    let n_tokens = r.n_ctx.min(r.n_ubatch).max(1);
    let n_outputs = n_tokens.min(r.n_batch).max(1);
    let n_tokens = n_tokens.div_ceil(n_seqs) * n_seqs;
    Some(llm::Batch {
        n_tokens,
        n_seqs,
        n_seq_tokens: n_tokens / n_seqs,
        n_outputs,
        n_kv: n_kv.min(MAX_WIDTH),
        n_kv_swa: n_kv_swa.min(MAX_WIDTH),
        n_stream: r.n_stream.max(1),
        flash_attn: r.flash_attn,
        n_rs: n_seqs,
        type_k: ty(r.type_k),
        type_v: ty(r.type_v),
    })
}

/// The graph element type of a ggml type (quantized types by their block; others `Other`).
fn ty(t: GgmlType) -> Ty {
    match t.traits() {
        Some(tr) if tr.name == "F32" => Ty::F32,
        Some(tr) if tr.name == "F16" || tr.name == "BF16" => Ty::F16,
        Some(tr) if tr.block_size > 1 => Ty::Q { block: tr.block_size.min(1 << 16) as u32, bytes: tr.type_size.min(1 << 16) as u32 },
        _ => Ty::Other,
    }
}

/// The model's tensor shapes by block and name, looked up without allocating.
pub struct Weights<'a> {
    blk: HashMap<(u32, &'a str), &'a [u64]>,
    blk_ty: HashMap<(u32, &'a str), GgmlType>,
    top: HashMap<&'a str, &'a [u64]>,
    /// Top-level weights stored as BF16 (ggml's convolutions then unfold in F32, not F16).
    bf16: std::collections::HashSet<&'a str>,
}

impl<'a> Weights<'a> {
    /// Indexes `tensors` (`blk.N.rest` by (N, rest), others by name).
    pub fn new(tensors: &'a [TensorEntry]) -> Self {
        let mut w = Weights { blk: HashMap::with_capacity(tensors.len()), blk_ty: HashMap::new(), top: HashMap::new(), bf16: std::collections::HashSet::new() };
        for t in tensors {
            let split = t.name.strip_prefix("blk.").and_then(|r| r.split_once('.')).and_then(|(n, rest)| Some((n.parse::<u32>().ok()?, rest)));
            match split {
                Some(k) => {
                    w.blk_ty.insert(k, t.ggml_type);
                    w.blk.insert(k, &t.dims)
                }
                None => {
                    if t.ggml_type.traits().is_some_and(|tr| tr.name == "BF16") {
                        w.bf16.insert(&t.name);
                    }
                    w.top.insert(&t.name, &t.dims)
                }
            };
        }
        w
    }

    fn ne(dims: &[u64]) -> [u64; 4] {
        let mut ne = [1; 4];
        for (d, &x) in ne.iter_mut().zip(dims) {
            *d = x.min(MAX_WIDTH);
        }
        ne
    }

    /// A top-level weight as an external tensor. The output weights end the blocks.
    pub fn get(&self, g: &mut Graph, name: &str) -> Option<Id> {
        let d = self.top.get(name)?;
        if name.starts_with("output") {
            g.cur_layer = graph::TOP;
        }
        let id = g.external(Ty::Other, Self::ne(d));
        g.name_weight(id, name.to_string());
        Some(id)
    }

    /// A block weight as an external tensor.
    pub fn blk(&self, g: &mut Graph, il: u32, name: &'static str) -> Option<Id> {
        self.blk_typed(g, il, name, Ty::Other)
    }

    /// A block tensor the graph reads as f32 (per-expert scales, which ops copy), as an
    /// external tensor.
    pub fn blk_f32(&self, g: &mut Graph, il: u32, name: &'static str) -> Option<Id> {
        self.blk_typed(g, il, name, Ty::F32)
    }

    fn blk_typed(&self, g: &mut Graph, il: u32, name: &'static str, ty: Ty) -> Option<Id> {
        let d = self.blk.get(&(il, name))?;
        g.cur_layer = il;
        let id = g.external(ty, Self::ne(d));
        if g.track {
            g.name_weight(id, format!("blk.{il}.{name}"));
        }
        Some(id)
    }

    /// A block tensor with its file type, for ops that copy it (`ggml_cont` of a view of it).
    pub fn blk_as_stored(&self, g: &mut Graph, il: u32, name: &'static str) -> Option<Id> {
        let t = ty(*self.blk_ty.get(&(il, name))?);
        self.blk_typed(g, il, name, t)
    }

    /// A block weight, or `graph::NONE` when the block lacks it (optional biases).
    pub fn blk_or_none(&self, g: &mut Graph, il: u32, name: &'static str) -> Id {
        self.blk(g, il, name).unwrap_or(graph::NONE)
    }

    /// True when the model has the top-level tensor `name`.
    pub fn has(&self, name: &str) -> bool {
        self.top.contains_key(name)
    }

    /// True when the top-level weight `name` is stored as BF16.
    pub fn is_bf16(&self, name: &str) -> bool {
        self.bf16.contains(name)
    }

    /// True when the model has the top-level tensor.
    pub fn top_has(&self, name: &str) -> bool {
        self.top.contains_key(name)
    }

    /// True when block `il` has the tensor.
    pub fn has_blk(&self, il: u32, name: &'static str) -> bool {
        self.blk.contains_key(&(il, name))
    }

    /// One dimension of a block tensor (absent dimensions are 1), `None` if 0 or missing.
    pub fn dim(&self, il: u32, name: &'static str, axis: usize) -> Option<u64> {
        let d = self.blk.get(&(il, name))?;
        Some(Self::ne(d)[axis.min(3)]).filter(|&x| x > 0)
    }
}
