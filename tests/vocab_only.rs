//! Vocab-only GGUFs (llama.cpp's models/ggml-vocab-*.gguf: 0 tensors, header not padded) are
//! complete tokenizer files, not models.

mod common;
use common::{fixture, run};

const FILES: &[&str] = &["vocab/ggml-vocab-llama-spm-64.gguf", "vocab/ggml-vocab-gpt-2-64.gguf"];

#[test]
fn inspect_calls_them_complete_tokenizer_files() {
    for name in FILES {
        let (doc, code) = common::inspect_json(&fixture(name), &[]);
        assert_eq!(code, 0, "{name}: complete, not a download in progress");
        assert_eq!(doc["complete"], true, "{name}");
        assert_eq!(doc["vocab_only"], true, "{name}");
        assert_eq!(doc["tensor_count"], 0, "{name}");
        assert_eq!(doc["expected_bytes"], doc["file_bytes"], "{name}: no padding expected after a header without tensors");
        let out = run(&["inspect", fixture(name).to_str().unwrap()]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("vocab only: a tokenizer file"), "{name}");
    }
}

#[test]
fn check_passes_them_and_footprint_and_fit_refuse_them_with_exit_4() {
    for name in FILES {
        let path = fixture(name);
        let p = path.to_str().unwrap();
        let out = run(&["check", "--format", "json", p]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&out.stdout));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["models"][0]["facts"]["vocab_only"], true);
        for args in [vec!["footprint", p], vec!["fit", p, "--gpu", "rtx4090"]] {
            let out = run(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
            assert!(out.stdout.is_empty());
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.contains("vocab-only GGUF") && stderr.contains(p), "{stderr}");
        }
    }
}

#[test]
fn table_leaves_them_out() {
    let out = run(&["table", fixture(FILES[0]).to_str().unwrap(), fixture("tiny/tiny-llama.gguf").to_str().unwrap(), "--gpus", "rtx4090"]);
    // tiny-llama is a header-only fixture: an incomplete download (exit 3), not an error.
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("vocab only (a tokenizer file, not a model), left out of the table"));
}
