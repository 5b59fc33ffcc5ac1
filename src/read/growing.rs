//! Parsing a header from a byte source read piece by piece: a file read with `pread` (a
//! download still growing, where a map could fault) or a remote file fetched with range
//! requests. Only as many bytes as the header needs are read.

// ReadError is this layer's error; boxing it is a change of its own (as in shards.rs).
#![allow(clippy::result_large_err)]

use super::error::{Defect, ParseError, ReadError};
use super::file::GgufFile;
use super::header;
use super::layout;
use std::fs::File;
use std::path::Path;

/// How a growing read starts and where it gives up.
#[derive(Clone, Copy, Debug)]
pub struct GrowLimits {
    /// Bytes asked for first.
    pub first: u64,
    /// The largest header accepted; a file that needs more is refused (remote reads must not
    /// turn into a whole-file download).
    pub max: u64,
}

impl Default for GrowLimits {
    fn default() -> Self {
        GrowLimits { first: 1 << 20, max: 1 << 30 }
    }
}

/// Parses the header of a file of `total_len` bytes whose bytes come from `fetch`.
///
/// `fetch(buf, want)` must append bytes so that `buf` holds the file's first `want` bytes
/// (fewer only at the end of the source). Asks for geometrically more until the header
/// parses, the source ends, or `limits.max` is reached. Returns the file and how many bytes
/// were read.
pub fn parse_growing<F>(path: &Path, total_len: u64, limits: GrowLimits, fetch: F) -> Result<(GgufFile, u64), ReadError>
where
    F: FnMut(&mut Vec<u8>, u64) -> Result<(), ReadError>,
{
    parse_growing_kept(path, total_len, limits, fetch).map(|(f, buf)| (f, buf.len() as u64))
}

/// [`parse_growing`], giving back the bytes read (a header cache stores them).
pub fn parse_growing_kept<F>(path: &Path, total_len: u64, limits: GrowLimits, mut fetch: F) -> Result<(GgufFile, Vec<u8>), ReadError>
where
    F: FnMut(&mut Vec<u8>, u64) -> Result<(), ReadError>,
{
    let mut buf = Vec::new();
    let mut want = limits.first.min(total_len).min(limits.max);
    loop {
        fetch(&mut buf, want)?;
        let have = buf.len() as u64;
        match header::parse_with_len(&buf, total_len) {
            Ok(h) => {
                let layout = layout::layout(&h, total_len).map_err(|e| e.after(&h.refusals).with_path(path, total_len, Default::default()))?;
                let file = GgufFile { path: path.to_path_buf(), file_bytes: total_len, header: h, layout };
                return Ok((file, buf));
            }
            Err((ParseError::Truncated { needed, offset, what }, _)) if have < total_len && have >= want => {
                // A header that needs more than the limit, in a file longer than the limit, is
                // refused now rather than after reading up to the limit: same verdict, and a
                // remote read does not download the limit for nothing.
                if have >= limits.max || (needed > limits.max && total_len > limits.max) {
                    return Err(ReadError::Malformed {
                        path: path.to_path_buf(),
                        offset,
                        defect: Defect::HeaderSize,
                        expected: format!("a header within the first {} bytes (reading {what})", limits.max),
                        found: format!("a header needing at least {needed} bytes"),
                        earlier: Box::default(),
                    });
                }
                want = needed.max(have.saturating_mul(2)).min(total_len).min(limits.max);
            }
            Err((e, progress)) => return Err(e.with_path(path, have, progress)),
        }
    }
}

/// Parses a local file's header with positioned reads (no map), so a file another process
/// is writing or truncating can never fault this process. Returns the file and bytes read.
pub fn read_local(path: &Path, limits: GrowLimits) -> Result<(GgufFile, u64), ReadError> {
    let io = |err| ReadError::Io { path: path.to_path_buf(), err };
    let file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(io(std::io::Error::other("is a directory")));
    }
    parse_growing(path, meta.len(), limits, |buf, want| read_prefix(&file, buf, want).map_err(io))
}

/// Extends `buf` with the file's bytes up to `want` (or to end of file, if it is shorter now).
pub fn read_prefix(file: &File, buf: &mut Vec<u8>, want: u64) -> std::io::Result<()> {
    let mut at = buf.len() as u64;
    let mut chunk = vec![0u8; 1 << 20];
    while at < want {
        let n = ((want - at) as usize).min(chunk.len());
        let piece = chunk.get_mut(..n).unwrap_or_default();
        let got = super::file::read_at(file, piece, at)?;
        if got == 0 {
            break;
        }
        // A read returns at most the bytes asked for.
        buf.extend_from_slice(piece.get(..got).unwrap_or(piece));
        at += got as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
    }

    #[test]
    fn piecewise_read_equals_mapped_read_and_reads_only_the_header() {
        let path = fixture("qwen35-35b-a3b-q4km.gguf");
        let mapped = GgufFile::open(&path).unwrap();
        let small = GrowLimits { first: 4096, max: 1 << 30 };
        let (piecewise, read) = read_local(&path, small).unwrap();
        assert_eq!(piecewise.header.tensors, mapped.header.tensors);
        assert_eq!(piecewise.layout, mapped.layout);
        assert!(read >= mapped.header.data_offset - 64, "read {read} bytes");
        assert!(read < 2 * mapped.header.data_offset + 4096, "read {read} bytes for a {} byte header", mapped.header.data_offset);
    }

    #[test]
    fn a_header_over_the_limit_is_refused_not_read() {
        let path = fixture("qwen35-35b-a3b-q4km.gguf");
        let err = read_local(&path, GrowLimits { first: 1024, max: 8192 }).unwrap_err();
        assert!(err.to_string().contains("within the first 8192 bytes"), "{err}");
    }

    #[test]
    fn a_source_that_ends_early_reports_incomplete() {
        let bytes = std::fs::read(fixture("qwen35-35b-a3b-q4km.gguf")).unwrap();
        let cut = 20_000; // the header is 49 KB
        let r = parse_growing(Path::new("x.gguf"), bytes.len() as u64, GrowLimits::default(), |buf, want| {
            buf.extend_from_slice(&bytes[buf.len()..(want as usize).min(cut)]);
            Ok(())
        });
        assert!(matches!(r, Err(ref e) if e.is_incomplete()), "expected incomplete");
    }
}
