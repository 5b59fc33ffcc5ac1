//! Fallback for architectures without a spec: geometry from tensor shapes alone. Sliding
//! windows cannot be seen in tensors, so a model with `attention.sliding_window` gets a warning.

use super::{ArchSpec, RecurrentRule};

/// Tensor-derived geometry only.
pub const SPEC: ArchSpec = ArchSpec { family: "generic", archs: &[], swa: None, recurrent: Some(RecurrentRule::Ssm), recurrent_layers: None, mla: false };
