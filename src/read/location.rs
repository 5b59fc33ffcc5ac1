//! Where a model is: a local path, an `http(s)://` URL, an `hf://` Hub location (or a Hub page's
//! browser URL), a `modelscope://` repo or an `ollama://` registry model. Opening any of them
//! gives a [`ShardSet`]; only this file and `remote/` know where bytes came from.

// ReadError is this layer's error; boxing it is a change of its own (as in shards.rs).
#![allow(clippy::result_large_err)]

use super::error::ReadError;
use super::remote::hf::{self, HfRef, ListedFile, RepoListing};
use super::remote::ollama::{self, OllamaRef};
use super::remote::{self, Known, RemoteError, modelscope};
use super::shards::{ShardSet, open_model};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// A model argument as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A file on disk.
    Local(PathBuf),
    /// An `http://` or `https://` URL.
    Url(String),
    /// An `hf://owner/repo[/path]` location.
    Hf(HfRef),
    /// A `modelscope://owner/repo[/path]` location.
    ModelScope(HfRef),
    /// An `ollama://[namespace/]name[:tag]` model.
    Ollama(OllamaRef),
}

/// A model opened from a location.
#[derive(Debug)]
pub struct Opened {
    /// Its shards.
    pub set: ShardSet,
    /// Bytes fetched over HTTP (`None` for a local file).
    pub bytes_fetched: Option<u64>,
    /// What the remote read cost (requests, bytes, headers from the cache).
    pub stats: Option<remote::FetchStats>,
}

/// Process-wide memory of remote reads: what listings said about each URL (size, content key),
/// the blob each Ollama model resolved to, and models read ahead of being asked for.
#[derive(Default)]
struct Memo {
    known: HashMap<String, Known>,
    ollama: HashMap<String, ollama::Blob>,
    ahead: HashMap<String, Result<Opened, ReadError>>,
}

fn memo() -> std::sync::MutexGuard<'static, Memo> {
    static M: OnceLock<Mutex<Memo>> = OnceLock::new();
    M.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner())
}

fn known(url: &str) -> Known {
    memo().known.get(url).cloned().unwrap_or_default()
}

impl Location {
    /// Reads an argument: `hf://`, `modelscope://`, `ollama://` and `http(s)://` are remote,
    /// anything else a path. A Hub page's URL (`/blob/`, `/tree/`, the repo page) is read as the
    /// `hf://` location it shows.
    pub fn parse(arg: &Path) -> Result<Location, ReadError> {
        let Some(s) = arg.to_str() else { return Ok(Location::Local(arg.to_path_buf())) };
        let lower = s.get(..14).unwrap_or(s).to_ascii_lowercase();
        let err = |e| remote::read_error(s, e);
        if let Some(rest) = lower.starts_with("hf://").then(|| &s[5..]) {
            return HfRef::parse(rest).map(Location::Hf).map_err(err);
        }
        if let Some(rest) = lower.starts_with("modelscope://").then(|| &s[13..]) {
            return HfRef::parse(rest).map(Location::ModelScope).map_err(err);
        }
        if let Some(rest) = lower.starts_with("ollama://").then(|| &s[9..]) {
            return OllamaRef::parse(rest).map(Location::Ollama).map_err(err);
        }
        if lower.starts_with("http://") || lower.starts_with("https://") {
            if let Some(r) = HfRef::from_browser_url(s, &hf::endpoint()) {
                return Ok(Location::Hf(r));
            }
            return Ok(Location::Url(s.to_string()));
        }
        Ok(Location::Local(arg.to_path_buf()))
    }

    /// True for anything not on disk.
    pub fn is_remote(&self) -> bool {
        !matches!(self, Location::Local(_))
    }

