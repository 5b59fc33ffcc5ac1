//! Where a model is: a local path, an `http(s)://` URL, or an `hf://` Hub location. Opening
//! any of them gives a [`ShardSet`]; only this file and `remote/` know where bytes came from.

use super::error::ReadError;
use super::remote::hf::{self, HfRef};
use super::remote::{self, RemoteError};
use super::shards::{ShardSet, open_model};
use std::path::{Path, PathBuf};

/// A model argument as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A file on disk.
    Local(PathBuf),
    /// An `http://` or `https://` URL.
    Url(String),
    /// An `hf://owner/repo[/path]` location.
    Hf(HfRef),
}

/// A model opened from a location.
#[derive(Debug)]
pub struct Opened {
    /// Its shards.
    pub set: ShardSet,
    /// Bytes fetched over HTTP (`None` for a local file).
    pub bytes_fetched: Option<u64>,
}

impl Location {
    /// Reads an argument: `hf://...` and `http(s)://...` are remote, anything else a path.
    pub fn parse(arg: &Path) -> Result<Location, ReadError> {
        let Some(s) = arg.to_str() else { return Ok(Location::Local(arg.to_path_buf())) };
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        if lower.starts_with("hf://") {
            return HfRef::parse(&s[5..]).map(Location::Hf).map_err(|e| remote::read_error(s, e));
        }
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(Location::Url(s.to_string()));
        }
        Ok(Location::Local(arg.to_path_buf()))
    }

    /// True for URLs and Hub locations.
    pub fn is_remote(&self) -> bool {
        !matches!(self, Location::Local(_))
    }

    /// The file name, for display (`owner/repo` for a whole Hub repo).
    pub fn file_name(&self) -> String {
        match self {
            Location::Local(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            Location::Url(u) => remote::url_file_name(u).to_string(),
            Location::Hf(r) if r.path.is_empty() => r.repo_id(),
            Location::Hf(r) => r.path.rsplit('/').next().unwrap_or(&r.path).to_string(),
        }
    }

    /// The URL a remote location's bytes come from (a Hub file's download URL).
    pub fn url(&self) -> Option<String> {
        match self {
            Location::Local(_) => None,
            Location::Url(u) => Some(u.clone()),
            Location::Hf(r) => Some(r.resolve_url(&hf::endpoint())),
        }
    }

    /// Opens the model here with all its shards. A Hub repo or folder must hold exactly one
    /// model; otherwise the error lists the files to choose from.
    pub fn open(&self) -> Result<Opened, ReadError> {
        match self {
            Location::Local(p) => Ok(Opened { set: open_model(p)?, bytes_fetched: None }),
            Location::Hf(r) if !r.names_file() => {
                let (models, _) = self.models()?;
                match models.as_slice() {
                    [one] => one.open(),
                    _ => Err(self.error(RemoteError::Config(format!("{} GGUF models here; name one: {}", models.len(), list(&models))))),
                }
            }
            _ => {
                let url = self.url().unwrap_or_default();
                let client = remote::client().map_err(|e| self.error(e))?;
                let f = remote::open_url(client, &url, remote::REMOTE_LIMITS)?;
                Ok(Opened { set: f.set, bytes_fetched: Some(f.stats.bytes) })
            }
        }
    }

    /// The models this location names: itself, or every model in a Hub repo or folder (split
    /// shards as one), plus notes on the files left out (vision projectors).
    pub fn models(&self) -> Result<(Vec<Location>, Vec<String>), ReadError> {
        let Location::Hf(r) = self else { return Ok((vec![self.clone()], vec![])) };
        if r.names_file() {
            return Ok((vec![self.clone()], vec![]));
        }
        let client = remote::client().map_err(|e| self.error(e))?;
        let listing = hf::list(client, &hf::endpoint(), r).map_err(|e| self.error(e))?;
        let mut models: Vec<Location> = listing.models.iter().map(|m| Location::Hf(r.with_path(&m.path))).collect();
        if let Some(tag) = &r.tag {
            // Like llama.cpp's -hf repo:TAG, the first match in path order is the model.
            let all = models.clone();
            models = listing.models.iter().find(|m| r.tag_matches(&m.path)).map(|m| Location::Hf(r.with_path(&m.path))).into_iter().collect();
            if models.is_empty() && !all.is_empty() {
                return Err(self.error(RemoteError::Config(format!("no GGUF model matches the tag :{tag}; the models here: {}", list(&all)))));
            }
        }
        let mut notes = Vec::new();
        if !listing.mmproj.is_empty() {
            let names: Vec<String> = listing.mmproj.iter().map(|p| r.with_path(p).to_string()).collect();
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
