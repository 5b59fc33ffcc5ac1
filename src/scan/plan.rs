//! Which tensors of a file the scan checks, in file order, and notes on those it cannot.

use super::blocks::{Check, check_for};
use crate::read::{GgmlType, GgufFile};
use std::collections::BTreeMap;

/// One tensor to check.
#[derive(Clone, Debug)]
pub struct Planned<'a> {
    /// Tensor name.
    pub name: &'a str,
    /// Its type.
    pub ggml_type: GgmlType,
    /// Absolute offset of its data.
    pub start: u64,
    /// Data bytes.
    pub len: u64,
    /// What to check.
    pub check: Check,
}

/// The tensors to check, sorted by offset, and what is left out.
#[derive(Clone, Debug)]
pub struct Plan<'a> {
    /// Tensors with data on disk and a type the scan can read, by offset.
    pub tensors: Vec<Planned<'a>>,
    /// One line per kind of omission.
    pub notes: Vec<String>,
    /// The file's data is big-endian.
    pub big_endian: bool,
}

/// Plans the scan of `file`.
pub fn plan(file: &GgufFile) -> Plan<'_> {
    let mut tensors = Vec::new();
    let mut absent = 0u64;
    let mut skipped: BTreeMap<GgmlType, (u64, String)> = BTreeMap::new();
    for (t, span) in file.header.tensors.iter().zip(&file.layout.spans) {
        if !span.present {
            absent += 1;
            continue;
        }
        let check = check_for(t.ggml_type);
        let why = match check {
            Check::Unknown => Some("unknown type, data not scanned".to_string()),
            Check::Nothing => Some("integers, nothing to scan".to_string()),
            Check::ZeroOnly { why, .. } => Some(format!("scales not scanned ({why}); all-zero checked")),
            Check::Floats(_) | Check::Scales { .. } => None,
        };
        if let Some(why) = why {
            skipped.entry(t.ggml_type).or_insert((0, why)).0 += 1;
        }
        if !matches!(check, Check::Unknown | Check::Nothing) {
            tensors.push(Planned { name: &t.name, ggml_type: t.ggml_type, start: span.start, len: span.bytes, check });
        }
    }
    tensors.sort_by_key(|p| p.start);
    let mut notes = Vec::new();
    if absent > 0 {
        notes.push(format!("{absent} of {} tensors not on disk yet (incomplete file): not scanned", file.header.tensors.len()));
    }
    for (t, (n, why)) in skipped {
        let s = if n == 1 { "" } else { "s" };
        notes.push(format!("{}: {n} tensor{s}, {why}", t.name()));
    }
    Plan { tensors, notes, big_endian: file.header.big_endian }
}
