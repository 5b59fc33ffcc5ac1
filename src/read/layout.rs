//! Checks tensor data placement (alignment, overlap, overflow) and measures what is present.

use super::error::{Defect, ParseError};
use super::header::Header;

/// Where one tensor's data lies in its file, and whether those bytes are there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpan {
    /// Absolute byte offset of the data in the file.
    pub start: u64,
    /// Data size in bytes (exact, or inferred from the next offset for an unknown type).
    pub bytes: u64,
    /// False when `bytes` was inferred from offsets (unknown ggml type).
    pub exact: bool,
    /// True when the file holds all of this tensor's bytes.
    pub present: bool,
}

/// The data layout of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// One span per tensor, in header order.
    pub spans: Vec<TensorSpan>,
    /// Byte offset just past the last tensor's data: the size a complete file has.
    pub expected_end: u64,
    /// Non-fatal findings (gaps between tensors, unknown types).
    pub warnings: Vec<LayoutWarning>,
}

/// A layout oddity llama.cpp tolerates but a careful publisher would not ship.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayoutWarning {
    /// What kind of oddity.
    pub kind: LayoutIssue,
    /// Byte offset of the tensor info concerned.
    pub offset: u64,
    /// One-line description.
    pub message: String,
}

/// Kinds of [`LayoutWarning`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutIssue {
    /// Unused bytes between two tensors' data beyond alignment padding.
    Gap,
    /// A ggml type id this tool does not know; its size was inferred.
    UnknownType,
}

impl LayoutIssue {
    /// Stable rule id, as `check` prints it.
    pub fn id(self) -> &'static str {
        match self {
            LayoutIssue::Gap => "gap",
            LayoutIssue::UnknownType => "unknown-type",
        }
    }
}

impl std::fmt::Display for LayoutWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Lays out the tensors of `h` in a file of `file_len` bytes. Fails on what llama.cpp's
/// loader also refuses: misaligned offsets, overlapping data, sizes that overflow.
pub fn layout(h: &Header, file_len: u64) -> Result<Layout, ParseError> {
    let mut warnings = Vec::new();
    // Offsets sorted, so unknown-type sizes can be inferred from the next tensor.
    let mut order: Vec<usize> = (0..h.tensors.len()).collect();
    order.sort_by_key(|&i| h.tensors[i].offset);

    let mut spans: Vec<Option<TensorSpan>> = vec![None; h.tensors.len()];
    let mut prev_end: u64 = 0; // relative to the data section
    let mut prev_name: Option<&str> = None;
    for (k, &i) in order.iter().enumerate() {
        let t = &h.tensors[i];
        if !t.offset.is_multiple_of(h.alignment) {
            return Err(ParseError::malformed(
                Defect::OffsetAlignment,
                t.offset_field_at(),
                format!("data offset of {:?} aligned to {} bytes", t.name, h.alignment),
                format!("offset {}", t.offset),
            ));
        }
        if t.offset < prev_end {
            return Err(ParseError::malformed(
                Defect::Overlap,
                t.offset_field_at(),
                format!("data of {:?} to start at or after {} (end of {:?})", t.name, prev_end, prev_name.unwrap_or("")),
                format!("offset {} (overlapping)", t.offset),
            ));
        }
        if t.offset > prev_end.div_ceil(h.alignment) * h.alignment && k > 0 {
            let message = format!("gap of {} bytes before tensor {:?}", t.offset - prev_end, t.name);
            warnings.push(LayoutWarning { kind: LayoutIssue::Gap, offset: t.offset_field_at(), message });
        }
        let (bytes, exact) = match t.n_bytes() {
            Some(b) => (b, true),
            None if t.ggml_type.traits().is_some() => {
                return Err(ParseError::malformed(
                    Defect::BlockSize,
                    t.offset_field_at(),
                    format!("a row size of {:?} divisible by the {} block size", t.name, t.ggml_type.name()),
                    format!("dims {:?}", t.dims),
                ));
            }
            None => {
                let next = order.get(k + 1).map(|&j| h.tensors[j].offset);
                let inferred = match next {
                    Some(n) => n - t.offset,
                    None => file_len.saturating_sub(h.data_offset.saturating_add(t.offset)),
                };
                let message = format!("tensor {:?} has unknown ggml type {}; its size ({} bytes) is inferred from offsets", t.name, t.ggml_type.0, inferred);
                // The type field sits just before the offset field.
                warnings.push(LayoutWarning { kind: LayoutIssue::UnknownType, offset: t.offset_field_at() - 4, message });
                (inferred, false)
            }
        };
        // The absolute end bounds everything below it, so one check covers offset, start and end.
        let rel_end = t.offset.checked_add(bytes).filter(|&e| h.data_offset.checked_add(e).is_some()).ok_or_else(|| {
            ParseError::malformed(
                Defect::OffsetRange,
                t.offset_field_at(),
                format!("data of {:?} to end below 2^64", t.name),
                format!("offset {} + {} bytes", t.offset, bytes),
            )
        })?;
        let start = h.data_offset + t.offset;
        spans[i] = Some(TensorSpan { start, bytes, exact, present: start + bytes <= file_len });
        prev_end = rel_end;
        prev_name = Some(&t.name);
    }
    let spans: Vec<TensorSpan> = spans.into_iter().flatten().collect();
    let expected_end = h.data_offset + prev_end;
    Ok(Layout { spans, expected_end, warnings })
}
