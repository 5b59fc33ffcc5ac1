//! `watch` for people: the download kind, one status line, the final report.

use super::watch::{Complete, DownloadInfo, Measure, Reading, ShardState};
use crate::read::download::{Fill, Renamer};
use crate::util::units::{gib, grouped};

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
        Reading {
            file: "m.gguf".into(),
            bytes,
            file_bytes: 4 << 30,
            expected_bytes: 4 << 30,
            measure,
            rate_bytes_per_s: 1 << 20,
            eta_s: Some(3725),
            layers_complete: None,
            layers_total: 28,
        }
    }

    #[test]
    fn lines_say_what_is_measured() {
        assert_eq!(progress_line(&reading(Measure::Length, Some(1 << 30))), "1.00 GiB of 4.00 GiB (25.0%), 1.00 MiB/s, ETA 1h02m05s, layers complete ?/28");
        assert!(progress_line(&reading(Measure::AllocatedBlocks, Some(1 << 30))).contains("approximate"));
        assert!(progress_line(&reading(Measure::None, None)).starts_with("no progress signal"));
    }
}
