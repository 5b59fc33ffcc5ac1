//! The metadata llama.cpp needs to load a GGUF, and what a header lacks of it.
//!
//! The table in `required_keys/llama_cpp.rs` is generated from llama.cpp's own loader code by
//! `scripts/gen_required_keys.py`: only keys llama.cpp reads unconditionally for the architecture
//! with `required = true` are enforced, so a valid file is never reported (keys required only under
//! a condition the header cannot settle are listed there but not checked). Keys it reads as optional
//! are checked for type only, because its loader rejects a present key of the wrong type.

mod clip;
mod llama_cpp;
mod vocab;

pub use llama_cpp::LLAMA_CPP_COMMIT;

/// Whether the pinned llama.cpp's mtmd knows this projector type (clip-impl.h
/// `PROJECTOR_TYPE_NAMES`).
pub fn is_known_projector(name: &str) -> bool {
    llama_cpp::clip::PROJECTOR_NAMES.contains(&name)
}

/// Every projector type the pinned llama.cpp's mtmd knows.
pub fn projector_names() -> &'static [&'static str] {
    llama_cpp::clip::PROJECTOR_NAMES
}

use crate::read::{Header, Value};
use serde::Serialize;

/// How llama.cpp reads a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Loading fails without it.
    Required,
    /// May be absent; when present it must have an accepted type.
    Optional,
    /// Required only under the condition given (C++ source text); not checked.
    Conditional(&'static str),
}

/// One metadata key llama.cpp reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// Key name; `%s` stands for `general.architecture`.
    pub name: &'static str,
    /// Accepted value types, `|`-separated: `u32`, `f32`, `str`, ..., `*` any scalar, `[u32,i32]`
    /// an array of those elements, `[*]` any array; empty when the loader does not check.
    pub types: &'static str,
    /// Whether loading needs it.
    pub need: Need,
}

const fn r(name: &'static str, types: &'static str) -> Key {
    Key { name, types, need: Need::Required }
}

const fn o(name: &'static str, types: &'static str) -> Key {
    Key { name, types, need: Need::Optional }
}

const fn c(name: &'static str, types: &'static str, cond: &'static str) -> Key {
    Key { name, types, need: Need::Conditional(cond) }
}

/// What is wrong with one key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Problem {
    /// The key is absent.
    Missing,
    /// The key is present with a type the loader rejects.
    WrongType {
        /// Accepted types, as in [`Key::types`].
        expected: String,
        /// The stored type (`u32`, `[str]`, ...).
        found: String,
    },
    /// The key holds a value this llama.cpp does not know (a tokenizer, a projector type).
    UnknownValue {
        /// The value found.
        value: String,
    },
    /// A per-token array shorter than the token list.
    TooShort {
        /// Its length.
        len: u64,
        /// The number of tokens.
        min: u64,
    },
}

/// A key that keeps llama.cpp from loading the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyProblem {
    /// Full key name.
    pub key: String,
    /// What is wrong with it.
    #[serde(flatten)]
    pub problem: Problem,
    /// Which part of llama.cpp needs it.
    pub why: String,
}

/// An architecture llama.cpp cannot load, whatever the metadata says.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnknownArchitecture {
    /// Not in llama.cpp's list of architectures.
    #[error("llama.cpp {short} does not know architecture {0:?}", short = &LLAMA_CPP_COMMIT[..7])]
    Unknown(String),
    /// Named by llama.cpp but without a model implementation ("unsupported model architecture").
    #[error("llama.cpp {short} knows architecture {0:?} but cannot load it", short = &LLAMA_CPP_COMMIT[..7])]
    Unsupported(String),
}

/// Keys llama.cpp needs to load this file that its header lacks or stores with the wrong type, in
/// the order llama.cpp reads them; an error when it cannot load the architecture at all.
pub fn missing(header: &Header) -> Result<Vec<KeyProblem>, UnknownArchitecture> {
    let mut out = Vec::new();
    let arch = match header.get("general.architecture") {
        Some(Value::Str(a)) => a.as_str(),
        found => {
            let problem = match found {
                None => Problem::Missing,
                Some(v) => Problem::WrongType { expected: "str".into(), found: type_name(v) },
            };
            let why = "llama.cpp picks the model implementation by it".to_string();
            out.push(KeyProblem { key: "general.architecture".into(), problem, why });
            return Ok(out);
        }
    };
    if arch == "clip" {
        clip::check(header, &mut out);
        return Ok(out);
    }
    if llama_cpp::UNSUPPORTED.contains(&arch) {
        return Err(UnknownArchitecture::Unsupported(arch.to_string()));
    }
    let Some(&(_, file, own)) = llama_cpp::ARCHS.iter().find(|(n, _, _)| *n == arch) else {
        return Err(UnknownArchitecture::Unknown(arch.to_string()));
    };
    let generic = llama_cpp::GENERIC.iter().filter(|g| !own.iter().any(|k| k.name == g.name));
    for k in generic {
        check_key(header, arch, k, || "llama.cpp load_hparams (every architecture)".into(), &mut out);
    }
    for k in own {
        check_key(header, arch, k, || format!("llama.cpp load_hparams for {arch} (src/models/{file})"), &mut out);
    }
    vocab::check(header, &mut out);
    Ok(out)
}

