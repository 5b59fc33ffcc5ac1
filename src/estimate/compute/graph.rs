//! A minimal ggml tensor graph: just what ggml-alloc looks at. Each tensor has a shape and
//! strides (ggml.c `ggml_new_tensor_impl`: `nb[0]` = element size, `nb[i]` = `nb[i-1]*ne[i-1]`),
//! an element type, up to [`MAX_SRC`] sources, and optionally the tensor it is a view of
//! (always the root: ggml.c `ggml_new_tensor_impl` folds a view of a view into its source).
//! Node and leaf order come from [`Graph::expand`], a port of `ggml_visit_parents_graph`
//! (ggml.c:7245): depth-first over `src[0..]`, a tensor listed once, op-less tensors as leafs.

/// Index of a tensor in [`Graph::t`].
pub type Id = u32;
/// No tensor.
pub const NONE: Id = u32::MAX;
/// Sources kept per tensor (ggml has 10; the ops simulated use at most 7: `ssm_scan`).
pub const MAX_SRC: usize = 7;

/// Element types of the tensors the graph allocates (weights and caches are never allocated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// 4-byte float.
    F32,
    /// 2-byte float.
    F16,
    /// 4-byte int (token ids, positions, argsort results).
    I32,
    /// 8-byte int (KV cache row indices).
    I64,
    /// A block-quantized KV cache type: `block` elements in `bytes` bytes (a copy of a cache
    /// view, as MLA's V without flash attention, is allocated in it).
    Q {
        /// Elements per block (`ggml_blck_size`).
        block: u32,
        /// Bytes per block (`ggml_type_size`).
        bytes: u32,
    },
    /// Weights (any type); only ever external.
    Other,
}

impl Ty {
    /// `ggml_type_size`: bytes per element, or per block for quantized types (weights are
    /// external; 1 keeps their arithmetic harmless).
    pub fn size(self) -> u64 {
        match self {
            Ty::F32 | Ty::I32 => 4,
            Ty::F16 => 2,
            Ty::I64 => 8,
            Ty::Q { bytes, .. } => bytes.into(),
            Ty::Other => 1,
        }
    }

    /// `ggml_blck_size`.
    pub fn block(self) -> u64 {
        match self {
            Ty::Q { block, .. } => u64::from(block).max(1),
            _ => 1,
        }
    }
}

/// What ggml-alloc needs to know about an op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// GGML_OP_NONE: an input, a weight or a cache (a leaf).
    Leaf,
    /// An op that computes new data; `inplace` is `ggml_op_can_inplace` (ggml-alloc.c:22).
    Compute { inplace: bool },
    /// A view, reshape, permute or transpose: shares its source's memory.
    View,
}

/// Flags as ggml sets them.
pub const INPUT: u8 = 1;
/// Graph output: never freed, never reused in place (ggml-alloc.c:598, 651).
pub const OUTPUT: u8 = 2;
/// Lives in a buffer of its own (weights, KV and recurrent caches): not allocated here.
pub const EXTERNAL: u8 = 4;
/// The output of `build_norm`'s norm op in a block (llama.cpp names it "norm", and with every
/// layer offloaded pins it to its layer's device: llama-context.cpp:2643-2656).
pub const NORM: u8 = 8;
/// An op the scheduler never places by its weights (ROPE, FLASH_ATTN_EXT: ggml-backend.cpp:945-949).
pub const UNPINNED: u8 = 16;
/// The attention output `build_attn_mha` puts on the CPU without `offload_kqv` (llama-graph.cpp:2745-2749).
pub const KQV_OUT: u8 = 32;
/// `layer` of a tensor created outside any block.
pub const TOP: u32 = u32::MAX;

/// One tensor.
#[derive(Clone, Debug)]
pub struct Tensor {
    /// Shape, innermost first.
    pub ne: [u64; 4],
    /// Strides in bytes.
    pub nb: [u64; 4],
    /// Element type.
    pub ty: Ty,
    /// Op kind.
    pub op: Op,
    /// Sources in ggml's `src[]` order ([`NONE`] when absent).
    pub src: [Id; MAX_SRC],
    /// Root tensor this one is a view of, or [`NONE`].
    pub view_src: Id,
    /// [`INPUT`], [`OUTPUT`], [`EXTERNAL`].
    pub flags: u8,
}

