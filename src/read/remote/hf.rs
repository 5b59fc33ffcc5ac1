//! `hf://owner/repo[/path]`: Hugging Face Hub locations. A file resolves to its download URL;
//! a repo (or a folder in it) lists its GGUF files through the Hub API, shards grouped by model.

use super::http::{Client, RemoteError};
use crate::read::shards::ShardName;
use std::collections::BTreeMap;

/// The Hub, unless `HF_ENDPOINT` names another (a mirror, or a test server).
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// Pages of a repo listing read at most (the Hub pages long listings).
const MAX_PAGES: usize = 50;
/// Bytes of one listing page read at most.
const MAX_PAGE_BYTES: u64 = 32 << 20;

/// `HF_ENDPOINT` without a trailing slash, or the public Hub.
pub fn endpoint() -> String {
    let e = std::env::var("HF_ENDPOINT").ok().filter(|e| !e.trim().is_empty());
    e.as_deref().unwrap_or(DEFAULT_ENDPOINT).trim().trim_end_matches('/').to_string()
}

/// A Hub location: a repo, a folder in it, or a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HfRef {
    /// User or organisation.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// Path inside the repo; empty for the whole repo.
    pub path: String,
    /// Branch, tag or commit (`@rev`); `None` is the default branch, `main`.
    pub revision: Option<String>,
    /// llama.cpp's `-hf owner/repo:TAG` quant selector (e.g. `Q4_K_M`): the first model file
    /// whose path holds `TAG` followed by `.` or `-`, case-insensitively.
    pub tag: Option<String>,
}

impl HfRef {
    /// Parses what follows `hf://`: `owner/repo[@revision][:TAG][/path/in/repo]`.
    pub fn parse(s: &str) -> Result<HfRef, RemoteError> {
        const EXPECTED: &str = "expected hf://owner/repo[@revision][:TAG] or hf://owner/repo[@revision]/path/to/file.gguf";
        let mut parts = s.trim_matches('/').splitn(3, '/');
        let (owner, repo) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let path = parts.next().unwrap_or("").trim_matches('/').to_string();
        let (repo, tag) = match repo.split_once(':') {
            Some((r, t)) => (r, Some(t)),
            None => (repo, None),
        };
        let (repo, revision) = match repo.split_once('@') {
            Some((r, v)) => (r, Some(v)),
            None => (repo, None),
        };
        let ok = |p: &str| !p.is_empty() && p != "." && p != ".." && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok(owner) || !ok(repo) || path.split('/').any(|p| p == "..") || revision.is_some_and(|v| !ok(v)) {
            return Err(RemoteError::Config(EXPECTED.into()));
        }
        if let Some(t) = tag {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(RemoteError::Config(format!("quant tag {t:?}: expected letters, digits and _ (like Q4_K_M); {EXPECTED}")));
            }
            if !path.is_empty() {
                return Err(RemoteError::Config(format!("a quant tag (:{t}) selects a file; it cannot be combined with a path ({path})")));
            }
        }
        Ok(HfRef { owner: owner.into(), repo: repo.into(), path, revision: revision.map(String::from), tag: tag.map(String::from) })
    }

    /// True when the path names a GGUF file rather than the repo or a folder.
    pub fn names_file(&self) -> bool {
        self.path.to_ascii_lowercase().ends_with(".gguf")
    }

    /// The same repo and revision, pointing at `path` (a file: no tag).
    pub fn with_path(&self, path: &str) -> HfRef {
        HfRef { path: path.to_string(), tag: None, ..self.clone() }
    }

    /// The revision files are read at.
    pub fn rev(&self) -> &str {
        self.revision.as_deref().unwrap_or("main")
    }

    /// True when `path` is a file the tag selects (llama.cpp `find_best_model`: regex
    /// `TAG[.-]`, case-insensitive, anywhere in the path).
    pub fn tag_matches(&self, path: &str) -> bool {
        let Some(t) = &self.tag else { return true };
        let (p, t) = (path.to_ascii_lowercase(), t.to_ascii_lowercase());
        p.match_indices(&t).any(|(i, _)| matches!(p.as_bytes().get(i + t.len()), Some(b'.' | b'-')))
    }

    /// `owner/repo`.
    pub fn repo_id(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// Download URL of the file at this path, at the revision.
    pub fn resolve_url(&self, endpoint: &str) -> String {
        format!("{endpoint}/{}/resolve/{}/{}", self.repo_id(), self.rev(), encode_path(&self.path))
    }
}

