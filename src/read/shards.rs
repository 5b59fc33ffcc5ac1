//! Finds every shard of a split model (`name-00001-of-00003.gguf`) and checks they agree.

use super::error::ReadError;
use super::file::GgufFile;
use std::path::{Path, PathBuf};

/// The `-NNNNN-of-MMMMM` part of a shard's file name, with what comes before and after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardName {
    /// Everything before `-NNNNN-of-`.
    pub stem: String,
    /// 1-based shard number.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
    /// Everything after `MMMMM` (`.gguf`, `.gguf.part`, ...).
    pub suffix: String,
}

impl ShardName {
    /// Parses a file name in llama.cpp's split naming (`llama_split_path`: `%s-%05d-of-%05d.gguf`).
    pub fn parse(file_name: &str) -> Option<ShardName> {
        let of = file_name.rfind("-of-")?;
        let count_str = file_name.get(of + 4..of + 9)?;
        let index_str = file_name.get(of.checked_sub(5)?..of)?;
        if !count_str.bytes().all(|b| b.is_ascii_digit()) || !index_str.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let stem = file_name.get(..of - 5)?.strip_suffix('-')?.to_string();
        let (index, count) = (index_str.parse().ok()?, count_str.parse().ok()?);
        if index == 0 || count == 0 || index > count {
            return None;
        }
        Some(ShardName { stem, index, count, suffix: file_name[of + 9..].to_string() })
    }

    /// The file name of shard `index` (1-based) in the same set.
    pub fn sibling(&self, index: u32) -> String {
        format!("{}-{:05}-of-{:05}{}", self.stem, index, self.count, self.suffix)
    }
}

/// What was found when looking for the shards of a model.
#[derive(Debug)]
pub struct ShardSet {
    /// Parsed shards in order; only those present on disk.
    pub files: Vec<GgufFile>,
    /// Paths of shards the set should have but that are not on disk.
    pub missing: Vec<PathBuf>,
    /// Inconsistencies between shards.
    pub warnings: Vec<String>,
}

/// Opens `path` and, if it is a shard (by `split.count` or by name), all its siblings.
/// Also finds a sibling still downloading under a `.part` / `.crdownload` / `.incomplete` suffix.
#[allow(clippy::result_large_err)] // ReadError is this layer's error; boxing it is a change of its own
pub fn open_model(path: &Path) -> Result<ShardSet, ReadError> {
    open_model_from(GgufFile::open(path)?, |p| GgufFile::open(p).map(Some))
}

/// [`open_model`] for a file already parsed, reading its siblings with `open_sibling`; a
/// sibling for which that gives `None` (header not there yet) is listed as missing, with a warning.
#[allow(clippy::result_large_err)]
pub fn open_model_from<F>(first: GgufFile, mut open_sibling: F) -> Result<ShardSet, ReadError>
where
    F: FnMut(&Path) -> Result<Option<GgufFile>, ReadError>,
{
    let path = first.path.clone();
    let dir = path.parent().unwrap_or(Path::new(""));
    let name = path.file_name().and_then(|n| n.to_str());
    let mut not_yet = Vec::new();
    let mut set = assemble(first, name, |sibling_name| {
        let sibling = dir.join(sibling_name);
        let candidates = [sibling.clone(), with_suffix(&sibling, ".part"), with_suffix(&sibling, ".crdownload"), with_suffix(&sibling, ".incomplete")];
        match candidates.iter().find(|p| p.is_file()) {
            Some(p) => match open_sibling(p)? {
                Some(f) => Ok(Ok(f)),
                None => {
                    not_yet.push(format!("{}: header not downloaded yet", p.display()));
                    Ok(Err(sibling))
                }
            },
            None => Ok(Err(sibling)),
        }
    })?;
    set.warnings.extend(not_yet);
    Ok(set)
}

