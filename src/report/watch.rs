//! `watch` output: the events of a watched download, as JSON lines (schema in the README) and
//! as the text a person reads.

use crate::read::download::{Fill, Renamer};
use crate::util::units::{gib, grouped};
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

/// How the download is measured, in words.
pub fn describe(d: &DownloadInfo) -> String {
    let fill = match d.fill {
        Fill::Appending => "data is appended: progress is the file length (exact)".to_string(),
        Fill::Sparse => "sparse file (full length, holes filled later): progress is approximated by allocated disk blocks".to_string(),
        Fill::Preallocated => format!(
            "preallocated to full length: nothing on disk measures progress; complete when {} is removed",
            d.control_file.as_deref().unwrap_or("the downloader's control file")
        ),
    };
    let rename = match (d.renamer, &d.final_path) {
        (Some(r), Some(p)) => format!("; {} renames it to {p} when done", renamer_name(r)),
        _ => String::new(),
    };
    format!("download: {fill}{rename}")
}

fn renamer_name(r: Renamer) -> &'static str {
    match r {
        Renamer::Firefox => "the browser (.part)",
        Renamer::Chrome => "Chrome (.crdownload)",
        Renamer::HuggingFaceHub => "the Hugging Face hub (.incomplete)",
    }
}

/// The shards line(s) of the human report.
pub fn shards_text(shards: &[ShardState]) -> String {
    let mut o = String::new();
    for s in shards.iter().filter(|s| s.state != "watched") {
        let size = match (s.file_bytes, s.expected_bytes) {
            (Some(b), Some(e)) => format!(" ({} of {} bytes)", grouped(b), grouped(e)),
            (Some(b), None) => format!(" ({} bytes)", grouped(b)),
            _ => String::new(),
        };
        o.push_str(&format!("shard {}: {}{size}\n", s.path, s.state.replace('_', " ")));
    }
    o
}

/// One status line: bytes, rate, ETA, layers.
pub fn progress_line(r: &Reading) -> String {
    let pct = |b: u64| if r.expected_bytes == 0 { 100.0 } else { b as f64 * 100.0 / r.expected_bytes as f64 };
    let bytes = match (r.measure, r.bytes) {
        (Measure::None, _) | (_, None) => format!("no progress signal (file is {} bytes)", grouped(r.file_bytes)),
        (Measure::AllocatedBlocks, Some(b)) => format!("~{} of {} allocated ({:.1}%, approximate)", gib(b), gib(r.expected_bytes), pct(b)),
        (Measure::Length, Some(b)) => format!("{} of {} ({:.1}%)", gib(b), gib(r.expected_bytes), pct(b)),
    };
    let rate = if r.rate_bytes_per_s > 0 { format!(", {}/s", gib(r.rate_bytes_per_s)) } else { String::new() };
    let eta = r.eta_s.map(|s| format!(", ETA {}", duration(s))).unwrap_or_default();
    let layers = match r.layers_complete {
        Some(n) => format!(", layers complete {n}/{}", r.layers_total),
        None => format!(", layers complete ?/{}", r.layers_total),
    };
    format!("{bytes}{rate}{eta}{layers}")
}

/// The final report.
pub fn complete_text(c: &Complete) -> String {
    let mut o = format!("complete: {} ({} bytes): {}\n", c.file, grouped(c.file_bytes), c.checks.join("; "));
    o.push_str(&shards_text(&c.shards));
    o
}

/// `1h02m03s`, `4m05s`, `7s`.
pub fn duration(s: u64) -> String {
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, m, sec) => format!("{h}h{m:02}m{sec:02}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(measure: Measure, bytes: Option<u64>) -> Reading {
        Reading { file: "m.gguf".into(), bytes, file_bytes: 4 << 30, expected_bytes: 4 << 30, measure, rate_bytes_per_s: 1 << 20, eta_s: Some(3725), layers_complete: None, layers_total: 28 }
    }

    #[test]
    fn lines_say_what_is_measured() {
        assert_eq!(progress_line(&reading(Measure::Length, Some(1 << 30))), "1.00 GiB of 4.00 GiB (25.0%), 1.00 MiB/s, ETA 1h02m05s, layers complete ?/28");
        assert!(progress_line(&reading(Measure::AllocatedBlocks, Some(1 << 30))).contains("approximate"));
        assert!(progress_line(&reading(Measure::None, None)).starts_with("no progress signal"));
    }

    #[test]
    fn events_carry_their_name() {
        let r = reading(Measure::Length, Some(5));
        let v = serde_json::to_value(Event::Progress(&r)).unwrap();
        assert_eq!((v["event"].as_str(), v["bytes"].as_u64(), v["measure"].as_str()), (Some("progress"), Some(5), Some("length")));
        let e = serde_json::to_value(Event::Error { message: "x" }).unwrap();
        assert_eq!(e, serde_json::json!({"event": "error", "message": "x"}));
    }
}
