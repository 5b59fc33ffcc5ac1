//! Models already on this machine, where the usual tools keep them:
//! - the Hugging Face hub cache (`huggingface-cli`, and llama.cpp's `-hf` since it shares that
//!   layout): `models--OWNER--REPO/snapshots/REV/...`, rooted at `LLAMA_CACHE`, `HF_HUB_CACHE`,
//!   `HUGGINGFACE_HUB_CACHE`, `HF_HOME/hub`, `XDG_CACHE_HOME/huggingface/hub` or
//!   `~/.cache/huggingface/hub` (llama.cpp's `hf_cache::get_cache_directory`, common/hf-cache.cpp);
//! - llama.cpp's older flat cache: `~/.cache/llama.cpp/OWNER_REPO_FILE.gguf` (`XDG_CACHE_HOME`,
//!   `~/Library/Caches` on macOS, or `LLAMA_CACHE`);
//! - Ollama: `~/.ollama/models` (or `OLLAMA_MODELS`): `manifests/HOST/NAMESPACE/MODEL/TAG`,
//!   whose `application/vnd.ollama.image.model` layer is the GGUF at `blobs/sha256-HEX`;
//! - LM Studio: `~/.lmstudio/models/PUBLISHER/REPO/*.gguf` (and the older `~/.cache/lm-studio/models`).
//!
//! Everything here is read-only listing and small manifest reads.

use crate::read::remote::hf::HfRef;
use std::path::{Path, PathBuf};

/// One model file found on disk.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LocalModel {
    /// Which store: `hf-cache`, `llama.cpp-cache`, `ollama`, `lm-studio`.
    pub store: &'static str,
    /// `owner/repo` (Hugging Face, LM Studio) or Ollama's `model:tag`.
    pub repo: String,
    /// The file's path inside the repo (its name for Ollama).
    pub file: String,
    /// Where it is.
    #[serde(serialize_with = "crate::util::serialize_path_lossy")]
    pub path: PathBuf,
    /// A vision projector rather than a model.
    pub projector: bool,
}

impl LocalModel {
    /// How people name it: `owner/repo/file.gguf`, or `model:tag` for Ollama.
    pub fn name(&self) -> String {
        if self.store == "ollama" { self.repo.clone() } else { format!("{}/{}", self.repo, self.file) }
    }
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn home() -> Option<PathBuf> {
    env_path("HOME").or_else(|| env_path("USERPROFILE"))
}

/// Hub-layout caches, in llama.cpp's order of preference, each once.
fn hub_roots() -> Vec<PathBuf> {
    let mut r: Vec<PathBuf> = [
        env_path("LLAMA_CACHE"),
        env_path("HF_HUB_CACHE"),
        env_path("HUGGINGFACE_HUB_CACHE"),
        env_path("HF_HOME").map(|h| h.join("hub")),
        env_path("XDG_CACHE_HOME").map(|c| c.join("huggingface/hub")),
        home().map(|h| h.join(".cache/huggingface/hub")),
    ]
    .into_iter()
    .flatten()
    .collect();
    r.dedup();
    r
}

fn flat_llama_roots() -> Vec<PathBuf> {
    let mut r: Vec<PathBuf> = [
        env_path("LLAMA_CACHE"),
        env_path("XDG_CACHE_HOME").map(|c| c.join("llama.cpp")),
        home().map(|h| h.join(".cache/llama.cpp")),
        home().map(|h| h.join("Library/Caches/llama.cpp")),
    ]
    .into_iter()
    .flatten()
    .collect();
    r.dedup();
    r
}

fn ollama_root() -> Option<PathBuf> {
    env_path("OLLAMA_MODELS").or_else(|| home().map(|h| h.join(".ollama/models")))
}

fn lmstudio_roots() -> Vec<PathBuf> {
    home().map(|h| vec![h.join(".lmstudio/models"), h.join(".cache/lm-studio/models")]).unwrap_or_default()
}

fn dirs(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(p).map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect()).unwrap_or_default();
    v.sort();
    v
}

fn is_gguf(p: &Path) -> bool {
    p.extension().is_some_and(|x| x.eq_ignore_ascii_case("gguf")) && p.is_file()
}

/// GGUF files below `dir` (recursive, bounded depth), as paths relative to it, in order.
fn ggufs_below(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > 4 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            ggufs_below(&p, depth + 1, out);
        } else if is_gguf(&p) {
            out.push(p);
        }
    }
}

fn projector(name: &str) -> bool {
    super::inputs::is_projector_name(name)
}

