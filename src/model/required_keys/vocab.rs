//! Tokenizer metadata llama.cpp needs, following `llama_vocab::impl::load` (src/llama-vocab.cpp).
//! Which tokenizer models exist and which need merges is generated (`llama_cpp::vocab`); the order
//! and the array checks below mirror that function.

use super::llama_cpp::vocab::{MERGES, MODELS, NO_VOCAB, PRE_CHECKED, PRE_TOKENIZERS};
use super::{KeyProblem, LLAMA_CPP_COMMIT, Problem, type_name, type_ok};
use crate::read::{Header, Value};

/// Appends what keeps llama.cpp's vocabulary loader from reading this header's tokenizer.
pub(super) fn check(header: &Header, out: &mut Vec<KeyProblem>) {
    let mut push = |key: &str, problem: Problem, why: &str| {
        out.push(KeyProblem { key: key.to_string(), problem, why: format!("llama-vocab: {why}") });
    };
    let model = match header.get("tokenizer.ggml.model") {
        Some(Value::Str(m)) => m.as_str(),
        None => return push("tokenizer.ggml.model", Problem::Missing, "the tokenizer model"),
        Some(v) => return push("tokenizer.ggml.model", wrong("str", v), "the tokenizer model"),
    };
    let pre = match header.get("tokenizer.ggml.pre") {
        Some(Value::Str(p)) => Some(p.as_str()),
        Some(v) => return push("tokenizer.ggml.pre", wrong("str", v), "the pre-tokenizer"),
        None => None,
    };
    if let Some(v) = header.get("tokenizer.ggml.token_type_count").filter(|v| !type_ok("u32", v)) {
        push("tokenizer.ggml.token_type_count", wrong("u32", v), "BERT token type count");
    }
    if !MODELS.contains(&model) {
        let why = format!("tokenizer model unknown to llama.cpp {}", &LLAMA_CPP_COMMIT[..7]);
        return push("tokenizer.ggml.model", Problem::UnknownValue { value: model.into() }, &why);
    }
    if NO_VOCAB.contains(&model) {
        return; // no vocabulary: nothing else is read
    }
    let exempt = |ex: &[&str]| pre.is_some_and(|p| ex.contains(&p));
    if MERGES.iter().any(|(m, ex)| *m == model && !exempt(ex)) {
        let why = format!("BPE merges for tokenizer model {model:?}");
        match header.get("tokenizer.ggml.merges") {
            None => push("tokenizer.ggml.merges", Problem::Missing, &why),
            Some(v) if !type_ok("[str]", v) => push("tokenizer.ggml.merges", wrong("[str]", v), &why),
            Some(_) => {}
        }
    }
    if let Some(p) = pre.filter(|p| PRE_CHECKED.contains(&model) && !p.is_empty() && !PRE_TOKENIZERS.contains(p)) {
        let why = format!("pre-tokenizer unknown to llama.cpp {}", &LLAMA_CPP_COMMIT[..7]);
        push("tokenizer.ggml.pre", Problem::UnknownValue { value: p.into() }, &why);
    }
    let n_tokens = match header.get("tokenizer.ggml.tokens") {
        Some(Value::Array(a)) if type_ok("[str]", &Value::Array(a.clone())) => a.len,
        None => return push("tokenizer.ggml.tokens", Problem::Missing, "the token list"),
        Some(v) => return push("tokenizer.ggml.tokens", wrong("[str]", v), "the token list"),
    };
    // scores and token types are optional, but when present must cover every token
    for (key, types, why) in [("tokenizer.ggml.scores", "[i32,f32]", "token scores"), ("tokenizer.ggml.token_type", "[i32]", "token types")] {
        match header.get(key) {
            Some(v) if !type_ok(types, v) => push(key, wrong(types, v), why),
            Some(Value::Array(a)) if a.len < n_tokens => push(key, Problem::TooShort { len: a.len, min: n_tokens }, &format!("{why} for {n_tokens} tokens")),
            _ => {}
        }
    }
}

fn wrong(expected: &str, v: &Value) -> Problem {
    Problem::WrongType { expected: expected.into(), found: type_name(v) }
}