/// The keys llama.cpp reads for an architecture (generic ones first), or `None` if it does not know it.
pub fn keys_for(arch: &str) -> Option<Vec<Key>> {
    let (_, _, own) = llama_cpp::ARCHS.iter().find(|(n, _, _)| *n == arch)?;
    let mut keys: Vec<Key> = llama_cpp::GENERIC.iter().filter(|g| !own.iter().any(|k| k.name == g.name)).copied().collect();
    keys.extend_from_slice(own);
    Some(keys)
}

/// Checks one key: presence when required, type whenever present.
fn check_key(header: &Header, arch: &str, k: &Key, why: impl FnOnce() -> String, out: &mut Vec<KeyProblem>) {
    let key = k.name.replace("%s", arch);
    let problem = match header.get(&key) {
        None if k.need == Need::Required => Problem::Missing,
        Some(v) if !matches!(k.need, Need::Conditional(_)) && !type_ok(k.types, v) => Problem::WrongType { expected: k.types.to_string(), found: type_name(v) },
        _ => return,
    };
    out.push(KeyProblem { key, problem, why: why() });
}

/// True when `v` has one of the types in `spec` (see [`Key::types`]).
pub fn type_ok(spec: &str, v: &Value) -> bool {
    if spec.is_empty() {
        return true;
    }
    let found = type_name(v);
    spec.split('|').any(|alt| match (alt.strip_prefix('[').and_then(|a| a.strip_suffix(']')), v) {
        (Some("*"), Value::Array(_)) => true,
        (Some(elems), Value::Array(_)) => elems.split(',').any(|e| found == format!("[{e}]")),
        (None, Value::Array(_)) | (Some(_), _) => false,
        (None, _) => alt == "*" || alt == found,
    })
}

/// The GGUF type of a value in the notation of [`Key::types`].
pub fn type_name(v: &Value) -> String {
    use crate::read::ValueType as T;
    let scalar = |t: T| match t {
        T::U8 => "u8",
        T::I8 => "i8",
        T::U16 => "u16",
        T::I16 => "i16",
        T::U32 => "u32",
        T::I32 => "i32",
        T::F32 => "f32",
        T::Bool => "bool",
        T::String => "str",
        T::Array => "array",
        T::U64 => "u64",
        T::I64 => "i64",
        T::F64 => "f64",
    };
    match v {
        Value::Array(a) => format!("[{}]", scalar(a.elem)),
        v => scalar(v.value_type()).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Array, ValueType};

    fn arr(elem: ValueType) -> Value {
        Value::Array(Array { elem, len: 0, items: vec![], byte_len: 0 })
    }

    #[test]
    fn type_specs() {
        assert!(type_ok("u32", &Value::U32(1)));
        assert!(!type_ok("u32", &Value::U64(1)));
        assert!(!type_ok("u32", &arr(ValueType::U32)));
        assert!(type_ok("u32|[u32,i32,bool]", &arr(ValueType::Bool)));
        assert!(!type_ok("u32|[u32,i32,bool]", &arr(ValueType::F32)));
        assert!(type_ok("*|[f32]", &Value::Str("x".into())));
        assert!(!type_ok("*|[f32]", &arr(ValueType::U32)));
        assert!(type_ok("[*]", &arr(ValueType::String)));
        assert!(!type_ok("[*]", &Value::U32(0)));
        assert!(type_ok("", &Value::F64(0.0)));
        assert_eq!(type_name(&arr(ValueType::String)), "[str]");
    }

    #[test]
    fn every_architecture_needs_the_basic_three() {
        for (arch, _, _) in llama_cpp::ARCHS {
            let keys = keys_for(arch).unwrap();
            for k in ["%s.context_length", "%s.embedding_length", "%s.block_count"] {
                assert!(keys.iter().any(|x| x.name == k && x.need == Need::Required), "{arch}: {k}");
            }
        }
        assert!(keys_for("no-such-arch").is_none());
    }
}
