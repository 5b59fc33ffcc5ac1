//! Every projector type and full-size geometry recorded by scripts/oracle/mmproj_types.py
//! (fixtures/oracle/mmproj-type-*.json, mmproj-full-*.json; headers in fixtures/mmproj/):
//! gguf-meter's weights, warm-up tokens and compute buffers against what mtmd allocated.
//! Weights and warm-up tokens must be exact everywhere; the compute buffer exact for every
//! projector whose graph gguf-meter rebuilds (`Simulated`), and within `ESTIMATE_BOUND` for the
//! rest, which gguf-meter labels an estimate. The result is docs/projectors.md, which the test
//! keeps current (UPDATE_COVERAGE=1 rewrites it).

use gguf_meter::estimate::MmprojSettings;
use gguf_meter::estimate::vision_compute::{Method, encoder_compute, weights_bytes};
use gguf_meter::model::analyze;
use gguf_meter::read::open_model;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How far (percent) a labelled estimate may be from mtmd's figure.
const ESTIMATE_BOUND: f64 = 100.0;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn docs() -> Vec<(String, Value)> {
    let dir = root().join("fixtures/oracle");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .filter(|f| {
            let n = f.file_name().unwrap().to_string_lossy();
            n.starts_with("mmproj-type-") || n.starts_with("mmproj-full-")
        })
        .map(|f| (f.file_name().unwrap().to_string_lossy().into_owned(), serde_json::from_slice::<Value>(&std::fs::read(&f).unwrap()).unwrap()))
        .collect()
}

/// What one recorded file showed, for the coverage table.
#[derive(Default)]
struct Row {
    cases: usize,
    method: String,
    worst: f64,
    warmup: String,
}

