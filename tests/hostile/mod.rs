//! Hostile-input test support: field locator, mutation operators, the pipeline every input
//! goes through, a counting allocator, and a small GGUF writer for hand-made inputs.
#![allow(dead_code)]

pub mod alloc;
pub mod build;
pub mod locate;
pub mod mutate;
pub mod pipeline;
