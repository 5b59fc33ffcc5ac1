//! Parses a GGUF header (fixed header, metadata, tensor infos) from a byte slice.
//!
//! The parser never allocates from a count it read: vectors grow as items are actually
//! read, every length is checked against the bytes present, and counts beyond sane limits
//! are rejected as malformed before any work is done.

use super::error::{Defect, ParseError, Progress};
use super::ggml_type::GgmlType;
use super::value::{Array, Value, ValueType};
use byteorder::{BigEndian, ByteOrder, LittleEndian};

/// Largest tensor count we accept; real files have a few thousand.
pub const MAX_TENSORS: u64 = 1 << 24;
/// Largest metadata pair count we accept.
pub const MAX_KVS: u64 = 1 << 24;
/// Largest array length we accept (vocabularies are ~10^6).
pub const MAX_ARRAY_LEN: u64 = 1 << 31;
/// Largest key or tensor-name length we accept (llama.cpp caps tensor names at 63).
pub const MAX_NAME_LEN: u64 = 1 << 16;
/// Largest string value we accept (chat templates are kilobytes).
pub const MAX_STRING_LEN: u64 = 1 << 30;
/// ggml supports at most 4 dimensions (GGML_MAX_DIMS).
pub const MAX_DIMS: u32 = 4;
/// Nested arrays deeper than this are refused (llama.cpp refuses any nesting).
const MAX_ARRAY_DEPTH: u32 = 2;
/// Alignment when `general.alignment` is absent (GGUF_DEFAULT_ALIGNMENT).
pub const DEFAULT_ALIGNMENT: u64 = 32;

/// One tensor info as stored in the header.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    /// Tensor name, e.g. `blk.3.attn_k.weight`.
    pub name: String,
    /// Dimensions, innermost first (ggml `ne`).
    pub dims: Vec<u64>,
    /// ggml type id.
    pub ggml_type: GgmlType,
    /// Offset of its data relative to the start of the data section.
    pub offset: u64,
    /// Byte offset in the file where this tensor info begins (for messages).
    pub info_offset: u64,
}

impl TensorInfo {
    /// File offset of this info's `offset` field (for messages about the data offset).
    pub fn offset_field_at(&self) -> u64 {
        self.info_offset + 8 + self.name.len() as u64 + 4 + 8 * self.dims.len() as u64 + 4
    }

    /// Number of elements, `None` on overflow.
    pub fn n_elements(&self) -> Option<u64> {
        self.dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }

    /// Exact data size from the type's block layout: `None` if the type is unknown,
    /// the row is not a whole number of blocks, or the size overflows.
    pub fn n_bytes(&self) -> Option<u64> {
        let row = self.ggml_type.row_bytes(*self.dims.first().unwrap_or(&1))?;
        self.dims.iter().skip(1).try_fold(row, |acc, &d| acc.checked_mul(d))
    }
}

/// A parsed GGUF header.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// GGUF version (2 or 3).
    pub version: u32,
    /// True for a big-endian file (converted with `--bigendian`, for s390x).
    pub big_endian: bool,
    /// Metadata pairs in file order.
    pub kvs: Vec<(String, Value)>,
    /// Tensor infos in file order.
    pub tensors: Vec<TensorInfo>,
    /// Data alignment (`general.alignment` or 32).
    pub alignment: u64,
    /// Byte offset where the tensor infos end.
    pub header_end: u64,
    /// Byte offset where the data section begins (header end, aligned).
    pub data_offset: u64,
}

impl Header {
    /// Looks a metadata value up by key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.kvs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Parses a header from `buf`, which holds the file from its first byte (possibly not all
/// of it). On failure also returns how far the parse got.
#[allow(clippy::result_large_err)] // the progress is what makes a truncation useful
pub fn parse(buf: &[u8]) -> Result<Header, (ParseError, Progress)> {
    let mut p = Parser { buf, pos: 0, big: false, progress: Progress::default() };
    match p.header() {
        Ok(h) => Ok(h),
        Err(e) => Err((e, p.progress)),
    }
}

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
    big: bool,
    progress: Progress,
}

