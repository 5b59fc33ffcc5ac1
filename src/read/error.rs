//! Typed errors of the read layer. Every variant carries the byte offset where reading failed.

use crate::rules::RuleId;
use serde::Serialize;
use std::path::PathBuf;

/// How far a parse got before it stopped; reported with a truncated header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// GGUF version, when the fixed header was read.
    pub version: Option<u32>,
    /// Tensor count the header declares.
    pub tensor_count: Option<u64>,
    /// Metadata key/value count the header declares.
    pub kv_count: Option<u64>,
    /// Key/value pairs read completely.
    pub kvs_read: u64,
    /// Tensor infos read completely.
    pub tensors_read: u64,
    /// `general.architecture`, when it was among the pairs read.
    pub architecture: Option<String>,
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.version {
            None => write!(f, "nothing parsed yet"),
            Some(v) => {
                write!(f, "parsed GGUF v{v}")?;
                if let Some(a) = &self.architecture {
                    write!(f, " ({a})")?;
                }
                write!(f, ", {}/{} metadata pairs", self.kvs_read, self.kv_count.unwrap_or(0))?;
                write!(f, ", {}/{} tensor infos", self.tensors_read, self.tensor_count.unwrap_or(0))
            }
        }
    }
}

/// Why a GGUF file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or mapped.
    #[error("{path}: cannot read: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    /// The file ends inside the header: it may still be downloading.
    #[error(
        "{path}: incomplete: header cut at byte {offset} while reading {what}; \
         {have} bytes present, at least {needed} needed; {progress}"
    )]
    Truncated { path: PathBuf, offset: u64, what: String, have: u64, needed: u64, progress: Box<Progress> },
    /// The bytes are not a valid GGUF header.
    #[error("{path}: malformed at byte {offset}: expected {expected}, found {found}")]
    Malformed {
        path: PathBuf,
        offset: u64,
        defect: Defect,
        expected: String,
        found: String,
        /// What llama.cpp would have refused before this point (it stops at the first).
        earlier: Box<[Refusal]>,
    },
}

/// Something the tolerant reader reads past but llama.cpp's `gguf_init_from_file` refuses: a
/// failing rule for `check`, a warning for `inspect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The rule it breaks.
    pub defect: Defect,
    /// Byte offset of the field concerned.
    pub offset: u64,
    /// One line: what llama.cpp refuses and where its source says so.
    pub message: String,
}

/// Which rule of the GGUF format a malformed file breaks; `gguf-meter check` reports it by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Defect {
    /// The file does not start with `GGUF`.
    Magic,
    /// A version other than 2 or 3.
    Version,
    /// A tensor or metadata count beyond any real file.
    Counts,
    /// A string longer than 2^30 bytes, an array longer than 2^30 elements, or one running past
    /// the end of the file with a length no real file has.
    Length,
    /// A metadata value type (or array element type) outside 0..=12.
    ValueType,
    /// An array of arrays.
    Nesting,
    /// A big-endian file (llama.cpp reads the version in host order).
    ByteOrder,
    /// An empty metadata key.
    EmptyKey,
    /// `general.alignment` stored with a type other than u32.
    AlignmentType,
    /// A tensor name of 64 bytes or more.
    TensorName,
    /// A tensor type id ggml does not know.
    TensorType,
    /// A tensor whose byte size (or padded size) does not fit in 64 bits.
    TensorSize,
    /// A metadata key that appears twice.
    DuplicateKey,
    /// `general.alignment` that is not a power of two.
    Alignment,
    /// A tensor name that appears twice.
    DuplicateTensor,
    /// Tensor dimensions: more than 4, a negative one, or an element count beyond 2^63.
    Dims,
    /// A tensor data offset not a multiple of the alignment.
    OffsetAlignment,
    /// Tensor data that overlaps the previous tensor's.
    Overlap,
    /// A row size not divisible by the type's block size.
    BlockSize,
    /// Tensor data sizes that add up past 2^64.
    OffsetRange,
    /// A header larger than the reader accepts.
    HeaderSize,
}

impl Defect {
    /// The rule `check` reports this defect as.
    pub fn rule(self) -> RuleId {
        match self {
            Defect::Magic => RuleId::Magic,
            Defect::Version => RuleId::Version,
            Defect::Counts => RuleId::Counts,
            Defect::Length => RuleId::Length,
            Defect::ValueType => RuleId::ValueType,
            Defect::Nesting => RuleId::Nesting,
            Defect::ByteOrder => RuleId::ByteOrder,
            Defect::EmptyKey => RuleId::EmptyKey,
            Defect::AlignmentType => RuleId::AlignmentType,
            Defect::TensorName => RuleId::TensorName,
            Defect::TensorType => RuleId::UnknownType,
            Defect::TensorSize => RuleId::TensorSize,
            Defect::DuplicateKey => RuleId::DuplicateKey,
            Defect::Alignment => RuleId::Alignment,
            Defect::DuplicateTensor => RuleId::DuplicateTensor,
            Defect::Dims => RuleId::Dims,
            Defect::OffsetAlignment => RuleId::OffsetAlignment,
            Defect::Overlap => RuleId::Overlap,
            Defect::BlockSize => RuleId::BlockSize,
            Defect::OffsetRange => RuleId::OffsetRange,
            Defect::HeaderSize => RuleId::HeaderSize,
        }
    }
}

impl ReadError {
    /// True when the file is only short (come back later), not wrong.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, ReadError::Truncated { .. })
    }

    /// The byte offset the error refers to, if any.
    pub fn offset(&self) -> Option<u64> {
        match self {
            ReadError::Io { .. } => None,
            ReadError::Truncated { offset, .. } | ReadError::Malformed { offset, .. } => Some(*offset),
        }
    }
}

/// A parse failure before the file name is known; `with_path` turns it into a [`ReadError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Ran out of bytes at `offset`; `needed` is a lower bound on the file size.
    Truncated { offset: u64, what: String, needed: u64 },
    Malformed {
        offset: u64,
        defect: Defect,
        expected: String,
        found: String,
        /// Refusals met before this error (see [`Refusal`]).
        earlier: Box<[Refusal]>,
    },
}

impl ParseError {
    pub(crate) fn malformed(defect: Defect, offset: u64, expected: impl Into<String>, found: impl Into<String>) -> Self {
        ParseError::Malformed { offset, defect, expected: expected.into(), found: found.into(), earlier: Box::default() }
    }

    /// The same error, with `refusals` (met before it) in front of its own.
    pub(crate) fn after(self, refusals: &[Refusal]) -> Self {
        match self {
            ParseError::Malformed { offset, defect, expected, found, earlier } => {
                let earlier = refusals.iter().cloned().chain(earlier.into_vec()).collect();
                ParseError::Malformed { offset, defect, expected, found, earlier }
            }
            t => t,
        }
    }

    pub(crate) fn with_path(self, path: &std::path::Path, have: u64, progress: Box<Progress>) -> ReadError {
        let path = path.to_path_buf();
        match self {
            ParseError::Truncated { offset, what, needed } => ReadError::Truncated { path, offset, what, have, needed, progress },
            ParseError::Malformed { offset, defect, expected, found, earlier } => ReadError::Malformed { path, offset, defect, expected, found, earlier },
        }
    }
}
