//! gguf-meter: reads GGUF files and tells the truth about the memory llama.cpp will need.
//!
//! Data flows one way: [`read`] (bytes -> GGUF structure) -> [`model`] (structure ->
//! geometry) -> [`estimate`] (geometry + runtime settings -> footprints) -> [`report`].
//! [`scan`] reads the tensor data itself (`check --deep`).
// `unsafe` is forbidden in every module but `read::source` (the file map). `forbid` at the
// crate root could not be relaxed there, so it is set per module; `deny` stays as the
// default for any module added later.
#![deny(unsafe_code)]
// `ReadError` carries the file, offset and expectation by value so every message can name
// them; it is returned once per failed open, never in a loop, so its size costs nothing.
#![allow(clippy::result_large_err)]

#[forbid(unsafe_code)]
pub mod check;
#[cfg(feature = "cli")]
#[forbid(unsafe_code)]
pub mod cli;
#[forbid(unsafe_code)]
pub mod estimate;
#[forbid(unsafe_code)]
pub mod model;
// `read` forbids it per submodule (read/mod.rs), all but `source`.
pub mod read;
#[forbid(unsafe_code)]
pub mod report;
#[forbid(unsafe_code)]
pub mod scan;
#[forbid(unsafe_code)]
pub mod util;
