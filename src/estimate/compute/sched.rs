//! The compute buffers of several devices: a port of `ggml_backend_sched_split_graph`
//! (ggml/src/ggml-backend.cpp:1065-1605 at llama.cpp 0c1e570) and of ggml-alloc's allocation
//! over the scheduler's graph copy with one buffer per backend (`ggml_gallocr_reserve_n_size`,
//! ggml-alloc.c:718-820).
//!
//! Backends are the GPUs in device order, then the CPU, last (llama-context.cpp builds them so;
//! the scheduler takes the last as the CPU). The scheduler assigns every node a backend:
//! 1. a tensor in a buffer (weights, KV and recurrent caches, and views or writes of them) runs
//!    where its buffer is; a graph input runs on the CPU; an op reading a weight runs where the
//!    weight is, except ROPE and FLASH_ATTN_EXT (:921-975). llama.cpp pins some nodes first:
//!    each block's "norm" to its layer's device with every layer offloaded
//!    (llama-context.cpp:2643-2656), the attention output to the CPU without `offload_kqv`
//!    (llama-graph.cpp:2745-2749);
//! 2. GPU assignments spread down then up over unassigned nodes, then any backend's (:1124-1199);
//! 3. nodes still unassigned take the backend most of their inputs are on (:1210-1259);
//! 4. views follow their source, unassigned sources their consumer (:1262-1295).
//!
//! Then the graph is cut where the backend changes (or a weight lives elsewhere) and each
//! input from another backend gets a copy in the consuming backend's buffer, made once per
//! backend (:1297-1400). With pipeline parallelism (`n_copies` > 1) every graph input and every
//! split input is kept `n_copies` times, allocated before everything else and never freed
//! (:1404-1446, 1557-1585). The graph copy interleaves, per split, a dependency on each input
//! (so its source lives until copied) and the copy itself, then the split's nodes (:1506-1527).
//! No op is unsupported on RPC or CUDA devices for the graphs simulated (`supports_op`), and
//! RPC devices never take over CPU ops (`offload_op` is NULL in ggml-rpc.cpp:2262).

use super::alloc::Dyn;
use super::graph::{EXTERNAL, Graph, INPUT, Id, KQV_OUT, MAX_SRC, NONE, NORM, OUTPUT, Op, TOP, Tensor, UNPINNED};
use std::collections::HashMap;

/// Where a placement puts the tensors living in buffers.
pub struct Layout<'a> {
    /// GPUs (backends 0..n_gpus); the CPU is backend `n_gpus`.
    pub n_gpus: usize,
    /// Backend of block `il`'s layer; `il` = the number of blocks is the output layer.
    pub layer_dev: &'a dyn Fn(u32) -> usize,
    /// The backend an override (`-ot`, `--n-cpu-moe`) puts a weight in, by tensor name.
    pub weight_dev: &'a dyn Fn(&str) -> Option<usize>,
    /// The output layer's index for `layer_dev`.
    pub output_layer: u32,
    /// KV cache and recurrent state with their layer (not `--no-kv-offload`).
    pub offload_kqv: bool,
    /// `n_gpu_layers > n_layer_all`: llama.cpp pins each block's norm to its device.
    pub full_offload: bool,
    /// `GGML_SCHED_MAX_COPIES` with pipeline parallelism, else 1.
    pub n_copies: usize,
    /// Keep llama.cpp's own assignments (the norms, the attention output). A real reservation
    /// (`ggml_backend_sched_reserve`) keeps them; the no_alloc measure `--fit` and the oracle
    /// take (`ggml_backend_sched_reserve_size`, ggml-backend.cpp:1977-1989) first resets the
    /// scheduler, and `ggml_backend_sched_set_tensor_backend` (:2104-2111) has marked it as
    /// not reset, so they are cleared.
    pub pins: bool,
}

const UNSET: usize = usize::MAX;

