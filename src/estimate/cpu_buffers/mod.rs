//! Which of llama.cpp's CPU weight buffers each tensor lands in: `CPU_REPACK` (ggml-cpu's extra
//! buffer type, weights rearranged for its SIMD matmul kernels) or the plain `CPU` buffer, which
//! with mmap is a `CPU_Mapped` window onto the file (docs/llama-cpp-memory.md section 7.5).
//!
//! llama.cpp probes each weight with the op it is used in (`weight_buft_supported`) against the
//! CPU buffer-type list, extra types first; the repack type accepts a 2-D MUL_MAT or 3-D
//! MUL_MAT_ID weight when `ggml_repack_get_optimal_repack_type` has a layout for its type on this
//! CPU, which also depends on the row count `ne[1]`.

mod matmul_names;
mod split;

pub use split::{CpuWeights, cpu_weights};

use crate::read::GgmlType;
use serde::Serialize;

/// The CPU features that change what ggml-cpu repacks (repack.cpp
/// `ggml_repack_get_optimal_repack_type`). Finer distinctions (i8mm, SVE) change only the
/// layout chosen, never whether a tensor repacks, so they share a kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum CpuKind {
    /// x86-64 with AVX2 (most desktops and servers): Q4_0, Q4_K, IQ4_NL, MXFP4 repack.
    #[default]
    #[cfg_attr(feature = "cli", value(name = "x86-avx2"))]
    #[serde(rename = "x86-avx2")]
    X86Avx2,
    /// x86-64 with AVX-512F: Q2_K repacks as well.
    #[cfg_attr(feature = "cli", value(name = "x86-avx512"))]
    #[serde(rename = "x86-avx512")]
    X86Avx512,
    /// ARM64 with NEON and dotprod (Apple Silicon, Graviton, Ampere, Snapdragon X; with or
    /// without i8mm / SVE): Q4_0, Q4_K, Q5_K, Q6_K, Q8_0, Q1_0, IQ4_NL, MXFP4 repack.
    #[cfg_attr(feature = "cli", value(name = "arm", alias = "apple", alias = "arm-i8mm", alias = "arm-dotprod", alias = "arm-neon-dotprod"))]
    #[serde(rename = "arm")]
    Arm,
    /// Nothing repacks: x86 without AVX2, ARM without dotprod, a build without GGML_CPU_REPACK.
    #[cfg_attr(feature = "cli", value(name = "none", alias = "x86", alias = "x86-noavx2"))]
    #[serde(rename = "none")]
    None,
}

/// How a weight is multiplied: `ggml_mul_mat` (2-D) or `ggml_mul_mat_id` (3-D, experts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatOp {
    /// MUL_MAT.
    Mat,
    /// MUL_MAT_ID.
    Id,
}

/// The matmul a weight is probed with, from its name (`None`: not a matmul weight: norms,
/// embeddings looked up by GET_ROWS, biases, convolutions...).
pub fn matmul_op(name: &str) -> Option<MatOp> {
    let base = name.strip_suffix(".weight")?;
    matmul_names::MATMUL.iter().find(|(tmpl, _)| matches_template(tmpl, base)).map(|&(_, op)| op)
}

/// `blk.%d.attn_q` matches `blk.12.attn_q`.
fn matches_template(tmpl: &str, name: &str) -> bool {
    match tmpl.split_once("%d") {
        None => tmpl == name,
        Some((pre, post)) => {
            name.strip_prefix(pre).and_then(|rest| rest.strip_suffix(post)).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        }
    }
}

/// `ggml_n_dims`: dimensions up to the last one above 1.
fn n_dims(dims: &[u64]) -> usize {
    dims.iter().rposition(|&d| d > 1).map_or(1, |i| i + 1)
}

/// Row-count divisor `ggml_repack_get_optimal_repack_type` needs for `ty` on `kind`, `None`
/// when it has no layout for the type there (repack.cpp; the x86 branches test AVX2/AVX-512F
/// at compile time, the ARM ones NEON + dotprod, i8mm or SVE only picking wider layouts).
fn row_divisor(kind: CpuKind, ty: GgmlType) -> Option<u64> {
    let name = ty.traits()?.name;
    match kind {
        CpuKind::None => None,
        CpuKind::X86Avx2 | CpuKind::X86Avx512 => match name {
            "Q4_0" | "Q4_K" | "IQ4_NL" | "MXFP4" => Some(8),
            "Q2_K" if kind == CpuKind::X86Avx512 => Some(8),
            _ => None,
        },
        // i8mm: Q4_0 4x8 (% 4), K-quants 8x8 (% 8); dotprod: the same divisors with narrower
        // layouts, and IQ4_NL / MXFP4 (% 4). SVE-256 tries Q4_0 8x8 (% 8) first, then falls back.
        CpuKind::Arm => match name {
            "Q4_0" | "Q8_0" | "Q1_0" | "IQ4_NL" | "MXFP4" => Some(4),
            "Q4_K" | "Q5_K" | "Q6_K" => Some(8),
            _ => None,
        },
    }
}

/// True when llama.cpp puts a weight of this type and shape, used by `op`, in CPU_REPACK
/// (repack.cpp `extra_buffer_type::supports_op`: MUL_MAT on a 2-D weight, MUL_MAT_ID on a 3-D one).
pub fn repacks(kind: CpuKind, ty: GgmlType, dims: &[u64], op: MatOp) -> bool {
    let want = match op {
        MatOp::Mat => 2,
        MatOp::Id => 3,
    };
    let ne1 = dims.get(1).copied().unwrap_or(1);
    n_dims(dims) == want && row_divisor(kind, ty).is_some_and(|d| ne1 % d == 0)
}

#[cfg(test)]
mod tests;
