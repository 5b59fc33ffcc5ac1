//! Parses a GGUF header (fixed header, metadata, tensor infos) from a byte slice.
//!
//! The parser never allocates from a count it read: vectors grow as items are actually
//! read, every length is checked against the bytes present, and counts beyond sane limits
//! are rejected as malformed before any work is done.

use super::error::{Defect, ParseError, Progress, Refusal};
use super::ggml_type::GgmlType;
use super::value::{Array, Value, ValueType};
use byteorder::{BigEndian, ByteOrder, LittleEndian};

// Limits below cite llama.cpp's reader, `ggml/src/gguf.cpp` (llama-cpp-python 0.3.36, llama.cpp
// 0c1e570), function `gguf_init_from_reader` unless said otherwise: what it refuses, the parser
// refuses (a hard error) or records as a [`Refusal`] when the file can still be read.

/// llama.cpp refuses more tensors than `SIZE_MAX / sizeof(gguf_tensor_info)` (gguf.cpp:527;
/// `sizeof(gguf_tensor_info)` is 344 on 64-bit hosts).
pub const LLAMA_MAX_TENSORS: u64 = u64::MAX / 344;
/// llama.cpp refuses more metadata pairs than `SIZE_MAX / sizeof(gguf_kv)` (gguf.cpp:538; 88 bytes).
pub const LLAMA_MAX_KVS: u64 = u64::MAX / 88;
/// A tensor count beyond this, in a file that ends before the tensor infos do, is called corrupt
/// rather than a download in progress: real files have a few thousand.
pub const MAX_TENSORS: u64 = 1 << 24;
/// As [`MAX_TENSORS`], for metadata pairs.
pub const MAX_KVS: u64 = 1 << 24;
/// `GGUF_MAX_ARRAY_ELEMENTS` (gguf.cpp:21, checked at 280): longer arrays are refused.
pub const MAX_ARRAY_LEN: u64 = 1 << 30;
/// `GGUF_MAX_STRING_LENGTH` (gguf.cpp:20, checked at 349): longer strings (values, keys, tensor names) are refused.
pub const MAX_STRING_LEN: u64 = 1 << 30;
/// A key longer than this that runs past the end of the file is corrupt, not cut by a download.
pub const MAX_PLAUSIBLE_KEY_LEN: u64 = 1 << 16;
/// A string or array needing more bytes than this that runs past the end of the file is corrupt,
/// not cut by a download: no GGUF writer stores metadata items this large.
pub const MAX_PLAUSIBLE_ITEM: u64 = 1 << 28;
/// `GGML_MAX_NAME` (ggml.h): a tensor name must be shorter (gguf.cpp:658 refuses `>=`).
pub const GGML_MAX_NAME: u64 = 64;
/// ggml supports at most 4 dimensions (GGML_MAX_DIMS); 0 dimensions is a scalar.
pub const MAX_DIMS: u32 = 4;
/// Nested arrays deeper than this are refused even by the tolerant reader (llama.cpp refuses any
/// nesting; one level is read and recorded as a [`Refusal`]).
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
    /// Length of the name as stored (the name may not be UTF-8 and is then shown lossily).
    pub name_len: u64,
}

impl TensorInfo {
    /// File offset of this info's `offset` field (for messages about the data offset).
    pub fn offset_field_at(&self) -> u64 {
        self.info_offset + 8 + self.name_len + 4 + 8 * self.dims.len() as u64 + 4
    }

    /// Number of elements, `None` on overflow.
    pub fn n_elements(&self) -> Option<u64> {
        self.dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }

