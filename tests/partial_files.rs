//! Partial downloads: every prefix of a file either parses (data incomplete) or fails as
//! "incomplete" with exit code 3; never as malformed, never a panic.

mod common;
use common::{fixture, inspect_json, real_file, run};
use gguf_meter::read::GgufFile;
use std::path::Path;

#[test]
fn every_prefix_of_a_header_is_incomplete_not_malformed() {
    for name in ["tinyllama-v2-q4_0.gguf", "bigendian-llama.gguf", "mmproj-qwen35-f16.gguf"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let full = GgufFile::from_bytes(Path::new(name), &bytes).unwrap();
        let header_end = full.header.header_end as usize;
        for len in 0..bytes.len() {
            match GgufFile::from_bytes(Path::new(name), &bytes[..len]) {
                Ok(f) => {
                    assert!(len >= header_end, "{name}: parsed at {len} < header end {header_end}");
                    assert!(!f.is_complete());
                    assert_eq!(f.header, full.header);
                }
                Err(e) => {
                    assert!(e.is_incomplete(), "{name}: prefix {len}: {e}");
                    assert!(len < header_end);
                    let off = e.offset().unwrap();
                    assert!(off <= len as u64, "{name}: offset {off} within the {len} bytes present");
                }
            }
        }
    }
}

#[test]
fn half_downloaded_real_file_reports_complete_tensors_and_layers() {
    let Some(src) = real_file("gemma-3-270m-q4_k_m.gguf") else { return };
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("gemma-3-270m-q4_k_m.gguf.part");
    let bytes = std::fs::read(&src).unwrap();
    std::fs::write(&dst, &bytes[..bytes.len() / 2]).unwrap();
    let (doc, code) = inspect_json(&dst, &["--tensors"]);
    assert_eq!(code, 3);
    assert_eq!(doc["complete"], false);
    let tensors = doc["tensors"].as_array().unwrap();
    let present = tensors.iter().filter(|t| t["present"] == true).count() as u64;
    assert_eq!(doc["tensors_present"], present);
    assert!(present > 0 && present < tensors.len() as u64);
    let half = (bytes.len() / 2) as u64;
    for t in tensors {
        let end = t["offset"].as_u64().unwrap() + t["bytes"].as_u64().unwrap();
        assert_eq!(t["present"] == true, end <= half, "{}", t["name"]);
    }
    assert_eq!(doc["data_bytes_present"], half - doc["files"][0]["data_offset"].as_u64().unwrap());
    assert_eq!(doc["n_layers"], 18, "geometry is known before the data arrives");
}

#[test]
fn real_files_report_published_geometry() {
    if let Some(p) = real_file("gemma-3-270m-q4_k_m.gguf") {
        let (doc, code) = inspect_json(&p, &[]);
        assert_eq!(code, 0);
        assert_eq!(doc["complete"], true);
        assert_eq!(doc["file_bytes"], 253_113_024);
        assert_eq!(doc["expected_bytes"], doc["file_bytes"]);
        // google/gemma-3-270m config: 18 layers, 4 heads, 1 KV head, head_dim 256, window 512.
        assert_eq!(doc["n_layers"], 18);
        let kinds: String = doc["layers"].as_array().unwrap().iter().map(|l| if l["kind"] == "sliding" { 'S' } else { 'A' }).collect();
        assert_eq!(kinds, "SSSSSASSSSSASSSSSA");
        assert_eq!((doc["layers"][0]["n_head_kv"].as_u64(), doc["layers"][0]["window"].as_u64()), (Some(1), Some(512)));
        assert_eq!(doc["n_vocab"], 262144);
    }
    if let Some(p) = real_file("deepseek-r1-distill-qwen-7b.gguf.part") {
        let (doc, code) = inspect_json(&p, &[]);
        assert_eq!(code, 3, "a partial download");
        assert_eq!(doc["architecture"], "qwen2");
        // deepseek-ai/DeepSeek-R1-Distill-Qwen-7B config: 28 layers, 28 heads, 4 KV heads, hidden 3584.
        assert_eq!((doc["n_layers"].as_u64(), doc["n_embd"].as_u64()), (Some(28), Some(3584)));
        assert_eq!((doc["layers"][0]["n_head"].as_u64(), doc["layers"][0]["n_head_kv"].as_u64()), (Some(28), Some(4)));
        assert_eq!(doc["n_vocab"], 152064);
        assert_eq!(doc["file_bytes"], 99_614_720);
        assert!(doc["expected_bytes"].as_u64().unwrap() > 4_000_000_000);
        let human = run(&["inspect", p.to_str().unwrap()]);
        assert!(String::from_utf8_lossy(&human.stdout).contains("INCOMPLETE"));
    }
}