/// Compute buffer bytes per backend (GPUs, then the CPU) for graph `g` built with `track`.
pub fn sizes(g: &Graph, lay: &Layout) -> Vec<u64> {
    let cpu = lay.n_gpus;
    let n_back = cpu + 1;
    let mut t: Vec<Tensor> = g.t.clone();
    let layer = |id: Id| g.layer.get(id as usize).copied().unwrap_or(TOP);
    // Devices of the tensors that live in buffers.
    let mut buf_dev = vec![UNSET; t.len()];
    for (i, x) in g.t.iter().enumerate() {
        if x.flags & EXTERNAL == 0 {
            continue;
        }
        let l = layer(i as Id);
        buf_dev[i] = match g.weight_names.get(&(i as Id)) {
            Some(name) => match (lay.weight_dev)(name) {
                Some(d) => d,
                None if name == "token_embd.weight" => cpu,
                None if name.starts_with("blk.") => (lay.layer_dev)(l),
                None if name.starts_with("output") => (lay.layer_dev)(lay.output_layer),
                // Other top-level weights used in a block (rope_freqs) are loaded once per
                // layer buffer (TENSOR_DUPLICATED).
                None if l != TOP => (lay.layer_dev)(l),
                None => (lay.layer_dev)(lay.output_layer),
            },
            None if lay.offload_kqv && l != TOP => (lay.layer_dev)(l),
            None => cpu,
        }
        .min(cpu);
    }
    let is_weight = |id: Id| g.weight_names.contains_key(&id);
    let root = |t: &[Tensor], id: Id| if t[id as usize].view_src != NONE { t[id as usize].view_src } else { id };
    let buffer_of = |t: &[Tensor], id: Id| {
        let r = root(t, id) as usize;
        (r < buf_dev.len() && buf_dev[r] != UNSET).then(|| buf_dev[r])
    };
    let is_view_op = |x: &Tensor| x.op == Op::View;

    let mut tb = vec![UNSET; t.len()];
    // llama.cpp's own assignments, made while the graph was built.
    for &n in g.nodes.iter().filter(|_| lay.pins) {
        let x = &g.t[n as usize];
        if x.flags & NORM != 0 && lay.full_offload && layer(n) != TOP {
            tb[n as usize] = (lay.layer_dev)(layer(n)).min(cpu);
        }
        if x.flags & KQV_OUT != 0 && !lay.offload_kqv {
            tb[n as usize] = cpu;
        }
    }
    let from_cur = |t: &[Tensor], id: Id| -> usize {
        if let Some(d) = buffer_of(t, id) {
            return d;
        }
        let x = &t[id as usize];
        if x.flags & INPUT != 0 {
            return cpu;
        }
        if x.flags & UNPINNED == 0 {
            for s in x.src.into_iter().filter(|&s| s != NONE) {
                let sx = &t[s as usize];
                if sx.flags & EXTERNAL != 0 && sx.view_src == NONE && is_weight(s) {
                    return buf_dev[s as usize];
                }
            }
        }
        UNSET
    };
    // Pass 1.
    for &l in g.leafs.iter().chain(&g.nodes) {
        if tb[l as usize] == UNSET {
            tb[l as usize] = from_cur(&t, l);
        }
    }
    // Pass 2: spread GPUs down, up, then any backend down, up.
    let order_down: Vec<Id> = g.nodes.iter().copied().filter(|&n| !is_view_op(&t[n as usize])).collect();
    for (reverse, skip_cpu) in [(false, true), (true, true), (false, false), (true, false)] {
        let mut cur = UNSET;
        let mut visit = |n: Id| {
            let b = tb[n as usize];
            if b != UNSET {
                cur = if skip_cpu && b == cpu { UNSET } else { b };
            } else if cur != UNSET {
                tb[n as usize] = cur;
            }
        };
        if reverse {
            order_down.iter().rev().for_each(|&n| visit(n));
        } else {
            order_down.iter().for_each(|&n| visit(n));
        }
    }
    // Whether backend `b` can use `id` where it is: its buffer's device, or its backend's.
    let supported = |t: &[Tensor], tb: &[usize], id: Id, b: usize| -> bool {
        let dev = buffer_of(t, id).unwrap_or_else(|| {
            let own = tb[id as usize];
            let vs = t[id as usize].view_src;
            if own == UNSET && vs != NONE { tb[vs as usize] } else { own }
        });
        dev != UNSET && dev == b
    };
    // Pass 3: nodes no expansion reached take the backend holding most of their inputs.
    for &n in &order_down {
        if tb[n as usize] != UNSET {
            continue; // upgrades need two backends sharing a buffer type: none here
        }
        let mut best: Option<(usize, usize)> = None;
        for b in 0..n_back {
            let ok = t[n as usize]
                .src
                .into_iter()
                .filter(|&s| s != NONE)
                .filter(|&s| {
                    let vs = t[s as usize].view_src;
                    (tb[s as usize] != UNSET || (vs != NONE && tb[vs as usize] != UNSET)) && supported(&t, &tb, s, b)
                })
                .count();
            if best.is_none_or(|(_, c)| ok > c) {
                best = Some((b, ok));
            }
        }
        tb[n as usize] = best.map_or(0, |(b, _)| b);
    }
    // Pass 4: views with their source, unassigned sources with their consumer.
    for &n in &g.nodes {
        let vs = t[n as usize].view_src;
        if vs != NONE && tb[n as usize] == UNSET {
            tb[n as usize] = tb[vs as usize];
        }
        for s in t[n as usize].src.into_iter().filter(|&s| s != NONE) {
            if tb[s as usize] == UNSET {
                let svs = t[s as usize].view_src;
                tb[s as usize] = if svs != NONE { tb[svs as usize] } else { tb[n as usize] };
            }
        }
        if tb[n as usize] == UNSET {
            tb[n as usize] = 0;
        }
    }

    // Pass 5: splits and the copies of their inputs.
    struct Split {
        backend: usize,
        start: usize,
        end: usize,
        inputs: Vec<Id>,
    }
    let mut copies: HashMap<(Id, usize), Vec<Id>> = HashMap::new();
    let mut splits: Vec<Split> = Vec::new();
    let first = g.nodes.iter().position(|&n| !is_view_op(&t[n as usize]));
    if let Some(first) = first {
        let mut cur = tb[g.nodes[first] as usize];
        splits.push(Split { backend: cur, start: 0, end: g.nodes.len(), inputs: Vec::new() });
        for i in first..g.nodes.len() {
            let n = g.nodes[i];
            if is_view_op(&t[n as usize]) {
                continue;
            }
            let nb = tb[n as usize];
            let last = splits.len() - 1;
            let need_new = nb == cur
                && !splits[last].inputs.is_empty()
                && t[n as usize]
                    .src
                    .into_iter()
                    .filter(|&s| s != NONE)
                    .any(|s| t[s as usize].flags & EXTERNAL != 0 && is_weight(s) && tb[s as usize] != cur && !supported(&t, &tb, s, cur));
            if nb != cur || need_new {
                splits[last].end = i;
                splits.push(Split { backend: nb, start: i, end: g.nodes.len(), inputs: Vec::new() });
                cur = nb;
            }
            for j in 0..MAX_SRC {
                let s = t[n as usize].src[j];
                if s == NONE {
                    continue;
                }
                if tb[s as usize] != cur && !supported(&t, &tb, s, cur) {
                    let key = (s, cur);
                    if let std::collections::hash_map::Entry::Vacant(e) = copies.entry(key) {
                        let src = t[s as usize].clone();
                        let ids: Vec<Id> = (0..lay.n_copies.max(1))
                            .map(|_| {
                                let flags = if lay.n_copies > 1 { INPUT | OUTPUT } else { 0 };
                                t.push(Tensor { ne: src.ne, nb: src.nb, ty: src.ty, op: Op::Leaf, src: [NONE; MAX_SRC], view_src: NONE, flags });
                                tb.push(cur);
                                (t.len() - 1) as Id
                            })
                            .collect();
                        e.insert(ids);
                        let last = splits.len() - 1;
                        splits[last].inputs.push(s);
                    }
                    t[n as usize].src[j] = copies[&key][0];
                }
            }
        }
    }
    // Pass 6: with pipeline parallelism, every graph input is kept n_copies times.
    let mut graph_inputs: Vec<(Id, Vec<Id>)> = Vec::new();
    if lay.n_copies > 1 {
        for &l in &g.leafs {
            if t[l as usize].flags & INPUT == 0 {
                continue;
            }
            t[l as usize].flags |= OUTPUT;
            let mut ids = vec![l];
            for _ in 1..lay.n_copies {
                let x = t[l as usize].clone();
                t.push(Tensor { src: [NONE; MAX_SRC], view_src: NONE, op: Op::Leaf, flags: INPUT | OUTPUT, ..x });
                tb.push(tb[l as usize]);
                ids.push((t.len() - 1) as Id);
            }
            graph_inputs.push((l, ids));
        }
    }

    // The scheduler's graph copy.
    let mut nodes: Vec<(Id, usize)> = Vec::with_capacity(g.nodes.len());
    for sp in &splits {
        for &input in &sp.inputs {
            let x = t[input as usize].clone();
            let mut src = [NONE; MAX_SRC];
            src[0] = input;
            // ggml_view_tensor(input): an op-less view whose only source is the input.
            t.push(Tensor { src, view_src: root(&t, input), op: Op::Leaf, flags: 0, ..x });
            tb.push(tb[input as usize]);
            nodes.push(((t.len() - 1) as Id, tb[input as usize]));
            nodes.push((copies[&(input, sp.backend)][0], sp.backend));
        }
        for &n in &g.nodes[sp.start..sp.end] {
            nodes.push((n, tb[n as usize]));
        }
    }
    let mut leafs: Vec<(Id, usize)> = Vec::new();
    if lay.n_copies > 1 {
        for (l, ids) in &graph_inputs {
            leafs.extend(ids.iter().map(|&c| (c, tb[*l as usize])));
        }
        for sp in &splits {
            for &input in &sp.inputs {
                leafs.extend(copies[&(input, sp.backend)].iter().map(|&c| (c, sp.backend)));
            }
        }
    }
    leafs.extend(g.leafs.iter().map(|&l| (l, tb[l as usize])));
    // A leaf no node reads keeps no backend (ggml asserts on it; none is allocated here).
    let on = |v: &mut Vec<(Id, usize)>| v.iter_mut().for_each(|x| x.1 = x.1.min(cpu));
    on(&mut leafs);
    on(&mut nodes);
    Multi::new(t.len(), n_back).reserve(&t, &leafs, &nodes)
}

