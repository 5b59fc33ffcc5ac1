//! mmproj (`general.architecture = clip`) files: the vision tower and its projector.

use super::geometry::VisionGeometry;
use crate::read::{Header, TensorEntry};

/// Summarises a clip file's vision tower (keys from llama.cpp `tools/mtmd/clip-impl.h`).
pub fn vision_geometry(h: &Header, tensors: &[TensorEntry]) -> VisionGeometry {
    let get = |k: &str| h.get(k).and_then(|v| v.as_u64());
    let counted = tensors.iter().filter_map(|t| t.name.strip_prefix("v.blk.")?.split('.').next()?.parse::<u64>().ok()).max().map_or(0, |m| m.saturating_add(1));
    VisionGeometry {
        projector_type: h.get("clip.projector_type").and_then(|v| v.as_str()).map(str::to_owned),
        n_layers: get("clip.vision.block_count").unwrap_or(counted),
        n_embd: get("clip.vision.embedding_length").unwrap_or(0),
        projection_dim: get("clip.vision.projection_dim").unwrap_or(0),
        bytes: tensors.iter().map(|t| t.bytes).fold(0, u64::saturating_add),
        image_size: get("clip.vision.image_size").unwrap_or(0),
        patch_size: get("clip.vision.patch_size").unwrap_or(0),
        n_head: get("clip.vision.attention.head_count").unwrap_or(0),
        n_ff: get("clip.vision.feed_forward_length").unwrap_or(0),
        spatial_merge: get("clip.vision.spatial_merge_size"),
        deepstack_layers: deepstack_layers(tensors),
    }
}

/// Distinct blocks carrying deepstack tensors (`v.deepstack.N.norm/fc1/fc2`).
fn deepstack_layers(tensors: &[TensorEntry]) -> u64 {
    let mut ids: Vec<&str> = tensors.iter().filter_map(|t| t.name.strip_prefix("v.deepstack.")?.split('.').next()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len() as u64
}
