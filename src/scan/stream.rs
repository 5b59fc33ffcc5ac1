//! One sequential pass over a file: this thread reads chunks and scans them while a second
//! thread hashes the same chunks, so reading+scanning and hashing overlap on two cores.
//! Chunk buffers circulate between the two through bounded channels, so memory is
//! `buffers * chunk_bytes` whatever the file size.

use super::plan::{Plan, Planned};
use super::tensor::TensorScan;
use super::{Finding, Progress, ScanError, ScanOptions};
use crate::read::GgufFile;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// A chunk on its way to the hasher: its own buffer (pread) or a range of the map.
/// Stands in for the map when the `mmap` feature is off; never made.
#[cfg(not(feature = "mmap"))]
struct NoMap;

#[cfg(not(feature = "mmap"))]
impl NoMap {
    fn bytes(&self) -> &[u8] {
        &[]
    }
}

struct Chunk {
    offset: u64,
    len: usize,
    buf: Option<Arc<Vec<u8>>>,
}

/// What one pass over a file yields.
pub struct Pass {
    /// Bytes read (the whole file).
    pub bytes_read: u64,
    /// Their SHA-256, when hashing was on.
    pub sha256: Option<[u8; 32]>,
    /// Findings in file order.
    pub findings: Vec<Finding>,
}

/// Reads, scans and hashes `file`.
pub fn run(file: &GgufFile, plan: &Plan, opts: &ScanOptions, progress: Progress) -> Result<Pass, ScanError> {
    let path = &file.path;
    let io = |offset, err| ScanError::Io { path: path.clone(), offset, err };
    let f = std::fs::File::open(path).map_err(|e| io(0, e))?;
    let len = f.metadata().map_err(|e| io(0, e))?.len();
    if len < file.file_bytes {
        return Err(ScanError::Shrunk { path: path.clone(), at: len, expected: file.file_bytes });
    }
    // Without the `mmap` feature every read is positioned.
    #[cfg(feature = "mmap")]
    let map = match opts.io {
        super::IoMode::Mmap => Some(crate::read::source::MappedFile::open(path).map_err(|e| io(0, e))?),
        super::IoMode::Pread => None,
    };
    #[cfg(not(feature = "mmap"))]
    let map: Option<NoMap> = None;
    let mapped: &[u8] = map.as_ref().map_or(&[], |m| m.bytes());
    let chunk = opts.chunk_bytes.max(4096);
    let depth = opts.buffers.max(2);
    let (to_hash, hash_rx) = sync_channel::<Chunk>(depth - 1);
    let (to_pool, pool) = sync_channel::<Arc<Vec<u8>>>(depth);
    let mut walker = Walker::new(plan);
    let hashing = opts.hash || opts.checksums.is_some();

    std::thread::scope(|s| {
        // Owned here so that any early return closes the channel and the hasher ends, rather
        // than the scope waiting for it forever.
        let to_hash = to_hash;
        let hasher = std::thread::Builder::new()
            .name("sha256".into())
            .spawn_scoped(s, move || hash(hash_rx, to_pool, mapped, progress, hashing))
            .map_err(|e| io(0, e))?;
        let mut offset = 0u64;
        let mut made = 0usize;
        while offset < len {
            let n = (len - offset).min(chunk as u64) as usize;
            let data: Arc<Vec<u8>>;
            let slice: &[u8] = match &map {
                Some(m) => {
                    let Some(s) = m.bytes().get(offset as usize..offset as usize + n) else {
                        return Err(ScanError::Shrunk { path: path.clone(), at: m.bytes().len() as u64, expected: len });
                    };
                    let _ = to_hash.send(Chunk { offset, len: n, buf: None });
                    s
                }
                None => {
                    let mut buf = take_buffer(&pool, &mut made, depth, chunk);
                    buf.resize(n, 0);
                    crate::read::file::read_exact_at(&f, &mut buf, offset).map_err(|e| match e.kind() {
                        std::io::ErrorKind::UnexpectedEof => ScanError::Shrunk { path: path.clone(), at: offset, expected: len },
                        _ => io(offset, e),
                    })?;
                    data = Arc::new(buf);
                    let _ = to_hash.send(Chunk { offset, len: n, buf: Some(Arc::clone(&data)) });
                    &data[..]
                }
            };
            walker.feed(offset, slice);
            offset += n as u64;
        }
        drop(to_hash);
        let digest = hasher.join().map_err(|_| io(0, std::io::Error::other("hashing thread failed")))?;
        Ok(Pass { bytes_read: len, sha256: digest, findings: walker.findings })
    })
}

/// A free buffer: a new one while fewer than `depth` exist, else one the hasher is done with.
fn take_buffer(pool: &Receiver<Arc<Vec<u8>>>, made: &mut usize, depth: usize, chunk: usize) -> Vec<u8> {
    if *made < depth {
        if let Ok(b) = pool.try_recv() {
            return Arc::into_inner(b).unwrap_or_else(|| Vec::with_capacity(chunk));
        }
        *made += 1;
        return Vec::with_capacity(chunk);
    }
    // The reader dropped its handle before asking again, so the hasher's was the last one.
    pool.recv().ok().and_then(Arc::into_inner).unwrap_or_else(|| Vec::with_capacity(chunk))
}

/// The hashing thread: digests chunks in order, reports progress, hands buffers back.
fn hash(rx: Receiver<Chunk>, pool: SyncSender<Arc<Vec<u8>>>, mapped: &[u8], progress: Progress, hashing: bool) -> Option<[u8; 32]> {
    let mut h = Sha256::new();
    for c in rx {
        match &c.buf {
            _ if !hashing => {}
            Some(b) => h.update(b.get(..c.len).unwrap_or(b)),
            None => h.update(mapped.get(c.offset as usize..).and_then(|m| m.get(..c.len)).unwrap_or(&[])),
        }
        progress(c.len as u64);
        if let Some(b) = c.buf {
            let _ = pool.try_send(b);
        }
    }
    hashing.then(|| h.finalize().into())
}

/// Hands each tensor its bytes as chunks stream past; one tensor is open at a time, since
/// tensors do not overlap and chunks come in file order.
struct Walker<'a> {
    plan: &'a [Planned<'a>],
    big_endian: bool,
    next: usize,
    open: Option<TensorScan>,
    findings: Vec<Finding>,
}

impl<'a> Walker<'a> {
    fn new(plan: &'a Plan<'a>) -> Walker<'a> {
        Walker { plan: &plan.tensors, big_endian: plan.big_endian, next: 0, open: None, findings: Vec::new() }
    }

    /// Feeds the chunk at absolute `offset` to every tensor it overlaps.
    fn feed(&mut self, offset: u64, data: &[u8]) {
        let end = offset.saturating_add(data.len() as u64);
        loop {
            if self.open.is_none() {
                let Some(p) = self.plan.get(self.next) else { return };
                if p.start >= end && p.len > 0 {
                    return;
                }
                self.open = Some(TensorScan::new(p.name, p.ggml_type, p.start, p.len, p.check, self.big_endian));
                self.next += 1;
            }
            let Some(t) = self.open.as_mut() else { return };
            let (lo, hi) = (t.start().max(offset), t.end().min(end));
            if hi > lo
                && let Some(piece) = data.get((lo - offset) as usize..(hi - offset) as usize)
            {
                t.feed(piece);
            }
            if t.end() > end {
                return;
            }
            self.findings.extend(t.finish());
            self.open = None;
        }
    }
}