#[derive(Clone, Copy, Default)]
struct Hn {
    n_children: u32,
    n_views: u32,
    allocated: bool,
    buffer: usize,
    addr: u64,
}

/// ggml-alloc with one dynamic allocator per backend buffer.
struct Multi {
    bufs: Vec<Dyn>,
    hn: Vec<Hn>,
}

impl Multi {
    fn new(n: usize, n_back: usize) -> Self {
        let mut bufs: Vec<Dyn> = (0..n_back).map(|_| Dyn::default()).collect();
        bufs.iter_mut().for_each(Dyn::reset);
        Multi { bufs, hn: vec![Hn::default(); n] }
    }

    /// `ggml_gallocr_alloc_graph_impl` over (tensor, buffer) lists; the size of each buffer.
    fn reserve(mut self, t: &[Tensor], leafs: &[(Id, usize)], nodes: &[(Id, usize)]) -> Vec<u64> {
        for &(l, b) in leafs {
            self.allocate(t, l, b);
        }
        for &(n, b) in nodes {
            let x = &t[n as usize];
            if x.view_src != NONE && x.op != Op::Leaf {
                self.hn[x.view_src as usize].n_views += 1;
            }
            if x.flags & INPUT != 0 {
                self.allocate(t, n, b);
            }
            for s in x.src.into_iter().filter(|&s| s != NONE) {
                self.hn[s as usize].n_children += 1;
                if t[s as usize].flags & INPUT != 0 {
                    self.allocate(t, s, b);
                }
            }
        }
        for &(n, b) in nodes {
            let src = t[n as usize].src;
            for s in src.into_iter().filter(|&s| s != NONE) {
                self.allocate(t, s, b);
            }
            self.allocate(t, n, b);
            for p in src.into_iter().filter(|&s| s != NONE) {
                let h = &mut self.hn[p as usize];
                h.n_children = h.n_children.saturating_sub(1);
                if h.n_children != 0 || h.n_views != 0 {
                    continue;
                }
                let vs = t[p as usize].view_src;
                if vs != NONE {
                    let v = &mut self.hn[vs as usize];
                    v.n_views = v.n_views.saturating_sub(1);
                    if v.n_views == 0 && v.n_children == 0 && v.allocated {
                        self.free(t, vs);
                    }
                } else if h.allocated {
                    self.free(t, p);
                }
            }
        }
        self.bufs.iter().map(|d| d.max_size).collect()
    }