    /// The file name, for display (`owner/repo` for a whole Hub repo).
    pub fn file_name(&self) -> String {
        match self {
            Location::Local(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            Location::Url(u) => remote::url_file_name(u).to_string(),
            Location::Hf(r) | Location::ModelScope(r) if r.path.is_empty() => r.repo_id(),
            Location::Hf(r) | Location::ModelScope(r) => r.path.rsplit('/').next().unwrap_or(&r.path).to_string(),
            Location::Ollama(r) => format!("{}:{}", r.name, r.tag),
        }
    }

    /// The URL a remote location's bytes come from (a Hub file's download URL; an Ollama
    /// model's blob once its manifest was read, its manifest before).
    pub fn url(&self) -> Option<String> {
        match self {
            Location::Local(_) => None,
            Location::Url(u) => Some(u.clone()),
            Location::Hf(r) => Some(r.resolve_url(&hf::endpoint())),
            Location::ModelScope(r) => Some(modelscope::resolve_url(&modelscope::endpoint(), r)),
            Location::Ollama(r) => Some(memo().ollama.get(&self.to_string()).map_or_else(|| r.manifest_url(&ollama::registry()), |b| b.url.clone())),
        }
    }

    /// Opens the model here with all its shards. A Hub repo or folder must hold exactly one
    /// model; otherwise the error lists the files to choose from.
    pub fn open(&self) -> Result<Opened, ReadError> {
        if let Some(ahead) = memo().ahead.remove(&self.to_string()) {
            return ahead;
        }
        let client = || remote::client().map_err(|e| self.error(e));
        let fetched = match self {
            Location::Local(p) => return Ok(Opened { set: open_model(p)?, bytes_fetched: None, stats: None }),
            Location::Hf(r) | Location::ModelScope(r) if !r.names_file() => {
                let (models, _) = self.list_models()?;
                return match models.as_slice() {
                    [one] => one.open(),
                    _ => Err(self.error(RemoteError::Config(format!("{} GGUF models here; name one: {}", models.len(), list(&models))))),
                };
            }
            Location::Ollama(r) => {
                let (blob, _) = ollama::resolve(client()?, &ollama::registry(), r).map_err(|e| self.error(e))?;
                memo().ollama.insert(self.to_string(), blob.clone());
                let k = Known { size: Some(blob.size).filter(|&s| s > 0), key: blob.key.clone() };
                remote::open_url(client()?, &blob.url, &|u| if u == blob.url { k.clone() } else { Known::default() }, remote::REMOTE_LIMITS)?
            }
            _ => {
                let url = self.url().unwrap_or_default();
                remote::open_url(client()?, &url, &known, remote::REMOTE_LIMITS)?
            }
        };
        Ok(Opened { set: fetched.set, bytes_fetched: Some(fetched.stats.bytes), stats: Some(fetched.stats) })
    }

    /// The models this location names: itself, or every model in a Hub or ModelScope repo or
    /// folder (split shards as one), plus notes on the files left out (vision projectors).
    /// When there are several, they are read at once, ahead of [`Location::open`] asking.
    pub fn models(&self) -> Result<(Vec<Location>, Vec<String>), ReadError> {
        self.models_noting(true)
    }

    /// [`Location::models`]; `hint_mmproj` adds "pass one with --mmproj" to the note on
    /// projectors left out (not when one was passed).
    pub fn models_noting(&self, hint_mmproj: bool) -> Result<(Vec<Location>, Vec<String>), ReadError> {
        let (models, mut notes) = self.list_models()?;
        if !hint_mmproj {
            notes.retain(|n| !n.contains("vision projector"));
        }
        if models.len() > 1 {
            let opened = remote_pool_map(&models);
            let mut m = memo();
            for (loc, r) in models.iter().zip(opened) {
                m.ahead.insert(loc.to_string(), r);
            }
        }
        Ok((models, notes))
    }

    fn list_models(&self) -> Result<(Vec<Location>, Vec<String>), ReadError> {
        let (r, wrap): (&HfRef, fn(HfRef) -> Location) = match self {
            Location::Hf(r) if !r.names_file() => (r, Location::Hf),
            Location::ModelScope(r) if !r.names_file() => (r, Location::ModelScope),
            _ => return Ok((vec![self.clone()], vec![])),
        };
        let client = remote::client().map_err(|e| self.error(e))?;
        let (listing, files): (RepoListing, Vec<ListedFile>) = match self {
            Location::ModelScope(_) => modelscope::list(client, &modelscope::endpoint(), r),
            _ => hf::list(client, &hf::endpoint(), r),
        }
        .map_err(|e| self.error(e))?;
        // URLs first: `url()` may take the memo's lock itself.
        let known: Vec<(String, Known)> =
            files.into_iter().map(|f| (wrap(r.with_path(&f.path)).url().unwrap_or_default(), Known { size: Some(f.size), key: f.key })).collect();
        memo().known.extend(known);
        let mut models: Vec<Location> = listing.models.iter().map(|m| wrap(r.with_path(&m.path))).collect();
        if let Some(tag) = &r.tag {
            // Like llama.cpp's -hf repo:TAG, the first match in path order is the model.
            let all = models.clone();
            models = listing.models.iter().find(|m| r.tag_matches(&m.path)).map(|m| wrap(r.with_path(&m.path))).into_iter().collect();
            if models.is_empty() && !all.is_empty() {
                return Err(self.error(RemoteError::Config(format!("no GGUF model matches the tag :{tag}; the models here: {}", list(&all)))));
            }
        }
        let mut notes = Vec::new();
        if !listing.mmproj.is_empty() {
            let names: Vec<String> = listing.mmproj.iter().map(|p| wrap(r.with_path(p)).to_string()).collect();
            notes.push(format!(
                "{self}: vision projector{} not ranked as models: {} (pass one with --mmproj)",
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ));
        }
        if models.is_empty() {
            let also = if listing.mmproj.is_empty() { String::new() } else { format!(" (only the vision projector {})", listing.mmproj.join(", ")) };
            return Err(self.error(RemoteError::Config(format!("no GGUF model files here{also}"))));
        }
        Ok((models, notes))
    }

    fn error(&self, e: RemoteError) -> ReadError {
        remote::read_error(&self.to_string(), e)
    }
}

/// Opens every location at once (bounded), results in order.
fn remote_pool_map(locs: &[Location]) -> Vec<Result<Opened, ReadError>> {
    remote::parallel(locs, |l| l.open())
}

/// Up to a dozen locations, comma-separated.
fn list(models: &[Location]) -> String {
    let mut s: Vec<String> = models.iter().take(12).map(Location::to_string).collect();
    if models.len() > 12 {
        s.push(format!("and {} more", models.len() - 12));
    }
    s.join(", ")
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::Url(u) => f.write_str(u),
            Location::Hf(r) => write!(f, "{r}"),
            Location::ModelScope(r) => write!(f, "modelscope{}", &r.to_string()[2..]),
            Location::Ollama(r) => write!(f, "{r}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arguments() {
        assert_eq!(Location::parse(Path::new("m.gguf")).unwrap(), Location::Local("m.gguf".into()));
        assert_eq!(Location::parse(Path::new("HTTPS://h/m.gguf")).unwrap(), Location::Url("HTTPS://h/m.gguf".into()));
        let tagged = Location::parse(Path::new("hf://o/r@v2:q4_k_m")).unwrap();
        assert_eq!(tagged.to_string(), "hf://o/r@v2:q4_k_m");
        assert_eq!(tagged.url().unwrap(), format!("{}/o/r/resolve/v2/", super::hf::endpoint()));
        let hf = Location::parse(Path::new("hf://o/r/m.gguf")).unwrap();
        assert_eq!(hf.to_string(), "hf://o/r/m.gguf");
        assert_eq!(hf.file_name(), "m.gguf");
        assert!(Location::parse(Path::new("hf://o")).unwrap_err().to_string().contains("hf://owner/repo"));
        assert_eq!(Location::Url("https://h/a/b.gguf?x=1".into()).file_name(), "b.gguf");
    }
}
