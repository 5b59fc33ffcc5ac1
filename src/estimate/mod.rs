//! Estimate layer: geometry + tensor bytes + runtime settings -> footprints and fit plans.
//! Formulas follow llama.cpp (docs/llama-cpp-memory.md) and are checked against figures
//! llama.cpp printed (fixtures/oracle/).

pub mod bench_data;
pub mod command;
pub mod compute;
pub mod cpu_buffers;
pub mod devices;
pub mod fit;
pub mod footprint;
pub mod host;
pub mod kv;
pub mod layer_split;
pub mod machine;
pub mod overrides;
pub mod placement;
pub mod recurrent;
pub mod settings;
pub mod speed;
pub mod vision_compute;
pub mod weights;

pub use cpu_buffers::CpuKind;
pub use footprint::{Footprint, FootprintError, footprint};
pub use settings::{FlashAttn, Resolved, Settings};
pub use vision_compute::{Mmproj, MmprojSettings};
