//! The HTTP client for remote headers: timeouts, redirects followed by hand (so the token goes
//! to the Hub's host only, same-host redirects keep it, and a signed CDN target can be reused),
//! bounded retries on 5xx/429 honouring Retry-After, pooled connections, and one-line errors
//! that say what to do (the Hub's `X-Error-Code` included).

use std::time::Duration;
use ureq::http::{Response, Uri};
use ureq::{Agent, Body};

/// Connect and idle-read timeout unless `GGUF_METER_HTTP_TIMEOUT_MS` says otherwise.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// Attempts per request unless `GGUF_METER_HTTP_ATTEMPTS` says otherwise.
pub const DEFAULT_ATTEMPTS: u32 = 4;
/// First wait between attempts (doubled each time) unless `GGUF_METER_HTTP_BACKOFF_MS` says otherwise.
pub const DEFAULT_BACKOFF_MS: u64 = 500;
/// Redirects followed per request; the Hub sends one, to its CDN.
pub const MAX_REDIRECTS: u32 = 10;
/// The longest Retry-After honoured; a server asking for more gets an error, not a wait.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Longest wait between attempts when the server gives no Retry-After.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// A whole exchange may take this many times the idle timeout (a server trickling bytes).
const CALL_TIMEOUT_FACTOR: u32 = 20;

/// Why a remote read failed, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The server answered with an error status.
    #[error("HTTP {code}: {hint}")]
    Status { code: u16, hint: String },
    /// Nothing arrived in time.
    #[error("no answer within {ms} ms ({what}); set GGUF_METER_HTTP_TIMEOUT_MS to wait longer")]
    Timeout { ms: u128, what: String },
    /// The connection failed or broke.
    #[error("{0}")]
    Transport(String),
    /// The server's answer does not make sense for a range read.
    #[error("{0}")]
    Protocol(String),
    /// The server sent something that is not a GGUF file.
    #[error("not a GGUF file: {0}")]
    NotGguf(String),
    /// An environment variable or argument is wrong.
    #[error("{0}")]
    Config(String),
}

/// How the client behaves; from the environment by default.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Connect timeout, and the longest wait for any read.
    pub timeout: Duration,
    /// Attempts per request (1 = no retry).
    pub attempts: u32,
    /// First wait between attempts.
    pub backoff: Duration,
    /// The Hub's host (`host[:port]`): the only one `token` is sent to.
    pub hub_host: Option<String>,
    /// `HF_TOKEN`, if set.
    pub token: Option<String>,
}

fn env_u64(name: &str, default: u64) -> Result<u64, RemoteError> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) => v.trim().parse().map_err(|_| RemoteError::Config(format!("{name}={v:?}: expected a whole number"))),
    }
}

impl HttpSettings {
    /// Reads `GGUF_METER_HTTP_TIMEOUT_MS`, `GGUF_METER_HTTP_ATTEMPTS`, `GGUF_METER_HTTP_BACKOFF_MS`,
    /// and `HF_TOKEN` (sent only to the Hub endpoint's host, `hub_host`).
    pub fn from_env(hub_host: Option<String>) -> Result<HttpSettings, RemoteError> {
        let timeout = env_u64("GGUF_METER_HTTP_TIMEOUT_MS", DEFAULT_TIMEOUT_MS)?.max(1);
        let attempts = env_u64("GGUF_METER_HTTP_ATTEMPTS", DEFAULT_ATTEMPTS as u64)?.clamp(1, 20) as u32;
        let backoff = env_u64("GGUF_METER_HTTP_BACKOFF_MS", DEFAULT_BACKOFF_MS)?;
        let token = std::env::var("HF_TOKEN").ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        Ok(HttpSettings { timeout: Duration::from_millis(timeout), attempts, backoff: Duration::from_millis(backoff), hub_host, token })
    }
}

/// A blocking HTTP client (connections are pooled across requests).
pub struct Client {
    agent: Agent,
    /// Its settings.
    pub settings: HttpSettings,
}

/// `host[:port]` of a URL, as a token is matched against it.
pub fn authority(url: &str) -> Option<String> {
    url.parse::<Uri>().ok()?.authority().map(|a| a.as_str().to_ascii_lowercase())
}

