//! Model-level rules: the tensors llama.cpp's loader asks for, for the file's architecture and
//! hyperparameters (`model::tensors`, generated from llama.cpp's `load_arch_tensors`).

use super::finding::Finding;
use crate::model::tensors::{self, Mismatch, format_shape};
use crate::read::{ShardSet, TensorEntry};
use crate::rules::RuleId;

/// Findings of one kind listed one by one; the rest are counted in one more.
const SHOWN: usize = 8;

/// `tensor-missing`, `tensor-shape`, `tensor-count` and `tensor-hparams`, each as
/// `llama_model_loader::create_tensor` / `check_tensor_dims` / `done_getting_tensors` words it.
/// `vocab_ok` false (a tokenizer llama.cpp refuses first) leaves vocabulary-sized dimensions
/// unchecked.
pub fn rules(set: &ShardSet, all: &[TensorEntry], vocab_ok: bool, out: &mut Vec<Finding>) {
    let first = &set.files[0];
    let Some(c) = tensors::check(&first.header, all, vocab_ok) else { return };
    let file_of = |name: &str| {
        let shard = all.iter().find(|t| t.name == name).map_or(0, |t| t.shard);
        set.files.get(shard).map_or(first.path.as_path(), |f| f.path.as_path())
    };
    for m in c.missing.iter().take(SHOWN) {
        let msg = format!(
            "tensor '{}' not found: llama.cpp's loader requires it, shape [{}] [llama-model-loader.cpp check_tensor_dims]",
            m.name,
            format_shape(&m.expected)
        );
        out.push(Finding::error(RuleId::TensorMissing, &first.path, None, msg));
    }
    if c.missing.len() > SHOWN {
        let msg = format!("and {} more required tensors not found, from {}", c.missing.len() - SHOWN, c.missing[SHOWN].name);
        out.push(Finding::error(RuleId::TensorMissing, &first.path, None, msg));
    }
    for m in c.wrong_shape.iter().take(SHOWN) {
        out.push(Finding::error(RuleId::TensorShape, file_of(&m.name), offset(all, m), shape_message(m)));
    }
    if c.wrong_shape.len() > SHOWN {
        let msg = format!("and {} more tensors with the wrong shape, from {}", c.wrong_shape.len() - SHOWN, c.wrong_shape[SHOWN].name);
        out.push(Finding::error(RuleId::TensorShape, &first.path, None, msg));
    }
    if let Some(n) = c.count.as_ref().filter(|n| n.fails()) {
        let got = if n.in_file > n.created.1 { n.created.1 } else { n.created.0 };
        let mut msg = format!("wrong number of tensors; expected {}, got {got} [llama-model-loader.cpp done_getting_tensors]", n.in_file);
        if !n.unused.is_empty() {
            let shown: Vec<&str> = n.unused.iter().take(5).map(String::as_str).collect();
            let more = n.unused.len() - shown.len();
            msg.push_str(&format!(": llama.cpp never asks for {}", shown.join(", ")));
            if more > 0 {
                msg.push_str(&format!(" and {more} more"));
            }
        }
        out.push(Finding::error(RuleId::TensorCount, &first.path, None, msg));
    }
    for r in &c.refused {
        out.push(Finding::error(RuleId::TensorHparams, &first.path, None, format!("llama.cpp's load_tensors refuses these hyperparameters: {r}")));
    }
}

fn offset(all: &[TensorEntry], m: &Mismatch) -> Option<u64> {
    all.iter().find(|t| t.name == m.name).map(|t| t.offset)
}

fn shape_message(m: &Mismatch) -> String {
    let found: Vec<i64> = m.found.as_deref().unwrap_or(&[]).iter().map(|&d| i64::try_from(d).unwrap_or(i64::MAX)).collect();
    let how = if m.reshape { " elements" } else { "" };
    format!(
        "tensor '{}' has wrong shape; expected [{}], got [{}]{how} [llama-model-loader.cpp check_tensor_dims]",
        m.name,
        format_shape(&m.expected),
        format_shape(&found)
    )
}