/// Builds the set around `first` (whose file name is `file_name`): when it is a shard, opens
/// each sibling by file name with `open_sibling`, which gives `Ok(Err(where))` for one that is
/// absent. Local files and remote ones share this, so both check the split the same way.
#[allow(clippy::result_large_err)]
pub fn assemble<F>(first: GgufFile, file_name: Option<&str>, mut open_sibling: F) -> Result<ShardSet, ReadError>
where
    F: FnMut(&str) -> Result<Result<GgufFile, PathBuf>, ReadError>,
{
    let count_meta = first.header.get("split.count").and_then(|v| v.as_u64());
    let name = file_name.and_then(ShardName::parse);
    let count = match (count_meta, &name) {
        (Some(c), _) => c,
        (None, Some(n)) => n.count as u64,
        (None, None) => 1,
    };
    let mut warnings = Vec::new();
    if count <= 1 {
        return Ok(ShardSet { files: vec![first], missing: vec![], warnings });
    }
    let Some(name) = name else {
        warnings.push(format!("file declares split.count = {count} but its name has no -NNNNN-of-NNNNN part; other shards not searched"));
        return Ok(ShardSet { files: vec![first], missing: vec![], warnings });
    };
    if name.count as u64 != count {
        warnings.push(format!("file name says {} shards, split.count says {count}", name.count));
    }
    let mut files = Vec::new();
    let mut missing = Vec::new();
    let mut first = Some(first);
    for i in 1..=name.count {
        if i == name.index {
            files.extend(first.take());
            continue;
        }
        match open_sibling(&name.sibling(i))? {
            Ok(f) => files.push(f),
            Err(absent) => missing.push(absent),
        }
    }
    for (i, f) in files.iter().enumerate() {
        let no = f.header.get("split.no").and_then(|v| v.as_u64());
        let c = f.header.get("split.count").and_then(|v| v.as_u64());
        if c.is_some_and(|c| c != count) {
            warnings.push(format!("{}: split.count {} differs from {count}", f.path.display(), c.unwrap_or(0)));
        }
        if let Some(no) = no
            && files.iter().enumerate().any(|(j, g)| j != i && g.header.get("split.no").and_then(|v| v.as_u64()) == Some(no))
        {
            warnings.push(format!("{}: split.no {no} appears in more than one shard", f.path.display()));
        }
    }
    Ok(ShardSet { files, missing, warnings })
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_llama_split_names() {
        let n = ShardName::parse("Qwen3.5-122B-A10B-Q4_K_M-00002-of-00003.gguf").unwrap();
        assert_eq!((n.stem.as_str(), n.index, n.count, n.suffix.as_str()), ("Qwen3.5-122B-A10B-Q4_K_M", 2, 3, ".gguf"));
        assert_eq!(n.sibling(3), "Qwen3.5-122B-A10B-Q4_K_M-00003-of-00003.gguf");
        let p = ShardName::parse("m-00001-of-00002.gguf.part").unwrap();
        assert_eq!(p.suffix, ".gguf.part");
        assert!(ShardName::parse("model.gguf").is_none());
        assert!(ShardName::parse("m-00003-of-00002.gguf").is_none());
        assert!(ShardName::parse("-of-").is_none());
    }
}

/// One tensor of a (possibly sharded) model, with its placement resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorEntry {
    /// Tensor name.
    pub name: String,
    /// Dimensions, innermost first.
    pub dims: Vec<u64>,
    /// ggml type.
    pub ggml_type: super::GgmlType,
    /// Data size in bytes.
    pub bytes: u64,
    /// False when `bytes` was inferred from offsets (unknown type).
    pub exact: bool,
    /// True when all its bytes are on disk.
    pub present: bool,
    /// Index into [`ShardSet::files`].
    pub shard: usize,
    /// Absolute data offset within its shard.
    pub offset: u64,
}

impl ShardSet {
    /// Every tensor of every shard present, in shard then header order.
    pub fn tensors(&self) -> Vec<TensorEntry> {
        self.files.iter().enumerate().flat_map(|(shard, f)| f.tensor_entries(shard)).collect()
    }

    /// The shard that carries the model's metadata (the first one present; a set always has
    /// one, else an empty header).
    pub fn metadata(&self) -> &super::Header {
        static NONE: super::Header = super::Header {
            version: 3,
            big_endian: false,
            kvs: Vec::new(),
            tensors: Vec::new(),
            alignment: 32,
            header_end: 0,
            data_offset: 0,
            refusals: Vec::new(),
        };
        self.files.first().map_or(&NONE, |f| &f.header)
    }

    /// Bytes of all shards present when complete (each up to the end of its last tensor).
    pub fn expected_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.layout.expected_end).fold(0, u64::saturating_add)
    }

    /// True when no shard is missing and every shard holds all its data.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.files.iter().all(|f| f.is_complete())
    }
}
