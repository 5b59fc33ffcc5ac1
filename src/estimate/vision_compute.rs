//! The compute buffer of an mmproj's clip context (llama.cpp tools/mtmd/clip.cpp).
//!
//! llama-server creates the clip context at start-up and runs a warm-up: it builds the
//! encoder graph for one dummy square image and `ggml_backend_sched_reserve`s it. The
//! image is not the largest one the projector accepts: for Qwen-VL types clip.cpp fixes it
//! at 46x46 output tokens "to avoid OOM on warmup" (`set_warmup_n_tokens(46*46)`), whatever
//! `--image-max-tokens` says. A larger image later grows the scheduler's buffer to that
//! image's graph, so both figures are given: the warm-up reservation (allocated at start,
//! and what llama-server's `--fit` counts) and the size after the largest allowed image.
//!
//! Only projector types whose graph was measured (scripts/oracle/oracle_mmproj.cpp,
//! fixtures/oracle/mmproj-*.json) are modelled; for any other the size is unknown.

use crate::model::VisionGeometry;
use serde::Serialize;

/// llama-server's mmproj flags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MmprojSettings {
    /// `--mmproj-offload` (default) / `--no-mmproj-offload`: weights and compute on the GPU.
    pub offload: bool,
    /// `--image-max-tokens`: output tokens of the largest image (`None`: the projector's default).
    pub image_max_tokens: Option<u64>,
}

impl Default for MmprojSettings {
    /// llama-server's defaults (common/common.h: `mmproj_use_gpu = true`, `image_max_tokens = -1`).
    fn default() -> Self {
        MmprojSettings { offload: true, image_max_tokens: None }
    }
}

/// A vision projector loaded next to the model: what a footprint needs from it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Mmproj {
    /// Weight buffer bytes (all tensors: mtmd loads the file whole); 0 = no mmproj.
    pub weights_bytes: u64,
    /// Its geometry; `None` leaves the compute buffer unknown (when `weights_bytes > 0`).
    pub vision: Option<VisionGeometry>,
    /// The mmproj flags.
    pub settings: MmprojSettings,
}

impl From<u64> for Mmproj {
    /// Weights only, compute unknown: for callers that know no geometry.
    fn from(weights_bytes: u64) -> Self {
        Mmproj { weights_bytes, ..Mmproj::default() }
    }
}

impl From<&Mmproj> for Mmproj {
    fn from(m: &Mmproj) -> Self {
        m.clone()
    }
}

/// The clip context's compute buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct VisionCompute {
    /// Output tokens of the warm-up image.
    pub warmup_tokens: u64,
    /// Patches of the warm-up image (the encoder's sequence length).
    pub warmup_patches: u64,
    /// Buffer reserved at start-up.
    pub warmup_bytes: u64,
    /// Output tokens of the largest image allowed.
    pub max_tokens: u64,
    /// Buffer after encoding the largest image (never below the warm-up reservation).
    pub max_bytes: u64,
    /// Flash attention in the encoder (clip tries it and keeps it where the backend has it).
    pub flash_attn: bool,
}

/// Why the compute buffer of an mmproj is not estimated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisionComputeError {
    /// A projector type whose graph gguf-meter has not measured.
    #[error("projector type {0:?}: its compute buffer is not modelled by gguf-meter (weights are counted)")]
    Unknown(String),
    /// Geometry no real vision tower has.
    #[error("implausible vision geometry: {0}")]
    Implausible(String),
}

/// Side of the Qwen-VL warm-up image in output tokens (clip.cpp `set_warmup_n_tokens(46*46)`).
const QWEN_WARMUP_SIDE: u64 = 46;
/// Qwen-VL's default `image_max_tokens` (clip.cpp `set_limit_image_tokens(8, 4096)`).
const QWEN_MAX_TOKENS: u64 = 4096;

/// The compute buffer for `v` with flash attention `flash_attn` (`-fa auto` counts as on).
pub fn vision_compute(v: &VisionGeometry, flash_attn: bool, s: &MmprojSettings) -> Result<VisionCompute, VisionComputeError> {
    let kind = v.projector_type.as_deref().unwrap_or("");
    if kind != "qwen3vl_merger" {
        return Err(VisionComputeError::Unknown(if kind.is_empty() { "(none)".into() } else { kind.into() }));
    }
    if v.deepstack_layers > 0 {
        return Err(VisionComputeError::Unknown(format!("{kind} with {} deepstack layers", v.deepstack_layers)));
    }
    let warmup_tokens = QWEN_WARMUP_SIDE * QWEN_WARMUP_SIDE;
    let warmup_bytes = image_bytes(v, warmup_tokens, flash_attn)?;
    let max_tokens = s.image_max_tokens.filter(|&t| t > 0).unwrap_or(QWEN_MAX_TOKENS);
    let at_max = image_bytes(v, max_tokens, flash_attn)?;
    let warmup_patches = warmup_tokens.saturating_mul(merge_area(v));
    Ok(VisionCompute { warmup_tokens, warmup_patches, warmup_bytes, max_tokens, max_bytes: at_max.max(warmup_bytes), flash_attn })
}

/// Patches per output token (`spatial_merge_size`², default 2x2).
fn merge_area(v: &VisionGeometry) -> u64 {
    let m = v.spatial_merge.unwrap_or(2).max(1);
    m.saturating_mul(m)
}

