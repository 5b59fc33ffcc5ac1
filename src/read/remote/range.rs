//! One remote file read from its start: a range request for each stretch the header parse asks
//! for, or, from a server that ignores Range, the start of the full response and no more.

use super::http::{Client, RemoteError};
use std::io::Read;
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
    /// HTTP requests made (retries included).
    pub requests: u32,
    /// The server sent the whole file instead of a range; its start was read, then dropped.
    pub ignored_range: bool,
}

/// An open response body and where it stands in the file.
struct Stream {
    body: BodyReader<'static>,
    /// File offset one past the last byte this body will deliver.
    end: u64,
}

/// Reads the first bytes of the file at `url`.
pub struct RangeReader<'c> {
    client: &'c Client,
    url: String,
    total: Option<u64>,
    content_type: Option<String>,
    stream: Option<Stream>,
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
        RangeReader { client, url: url.to_string(), total: None, content_type: None, stream: None, stats: FetchStats::default() }
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
            if have >= target {
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
            let got = s.body.read(&mut buf[at..]);
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
            self.stream = None;
        }
        Ok(())
    }

    /// Asks for bytes `have..target` and opens the response as the stream.
    fn request(&mut self, have: u64, target: u64) -> Result<(), RemoteError> {
        self.stats.requests += 1;
        let resp = self.client.get(&self.url, Some((have, target - 1)))?;
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        if have == 0 {
            self.content_type = header("content-type");
        }
        let code = resp.status().as_u16();
        let cr = header("content-range");
        let parsed = cr.as_deref().and_then(content_range);
        let (start, end, total) = match (code, parsed) {
            (206, Some(ContentRange { range: Some((a, b)), total: Some(total) })) if a <= b && b < total => (a, b + 1, total),
            (206, _) => return Err(RemoteError::Protocol(format!("a 206 answer without a usable Content-Range ({cr:?}): the file's length is unknown"))),
            (416, Some(ContentRange { range: None, total: Some(total) })) if total <= have => {
                self.set_total(total)?;
                return Ok(());
            }
            (416, _) => return Err(RemoteError::Protocol(format!("the server refused the range {have}-{} ({cr:?})", target - 1))),
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

#[cfg(test)]
mod tests {
    use super::{ContentRange, content_range};

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
