//! Models already on disk: the Hugging Face cache (also llama.cpp's `-hf` cache), Ollama's
//! store and LM Studio's folder, found by `list` and by `fit owner/repo:TAG` / `fit model:tag`.
//! A fake home directory holds each store, laid out as the tools lay them out.
#![cfg(unix)]

mod common;

use common::fixture;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const REPO: &str = "models--unsloth--Qwen3.5-35B-A3B-GGUF";
const SPLIT: [&str; 3] = ["qwen35-35b-a3b-q4km-00001-of-00003.gguf", "qwen35-35b-a3b-q4km-00002-of-00003.gguf", "qwen35-35b-a3b-q4km-00003-of-00003.gguf"];

/// A blob in the hub cache and the snapshot's link to it, as huggingface_hub stores files.
fn hub_file(repo: &Path, rev: &str, rel: &str, src: &str) {
    let blob = repo.join("blobs").join(format!("{:x}", rel.len() * 7919 + rev.len()) + rel.replace('/', "_").as_str());
    std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
    std::fs::copy(fixture(src), &blob).unwrap();
    let link = repo.join("snapshots").join(rev).join(rel);
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&blob, &link).unwrap();
}

fn fake_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // Hugging Face cache: refs/main names the snapshot in use; an older one is ignored.
    let repo = h.join(".cache/huggingface/hub").join(REPO);
    for (i, f) in SPLIT.iter().enumerate() {
        hub_file(&repo, "abc123", &format!("Q4_K_M/Qwen3.5-35B-A3B-Q4_K_M-{:05}-of-00003.gguf", i + 1), f);
    }
    hub_file(&repo, "abc123", "mmproj-F16.gguf", "mmproj-qwen35-f16.gguf");
    hub_file(&repo, "old999", "Qwen3.5-35B-A3B-Q8_0.gguf", "qwen35-27b-q4km.gguf");
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), "abc123").unwrap();
    // Ollama: a manifest whose model layer is a blob.
    let ollama = h.join(".ollama/models");
    let hex = "ab".repeat(32);
    std::fs::create_dir_all(ollama.join("blobs")).unwrap();
    std::fs::copy(fixture("qwen3-30b-a3b-q4km.gguf"), ollama.join(format!("blobs/sha256-{hex}"))).unwrap();
    let manifest = ollama.join("manifests/registry.ollama.ai/library/qwen3/30b");
    std::fs::create_dir_all(manifest.parent().unwrap()).unwrap();
    std::fs::write(
        &manifest,
        format!(r#"{{"schemaVersion":2,"layers":[{{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{hex}","size":1}},{{"mediaType":"application/vnd.ollama.image.template","digest":"sha256:00","size":1}}]}}"#),
    )
    .unwrap();
    // LM Studio.
    let lms = h.join(".lmstudio/models/lmstudio-community/Meta-Llama-3-8B-GGUF");
    std::fs::create_dir_all(&lms).unwrap();
    std::fs::copy(fixture("llama3-8b-q4km.gguf"), lms.join("Meta-Llama-3-8B-Q4_K_M.gguf")).unwrap();
    // This machine: no GPU, 64 GiB.
    std::fs::write(h.join("meminfo"), "MemTotal: 67108864 kB\nMemAvailable: 67108864 kB\n").unwrap();
    std::fs::create_dir_all(h.join("bin")).unwrap();
    home
}

fn run(home: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gguf-meter"));
    for v in ["LLAMA_CACHE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "OLLAMA_MODELS", "USERPROFILE"] {
        c.env_remove(v);
    }
    c.args(args)
        .env("HOME", home)
        .env("PATH", home.join("bin"))
        .env("GGUF_METER_MEMINFO", home.join("meminfo"))
        .env("GGUF_METER_DRM", home.join("bin"))
        .output()
        .unwrap()
}

fn json(home: &Path, args: &[&str]) -> Value {
    let out = run(home, args);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{args:?}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn list_shows_every_local_model_once_with_its_fit_on_this_machine() {
    let home = fake_home();
    let doc = json(home.path(), &["list", "--json"]);
    let names: Vec<&str> = doc["models"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "unsloth/Qwen3.5-35B-A3B-GGUF/Q4_K_M/Qwen3.5-35B-A3B-Q4_K_M-00001-of-00003.gguf",
            "qwen3:30b",
            "lmstudio-community/Meta-Llama-3-8B-GGUF/Meta-Llama-3-8B-Q4_K_M.gguf"
        ],
        "{doc}"
    );
    for m in doc["models"].as_array().unwrap() {
        assert_eq!(m["plan"]["verdict"], "fits_fully", "{m}");
    }
    assert!(doc["machine"]["label"].as_str().unwrap().contains("detected on this machine"));
    let text = String::from_utf8_lossy(&run(home.path(), &["list"]).stdout).into_owned();
    assert!(text.contains("hf-cache") && text.contains("ollama") && text.contains("lm-studio") && text.contains("fits fully, context"), "{text}");
}

#[test]
fn fit_owner_repo_tag_uses_the_local_copy() {
    let home = fake_home();
    let doc = json(home.path(), &["fit", "--json", "unsloth/Qwen3.5-35B-A3B-GGUF:Q4_K_M", "--gpu", "rtx4090", "--ram", "64GiB", "-c", "8K"]);
    let plans = doc["plans"].as_array().unwrap();
    assert_eq!(plans.len(), 1, "{doc}");
    assert!(plans[0]["command"].as_str().unwrap().contains("/snapshots/abc123/Q4_K_M/Qwen3.5-35B-A3B-Q4_K_M-00001-of-00003.gguf"), "{doc}");
    assert!(doc["warnings"].to_string().contains("the local copy"), "{doc}");
    // The whole repo: its models ranked, the projector left out.
    let doc = json(home.path(), &["fit", "--json", "unsloth/Qwen3.5-35B-A3B-GGUF", "--gpu", "rtx4090", "--ram", "64GiB", "-c", "8K"]);
    assert_eq!(doc["plans"].as_array().unwrap().len(), 1, "only the snapshot in use: {doc}");
    assert!(doc["warnings"].to_string().contains("mmproj-F16.gguf: an mmproj"), "{doc}");
    // Ollama's name, and LM Studio's repo as inspect's one model.
    let doc = json(home.path(), &["fit", "--json", "qwen3:30b", "--gpu", "rtx4090", "--ram", "64GiB", "-c", "8K"]);
    assert!(doc["plans"][0]["command"].as_str().unwrap().contains(".ollama/models/blobs/sha256-"), "{doc}");
    assert_eq!(doc["plans"][0]["file"], "qwen3:30b", "named as Ollama names it, not by its blob: {doc}");
    let doc = json(home.path(), &["inspect", "--json", "lmstudio-community/Meta-Llama-3-8B-GGUF"]);
    assert_eq!(doc["architecture"], "llama");
}

#[test]
fn a_name_with_no_local_copy_says_where_it_looked_and_how_to_read_the_hub() {
    let home = fake_home();
    let out = run(home.path(), &["fit", "nobody/nothing-GGUF:Q4_K_M"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("no local copy") && err.contains("hf://nobody/nothing-GGUF:Q4_K_M") && err.contains(".ollama/models"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
