//! The hyperparameters `load_arch_tensors` reads, as llama.cpp derives them from the file's
//! metadata: `llama_model_base::load_hparams` (generic keys), the architecture's
//! `load_arch_hparams` (the fields it reads from keys, from the generated table), the accessors
//! of `llama-hparams.cpp`, and the layer filters `arch::rules::plan` already reproduces
//! (`is_swa`, `is_recr`). A field the architecture computes rather than reads is unknown.

use super::llama_cpp::{ARCHS, DEFAULTS};
use crate::model::arch::rules::{Plan, plan, rule_for};
use crate::model::meta::Meta;
use crate::read::{Header, Value};
use serde_json::{Map, Value as J};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

type V = Option<i64>;

/// One file's hyperparameters, for the architecture it names.
pub struct HParams<'a> {
    meta: Meta<'a>,
    reads: Map<String, J>,
    assigned: HashSet<String>,
    defaults: Map<String, J>,
    plan: Option<Plan>,
    n_layer_all: i64,
    n_vocab: V,
    /// DeepSeek-V4's MTP probe: does the file hold the first MTP layer's `nextn.eh_proj`?
    nextn_probe: Option<bool>,
    /// `get`'s answers: a program asks for the same few values once per tensor.
    memo: RefCell<HashMap<(String, Option<i64>), V>>,
}

/// `LLM_ARCH_*` of an architecture name.
pub fn arch_enum(arch: &str) -> Option<&'static str> {
    ARCHS.iter().find(|a| a.0 == arch).map(|a| a.1)
}

fn int(v: &Value) -> V {
    match *v {
        Value::I8(x) => Some(x.into()),
        Value::I16(x) => Some(x.into()),
        Value::I32(x) => Some(x.into()),
        Value::I64(x) => Some(x),
        _ => v.as_u64().and_then(|x| i64::try_from(x).ok()),
    }
}

