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
    /// Parses what follows `hf://`: `owner/repo[@revision][:TAG][/path/in/repo]`. A revision
    /// may be a pull request's `refs/pr/N` (slashes and all); a tag is llama.cpp's `-hf` quant
    /// tag (`Q4_K_M`, `UD-Q4_K_XL`).
    pub fn parse(s: &str) -> Result<HfRef, RemoteError> {
        const EXPECTED: &str = "expected hf://owner/repo[@revision][:TAG] or hf://owner/repo[@revision]/path/to/file.gguf";
        let bad = || RemoteError::Config(EXPECTED.into());
        let (owner, rest) = s.trim_matches('/').split_once('/').ok_or_else(bad)?;
        let mut segs: Vec<&str> = rest.split('/').collect();
        let mut head = segs.remove(0).to_string();
        // `@refs/pr/1`, `@refs/convert/parquet`: a revision of three segments.
        if head.ends_with("@refs")
            && let [a, b, ..] = segs.as_slice()
        {
            head = format!("{head}/{a}/{b}");
            segs.drain(..2);
        }
        let path = segs.join("/").trim_matches('/').to_string();
        let (repo, tag) = match head.split_once(':') {
            Some((r, t)) => (r, Some(t)),
            None => (head.as_str(), None),
        };
        let (repo, revision) = match repo.split_once('@') {
            Some((r, v)) => (r, Some(v)),
            None => (repo, None),
        };
        let ok = |p: &str| !p.is_empty() && p != "." && p != ".." && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok(owner) || !ok(repo) || path.split('/').any(|p| p == "..") || revision.is_some_and(|v| !v.split('/').all(ok)) {
            return Err(bad());
        }
        if let Some(t) = tag {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)) {
                return Err(RemoteError::Config(format!("quant tag :{t}: expected letters, digits, _, - and . (like Q4_K_M or UD-Q4_K_XL); {EXPECTED}")));
            }
            if !path.is_empty() {
                return Err(RemoteError::Config(format!("a quant tag (:{t}) selects a file; it cannot be combined with a path ({path})")));
            }
        }
        Ok(HfRef { owner: owner.into(), repo: repo.into(), path, revision: revision.map(String::from), tag: tag.map(String::from) })
    }

    /// A Hub page's URL as the browser shows it (`{endpoint}/owner/repo/blob/REV/file.gguf`,
    /// `.../tree/REV/folder`, or the repo's page), read as the location it shows; `None` for
    /// any other URL (a `/resolve/` URL stays a URL).
    pub fn from_browser_url(url: &str, endpoint: &str) -> Option<HfRef> {
        let rest = strip_prefix_ci(url, endpoint.trim_end_matches('/'))?.strip_prefix('/')?;
        let rest = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
        let mut segs = rest.trim_end_matches('/').split('/');
        let (owner, repo) = (segs.next()?, segs.next()?);
        if ["api", "datasets", "spaces", "models"].contains(&owner) {
            return None;
        }
        let (kind, rev) = match (segs.next(), segs.next()) {
            (None, _) => ("tree", "main".to_string()),
            (Some(k @ ("blob" | "tree")), Some(rev)) => (k, percent_decode(rev)?),
            _ => return None,
        };
        let mut rest: Vec<String> = segs.map(percent_decode).collect::<Option<_>>()?;
        // An unencoded `refs/pr/1` spills into the path.
        let rev = if rev == "refs" && rest.len() >= 2 { format!("refs/{}/{}", rest.remove(0), rest.remove(0)) } else { rev };
        let path = rest.join("/");
        if kind == "blob" && path.is_empty() {
            return None;
        }
        let revision = (rev != "main").then_some(rev);
        let r = HfRef::parse(&format!("{owner}/{repo}")).ok()?;
        Some(HfRef { path, revision, ..r })
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

    /// True when `path` is a file the tag selects (llama.cpp `find_best_model`: the regex
    /// `TAG[.-]`, case-insensitive, searched anywhere in the path; the tag is a regex there,
    /// so a `.` in it matches any character here too).
    pub fn tag_matches(&self, path: &str) -> bool {
        let Some(t) = &self.tag else { return true };
        regex::RegexBuilder::new(&format!("{t}[.-]")).case_insensitive(true).build().is_ok_and(|re| re.is_match(path))
    }

    /// `owner/repo`.
    pub fn repo_id(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// Download URL of the file at this path, at the revision (encoded as huggingface_hub
    /// does: `refs/pr/1` becomes `refs%2Fpr%2F1`).
    pub fn resolve_url(&self, endpoint: &str) -> String {
        format!("{endpoint}/{}/resolve/{}/{}", self.repo_id(), encode_rev(self.rev()), encode_path(&self.path))
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

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.get(..prefix.len()).filter(|p| p.eq_ignore_ascii_case(prefix)).map(|_| &s[prefix.len()..])
}

/// Decodes `%XX` escapes; `None` for a bad escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            out.push(u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A revision as one URL path segment.
pub fn encode_rev(rev: &str) -> String {
    encode_path(rev).replace('/', "%2F")
}

/// Percent-encodes a repo path for a URL, keeping its slashes.
pub fn encode_path(p: &str) -> String {
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
    #[serde(default)]
    oid: Option<String>,
    #[serde(default)]
    lfs: Option<Lfs>,
}

#[derive(serde::Deserialize)]
struct Lfs {
    #[serde(default)]
    oid: Option<String>,
}

/// One file of a listing: path, size, content key (`oid:HEX`: the LFS sha256, else the git oid).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListedFile {
    /// Path in the repo.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Content key for the header cache.
    pub key: Option<String>,
}

fn listing_id(endpoint: &str, r: &HfRef) -> String {
    format!("{endpoint} {} {}", r.repo_id(), r.rev())
}

/// Lists the GGUF files under `r.path` (the whole repo when empty) through the Hub API. With
/// `--offline`, the last listing of the repo read online.
pub fn list(client: &Client, endpoint: &str, r: &HfRef) -> Result<(RepoListing, Vec<ListedFile>), RemoteError> {
    let id = listing_id(endpoint, r);
    let files = match super::cache::mode() {
        super::cache::Mode::Offline => {
            let stored = super::cache::get_index("listings", &id)
                .ok_or_else(|| RemoteError::Config(format!("no listing of {} in the cache; run once without --offline", r.repo_id())))?;
            serde_json::from_slice::<Vec<ListedFile>>(&stored)
                .map_err(|_| RemoteError::Config("the cached listing is unreadable; run without --offline".into()))?
        }
        _ => {
            let files = fetch_list(client, endpoint, r)?;
            if let Ok(json) = serde_json::to_vec(&files) {
                super::cache::put_index("listings", &id, &json);
            }
            files
        }
    };
    Ok((group(files.iter().map(|f| (f.path.clone(), f.size)).collect(), &r.path), files))
}

fn fetch_list(client: &Client, endpoint: &str, r: &HfRef) -> Result<Vec<ListedFile>, RemoteError> {
    let mut url = format!("{endpoint}/api/models/{}/tree/{}?recursive=true", r.repo_id(), encode_rev(r.rev()));
    let mut files = Vec::new();
    for _ in 0..MAX_PAGES {
        let (resp, at) = client.get(&url, None, &[])?;
        let next = resp.headers().get("link").and_then(|v| v.to_str().ok()).and_then(next_link).map(|n| super::http::join_url(&at, &n));
        let body = resp.into_body().with_config().limit(MAX_PAGE_BYTES).read_to_vec().map_err(|e| client.transport_error(e))?;
        let page: Vec<TreeEntry> = serde_json::from_slice(&body)
            .map_err(|e| RemoteError::Protocol(format!("the Hub API's file list of {} is not a JSON array of {{type, path, size}} ({e})", r.repo_id())))?;
        files.extend(page.into_iter().filter(|e| e.kind == "file").map(|e| {
            let key = e.lfs.and_then(|l| l.oid).or(e.oid).as_deref().and_then(super::oid_key);
            ListedFile { path: e.path, size: e.size, key }
        }));
        match next {
            Some(n) => url = n,
            None => return Ok(files),
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
        if name.contains("mmproj") {
            mmproj.push(path);
            continue;
        }
        // Not models either, as llama.cpp's gguf_filename_is_model says: importance matrices and
        // speculative-decoding drafts.
        if ["imatrix", "mtp-", "eagle3-", "dflash-", "dspark-"].iter().any(|k| name.contains(k)) {
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
        for bad in ["o", "/r", "o/../x", "o/r/../../etc", "o/r?x", "o/r@", "o/r@a b", "o/r:", "o/r:Q4 K", "o/r:Q4_K_M/m.gguf", "o/r@../x"] {
            assert!(HfRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pull_request_revisions_unsloth_tags_and_browser_urls() {
        let pr = HfRef::parse("o/r@refs/pr/1/sub/m.gguf").unwrap();
        assert_eq!((pr.rev(), pr.path.as_str()), ("refs/pr/1", "sub/m.gguf"));
        assert_eq!(pr.resolve_url("https://hub"), "https://hub/o/r/resolve/refs%2Fpr%2F1/sub/m.gguf");
        assert_eq!(pr.to_string(), "hf://o/r@refs/pr/1/sub/m.gguf");
        let t = HfRef::parse("o/r@refs/pr/12:UD-Q4_K_XL").unwrap();
        assert_eq!((t.rev(), t.tag.as_deref(), t.path.as_str()), ("refs/pr/12", Some("UD-Q4_K_XL"), ""));
        assert!(t.tag_matches("UD-Q4_K_XL/Qwen3.5-397B-A17B-UD-Q4_K_XL-00001-of-00006.gguf"));
        assert!(!t.tag_matches("Q4_K_XL/Qwen3.5-397B-A17B-Q4_K_XL-00001-of-00006.gguf"));
        assert!(HfRef::parse("o/r:ud-q4_k_xl").unwrap().tag_matches("M-UD-Q4_K_XL.gguf"), "any case, as llama.cpp's regex::icase");
        let b = HfRef::from_browser_url("https://huggingface.co/o/r/blob/main/sub/m.gguf?download=true", "https://huggingface.co").unwrap();
        assert_eq!(b.to_string(), "hf://o/r/sub/m.gguf");
        let b = HfRef::from_browser_url("https://huggingface.co/o/r/blob/refs%2Fpr%2F3/m.gguf", "https://huggingface.co").unwrap();
        assert_eq!((b.rev(), b.path.as_str()), ("refs/pr/3", "m.gguf"));
        let t = HfRef::from_browser_url("https://huggingface.co/o/r/tree/v2/Q4_K_M", "https://huggingface.co").unwrap();
        assert_eq!(t.to_string(), "hf://o/r@v2/Q4_K_M");
        assert_eq!(HfRef::from_browser_url("https://huggingface.co/o/r", "https://huggingface.co").unwrap().to_string(), "hf://o/r");
        assert_eq!(HfRef::from_browser_url("https://huggingface.co/o/r/resolve/main/m.gguf", "https://huggingface.co"), None);
        assert_eq!(HfRef::from_browser_url("https://example.org/o/r/blob/main/m.gguf", "https://huggingface.co"), None);
        assert_eq!(HfRef::from_browser_url("https://huggingface.co/datasets/o/r", "https://huggingface.co"), None);
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