impl Tensor {
    /// `ggml_nbytes` (ggml.c): bytes spanned by the tensor, 0 if a dimension is 0.
    pub fn nbytes(&self) -> u64 {
        if self.ne.contains(&0) {
            return 0;
        }
        let mut n = self.ne[0].saturating_mul(self.nb[0]) / self.ty.block();
        for i in 1..4 {
            n = n.saturating_add((self.ne[i] - 1).saturating_mul(self.nb[i]));
        }
        n
    }
}

/// Contiguous strides for a shape (a row of a quantized type is ne0 / block blocks).
pub fn contiguous(ty: Ty, ne: [u64; 4]) -> [u64; 4] {
    let mut nb = [ty.size(), ty.size().saturating_mul(ne[0] / ty.block()), 0, 0];
    for i in 2..4 {
        nb[i] = nb[i - 1].saturating_mul(ne[i - 1]);
    }
    nb
}

/// Tensors plus the node and leaf order of the graph built from them.
#[derive(Default)]
pub struct Graph {
    /// All tensors, whether in the graph or not.
    pub t: Vec<Tensor>,
    /// Computed tensors in execution order.
    pub nodes: Vec<Id>,
    /// Op-less tensors in first-visit order.
    pub leafs: Vec<Id>,
    visited: Vec<bool>,
    stack: Vec<(Id, usize)>,
    /// Record where each tensor belongs (the multi-device replay, `sched.rs`): off for the
    /// single-device size, which needs none of it.
    pub track: bool,
    /// With `track`: per tensor, the block being built when it was created ([`TOP`] outside).
    pub layer: Vec<u32>,
    /// The block being built: set when a block's weight is fetched (`Weights::blk`), reset to
    /// [`TOP`] by the output weights.
    pub cur_layer: u32,
    /// With `track`: the weights among the external tensors, by tensor name.
    pub weight_names: std::collections::HashMap<Id, String>,
}

impl Graph {
    /// An empty graph with room for `n` tensors.
    pub fn with_capacity(n: usize) -> Self {
        Graph { t: Vec::with_capacity(n), nodes: Vec::with_capacity(n), visited: Vec::with_capacity(n), cur_layer: TOP, ..Graph::default() }
    }

    /// Names the weight `id` (with `track`).
    pub fn name_weight(&mut self, id: Id, name: String) {
        if self.track {
            self.weight_names.insert(id, name);
        }
    }

    /// Empties the graph, keeping its allocations for the next build.
    pub fn clear(&mut self) {
        self.t.clear();
        self.nodes.clear();
        self.leafs.clear();
        self.visited.clear();
        self.layer.clear();
        self.weight_names.clear();
        self.cur_layer = TOP;
    }

    /// Adds a tensor and returns its id.
    pub fn push(&mut self, t: Tensor) -> Id {
        self.t.push(t);
        self.visited.push(false);
        if self.track {
            self.layer.push(self.cur_layer);
        }
        (self.t.len() - 1) as Id
    }

    /// `ggml_set_output`.
    pub fn set_output(&mut self, id: Id) {
        self.t[id as usize].flags |= OUTPUT;
    }

    /// `ggml_build_forward_expand`: appends `id` and its unvisited ancestors, sources first.
    pub fn expand(&mut self, id: Id) {
        if id == NONE || self.visited[id as usize] {
            return;
        }
        self.visited[id as usize] = true;
        self.stack.push((id, 0));
        while let Some(&(cur, from)) = self.stack.last() {
            let srcs = self.t[cur as usize].src;
            let next = (from..MAX_SRC).find(|&i| srcs[i] != NONE && !self.visited[srcs[i] as usize]);
            if let Some(i) = next {
                let s = srcs[i];
                if let Some(top) = self.stack.last_mut() {
                    top.1 = i + 1;
                }
                self.visited[s as usize] = true;
                self.stack.push((s, 0));
            } else {
                self.stack.pop();
                if self.t[cur as usize].op == Op::Leaf {
                    self.leafs.push(cur);
                } else {
                    self.nodes.push(cur);
                }
            }
        }
    }
}
