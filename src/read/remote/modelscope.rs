//! `modelscope://owner/repo[@revision][:TAG][/path]`: a ModelScope model repo, read as a Hub
//! repo is: its file listing (`/api/v1/models/owner/repo/repo/files?Revision=..&Recursive=true`,
//! with each file's size and sha256) and downloads from `/models/owner/repo/resolve/REV/path`.
//! Locations parse as `hf://` ones do; the default revision is `master`.

use super::hf::{HfRef, ListedFile, RepoListing, encode_path, encode_rev, group};
use super::http::{Client, RemoteError};

/// ModelScope, unless `MODELSCOPE_ENDPOINT` names another (a test server).
pub const DEFAULT_ENDPOINT: &str = "https://modelscope.cn";
const MAX_LISTING_BYTES: u64 = 32 << 20;

/// `MODELSCOPE_ENDPOINT` without a trailing slash, or ModelScope.
pub fn endpoint() -> String {
    let e = std::env::var("MODELSCOPE_ENDPOINT").ok().filter(|e| !e.trim().is_empty());
    e.as_deref().unwrap_or(DEFAULT_ENDPOINT).trim().trim_end_matches('/').to_string()
}

/// The revision read: the given one, else `master`.
pub fn rev(r: &HfRef) -> &str {
    r.revision.as_deref().unwrap_or("master")
}

/// Download URL of the file at `r.path`.
pub fn resolve_url(endpoint: &str, r: &HfRef) -> String {
    format!("{endpoint}/models/{}/resolve/{}/{}", r.repo_id(), encode_rev(rev(r)), encode_path(&r.path))
}

#[derive(serde::Deserialize)]
struct Listing {
    #[serde(rename = "Code", default)]
    code: Option<i64>,
    #[serde(rename = "Message", default)]
    message: Option<String>,
    #[serde(rename = "Data", default)]
    data: Option<Data>,
}

#[derive(serde::Deserialize)]
struct Data {
    #[serde(rename = "Files", default)]
    files: Vec<File>,
}

#[derive(serde::Deserialize)]
struct File {
    #[serde(rename = "Path")]
    path: String,
    #[serde(rename = "Type", default)]
    kind: String,
    #[serde(rename = "Size", default)]
    size: u64,
    #[serde(rename = "Sha256", default)]
    sha256: Option<String>,
}

/// The repo's GGUF files and what is known of each (size, content key).
pub fn list(client: &Client, endpoint: &str, r: &HfRef) -> Result<(RepoListing, Vec<ListedFile>), RemoteError> {
    let url = format!("{endpoint}/api/v1/models/{}/repo/files?Revision={}&Recursive=true", r.repo_id(), encode_rev(rev(r)));
    let body = if super::cache::mode() == super::cache::Mode::Offline {
        super::cache::get_index("listings", &url)
            .ok_or_else(|| RemoteError::Config(format!("no listing of {} in the cache; run once without --offline", r.repo_id())))?
    } else {
        let (resp, _) = client.get(&url, None, &[])?;
        let body = resp.into_body().with_config().limit(MAX_LISTING_BYTES).read_to_vec().map_err(|e| client.transport_error(e))?;
        super::cache::put_index("listings", &url, &body);
        body
    };
    let l: Listing = serde_json::from_slice(&body)
        .map_err(|e| RemoteError::Protocol(format!("ModelScope's file list of {} is not {{Code, Data: {{Files}}}} ({e})", r.repo_id())))?;
    let files = match (l.code, l.data) {
        (Some(200) | None, Some(d)) => d.files,
        (code, _) => {
            let why = l.message.unwrap_or_default();
            return Err(RemoteError::Status {
                code: code.and_then(|c| u16::try_from(c).ok()).unwrap_or(404),
                hint: format!("ModelScope says: {why}; check the owner, repo and revision"),
            });
        }
    };
    let files: Vec<ListedFile> = files
        .into_iter()
        .filter(|f| f.kind != "tree")
        .map(|f| ListedFile { path: f.path, size: f.size, key: f.sha256.as_deref().and_then(super::oid_key) })
        .collect();
    Ok((group(files.iter().map(|f| (f.path.clone(), f.size)).collect(), &r.path), files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let r = HfRef::parse("Qwen/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M.gguf").unwrap();
        assert_eq!(resolve_url("https://ms", &r), "https://ms/models/Qwen/Qwen3-8B-GGUF/resolve/master/Qwen3-8B-Q4_K_M.gguf");
    }
}
