//! Port of ggml-alloc's graph allocator (ggml/src/ggml-alloc.c at llama.cpp 0c1e570) for one
//! CPU buffer: the result is the `max_size` that `ggml_gallocr_reserve_n_size` reports.
//!
//! - `ggml_dyn_tallocr_alloc` (ggml-alloc.c:204): sizes padded to the alignment; best fit
//!   among the free blocks except the last (ties go to the later block), else the last block,
//!   which is unbounded (the CPU buffer type has no max size, so one chunk of SIZE_MAX/2).
//! - `ggml_dyn_tallocr_free_bytes` (ggml-alloc.c:314): merge with the block ending where the
//!   freed range starts or starting where it ends, then with that block's neighbour; else
//!   insert a block, keeping them sorted by offset.
//! - `ggml_gallocr_alloc_graph_impl` (ggml-alloc.c:718): leafs first, then INPUT-flagged nodes
//!   and sources while counting children and views, then each node after its sources; a
//!   source is freed when its last child ran and no view of it is left (a view's root when
//!   the root's last view is done). Outputs are never freed.
//! - `ggml_gallocr_allocate_node` (ggml-alloc.c:585): views and external tensors take no
//!   memory; an op that can run in place takes over a source's memory when that source is
//!   allocated here, not an output, has the same type, shape and strides, and this node is its
//!   only remaining child with no views (a view parent is never "own", so never reused).

use super::graph::{EXTERNAL, Graph, INPUT, Id, NONE, OUTPUT, Op};

/// Alignment of the CPU buffer type (`TENSOR_ALIGNMENT`, ggml-impl.h:44, returned by
/// `ggml_backend_cpu_buffer_type_get_alignment`, ggml-backend.cpp:2474).
pub const ALIGNMENT: u64 = 32;

