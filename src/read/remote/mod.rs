//! Remote GGUF files: headers read over HTTP range requests, from `http(s)://` URLs and
//! `hf://owner/repo[/file]` Hub locations. Only the bytes the header needs are fetched; what
//! comes out is a [`ShardSet`] like a local file's, so the layers above never know the difference.

pub mod hf;
pub mod http;
mod range;

pub use http::{Client, HttpSettings, RemoteError};
pub use range::FetchStats;

use super::error::ReadError;
use super::file::GgufFile;
use super::growing::{GrowLimits, parse_growing};
use super::shards::{ShardSet, assemble};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Header reads start with 1 MiB and stop at 256 MiB: real headers (vocabularies included)
/// are a few MB, and a remote read must never turn into a download.
pub const REMOTE_LIMITS: GrowLimits = GrowLimits { first: 1 << 20, max: 256 << 20 };

/// A model read over HTTP.
#[derive(Debug)]
pub struct Fetched {
    /// Its shards, as a local read gives them.
    pub set: ShardSet,
    /// What reading every shard's header cost.
    pub stats: FetchStats,
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
/// headers of its siblings (same URL, sibling file name), one after another.
pub fn open_url(client: &Client, url: &str, limits: GrowLimits) -> Result<Fetched, ReadError> {
    let (first, mut stats) = read_header(client, url, limits)?;
    let (dir, name, query) = split_url(url);
    let mut set = assemble(first, Some(name), |sibling| {
        let sibling_url = format!("{dir}{sibling}{query}");
        match read_header(client, &sibling_url, limits) {
            Ok((f, s)) => {
                stats = add(stats, s);
                Ok(Ok(f))
            }
            Err(ReadError::Io { err, .. }) if is_not_found(&err) => Ok(Err(PathBuf::from(sibling_url))),
            Err(e) => Err(e),
        }
    })?;
    if stats.ignored_range {
        set.warnings
            .push(format!("{url}: the server ignores Range requests; read the first {} bytes of its full response, then closed the connection", stats.bytes));
    }
    Ok(Fetched { set, stats })
}

fn add(a: FetchStats, b: FetchStats) -> FetchStats {
    FetchStats { bytes: a.bytes.saturating_add(b.bytes), requests: a.requests.saturating_add(b.requests), ignored_range: a.ignored_range || b.ignored_range }
}

fn is_not_found(err: &std::io::Error) -> bool {
    err.get_ref().and_then(|e| e.downcast_ref::<RemoteError>()).is_some_and(|e| matches!(e, RemoteError::Status { code: 404, .. }))
}

/// Parses one remote file's header, fetching growing ranges until it parses.
fn read_header(client: &Client, url: &str, limits: GrowLimits) -> Result<(GgufFile, FetchStats), ReadError> {
    let path = Path::new(url);
    let mut reader = range::RangeReader::new(client, url);
    let mut head = Vec::new();
    let first = limits.first.min(limits.max).max(1);
    reader.fill(&mut head, first).map_err(|e| read_error(url, e))?;
    if let Some(why) = not_gguf(url, &head, reader.content_type()) {
        return Err(read_error(url, RemoteError::NotGguf(why)));
    }
    let total = reader.total().unwrap_or(head.len() as u64);
    let mut head = Some(head);
    let parsed = parse_growing(path, total, limits, |buf, want| {
        if let Some(h) = head.take() {
            *buf = h;
        }
        reader.fill(buf, want).map_err(|e| read_error(url, e))
    });
    let (file, _) = parsed?;
    Ok((file, reader.stats))
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
