//! One GGUF file on disk: its header, data layout and how much of it is present.

use super::error::ReadError;
use super::header::{self, Header};
use super::layout::{self, Layout};
use std::fs::File;
use std::path::{Path, PathBuf};

/// A parsed GGUF file (one shard of a model, or the whole of it).
#[derive(Clone, Debug)]
pub struct GgufFile {
    /// Path as given.
    pub path: PathBuf,
    /// Bytes on disk now.
    pub file_bytes: u64,
    /// The header.
    pub header: Header,
    /// Tensor placement and presence.
    pub layout: Layout,
}

impl GgufFile {
    /// Opens and parses `path` read-only. A header cut short gives [`ReadError::Truncated`].
    ///
    /// With the `mmap` feature the file is mapped (fastest on large headers); without it the
    /// header is read with positioned reads, up to [`GrowLimits::default`]'s 1 GiB.
    ///
    /// [`GrowLimits::default`]: super::growing::GrowLimits
    #[allow(clippy::result_large_err)] // ReadError is this layer's error (as in shards.rs)
    pub fn open(path: &Path) -> Result<GgufFile, ReadError> {
        #[cfg(feature = "mmap")]
        {
            let io = |err| ReadError::Io { path: path.to_path_buf(), err };
            let mapped = super::source::MappedFile::open(path).map_err(io)?;
            Self::from_bytes(path, mapped.bytes())
        }
        #[cfg(not(feature = "mmap"))]
        {
            super::growing::read_local(path, Default::default()).map(|(f, _)| f)
        }
    }

    /// Parses a file whose bytes (possibly only a prefix) are in `bytes`.
    #[allow(clippy::result_large_err)]
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<GgufFile, ReadError> {
        let file_bytes = bytes.len() as u64;
        let header = header::parse(bytes).map_err(|(e, progress)| e.with_path(path, file_bytes, progress))?;
        let layout = layout::layout(&header, file_bytes).map_err(|e| e.after(&header.refusals).with_path(path, file_bytes, Default::default()))?;
        Ok(GgufFile { path: path.to_path_buf(), file_bytes, header, layout })
    }

    /// This file's tensors with their placement resolved, tagged with shard index `shard`.
    pub fn tensor_entries(&self, shard: usize) -> impl Iterator<Item = super::TensorEntry> + '_ {
        self.header.tensors.iter().zip(&self.layout.spans).map(move |(t, span)| super::TensorEntry {
            name: t.name.clone(),
            dims: t.dims.clone(),
            ggml_type: t.ggml_type,
            bytes: span.bytes,
            exact: span.exact,
            present: span.present,
            shard,
            offset: span.start,
        })
    }

    /// True when every tensor's data is present.
    pub fn is_complete(&self) -> bool {
        self.file_bytes >= self.layout.expected_end
    }

    /// Bytes of the data section present on disk.
    pub fn data_bytes_present(&self) -> u64 {
        self.file_bytes.min(self.layout.expected_end).saturating_sub(self.header.data_offset)
    }

    /// Bytes the data section will have when complete.
    pub fn data_bytes_expected(&self) -> u64 {
        self.layout.expected_end.saturating_sub(self.header.data_offset)
    }
}

/// Reads up to `buf.len()` bytes at `offset` without moving any shared cursor where the platform
/// allows it (`pread` on Unix, `seek_read` on Windows, which moves only this handle's cursor
/// that nothing else here uses; elsewhere a seek and a read on the handle). Returns the bytes read:
/// 0 only at the end of the file.
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, offset)
    }
    #[cfg(not(any(unix, windows)))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = file;
        f.seek(SeekFrom::Start(offset))?;
        f.read(buf)
    }
}

/// Fills `buf` with the bytes at `offset` ([`read_at`] until full); a file ending first is
/// [`std::io::ErrorKind::UnexpectedEof`].
pub fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match read_at(file, buf, offset) {
            Ok(0) => return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "failed to fill whole buffer")),
            Ok(n) => {
                buf = buf.get_mut(n..).unwrap_or_default();
                offset = offset.saturating_add(n as u64);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
