//! Helpers shared by the integration tests.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A committed fixture.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// Runs the built binary.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gguf-meter")).args(args).output().expect("run gguf-meter")
}

/// Runs `inspect --json` and parses stdout; also returns the exit code.
pub fn inspect_json(path: &Path, extra: &[&str]) -> (Value, i32) {
    let mut args = vec!["inspect", "--json", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = run(&args);
    let code = out.status.code().unwrap();
    let doc =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: bad JSON ({e}); stderr: {}", path.display(), String::from_utf8_lossy(&out.stderr)));
    (doc, code)
}

/// Where `scripts/fetch-real-models.sh` puts the real GGUF files.
pub fn real_dir() -> PathBuf {
    match std::env::var_os("GGUF_METER_REAL_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/gguf-meter/real"),
    }
}

/// A real file, or `None` with a message saying the test is skipped. With
/// `GGUF_METER_REQUIRE_EXTERNAL=1` (set by `.ci/run`) a missing file fails the test instead.
pub fn real_file(name: &str) -> Option<PathBuf> {
    let p = real_dir().join(name);
    if p.is_file() {
        return Some(p);
    }
    if std::env::var("GGUF_METER_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
        panic!("{} is missing: run scripts/fetch-real-models.sh", p.display());
    }
    eprintln!("SKIPPED: {} not found (run scripts/fetch-real-models.sh)", p.display());
    None
}

/// Writes a full-length sparse copy of `src`: the header bytes, then a hole up to `len`.
pub fn sparse_copy(src: &Path, header_bytes: u64, len: u64, dir: &Path) -> PathBuf {
    use std::io::{Read, Write};
    let dst = dir.join(src.file_name().unwrap());
    let mut head = Vec::new();
    std::fs::File::open(src).unwrap().take(header_bytes).read_to_end(&mut head).unwrap();
    let mut f = std::fs::File::create(&dst).unwrap();
    f.write_all(&head).unwrap();
    f.set_len(len.max(head.len() as u64)).unwrap();
    dst
}

/// True when `python3` can import gguf-py; otherwise says the test is skipped (or fails
/// under `GGUF_METER_REQUIRE_EXTERNAL=1`).
pub fn have_gguf_py() -> bool {
    let ok = Command::new("python3").args(["-c", "import gguf"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        if std::env::var("GGUF_METER_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
            panic!("python3 with the `gguf` package is required: pip install -r scripts/requirements.txt");
        }
        eprintln!("SKIPPED: python3 cannot import gguf (pip install -r scripts/requirements.txt)");
    }
    ok
}

/// `gguf-meter fit --json ARGS`: the parsed document and the exit code.
pub fn fit_json(args: &[&str]) -> (serde_json::Value, i32) {
    let mut a = vec!["fit", "--json"];
    a.extend_from_slice(args);
    let out = run(&a);
    let code = out.status.code().unwrap();
    (serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr))), code)
}
