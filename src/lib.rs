//! gguf-meter reads a GGUF model file (whole, split into shards, or still downloading) and tells
//! the truth about memory: exact layer counts, per-layer attention kind (full, sliding-window,
//! recurrent, MLA), KV-head geometry, experts, per-tensor bytes, and from those what llama.cpp
//! will allocate: weights, KV cache, recurrent state, compute and output buffers. Numbers come
//! from the bytes in the file and llama.cpp's own formulas, and are tested against figures real
//! llama.cpp printed for the same files.
//!
//! This is the library under the `gguf-meter` command. Its entry point is [`api`]: open a model
//! from a path, from bytes, or from any [`api::ByteSource`]; read its [`api::Geometry`]; size
//! its [`api::Footprint`] at llama-server's settings; plan it onto a [`api::Machine`]; check it.
//! Only the header is read, so a download that has just started is enough.
//!
//! ```rust
//! use gguf_meter::api::{Model, Settings};
//!
//! fn main() -> Result<(), gguf_meter::api::Error> {
//!     let model = Model::open("fixtures/qwen35-35b-a3b-q4km.gguf")?;
//!     let settings = Settings { ctx: Some(131072), parallel: Some(1), ..Settings::default() };
//!     let fp = model.footprint(&settings)?;
//!     println!("{}: KV cache {} bytes, total {} bytes", model.geometry().architecture, fp.kv_bytes, fp.total_bytes);
//!     assert_eq!(fp.kv_bytes, 2_684_354_560);
//!     Ok(())
//! }
//! ```
//!
//! # Cargo features
//!
//! All on by default. `default-features = false` leaves the portable core (parser, geometry,
//! estimators, checks) with no memory map, HTTP client or platform call; it builds for Windows,
//! macOS and wasm32 alike.
//!
//! - `mmap`: local files are memory-mapped (without it: positioned reads of the header).
//! - `remote`: `http(s)://`, `hf://`, `modelscope://` and `ollama://` locations (`read::location`).
//! - `platform`: `SEEK_HOLE` for sparse downloads, and probing this machine's RAM and GPUs.
//! - `cli`: the command-line tool (and the three above).
//!
//! # Layers
//!
//! Data flows one way: [`read`] (bytes -> GGUF structure) -> [`model`] (structure ->
//! geometry) -> [`estimate`] (geometry + runtime settings -> footprints, fit plans) -> [`check`]
//! and [`report`]. [`scan`] reads the tensor data itself (`check --deep`). These modules are the
//! internals [`api`] is built on; their shape may change between versions.
// `unsafe` is forbidden in every module but `read::source` (the file map). `forbid` at the
// crate root could not be relaxed there, so it is set per module; `deny` stays as the
// default for any module added later.
#![deny(unsafe_code)]
// `ReadError` carries the file, offset and expectation by value so every message can name
// them; it is returned once per failed open, never in a loop, so its size costs nothing.
#![allow(clippy::result_large_err)]

#[forbid(unsafe_code)]
pub mod api;
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
pub mod rules;
#[forbid(unsafe_code)]
pub mod scan;
#[forbid(unsafe_code)]
pub mod util;
