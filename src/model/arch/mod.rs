//! Architecture knowledge, one file per family, keyed by `general.architecture`.
//!
//! Most geometry is read off tensor shapes by `model::layers`; an [`ArchSpec`] adds only
//! what tensors cannot show: which layers use a sliding window, how recurrent state is
//! sized, and what the metadata says about layer kinds (used to cross-check the tensors).

mod deepseek;
mod gemma;
mod generic;
mod gpt_oss;
mod granite;
pub mod indexer;
mod llama;
mod llama_cpp;
mod mamba;
mod qwen35;
pub mod rules;

use super::meta::Meta;

/// Which layers use sliding-window attention, as llama.cpp's `load_swa_pattern` decides.
#[derive(Clone, Copy, Debug)]
pub struct SwaRule {
    /// Pattern period when `{arch}.attention.sliding_window_pattern` is absent.
    pub default_pattern: u32,
    /// `dense_first` argument of `llama_hparams::set_swa_pattern`.
    pub dense_first: bool,
    /// Window when `{arch}.attention.sliding_window` is absent; `None` = no key, no SWA.
    pub default_window: Option<u64>,
}

impl SwaRule {
    /// `llama_hparams::set_swa_pattern`: is layer `il` sliding?
    pub fn is_swa(&self, pattern: u32, il: u32) -> bool {
        if pattern == 0 {
            return true;
        }
        if self.dense_first { !il.is_multiple_of(pattern) } else { il % pattern < pattern - 1 }
    }
}

/// How the recurrent state of a layer is sized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecurrentRule {
    /// Mamba, Mamba-2 and Gated DeltaNet: llama.cpp's `n_embd_r` / `n_embd_s` from `ssm.*` keys.
    Ssm,
}

/// Which layers are recurrent, from the metadata (block count given); `None` when it does not say.
pub type RecurrentLayers = fn(&Meta, u32) -> Option<Vec<bool>>;

/// What gguf-meter knows about one architecture family.
pub struct ArchSpec {
    /// Module name, reported as `family`.
    pub family: &'static str,
    /// `general.architecture` strings this spec covers.
    pub archs: &'static [&'static str],
    /// Sliding-window rule, if the family has SWA layers.
    pub swa: Option<SwaRule>,
    /// Recurrent-state rule, if the family has recurrent layers.
    pub recurrent: Option<RecurrentRule>,
    /// Which layers the metadata says are recurrent (`n_layer` long), to cross-check tensors.
    pub recurrent_layers: Option<RecurrentLayers>,
    /// True when the family's KV heads/dims in metadata describe MLA (`key_length_mla`).
    pub mla: bool,
}

const SPECS: &[&ArchSpec] = &[&llama::SPEC, &qwen35::SPEC, &gemma::GEMMA2, &gemma::GEMMA3, &deepseek::SPEC, &gpt_oss::SPEC, &mamba::SPEC, &granite::SPEC];

/// The spec for an architecture string; the generic fallback when unknown.
pub fn spec_for(arch: &str) -> &'static ArchSpec {
    SPECS.iter().copied().find(|s| s.archs.contains(&arch)).unwrap_or(&generic::SPEC)
}

/// Every architecture string with a spec of its own.
pub fn known_architectures() -> Vec<&'static str> {
    SPECS.iter().flat_map(|s| s.archs.iter().copied()).collect()
}
