//! From command-line arguments to models: the one way every command (`inspect`, `footprint`,
//! `fit`, `table`, `check`, `watch`) reads its file arguments.
//!
//! An argument is a file, a directory (searched recursively for the files a model repository
//! holds: `*.gguf`, and downloads in progress `*.gguf.part` / `.crdownload` / `.incomplete`),
//! an `http(s)://` URL or an `hf://` location. The shards of a split model are one model;
//! vision projectors (`mmproj`) are kept apart from the models so that they are never ranked
//! as a quant; a Git LFS pointer (a repository cloned without its LFS files) is named as such.

use crate::read::Location;
use crate::read::download::{PENDING_SUFFIXES, pending};
use crate::read::shards::ShardName;
use anyhow::bail;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Directory levels searched below a directory argument (a repo's quant folders are one deep).
const MAX_DEPTH: usize = 8;

/// The models the arguments name, and the vision projectors found with them.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Models in argument order (directories in path order), each split set once.
    pub models: Vec<Location>,
    /// Vision projectors (`mmproj`) found among the arguments.
    pub projectors: Vec<Location>,
    /// Local models and projectors together, in argument and path order (what `check` reads).
    pub local: Vec<PathBuf>,
    /// Names for files whose own name says nothing (Ollama's blobs are `sha256-HEX`: `model:tag`).
    pub names: std::collections::HashMap<PathBuf, String>,
    /// What was left out and why, for the report's warnings.
    pub notes: Vec<String>,
}

/// True for a vision projector by its file name, as llama.cpp's `-hf` finds one (`mmproj` in the name).
pub fn is_projector_name(name: &str) -> bool {
    name.to_ascii_lowercase().contains("mmproj")
}

/// True for the file types a model repository holds: GGUF files, whole or still downloading.
fn is_model_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let lower = PENDING_SUFFIXES.iter().find_map(|(s, _)| lower.strip_suffix(s)).unwrap_or(&lower);
    lower.ends_with(".gguf")
}

