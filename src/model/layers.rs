//! Derives each block's geometry from its tensors' names and shapes, then metadata.

use super::arch::{ArchSpec, RecurrentRule};
use super::geometry::{LayerGeometry, LayerKind, RecurrentState};
use super::meta::Meta;
use crate::read::TensorEntry;

/// The tensors of one block, by name suffix after `blk.N.`.
pub struct Block<'a> {
    /// Block index.
    pub index: u32,
    /// (suffix, tensor) pairs.
    pub tensors: Vec<(&'a str, &'a TensorEntry)>,
}

impl<'a> Block<'a> {
    fn get(&self, suffix: &str) -> Option<&'a TensorEntry> {
        self.tensors.iter().find(|(s, _)| *s == suffix).map(|(_, t)| *t)
    }

    fn any(&self, pred: impl Fn(&str) -> bool) -> bool {
        self.tensors.iter().any(|(s, _)| pred(s))
    }

    fn dim(&self, suffix: &str, i: usize) -> Option<u64> {
        self.get(suffix)?.dims.get(i).copied()
    }
}

/// Splits `blk.N.rest` into (N, rest).
pub fn block_of(name: &str) -> Option<(u32, &str)> {
    let rest = name.strip_prefix("blk.")?;
    let dot = rest.find('.')?;
    Some((rest[..dot].parse().ok()?, &rest[dot + 1..]))
}

/// Model-wide values the per-block derivation needs.
pub struct Context<'a> {
    /// Metadata with the architecture prefix.
    pub meta: Meta<'a>,
    /// The architecture's spec.
    pub spec: &'static ArchSpec,
    /// Blocks llama.cpp runs (block_count minus MTP blocks).
    pub n_layer: u32,
    /// Hidden size.
    pub n_embd: u64,
    /// Where inconsistencies are reported.
    pub warnings: &'a mut Vec<String>,
}

