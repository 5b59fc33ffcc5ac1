//! What kind of download a file is: who renames it when it is done, how its data arrives
//! (appended, or filled into a file that already has its full length), and so which signal
//! measures its progress. Only looks (stat, `SEEK_HOLE`); never writes.

use serde::Serialize;
use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};

/// A tool that downloads under a temporary name and renames the file when it is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Renamer {
    /// Firefox (and other tools) write `NAME.part`.
    Firefox,
    /// Chrome writes `NAME.crdownload`.
    Chrome,
    /// The Hugging Face hub cache writes `blobs/HASH.incomplete`.
    HuggingFaceHub,
}

/// Temporary suffixes and who uses them.
pub const PENDING_SUFFIXES: [(&str, Renamer); 3] = [(".part", Renamer::Firefox), (".crdownload", Renamer::Chrome), (".incomplete", Renamer::HuggingFaceHub)];

/// A temporary download name and the name the file will have when done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Who renames it.
    pub renamer: Renamer,
    /// The temporary suffix.
    pub suffix: &'static str,
    /// The name without the suffix.
    pub final_path: PathBuf,
}

/// The final name of a file downloading under a temporary suffix, if it has one.
pub fn pending(path: &Path) -> Option<Pending> {
    let name = path.file_name()?.to_str()?;
    PENDING_SUFFIXES.iter().find_map(|&(suffix, renamer)| {
        let stem = name.strip_suffix(suffix).filter(|s| !s.is_empty())?;
        Some(Pending { renamer, suffix, final_path: path.with_file_name(stem) })
    })
}

/// How the data of a download arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    /// The file grows as data is appended (browsers, curl, wget, the hub): its length is the progress.
    Appending,
    /// Longer than the data written, with holes filled later (aria2, torrent clients):
    /// allocated blocks approximate the progress.
    Sparse,
    /// Full length and fully allocated before the data arrives (aria2 `--file-allocation=falloc`):
    /// nothing on disk tells how much has been written.
    Preallocated,
}

/// A file's size and identity as the filesystem reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    /// Length in bytes.
    pub len: u64,
    /// Bytes of disk blocks allocated to it (`st_blocks * 512`; the length where the platform
    /// does not say, so no file looks sparse there).
    pub allocated: u64,
    /// Device and inode: a different pair at the same path is a different file. Elsewhere than
    /// on Unix, `(0, creation time in ns)`, which tells a replaced file apart the same way.
    pub id: (u64, u64),
}

impl Extent {
    /// Reads the figures off `meta`.
    pub fn of(meta: &Metadata) -> Extent {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Extent { len: meta.len(), allocated: meta.blocks().saturating_mul(512), id: (meta.dev(), meta.ino()) }
        }
        #[cfg(not(unix))]
        {
            let created = meta.created().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            let id = created.map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
            Extent { len: meta.len(), allocated: meta.len(), id: (0, id) }
        }
    }

    /// True when much less is allocated than the length says: the file has holes. The slack
    /// covers block rounding and delayed allocation; compression on the filesystem can
    /// also make a file look sparse (then completion is only known from the length and the
    /// control file).
    pub fn looks_sparse(&self) -> bool {
        let slack = (256u64 << 10).max(self.len / 128);
        self.len > self.allocated.saturating_add(slack)
    }
}

/// `path` with `suffix` appended to its name.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The control file aria2 keeps beside `path` while downloading it (removed when done).
pub fn aria2_control(path: &Path) -> PathBuf {
    with_suffix(path, ".aria2")
}

/// How data arrives, judged once the complete length (`expected_len`) is known.
pub fn classify(e: &Extent, expected_len: u64, control_file: bool) -> Fill {
    if e.looks_sparse() {
        Fill::Sparse
    } else if control_file && e.len >= expected_len {
        Fill::Preallocated
    } else {
        Fill::Appending
    }
}

/// Offset of the first hole at or after `from` (`SEEK_HOLE`; the end of the file counts as
/// a hole). `None` where the platform or filesystem cannot say, or when built without the
/// `platform` feature.
pub fn next_hole(file: &File, from: u64) -> Option<u64> {
    #[cfg(all(feature = "platform", any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "freebsd")))]
    {
        let from = i64::try_from(from).ok()?;
        nix::unistd::lseek(file, from, nix::unistd::Whence::SeekHole).ok().and_then(|o| u64::try_from(o).ok())
    }
    #[cfg(not(all(feature = "platform", any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "freebsd"))))]
    {
        let _ = (file, from);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn temporary_names_map_to_final_names() {
        let p = pending(Path::new("/d/m-00001-of-00003.gguf.part")).unwrap();
        assert_eq!((p.renamer, p.final_path), (Renamer::Firefox, PathBuf::from("/d/m-00001-of-00003.gguf")));
        assert_eq!(pending(Path::new("x.gguf.crdownload")).unwrap().renamer, Renamer::Chrome);
        assert_eq!(pending(Path::new("blobs/abc.incomplete")).unwrap().final_path, PathBuf::from("blobs/abc"));
        assert!(pending(Path::new("m.gguf")).is_none());
        assert!(pending(Path::new(".part")).is_none());
    }

    #[test]
    fn a_file_with_holes_is_sparse_and_its_data_prefix_ends_at_the_hole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.gguf");
        let mut f = File::create(&path).unwrap();
        f.write_all(&[7u8; 1 << 16]).unwrap();
        f.set_len(64 << 20).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let e = Extent::of(&meta);
        assert!(e.looks_sparse(), "{e:?}");
        assert_eq!(classify(&e, 64 << 20, false), Fill::Sparse);
        let r = File::open(&path).unwrap();
        if let Some(h) = next_hole(&r, 0) {
            assert!((1 << 16..64 << 20).contains(&h), "hole at {h}");
        }
        let full = Extent { len: 100 << 20, allocated: 100 << 20, id: (0, 0) };
        assert_eq!(classify(&full, 100 << 20, true), Fill::Preallocated);
        assert_eq!(classify(&full, 100 << 20, false), Fill::Appending);
    }
}
