//! Read layer: bytes (on disk or over HTTP) -> GGUF structure (header, metadata, tensor infos, layout).
//! Knows nothing about model architectures.

pub mod error;
pub mod file;
pub mod ggml_type;
pub mod download;
pub mod growing;
pub mod header;
pub mod layout;
pub mod location;
pub mod remote;
pub mod shards;
pub mod source;
pub mod value;

pub use error::{Defect, Progress, ReadError};
pub use file::GgufFile;
pub use ggml_type::GgmlType;
pub use header::{Header, TensorInfo};
pub use location::{Location, Opened};
pub use shards::{open_model, open_model_from, ShardSet, TensorEntry};
pub use value::{Array, Value, ValueType};
