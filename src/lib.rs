//! gguf-meter: reads GGUF files and tells the truth about the memory llama.cpp will need.
//!
//! Data flows one way: [`read`] (bytes -> GGUF structure) -> [`model`] (structure ->
//! geometry) -> [`estimate`] (geometry + runtime settings -> footprints) -> [`report`].
//! [`scan`] reads the tensor data itself (`check --deep`).
#![deny(unsafe_code)]

pub mod check;
pub mod cli;
pub mod estimate;
pub mod model;
pub mod read;
pub mod report;
pub mod scan;
pub mod util;