/// The snapshot `refs/main` points at, else the most recently modified one.
fn snapshot(repo_dir: &Path) -> Option<PathBuf> {
    let snaps = repo_dir.join("snapshots");
    if let Ok(rev) = std::fs::read_to_string(repo_dir.join("refs/main")) {
        let p = snaps.join(rev.trim());
        if !rev.trim().is_empty() && !rev.contains('/') && p.is_dir() {
            return Some(p);
        }
    }
    dirs(&snaps).into_iter().max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
}

fn hub_models(out: &mut Vec<LocalModel>) {
    for root in hub_roots() {
        for repo_dir in dirs(&root) {
            let Some(folder) = repo_dir.file_name().and_then(|n| n.to_str()) else { continue };
            let Some(repo) = folder.strip_prefix("models--").map(|r| r.replacen("--", "/", 1)) else { continue };
            let Some(snap) = snapshot(&repo_dir) else { continue };
            let mut files = Vec::new();
            ggufs_below(&snap, 0, &mut files);
            for path in files {
                let file = path.strip_prefix(&snap).unwrap_or(&path).to_string_lossy().into_owned();
                let store = if Some(&root) == env_path("LLAMA_CACHE").as_ref() { "llama.cpp-cache" } else { "hf-cache" };
                out.push(LocalModel { store, projector: projector(&file), repo: repo.clone(), file, path });
            }
        }
    }
}

/// llama.cpp's flat cache names files `OWNER_REPO_FILE`; the repo cannot be told apart from the
/// file for certain, so the name is kept whole and matched as a whole.
fn flat_llama_models(out: &mut Vec<LocalModel>) {
    for root in flat_llama_roots() {
        let Ok(entries) = std::fs::read_dir(&root) else { continue };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| is_gguf(p)).collect();
        files.sort();
        for path in files {
            let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            out.push(LocalModel { store: "llama.cpp-cache", repo: String::new(), projector: projector(&file), file, path });
        }
    }
}

fn ollama_models(out: &mut Vec<LocalModel>) {
    let Some(root) = ollama_root() else { return };
    let manifests = root.join("manifests");
    for host in dirs(&manifests) {
        for ns in dirs(&host) {
            for model in dirs(&ns) {
                let Ok(tags) = std::fs::read_dir(&model) else { continue };
                let mut tags: Vec<PathBuf> = tags.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
                tags.sort();
                for tag_file in tags {
                    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    let (host, ns, model, tag) = (name(&host), name(&ns), name(&model), name(&tag_file));
                    let repo = if host == "registry.ollama.ai" && ns == "library" { format!("{model}:{tag}") } else { format!("{host}/{ns}/{model}:{tag}") };
                    // A manifest is a few kB; a larger file is not one.
                    let text = match std::fs::metadata(&tag_file) {
                        Ok(m) if m.len() <= 1 << 20 => std::fs::read_to_string(&tag_file).unwrap_or_default(),
                        _ => continue,
                    };
                    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
                    for layer in doc["layers"].as_array().into_iter().flatten() {
                        let kind = layer["mediaType"].as_str().unwrap_or("");
                        let projector = kind == "application/vnd.ollama.image.projector";
                        if kind != "application/vnd.ollama.image.model" && !projector {
                            continue;
                        }
                        let Some(hex) = layer["digest"].as_str().and_then(|d| d.strip_prefix("sha256:")).filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
                        else {
                            continue;
                        };
                        let path = root.join("blobs").join(format!("sha256-{hex}"));
                        if path.is_file() {
                            let file = if projector { format!("{model}:{tag} projector") } else { format!("{model}:{tag}") };
                            out.push(LocalModel { store: "ollama", repo: repo.clone(), file, path, projector });
                        }
                    }
                }
            }
        }
    }
}

fn lmstudio_models(out: &mut Vec<LocalModel>) {
    for root in lmstudio_roots() {
        for publisher in dirs(&root) {
            for repo_dir in dirs(&publisher) {
                let mut files = Vec::new();
                ggufs_below(&repo_dir, 0, &mut files);
                let repo =
                    format!("{}/{}", publisher.file_name().unwrap_or_default().to_string_lossy(), repo_dir.file_name().unwrap_or_default().to_string_lossy());
                for path in files {
                    let file = path.strip_prefix(&repo_dir).unwrap_or(&path).to_string_lossy().into_owned();
                    out.push(LocalModel { store: "lm-studio", projector: projector(&file), repo: repo.clone(), file, path });
                }
            }
        }
    }
}

