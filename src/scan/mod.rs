//! Deep scan: reads every byte of a GGUF file's tensor data once and finds broken weights
//! (NaN/Inf values, NaN/Inf block scales, all-zero tensors) while hashing the file with
//! SHA-256 in the same pass. Depends only on [`crate::read`].
//!
//! Each file is read sequentially in large chunks by one thread that also scans them, while
//! a second thread hashes the same chunks; several files run in parallel (`jobs`). Memory is
//! a fixed number of chunk buffers per file, whatever the file size.

// The data scanned is hostile: every index and slice is checked (see read/mod.rs).
#![deny(clippy::indexing_slicing)]

pub mod blocks;
mod plan;
mod stream;
pub mod sums;
mod tensor;
mod values;

pub use sums::ChecksumList;

use crate::read::GgufFile;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a finding is about: one of the catalogue's data rules (`nan-inf`, `scale-nan-inf`,
/// `all-zero`, `sha256-mismatch`, `sha256-unlisted`).
pub use crate::rules::RuleId as Rule;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Not necessarily wrong (a zero bias can be real), worth a look.
    Warning,
    /// The file is broken or not the one expected.
    Error,
}

/// One thing the deep scan found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which rule.
    pub rule: Rule,
    /// Error or warning.
    pub severity: Severity,
    /// The tensor concerned (none for checksum findings).
    pub tensor: Option<String>,
    /// Absolute file offset of the first offending byte (tensor start for all-zero).
    pub offset: Option<u64>,
    /// How many: bad values, bad blocks, or the tensor's bytes for all-zero.
    pub count: u64,
    /// One line saying what was found.
    pub message: String,
}

/// The result of scanning one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileScan {
    /// The file's path as given.
    pub path: PathBuf,
    /// Bytes read and hashed (the whole file).
    pub bytes_read: u64,
    /// SHA-256 of those bytes (`None` when hashing was turned off).
    pub sha256: Option<[u8; 32]>,
    /// Tensors whose data was checked.
    pub tensors_scanned: u64,
    /// Findings in file order, then checksum findings.
    pub findings: Vec<Finding>,
    /// What was not scanned and why (absent data, unknown types, types without cited scales).
    pub notes: Vec<String>,
}

impl FileScan {
    /// The digest in lower-case hex, as `sha256sum` prints it.
    pub fn sha256_hex(&self) -> Option<String> {
        self.sha256.map(|d| sums::to_hex(&d))
    }
}

/// How the bytes are brought in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IoMode {
    /// `pread` into a few fixed buffers (bounded memory; the default).
    #[default]
    Pread,
    /// A read-only memory map (no copy, but resident pages grow with the file). Built without
    /// the `mmap` feature, this reads with `pread` too.
    Mmap,
}

/// Options of a deep scan.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Files scanned at the same time (each uses a reading and a hashing thread).
    pub jobs: usize,
    /// Bytes per read.
    pub chunk_bytes: usize,
    /// Chunk buffers per file (memory = `buffers * chunk_bytes` per file in `Pread` mode).
    pub buffers: usize,
    /// How to read.
    pub io: IoMode,
    /// Hash each file (SHA-256 is the slowest part of the pass; off, the scan runs near the
    /// read rate). Always on when `checksums` is set.
    pub hash: bool,
    /// Expected digests, if any.
    pub checksums: Option<ChecksumList>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            // Small enough that a chunk is still in cache when the hasher reads what the reader
            // copied (4 MiB chunks cost twice the CPU), large enough to keep syscalls rare.
            chunk_bytes: 256 << 10,
            buffers: 8,
            io: IoMode::Pread,
            hash: true,
            checksums: None,
        }
    }
}

/// Why a file could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Reading failed.
    #[error("{path}: cannot read at byte {offset}: {err}")]
    Io { path: PathBuf, offset: u64, err: std::io::Error },
    /// The file got shorter after its header was read.
    #[error("{path}: ended at byte {at} while scanning; expected {expected} bytes (file changed during the scan?)")]
    Shrunk { path: PathBuf, at: u64, expected: u64 },
    /// A checksum list line that is not in `sha256sum` format.
    #[error("{path}: line {line}: expected `<64 hex digits>  <file name>` (sha256sum format), found {found}")]
    Sums { path: PathBuf, line: usize, found: String },
}

/// Progress callback: called with the number of bytes just finished (from several threads).
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Bytes a scan of `files` will read: the sum of their sizes, for a progress bar's length.
pub fn total_bytes(files: &[&GgufFile]) -> u64 {
    files.iter().map(|f| f.file_bytes).fold(0, u64::saturating_add)
}

/// Scans one file: its SHA-256 and every present tensor's data.
pub fn scan_file(file: &GgufFile, opts: &ScanOptions, progress: Progress) -> Result<FileScan, ScanError> {
    let plan = plan::plan(file);
    let stream::Pass { bytes_read, sha256, mut findings } = stream::run(file, &plan, opts, progress)?;
    let mut notes = plan.notes;
    match (&opts.checksums, &sha256) {
        // A download in progress cannot match its final digest; that is not a mismatch.
        (Some(_), _) if !file.is_complete() => notes.push("sha256 not compared with the list: file incomplete".into()),
        (Some(list), Some(digest)) => findings.extend(list.verify(&file.path, digest)),
        _ => {}
    }
    Ok(FileScan { path: file.path.clone(), bytes_read, sha256, tensors_scanned: plan.tensors.len() as u64, findings, notes })
}

/// Scans `files`, up to `opts.jobs` at a time; results in the order of `files`.
pub fn scan_files(files: &[&GgufFile], opts: &ScanOptions, progress: Progress) -> Vec<Result<FileScan, ScanError>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<FileScan, ScanError>>>> = Mutex::new(files.iter().map(|_| None).collect());
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(f) = files.get(i) else { break };
        let r = scan_file(f, opts, progress);
        if let Ok(mut all) = results.lock()
            && let Some(slot) = all.get_mut(i)
        {
            *slot = Some(r);
        }
    };
    std::thread::scope(|s| {
        let extra = opts.jobs.clamp(1, files.len().max(1)) - 1;
        for _ in 0..extra {
            // A worker that cannot be started only lowers parallelism: this thread works too.
            let _ = std::thread::Builder::new().name("scan".into()).spawn_scoped(s, work);
        }
        work();
    });
    let all = results.into_inner().unwrap_or_else(|e| e.into_inner());
    all.into_iter()
        .zip(files)
        .map(|(r, f)| r.unwrap_or_else(|| Err(ScanError::Io { path: f.path.clone(), offset: 0, err: std::io::Error::other("scan did not run") })))
        .collect()
}
