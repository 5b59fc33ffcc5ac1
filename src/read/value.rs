//! Metadata values as stored in GGUF key/value pairs.

use serde::Serialize;

/// GGUF metadata value type ids (gguf spec, `enum gguf_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    Bool,
    String,
    Array,
    U64,
    I64,
    F64,
}

impl ValueType {
    /// Maps a stored type id; `None` for ids the spec does not define.
    pub fn from_id(id: u32) -> Option<ValueType> {
        use ValueType::*;
        Some(match id {
            0 => U8,
            1 => I8,
            2 => U16,
            3 => I16,
            4 => U32,
            5 => I32,
            6 => F32,
            7 => Bool,
            8 => String,
            9 => Array,
            10 => U64,
            11 => I64,
            12 => F64,
            _ => return None,
        })
    }

    /// Size in bytes of a fixed-size value; `None` for strings and arrays.
    pub fn fixed_size(self) -> Option<u64> {
        use ValueType::*;
        match self {
            U8 | I8 | Bool => Some(1),
            U16 | I16 => Some(2),
            U32 | I32 | F32 => Some(4),
            U64 | I64 | F64 => Some(8),
            String | Array => None,
        }
    }
}

/// One metadata value. Arrays keep their length and only a bounded prefix of items.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    Str(String),
    U64(u64),
    I64(i64),
    F64(f64),
    Array(Array),
}

/// An array value: element type, declared length, and the items decoded (all of them
/// for numeric arrays up to [`Array::DECODE_LIMIT`], a short prefix for strings).
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Element type.
    pub elem: ValueType,
    /// Number of elements the file declares (and holds: the parser checked).
    pub len: u64,
    /// Decoded leading elements; `items.len() < len` means the rest was skipped.
    pub items: Vec<Value>,
    /// Bytes the array occupies in the file, after its header.
    pub byte_len: u64,
}

impl Array {
    /// Numeric and bool arrays up to this length are decoded whole (per-layer hparams).
    pub const DECODE_LIMIT: u64 = 1 << 16;
    /// String and nested arrays keep only this many items (vocabularies are huge).
    pub const STRING_PREFIX: u64 = 16;

    /// True when every element was decoded.
    pub fn is_complete(&self) -> bool {
        self.items.len() as u64 == self.len
    }
}

impl Value {
    /// The value as an unsigned integer, if it is a non-negative integer (or bool).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            Value::Bool(v) => Some(v.into()),
            _ => None,
        }
    }

    /// The value as a float, for any numeric type.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            Value::I8(v) => Some(v.into()),
            Value::I16(v) => Some(v.into()),
            Value::I32(v) => Some(v.into()),
            Value::I64(v) => Some(v as f64),
            _ => self.as_u64().map(|v| v as f64),
        }
    }

    /// The value as a string slice.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an array.
    pub fn as_array(&self) -> Option<&Array> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Its type.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::U8(_) => ValueType::U8,
            Value::I8(_) => ValueType::I8,
            Value::U16(_) => ValueType::U16,
            Value::I16(_) => ValueType::I16,
            Value::U32(_) => ValueType::U32,
            Value::I32(_) => ValueType::I32,
            Value::F32(_) => ValueType::F32,
            Value::Bool(_) => ValueType::Bool,
            Value::Str(_) => ValueType::String,
            Value::U64(_) => ValueType::U64,
            Value::I64(_) => ValueType::I64,
            Value::F64(_) => ValueType::F64,
            Value::Array(_) => ValueType::Array,
        }
    }

    /// JSON form: scalars as themselves, arrays as `{type, len, items?}` (items only when complete).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::U8(v) => json!(v),
            Value::I8(v) => json!(v),
            Value::U16(v) => json!(v),
            Value::I16(v) => json!(v),
            Value::U32(v) => json!(v),
            Value::I32(v) => json!(v),
            Value::F32(v) => json!(v),
            Value::Bool(v) => json!(v),
            Value::Str(v) => json!(v),
            Value::U64(v) => json!(v),
            Value::I64(v) => json!(v),
            Value::F64(v) => json!(v),
            Value::Array(a) => {
                let mut o = serde_json::Map::new();
                o.insert("type".into(), json!("array"));
                o.insert("elem_type".into(), json!(a.elem));
                o.insert("len".into(), json!(a.len));
                if a.is_complete() && a.len <= 1024 {
                    o.insert("items".into(), a.items.iter().map(Value::to_json).collect());
                }
                serde_json::Value::Object(o)
            }
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Str(s) => {
                let short: String = s.chars().take(60).collect();
                if short.len() < s.len() { write!(f, "{:?}... ({} bytes)", short, s.len()) } else { write!(f, "{s:?}") }
            }
            Value::Array(a) => {
                write!(f, "[{:?}; {}]", a.elem, a.len)?;
                if a.is_complete() && a.len <= 8 {
                    let items: Vec<String> = a.items.iter().map(|v| v.to_string()).collect();
                    write!(f, " {}", items.join(", "))?;
                }
                Ok(())
            }
            Value::U8(v) => write!(f, "{v}"),
            Value::I8(v) => write!(f, "{v}"),
            Value::U16(v) => write!(f, "{v}"),
            Value::I16(v) => write!(f, "{v}"),
            Value::U32(v) => write!(f, "{v}"),
            Value::I32(v) => write!(f, "{v}"),
            Value::F32(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::U64(v) => write!(f, "{v}"),
            Value::I64(v) => write!(f, "{v}"),
            Value::F64(v) => write!(f, "{v}"),
        }
    }
}