impl Client {
    /// A client with these settings.
    pub fn new(settings: HttpSettings) -> Client {
        let t = settings.timeout;
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            // Redirects are followed in `get` (token per host, signed targets kept for reuse).
            .max_redirects(0)
            .max_idle_connections_per_host(16)
            .timeout_connect(Some(t))
            .timeout_recv_response(Some(t))
            .timeout_per_read(Some(t))
            .timeout_per_call(Some(t.saturating_mul(CALL_TIMEOUT_FACTOR)))
            .user_agent(concat!("gguf-meter/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client { agent, settings }
    }

    /// True when `url` is on the Hub's host.
    pub fn is_hub(&self, url: &str) -> bool {
        self.settings.hub_host.is_some() && authority(url) == self.settings.hub_host
    }

    /// True when requests to `url` carry the token.
    pub fn sends_token_to(&self, url: &str) -> bool {
        self.settings.token.is_some() && self.is_hub(url)
    }

    /// GETs `url` (bytes `range.0..=range.1` if given) following redirects; the token goes
    /// to each hop on the Hub's host and to no other (a renamed repo's same-host 307 keeps it,
    /// the CDN never sees it). Returns any 2xx or 416 answer and the URL that gave it.
    pub fn get(&self, url: &str, range: Option<(u64, u64)>, headers: &[(&str, &str)]) -> Result<(Response<Body>, String), RemoteError> {
        let mut at = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let resp = self.send(&at, range, headers)?;
            match redirect_target(&at, &resp) {
                Some(next) => {
                    drain(resp);
                    at = next;
                }
                None => return Ok((resp, at)),
            }
        }
        Err(RemoteError::Transport(format!("more than {MAX_REDIRECTS} redirects (a redirect loop?)")))
    }

    /// One request, no redirect followed, retrying 5xx, 429 and broken connections. Returns
    /// any 2xx, 3xx or 416 response; every other status is an error.
    pub fn send(&self, url: &str, range: Option<(u64, u64)>, headers: &[(&str, &str)]) -> Result<Response<Body>, RemoteError> {
        let mut attempt = 1;
        loop {
            let mut req = self.agent.get(url);
            if let Some((a, b)) = range {
                req = req.header("Range", format!("bytes={a}-{b}"));
            }
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            if let (true, Some(token)) = (self.sends_token_to(url), &self.settings.token) {
                req = req.header("Authorization", format!("Bearer {token}"));
            }
            let last = attempt >= self.settings.attempts;
            let wait = match req.call() {
                Ok(resp) => {
                    let code = resp.status().as_u16();
                    let retryable = code == 429 || (500..600).contains(&code);
                    if (200..400).contains(&code) || code == 416 {
                        return Ok(resp);
                    }
                    if !retryable || last {
                        return Err(self.status_error(url, code, attempt, &resp));
                    }
                    match retry_after(&resp) {
                        Some(d) if d > MAX_RETRY_AFTER => {
                            let hint = format!(
                                "server asks to retry after {} s, longer than the {} s this tool waits; try again later",
                                d.as_secs(),
                                MAX_RETRY_AFTER.as_secs()
                            );
                            return Err(RemoteError::Status { code, hint });
                        }
                        Some(d) => d,
                        None => self.backoff(attempt),
                    }
                }
                Err(e) if !last && retryable_error(&e) => self.backoff(attempt),
                Err(e) => return Err(self.transport_error(e)),
            };
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.settings.backoff.saturating_mul(1 << (attempt - 1).min(16)).min(MAX_BACKOFF)
    }

    /// The error for a status, with what to do about it: the Hub names its errors in
    /// `X-Error-Code` (and `X-Error-Message`), as huggingface_hub reads them.
    fn status_error(&self, url: &str, code: u16, attempts: u32, resp: &Response<Body>) -> RemoteError {
        let header = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
        self.status_error_with(url, code, attempts, header("x-error-code"), header("x-error-message"))
    }

    fn status_error_with(&self, url: &str, code: u16, attempts: u32, error_code: Option<&str>, error_message: Option<&str>) -> RemoteError {
        let reason = ureq::http::StatusCode::from_u16(code).ok().and_then(|s| s.canonical_reason()).unwrap_or("error");
        let hub = self.settings.hub_host.as_deref().unwrap_or("the Hub");
        let sent = self.sends_token_to(url);
        let hint = match (error_code, code) {
            _ if error_message.is_some_and(|m| m.starts_with("Invalid credentials") || m.starts_with("Invalid user token")) => {
                "HF_TOKEN is invalid or expired: create a new token at https://huggingface.co/settings/tokens, or unset HF_TOKEN for a public repo".to_string()
            }
            (Some("RepoNotFound"), _) if sent => {
                "repository not found: check the owner and repo name (the HF_TOKEN sent has no access to a repo by that name)".into()
            }
            (Some("RepoNotFound"), _) => "repository not found: check the owner and repo name; a private repo needs HF_TOKEN set to a token with access".into(),
            (Some("GatedRepo"), _) if sent => {
                "gated repo: the HF_TOKEN's account has not been granted access; accept the conditions on the repo's page on the Hub and wait for approval"
                    .into()
            }
            (Some("GatedRepo"), _) => "gated repo: accept its conditions on the repo's page on the Hub, then set HF_TOKEN to a token of that account".into(),
            (Some("EntryNotFound"), _) => "no such file in the repo at this revision: check the path (hf://owner/repo lists its GGUF files)".into(),
            (Some("RevisionNotFound"), _) => "no such revision: check the branch, tag, commit or refs/pr/N after @".into(),
            (_, 401 | 403) if sent => format!("{reason}: the HF_TOKEN sent does not grant access (gated models need their conditions accepted on the Hub)"),
            (_, 401 | 403) if self.is_hub(url) => format!("{reason}: set HF_TOKEN to a Hugging Face token with access to this repo"),
            (_, 401 | 403) => format!("{reason}: this server wants credentials; HF_TOKEN is sent only to {hub} (HF_ENDPOINT)"),
            (_, 404) if self.is_hub(url) => format!("{reason}: check the owner, repo and file name (a private repo answers 404 without HF_TOKEN)"),
            (_, 404) => format!("{reason}: check the URL"),
            (_, 429 | 500..=599) => format!("{reason}, still after {attempts} attempt{}", if attempts == 1 { "" } else { "s" }),
            _ => format!("{reason}: unexpected answer"),
        };
        RemoteError::Status { code, hint }
    }

    /// A transport failure in one line.
    pub fn transport_error(&self, e: ureq::Error) -> RemoteError {
        match e {
            ureq::Error::Timeout(t) => {
                use ureq::Timeout as T;
                let (factor, what) = match t {
                    T::Resolve | T::Connect => (1, "connecting".to_string()),
                    T::SendRequest | T::RecvResponse => (1, "waiting for the response".to_string()),
                    T::PerRead | T::RecvBody => (1, "waiting for more bytes".to_string()),
                    T::PerCall => (CALL_TIMEOUT_FACTOR, "for the whole exchange".to_string()),
                    other => (1, other.to_string()),
                };
                RemoteError::Timeout { ms: self.settings.timeout.saturating_mul(factor).as_millis(), what }
            }
            ureq::Error::TooManyRedirects => RemoteError::Transport(format!("more than {MAX_REDIRECTS} redirects (a redirect loop?)")),
            ureq::Error::HostNotFound => RemoteError::Transport("host not found".into()),
            ureq::Error::Io(io) => RemoteError::Transport(format!("connection failed: {io}")),
            ureq::Error::BadUri(u) => RemoteError::Config(format!("not a valid URL: {u}")),
            other => RemoteError::Transport(other.to_string()),
        }
    }

    /// Maps an error met while reading a body (it may wrap a ureq error, e.g. a timeout).
    pub fn body_error(&self, e: std::io::Error) -> RemoteError {
        match ureq::Error::from(e) {
            ureq::Error::Io(io) => RemoteError::Transport(format!("connection broke while reading: {io}")),
            other => self.transport_error(other),
        }
    }
}

/// Where a 3xx answer to `from` points, resolved against it; `None` for any other answer.
pub fn redirect_target(from: &str, resp: &Response<Body>) -> Option<String> {
    if !resp.status().is_redirection() {
        return None;
    }
    let loc = resp.headers().get("location")?.to_str().ok()?.trim();
    (!loc.is_empty()).then(|| join_url(from, loc))
}

/// `reference` resolved against `base` (absolute, scheme-relative, host-relative or relative).
pub fn join_url(base: &str, reference: &str) -> String {
    let lower = reference.get(..8).unwrap_or(reference).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return reference.to_string();
    }
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    if let Some(rest) = reference.strip_prefix("//") {
        return format!("{}{rest}", &base[..scheme_end]);
    }
    let host_end = base[scheme_end..].find(['/', '?', '#']).map_or(base.len(), |i| scheme_end + i);
    if reference.starts_with('/') {
        return format!("{}{reference}", &base[..host_end]);
    }
    let path = &base[..base.find(['?', '#']).unwrap_or(base.len())];
    let dir_end = path.rfind('/').filter(|&i| i >= host_end).map_or(format!("{path}/"), |i| path[..=i].to_string());
    format!("{dir_end}{reference}")
}

/// Reads a small body to its end so the connection goes back to the pool (a body left unread
/// closes it: over HTTPS that is a new TCP and TLS handshake for the next request).
pub fn drain(resp: Response<Body>) {
    let _ = resp.into_body().with_config().limit(64 << 10).read_to_vec();
}

/// Worth another attempt: the connection failed or broke, as opposed to a wrong URL or a timeout
/// (which already waited the full time).
fn retryable_error(e: &ureq::Error) -> bool {
    match e {
        // Nobody listens there: waiting will not change that.
        ureq::Error::Io(io) => io.kind() != std::io::ErrorKind::ConnectionRefused,
        ureq::Error::ConnectionFailed | ureq::Error::Protocol(_) => true,
        _ => false,
    }
}

/// `Retry-After` in seconds (the HTTP-date form is ignored: the backoff applies then).
fn retry_after(resp: &Response<Body>) -> Option<Duration> {
    let v = resp.headers().get("retry-after")?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(token: Option<&str>) -> HttpSettings {
        let (hub_host, token) = (Some("huggingface.co".to_string()), token.map(str::to_string));
        HttpSettings { timeout: Duration::from_millis(100), attempts: 3, backoff: Duration::from_millis(1), hub_host, token }
    }

    #[test]
    fn the_token_goes_only_to_its_host() {
        let c = Client::new(settings(Some("t")));
        assert!(c.sends_token_to("https://huggingface.co/a/b/resolve/main/x.gguf"));
        assert!(c.sends_token_to("https://HuggingFace.co/x"));
        assert!(!c.sends_token_to("https://cdn-lfs.huggingface.co/x"));
        assert!(!c.sends_token_to("https://huggingface.co.evil.example/x"));
        assert!(!Client::new(settings(None)).sends_token_to("https://huggingface.co/x"));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let mut s = settings(None);
        s.backoff = Duration::from_millis(500);
        let c = Client::new(s);
        assert_eq!(c.backoff(1), Duration::from_millis(500));
        assert_eq!(c.backoff(2), Duration::from_millis(1000));
        assert_eq!(c.backoff(30), MAX_BACKOFF);
    }

    #[test]
    fn denied_mentions_hf_token() {
        let c = Client::new(settings(None));
        let e = c.status_error_with("https://huggingface.co/x", 401, 1, None, None).to_string();
        assert!(e.starts_with("HTTP 401: Unauthorized: set HF_TOKEN"), "{e}");
        let e = c.status_error_with("https://example.org/x", 403, 1, None, None).to_string();
        assert!(e.ends_with("HF_TOKEN is sent only to huggingface.co (HF_ENDPOINT)"), "{e}");
        let e = Client::new(settings(Some("t"))).status_error_with("https://huggingface.co/x", 403, 1, None, None).to_string();
        assert!(e.contains("the HF_TOKEN sent does not grant access"), "{e}");
        let e = c.status_error_with("https://huggingface.co/x", 401, 1, Some("RepoNotFound"), None).to_string();
        assert!(e.contains("repository not found") && e.contains("private repo needs HF_TOKEN"), "{e}");
        let e = c.status_error_with("https://huggingface.co/x", 404, 1, Some("RevisionNotFound"), None).to_string();
        assert!(e.contains("no such revision"), "{e}");
        let e = c.status_error_with("https://huggingface.co/x", 401, 1, None, Some("Invalid credentials in Authorization header")).to_string();
        assert!(e.contains("HF_TOKEN is invalid or expired"), "{e}");
    }

    #[test]
    fn joins_redirect_targets() {
        assert_eq!(join_url("https://h/a/b?x", "https://c/d"), "https://c/d");
        assert_eq!(join_url("https://h/a/b?x", "/e/f"), "https://h/e/f");
        assert_eq!(join_url("https://h/a/b?x", "g"), "https://h/a/g");
        assert_eq!(join_url("http://h:1/a/b", "//c:2/z"), "http://c:2/z");
        assert_eq!(join_url("http://h", "z"), "http://h/z");
    }
}
