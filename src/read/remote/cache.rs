//! The header cache: the first bytes of remote files (their headers), keyed by what the
//! content is, never by where it was: the sha256 the Hub lists for every LFS file (`lfs.oid`,
//! also its `X-Linked-Etag`), an Ollama blob's digest, or a plain server's strong ETag with the
//! length. An entry can therefore never be stale, and a repo looked at again costs its listing.
//!
//! Where: `$XDG_CACHE_HOME/gguf-meter/headers`, else `~/.cache/gguf-meter/headers`. Size:
//! at most `GGUF_METER_CACHE_MAX_MB` (default 512) MiB; the least recently used entries go first.
//! `--refresh` reads nothing from it (and rewrites what it fetches); `--offline` reads only it,
//! with two URL-keyed indexes that are used for nothing else: the last listing of each Hub repo
//! and the content key each URL last had.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};

/// How the cache is used in this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Read entries, fetch what is missing, store what was fetched.
    Normal,
    /// No network: everything must come from the cache.
    Offline,
    /// Ignore entries; fetch and store again.
    Refresh,
}

static MODE: AtomicU8 = AtomicU8::new(0);

/// Sets the mode (from `--offline` / `--refresh`).
pub fn set_mode(m: Mode) {
    MODE.store(m as u8, Ordering::Relaxed);
}

/// The mode in force.
pub fn mode() -> Mode {
    match MODE.load(Ordering::Relaxed) {
        1 => Mode::Offline,
        2 => Mode::Refresh,
        _ => Mode::Normal,
    }
}

const MAGIC: &[u8; 8] = b"GGMHDR1\n";
/// Default bound on the cache's size.
const DEFAULT_MAX_MB: u64 = 512;

/// The cache directory, if a home for it is known.
pub fn dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("gguf-meter").join("headers"))
}

fn hashed(kind: &str, key: &str) -> Option<PathBuf> {
    let h = Sha256::digest(key.as_bytes());
    let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
    Some(dir()?.join(kind).join(hex))
}

/// A cached header: the file's first bytes and its whole length.
pub struct Entry {
    /// The file's length.
    pub total: u64,
    /// Its first bytes (at least the header).
    pub bytes: Vec<u8>,
}

/// The entry for content `key`, unless `--refresh`.
pub fn get(key: &str) -> Option<Entry> {
    if mode() == Mode::Refresh {
        return None;
    }
    let path = hashed("blobs", key)?;
    let data = std::fs::read(&path).ok()?;
    let rest = data.strip_prefix(MAGIC.as_slice())?;
    let total = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
    let klen = u32::from_le_bytes(rest.get(8..12)?.try_into().ok()?) as usize;
    if rest.get(12..12 + klen)? != key.as_bytes() {
        return None;
    }
    // Touched, so eviction takes the least recently used.
    let _ = std::fs::File::options().append(true).open(&path).and_then(|f| f.set_modified(std::time::SystemTime::now()));
    Some(Entry { total, bytes: rest.get(12 + klen..)?.to_vec() })
}

/// True when `key` has an entry (and the cache is read).
pub fn contains(key: &str) -> bool {
    mode() != Mode::Refresh && hashed("blobs", key).is_some_and(|p| p.is_file())
}

/// Stores the first bytes of content `key`; failures (read-only home, full disk) are ignored:
/// the cache only saves time.
pub fn put(key: &str, total: u64, bytes: &[u8]) {
    let Some(path) = hashed("blobs", key) else { return };
    let mut data = MAGIC.to_vec();
    data.extend(total.to_le_bytes());
    data.extend((key.len() as u32).to_le_bytes());
    data.extend(key.as_bytes());
    data.extend(bytes);
    if write_atomic(&path, &data).is_ok() {
        evict();
    }
}

/// Remembers that `what` (a URL, a listing) last had `value`: used only by `--offline`.
pub fn put_index(kind: &str, what: &str, value: &[u8]) {
    if let Some(path) = hashed(kind, what) {
        let _ = write_atomic(&path, value);
    }
}

/// What [`put_index`] stored for `what`, in `--offline` mode only.
pub fn get_index(kind: &str, what: &str) -> Option<Vec<u8>> {
    if mode() != Mode::Offline {
        return None;
    }
    std::fs::read(hashed(kind, what)?).ok()
}

fn write_atomic(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    let parent = path.parent().ok_or_else(|| std::io::Error::other("no parent"))?;
    std::fs::create_dir_all(parent)?;
    let tmp = parent.join(format!(".tmp-{}-{:?}", std::process::id(), std::thread::current().id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    drop(f);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Deletes the least recently used entries until the cache is within its bound.
fn evict() {
    let max = std::env::var("GGUF_METER_CACHE_MAX_MB").ok().and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(DEFAULT_MAX_MB).saturating_mul(1 << 20);
    if let Some(blobs) = dir().map(|d| d.join("blobs")) {
        evict_in(&blobs, max);
    }
}

/// Deletes the least recently used files of `blobs` until they take at most `max` bytes.
fn evict_in(blobs: &std::path::Path, max: u64) {
    let Ok(rd) = std::fs::read_dir(blobs) else { return };
    let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = rd
        .flatten()
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            m.is_file().then(|| (m.modified().unwrap_or(std::time::UNIX_EPOCH), m.len(), e.path()))
        })
        .collect();
    let mut total: u64 = entries.iter().map(|e| e.1).sum();
    entries.sort();
    for (_, len, path) in entries {
        if total <= max {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::evict_in;
    use std::time::{Duration, SystemTime};

    #[test]
    fn eviction_takes_the_least_recently_used_first() {
        let d = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        for (name, age) in [("old", 30), ("mid", 20), ("new", 10)] {
            let p = d.path().join(name);
            std::fs::write(&p, [0u8; 100]).unwrap();
            std::fs::File::options().append(true).open(&p).unwrap().set_modified(now - Duration::from_secs(age)).unwrap();
        }
        evict_in(d.path(), 250);
        let mut left: Vec<String> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, ["mid", "new"]);
        evict_in(d.path(), 0);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }
}
