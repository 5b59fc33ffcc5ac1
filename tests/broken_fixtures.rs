//! Every broken fixture gives one line on stderr naming the file, the byte offset and what
//! was expected, with a documented exit code (2 malformed, 3 incomplete), never a panic.

mod common;
use common::{fixture, run};

/// (file, exit code, text the message must contain). Offsets from fixtures/README.md.
const CASES: &[(&str, i32, &str)] = &[
    ("bad-magic.gguf", 2, "at byte 0: expected the magic \"GGUF\""),
    ("bad-version.gguf", 2, "at byte 4: expected GGUF version 2 or 3, found version 7"),
    ("truncated-preamble.gguf", 3, "header cut at byte 8 while reading the tensor count"),
    ("cut-mid-header.gguf", 3, "header cut at byte 101"),
    ("cut-mid-tensor-info.gguf", 3, "header cut at byte 233 while reading a tensor dimension"),
    ("offset-out-of-range.gguf", 2, "at byte 306: expected data of \"output.weight\" to end below 2^64"),
    ("overlapping-tensors.gguf", 2, "at byte 253: expected data of \"blk.0.attn_q.weight\" to start at or after 8192"),
    ("misaligned-offset.gguf", 2, "at byte 253: expected data offset of \"blk.0.attn_q.weight\" aligned to 32 bytes"),
    ("absurd-tensor-count.gguf", 2, "at byte 8: expected a tensor count in [0, 53624256028225440]"),
    ("absurd-kv-count.gguf", 2, "at byte 16: expected a metadata count in [0, 209622091746699450]"),
    ("absurd-string-length.gguf", 2, "at byte 24: expected a metadata key of at most 1073741824 bytes"),
    ("unknown-value-type.gguf", 2, "at byte 137: expected a value type 0..=12"),
    ("duplicate-tensor-name.gguf", 2, "at byte 261: expected a unique tensor name"),
    ("duplicate-key.gguf", 2, "at byte 112: expected a unique metadata key"),
    ("too-many-dims.gguf", 2, "at byte 229: expected 0..=4 dimensions"),
    ("dim-product-overflow.gguf", 2, "at byte 233: expected dimensions of tensor \"blk.0.attn_q.weight\" whose element count is below 2^63"),
    ("negative-dim.gguf", 2, "at byte 233: expected non-negative dimensions"),
    ("empty.gguf", 3, "header cut at byte 0 while reading the magic"),
];

#[test]
fn each_broken_fixture_fails_with_offset_and_exit_code() {
    for (name, code, text) in CASES {
        let path = fixture(&format!("broken/{name}"));
        let out = run(&["inspect", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: nothing on stdout");
        assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
        assert!(stderr.contains(path.to_str().unwrap()), "{name}: names the file: {stderr}");
        assert!(stderr.contains(text), "{name}: {stderr:?} lacks {text:?}");
        assert!(!stderr.contains("panicked"), "{name}");
    }
}

#[test]
fn unknown_tensor_type_is_reported_not_fatal() {
    // The unknown tensor is last: with the file complete, its size is what remains after its offset.
    let dir = tempfile::tempdir().unwrap();
    let path = common::sparse_copy(&fixture("broken/unknown-tensor-type.gguf"), 384, 18944 + 4096, dir.path());
    let (doc, code) = common::inspect_json(&path, &["--tensors"]);
    assert_eq!(code, 0, "complete otherwise valid file");
    let t = doc["tensors"].as_array().unwrap().iter().find(|t| t["name"] == "blk.0.future.weight").unwrap();
    assert_eq!(t["type"], "UNKNOWN(250)");
    assert_eq!(t["bytes_exact"], false);
    assert_eq!(t["bytes"], 4096);
    assert!(doc["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("unknown ggml type 250")));
}

#[test]
fn json_mode_errors_are_still_one_line_on_stderr() {
    let path = fixture("broken/bad-magic.gguf");
    let out = run(&["inspect", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_file_and_directory_are_errors() {
    let out = run(&["inspect", "/nonexistent/model.gguf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/model.gguf: cannot read"));
    let out = run(&["inspect", env!("CARGO_MANIFEST_DIR")]);
    assert_eq!(out.status.code(), Some(2));
}