fn pad(x: u64) -> u64 {
    x.saturating_add(ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT
}

/// The dynamic allocator of one chunk: free blocks sorted by offset, the last one unbounded.
#[derive(Default)]
pub struct Dyn {
    blocks: Vec<(u64, u64)>,
    /// Highest end offset ever allocated: the buffer size.
    pub max_size: u64,
}

impl Dyn {
    /// Starts over with one free block covering everything (`ggml_dyn_tallocr_new_chunk`).
    pub fn reset(&mut self) {
        self.blocks.clear();
        self.blocks.push((0, u64::MAX / 2));
        self.max_size = 0;
    }

    /// Allocates `size` bytes and returns the offset.
    pub fn alloc(&mut self, size: u64) -> u64 {
        let size = pad(size);
        let n = self.blocks.len();
        let mut best = None;
        let mut best_size = u64::MAX;
        for (i, &(_, bsize)) in self.blocks[..n.saturating_sub(1)].iter().enumerate() {
            if bsize >= size && bsize <= best_size {
                best = Some(i);
                best_size = bsize;
            }
        }
        let i = best.unwrap_or(n - 1);
        let b = &mut self.blocks[i];
        let addr = b.0;
        b.0 = b.0.saturating_add(size);
        b.1 = b.1.saturating_sub(size);
        if b.1 == 0 {
            self.blocks.remove(i);
        }
        self.max_size = self.max_size.max(addr.saturating_add(size));
        addr
    }

    /// Returns `size` bytes at `addr` to the free list.
    pub fn free(&mut self, addr: u64, size: u64) {
        let size = pad(size);
        for i in 0..self.blocks.len() {
            let (off, bsize) = self.blocks[i];
            if off.saturating_add(bsize) == addr {
                self.blocks[i].1 = bsize.saturating_add(size);
                if i + 1 < self.blocks.len() && self.blocks[i].0.saturating_add(self.blocks[i].1) == self.blocks[i + 1].0 {
                    self.blocks[i].1 = self.blocks[i].1.saturating_add(self.blocks[i + 1].1);
                    self.blocks.remove(i + 1);
                }
                return;
            }
            if addr.saturating_add(size) == off {
                self.blocks[i] = (addr, bsize.saturating_add(size));
                if i > 0 && self.blocks[i - 1].0.saturating_add(self.blocks[i - 1].1) == addr {
                    self.blocks[i - 1].1 = self.blocks[i - 1].1.saturating_add(self.blocks[i].1);
                    self.blocks.remove(i);
                }
                return;
            }
        }
        let pos = self.blocks.iter().position(|&(off, _)| off >= addr).unwrap_or(self.blocks.len());
        self.blocks.insert(pos, (addr, size));
    }
}

#[derive(Clone, Copy, Default)]
struct Hn {
    n_children: u32,
    n_views: u32,
    allocated: bool,
    addr: u64,
}

/// Graph allocator state, reusable across calls.
#[derive(Default)]
pub struct Gallocr {
    /// The buffer's allocator.
    pub dyn_alloc: Dyn,
    hn: Vec<Hn>,
}

impl Gallocr {
    /// Simulates `ggml_gallocr_reserve_n_size` on `g` and returns the buffer size.
    pub fn reserve(&mut self, g: &Graph) -> u64 {
        self.dyn_alloc.reset();
        self.hn.clear();
        self.hn.resize(g.t.len(), Hn::default());
        for &l in &g.leafs {
            self.allocate(g, l);
        }
        for &n in &g.nodes {
            let t = &g.t[n as usize];
            if t.view_src != NONE && t.op != Op::Leaf {
                self.hn[t.view_src as usize].n_views += 1;
            }
            if t.flags & INPUT != 0 {
                self.allocate(g, n);
            }
            for s in t.src.into_iter().filter(|&s| s != NONE) {
                self.hn[s as usize].n_children += 1;
                if g.t[s as usize].flags & INPUT != 0 {
                    self.allocate(g, s);
                }
            }
        }
        for &n in &g.nodes {
            let src = g.t[n as usize].src;
            for s in src.into_iter().filter(|&s| s != NONE) {
                self.allocate(g, s);
            }
            self.allocate(g, n);
            for p in src.into_iter().filter(|&s| s != NONE) {
                let h = &mut self.hn[p as usize];
                h.n_children = h.n_children.saturating_sub(1);
                if h.n_children != 0 || h.n_views != 0 {
                    continue;
                }
                let vs = g.t[p as usize].view_src;
                if vs != NONE {
                    let v = &mut self.hn[vs as usize];
                    v.n_views = v.n_views.saturating_sub(1);
                    if v.n_views == 0 && v.n_children == 0 && v.allocated {
                        self.free(g, vs);
                    }
                } else if h.allocated {
                    self.free(g, p);
                }
            }
        }
        self.dyn_alloc.max_size
    }

    fn allocate(&mut self, g: &Graph, id: Id) {
        let t = &g.t[id as usize];
        if self.hn[id as usize].allocated || t.flags & EXTERNAL != 0 || t.view_src != NONE {
            return;
        }
        self.hn[id as usize].allocated = true;
        if let Op::Compute { inplace: true } = t.op {
            for p in t.src.into_iter().filter(|&s| s != NONE) {
                let pt = &g.t[p as usize];
                let ph = self.hn[p as usize];
                if !ph.allocated || pt.flags & OUTPUT != 0 {
                    continue; // external or a view (never "own"), or an output
                }
                if pt.ty != t.ty || pt.ne != t.ne || pt.nb != t.nb {
                    continue;
                }
                if ph.n_children == 1 && ph.n_views == 0 {
                    // Same layout means same size: no extra space to give back.
                    self.hn[id as usize].addr = ph.addr;
                    self.hn[p as usize].allocated = false;
                    return;
                }
            }
        }
        self.hn[id as usize].addr = self.dyn_alloc.alloc(t.nbytes());
    }

    fn free(&mut self, g: &Graph, id: Id) {
        let t = &g.t[id as usize];
        if t.flags & OUTPUT != 0 {
            return;
        }
        let h = &mut self.hn[id as usize];
        self.dyn_alloc.free(h.addr, t.nbytes());
        h.allocated = false;
    }
}
