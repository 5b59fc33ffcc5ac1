//! Where header bytes come from: a read-only memory map of a local file.
//!
//! This is the one module allowed `unsafe` (every other module forbids it). Why the map is
//! sound for our use:
//! - It is read-only (`PROT_READ`; memmap2 maps it `MAP_SHARED`, which for a read-only map
//!   only means other processes' writes show through): nothing in this process can write
//!   through it, and nothing here writes, locks or changes the file.
//! - The slice handed out borrows the `MappedFile`, so no reference outlives the map.
//! - Only bytes below the length the file had when it was mapped are ever touched: the
//!   slice is exactly that long, and the parser bounds-checks every read against it.
//! - Rust assumes borrowed bytes do not change. Another process appending to the file (a
//!   download) leaves the mapped range as it was; one rewriting header bytes in place
//!   during the parse could at worst make a field read torn: every field is copied out by
//!   a bounds-checked read and then validated like any hostile input, so no index or
//!   length is ever trusted from the map twice.
//!
//! SIGBUS: touching a mapped page that lies wholly past the file's *current* end raises
//! SIGBUS, which would kill the process. It is avoided, not caught:
//! - `inspect`, `footprint` and `fit` map once and parse at once (milliseconds), touching
//!   only the header pages; tensor data is never read.
//! - Files that are expected to change (a download being watched) are read with `pread`
//!   through `read::growing`, which cannot fault: a shrunk file just returns fewer bytes.
//!
//! What remains: a file *truncated* by another process during those few milliseconds,
//! below the header's end. Downloads only grow, so this takes a deliberate truncation
//! racing the parse; the process would die with SIGBUS (no wrong output, no write).
//! Handling it would need a signal handler, more unsafe code than the risk is worth.
//!
//! The map is kept over `pread` for one-shot reads because it is faster on large headers:
//! `pread` must guess how many bytes the header needs and re-parse after each longer read
//! (see the README's Benchmarks for the figures).
#![allow(unsafe_code)]

use memmap2::Mmap;
use std::fs::File;
use std::path::Path;

/// The bytes of a file, mapped read-only.
pub struct MappedFile {
    map: Option<Mmap>,
}

impl MappedFile {
    /// Opens `path` read-only and maps all of it (an empty file maps to no bytes).
    pub fn open(path: &Path) -> std::io::Result<MappedFile> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(std::io::Error::other("is a directory"));
        }
        if meta.len() == 0 {
            return Ok(MappedFile { map: None });
        }
        // SAFETY: see the module comment: read-only map, bytes touched only below its
        // length, borrowed no longer than `self`.
        let map = unsafe { Mmap::map(&file)? };
        Ok(MappedFile { map: Some(map) })
    }

    /// All bytes present.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}
