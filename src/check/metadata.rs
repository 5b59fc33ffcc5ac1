//! Metadata rules: what llama.cpp needs to load the file, and whether an mmproj matches its model.

use super::finding::Finding;
use crate::model::Geometry;
use crate::read::ShardSet;

/// Keys and tokenizer llama.cpp needs for this file's architecture.
pub fn rules(set: &ShardSet, out: &mut Vec<Finding>) {
    let first = &set.files[0];
    let h = &first.header;
    let Some(arch) = h.get("general.architecture").and_then(|v| v.as_str()) else {
        out.push(Finding::error("required-key", &first.path, None, "no general.architecture key: llama.cpp cannot tell what model this is"));
        return;
    };
    if arch == "clip" {
        return;
    }
    let has = |k: &str| h.get(k).is_some();
    for key in ["context_length", "embedding_length", "block_count"] {
        let full = format!("{arch}.{key}");
        if !has(&full) {
            out.push(Finding::error("required-key", &first.path, None, format!("no {full} key (llama.cpp load_hparams requires it)")));
        }
    }
    if !has("tokenizer.ggml.model") || !has("tokenizer.ggml.tokens") {
        out.push(Finding::error("tokenizer", &first.path, None, "no tokenizer.ggml.model / tokenizer.ggml.tokens: llama.cpp cannot load a vocabulary"));
    }
}

/// An mmproj's projector must output the width its language model takes in.
pub fn mmproj_matches(mmproj: &Geometry, mmproj_path: &std::path::Path, model: &Geometry, model_name: &str) -> Option<Finding> {
    let v = mmproj.vision.as_ref()?;
    if v.projection_dim == 0 || model.n_embd == 0 || v.projection_dim == model.n_embd {
        return None;
    }
    let msg = format!(
        "clip.vision.projection_dim = {} but {model_name} ({}) has embedding width {}: llama.cpp's mtmd refuses the pair",
        v.projection_dim, model.architecture, model.n_embd
    );
    Some(Finding::error("mmproj-mismatch", mmproj_path, None, msg))
}
