//! Totals over a (possibly sharded, possibly incomplete) file set: what `inspect` reports.

use super::geometry::Geometry;
use crate::read::{ShardSet, TensorEntry};
use serde::Serialize;
use std::collections::BTreeMap;

/// Tensor count and bytes of one ggml type.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TypeTotal {
    /// Tensors of this type.
    pub tensors: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// One file of the set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileSummary {
    /// Path as found.
    pub path: String,
    /// Bytes on disk.
    pub file_bytes: u64,
    /// Bytes a complete file has (end of its last tensor's data).
    pub expected_bytes: u64,
    /// All data present.
    pub complete: bool,
    /// GGUF version.
    pub gguf_version: u32,
    /// Byte order.
    pub big_endian: bool,
    /// Data alignment.
    pub alignment: u64,
    /// Where the data section starts.
    pub data_offset: u64,
    /// Tensor infos in this file.
    pub tensor_count: u64,
}

/// Everything `inspect` says about a model, before formatting.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Files read, in shard order.
    pub files: Vec<FileSummary>,
    /// Shards named by the split that are not on disk.
    pub missing_shards: Vec<String>,
    /// No shard missing and every byte present.
    pub complete: bool,
    /// Sum of bytes on disk.
    pub file_bytes: u64,
    /// Sum of complete sizes (end of last tensor data, per shard).
    pub expected_bytes: u64,
    /// Tensors over all shards.
    pub tensor_count: u64,
    /// Sum of tensor data sizes.
    pub tensor_bytes: u64,
    /// Tensor data bytes on disk now (whole tensors only).
    pub tensor_bytes_present: u64,
    /// Bytes of the data sections on disk now (including partly written tensors).
    pub data_bytes_present: u64,
    /// Bytes the data sections have when complete.
    pub data_bytes_expected: u64,
    /// Tensors whose data is fully on disk.
    pub tensors_present: u64,
    /// Blocks whose tensors are all on disk.
    pub layers_present: u64,
    /// Per ggml type totals, by type name.
    pub types: BTreeMap<String, TypeTotal>,
    /// Read-layer warnings (gaps, unknown types, shard mismatches).
    pub warnings: Vec<String>,
    /// A tokenizer file, not a model (see [`super::is_vocab_only`]).
    pub vocab_only: bool,
}

/// Sums up a shard set and its tensors.
pub fn summarize(set: &ShardSet, tensors: &[TensorEntry], geometry: &Geometry) -> Summary {
    let files: Vec<FileSummary> = set
        .files
        .iter()
        .map(|f| FileSummary {
            path: f.path.display().to_string(),
            file_bytes: f.file_bytes,
            expected_bytes: f.layout.expected_end,
            complete: f.is_complete(),
            gguf_version: f.header.version,
            big_endian: f.header.big_endian,
            alignment: f.header.alignment,
            data_offset: f.header.data_offset,
            tensor_count: f.header.tensors.len() as u64,
        })
        .collect();
    let mut types: BTreeMap<String, TypeTotal> = BTreeMap::new();
    let mut present_bytes = 0u64;
    for t in tensors {
        let e = types.entry(t.ggml_type.name()).or_default();
        e.tensors += 1;
        e.bytes = e.bytes.saturating_add(t.bytes);
        if t.present {
            present_bytes = present_bytes.saturating_add(t.bytes);
        }
    }
    let mut warnings: Vec<String> = set.warnings.clone();
    for f in &set.files {
        // Read here, but refused by llama.cpp's reader: `check` fails on these. Named by file
        // name, so a remote file's report equals the local one's.
        let name = f.path.file_name().map_or_else(|| f.path.display().to_string(), |n| n.to_string_lossy().into_owned());
        warnings.extend(f.header.refusals.iter().map(|r| format!("{name}: llama.cpp will not load this file: {}", r.message)));
        warnings.extend(f.layout.warnings.iter().map(|w| format!("{}: {w}", f.path.display())));
    }
    Summary {
        missing_shards: set.missing.iter().map(|p| p.display().to_string()).collect(),
        complete: set.is_complete(),
        file_bytes: files.iter().map(|f| f.file_bytes).fold(0, u64::saturating_add),
        expected_bytes: files.iter().map(|f| f.expected_bytes).fold(0, u64::saturating_add),
        tensor_count: tensors.len() as u64,
        tensor_bytes: tensors.iter().map(|t| t.bytes).fold(0, u64::saturating_add),
        tensor_bytes_present: present_bytes,
        data_bytes_present: set.files.iter().map(|f| f.data_bytes_present()).fold(0, u64::saturating_add),
        data_bytes_expected: set.files.iter().map(|f| f.data_bytes_expected()).fold(0, u64::saturating_add),
        tensors_present: tensors.iter().filter(|t| t.present).count() as u64,
        layers_present: geometry.layers.iter().filter(|l| l.present).count() as u64,
        types,
        warnings,
        files,
        vocab_only: super::is_vocab_only(set.metadata(), tensors),
    }
}
