//! The CPU weight buffers of a model loaded wholly on the CPU: CPU_REPACK, CPU, and with mmap
//! the CPU_Mapped window (docs/llama-cpp-memory.md section 7.5).

use super::{CpuKind, MatOp, matmul_op, repacks};
use crate::estimate::weights::{buffer_bytes, is_loaded, is_tied};
use crate::model::Geometry;
use crate::read::TensorEntry;
use serde::Serialize;
use std::collections::BTreeMap;

/// What llama.cpp's CPU weight buffers hold when every layer is on the CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CpuWeights {
    /// `CPU_REPACK`: repacked matmul weights (same size as in the file, each padded to 32 bytes),
    /// plus the output copy of a tied token embedding when its type repacks.
    pub repack_bytes: u64,
    /// `CPU` (without mmap; what `--fit` measures): every other loaded tensor, padded.
    pub cpu_bytes: u64,
    /// The output copy of a tied token embedding (in `repack_bytes`, not in the file's tensors).
    pub tied_copy_bytes: u64,
    /// `CPU_Mapped` with mmap: per file, the span from the first to the end of the last tensor
    /// of the CPU buffer (`get_mapping_range`), repacked tensors lying between them included.
    pub mapped_bytes: u64,
    /// Bytes of repacked tensors inside that span: read through the map once while loading.
    pub mapped_repacked_bytes: u64,
}

/// One file's CPU-buffer span so far.
#[derive(Clone, Copy)]
struct Span {
    first: u64,
    last: u64,
}

/// Splits the loaded tensors between CPU_REPACK and CPU for `kind`, and measures the mapped span.
pub fn cpu_weights(tensors: &[TensorEntry], g: &Geometry, load_mtp: bool, kind: CpuKind) -> CpuWeights {
    let mut w = CpuWeights::default();
    // One entry per file holding a CPU tensor: bounded by the tensors, not by a count read.
    let mut spans: BTreeMap<usize, Span> = BTreeMap::new();
    let loaded = |t: &&TensorEntry| load_mtp || is_loaded(t, g);
    let repacked = |t: &TensorEntry| matmul_op(&t.name).is_some_and(|op| repacks(kind, t.ggml_type, &t.dims, op));
    for t in tensors.iter().filter(loaded) {
        if repacked(t) {
            w.repack_bytes = w.repack_bytes.saturating_add(buffer_bytes(t));
            continue;
        }
        w.cpu_bytes = w.cpu_bytes.saturating_add(buffer_bytes(t));
        let end = t.offset.saturating_add(t.bytes);
        let s = spans.entry(t.shard).or_insert(Span { first: t.offset, last: end });
        *s = Span { first: s.first.min(t.offset), last: s.last.max(end) };
    }
    // A tied output is created a second time (TENSOR_DUPLICATED) under the output's buffer list
    // with MUL_MAT; when that picks CPU_REPACK it is a separate tensor there.
    let embd = tensors.iter().find(|t| t.name == "token_embd.weight");
    if let Some(e) = embd.filter(|e| is_tied(tensors) && repacks(kind, e.ggml_type, &e.dims, MatOp::Mat)) {
        w.tied_copy_bytes = buffer_bytes(e);
        w.repack_bytes = w.repack_bytes.saturating_add(w.tied_copy_bytes);
    }
    w.mapped_bytes = spans.values().map(|s| s.last - s.first).fold(0, u64::saturating_add);
    w.mapped_repacked_bytes = tensors
        .iter()
        .filter(loaded)
        .filter(|t| repacked(t))
        .filter(|t| spans.get(&t.shard).is_some_and(|s| t.offset >= s.first && t.offset.saturating_add(t.bytes) <= s.last))
        .map(|t| t.bytes)
        .fold(0, u64::saturating_add);
    w
}
