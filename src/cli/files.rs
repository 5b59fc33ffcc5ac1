//! Turning command-line file arguments into the list of models to read.

use crate::read::shards::ShardName;
use anyhow::{Context, bail};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Files named, directories expanded to their `*.gguf`, each split set once.
pub fn expand(args: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for a in args {
        if a.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(a)
                .with_context(|| format!("{}: cannot list directory", a.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "gguf"))
                .collect();
            if found.is_empty() {
                bail!("{}: no .gguf files in this directory", a.display());
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(a.clone());
        }
    }
    let mut sets = HashSet::new();
    files.retain(|p| match p.file_name().and_then(|n| n.to_str()).and_then(ShardName::parse) {
        Some(n) => sets.insert((p.parent().map(Path::to_path_buf), n.stem, n.count, n.suffix)),
        None => true,
    });
    Ok(files)
}
