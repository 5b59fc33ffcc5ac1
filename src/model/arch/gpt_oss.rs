//! gpt-oss (`gpt-oss`): alternating sliding-window (even layers) and full attention, MoE with
//! MXFP4 experts. llama.cpp `src/models/openai-moe.cpp`: window from
//! `attention.sliding_window` (required), `load_swa_pattern(ml, 2)`.

use super::{ArchSpec, SwaRule};

/// SWA pattern 2 + MoE.
pub const SPEC: ArchSpec = ArchSpec {
    family: "gpt_oss",
    archs: &["gpt-oss"],
    swa: Some(SwaRule { default_pattern: 2, dense_first: false, default_window: None }),
    recurrent: None,
    recurrent_layers: None,
    mla: false,
};