/// Geometry of one block.
pub fn layer_geometry(cx: &mut Context, b: &Block) -> LayerGeometry {
    let il = b.index;
    let meta = cx.meta;
    let mtp = il >= cx.n_layer;
    let recurrent = b.any(|s| s.starts_with("ssm_") || s.starts_with("time_mix_") || s.starts_with("shortconv"));
    let mla_tensor = b.get("attn_kv_a_mqa.weight");
    let attention = b.any(|s| ["attn_q.", "attn_k.", "attn_v.", "attn_qkv.", "attn_kv_a_mqa.", "attn_q_a."].iter().any(|p| s.starts_with(p)));
    let is_mla = cx.spec.mla && meta.u64("attention.key_length_mla").is_some() && mla_tensor.is_some();

    let n_head = meta.per_layer("attention.head_count", il as usize).unwrap_or(0);
    let head_dim_k = meta.u64("attention.key_length").or_else(|| cx.n_embd.checked_div(n_head)).unwrap_or(0);
    let head_dim_v = meta.u64("attention.value_length").unwrap_or(head_dim_k);
    let meta_kv = meta.per_layer("attention.head_count_kv", il as usize).unwrap_or(n_head);

    let mut g = LayerGeometry {
        index: il,
        kind: LayerKind::None,
        n_head: 0,
        n_head_kv: 0,
        head_dim_k: 0,
        head_dim_v: 0,
        window: None,
        n_experts: 0,
        n_experts_used: 0,
        n_experts_shared: 0,
        ffn_size: 0,
        recurrent: None,
        mtp,
        kv_cache: false,
        indexer: None,
        compressed: Vec::new(),
        kv_per_seq: false,
        bytes: b.tensors.iter().map(|(_, t)| t.bytes).fold(0u64, u64::saturating_add),
        expert_bytes: b.tensors.iter().filter(|(s, _)| s.contains("_exps")).map(|(_, t)| t.bytes).fold(0u64, u64::saturating_add),
        present: b.tensors.iter().all(|(_, t)| t.present),
    };

    if recurrent {
        g.kind = LayerKind::Recurrent;
        g.recurrent = recurrent_state(cx, b);
    } else if is_mla {
        g.kind = LayerKind::Mla;
        g.n_head = n_head;
        // One compressed row (kv_lora_rank + rope dims) per token: the kv_a projection's width.
        g.n_head_kv = 1;
        g.head_dim_k = mla_tensor.and_then(|t| t.dims.get(1).copied()).unwrap_or(head_dim_k);
        g.head_dim_v = meta.u64("attention.kv_lora_rank").unwrap_or(head_dim_v);
        if g.head_dim_k != head_dim_k {
            cx.warnings.push(format!("blk.{il}: attn_kv_a_mqa width {} differs from attention.key_length {head_dim_k}", g.head_dim_k));
        }
    } else if attention {
        g.kind = LayerKind::Attention;
        g.n_head = n_head;
        g.head_dim_k = head_dim_k;
        g.head_dim_v = head_dim_v;
        g.n_head_kv = match b.dim("attn_k.weight", 1) {
            Some(width) if head_dim_k > 0 && width % head_dim_k == 0 => {
                let from_tensor = width / head_dim_k;
                if from_tensor != meta_kv && meta.get("attention.head_count_kv").is_some() {
                    cx.warnings.push(format!("blk.{il}: attn_k has {from_tensor} KV heads of {head_dim_k}, metadata says {meta_kv}; using the tensor"));
                }
                from_tensor
            }
            _ => meta_kv,
        };
        if let Some(rule) = cx.spec.swa.filter(|_| !mtp) {
            let window = meta.u64("attention.sliding_window").or(rule.default_window).filter(|&w| w > 0);
            if let Some(w) = window {
                let sliding = match meta.bool_array("attention.sliding_window_pattern") {
                    Some(arr) => arr.get(il as usize).copied().unwrap_or(false),
                    None => {
                        let pattern = meta.u64("attention.sliding_window_pattern").unwrap_or(rule.default_pattern.into());
                        rule.is_swa(pattern as u32, il)
                    }
                };
                if sliding {
                    g.kind = LayerKind::Sliding;
                    g.window = Some(w);
                }
            }
        }
    }

    g.kv_cache = matches!(g.kind, LayerKind::Attention | LayerKind::Sliding | LayerKind::Mla);

    // Experts: router width first, then the stacked expert tensors' third dimension.
    g.n_experts = b
        .dim("ffn_gate_inp.weight", 1)
        .or_else(|| b.tensors.iter().find(|(s, _)| s.contains("_exps.weight")).and_then(|(_, t)| t.dims.get(2).copied()))
        .unwrap_or(0);
    if g.n_experts > 0 {
        g.n_experts_used = meta.u64("expert_used_count").unwrap_or(0);
        g.n_experts_shared = meta.u64("expert_shared_count").unwrap_or(if b.any(|s| s.contains("_shexp.")) { 1 } else { 0 });
        // ffn_down_exps first: gate and up may be fused into one tensor of twice the width.
        g.ffn_size = b.dim("ffn_down_exps.weight", 0).or_else(|| b.dim("ffn_up_exps.weight", 1)).unwrap_or(0);
    } else {
        g.ffn_size = b.dim("ffn_down.weight", 0).or_else(|| b.dim("ffn_up.weight", 1)).unwrap_or(0);
    }
    g
}

/// llama.cpp's `n_embd_r` / `n_embd_s` for an SSM-style layer, from `ssm.*` keys, with the
/// conv tensor as fallback and cross-check.
fn recurrent_state(cx: &mut Context, b: &Block) -> Option<RecurrentState> {
    let Some(RecurrentRule::Ssm) = cx.spec.recurrent else { return None };
    let m = cx.meta;
    let conv_tensor = b.get("ssm_conv1d.weight").and_then(|t| (t.dims.first()?.checked_sub(1)?).checked_mul(*t.dims.get(1)?));
    let d_conv = m.u64("ssm.conv_kernel");
    let d_inner = m.u64("ssm.inner_size");
    let d_state = m.u64("ssm.state_size");
    let n_group = m.u64("ssm.group_count").unwrap_or(0);
    let conv_meta = match (d_conv, d_inner, d_state) {
        (Some(c), Some(i), Some(s)) => Some(c.saturating_sub(1).saturating_mul(i.saturating_add(n_group.saturating_mul(s).saturating_mul(2)))),
        _ => None,
    };
    if let (Some(a), Some(t)) = (conv_meta, conv_tensor)
        && a != t
    {
        cx.warnings.push(format!("blk.{}: ssm_conv1d holds {t} state elements, ssm.* keys give {a}", b.index));
    }
    Some(RecurrentState { conv_elements: conv_meta.or(conv_tensor)?, state_elements: d_state?.saturating_mul(d_inner?), extra_elements: 0 })
}
