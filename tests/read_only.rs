//! The tool never writes to the files it inspects or to their directory: every read command
//! runs on read-only copies, and afterwards the listing, sizes, mtimes and bytes are as before.
//! (Tests may run as root, whom permissions do not stop: the before/after comparison is
//! what proves nothing was written, the permissions make a write fail for everyone else.)

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Names, sizes and mtimes of a directory's entries, and the directory's own mtime.
fn snapshot(dir: &Path) -> (SystemTime, Vec<(String, u64, SystemTime)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            (e.file_name().to_string_lossy().into_owned(), m.len(), m.modified().unwrap())
        })
        .collect();
    entries.sort();
    (std::fs::metadata(dir).unwrap().modified().unwrap(), entries)
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (mut fa, mut fb) = (std::fs::File::open(a).unwrap(), std::fs::File::open(b).unwrap());
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba).unwrap();
        if fb.read_exact(&mut bb[..n]).is_err() {
            return false;
        }
        if n == 0 {
            return fb.read(&mut bb[..1]).unwrap() == 0;
        }
        if ba[..n] != bb[..n] {
            return false;
        }
    }
}

fn set_mode(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn read_commands_leave_read_only_files_and_directory_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("models");
    std::fs::create_dir(&dir).unwrap();
    // (source, exit code of `inspect`): a header-only fixture is incomplete (3), a real file complete (0).
    let mut sources: Vec<(PathBuf, i32)> = vec![(common::fixture("qwen35-35b-a3b-q4km.gguf"), 3)];
    sources.extend(common::real_file("gemma-3-270m-q4_k_m.gguf").map(|p| (p, 0)));
    let mut copies = Vec::new();
    for (src, code) in &sources {
        let dst = dir.join(src.file_name().unwrap());
        std::fs::copy(src, &dst).unwrap();
        set_mode(&dst, 0o444);
        copies.push((src.clone(), dst, *code));
    }
    set_mode(&dir, 0o555);
    let before = snapshot(&dir);

    for (_, file, inspect_code) in &copies {
        let f = file.to_str().unwrap();
        let runs: [(&[&str], &[i32]); 4] = [
            (&["inspect", f], &[*inspect_code]),
            (&["inspect", "--json", "--tensors", f], &[*inspect_code]),
            (&["footprint", f], &[*inspect_code]),
            (&["fit", f, "--gpu", "rtx4090"], &[*inspect_code, 1]),
        ];
        for (args, codes) in runs {
            let out = common::run(args);
            let code = out.status.code().unwrap();
            assert!(codes.contains(&code), "{args:?}: exit {code}, stderr: {}", String::from_utf8_lossy(&out.stderr));
            assert!(!out.stdout.is_empty(), "{args:?} printed nothing");
        }
    }

    assert_eq!(snapshot(&dir), before, "directory listing, sizes or mtimes changed");
    for (src, copy, _) in &copies {
        assert!(same_bytes(src, copy), "{} changed", copy.display());
    }
    set_mode(&dir, 0o755); // so the temporary directory can be removed
}
