//! A model read and analysed: what every subcommand after `inspect` starts from.

use crate::estimate::weights::{buffer_bytes, weights_bytes};
use crate::model::{analyze, Geometry};
use crate::read::{open_model, TensorEntry};
use std::path::Path;

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
    /// Read-layer warnings.
    pub read_warnings: Vec<String>,
}

impl Loaded {
    /// Reads and analyses `path` (and its sibling shards).
    pub fn open(path: &Path) -> anyhow::Result<Loaded> {
        let set = open_model(path)?;
        if !set.missing.is_empty() {
            anyhow::bail!(
                "{}: {} of {} shards missing (first: {}); estimates need every shard's header",
                path.display(),
                set.missing.len(),
                set.missing.len() + set.files.len(),
                set.missing[0].display()
            );
        }
        let tensors = set.tensors();
        let geometry = analyze(set.metadata(), &tensors);
        Ok(Loaded {
            name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            complete: set.is_complete(),
            read_warnings: set.warnings.clone(),
            tensors,
            geometry,
        })
    }

    /// Model buffer bytes as llama.cpp loads them (for an mmproj: all its tensors).
    pub fn weights_bytes(&self) -> u64 {
        if self.geometry.vision.is_some() {
            // Saturating: shards of a hostile file can claim more than 2^64 bytes in total.
            self.tensors.iter().map(buffer_bytes).fold(0, u64::saturating_add)
        } else {
            weights_bytes(&self.tensors, &self.geometry, false)
        }
    }

    /// Weight bytes of an optional mmproj file (0 without one).
    pub fn mmproj_bytes(path: Option<&Path>) -> anyhow::Result<u64> {
        Ok(path.map(Loaded::open).transpose()?.map_or(0, |m| m.weights_bytes()))
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
