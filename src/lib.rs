//! gguf-meter: reads GGUF files and tells the truth about the memory llama.cpp will need.
//!
//! Data flows one way: [`read`] (bytes -> GGUF structure) -> [`model`] (structure ->
//! geometry) -> [`estimate`] (geometry + runtime settings -> footprints) -> [`report`].
#![deny(unsafe_code)]

pub mod check;
pub mod cli;
pub mod estimate;
pub mod model;
pub mod read;
pub mod report;
pub mod util;
