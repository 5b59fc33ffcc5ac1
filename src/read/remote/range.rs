//! One remote file read from its start: a range request for each stretch the header parse asks
//! for, or, from a server that ignores Range, the start of the full response and no more.
//! Redirects are followed here, hop by hop: the final (signed CDN) URL is reused for the next
//! ranges while it is valid, and resolved once more when the CDN refuses it as expired.

use super::http::{Client, MAX_REDIRECTS, RemoteError, drain, redirect_target};
use std::io::Read;
use std::time::{Duration, SystemTime};
use ureq::BodyReader;

/// Requests per file before giving up on a server that answers with ever shorter ranges
/// (bytes stay bounded by the header limit; this bounds the round trips).
const MAX_REQUESTS: u32 = 1000;
/// Bytes read from the socket at a time.
const CHUNK: usize = 64 << 10;

/// What reading one file cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FetchStats {
    /// Body bytes received (including any the server sent that were skipped).
    pub bytes: u64,
    /// HTTP requests made (each redirect hop counts; retries of one request do not).
    pub requests: u32,
    /// Files whose header came from the header cache.
    pub cached: u32,
    /// The server sent the whole file instead of a range; its start was read, then dropped.
    pub ignored_range: bool,
}

/// An open response body and where it stands in the file.
struct Stream {
    body: BodyReader<'static>,
    /// File offset one past the last byte this body will deliver.
    end: u64,
}

/// Where a redirect chain ended: later ranges go straight there while it is valid.
struct Target {
    url: String,
    expires: Option<SystemTime>,
}

/// A signed URL is not reused this close to its expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);

impl Target {
    fn valid(&self) -> bool {
        self.expires.is_none_or(|e| SystemTime::now() + EXPIRY_MARGIN < e)
    }
}

/// Reads the first bytes of the file at `url`.
pub struct RangeReader<'c> {
    client: &'c Client,
    url: String,
    target: Option<Target>,
    /// The stored target was refused once and resolved again; a second refusal is an error.
    reresolved: bool,
    total: Option<u64>,
    content_type: Option<String>,
    stream: Option<Stream>,
    /// The content's identity, when a response gave one (`oid:HEX` from the Hub's
    /// `X-Linked-Etag`, or `etag:...` from a strong ETag with the length).
    pub key: Option<String>,
    /// Stop at a redirect whose `X-Linked-Etag` this predicate accepts (a header-cache hit).
    pub stop_at: Option<&'c (dyn Fn(&str) -> bool + Sync)>,
    /// Set when `stop_at` stopped the read: no byte was fetched.
    pub stopped: bool,
    /// Cost so far.
    pub stats: FetchStats,
}

/// A parsed `Content-Range: bytes a-b/total` (or `bytes */total`); `None` for a `*`.
#[derive(Debug, PartialEq, Eq)]
struct ContentRange {
    range: Option<(u64, u64)>,
    total: Option<u64>,
}

fn content_range(v: &str) -> Option<ContentRange> {
    let (range, total) = v.trim().strip_prefix("bytes")?.trim_start().split_once('/')?;
    let total = if total.trim() == "*" { None } else { Some(total.trim().parse().ok()?) };
    if range.trim() == "*" {
        return Some(ContentRange { range: None, total });
    }
    let (a, b) = range.trim().split_once('-')?;
    Some(ContentRange { range: Some((a.trim().parse().ok()?, b.trim().parse().ok()?)), total })
}

