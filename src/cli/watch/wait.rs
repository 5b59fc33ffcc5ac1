//! Before the header is in: poll until it parses, saying why not meanwhile.

use super::{Step, Watch};
use crate::read::download::{Extent, PENDING_SUFFIXES, aria2_control, next_hole, with_suffix};
use crate::read::growing::{GrowLimits, parse_growing, read_prefix};
use crate::read::{GgufFile, ReadError};
use std::path::PathBuf;
use std::time::Instant;

/// Bytes that must be written past a sparse file's header before the header is trusted:
/// more than any filesystem block, so the header's own blocks are whole.
const SPARSE_MARGIN: u64 = 64 << 10;

impl Watch {
    /// Polls until the header parses and the data offset is reached.
    pub(super) fn wait_header(&mut self) -> anyhow::Result<Step<(GgufFile, Extent)>> {
        let mut seen: Option<(PathBuf, u64, u64)> = None;
        let mut said: Option<(u64, String)> = None;
        loop {
            if let Some(e) = self.look()? {
                let key = (self.tracker.path.clone(), e.len, e.allocated);
                // aria2 may fill a preallocated file without changing its length or allocation.
                let writing_in_place = aria2_control(&self.tracker.path).is_file();
                if seen.as_ref() != Some(&key) || writing_in_place {
                    seen = Some(key);
                    self.changed = Instant::now();
                    match self.try_header(&e)? {
                        Ok(f) => return Ok(Step::Go((f, e))),
                        Err(why) if said.as_ref() != Some(&why) => {
                            self.sink.waiting(&self.tracker.path.display().to_string(), why.0, e.len, &why.1);
                            said = Some(why);
                        }
                        Err(_) => {}
                    }
                }
            }
            if let Step::Exit(code) = self.pause() {
                return Ok(Step::Exit(code));
            }
        }
    }

    /// The header if it is all there, else the bytes readable and why not. Of a sparse file
    /// only the bytes before the first hole count (a hole reads as zeros, which is not a header).
    #[allow(clippy::result_large_err)] // the read layer's error type, as `parse_growing` takes it
    fn try_header(&self, e: &Extent) -> anyhow::Result<Result<GgufFile, (u64, String)>> {
        let path = &self.tracker.path;
        let file = self.tracker.open()?;
        let sparse = e.looks_sparse();
        let hole = if sparse { next_hole(&file, 0) } else { None };
        let have = hole.map_or(e.len, |h| h.min(e.len));
        let io = |err| ReadError::Io { path: path.clone(), err };
        if e.len == 0 {
            // Firefox creates an empty file under the final name beside the `.part` it writes.
            let temp = PENDING_SUFFIXES.iter().map(|(suffix, _)| with_suffix(path, suffix)).find(|p| p.is_file());
            if let Some(t) = temp {
                return Ok(Err((0, format!("empty; the download is being written to {}: watch that file", t.display()))));
            }
        }
        // In a sparse file the last block before the hole may be only partly written (the
        // rest reads as zeros): trust a header only once data well past its end is written.
        let settled = |end: u64| !sparse || have >= e.len || have >= end.saturating_add(SPARSE_MARGIN);
        let why = match parse_growing(path, have, GrowLimits::default(), |buf, want| read_prefix(&file, buf, want).map_err(io)) {
            Ok((f, _)) if have >= f.header.data_offset && settled(f.header.data_offset) => return Ok(Ok(f)),
            Ok((f, _)) => format!("header read; waiting for the data after byte {} to be written", f.header.data_offset),
            Err(ReadError::Truncated { needed, what, .. }) => format!("at least {needed} bytes needed (reading {what})"),
            Err(err) if sparse => format!("sparse file still being filled; not a header yet: {err}"),
            Err(err) if aria2_control(path).is_file() => format!("aria2 is still writing (control file present); not a header yet: {err}"),
            Err(err) => return Err(err.into()),
        };
        Ok(Err((have, why)))
    }
}
