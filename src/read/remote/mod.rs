//! Remote GGUF files: headers read over HTTP range requests, from `http(s)://` URLs and
//! `hf://owner/repo[/file]` Hub locations. Only the bytes the header needs are fetched; what
//! comes out is a [`ShardSet`] like a local file's, so the layers above never know the difference.

// ReadError is this layer's error; boxing it is a change of its own (as in shards.rs).
#![allow(clippy::result_large_err)]

pub mod cache;
pub mod hf;
pub mod http;
pub mod modelscope;
pub mod ollama;
mod pool;
mod range;

pub use http::{Client, HttpSettings, RemoteError};
pub use range::{FetchStats, oid_key};

use super::error::ReadError;
use super::file::GgufFile;
use super::growing::{GrowLimits, parse_growing_kept};
use super::shards::{ShardName, ShardSet, assemble};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Header reads stop at 256 MiB: real headers (vocabularies included) are a few MB, and a
/// remote read must never turn into a download. Where the first range starts is
/// `first_range`'s business.
pub const REMOTE_LIMITS: GrowLimits = GrowLimits { first: FIRST_RANGE, max: 256 << 20 };

/// The first range of a file that may hold the tokenizer (a whole model, or a split model's
/// first shard). Estimated from token and merge counts, vocabularies make headers of roughly
/// 6-8 MB (Gemma 3's 262,144 tokens with scores, Llama 3's 128,256 tokens and 280,147 merges)
/// and 9-10 MB for Qwen 3.5's 248,320 tokens and merges: 12 MiB reads them in one round trip,
/// a second one is the exception. A listing's size cuts it for small files.
pub const FIRST_RANGE: u64 = 12 << 20;
/// The first range of a split model's later shards, which hold tensor infos only (gguf-split
/// writes the metadata into the first): 256 KiB is some 3,000 tensor infos.
pub const LATER_SHARD_RANGE: u64 = 256 << 10;

/// Split sets of more shards than this are not fetched ahead (a name can claim 99999).
const MAX_PREFETCH_SHARDS: u32 = 512;

/// `f` over `items` at once (at most `pool::MAX_IN_FLIGHT` threads), results in order.
pub fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    pool::map(items, f)
}

/// A model read over HTTP.
#[derive(Debug)]
pub struct Fetched {
    /// Its shards, as a local read gives them.
    pub set: ShardSet,
    /// What reading every shard's header cost.
    pub stats: FetchStats,
}

/// What is known about a remote file before asking for it (from a listing or a manifest).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// Its length.
    pub size: Option<u64>,
    /// Its content key (`oid:HEX`): a header-cache hit needs no request at all.
    pub key: Option<String>,
}

/// The process's client, built from the environment on first use.
pub fn client() -> Result<&'static Client, RemoteError> {
    static CLIENT: OnceLock<Result<Client, String>> = OnceLock::new();
    let c = CLIENT.get_or_init(|| HttpSettings::from_env(http::authority(&hf::endpoint())).map(Client::new).map_err(|e| e.to_string()));
    c.as_ref().map_err(|e| RemoteError::Config(e.clone()))
}

/// The error for `url`, in the read layer's terms (one line naming the URL).
pub fn read_error(url: &str, e: RemoteError) -> ReadError {
    ReadError::Io { path: PathBuf::from(url), err: std::io::Error::other(e) }
}

/// A URL cut into what precedes its file name, the file name, and any query or fragment.
fn split_url(url: &str) -> (&str, &str, &str) {
    let (path, query) = url.split_at(url.find(['?', '#']).unwrap_or(url.len()));
    let (dir, name) = path.split_at(path.rfind('/').map_or(0, |i| i + 1));
    (dir, name, query)
}

/// The last path segment of a URL, without query or fragment.
pub fn url_file_name(url: &str) -> &str {
    split_url(url).1
}