impl<'c> RangeReader<'c> {
    /// A reader of `url`; nothing is requested until [`RangeReader::fill`].
    pub fn new(client: &'c Client, url: &str) -> RangeReader<'c> {
        RangeReader {
            client,
            url: url.to_string(),
            target: None,
            reresolved: false,
            total: None,
            content_type: None,
            stream: None,
            key: None,
            stop_at: None,
            stopped: false,
            stats: FetchStats::default(),
        }
    }

    /// The file's length as already known (a listing): the first range is cut to it.
    pub fn with_total(mut self, total: Option<u64>) -> Self {
        self.total = total;
        self
    }

    /// The file's length, once a response said it.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// The first response's Content-Type.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// Extends `buf` (the file's first bytes) to `want` bytes, or to the end of the file.
    pub fn fill(&mut self, buf: &mut Vec<u8>, want: u64) -> Result<(), RemoteError> {
        let mut broken = 0;
        loop {
            let have = buf.len() as u64;
            let target = want.min(self.total.unwrap_or(u64::MAX));
            if have >= target || self.stopped {
                return Ok(());
            }
            if self.stream.is_none() {
                if self.stats.requests >= MAX_REQUESTS {
                    return Err(RemoteError::Protocol(format!("gave up after {MAX_REQUESTS} requests: the server keeps sending short ranges")));
                }
                self.request(have, target)?;
                continue;
            }
            match self.read_stream(buf, target) {
                Ok(()) => {}
                Err(e @ RemoteError::Timeout { .. }) => return Err(e),
                Err(e) => {
                    self.stream = None;
                    broken += 1;
                    if broken >= self.client.settings.attempts {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Reads the open stream up to `target` or its end; a body that stops short is an error.
    fn read_stream(&mut self, buf: &mut Vec<u8>, target: u64) -> Result<(), RemoteError> {
        let Some(s) = self.stream.as_mut() else { return Ok(()) };
        let stop = target.min(s.end);
        while (buf.len() as u64) < stop {
            let at = buf.len();
            let n = CHUNK.min((stop - at as u64) as usize);
            buf.resize(at + n, 0);
            let got = s.body.read(buf.get_mut(at..).unwrap_or_default());
            let got = match got {
                Ok(g) => g,
                Err(e) => {
                    buf.truncate(at);
                    return Err(self.client.body_error(e));
                }
            };
            buf.truncate(at + got);
            self.stats.bytes += got as u64;
            if got == 0 {
                return Err(RemoteError::Transport(format!("the server closed the connection at byte {at} of a response that should reach byte {}", s.end)));
            }
        }
        if buf.len() as u64 >= s.end {
            // One more read meets the body's end, which hands the connection back to the pool.
            let mut probe = [0u8; 1];
            let _ = s.body.read(&mut probe);
            self.stream = None;
        }
        Ok(())
    }

    /// Sends the range request through the stored target or the redirect chain, and gives the
    /// answer that holds bytes (or a 416); `None` when `stop_at` ended the read at a redirect.
    fn answer(&mut self, have: u64, target: u64) -> Result<Option<ureq::http::Response<ureq::Body>>, RemoteError> {
        'resolve: loop {
            let via_target = self.target.as_ref().is_some_and(Target::valid);
            let mut at = if via_target { self.target.as_ref().map(|t| t.url.clone()).unwrap_or_default() } else { self.url.clone() };
            for _ in 0..=MAX_REDIRECTS {
                self.stats.requests += 1;
                let resp = match self.client.send(&at, Some((have, target - 1)), &[]) {
                    Ok(r) => r,
                    // A signed URL that has expired (or was revoked) is refused: resolve it again, once.
                    Err(RemoteError::Status { code: 401 | 403 | 404 | 410, .. }) if via_target && !self.reresolved => {
                        self.reresolved = true;
                        self.target = None;
                        continue 'resolve;
                    }
                    Err(e) => return Err(e),
                };
                let Some(next) = redirect_target(&at, &resp) else {
                    if at != self.url {
                        self.target = Some(Target { expires: expiry(&at), url: at });
                    }
                    return Ok(Some(resp));
                };
                let header = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
                if let Some(k) = header("x-linked-etag").as_deref().and_then(oid_key) {
                    self.key = Some(k);
                }
                if let Some(size) = header("x-linked-size").and_then(|v| v.trim().parse::<u64>().ok()) {
                    self.set_total(size)?;
                }
                drain(resp);
                if let (Some(stop), Some(k)) = (self.stop_at, &self.key)
                    && stop(k)
                {
                    self.stopped = true;
                    return Ok(None);
                }
                at = next;
            }
            return Err(RemoteError::Transport(format!("more than {MAX_REDIRECTS} redirects (a redirect loop?)")));
        }
    }

    /// Asks for bytes `have..target` and opens the response as the stream.
    fn request(&mut self, have: u64, target: u64) -> Result<(), RemoteError> {
        let Some(resp) = self.answer(have, target)? else { return Ok(()) };
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        if have == 0 {
            self.content_type = header("content-type");
        }
        let code = resp.status().as_u16();
        let cr = header("content-range");
        let parsed = cr.as_deref().and_then(content_range);
        let (start, end, total) = match (code, parsed) {
            (206, Some(ContentRange { range: Some((a, b)), total: Some(total) })) if a <= b && b < total => (a, b + 1, total),
            (206, _) => {
                let cr = cr.map_or("none".to_string(), |c| format!("Content-Range: {c}"));
                return Err(RemoteError::Protocol(format!("a 206 answer without a usable Content-Range ({cr}): the file's length is unknown")));
            }
            (416, Some(ContentRange { range: None, total: Some(total) })) if total <= have => {
                self.set_total(total)?;
                return Ok(());
            }
            (416, Some(ContentRange { total: Some(total), .. })) => {
                return Err(RemoteError::Protocol(format!("the server refused the range {have}-{}: it says the file has {total} bytes", target - 1)));
            }
            (416, _) => return Err(RemoteError::Protocol(format!("the server refused the range {have}-{} and gave no length", target - 1))),
            (200, _) => {
                let Some(len) = header("content-length").and_then(|v| v.trim().parse::<u64>().ok()) else {
                    return Err(RemoteError::Protocol("the server ignores Range and gives no Content-Length: the file's length is unknown".into()));
                };
                self.stats.ignored_range = true;
                (0, len, len)
            }
            (c, _) => return Err(RemoteError::Protocol(format!("unexpected HTTP {c} to a range request"))),
        };
        if start > have {
            return Err(RemoteError::Protocol(format!("asked for bytes from {have}, the server sent from {start}")));
        }
        self.set_total(total)?;
        if self.key.is_none() {
            let etag = header("etag").filter(|e| !e.starts_with("W/") && e.len() > 2);
            self.key = etag.map(|e| format!("etag:{}:{}:{total}", super::http::authority(&self.url).unwrap_or_default(), e.trim_matches('"')));
        }
        let mut body = resp.into_body().into_reader();
        // A full response (or a range starting early) is read from its start; the bytes
        // already held are skipped, so a server ignoring Range costs at most the prefix again.
        let skip = have - start;
        let skipped = std::io::copy(&mut (&mut body).take(skip), &mut std::io::sink()).map_err(|e| self.client.body_error(e))?;
        self.stats.bytes += skipped;
        if skipped < skip {
            return Err(RemoteError::Transport(format!("the server closed the connection at byte {}", start + skipped)));
        }
        self.stream = Some(Stream { body, end });
        Ok(())
    }

    fn set_total(&mut self, total: u64) -> Result<(), RemoteError> {
        match self.total {
            Some(t) if t != total => Err(RemoteError::Protocol(format!("the file changed on the server while reading: {t} bytes, then {total}"))),
            _ => {
                self.total = Some(total);
                Ok(())
            }
        }
    }
}

/// `oid:HEX` for an `X-Linked-Etag` (or listing oid, or digest) holding a git or sha256 hash.
pub fn oid_key(v: &str) -> Option<String> {
    let h = v.trim().trim_matches('"').trim_start_matches("sha256:").to_ascii_lowercase();
    ((h.len() == 40 || h.len() == 64) && h.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("oid:{h}"))
}

/// When a signed URL stops being valid: CloudFront's `Expires=UNIX`, or S3's `X-Amz-Date` +
/// `X-Amz-Expires` (the Hub's CDNs use both). `None` when it does not say.
fn expiry(url: &str) -> Option<SystemTime> {
    let query = url.split_once('?')?.1;
    let param = |name: &str| query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v));
    if let Some(e) = param("Expires").and_then(|v| v.parse::<u64>().ok()) {
        return Some(SystemTime::UNIX_EPOCH + Duration::from_secs(e));
    }
    let (date, secs) = (param("X-Amz-Date")?, param("X-Amz-Expires")?.parse::<u64>().ok()?);
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(amz_date(date)?.checked_add(secs)?))
}

/// `YYYYMMDDTHHMMSSZ` as seconds since the Unix epoch.
fn amz_date(d: &str) -> Option<u64> {
    let n = |r: std::ops::Range<usize>| d.get(r)?.parse::<i64>().ok();
    if d.len() != 16 || d.as_bytes().get(8) != Some(&b'T') {
        return None;
    }
    let (y, m, day) = (n(0..4)?, n(4..6)?, n(6..8)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + n(9..11)? * 3600 + n(11..13)? * 60 + n(13..15)?;
    u64::try_from(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::{ContentRange, Duration, SystemTime, content_range, expiry, oid_key};

    #[test]
    fn reads_signed_url_expiry_and_content_keys() {
        let at = |s: u64| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(expiry("https://cdn/x?Expires=1700000000&Signature=a"), at(1_700_000_000));
        assert_eq!(expiry("https://cdn/x?X-Amz-Date=20231114T221320Z&X-Amz-Expires=3600"), at(1_700_000_000 + 3600));
        assert_eq!(expiry("https://cdn/x?a=b"), None);
        assert_eq!(expiry("https://cdn/x"), None);
        let h = "A".repeat(64);
        assert_eq!(oid_key(&format!("\"{h}\"")), Some(format!("oid:{}", "a".repeat(64))));
        assert_eq!(oid_key(&format!("sha256:{h}")), Some(format!("oid:{}", "a".repeat(64))));
        assert_eq!(oid_key("\"abc\""), None);
    }

    #[test]
    fn parses_content_range() {
        let cr = |range, total| Some(ContentRange { range, total });
        assert_eq!(content_range("bytes 0-1023/146515"), cr(Some((0, 1023)), Some(146515)));
        assert_eq!(content_range("bytes */146515"), cr(None, Some(146515)));
        assert_eq!(content_range("bytes 0-9/*"), cr(Some((0, 9)), None));
        assert_eq!(content_range("bytes 5-x/9"), None);
        assert_eq!(content_range("items 0-1/2"), None);
        assert_eq!(content_range("bytes 0-18446744073709551616/1"), None);
    }
}
