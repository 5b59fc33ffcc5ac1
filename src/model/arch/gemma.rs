//! Gemma 2 and Gemma 3: interleaved sliding-window and global attention.
//! llama.cpp `src/models/gemma2.cpp`: window 4096 by default, `load_swa_pattern(ml, 2)`;
//! `src/models/gemma3.cpp`: SWA only if `attention.sliding_window` > 0, pattern 6
//! (5 local layers, then 1 global), `dense_first = false`.

use super::{ArchSpec, SwaRule};

/// Gemma 2: every other layer slides over 4096 tokens.
pub const GEMMA2: ArchSpec = ArchSpec {
    family: "gemma",
    archs: &["gemma2"],
    swa: Some(SwaRule { default_pattern: 2, dense_first: false, default_window: Some(4096) }),
    recurrent: None,
    recurrent_layers: None,
    mla: false,
};

/// Gemma 3: five sliding layers per global one.
pub const GEMMA3: ArchSpec = ArchSpec {
    family: "gemma",
    archs: &["gemma3"],
    swa: Some(SwaRule { default_pattern: 6, dense_first: false, default_window: None }),
    recurrent: None,
    recurrent_layers: None,
    mla: false,
};
