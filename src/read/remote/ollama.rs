//! `ollama://[namespace/]name[:tag]`: a model in the Ollama registry. Its manifest (a Docker
//! distribution manifest) names the layers; the one of media type
//! `application/vnd.ollama.image.model` is the GGUF file itself, a blob served with range
//! requests like any other, so its header is read without `ollama pull`. The blob's digest is
//! the file's sha256: the header cache's key.

use super::http::{Client, RemoteError};

/// The public registry, unless `OLLAMA_REGISTRY` names another (a mirror, or a test server).
pub const DEFAULT_REGISTRY: &str = "https://registry.ollama.ai";
/// The manifest types asked for.
const ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";
/// The GGUF layer's media type.
const MODEL_LAYER: &str = "application/vnd.ollama.image.model";
/// A vision projector's layer (also GGUF).
const PROJECTOR_LAYER: &str = "application/vnd.ollama.image.projector";

/// `OLLAMA_REGISTRY` without a trailing slash, or the public registry.
pub fn registry() -> String {
    let e = std::env::var("OLLAMA_REGISTRY").ok().filter(|e| !e.trim().is_empty());
    e.as_deref().unwrap_or(DEFAULT_REGISTRY).trim().trim_end_matches('/').to_string()
}

/// A model in the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OllamaRef {
    /// `library` for the official models, else the user.
    pub namespace: String,
    /// Model name (`qwen3.5`).
    pub name: String,
    /// Tag (`35b`); `latest` when none is given.
    pub tag: String,
}

impl OllamaRef {
    /// Parses what follows `ollama://`: `name[:tag]` or `namespace/name[:tag]`.
    pub fn parse(s: &str) -> Result<OllamaRef, RemoteError> {
        let bad = || RemoteError::Config("expected ollama://name[:tag] or ollama://namespace/name[:tag] (like ollama://qwen3.5:35b)".into());
        let s = s.trim_matches('/');
        let (path, tag) = s.split_once(':').unwrap_or((s, "latest"));
        let (namespace, name) = path.split_once('/').unwrap_or(("library", path));
        let ok = |p: &str| !p.is_empty() && !p.starts_with('.') && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok(namespace) || !ok(name) || !ok(tag) {
            return Err(bad());
        }
        Ok(OllamaRef { namespace: namespace.to_ascii_lowercase(), name: name.to_ascii_lowercase(), tag: tag.to_string() })
    }

    /// The manifest's URL.
    pub fn manifest_url(&self, registry: &str) -> String {
        format!("{registry}/v2/{}/{}/manifests/{}", self.namespace, self.name, self.tag)
    }

    /// A blob's URL.
    pub fn blob_url(&self, registry: &str, digest: &str) -> String {
        format!("{registry}/v2/{}/{}/blobs/{digest}", self.namespace, self.name)
    }
}

impl std::fmt::Display for OllamaRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace == "library" {
            write!(f, "ollama://{}:{}", self.name, self.tag)
        } else {
            write!(f, "ollama://{}/{}:{}", self.namespace, self.name, self.tag)
        }
    }
}

#[derive(serde::Deserialize)]
struct Manifest {
    #[serde(default)]
    layers: Vec<Layer>,
}

#[derive(serde::Deserialize)]
struct Layer {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
}

/// A GGUF blob named by a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    /// Its URL.
    pub url: String,
    /// Its length.
    pub size: u64,
    /// Its content key (`oid:SHA256`).
    pub key: Option<String>,
}

/// The model's GGUF blob and its projector's, if any, from the manifest. With `--offline`,
/// the manifest last read online.
pub fn resolve(client: &Client, registry: &str, r: &OllamaRef) -> Result<(Blob, Option<Blob>), RemoteError> {
    let url = r.manifest_url(registry);
    let body = if super::cache::mode() == super::cache::Mode::Offline {
        super::cache::get_index("manifests", &url).ok_or_else(|| RemoteError::Config(format!("no manifest of {r} in the cache; run once without --offline")))?
    } else {
        let (resp, _) = client.get(&url, None, &[("Accept", ACCEPT)]).map_err(|e| match e {
            RemoteError::Status { code: 404, .. } => {
                RemoteError::Status { code: 404, hint: format!("Not Found: no model {r} in the Ollama registry; check the name and tag (ollama.com/library)") }
            }
            e => e,
        })?;
        let body = resp.into_body().with_config().limit(4 << 20).read_to_vec().map_err(|e| client.transport_error(e))?;
        super::cache::put_index("manifests", &url, &body);
        body
    };
    let m: Manifest =
        serde_json::from_slice(&body).map_err(|e| RemoteError::Protocol(format!("the manifest of {r} is not a Docker manifest with layers ({e})")))?;
    let blob = |l: &Layer| Blob { url: r.blob_url(registry, &l.digest), size: l.size, key: super::oid_key(&l.digest) };
    let model = m.layers.iter().find(|l| l.media_type == MODEL_LAYER).map(blob);
    let projector = m.layers.iter().find(|l| l.media_type == PROJECTOR_LAYER).map(blob);
    let model = model.ok_or_else(|| RemoteError::Protocol(format!("the manifest of {r} has no layer of type {MODEL_LAYER}")))?;
    Ok((model, projector))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        let r = OllamaRef::parse("qwen3.5:35b").unwrap();
        assert_eq!((r.namespace.as_str(), r.name.as_str(), r.tag.as_str()), ("library", "qwen3.5", "35b"));
        assert_eq!(r.manifest_url("https://reg"), "https://reg/v2/library/qwen3.5/manifests/35b");
        assert_eq!(OllamaRef::parse("library/qwen3.5:35b").unwrap(), r);
        assert_eq!(r.to_string(), "ollama://qwen3.5:35b");
        assert_eq!(OllamaRef::parse("user/m").unwrap().to_string(), "ollama://user/m:latest");
        for bad in ["", ":x", "a/b/c", "a:", "../x", "a b"] {
            assert!(OllamaRef::parse(bad).is_err(), "{bad}");
        }
    }
}