    /// Exact data size from the type's block layout: `None` if the type is unknown,
    /// the row is not a whole number of blocks, or the size overflows.
    pub fn n_bytes(&self) -> Option<u64> {
        let t = self.ggml_type.traits()?;
        if !self.dims.first().unwrap_or(&1).is_multiple_of(t.block_size) {
            return None;
        }
        // ggml_nbytes: a tensor with a 0 dimension has no bytes, however large the others.
        if self.dims.contains(&0) {
            return Some(0);
        }
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
    /// Byte offset where the data section begins: the header end padded to the alignment, or
    /// the header end itself when there are no tensors (llama.cpp seeks to the padded offset only
    /// when `n_tensors > 0`, gguf.cpp:781; vocab-only files are not padded).
    pub data_offset: u64,
    /// What this tolerant reader read past but llama.cpp's reader refuses, in the order llama.cpp
    /// would meet them (`check` fails on each; `inspect` warns).
    pub refusals: Vec<Refusal>,
}

impl Header {
    /// Looks a metadata value up by key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.kvs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Parses a header from `buf`, which holds the file from its first byte (possibly not all
/// of it). On failure also returns how far the parse got.
pub fn parse(buf: &[u8]) -> Result<Header, (ParseError, Box<Progress>)> {
    parse_with_len(buf, buf.len() as u64)
}

/// [`parse`] for a `buf` that holds the first bytes of a file of `file_len` bytes. A string or
/// array running past the end of the buffer but not of the file is only truncated (read more);
/// one running past the end of the file is corrupt when no real file could need that much.
pub fn parse_with_len(buf: &[u8], file_len: u64) -> Result<Header, (ParseError, Box<Progress>)> {
    let mut p = Parser { buf, file_len: file_len.max(buf.len() as u64), pos: 0, big: false, progress: Progress::default(), refusals: Vec::new() };
    match p.header() {
        Ok(h) => Ok(h),
        Err(e) => {
            let e = match e {
                ParseError::Malformed { offset, defect, expected, found, .. } => {
                    ParseError::Malformed { offset, defect, expected, found, earlier: p.refusals.into() }
                }
                t => t,
            };
            Err((e, Box::new(p.progress)))
        }
    }
}

struct Parser<'a> {
    buf: &'a [u8],
    file_len: u64,
    pos: usize,
    big: bool,
    progress: Progress,
    refusals: Vec<Refusal>,
}

impl<'a> Parser<'a> {
    fn offset(&self) -> u64 {
        self.pos as u64
    }

    fn refuse(&mut self, defect: Defect, offset: u64, message: String) {
        self.refusals.push(Refusal { defect, offset, message });
    }

    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], ParseError> {
        let buf: &'a [u8] = self.buf;
        let Some(s) = usize::try_from(n).ok().and_then(|n| buf.get(self.pos..self.pos.checked_add(n)?)) else {
            return Err(ParseError::Truncated { offset: self.offset(), what: what.to_string(), needed: self.offset().saturating_add(n) });
        };
        self.pos += s.len();
        Ok(s)
    }

    fn u8(&mut self, what: &str) -> Result<u8, ParseError> {
        let at = self.offset();
        match self.take(1, what)? {
            [b] => Ok(*b),
            _ => Err(ParseError::Truncated { offset: at, what: what.to_string(), needed: at.saturating_add(1) }),
        }
    }

    /// Fails when `n` bytes from here run past the end of the file and `n` exceeds `plausible`:
    /// llama.cpp refuses any item running past the end (gguf.cpp:288, 295, 353), and one this
    /// large is a corrupt length, not a download cut short (which stays `Truncated`).
    fn past_end(&self, n: u64, plausible: u64, at: u64, what: &str) -> Result<(), ParseError> {
        let remaining = self.file_len.saturating_sub(self.offset());
        if n > remaining && n > plausible {
            return Err(ParseError::malformed(
                Defect::Length,
                at,
                format!("{what} within the file ({remaining} bytes left)"),
                format!("a length of {n} bytes, running past the end of the file"),
            ));
        }
        Ok(())
    }

    fn u32(&mut self, what: &str) -> Result<u32, ParseError> {
        let b = self.take(4, what)?;
        Ok(if self.big { BigEndian::read_u32(b) } else { LittleEndian::read_u32(b) })
    }

    fn u64(&mut self, what: &str) -> Result<u64, ParseError> {
        let b = self.take(8, what)?;
        Ok(if self.big { BigEndian::read_u64(b) } else { LittleEndian::read_u64(b) })
    }

