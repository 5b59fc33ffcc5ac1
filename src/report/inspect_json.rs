//! `inspect --json`: the stable schema documented in the README. Fields are only ever added.

use super::InspectView;
use serde_json::{Map, Value, json};

/// Version of the JSON schema; bumped only when a field is added.
pub const SCHEMA_VERSION: u32 = 1;

/// Builds the JSON document.
pub fn to_json(v: &InspectView) -> Value {
    let g = v.geometry;
    let s = v.summary;
    let layers: Vec<Value> = g
        .layers
        .iter()
        .map(|l| {
            json!({
                "index": l.index, "kind": l.kind, "n_head": l.n_head, "n_head_kv": l.n_head_kv,
                "head_dim_k": l.head_dim_k, "head_dim_v": l.head_dim_v, "window": l.window,
                "n_experts": l.n_experts, "n_experts_used": l.n_experts_used,
                "n_experts_shared": l.n_experts_shared, "ffn_size": l.ffn_size,
                "recurrent_state": l.recurrent, "mtp": l.mtp, "bytes": l.bytes,
                "expert_bytes": l.expert_bytes, "present": l.present,
            })
        })
        .collect();
    let mut metadata = Map::new();
    for (k, val) in &v.header.kvs {
        metadata.insert(k.clone(), val.to_json());
    }
    let mut warnings = s.warnings.clone();
    warnings.extend(g.warnings.iter().cloned());
    let mut doc = json!({
        "schema_version": SCHEMA_VERSION,
        "gguf_version": s.files.first().map(|f| f.gguf_version),
        "architecture": g.architecture,
        "family": g.family,
        "complete": s.complete,
        "vocab_only": s.vocab_only,
        "file_bytes": s.file_bytes,
        "expected_bytes": s.expected_bytes,
        "tensor_count": s.tensor_count,
        "tensor_bytes": s.tensor_bytes,
        "tensor_bytes_present": s.tensor_bytes_present,
        "tensors_present": s.tensors_present,
        "data_bytes_present": s.data_bytes_present,
        "data_bytes_expected": s.data_bytes_expected,
        "layers_present": s.layers_present,
        "parameter_count": g.parameter_count,
        "n_layers": g.n_layers,
        "n_mtp_layers": g.n_mtp_layers,
        "n_embd": g.n_embd,
        "layers": layers,
        "n_experts": g.n_experts,
        "n_experts_used": g.n_experts_used,
        "n_experts_shared": g.n_experts_shared,
        "n_vocab": g.n_vocab,
        "context_length": g.context_length,
        "types": s.types,
        "files": s.files,
        "missing_shards": s.missing_shards,
        "vision": g.vision,
        "metadata": metadata,
        "warnings": warnings,
        "bytes_fetched": v.bytes_fetched,
    });
    if v.with_tensors {
        doc["tensors"] = v
            .tensors
            .iter()
            .map(|t| {
                json!({
                    "name": t.name, "type": t.ggml_type, "shape": t.dims, "bytes": t.bytes,
                    "bytes_exact": t.exact, "offset": t.offset, "shard": t.shard, "present": t.present,
                })
            })
            .collect();
    }
    doc
}