    fn allocate(&mut self, t: &[Tensor], id: Id, buffer: usize) {
        let x = &t[id as usize];
        if self.hn[id as usize].allocated || x.flags & EXTERNAL != 0 || x.view_src != NONE {
            return;
        }
        self.hn[id as usize].allocated = true;
        if let Op::Compute { inplace: true } = x.op {
            for p in x.src.into_iter().filter(|&s| s != NONE) {
                let pt = &t[p as usize];
                let ph = self.hn[p as usize];
                if !ph.allocated || pt.flags & OUTPUT != 0 || pt.ty != x.ty || pt.ne != x.ne || pt.nb != x.nb {
                    continue;
                }
                if ph.n_children == 1 && ph.n_views == 0 {
                    self.hn[id as usize].addr = ph.addr;
                    self.hn[id as usize].buffer = ph.buffer;
                    self.hn[p as usize].allocated = false;
                    return;
                }
            }
        }
        self.hn[id as usize].buffer = buffer;
        self.hn[id as usize].addr = self.bufs[buffer].alloc(x.nbytes());
    }

    fn free(&mut self, t: &[Tensor], id: Id) {
        if t[id as usize].flags & OUTPUT != 0 {
            return;
        }
        let h = &mut self.hn[id as usize];
        self.bufs[h.buffer].free(h.addr, t[id as usize].nbytes());
        h.allocated = false;
    }
}
