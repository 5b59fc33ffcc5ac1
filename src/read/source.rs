//! Where header bytes come from: a read-only memory map of a local file.
//!
//! This is the one module allowed `unsafe`. Mapping is sound for our use because the map
//! is read-only and private, we never hand out references that outlive it, and we only
//! touch bytes below the length the file had when it was mapped. The remaining risk is a
//! file that is *truncated* by another process while mapped: touching a page past the new
//! end raises SIGBUS. Downloads only grow; a file that shrinks mid-read is not supported.
//! Nothing here writes, locks or changes the file.
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
        // SAFETY: see the module comment; the map is read-only and private.
        let map = unsafe { Mmap::map(&file)? };
        Ok(MappedFile { map: Some(map) })
    }

    /// All bytes present.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}
