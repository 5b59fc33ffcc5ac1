//! Compares gguf-meter's mmproj estimates with what llama.cpp's clip loader allocated
//! (fixtures/oracle/mmproj-*.json, recorded by scripts/oracle/oracle_mmproj.cpp): weights
//! exact, compute buffer within 10% for every case (warm-up image and images of 256 to 4096
//! tokens, flash attention on, off and auto), the warm-up token count exact.

mod common;
use gguf_meter::estimate::MmprojSettings;
use gguf_meter::estimate::vision_compute::{image_bytes, vision_compute};
use gguf_meter::estimate::weights::all_buffer_bytes;
use gguf_meter::model::{VisionGeometry, analyze};
use gguf_meter::read::open_model;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Compute estimates must be this close (percent) to llama.cpp's.
const COMPUTE_BOUND: f64 = 10.0;

fn docs() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/oracle");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .map(|f| (f.file_name().unwrap().to_string_lossy().into_owned(), serde_json::from_slice::<Value>(&std::fs::read(&f).unwrap()).unwrap()))
        .filter(|(f, d)| d["oracle"] == "oracle_mmproj" && !f.starts_with("mmproj-type-") && !f.starts_with("mmproj-full-"))
        .collect()
}

/// The geometry clip.cpp reported (what the formula takes), for synthetic files not kept in the repo.
fn recorded_geometry(m: &Value) -> VisionGeometry {
    let n = |k: &str| m[k].as_u64().unwrap_or_else(|| panic!("model.{k}"));
    VisionGeometry {
        projector_type: m["projector_type"].as_str().map(str::to_owned),
        n_layers: n("n_layer"),
        n_embd: n("n_embd"),
        projection_dim: n("projection_dim"),
        bytes: 0,
        image_size: n("image_size"),
        patch_size: n("patch_size"),
        n_head: n("n_head"),
        n_ff: n("n_ff"),
        spatial_merge: Some(n("n_merge")),
        deepstack_layers: 0,
        encoders: Vec::new(),
    }
}

#[test]
fn mmproj_compute_matches_llama_cpp() {
    let (mut checked, mut worst) = (0, (0.0f64, String::new()));
    let mut failures = Vec::new();
    for (file, doc) in docs() {
        let m = &doc["model"];
        let mut g = recorded_geometry(m);
        if m["kind"] == "sparse-fixture" {
            // The repo fixture's own header must give the same geometry and the same weights.
            let set = open_model(&common::fixture(m["file_name"].as_str().unwrap())).unwrap();
            let tensors = set.tensors();
            let v = analyze(set.metadata(), &tensors).vision.expect("fixture is an mmproj");
            g.bytes = v.bytes;
            g.encoders = v.encoders.clone();
            assert_eq!(v, g, "{file}: geometry read from the header differs from clip.cpp's");
            for c in doc["cases"].as_array().unwrap().iter().filter(|c| c["ok"] == true) {
                assert_eq!(all_buffer_bytes(&tensors), c["weight_bytes"].as_u64().unwrap(), "{file}: weights");
            }
        }
        for c in doc["cases"].as_array().unwrap() {
            let id = format!("{file}: {}", c["id"].as_str().unwrap());
            assert_eq!(c["ok"], true, "{id}: oracle failed");
            let s = &c["settings"];
            let fa = s["flash_attn"] != "off";
            let w = &c["warmup"];
            assert_eq!(w["flash_attn"].as_bool().unwrap(), fa, "{id}: clip's flash attention");
            let theirs = w["compute_bytes"].as_u64().unwrap();
            let tokens = s["image_tokens"].as_u64().unwrap();
            let ours = if tokens == 0 && !g.encoders.is_empty() {
                let max = s["image_max_tokens"].as_i64().filter(|&t| t > 0).map(|t| t as u64);
                let vc = vision_compute(&g, fa, &MmprojSettings { offload: true, image_max_tokens: max }).unwrap();
                assert_eq!(vc.warmup_tokens, w["n_tokens"].as_u64().unwrap(), "{id}: warm-up tokens");
                assert_eq!(vc.warmup_patches, w["n_patches"].as_u64().unwrap(), "{id}: warm-up patches");
                vc.warmup_bytes
            } else {
                let tokens = if tokens == 0 { w["n_tokens"].as_u64().unwrap() } else { tokens };
                image_bytes(&g, tokens, fa).unwrap()
            };
            let e = (ours as f64 - theirs as f64) * 100.0 / theirs as f64;
            if e.abs() > worst.0.abs() {
                worst = (e, id.clone());
            }
            if e.abs() > COMPUTE_BOUND {
                failures.push(format!("{id}: gguf-meter {ours}, llama.cpp {theirs} ({e:+.2}%)"));
            }
            checked += 1;
        }
    }
    eprintln!("mmproj oracle cases checked: {checked}; worst compute {:+.3}% ({})", worst.0, worst.1);
    assert!(checked >= 20, "mmproj oracle cases checked: {checked}");
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}
