//! Every field `inspect --json` shares with gguf-py (the reader behind `gguf-dump`) must be
//! equal, on every good fixture and on the real files. gguf-py needs full-length files, so
//! each file is given as a sparse copy: its header bytes, then a hole to the full size.

mod common;
use common::{fixture, have_gguf_py, inspect_json, real_file, sparse_copy};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn gguf_py(path: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gguf_py_dump.py");
    let out = Command::new("python3").arg(script).arg(path).output().unwrap();
    assert!(out.status.success(), "gguf-py failed on {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn same_value(ours: &Value, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            a == b || ((a - b).abs() <= 1e-6 * a.abs().max(b.abs()))
        }
        (Value::Object(a), Value::Object(b)) if a.get("type") == Some(&Value::from("array")) => {
            a["len"] == b["len"]
                && a["elem_type"] == b["elem_type"]
                && match (a.get("items"), b.get("items")) {
                    (Some(Value::Array(x)), Some(Value::Array(y))) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q)),
                    _ => true,
                }
        }
        _ => ours == theirs,
    }
}

fn crosscheck(original: &Path) {
    let (ours, _) = inspect_json(original, &["--tensors"]);
    let dir = tempfile::tempdir().unwrap();
    let files = ours["files"].as_array().unwrap();
    let shard = files.iter().position(|f| f["path"] == original.to_str().unwrap()).expect("the file itself is listed");
    let f0 = &files[shard];
    let copy = sparse_copy(original, f0["data_offset"].as_u64().unwrap(), f0["expected_bytes"].as_u64().unwrap(), dir.path());
    let theirs = gguf_py(&copy);
    let name = original.display();

    assert_eq!(ours["gguf_version"], theirs["version"], "{name}");
    assert_eq!(f0["big_endian"], theirs["endian"] == "BIG", "{name}");
    assert_eq!(f0["alignment"], theirs["alignment"], "{name}");
    assert_eq!(f0["data_offset"], theirs["data_offset"], "{name}");
    assert_eq!(f0["tensor_count"], theirs["tensor_count"], "{name}");

    // `metadata` is the model's, i.e. the first shard's.
    if shard == 0 {
        let (om, tm) = (ours["metadata"].as_object().unwrap(), theirs["metadata"].as_object().unwrap());
        assert_eq!(om.keys().collect::<Vec<_>>(), tm.keys().collect::<Vec<_>>(), "{name}: metadata keys");
        for (k, v) in om {
            assert!(same_value(v, &tm[k]), "{name}: {k}: ours {v}, gguf-py {}", tm[k]);
        }
    }

    let ot: Vec<&Value> = ours["tensors"].as_array().unwrap().iter().filter(|t| t["shard"] == shard).collect();
    let tt = theirs["tensors"].as_array().unwrap();
    assert_eq!(ot.len(), tt.len(), "{name}");
    let mut elements = 0u64;
    for (o, t) in ot.iter().zip(tt) {
        let tn = &t["name"];
        assert_eq!(o["name"], *tn, "{name}");
        assert_eq!(o["type"], t["type"], "{name}: {tn}");
        assert_eq!(o["shape"], t["shape"], "{name}: {tn}");
        assert_eq!(o["offset"], t["data_offset"], "{name}: {tn}");
        // gguf-py 0.19 sizes Q8_1 blocks at 40 bytes; ggml's block_q8_1 is 36.
        if t["type"] != "Q8_1" {
            assert_eq!(o["bytes"], t["n_bytes"], "{name}: {tn}");
        }
        elements += t["n_elements"].as_u64().unwrap();
    }
    if ours["files"].as_array().unwrap().len() == 1 {
        assert_eq!(ours["parameter_count"], elements, "{name}");
    }
}

#[test]
fn fixtures_match_gguf_py() {
    if !have_gguf_py() {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "gguf") {
            crosscheck(&p);
            n += 1;
        }
    }
    assert!(n >= 20, "all good fixtures checked ({n})");
    crosscheck(&fixture("qwen35-35b-a3b-q4km-00002-of-00003.gguf"));
}

#[test]
fn real_files_match_gguf_py() {
    if !have_gguf_py() {
        return;
    }
    for name in ["gemma-3-270m-q4_k_m.gguf", "deepseek-r1-distill-qwen-7b.gguf.part"] {
        if let Some(p) = real_file(name) {
            crosscheck(&p);
        }
    }
}
