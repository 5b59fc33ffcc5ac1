//! What the bytes on disk say about a download whose header is known: progress, layers
//! complete, whether it is done, and the final check.

use crate::model::layers::block_of;
use crate::read::GgufFile;
use crate::read::download::{Extent, Fill, next_hole};
use crate::read::growing::{GrowLimits, read_local};
use crate::report::watch::{Measure, Reading};
use anyhow::bail;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

/// The watched file's data layout as the download needs it.
pub struct Plan {
    /// Data spans `(start, end)` of each `blk.N`, in block order.
    blocks: Vec<Vec<(u64, u64)>>,
    /// End of the last tensor's data.
    pub expected: u64,
    /// `expected` rounded up to the alignment: writers pad after the last tensor too.
    pub padded: u64,
}

impl Plan {
    /// Groups the file's tensor spans by block.
    pub fn new(f: &GgufFile) -> Plan {
        let mut blocks: BTreeMap<u32, Vec<(u64, u64)>> = BTreeMap::new();
        for (t, s) in f.header.tensors.iter().zip(&f.layout.spans) {
            if let Some((n, _)) = block_of(&t.name) {
                blocks.entry(n).or_default().push((s.start, s.start.saturating_add(s.bytes)));
            }
        }
        let expected = f.layout.expected_end;
        let align = f.header.alignment.max(1);
        let padded = expected.div_ceil(align).saturating_mul(align).max(expected);
        Plan { blocks: blocks.into_values().collect(), expected, padded }
    }

    /// Blocks in the file.
    pub fn layers_total(&self) -> u64 {
        self.blocks.len() as u64
    }

    /// Blocks whose data is all on disk: below the length for an appended file, without a
    /// hole for a sparse one (`None` where holes cannot be seen, or nothing tells).
    pub fn layers_complete(&self, fill: Fill, len: u64, file: Option<&File>) -> Option<u64> {
        let is_there = |&(start, end): &(u64, u64)| -> Option<bool> {
            match fill {
                Fill::Appending => Some(end <= len),
                Fill::Sparse if end <= start => Some(end <= len),
                Fill::Sparse => Some(end <= len && next_hole(file?, start)? >= end),
                Fill::Preallocated => None,
            }
        };
        let mut n = 0;
        for spans in &self.blocks {
            let mut all = true;
            for s in spans {
                all &= is_there(s)?;
            }
            n += all as u64;
        }
        Some(n)
    }

    /// Bytes downloaded as far as `fill`'s signal tells.
    pub fn bytes(&self, fill: Fill, e: &Extent) -> Option<u64> {
        match fill {
            Fill::Appending => Some(e.len),
            Fill::Sparse => Some(e.allocated.min(e.len)),
            Fill::Preallocated => None,
        }
    }

    /// A reading without rate (the caller adds it).
    pub fn reading(&self, path: &Path, fill: Fill, e: &Extent, file: Option<&File>) -> Reading {
        Reading {
            file: path.display().to_string(),
            bytes: self.bytes(fill, e),
            file_bytes: e.len,
            expected_bytes: self.expected,
            measure: Measure::of(fill),
            rate_bytes_per_s: 0,
            eta_s: None,
            layers_complete: self.layers_complete(fill, e.len, file),
            layers_total: self.layers_total(),
        }
    }

    /// True when the data looks complete. `steady`: the length did not change since the
    /// last look (trailing padding may still be coming otherwise); `control`: aria2's
    /// control file is still there (it is removed when aria2 is done).
    pub fn done(&self, fill: Fill, e: &Extent, file: Option<&File>, steady: bool, control: bool) -> bool {
        if control {
            return false;
        }
        let full = e.len >= self.padded || (e.len >= self.expected && steady);
        match fill {
            Fill::Appending => full,
            Fill::Sparse => full && file.and_then(|f| next_hole(f, 0)).map_or(e.allocated >= e.len, |h| h >= e.len),
            Fill::Preallocated => true,
        }
    }
}

/// Re-reads the header of the finished file and checks it against the one first read:
/// same header, length equal to the end of the tensor data (plus alignment padding), every
/// tensor present. Returns what was verified.
pub fn final_check(path: &Path, first: &GgufFile, plan: &Plan, fill: Fill) -> anyhow::Result<(GgufFile, Vec<String>)> {
    let (f, _) = read_local(path, GrowLimits::default())?;
    if f.header != first.header {
        bail!("{}: header differs from the one read when the download started (file replaced?)", path.display());
    }
    let len = f.file_bytes;
    if len < plan.expected {
        bail!("{}: {len} bytes, but its tensor data ends at byte {}: incomplete", path.display(), plan.expected);
    }
    if len > plan.padded {
        bail!(
            "{}: {len} bytes, longer than the {} bytes where its tensor data ends (padded to {}): trailing data, not the file the header describes",
            path.display(),
            plan.expected,
            plan.padded
        );
    }
    let missing = f.layout.spans.iter().filter(|s| !s.present).count();
    if missing > 0 {
        bail!("{}: {missing} tensors not present at the final check", path.display());
    }
    let mut checks = vec![
        "header re-read and unchanged".to_string(),
        format!("length equals the end of the tensor data ({} bytes{})", plan.expected, if len > plan.expected { " plus alignment padding" } else { "" }),
        format!("all {} tensors present", f.header.tensors.len()),
    ];
    if fill != Fill::Appending {
        checks.push("data written is inferred from the allocation and the downloader's control file, not read".into());
    }
    Ok((f, checks))
}
