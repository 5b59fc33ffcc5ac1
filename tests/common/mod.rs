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

/// Oracle file helpers shared by tests/oracle.rs and tests/oracle_archs.rs.
pub mod oracle {
    use gguf_meter::estimate::{CpuKind, FlashAttn, Settings};
    use gguf_meter::read::GgmlType;
    use serde_json::Value;
    use std::path::PathBuf;

    /// The GGUF an oracle document was recorded on (header-only fixtures stand for their sparse copies).
    pub fn model_path(m: &Value) -> Option<PathBuf> {
        let name = m["file_name"].as_str().unwrap();
        match m["kind"].as_str().unwrap() {
            "sparse-fixture" => Some(super::fixture(name)),
            "tiny" => Some(super::fixture(&format!("tiny/{name}"))),
            "arch-fixture" => Some(super::fixture(&format!("archs/{name}"))),
            "real" => super::real_file(name),
            other => panic!("unknown oracle model kind {other}"),
        }
    }

    /// `model_buffers` as (buffer type, bytes).
    pub fn model_buffers(v: &Value) -> Vec<(String, u64)> {
        v.as_array().unwrap().iter().map(|b| (b["buft"].as_str().unwrap().to_string(), b["bytes"].as_u64().unwrap())).collect()
    }

    /// A case's settings as gguf-meter's.
    pub fn settings(s: &Value) -> Settings {
        let ty = |k: &str| GgmlType::from_name(s[k].as_str().unwrap()).unwrap();
        Settings {
            ctx: s["n_ctx"].as_u64(),
            parallel: s["n_seq_max"].as_u64(),
            kv_unified: s["kv_unified"].as_bool().unwrap(),
            cache_type_k: ty("type_k"),
            cache_type_v: ty("type_v"),
            flash_attn: if s["flash_attn"] == "on" { FlashAttn::On } else { FlashAttn::Off },
            batch: s["n_batch"].as_u64().unwrap(),
            ubatch: s["n_ubatch"].as_u64().unwrap(),
            swa_full: s["swa_full"].as_bool().unwrap(),
            load_mtp: s["load_mtp"].as_bool().unwrap_or(false),
            mmap: s["load"] == "mmap",
            cpu_kind: CpuKind::X86Avx2,
        }
    }

    /// Signed difference in percent.
    pub fn pct(ours: u64, theirs: u64) -> f64 {
        if theirs == 0 { if ours == 0 { 0.0 } else { 100.0 } } else { (ours as f64 - theirs as f64) * 100.0 / theirs as f64 }
    }
}