    /// A length-prefixed string, refused beyond `GGUF_MAX_STRING_LENGTH` (gguf.cpp:349) and, when
    /// it runs past the end of the file, beyond `plausible`.
    fn string(&mut self, what: &str, plausible: u64) -> Result<&'a [u8], ParseError> {
        let at = self.offset();
        let len = self.u64(what)?;
        if len > MAX_STRING_LEN {
            return Err(ParseError::malformed(Defect::Length, at, format!("{what} of at most {MAX_STRING_LEN} bytes"), format!("length {len}")));
        }
        self.past_end(len, plausible, at, what)?;
        self.take(len, what)
    }

    fn header(&mut self) -> Result<Header, ParseError> {
        let magic = self.take(4, "the magic \"GGUF\"")?;
        if magic != b"GGUF" {
            let found = if magic == b"FUGG" { "\"FUGG\" (byte-swapped magic)".to_string() } else { format!("{:?}", String::from_utf8_lossy(magic)) };
            return Err(ParseError::malformed(Defect::Magic, 0, "the magic \"GGUF\"", found));
        }
        let raw = self.take(4, "the version")?;
        let (le, be) = (LittleEndian::read_u32(raw), BigEndian::read_u32(raw));
        // llama.cpp reads the version in host order and refuses one whose low 16 bits are zero
        // (gguf.cpp:507): that is how a big-endian file looks on a little-endian host. It is read
        // here (gguf-py writes them for s390x) and recorded as a refusal.
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
        if self.big {
            let msg = format!(
                "big-endian GGUF (version {version} reads as {le} on a little-endian host): llama.cpp refuses it on x86 and ARM hosts (gguf.cpp:507); convert it with gguf-py's gguf_convert_endian.py"
            );
            self.refuse(Defect::ByteOrder, 4, msg);
        }
        self.progress.version = Some(version);

        let at = self.offset();
        let tensor_count = self.u64("the tensor count")?;
        if tensor_count > LLAMA_MAX_TENSORS {
            return Err(ParseError::malformed(Defect::Counts, at, format!("a tensor count in [0, {LLAMA_MAX_TENSORS}]"), (tensor_count as i64).to_string()));
        }
        self.progress.tensor_count = Some(tensor_count);
        let at = self.offset();
        let kv_count = self.u64("the metadata count")?;
        if kv_count > LLAMA_MAX_KVS {
            return Err(ParseError::malformed(Defect::Counts, at, format!("a metadata count in [0, {LLAMA_MAX_KVS}]"), (kv_count as i64).to_string()));
        }
        self.progress.kv_count = Some(kv_count);

        let kvs = self.kvs(kv_count).map_err(|e| implausible_count(e, kv_count, MAX_KVS, 16, "metadata"))?;
        let alignment = self.alignment(&kvs)?;

        let mut tensors: Vec<TensorInfo> = Vec::new();
        let mut names = std::collections::HashSet::new();
        for i in 0..tensor_count {
            let t = self.tensor_info(i, &mut names).map_err(|e| implausible_count(e, tensor_count, MAX_TENSORS, 24, "tensor"))?;
            tensors.push(t);
            self.progress.tensors_read = i + 1;
        }
        let header_end = self.offset();
        let data_offset = if tensors.is_empty() { header_end } else { header_end.div_ceil(alignment).saturating_mul(alignment) };
        let refusals = std::mem::take(&mut self.refusals);
        Ok(Header { version, big_endian: self.big, kvs, tensors, alignment, header_end, data_offset, refusals })
    }

    fn kvs(&mut self, kv_count: u64) -> Result<Vec<(String, Value)>, ParseError> {
        let mut kvs: Vec<(String, Value)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for i in 0..kv_count {
            let at = self.offset();
            let key_bytes = self.string("a metadata key", MAX_PLAUSIBLE_KEY_LEN)?;
            // llama.cpp compares keys as bytes and does not require UTF-8.
            let key = String::from_utf8_lossy(key_bytes).into_owned();
            if key_bytes.is_empty() {
                self.refuse(Defect::EmptyKey, at, format!("metadata key #{i} is empty: llama.cpp refuses empty keys (gguf.cpp:572)"));
            }
            if !seen.insert(key_bytes) {
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
        Ok(kvs)
    }

    /// `general.alignment`: llama.cpp requires a u32 (gguf.cpp:624) that is a non-zero power of two
    /// (gguf.cpp:633). Another integer type with such a value is read and recorded as a refusal.
    fn alignment(&mut self, kvs: &[(String, Value)]) -> Result<u64, ParseError> {
        let Some((_, v)) = kvs.iter().find(|(k, _)| k == "general.alignment") else { return Ok(DEFAULT_ALIGNMENT) };
        let at = self.offset();
        // The type is judged first (gguf.cpp:623), then the value.
        if v.value_type() != ValueType::U32 {
            let msg = format!("general.alignment is stored as {:?}; llama.cpp requires u32 (gguf.cpp:624)", v.value_type()).to_lowercase();
            self.refuse(Defect::AlignmentType, at, msg);
        }
        match v.as_u64() {
            Some(a) if a.is_power_of_two() => Ok(a),
            _ => Err(ParseError::malformed(Defect::Alignment, at, "general.alignment to be a power of two", v.to_string())),
        }
    }

    fn tensor_info(&mut self, index: u64, names: &mut std::collections::HashSet<&'a [u8]>) -> Result<TensorInfo, ParseError> {
        let info_offset = self.offset();
        let name_bytes = self.string("a tensor name", GGML_MAX_NAME - 1)?;
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        let name_len = name_bytes.len() as u64;
        if name_len >= GGML_MAX_NAME {
            let msg =
                format!("tensor #{index} name {name:?} is {name_len} bytes; llama.cpp allows at most {} (GGML_MAX_NAME, gguf.cpp:658)", GGML_MAX_NAME - 1);
            self.refuse(Defect::TensorName, info_offset, msg);
        }
        if !names.insert(name_bytes) {
            return Err(ParseError::malformed(
                Defect::DuplicateTensor,
                info_offset,
                format!("a unique tensor name (tensor #{index})"),
                format!("duplicate name {name:?}"),
            ));
        }
        let at = self.offset();
        let n_dims = self.u32("a tensor's dimension count")?;
        if n_dims > MAX_DIMS {
            return Err(ParseError::malformed(Defect::Dims, at, format!("0..={MAX_DIMS} dimensions for tensor #{index} {name:?}"), n_dims.to_string()));
        }
        let dims_at = self.offset();
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(self.u64("a tensor dimension")?);
        }
        // gguf.cpp:693: every ne must be >= 0 as an int64_t.
        if let Some(d) = dims.iter().find(|&&d| d > i64::MAX as u64) {
            return Err(ParseError::malformed(Defect::Dims, dims_at, format!("non-negative dimensions for tensor {name:?}"), format!("{}", *d as i64)));
        }
        if !elements_fit_i64(&dims) {
            return Err(ParseError::malformed(
                Defect::Dims,
                dims_at,
                format!("dimensions of tensor {name:?} whose element count is below 2^63 (gguf.cpp:714)"),
                format!("{dims:?}"),
            ));
        }
        let type_at = self.offset();
        let ggml_type = GgmlType(self.u32("a tensor type")?);
        match ggml_type.traits() {
            None => {
                let msg = format!("tensor {name:?} has ggml type {}, which this llama.cpp does not know (gguf.cpp:731, 742)", ggml_type.0);
                self.refuse(Defect::TensorType, type_at, msg);
            }
            Some(t) => {
                let ne0 = dims.first().copied().unwrap_or(1);
                if ne0 % t.block_size != 0 {
                    return Err(ParseError::malformed(
                        Defect::BlockSize,
                        type_at,
                        format!("a row size of {name:?} divisible by the {} block size {} (gguf.cpp:742)", t.name, t.block_size),
                        format!("dims {dims:?}"),
                    ));
                }
                // gguf.cpp:750: nelements / block size must not exceed SIZE_MAX / type size.
                let elements = dims.iter().fold(1u64, |a, &d| a.saturating_mul(d));
                if elements / t.block_size > u64::MAX / t.type_size {
                    return Err(ParseError::malformed(
                        Defect::TensorSize,
                        type_at,
                        format!("a byte size of {name:?} below 2^64 (gguf.cpp:750)"),
                        format!("{dims:?} of {}", t.name),
                    ));
                }
            }
        }
        let offset = self.u64("a tensor data offset")?;
        Ok(TensorInfo { name, dims, ggml_type, offset, info_offset, name_len })
    }

    fn value(&mut self, vt: ValueType, key: &str, depth: u32) -> Result<Value, ParseError> {
        let what = "a metadata value";
        Ok(match vt {
            ValueType::U8 => Value::U8(self.u8(what)?),
            ValueType::I8 => Value::I8(self.u8(what)? as i8),
            ValueType::Bool => Value::Bool(self.u8(what)? != 0),
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
                let b = self.string("a string value", MAX_PLAUSIBLE_ITEM)?;
                // Token strings need not be valid UTF-8; values are shown, never trusted.
                Value::Str(String::from_utf8_lossy(b).into_owned())
            }
            ValueType::Array => Value::Array(self.array(key, depth)?),
        })
    }

    fn array(&mut self, key: &str, depth: u32) -> Result<Array, ParseError> {
        let at = self.offset();
        let type_id = self.u32("an array element type")?;
        let elem = ValueType::from_id(type_id);
        // gguf.cpp:583-587: the element type and length are read before the type is judged.
        let len_at = self.offset();
        let len = self.u64("an array length")?;
        let elem =
            elem.ok_or_else(|| ParseError::malformed(Defect::ValueType, at, format!("an array element type 0..=12 for {key:?}"), format!("type {type_id}")))?;
        if elem == ValueType::Array {
            if depth + 1 >= MAX_ARRAY_DEPTH {
                return Err(ParseError::malformed(Defect::Nesting, at, format!("arrays nested at most {MAX_ARRAY_DEPTH} deep in {key:?}"), "deeper nesting"));
            }
            if depth == 0 {
                self.refuse(Defect::Nesting, at, format!("{key:?} is an array of arrays, which llama.cpp refuses (gguf.cpp:609)"));
            }
        }
        if len > MAX_ARRAY_LEN {
            return Err(ParseError::malformed(
                Defect::Length,
                len_at,
                format!("an array of at most {MAX_ARRAY_LEN} elements for {key:?} (gguf.cpp:280)"),
                format!("length {len}"),
            ));
        }
        let start = self.offset();
        let mut items = Vec::new();
        // llama.cpp checks the array's minimum size (8 bytes per string) against the bytes left.
        let min_size = len.saturating_mul(elem.fixed_size().unwrap_or(8));
        self.past_end(min_size, MAX_PLAUSIBLE_ITEM, len_at, &format!("array {key:?}"))?;
        if let Some(size) = elem.fixed_size() {
            // Checked before decoding so a short file reports the whole array's size.
            if min_size > (self.buf.len() - self.pos) as u64 {
                return Err(ParseError::Truncated { offset: start, what: format!("array {key:?}"), needed: start.saturating_add(min_size) });
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
                    self.string("a string in an array", MAX_PLAUSIBLE_ITEM)?;
                } else {
                    self.value(elem, key, depth + 1)?;
                }
            }
        }
        Ok(Array { elem, len, items, byte_len: self.offset() - start })
    }
}

/// True when llama.cpp's element-count check (gguf.cpp:700-720, in `int64_t`, skipping
/// dimensions of 0 or 1) passes for `dims` (each already below 2^63).
fn elements_fit_i64(dims: &[u64]) -> bool {
    let ne = |i: usize| dims.get(i).copied().unwrap_or(1) as i64;
    let mut current = ne(0);
    for i in 1..MAX_DIMS as usize {
        let d = ne(i);
        if d > 1 && i64::MAX / d < current {
            return false;
        }
        current = current.wrapping_mul(d);
    }
    true
}

/// A header that ends inside its metadata or tensor infos is a download cut short, unless the
/// count it was reading towards is beyond any real file (then the count is corrupt).
fn implausible_count(e: ParseError, count: u64, plausible: u64, min_item_bytes: u64, what: &str) -> ParseError {
    match e {
        ParseError::Truncated { offset, .. } if count > plausible => ParseError::malformed(
            Defect::Counts,
            offset,
            format!("a {what} count a file can hold (at most {plausible} in any real file; each item takes at least {min_item_bytes} bytes)"),
            format!("{count}, with the file ending at byte {offset}"),
        ),
        e => e,
    }
}
