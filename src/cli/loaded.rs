//! A model read and analysed: what every subcommand after `inspect` starts from.

use crate::estimate::weights::{all_buffer_bytes, weights_bytes};
use crate::model::{Geometry, analyze, is_vocab_only};
use crate::read::{Location, ShardSet, TensorEntry};

/// A vocab-only file (a tokenizer, 0 tensors) where a model is needed: exit code 4.
#[derive(Debug, thiserror::Error)]
#[error("{0}: vocab-only GGUF (a tokenizer file with 0 tensors), not a model: llama.cpp loads it only with vocab_only, so there is no memory to estimate")]
pub struct VocabOnly(pub String);

/// A model's tensors and geometry.
pub struct Loaded {
    /// File name for display.
    pub name: String,
    /// All tensors over all shards.
    pub tensors: Vec<TensorEntry>,
    /// Derived geometry.
    pub geometry: Geometry,
    /// All shards present and complete.
    pub complete: bool,
    /// Bytes of all shards when complete.
    pub expected_bytes: u64,
    /// Read-layer warnings.
    pub read_warnings: Vec<String>,
}

impl Loaded {
    /// Reads and analyses the model at `loc` (and its sibling shards), local or remote.
    pub fn open(loc: &Location) -> anyhow::Result<Loaded> {
        Loaded::from_set(&loc.to_string(), loc.file_name(), &loc.open()?.set)
    }

    /// Analyses a shard set already read (`shown` names it in messages, `name` in reports);
    /// fails when a shard is missing.
    pub fn from_set(shown: &str, name: String, set: &ShardSet) -> anyhow::Result<Loaded> {
        if !set.missing.is_empty() {
            anyhow::bail!(
                "{shown}: {} of {} shards missing (first: {}); estimates need every shard's header",
                set.missing.len(),
                set.missing.len() + set.files.len(),
                set.missing[0].display()
            );
        }
        let tensors = set.tensors();
        if is_vocab_only(set.metadata(), &tensors) {
            return Err(VocabOnly(shown.to_string()).into());
        }
        let geometry = analyze(set.metadata(), &tensors);
        Ok(Loaded { name, complete: set.is_complete(), expected_bytes: set.expected_bytes(), read_warnings: set.warnings.clone(), tensors, geometry })
    }

    /// Model buffer bytes as llama.cpp loads them (for an mmproj: all its tensors).
    pub fn weights_bytes(&self) -> u64 {
        if self.geometry.vision.is_some() {
            // Saturating: shards of a hostile file can claim more than 2^64 bytes in total.
            all_buffer_bytes(&self.tensors)
        } else {
            weights_bytes(&self.tensors, &self.geometry, false)
        }
    }

    /// Average bits per weight over all tensors: the quality proxy quants are ranked by.
    pub fn bits_per_weight(&self) -> f64 {
        let bytes = self.tensors.iter().map(|t| t.bytes as f64).sum::<f64>();
        if self.geometry.parameter_count == 0 { 0.0 } else { bytes * 8.0 / self.geometry.parameter_count as f64 }
    }

    /// Warnings to show with any estimate.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = self.read_warnings.clone();
        w.extend(self.geometry.warnings.iter().cloned());
        if !self.complete {
            w.push(format!("{}: download incomplete; estimated from the header, which is complete", self.name));
        }
        w
    }
}
