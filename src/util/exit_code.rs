//! Process exit codes, one meaning each, documented in the README.

/// Success.
pub const OK: i32 = 0;
/// A check or budget rule failed (the file is readable but not acceptable).
pub const RULE_FAILED: i32 = 1;
/// Usage error, unreadable or malformed file.
pub const ERROR: i32 = 2;
/// The file (or a shard) is incomplete: still downloading, come back later.
pub const INCOMPLETE: i32 = 3;
/// `footprint`, `fit`, `table`: the file is vocab-only (a tokenizer, no tensors): not a model.
pub const NOT_A_MODEL: i32 = 4;