#[test]
fn every_recorded_projector_matches_mtmd() {
    let mut lines = Vec::new();
    let mut failures = Vec::new();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut file_types: Vec<String> = Vec::new();
    for (file, doc) in docs() {
        let rel = doc["model"]["file_name"].as_str().unwrap();
        let set = open_model(&root().join(rel)).unwrap();
        let tensors = set.tensors();
        let v = analyze(set.metadata(), &tensors).vision.expect("an mmproj");
        let key = file.trim_start_matches("mmproj-").trim_end_matches(".json").to_string();
        file_types.push(doc["model"]["projector_type"].as_str().unwrap_or("").to_string());
        for c in doc["cases"].as_array().unwrap() {
            let id = format!("{file}: {}", c["id"].as_str().unwrap());
            if c["ok"] != true {
                failures.push(format!("{id}: oracle failed"));
                continue;
            }
            let s = &c["settings"];
            let fa = s["flash_attn"] != "off";
            let largest = s["largest"] == true;
            // a user image budget the oracle ran with (`--image-max-tokens`), else clip's own
            let max_tokens = s["image_max_tokens"].as_i64().filter(|&t| t > 0).map(|t| t as u64);
            let settings = MmprojSettings { offload: true, image_max_tokens: max_tokens };
            let ctxs = c["contexts"].as_array().unwrap();
            assert_eq!(ctxs.len(), v.encoders.len(), "{id}: encoders");
            let theirs_w: u64 = ctxs.iter().map(|x| x["weight_bytes"].as_u64().unwrap()).sum();
            if weights_bytes(&v) != theirs_w {
                failures.push(format!("{id}: weights {} vs {theirs_w}", weights_bytes(&v)));
            }
            for (e, x) in v.encoders.iter().zip(ctxs) {
                // each context's own weight buffer: a tensor counted in the wrong context shows here
                let ours_w: u64 = e.tensors.iter().map(|t| t.2.div_ceil(32) * 32).sum();
                let theirs_ctx_w = x["weight_bytes"].as_u64().unwrap();
                if ours_w != theirs_ctx_w {
                    failures.push(format!("{id}: {} weights {ours_w} vs {theirs_ctx_w}", e.projector_type));
                }
                let ours = encoder_compute(e, fa, &settings).unwrap();
                let w = &x["warmup"];
                let theirs = w["compute_bytes"].as_u64().unwrap();
                let bytes = if largest { ours.largest_bytes } else { ours.warmup_bytes };
                let err = (bytes as f64 - theirs as f64) * 100.0 / theirs.max(1) as f64;
                lines.push(format!("{id:60} {:?} ours {bytes:>12} mtmd {theirs:>12} {err:+7.2}%", ours.method));
                let their_tokens = w["n_tokens"].as_u64().unwrap();
                let our_tokens = if largest { ours.max_tokens.min(their_tokens.max(ours.warmup_tokens)) } else { ours.warmup_tokens };
                if !largest && our_tokens != their_tokens {
                    failures.push(format!("{id}: warm-up tokens {our_tokens} vs {their_tokens}"));
                }
                let bound = if ours.method == Method::Estimate { ESTIMATE_BOUND } else { 0.0 };
                if err.abs() > bound {
                    failures.push(format!("{id}: compute {bytes} vs {theirs} ({err:+.2}%, {:?})", ours.method));
                }
                let r = rows.entry(format!("{key} ({})", e.projector_type)).or_default();
                r.cases += 1;
                r.method = format!("{:?}", ours.method).to_lowercase();
                if err.abs() >= r.worst.abs() {
                    r.worst = err;
                }
                if ours.method == Method::NotReserved {
                    r.warmup = format!("none (no warm-up at load; {} token per call), 0 MiB reserved", ours.warmup_tokens);
                } else if !largest && !fa {
                    let input = if ours.warmup_side > 0 {
                        format!("{}x{} px", ours.warmup_side, ours.warmup_side)
                    } else {
                        format!("{} mel frames", ours.warmup_frames)
                    };
                    r.warmup = format!("{input}, {} tokens; {:.1} MiB fa off", ours.warmup_tokens, theirs as f64 / 1048576.0);
                } else if !largest && fa {
                    r.warmup = format!("{}, {:.1} MiB fa on", r.warmup, theirs as f64 / 1048576.0);
                }
            }
        }
    }
    if std::env::var_os("ORACLE_VERBOSE").is_some() {
        eprintln!("{}", lines.join("\n"));
    }
    let table = coverage(&rows, &file_types);
    let path = root().join("docs/projectors.md");
    if std::env::var_os("UPDATE_COVERAGE").is_some() {
        std::fs::write(&path, &table).unwrap();
    } else {
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(old == table, "docs/projectors.md no longer matches what gguf-meter computes (rerun with UPDATE_COVERAGE=1 if this is an improvement)");
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// docs/projectors.md: one row per recorded file and encoder, and the types not recorded.
fn coverage(rows: &BTreeMap<String, Row>, file_types: &[String]) -> String {
    let mut s = String::from(
        "# Projector coverage (mmproj)\n\n\
         Generated by `tests/oracle_mmproj_types.rs` from `fixtures/oracle/mmproj-{type,full}-*.json`, which\n\
         `scripts/oracle/mmproj_types.py` records with llama.cpp's own clip loader (`oracle_mmproj`). Weights and\n\
         warm-up tokens are exact on every row. `simulated`: the clip graph is rebuilt and ggml-alloc replayed,\n\
         exact on every case; `estimate`: the generic ViT graph over the projector's patches (or a plain\n\
         transformer of the encoder's declared geometry), labelled an estimate in gguf-meter's output;\n\
         `notreserved`: an audio-generation (TTS) context, which clip_init loads without a warm-up: 0 bytes\n\
         reserved at load, exact (what a generation request allocates is not estimated). Cases:\n\
         flash attention on / off / auto at the warm-up input, and\n\
         on / off at the largest image clip accepts.\n\n\
         | file (projector) | method | cases | worst error | warm-up input, tokens, compute |\n|---|---|---|---|---|\n",
    );
    for (k, r) in rows {
        s.push_str(&format!("| {k} | {} | {} | {:+.2}% | {} |\n", r.method, r.cases, r.worst, r.warmup));
    }
    let mut recorded: Vec<&str> = rows.keys().filter_map(|k| k.rsplit_once('(').map(|(_, t)| t.trim_end_matches(')'))).collect();
    recorded.extend(file_types.iter().map(String::as_str));
    let missing: Vec<&str> = gguf_meter::model::required_keys::projector_names().iter().copied().filter(|t| !recorded.contains(t)).collect();
    s.push_str(&format!(
        "\nProjector types mtmd knows that have no generated file yet ({}): {}. For these gguf-meter counts the weights\n\
         exactly and estimates the compute buffer, labelled an estimate: from the generic ViT graph when the\n\
         file has a standard ViT (`v.blk.N` with `attn_q`/`attn_qkv`) or whisper tower, else from a plain\n\
         transformer of the encoder's declared width, heads, FFN width and blocks.\n",
        missing.len(),
        missing.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
    ));
    s
}