impl<'a> Parser<'a> {
    fn offset(&self) -> u64 {
        self.pos as u64
    }

    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], ParseError> {
        let remaining = (self.buf.len() - self.pos) as u64;
        if n > remaining {
            return Err(ParseError::Truncated { offset: self.offset(), what: what.to_string(), needed: self.offset().saturating_add(n) });
        }
        let s = &self.buf[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn u32(&mut self, what: &str) -> Result<u32, ParseError> {
        let b = self.take(4, what)?;
        Ok(if self.big { BigEndian::read_u32(b) } else { LittleEndian::read_u32(b) })
    }

    fn u64(&mut self, what: &str) -> Result<u64, ParseError> {
        let b = self.take(8, what)?;
        Ok(if self.big { BigEndian::read_u64(b) } else { LittleEndian::read_u64(b) })
    }

    /// A length-prefixed string; `limit` bounds the length before anything is read.
    fn string(&mut self, what: &str, limit: u64) -> Result<&'a [u8], ParseError> {
        let at = self.offset();
        let len = self.u64(what)?;
        if len > limit {
            return Err(ParseError::malformed(Defect::Length, at, format!("{what} of at most {limit} bytes"), format!("length {len}")));
        }
        self.take(len, what)
    }

    fn utf8(&self, bytes: &[u8], at: u64, what: &str) -> Result<String, ParseError> {
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| ParseError::malformed(Defect::Utf8, at, format!("{what} in UTF-8"), "invalid UTF-8"))
    }

    fn header(&mut self) -> Result<Header, ParseError> {
        let magic = self.take(4, "the magic \"GGUF\"")?;
        if magic != b"GGUF" {
            let found = if magic == b"FUGG" { "\"FUGG\" (byte-swapped magic)".to_string() } else { format!("{:?}", String::from_utf8_lossy(magic)) };
            return Err(ParseError::malformed(Defect::Magic, 0, "the magic \"GGUF\"", found));
        }
        let raw = self.take(4, "the version")?;
        let (le, be) = (LittleEndian::read_u32(raw), BigEndian::read_u32(raw));
        // A big-endian file's version reads as a huge little-endian number (gguf-py's test too).
        let version = if le & 0xFFFF == 0 && be != 0 {
            self.big = true;
            be
        } else {
            le
        };
        if version == 1 {
            return Err(ParseError::malformed(Defect::Version, 4, "GGUF version 2 or 3", "version 1 (pre-2023 format, not supported)"));
        }
        if version != 2 && version != 3 {
            return Err(ParseError::malformed(Defect::Version, 4, "GGUF version 2 or 3", format!("version {version}")));
        }
        self.progress.version = Some(version);

        let at = self.offset();
        let tensor_count = self.u64("the tensor count")?;
        if tensor_count > MAX_TENSORS {
            return Err(ParseError::malformed(Defect::Counts, at, format!("a tensor count of at most {MAX_TENSORS}"), tensor_count.to_string()));
        }
        self.progress.tensor_count = Some(tensor_count);
        let at = self.offset();
        let kv_count = self.u64("the metadata count")?;
        if kv_count > MAX_KVS {
            return Err(ParseError::malformed(Defect::Counts, at, format!("a metadata count of at most {MAX_KVS}"), kv_count.to_string()));
        }
        self.progress.kv_count = Some(kv_count);

        let mut kvs: Vec<(String, Value)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for i in 0..kv_count {
            let at = self.offset();
            let key_bytes = self.string("a metadata key", MAX_NAME_LEN)?;
            let key = self.utf8(key_bytes, at, "metadata key")?;
            if !seen.insert(key.clone()) {
                return Err(ParseError::malformed(Defect::DuplicateKey, at, format!("a unique metadata key (pair #{i})"), format!("duplicate key {key:?}")));
            }
            let at = self.offset();
            let type_id = self.u32("a metadata value type")?;
            let vt = ValueType::from_id(type_id)
                .ok_or_else(|| ParseError::malformed(Defect::ValueType, at, format!("a value type 0..=12 for {key:?}"), format!("type {type_id}")))?;
            let value = self.value(vt, &key, 0)?;
            if key == "general.architecture" {
                self.progress.architecture = value.as_str().map(str::to_owned);
            }
            kvs.push((key, value));
            self.progress.kvs_read = i + 1;
        }

        let alignment = match kvs.iter().find(|(k, _)| k == "general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some((_, v)) => match v.as_u64() {
                Some(a) if a.is_power_of_two() => a,
                _ => return Err(ParseError::malformed(Defect::Alignment, self.offset(), "general.alignment to be a power of two", v.to_string())),
            },
        };

        let mut tensors: Vec<TensorInfo> = Vec::new();
        let mut names = std::collections::HashSet::new();
        for i in 0..tensor_count {
            let t = self.tensor_info(i)?;
            if !names.insert(t.name.clone()) {
                return Err(ParseError::malformed(
                    Defect::DuplicateTensor,
                    t.info_offset,
                    format!("a unique tensor name (tensor #{i})"),
                    format!("duplicate name {:?}", t.name),
                ));
            }
            tensors.push(t);
            self.progress.tensors_read = i + 1;
        }
        let header_end = self.offset();
        let data_offset = header_end.div_ceil(alignment) * alignment;
        Ok(Header { version, big_endian: self.big, kvs, tensors, alignment, header_end, data_offset })
    }

    fn tensor_info(&mut self, index: u64) -> Result<TensorInfo, ParseError> {
        let info_offset = self.offset();
        let name_bytes = self.string("a tensor name", MAX_NAME_LEN)?;
        let name = self.utf8(name_bytes, info_offset, "tensor name")?;
        let at = self.offset();
        let n_dims = self.u32("a tensor's dimension count")?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(ParseError::malformed(Defect::Dims, at, format!("1..={MAX_DIMS} dimensions for tensor #{index} {name:?}"), n_dims.to_string()));
        }
        let dims_at = self.offset();
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(self.u64("a tensor dimension")?);
        }
        let ggml_type = GgmlType(self.u32("a tensor type")?);
        let offset = self.u64("a tensor data offset")?;
        let info = TensorInfo { name, dims, ggml_type, offset, info_offset };
        if info.n_elements().is_none() {
            return Err(ParseError::malformed(
                Defect::Dims,
                dims_at,
                format!("dimensions of tensor {:?} whose product fits in 64 bits", info.name),
                format!("{:?}", info.dims),
            ));
        }
        Ok(info)
    }

    fn value(&mut self, vt: ValueType, key: &str, depth: u32) -> Result<Value, ParseError> {
        let what = "a metadata value";
        Ok(match vt {
            ValueType::U8 => Value::U8(self.take(1, what)?[0]),
            ValueType::I8 => Value::I8(self.take(1, what)?[0] as i8),
            ValueType::Bool => Value::Bool(self.take(1, what)?[0] != 0),
            ValueType::U16 | ValueType::I16 => {
                let b = self.take(2, what)?;
                let v = if self.big { BigEndian::read_u16(b) } else { LittleEndian::read_u16(b) };
                if vt == ValueType::U16 { Value::U16(v) } else { Value::I16(v as i16) }
            }
            ValueType::U32 => Value::U32(self.u32(what)?),
            ValueType::I32 => Value::I32(self.u32(what)? as i32),
            ValueType::F32 => Value::F32(f32::from_bits(self.u32(what)?)),
            ValueType::U64 => Value::U64(self.u64(what)?),
            ValueType::I64 => Value::I64(self.u64(what)? as i64),
            ValueType::F64 => Value::F64(f64::from_bits(self.u64(what)?)),
            ValueType::String => {
                let b = self.string("a string value", MAX_STRING_LEN)?;
                // Token strings need not be valid UTF-8; values are shown, never trusted.
                Value::Str(String::from_utf8_lossy(b).into_owned())
            }
            ValueType::Array => Value::Array(self.array(key, depth)?),
        })
    }

    fn array(&mut self, key: &str, depth: u32) -> Result<Array, ParseError> {
        let at = self.offset();
        let type_id = self.u32("an array element type")?;
        let elem = ValueType::from_id(type_id)
            .ok_or_else(|| ParseError::malformed(Defect::ValueType, at, format!("an array element type 0..=12 for {key:?}"), format!("type {type_id}")))?;
        if elem == ValueType::Array && depth + 1 >= MAX_ARRAY_DEPTH {
            return Err(ParseError::malformed(Defect::Nesting, at, format!("arrays nested at most {MAX_ARRAY_DEPTH} deep in {key:?}"), "deeper nesting"));
        }
        let at = self.offset();
        let len = self.u64("an array length")?;
        if len > MAX_ARRAY_LEN {
            return Err(ParseError::malformed(
                Defect::Length,
                at,
                format!("an array of at most {MAX_ARRAY_LEN} elements for {key:?}"),
                format!("length {len}"),
            ));
        }
        let start = self.offset();
        let mut items = Vec::new();
        if let Some(size) = elem.fixed_size() {
            // Checked before decoding so a short file reports the whole array's size.
            let total =
                len.checked_mul(size).ok_or_else(|| ParseError::malformed(Defect::Length, at, "an array size that fits in 64 bits", len.to_string()))?;
            if total > (self.buf.len() - self.pos) as u64 {
                return Err(ParseError::Truncated { offset: start, what: format!("array {key:?}"), needed: start.saturating_add(total) });
            }
            let keep = len.min(Array::DECODE_LIMIT);
            for _ in 0..keep {
                items.push(self.value(elem, key, depth + 1)?);
            }
            self.take((len - keep) * size, "array elements")?;
        } else {
            for i in 0..len {
                if i < Array::STRING_PREFIX {
                    items.push(self.value(elem, key, depth + 1)?);
                } else if elem == ValueType::String {
                    self.string("a string in an array", MAX_STRING_LEN)?;
                } else {
                    self.value(elem, key, depth + 1)?;
                }
            }
        }
        Ok(Array { elem, len, items, byte_len: self.offset() - start })
    }
}