impl std::fmt::Display for HfRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "hf://{}", self.repo_id())?;
        if let Some(v) = &self.revision {
            write!(f, "@{v}")?;
        }
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if !self.path.is_empty() {
            write!(f, "/{}", self.path)?;
        }
        Ok(())
    }
}

/// Percent-encodes a repo path for a URL, keeping its slashes.
fn encode_path(p: &str) -> String {
    let mut out = String::new();
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One model in a repo listing: a single file, or a split set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoModel {
    /// Path in the repo of its first shard (the file itself when not split).
    pub path: String,
    /// Shard files listed.
    pub shards: u32,
    /// Their total size as listed.
    pub bytes: u64,
}

/// The GGUF files of a repo or folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoListing {
    /// Models, by path.
    pub models: Vec<RepoModel>,
    /// Vision projectors (`mmproj` files), which are not models to rank.
    pub mmproj: Vec<String>,
}

#[derive(serde::Deserialize)]
struct TreeEntry {
    #[serde(rename = "type")]
    kind: String,
    path: String,
    #[serde(default)]
    size: u64,
}

/// Lists the GGUF files under `r.path` (the whole repo when empty) through the Hub API.
pub fn list(client: &Client, endpoint: &str, r: &HfRef) -> Result<RepoListing, RemoteError> {
    let mut url = format!("{endpoint}/api/models/{}/tree/{}?recursive=true", r.repo_id(), r.rev());
    let mut files = Vec::new();
    for _ in 0..MAX_PAGES {
        let resp = client.get(&url, None)?;
        let next = resp.headers().get("link").and_then(|v| v.to_str().ok()).and_then(next_link);
        let body = resp.into_body().with_config().limit(MAX_PAGE_BYTES).read_to_vec().map_err(|e| client.transport_error(e))?;
        let page: Vec<TreeEntry> = serde_json::from_slice(&body)
            .map_err(|e| RemoteError::Protocol(format!("the Hub API's file list of {} is not a JSON array of {{type, path, size}} ({e})", r.repo_id())))?;
        files.extend(page.into_iter().filter(|e| e.kind == "file").map(|e| (e.path, e.size)));
        match next {
            Some(n) => url = n,
            None => return Ok(group(files, &r.path)),
        }
    }
    Err(RemoteError::Protocol(format!("the file list of {} runs over {MAX_PAGES} pages", r.repo_id())))
}

/// The `rel="next"` target of a `Link` header.
fn next_link(v: &str) -> Option<String> {
    v.split(',').find(|l| l.contains("rel=\"next\"")).and_then(|l| Some(l.split_once('<')?.1.split_once('>')?.0.to_string()))
}

