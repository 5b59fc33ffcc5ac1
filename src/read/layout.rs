//! Checks tensor data placement (alignment, overlap, overflow, contiguity as llama.cpp requires it)
//! and measures what is present.

use super::error::{Defect, ParseError};
use super::header::{Header, TensorInfo};
use crate::rules::RuleId;

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

/// Kinds of [`LayoutWarning`]. All but `UnknownType` (which the header's refusals already carry)
/// are refused by llama.cpp, so `check` reports them as errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutIssue {
    /// A tensor's data does not start where the previous one's (padded) ends: unused bytes.
    Gap,
    /// Tensor data not in the order of the tensor infos.
    Order,
    /// A ggml type id this tool does not know; its size was inferred.
    UnknownType,
    /// Tensor data that would end past byte 2^64 of the file (llama_model_loader refuses it).
    BeyondFile,
}

impl LayoutIssue {
    /// The rule `check` reports this issue as.
    pub fn rule(self) -> RuleId {
        match self {
            LayoutIssue::Gap => RuleId::Gap,
            LayoutIssue::Order => RuleId::OffsetOrder,
            LayoutIssue::UnknownType => RuleId::UnknownType,
            LayoutIssue::BeyondFile => RuleId::OffsetRange,
        }
    }
}

impl std::fmt::Display for LayoutWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Lays out the tensors of `h` in a file of `file_len` bytes. Fails on what llama.cpp's
/// reader also refuses and this one cannot lay out: misaligned offsets, overlapping data, sizes
/// that overflow. Data out of order or with gaps, which llama.cpp refuses too, is laid out and
/// reported as a [`LayoutWarning`].
pub fn layout(h: &Header, file_len: u64) -> Result<Layout, ParseError> {
    let short = !h.tensors.is_empty() && h.data_offset > file_len;
    laid_out(h, file_len).map_err(|e| match e {
        // llama.cpp's reader seeks to the data section (gguf.cpp:781) before it looks at any
        // offset: a file that ends in the padding is short before it is anything else.
        ParseError::Malformed { .. } if short => {
            ParseError::Truncated { offset: file_len, what: "the padding before the data section".to_string(), needed: h.data_offset }
        }
        e => e,
    })
}

fn laid_out(h: &Header, file_len: u64) -> Result<Layout, ParseError> {
    let mut warnings = Vec::new();
    contiguity(h, &mut warnings)?;
    // Offsets sorted, so unknown-type sizes can be inferred from the next tensor.
    let mut order: Vec<(usize, &TensorInfo)> = h.tensors.iter().enumerate().collect();
    order.sort_by_key(|&(_, t)| t.offset);

    let mut spans: Vec<Option<TensorSpan>> = vec![None; h.tensors.len()];
    let mut prev_end: u64 = 0; // relative to the data section
    let mut prev_name: Option<&str> = None;
    let mut beyond_file = false;
    for (k, &(i, t)) in order.iter().enumerate() {
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
                let next = order.get(k + 1).map(|&(_, u)| u.offset);
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
        let rel_end = t.offset.checked_add(bytes).ok_or_else(|| {
            ParseError::malformed(
                Defect::OffsetRange,
                t.offset_field_at(),
                format!("data of {:?} to end below 2^64", t.name),
                format!("offset {} + {} bytes", t.offset, bytes),
            )
        })?;
        // llama.cpp's reader checks offsets relative to the data section only; the loader then
        // refuses data ending past 2^64 in the file (llama-model-loader.h:47). Laid out saturated.
        let start = h.data_offset.saturating_add(t.offset);
        if h.data_offset.checked_add(rel_end).is_none() && !beyond_file {
            beyond_file = true;
            let message = format!(
                "data of {:?} (offset {} + {} bytes after the data section at byte {}) would end past byte 2^64 of the file: llama.cpp's loader refuses it as not within the file bounds (llama-model-loader.h:47)",
                t.name, t.offset, bytes, h.data_offset
            );
            warnings.push(LayoutWarning { kind: LayoutIssue::BeyondFile, offset: t.offset_field_at(), message });
        }
        if let Some(span) = spans.get_mut(i) {
            *span = Some(TensorSpan { start, bytes, exact, present: start.saturating_add(bytes) <= file_len });
        }
        prev_end = rel_end;
        prev_name = Some(&t.name);
    }
    let spans: Vec<TensorSpan> = spans.into_iter().flatten().collect();
    let expected_end = h.data_offset.saturating_add(prev_end);
    Ok(Layout { spans, expected_end, warnings })
}

/// llama.cpp's own check (gguf.cpp:788-820): in header order, each tensor's offset must equal the
/// sum of the previous tensors' sizes, each padded to the alignment; a padded size or the sum
/// must not pass 2^64. It stops at the first mismatch, and so does this.
fn contiguity(h: &Header, warnings: &mut Vec<LayoutWarning>) -> Result<(), ParseError> {
    let align = h.alignment;
    let mut expected: u64 = 0;
    for (i, t) in h.tensors.iter().enumerate() {
        if t.offset != expected {
            if t.offset % align != 0 {
                return Ok(()); // the layout reports it as offset-alignment
            }
            let later_before = h.tensors.iter().skip(i + 1).any(|u| u.offset < t.offset);
            let (kind, what) = if later_before || t.offset < expected {
                (LayoutIssue::Order, "tensor data is not in the order of the tensor infos")
            } else {
                (LayoutIssue::Gap, "unused bytes before it")
            };
            let message = format!(
                "tensor {:?} (#{i}) has data offset {}, llama.cpp expects {} (the previous tensors' sizes padded to {align}): {what} (gguf.cpp:796)",
                t.name, t.offset, expected
            );
            warnings.push(LayoutWarning { kind, offset: t.offset_field_at(), message });
            return Ok(());
        }
        let Some(nbytes) = t.n_bytes() else { return Ok(()) }; // unknown type: refused already
        if nbytes > u64::MAX - (align - 1) {
            return Err(ParseError::malformed(
                Defect::TensorSize,
                t.offset_field_at(),
                format!("a size of {:?} that can be padded to {align} below 2^64 (gguf.cpp:806)", t.name),
                format!("{nbytes} bytes"),
            ));
        }
        let padded = nbytes.div_ceil(align) * align;
        expected = expected.checked_add(padded).ok_or_else(|| {
            ParseError::malformed(
                Defect::OffsetRange,
                t.offset_field_at(),
                format!("tensor sizes that add up below 2^64 (gguf.cpp:813, at {:?})", t.name),
                format!("{expected} + {padded} bytes"),
            )
        })?;
    }
    Ok(())
}