/// Reads the header of the file at `url` and, when it is one shard of a split model, the
/// headers of its siblings (same URL, sibling file name), all at once. `known` tells what a
/// listing said about a URL.
pub fn open_url(client: &Client, url: &str, known: &(dyn Fn(&str) -> Known + Sync), limits: GrowLimits) -> Result<Fetched, ReadError> {
    let (dir, name, query) = split_url(url);
    let shard = ShardName::parse(name);
    let sibling_url = |n: &str| format!("{dir}{n}{query}");
    // Every shard's name follows from this one's: ask for all of them together.
    let names: Vec<(u32, String)> = match &shard {
        Some(s) if s.count <= MAX_PREFETCH_SHARDS => (1..=s.count).map(|i| (i, s.sibling(i))).collect(),
        _ => vec![(1, name.to_string())],
    };
    let index = shard.as_ref().filter(|s| s.count <= MAX_PREFETCH_SHARDS).map_or(1, |s| s.index);
    let mut read: HashMap<String, Result<(GgufFile, FetchStats), ReadError>> =
        pool::map(&names, |(i, n)| (n.clone(), read_header(client, &sibling_url(n), &known(&sibling_url(n)), *i, limits))).into_iter().collect();
    let (first, mut stats) = match read.remove(names.iter().find(|(i, _)| *i == index).map_or(name, |(_, n)| n.as_str())) {
        Some(r) => r?,
        None => read_header(client, url, &known(url), index, limits)?,
    };
    let mut set = assemble(first, Some(name), |sibling| {
        let u = sibling_url(sibling);
        let got = read.remove(sibling).unwrap_or_else(|| read_header(client, &u, &known(&u), 2, limits));
        match got {
            Ok((f, s)) => {
                stats = add(stats, s);
                Ok(Ok(f))
            }
            Err(ReadError::Io { err, .. }) if is_not_found(&err) => Ok(Err(PathBuf::from(u))),
            Err(e) => Err(e),
        }
    })?;
    if stats.ignored_range {
        set.warnings
            .push(format!("{url}: the server ignores Range requests; read the first {} bytes of its full response, then closed the connection", stats.bytes));
    }
    Ok(Fetched { set, stats })
}

/// Both costs together.
pub fn add(a: FetchStats, b: FetchStats) -> FetchStats {
    FetchStats {
        bytes: a.bytes.saturating_add(b.bytes),
        requests: a.requests.saturating_add(b.requests),
        cached: a.cached.saturating_add(b.cached),
        ignored_range: a.ignored_range || b.ignored_range,
    }
}

fn is_not_found(err: &std::io::Error) -> bool {
    err.get_ref().and_then(|e| e.downcast_ref::<RemoteError>()).is_some_and(|e| matches!(e, RemoteError::Status { code: 404, .. }))
}

/// Parses a header held in the cache; `None` when the entry does not hold a whole header.
fn from_cache(url: &str, entry: cache::Entry, limits: GrowLimits) -> Option<GgufFile> {
    let bytes = entry.bytes;
    let parsed = parse_growing_kept(Path::new(url), entry.total, limits, |buf, want| {
        let end = (want as usize).min(bytes.len());
        buf.extend_from_slice(bytes.get(buf.len()..end).unwrap_or_default());
        Ok(())
    });
    parsed.ok().map(|(f, _)| f)
}