/// Resolves every argument. Files named explicitly are kept whatever their name; a
/// directory contributes its GGUF files. An `mmproj` goes to `projectors`.
pub fn resolve(args: &[PathBuf]) -> anyhow::Result<Inputs> {
    let mut r = Inputs::default();
    let mut local = Vec::new();
    for arg in args {
        let loc = Location::parse(arg)?;
        if loc.is_remote() {
            let (models, notes) = loc.models()?;
            r.notes.extend(notes);
            r.models.extend(models);
            continue;
        }
        if let Some(found) = stored(arg)? {
            r.notes.push(found.note);
            r.names.extend(found.names);
            r.local.extend(found.models.iter().chain(&found.projectors).cloned());
            r.models.extend(found.models.into_iter().map(Location::Local));
            r.projectors.extend(found.projectors.into_iter().map(Location::Local));
            continue;
        }
        local.extend(local_files(arg)?);
    }
    for p in one_per_split_set(local) {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        r.local.push(p.clone());
        if is_projector_name(&name) { r.projectors.push(Location::Local(p)) } else { r.models.push(Location::Local(p)) }
    }
    if r.models.is_empty() && r.projectors.is_empty() {
        bail!("{}: no GGUF files", args.iter().map(|a| a.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    Ok(r)
}

/// Each split set once: any shard names its set, the first seen is kept (directories are
/// listed in order, so shard 1).
fn one_per_split_set(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut sets = HashSet::new();
    paths
        .into_iter()
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let Some(n) = ShardName::parse(&name) else { return true };
            let suffix = PENDING_SUFFIXES.iter().find_map(|(s, _)| n.suffix.strip_suffix(s)).unwrap_or(&n.suffix).to_string();
            sets.insert((p.parent().map(Path::to_path_buf), n.stem, n.count, suffix))
        })
        .collect()
}

/// Resolves one argument that must name one model (`inspect`, `footprint`): a file as given
/// (a projector too), a directory holding one model (or only one projector), a URL, or an
/// `hf://` location (a repo with several models is refused by `Location::open`, listing them).
pub fn resolve_one(arg: &Path) -> anyhow::Result<Location> {
    let loc = Location::parse(arg)?;
    if loc.is_remote() {
        return Ok(loc);
    }
    if let Some(found) = stored(arg)? {
        return match found.models.as_slice() {
            [one] => Ok(Location::Local(one.clone())),
            many => bail!(
                "{}: {} models in the local copy; name one with :TAG: {}",
                arg.display(),
                many.len(),
                many.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
        };
    }
    if !arg.is_dir() {
        local_files(arg)?;
        return Ok(loc);
    }
    let r = resolve(std::slice::from_ref(&arg.to_path_buf()))?;
    match (r.models.as_slice(), r.projectors.as_slice()) {
        ([one], _) | ([], [one]) => Ok(one.clone()),
        (many, _) => {
            let names: Vec<String> = many.iter().take(12).map(Location::to_string).collect();
            let more = if many.len() > 12 { format!(" and {} more", many.len() - 12) } else { String::new() };
            bail!("{}: {} models in this directory; name one: {}{more}", arg.display(), many.len(), names.join(", "))
        }
    }
}

/// A model named as `owner/repo[:TAG]` or Ollama's `model:tag`, found in a local store.
struct Stored {
    models: Vec<PathBuf>,
    projectors: Vec<PathBuf>,
    note: String,
    names: Vec<(PathBuf, String)>,
}

/// `arg`, when it is no path on disk but names a model: its local copy (see `local.rs`), or an
/// error saying where it was looked for and how to read the Hub's copy instead.
fn stored(arg: &Path) -> anyhow::Result<Option<Stored>> {
    let Some(name) = arg.to_str().filter(|s| super::local::looks_like_a_name(s)) else { return Ok(None) };
    if arg.exists() {
        return Ok(None);
    }
    let found = super::local::find(name);
    if found.is_empty() {
        let hub = if name.contains('/') { format!("; for the Hub's copy: hf://{name}") } else { String::new() };
        bail!("{name}: no such file, and no local copy of that model (looked in {}){hub}", super::local::searched());
    }
    let names = found.iter().filter(|m| m.store == "ollama").map(|m| (m.path.clone(), m.file.clone())).collect();
    let (models, projectors): (Vec<_>, Vec<_>) = found.into_iter().partition(|m| !m.projector);
    let store = models.first().map_or("", |m| m.store);
    let models = one_per_split_set(models.into_iter().map(|m| m.path).collect());
    let where_ = models.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    Ok(Some(Stored {
        note: format!("{name}: the local copy ({store}): {where_}"),
        models,
        projectors: projectors.into_iter().map(|m| m.path).collect(),
        names,
    }))
}

/// The note for projectors found but not planned with: left out of `what` (`fit`'s ranking,
/// `table`); `flag`: say how to count one.
pub fn projector_note(projectors: &[Location], what: &str, flag: bool) -> Option<String> {
    if projectors.is_empty() {
        return None;
    }
    let names: Vec<String> = projectors.iter().map(Location::to_string).collect();
    let s = if names.len() == 1 { "" } else { "s" };
    let how = if flag { " (pass one with --mmproj to count it)" } else { "" };
    Some(format!("{}: an mmproj (vision projector{s}), left out of {what}{how}", names.join(", ")))
}

/// The local files an argument names: itself (checked to exist and not to be a Git LFS
/// pointer), or a directory's model files, recursively, in path order.
fn local_files(arg: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let meta = match std::fs::metadata(arg) {
        Ok(m) => m,
        // Opening it says so, in each command's way (`check` reports it as unreadable).
        Err(_) => return Ok(vec![arg.to_path_buf()]),
    };
    if !meta.is_dir() {
        lfs_pointer_check(arg, meta.len())?;
        return Ok(vec![arg.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    walk(arg, 0, &mut found, &mut seen)?;
    found.sort();
    // Firefox's empty placeholder under the final name beside the `.part` being written.
    let names: HashSet<PathBuf> = found.clone().into_iter().collect();
    found.retain(|p| {
        let placeholder = std::fs::metadata(p).is_ok_and(|m| m.len() == 0) && PENDING_SUFFIXES.iter().any(|(s, _)| names.contains(&with_suffix(p, s)));
        !placeholder
    });
    if found.is_empty() {
        bail!("{}: no GGUF files in this directory or below it", arg.display());
    }
    for p in &found {
        lfs_pointer_check(p, std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))?;
    }
    Ok(found)
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Recursive listing; hidden directories (`.git`, `.cache`) are skipped, directory links are
/// followed once (the Hugging Face cache's snapshots link to blobs).
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>, seen: &mut HashSet<PathBuf>) -> anyhow::Result<()> {
    if depth > MAX_DEPTH || !seen.insert(dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())) {
        return Ok(());
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        // Below the argument, an unreadable folder is skipped; the argument itself must be readable.
        Err(_) if depth > 0 => return Ok(()),
        Err(e) => bail!("{}: cannot list directory: {e}", dir.display()),
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(meta) = std::fs::metadata(&p) else { continue };
        if meta.is_dir() {
            if !name.starts_with('.') {
                walk(&p, depth + 1, out, seen)?;
            }
        } else if meta.is_file() && is_model_file_name(&name) {
            out.push(p);
        }
    }
    Ok(())
}

/// A Git LFS pointer is a small text file where the model should be: say so, in one line.
fn lfs_pointer_check(path: &Path, len: u64) -> anyhow::Result<()> {
    if len > 1024 {
        return Ok(());
    }
    let mut head = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(1024).read_to_end(&mut head);
    }
    if head.starts_with(b"version https://git-lfs.github.com/spec/") {
        let size = String::from_utf8_lossy(&head).lines().find_map(|l| l.strip_prefix("size ").map(str::to_string));
        let size = size.map(|s| format!(" for a {s}-byte file")).unwrap_or_default();
        bail!(
            "{}: a Git LFS pointer{size}, not the model itself: the repository was cloned without its LFS files (run `git lfs pull`, or download the file)",
            path.display()
        );
    }
    Ok(())
}

/// What `fit` prints for `-m`: the path quoted for a shell, and for a download still under a
/// temporary name (`.part`), the name it will have, with a note that it is unfinished.
pub fn run_path(p: &Path, notes: &mut Vec<String>) -> String {
    let path = match pending(p) {
        Some(pend) => {
            notes.push(format!("{}: download unfinished; the command names the file it will become ({})", p.display(), pend.final_path.display()));
            pend.final_path
        }
        None => p.to_path_buf(),
    };
    shell_path(&path)
}

/// A path as one shell word: plain, single-quoted, or for bytes that are not UTF-8, bash's
/// `$'...'` with `\xNN` escapes.
pub fn shell_path(p: &Path) -> String {
    if let Some(s) = p.to_str() {
        return crate::estimate::command::shell_word(s);
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut s = String::from("$'");
        for &b in p.as_os_str().as_bytes() {
            match b {
                b'\'' | b'\\' => s += &format!("\\{}", b as char),
                0x20..=0x7e => s.push(b as char),
                _ => s += &format!("\\x{b:02x}"),
            }
        }
        s.push('\'');
        s
    }
    #[cfg(not(unix))]
    crate::estimate::command::shell_word(&p.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_model_file_name("M-Q4_K_M.gguf") && is_model_file_name("m.GGUF.part") && is_model_file_name("m.gguf.incomplete"));
        assert!(!is_model_file_name("README.md") && !is_model_file_name("m.gguf.aria2") && !is_model_file_name("HASH.incomplete"));
        assert!(is_projector_name("mmproj-Qwen3.5-F16.gguf") && is_projector_name("model-MMPROJ.gguf") && !is_projector_name("model.gguf"));
    }

    #[test]
    fn shell_paths() {
        assert_eq!(shell_path(Path::new("/m/a.gguf")), "/m/a.gguf");
        assert_eq!(shell_path(Path::new("/my models/it's.gguf")), r"'/my models/it'\''s.gguf'");
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            assert_eq!(shell_path(Path::new(std::ffi::OsStr::from_bytes(b"/m/a\xff'.gguf"))), r"$'/m/a\xff\'.gguf'");
        }
    }
}