impl<'a> HParams<'a> {
    /// `None` when the file lacks what llama.cpp requires before it looks at tensors (block count).
    /// `has` says whether the file holds a tensor (some `load_arch_hparams` probe for one).
    pub fn new(header: &'a Header, arch: &'a str, reads: &str, assigned: &str, vocab_ok: bool, has: &dyn Fn(&str) -> bool) -> Option<HParams<'a>> {
        let meta = Meta { header, arch };
        let reads: Map<String, J> = serde_json::from_str(reads).ok()?;
        let assigned: Vec<String> = serde_json::from_str(assigned).ok()?;
        let defaults: Map<String, J> = serde_json::from_str(DEFAULTS).ok()?;
        let n_layer_all = meta.u64("block_count").and_then(|x| i64::try_from(x).ok())?;
        let nextn = meta.u64("nextn_predict_layers").unwrap_or(0);
        let n_embd = meta.u64("embedding_length").unwrap_or(0);
        let plan = rule_for(arch).and_then(|r| plan(&meta, r, u32::try_from(n_layer_all).ok()?, u32::try_from(nextn).ok()?, n_embd));
        let n_vocab = if vocab_ok { vocab_size(header, &meta) } else { None };
        let nextn_probe = i64::try_from(nextn).ok().and_then(|n| n_layer_all.checked_sub(n)).map(|main| has(&format!("blk.{main}.nextn.eh_proj.weight")));
        Some(HParams { meta, reads, assigned: assigned.into_iter().collect(), defaults, plan, n_layer_all, n_vocab, nextn_probe, memo: RefCell::default() })
    }

    fn set_by_code(&self, field: &str) -> bool {
        self.assigned.contains(field)
    }

    /// A field the architecture's `load_arch_hparams` computes rather than reads, where gguf-meter
    /// mirrors the computation (`None`: not mirrored, the field stays unknown).
    fn derived(&self, field: &str) -> Option<V> {
        let key = |k: &str| self.meta.get(k).and_then(int);
        match (arch_enum(self.meta.arch)?, field) {
            // models/deepseek4.cpp: MTP layers count only when the file holds the first one's eh_proj
            ("LLM_ARCH_DEEPSEEK4", "n_layer_nextn") => {
                let n = key("nextn_predict_layers").unwrap_or(0);
                Some(match self.nextn_probe {
                    _ if n <= 0 => Some(n),
                    Some(true) => Some(n),
                    Some(false) => Some(0),
                    None => None,
                })
            }
            // models/gemma4.cpp: the last attention.shared_kv_layers layers reuse earlier KV
            ("LLM_ARCH_GEMMA4", "n_layer_kv_from_start") => {
                let shared = key("attention.shared_kv_layers").unwrap_or(0);
                Some(self.n_layer_all.checked_sub(shared))
            }
            // models/gemma3n.cpp
            ("LLM_ARCH_GEMMA3N", "n_layer_kv_from_start") => Some(Some(20)),
            // models/lfm2.cpp: every layer dense
            ("LLM_ARCH_LFM2", "n_layer_dense_lead") => Some(self.get("n_layer", None)),
            // models/laguna.cpp: one shared expert unless the key says otherwise, and its width
            // n_ff_exp() * n_expert_shared when the file does not give it
            ("LLM_ARCH_LAGUNA", "n_expert_shared") => Some(Some(key("expert_shared_count").unwrap_or(1))),
            ("LLM_ARCH_LAGUNA", "n_ff_shexp") => Some(match key("expert_shared_feed_forward_length").unwrap_or(0) {
                0 => self.get("n_ff_exp", None).and_then(|f| f.checked_mul(self.get("n_expert_shared", None)?)),
                n => Some(n),
            }),
            // models/t5.cpp: as many decoder layers as encoder layers unless the key says otherwise
            ("LLM_ARCH_T5", "dec_n_layer") => Some(match key("decoder_block_count") {
                Some(n) => Some(n),
                None => self.get("n_layer", None),
            }),
            // models/qwen4exp.cpp: (ngram_size - 1) * heads_per_ngram when the file lists a PLE
            // layer, else 0 (the loader's range checks throw before tensors otherwise)
            ("LLM_ARCH_QWEN4EXP", "ple_n_heads") => Some(match self.meta.get("ple.layers") {
                Some(Value::Array(a)) if a.len > 0 => key("ple.ngram_size")?.checked_sub(1)?.checked_mul(key("ple.heads_per_ngram")?),
                _ => Some(0),
            }),
            _ => None,
        }
    }

    /// A field read with `get_key` / `get_key_or_arr` / `get_arr` (the first key the file has),
    /// else its default in `llama_hparams`.
    fn field(&self, field: &str, il: Option<i64>) -> V {
        if self.set_by_code(field) {
            return self.derived(field).flatten();
        }
        if let Some(J::Array(keys)) = self.reads.get(field) {
            for k in keys {
                let Some(key) = k.get(0).and_then(J::as_str) else { continue };
                if let Some(v) = self.meta.get(key) {
                    return match v {
                        Value::Array(a) => {
                            let i = usize::try_from(il.unwrap_or(0)).ok()?;
                            if i64::try_from(i).ok()? >= self.n_layer_all.max(1) && il.is_some() {
                                return None;
                            }
                            a.items.get(i).and_then(int)
                        }
                        v => int(v),
                    };
                }
            }
        }
        self.defaults.get(field).and_then(J::as_i64)
    }

    /// A per-layer array read with `get_key_or_arr` (`default` when the file lacks the key).
    fn per_layer(&self, field: &str, key: &str, il: Option<i64>, default: V) -> V {
        if self.set_by_code(field) {
            return None;
        }
        let il = il.unwrap_or(0);
        if il < 0 || il >= self.n_layer_all {
            return None;
        }
        match self.meta.get(key) {
            Some(Value::Array(a)) => a.items.get(usize::try_from(il).ok()?).and_then(int),
            Some(v) => int(v),
            None => default,
        }
    }

    fn layer_plan(&self, il: Option<i64>) -> Option<&crate::model::arch::rules::LayerPlan> {
        self.plan.as_ref()?.layers.get(usize::try_from(il.unwrap_or(0)).ok()?)
    }

    fn n_head(&self, il: Option<i64>) -> V {
        self.per_layer("n_head_arr", "attention.head_count", il, Some(0))
    }

    fn n_embd(&self) -> V {
        if arch_enum(self.meta.arch) == Some("LLM_ARCH_WAVTOKENIZER_DEC") {
            return None;
        }
        self.meta.u64("embedding_length").and_then(|x| i64::try_from(x).ok())
    }

    /// `n_embd_head_k_full` / `_v_full`: `n_embd / n_head` unless the file gives the length.
    fn head_full(&self, key: &str, field: &str) -> V {
        if self.set_by_code(field) {
            return None;
        }
        let h = self.n_head(Some(0))?;
        if h <= 0 {
            return Some(0);
        }
        match self.meta.get(key) {
            Some(v) => int(v),
            None => self.n_embd()?.checked_div(h),
        }
    }

    fn head(&self, kv: char, il: Option<i64>) -> V {
        let (key, field) = if kv == 'k' { ("attention.key_length", "n_embd_head_k_full") } else { ("attention.value_length", "n_embd_head_v_full") };
        let full = self.head_full(key, field)?;
        if !self.is_swa(il)? {
            return Some(full);
        }
        let field = if kv == 'k' { "n_embd_head_k_swa" } else { "n_embd_head_v_swa" };
        if self.set_by_code(field) {
            return None;
        }
        match self.meta.get(&format!("{key}_swa")) {
            Some(v) => int(v),
            None => Some(full),
        }
    }

    fn n_rot(&self, il: Option<i64>) -> V {
        if self.set_by_code("n_rot_full") {
            return None;
        }
        let h = self.n_head(Some(0))?;
        let full = if h <= 0 {
            0
        } else {
            match self.meta.get("rope.dimension_count") {
                Some(v) => int(v)?,
                None => self.head_full("attention.key_length", "n_embd_head_k_full")?,
            }
        };
        if !self.is_swa(il)? {
            return Some(full);
        }
        if self.set_by_code("n_rot_swa") {
            return None;
        }
        match self.meta.get("rope.dimension_count_swa") {
            Some(v) => int(v),
            None => Some(full),
        }
    }

    fn is_swa(&self, il: Option<i64>) -> Option<bool> {
        Some(self.layer_plan(il)?.sliding)
    }

    /// `n_expert`, as `load_hparams` leaves it.
    pub fn n_expert(&self) -> V {
        let n = self.field("n_expert", None)?;
        let hunyuan = matches!(arch_enum(self.meta.arch), Some("LLM_ARCH_HUNYUAN_VL" | "LLM_ARCH_HUNYUAN_DENSE"));
        Some(if hunyuan && n <= 1 { 0 } else { n })
    }

    fn n_expert_used(&self, il: Option<i64>) -> V {
        if self.n_expert() == Some(0) && matches!(arch_enum(self.meta.arch), Some("LLM_ARCH_HUNYUAN_VL" | "LLM_ARCH_HUNYUAN_DENSE")) {
            return Some(0);
        }
        self.per_layer("n_expert_used_arr", "expert_used_count", il, Some(0))
    }

    /// `n_expert_used_max`.
    pub fn n_expert_used_max(&self) -> V {
        let mut m = 0;
        for il in 0..self.n_layer_all.min(4096) {
            m = m.max(self.n_expert_used(Some(il))?);
        }
        Some(m)
    }

    fn is_mla(&self) -> Option<bool> {
        Some(self.field("n_embd_head_k_mla_impl", None)? != 0 && self.field("n_embd_head_v_mla_impl", None)? != 0)
    }

    /// The value of `hparams.<name>` (a field, or an accessor called with layer `il`).
    pub fn get(&self, name: &str, il: Option<i64>) -> V {
        let key = (name.to_string(), il);
        if let Some(v) = self.memo.borrow().get(&key) {
            return *v;
        }
        let v = self.compute(name, il);
        self.memo.borrow_mut().insert(key, v);
        v
    }

    fn compute(&self, name: &str, il: Option<i64>) -> V {
        let b = |x: bool| i64::from(x);
        match name {
            "n_layer_all" => Some(self.n_layer_all),
            "n_layer_nextn" => self.field("n_layer_nextn", None),
            "n_layer" => self.n_layer_all.checked_sub(self.field("n_layer_nextn", None)?),
            "n_embd" => self.n_embd(),
            "n_head" => self.n_head(il),
            "n_head_kv" => {
                let h = self.n_head(il);
                self.per_layer("n_head_kv_arr", "attention.head_count_kv", il, h)
            }
            "n_ff" => self.per_layer("n_ff_arr", "feed_forward_length", il, Some(0)),
            "n_embd_head_k" => self.head('k', il),
            "n_embd_head_v" => self.head('v', il),
            "n_embd_k_gqa" => self.head('k', il)?.checked_mul(self.get("n_head_kv", il)?),
            "n_embd_v_gqa" => self.head('v', il)?.checked_mul(self.get("n_head_kv", il)?),
            "n_rot" => self.n_rot(il),
            "n_vocab" => self.n_vocab,
            "n_token_types" => Some(self.meta.raw("tokenizer.ggml.token_type_count").and_then(int).unwrap_or(0)),
            "n_expert" => self.n_expert(),
            "n_expert_used" => self.n_expert_used(il),
            "n_ff_exp" => self.field("n_ff_exp_arr", il),
            "n_ctx_train" => self.meta.u64("context_length").and_then(|x| i64::try_from(x).ok()),
            "is_swa" => self.is_swa(il).map(b),
            "is_recr" => self.layer_plan(il).map(|p| b(p.recurrent)),
            "is_mla" => self.is_mla().map(b),
            "n_embd_head_k_mla" => {
                if self.is_mla()? {
                    self.field("n_embd_head_k_mla_impl", None)
                } else {
                    self.head('k', Some(0))
                }
            }
            "n_embd_head_v_mla" => {
                if self.is_mla()? {
                    self.field("n_embd_head_v_mla_impl", None)
                } else {
                    self.head('v', Some(0))
                }
            }
            "n_embd_out" => match self.field("n_embd_out_impl", None)? {
                x if x > 0 => Some(x),
                _ => self.n_embd(),
            },
            "n_embd_inp" => self.n_embd_inp(),
            "n_embd_inp_enc" => match self.field("n_embd_inp_enc_impl", None)? {
                x if x > 0 => Some(x),
                _ => self.n_embd_inp(),
            },
            "has_kv" => {
                let from = self.field("n_layer_kv_from_start", None)?;
                Some(b(from < 0 || il.unwrap_or(0) < from))
            }
            "rope_scaling_type_train" => {
                if self.set_by_code(name) {
                    return None;
                }
                match self.meta.get("rope.scaling.type") {
                    None => Some(1),
                    Some(v) => match v.as_str()? {
                        "none" => Some(0),
                        "linear" => Some(1),
                        "yarn" => Some(2),
                        "longrope" => Some(3),
                        _ => None,
                    },
                }
            }
            _ => self.field(name, il),
        }
    }

    fn n_embd_inp(&self) -> V {
        match self.field("n_embd_inp_impl", None)? {
            x if x > 0 => Some(x),
            _ => {
                let n = self.n_embd()?;
                let d = self.field("n_deepstack_layers", None)?;
                n.checked_add(n.checked_mul(d)?)
            }
        }
    }
}

/// `llama_vocab::n_tokens`: the token list's length, or `{arch}.vocab_size` for a model without a
/// tokenizer (`tokenizer.ggml.model` "none" / "no_vocab").
fn vocab_size(header: &Header, meta: &Meta) -> V {
    let model = header.get("tokenizer.ggml.model").and_then(Value::as_str);
    match model {
        Some("none" | "no_vocab") => Some(meta.u64("vocab_size").and_then(|x| i64::try_from(x).ok()).unwrap_or(0)),
        Some(_) => header.get("tokenizer.ggml.tokens").and_then(Value::as_array).and_then(|a| i64::try_from(a.len).ok()),
        None => None,
    }
}
