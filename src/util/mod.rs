//! Small shared helpers: units and exit codes.

pub mod exit_code;
pub mod units;

/// Serializes a path as a string, replacing bytes that are not UTF-8 with U+FFFD: JSON has
/// no other way to hold them, and serde's own impl fails on them (`json!` then panics).
pub fn serialize_path_lossy<S: serde::Serializer>(p: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}