/// The compute buffer the encoder graph of one image of `tokens` output tokens needs.
pub fn image_bytes(v: &VisionGeometry, tokens: u64, flash_attn: bool) -> Result<u64, VisionComputeError> {
    match v.projector_type.as_deref() {
        Some("qwen3vl_merger") if v.deepstack_layers == 0 => {}
        other => return Err(VisionComputeError::Unknown(other.unwrap_or("(none)").into())),
    }
    plausible(v)?;
    Ok(qwen3vl_bytes(v, tokens.saturating_mul(merge_area(v)), flash_attn))
}

/// Peak live bytes of clip.cpp's qwen3vl graph (models/qwen3vl.cpp) over `n` patches, as
/// ggml's graph allocator packs it. Per patch, in f32 elements, with E = width, F = FFN width:
/// the raw image (3·p² pixels) and the M-RoPE positions (4) live throughout; on top of them
/// the larger of the attention step (residual, fused QKV, roped Q and K, f16 casts: 6E; with
/// flash attention off 7E plus the n·heads score row) and the FFN step (F + 2E). When E fits
/// in the raw image's block (E ≤ 3·p²) the allocator reuses it once the patches are embedded,
/// saving E/2 (attention, flash on), E (flash off) and E (FFN). Exact on every measured case.
fn qwen3vl_bytes(v: &VisionGeometry, n: u64, flash_attn: bool) -> u64 {
    let (e, p2) = (v.n_embd, 3 * v.patch_size * v.patch_size);
    let hole = e <= p2;
    let attn = if flash_attn { 6 * e - if hole { e / 2 } else { 0 } } else { (7 * e - if hole { e } else { 0 }).saturating_add(v.n_head.saturating_mul(n)) };
    let ffn = v.n_ff + 2 * e - if hole { e } else { 0 };
    let per_patch = (p2 + 4).saturating_add(attn.max(ffn));
    per_patch.saturating_mul(n).saturating_mul(4)
}

/// Largest width, FFN width, head count and patch side of any real vision tower, with room.
const MAX_VISION_DIM: u64 = 1 << 20;

fn plausible(v: &VisionGeometry) -> Result<(), VisionComputeError> {
    for (what, x) in [
        ("embedding_length", v.n_embd),
        ("feed_forward_length", v.n_ff),
        ("head_count", v.n_head),
        ("patch_size", v.patch_size),
        ("spatial_merge_size", v.spatial_merge.unwrap_or(2)),
    ] {
        if x == 0 || x > MAX_VISION_DIM || (what == "patch_size" && x > 1024) || (what == "spatial_merge_size" && x > 64) {
            return Err(VisionComputeError::Implausible(format!("clip.vision.{what} = {x}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::analyze;
    use crate::read::open_model;

    fn qwen35() -> VisionGeometry {
        let set = open_model(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mmproj-qwen35-f16.gguf")).unwrap();
        let tensors = set.tensors();
        analyze(set.metadata(), &tensors).vision.unwrap()
    }

    #[test]
    fn qwen35_warmup_is_llama_cpps_figure() {
        // fixtures/oracle/mmproj-qwen35-f16.json: 1472x1472 warm-up image, 8464 patches.
        let d = MmprojSettings::default();
        let on = vision_compute(&qwen35(), true, &d).unwrap();
        assert_eq!((on.warmup_tokens, on.warmup_patches, on.warmup_bytes), (2116, 8464, 260_149_504));
        assert_eq!((on.max_tokens, on.max_bytes), (4096, 503_578_624));
        let off = vision_compute(&qwen35(), false, &d).unwrap();
        assert_eq!((off.warmup_bytes, off.max_bytes), (4_884_066_560, 17_758_945_280));
    }

    #[test]
    fn image_max_tokens_moves_only_the_largest_image() {
        let small = vision_compute(&qwen35(), true, &MmprojSettings { offload: true, image_max_tokens: Some(256) }).unwrap();
        assert_eq!((small.warmup_bytes, small.max_bytes), (260_149_504, 260_149_504));
        assert_eq!(image_bytes(&qwen35(), 256, true).unwrap(), 31_473_664);
    }

    #[test]
    fn unmodelled_projectors_are_unknown() {
        let d = MmprojSettings::default();
        let other = VisionGeometry { projector_type: Some("gemma3".into()), ..qwen35() };
        assert!(matches!(vision_compute(&other, true, &d), Err(VisionComputeError::Unknown(_))));
        let deep = VisionGeometry { deepstack_layers: 3, ..qwen35() };
        assert!(matches!(vision_compute(&deep, true, &d), Err(VisionComputeError::Unknown(_))));
        let none = VisionGeometry { projector_type: None, ..qwen35() };
        assert!(vision_compute(&none, true, &d).is_err());
    }

    #[test]
    fn hostile_geometry_is_refused_not_overflowed() {
        let d = MmprojSettings::default();
        let huge = VisionGeometry { n_embd: u64::MAX, ..qwen35() };
        assert!(matches!(vision_compute(&huge, false, &d), Err(VisionComputeError::Implausible(_))));
        let zero = VisionGeometry { patch_size: 0, ..qwen35() };
        assert!(matches!(vision_compute(&zero, true, &d), Err(VisionComputeError::Implausible(_))));
        let many = MmprojSettings { offload: true, image_max_tokens: Some(u64::MAX) };
        assert!(vision_compute(&qwen35(), false, &many).unwrap().max_bytes > 0);
    }
}
