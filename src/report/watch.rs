//! `watch` events: what a watched download reports, one JSON object per line (schema in the
//! README); `watch_human` words the same for people.

use crate::read::download::{Fill, Renamer};
use serde::Serialize;
use serde_json::Value;

/// Which signal a progress reading comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The file's length (exact: data is appended).
    Length,
    /// Allocated disk blocks (an approximation for a sparse file).
    AllocatedBlocks,
    /// Nothing on disk tells.
    None,
}

impl Measure {
    /// The signal that measures a download filled this way.
    pub fn of(fill: Fill) -> Measure {
        match fill {
            Fill::Appending => Measure::Length,
            Fill::Sparse => Measure::AllocatedBlocks,
            Fill::Preallocated => Measure::None,
        }
    }
}

/// What kind of download the watched file is.
#[derive(Clone, Debug, Serialize)]
pub struct DownloadInfo {
    /// The tool that renames it when done, if its name says so.
    pub renamer: Option<Renamer>,
    /// The name it will have when done.
    pub final_path: Option<String>,
    /// How data arrives.
    pub fill: Fill,
    /// Which signal measures progress.
    pub measure: Measure,
    /// aria2's control file beside it, if present.
    pub control_file: Option<String>,
}

/// One sibling shard of a split model.
#[derive(Clone, Debug, Serialize)]
pub struct ShardState {
    /// Path found (or expected, when missing).
    pub path: String,
    /// `watched`, `complete`, `partial`, `header_pending` or `missing`.
    pub state: &'static str,
    /// Bytes on disk, when read.
    pub file_bytes: Option<u64>,
    /// Bytes when complete, when its header was read.
    pub expected_bytes: Option<u64>,
}

/// The header is in: what it says, and the estimate.
#[derive(Clone, Debug, Serialize)]
pub struct HeaderReady {
    /// The watched path.
    pub file: String,
    /// File length when the header was read.
    pub bytes: u64,
    /// Where the data section starts.
    pub data_offset: u64,
    /// Tensors in this file.
    pub tensor_count: u64,
    /// `general.architecture`.
    pub architecture: String,
    /// The kind of download.
    pub download: DownloadInfo,
    /// Shards of a split model (empty for a single file).
    pub shards: Vec<ShardState>,
    /// The `inspect --json` document.
    pub summary: Value,
    /// The `fit --json` document, with a machine given.
    pub fit: Option<Value>,
    /// The `footprint --json` document, without one.
    pub footprint: Option<Value>,
    /// Why neither estimate was made (a shard's header is missing).
    pub estimate_skipped: Option<String>,
}

/// One progress reading.
#[derive(Clone, Debug, Serialize)]
pub struct Reading {
    /// The watched path (its current name).
    pub file: String,
    /// Bytes downloaded by the measure; `None` when nothing tells.
    pub bytes: Option<u64>,
    /// File length now.
    pub file_bytes: u64,
    /// Length when complete (end of the last tensor's data).
    pub expected_bytes: u64,
    /// Which signal `bytes` comes from.
    pub measure: Measure,
    /// Bytes per second over the last seconds (0 until known).
    pub rate_bytes_per_s: u64,
    /// Seconds left at that rate.
    pub eta_s: Option<u64>,
    /// Blocks whose tensors are all on disk; `None` when not measurable.
    pub layers_complete: Option<u64>,
    /// Blocks in this file.
    pub layers_total: u64,
}

/// The final check passed.
#[derive(Clone, Debug, Serialize)]
pub struct Complete {
    /// The file checked (its final name if it was renamed).
    pub file: String,
    /// Its length.
    pub file_bytes: u64,
    /// End of its last tensor's data.
    pub expected_bytes: u64,
    /// Tensors, all present.
    pub tensor_count: u64,
    /// Blocks, all complete.
    pub layers_total: u64,
    /// What was verified, in words.
    pub checks: Vec<String>,
    /// Sibling shards now.
    pub shards: Vec<ShardState>,
}

/// One line of `watch --json`.
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<'a> {
    /// The header is not in yet.
    Waiting {
        /// The watched path.
        file: &'a str,
        /// Bytes readable from the start (the length, or for a sparse file the bytes before its first hole).
        bytes: u64,
        /// File length now.
        file_bytes: u64,
        /// Why the header cannot be read yet.
        reason: &'a str,
    },
    /// The header is in.
    HeaderReady(&'a HeaderReady),
    /// The download tool renamed the file; watching continues on the new name.
    Renamed {
        /// Old name.
        from: &'a str,
        /// New name.
        to: &'a str,
    },
    /// The file turned out to be sparse: progress is measured differently from now on.
    DownloadChanged {
        /// The kind of download now.
        download: &'a DownloadInfo,
    },
    /// Progress.
    Progress(&'a Reading),
    /// The file is complete and checked.
    Complete(&'a Complete),
    /// Nothing changed for `--stall-timeout`.
    Stalled {
        /// Seconds without change.
        seconds: u64,
        /// The last reading.
        last: Option<&'a Reading>,
    },
    /// Stopped by Ctrl-C.
    Interrupted {
        /// The last reading.
        last: Option<&'a Reading>,
    },
    /// The file cannot be watched further.
    Error {
        /// One line: file, offset when relevant, what was expected.
        message: &'a str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_their_name() {
        let r = Reading {
            file: "m.gguf".into(),
            bytes: Some(5),
            file_bytes: 5,
            expected_bytes: 9,
            measure: Measure::Length,
            rate_bytes_per_s: 0,
            eta_s: None,
            layers_complete: Some(0),
            layers_total: 1,
        };
        let v = serde_json::to_value(Event::Progress(&r)).unwrap();
        assert_eq!((v["event"].as_str(), v["bytes"].as_u64(), v["measure"].as_str()), (Some("progress"), Some(5), Some("length")));
        let e = serde_json::to_value(Event::Error { message: "x" }).unwrap();
        assert_eq!(e, serde_json::json!({"event": "error", "message": "x"}));
    }
}