/// Every model file in every store, each path once.
pub fn all() -> Vec<LocalModel> {
    let mut out = Vec::new();
    hub_models(&mut out);
    flat_llama_models(&mut out);
    ollama_models(&mut out);
    lmstudio_models(&mut out);
    let mut seen = std::collections::HashSet::new();
    out.retain(|m| seen.insert(m.path.canonicalize().unwrap_or_else(|_| m.path.clone())));
    out
}

/// True for what can only be a repo or Ollama name, not a path the user meant: `owner/repo`,
/// `owner/repo:TAG` or `model:tag` (a path that exists is always taken as a path first).
pub fn looks_like_a_name(arg: &str) -> bool {
    let (base, tag) = arg.split_once(':').map_or((arg, None), |(b, t)| (b, Some(t)));
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) && !s.starts_with('.');
    let parts: Vec<&str> = base.split('/').collect();
    let named = match parts.as_slice() {
        [model] => tag.is_some() && ok(model),
        [owner, repo] => ok(owner) && ok(repo),
        [host, ns, model] => ok(host) && ok(ns) && ok(model) && host.contains('.'),
        _ => false,
    };
    named && tag.is_none_or(ok)
}

/// The local copies of `owner/repo[:TAG]` (Hugging Face naming, as llama.cpp's `-hf` takes it),
/// or of an Ollama `model:tag`: models first in path order (with a tag, only the first match, as
/// `-hf` picks), then the repo's projectors.
pub fn find(arg: &str) -> Vec<LocalModel> {
    let all = all();
    let ollama: Vec<LocalModel> = all.iter().filter(|m| m.store == "ollama" && (m.repo == arg || m.repo == format!("{arg}:latest"))).cloned().collect();
    if !ollama.is_empty() {
        return ollama;
    }
    let Ok(r) = HfRef::parse(arg) else { return vec![] };
    let repo = r.repo_id().to_ascii_lowercase();
    let flat_prefix = format!("{}_{}_", r.owner, r.repo).to_ascii_lowercase();
    let in_repo = |m: &&LocalModel| match m.store {
        "llama.cpp-cache" if m.repo.is_empty() => m.file.to_ascii_lowercase().starts_with(&flat_prefix),
        "ollama" => m.repo.to_ascii_lowercase().strip_prefix("hf.co/").or(m.repo.to_ascii_lowercase().strip_prefix("huggingface.co/")).is_some_and(|x| {
            let (base, tag) = x.split_once(':').unwrap_or((x, "latest"));
            base == repo && r.tag.as_ref().is_none_or(|t| t.eq_ignore_ascii_case(tag))
        }),
        _ => m.repo.to_ascii_lowercase() == repo,
    };
    let found: Vec<LocalModel> = all.iter().filter(in_repo).cloned().collect();
    let (mut models, projectors): (Vec<LocalModel>, Vec<LocalModel>) = found.into_iter().partition(|m| !m.projector);
    if r.tag.is_some() {
        let first = models.iter().find(|m| m.store == "ollama" || r.tag_matches(&m.file)).cloned();
        models = first.into_iter().collect();
    }
    if models.is_empty() {
        return vec![];
    }
    // One copy of each file: the first store that has it (hub cache first).
    let mut seen = std::collections::HashSet::new();
    models.retain(|m| seen.insert(m.file.clone()));
    models.extend(projectors);
    models
}

/// Where the stores are looked for, for messages.
pub fn searched() -> String {
    let mut places: Vec<String> = hub_roots().iter().chain(&flat_llama_roots()).map(|p| p.display().to_string()).collect();
    places.extend(ollama_root().map(|p| p.display().to_string()));
    places.extend(lmstudio_roots().iter().map(|p| p.display().to_string()));
    places.join(", ")
}

#[cfg(test)]
mod tests {
    use super::looks_like_a_name;

    #[test]
    fn names_and_paths() {
        for n in ["unsloth/Qwen3.5-35B-A3B-GGUF", "unsloth/Qwen3.5-35B-A3B-GGUF:UD-Q4_K_XL", "qwen3:8b", "hf.co/unsloth/Qwen3-GGUF:Q4_K_M"] {
            assert!(looks_like_a_name(n), "{n}");
        }
        for p in ["model.gguf", "./a/b", "/abs/x", "a/b/c", "../x/y", "a/b.gguf:x/y", "C:"] {
            assert!(!looks_like_a_name(p), "{p}");
        }
    }
}