/// Parses one remote file's header (shard `index` of its set, 1 when not split): from the
/// cache when its content key is known and cached, else by range requests, growing until
/// it parses. What was fetched is stored in the cache under the key the server gave.
fn read_header(client: &Client, url: &str, known: &Known, index: u32, limits: GrowLimits) -> Result<(GgufFile, FetchStats), ReadError> {
    let cached = FetchStats { cached: 1, ..FetchStats::default() };
    if let Some(f) = known.key.as_deref().and_then(cache::get).and_then(|e| from_cache(url, e, limits)) {
        return Ok((f, cached));
    }
    if cache::mode() == cache::Mode::Offline {
        let key = known.key.clone().or_else(|| cache::get_index("urls", url).and_then(|k| String::from_utf8(k).ok()));
        return match key.as_deref().and_then(cache::get) {
            Some(e) => from_cache(url, e, limits)
                .map(|f| (f, cached))
                .ok_or_else(|| read_error(url, RemoteError::Config("the cached header is unreadable; run without --offline".into()))),
            None => Err(read_error(url, RemoteError::Config("not in the header cache; run once without --offline".into()))),
        };
    }
    let _slot = pool::slot();
    let path = Path::new(url);
    let stop = |k: &str| cache::contains(k);
    let mut reader = range::RangeReader::new(client, url).with_total(known.size);
    reader.stop_at = Some(&stop);
    let mut head = Vec::new();
    let first = if index > 1 { LATER_SHARD_RANGE } else { first_range() }.min(limits.max).max(1);
    reader.fill(&mut head, first).map_err(|e| read_error(url, e))?;
    if reader.stopped {
        // The Hub's redirect named content the cache holds.
        if let Some(f) = reader.key.as_deref().and_then(cache::get).and_then(|e| from_cache(url, e, limits)) {
            remember(url, reader.key.as_deref());
            return Ok((f, FetchStats { cached: 1, ..reader.stats }));
        }
        reader.stop_at = None;
        reader.stopped = false;
        reader.fill(&mut head, first).map_err(|e| read_error(url, e))?;
    }
    if let Some(why) = not_gguf(url, &head, reader.content_type()) {
        return Err(read_error(url, RemoteError::NotGguf(why)));
    }
    let total = reader.total().unwrap_or(head.len() as u64);
    // A header longer than the first range may be cached under the key the answer gave;
    // it is used only if it starts with the bytes just fetched.
    let mut more = reader.key.as_deref().and_then(cache::get).filter(|e| e.total == total && e.bytes.len() > head.len() && e.bytes.starts_with(&head));
    let mut head = Some(head);
    let limits = GrowLimits { first, max: limits.max };
    let parsed = parse_growing_kept(path, total, limits, |buf, want| {
        if let Some(h) = head.take() {
            *buf = h;
        }
        if let Some(e) = more.take() {
            *buf = e.bytes;
            reader.stats.cached = 1;
        }
        reader.fill(buf, want).map_err(|e| read_error(url, e))
    });
    let (file, mut bytes) = parsed?;
    // The listing's key (a sha256 of the whole file) is exact; the server's is its own word.
    if let Some(k) = known.key.as_deref().or(reader.key.as_deref()) {
        bytes.truncate(usize::try_from(file.header.data_offset).unwrap_or(usize::MAX).max(1));
        cache::put(k, total, &bytes);
        remember(url, Some(k));
    }
    Ok((file, reader.stats))
}

/// Notes the content key a URL had, for `--offline`.
fn remember(url: &str, key: Option<&str>) {
    if let Some(k) = key {
        cache::put_index("urls", url, k.as_bytes());
    }
}

/// The first range of a file that may hold the tokenizer: [`FIRST_RANGE`] unless
/// `GGUF_METER_FIRST_RANGE` (bytes) says otherwise.
fn first_range() -> u64 {
    std::env::var("GGUF_METER_FIRST_RANGE").ok().and_then(|v| v.trim().parse::<u64>().ok()).filter(|&v| v > 0).unwrap_or(FIRST_RANGE)
}

/// Why the first bytes are plainly not a GGUF file (a web page, JSON), if they are.
fn not_gguf(url: &str, head: &[u8], content_type: Option<&str>) -> Option<String> {
    if head.starts_with(b"GGUF") || head.len() < 4 {
        return None;
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let text = head.iter().take(512).copied().find(|b| !b.is_ascii_whitespace());
    let what = if ct.contains("html") || text == Some(b'<') {
        "the server sent an HTML page"
    } else if ct.contains("json") || text == Some(b'{') || text == Some(b'[') {
        "the server sent JSON"
    } else if ct.starts_with("text/") {
        "the server sent text"
    } else {
        return None; // binary: the header parser names the bad magic and its offset
    };
    let hint = if url.contains("/blob/") { "; for a Hub file use its /resolve/ URL, not /blob/" } else { "" };
    let ct = content_type.map(|c| format!(" (Content-Type: {c})")).unwrap_or_default();
    Some(format!("{what}{ct}, not GGUF bytes{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_and_plain_pages() {
        assert_eq!(url_file_name("https://h/a/b-00001-of-00002.gguf?download=true"), "b-00001-of-00002.gguf");
        assert_eq!(url_file_name("https://h/x.gguf"), "x.gguf");
        assert!(not_gguf("u", b"<!DOCTYPE html><html>", Some("text/html")).unwrap().contains("HTML"));
        assert!(not_gguf("https://h/o/r/blob/main/x.gguf", b"  <html>", None).unwrap().contains("/resolve/"));
        assert!(not_gguf("u", b"{\"error\":1}", Some("application/json")).unwrap().contains("JSON"));
        assert_eq!(not_gguf("u", b"GGUF\x03\0\0\0", Some("text/html")), None);
        assert_eq!(not_gguf("u", b"\x00\x01\x02\x03", None), None);
    }
}