/// Groups GGUF files under folder `under` into models (shards of one split together) and
/// sets vision projectors aside.
pub fn group(files: Vec<(String, u64)>, under: &str) -> RepoListing {
    let prefix = if under.is_empty() { String::new() } else { format!("{}/", under.trim_end_matches('/')) };
    let mut models: BTreeMap<String, RepoModel> = BTreeMap::new();
    let mut mmproj = Vec::new();
    for (path, size) in files {
        if !path.starts_with(&prefix) || !path.to_ascii_lowercase().ends_with(".gguf") {
            continue;
        }
        let (dir, name) = path.rsplit_once('/').map_or(("", path.as_str()), |(d, n)| (d, n));
        if name.to_ascii_lowercase().contains("mmproj") {
            mmproj.push(path);
            continue;
        }
        let shard = ShardName::parse(name);
        let key = match &shard {
            Some(s) => format!("{dir}/{}-of-{:05}{}", s.stem, s.count, s.suffix),
            None => path.clone(),
        };
        let index = shard.as_ref().map_or(1, |s| s.index);
        let m = models.entry(key).or_insert(RepoModel { path: path.clone(), shards: 0, bytes: 0 });
        if index == 1 || ShardName::parse(m.path.rsplit('/').next().unwrap_or("")).is_some_and(|s| s.index > index) {
            m.path = path.clone();
        }
        m.shards += 1;
        m.bytes = m.bytes.saturating_add(size);
    }
    let mut models: Vec<RepoModel> = models.into_values().collect();
    models.sort_by(|a, b| a.path.cmp(&b.path));
    mmproj.sort();
    RepoListing { models, mmproj }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves() {
        let r = HfRef::parse("unsloth/Qwen3.5-35B-A3B-GGUF/Q4_K_M/Qwen3.5 35B-00001-of-00002.gguf").unwrap();
        assert_eq!((r.owner.as_str(), r.repo.as_str()), ("unsloth", "Qwen3.5-35B-A3B-GGUF"));
        assert!(r.names_file());
        assert_eq!(r.resolve_url("https://hub"), "https://hub/unsloth/Qwen3.5-35B-A3B-GGUF/resolve/main/Q4_K_M/Qwen3.5%2035B-00001-of-00002.gguf");
        assert_eq!(HfRef::parse("o/r/").unwrap().to_string(), "hf://o/r");
        assert!(!HfRef::parse("o/r").unwrap().names_file());
        let v = HfRef::parse("o/r@v1.2/sub/m.gguf").unwrap();
        assert_eq!((v.rev(), v.path.as_str(), v.tag.as_deref()), ("v1.2", "sub/m.gguf", None));
        assert_eq!(v.resolve_url("https://hub"), "https://hub/o/r/resolve/v1.2/sub/m.gguf");
        assert_eq!(v.to_string(), "hf://o/r@v1.2/sub/m.gguf");
        let t = HfRef::parse("o/r:Q4_K_M").unwrap();
        assert_eq!((t.rev(), t.tag.as_deref()), ("main", Some("Q4_K_M")));
        // llama.cpp's `TAG[.-]`: the tag must end at a dot or dash, in any case.
        assert!(t.tag_matches("Q4_K_M/M-Q4_K_M-00001-of-00002.gguf") && t.tag_matches("m-q4_k_m.gguf"));
        assert!(!t.tag_matches("Q4_K_M/M-00001-of-00002.gguf"), "a folder name alone does not match, as in llama.cpp");
        assert!(!t.tag_matches("M-Q4_K_M_L.gguf") && !t.tag_matches("M-Q4_K_S.gguf"));
        assert!(t.with_path("m.gguf").tag.is_none());
        for bad in ["o", "/r", "o/../x", "o/r/../../etc", "o/r?x", "o/r@", "o/r@a b", "o/r:", "o/r:Q4-K", "o/r:Q4_K_M/m.gguf", "o/r@../x"] {
            assert!(HfRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn groups_shards_and_sets_mmproj_aside() {
        let files = vec![
            ("README.md".to_string(), 10),
            ("M-Q8_0.gguf".to_string(), 8),
            ("Q4/M-Q4-00002-of-00002.gguf".to_string(), 5),
            ("Q4/M-Q4-00001-of-00002.gguf".to_string(), 4),
            ("mmproj-F16.gguf".to_string(), 1),
        ];
        let l = group(files.clone(), "");
        assert_eq!(l.models.len(), 2);
        assert_eq!(l.models[0], RepoModel { path: "M-Q8_0.gguf".into(), shards: 1, bytes: 8 });
        assert_eq!(l.models[1], RepoModel { path: "Q4/M-Q4-00001-of-00002.gguf".into(), shards: 2, bytes: 9 });
        assert_eq!(l.mmproj, vec!["mmproj-F16.gguf".to_string()]);
        let q4 = group(files, "Q4");
        assert_eq!((q4.models.len(), q4.mmproj.len()), (1, 0));
    }

    #[test]
    fn finds_the_next_page() {
        let h = "<https://hub/api/models/o/r/tree/main?cursor=abc>; rel=\"next\"";
        assert_eq!(next_link(h).as_deref(), Some("https://hub/api/models/o/r/tree/main?cursor=abc"));
        assert_eq!(next_link("<x>; rel=\"prev\""), None);
    }
}
