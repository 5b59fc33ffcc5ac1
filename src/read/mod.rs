//! Read layer: bytes (on disk or over HTTP) -> GGUF structure (header, metadata, tensor infos, layout).
//! Knows nothing about model architectures.

// Hostile bytes are parsed here: no index or slice may panic, so every access is checked
// (`get`, `split_at_checked`, iterators) and the compiler holds the next edit to it.
// Tests may index (clippy.toml: allow-indexing-slicing-in-tests).
#![deny(clippy::indexing_slicing)]

#[forbid(unsafe_code)]
pub mod download;
#[forbid(unsafe_code)]
pub mod error;
#[forbid(unsafe_code)]
pub mod file;
#[forbid(unsafe_code)]
pub mod ggml_type;
#[forbid(unsafe_code)]
pub mod growing;
#[forbid(unsafe_code)]
pub mod header;
#[forbid(unsafe_code)]
pub mod layout;
#[cfg(feature = "remote")]
#[forbid(unsafe_code)]
pub mod location;
#[cfg(feature = "remote")]
#[forbid(unsafe_code)]
pub mod remote;
#[forbid(unsafe_code)]
pub mod shards;
#[cfg(feature = "mmap")]
pub mod source;
#[forbid(unsafe_code)]
pub mod value;

pub use error::{Defect, Progress, ReadError, Refusal};
pub use file::GgufFile;
pub use ggml_type::GgmlType;
pub use header::{Header, TensorInfo};
#[cfg(feature = "remote")]
pub use location::{Location, Opened};
pub use shards::{ShardSet, TensorEntry, open_model, open_model_from};
pub use value::{Array, Value, ValueType};
