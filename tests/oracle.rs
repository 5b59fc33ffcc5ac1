//! Compares gguf-meter's footprint with what real llama.cpp allocated for the same file and
//! settings (fixtures/oracle/*.json, recorded by scripts/oracle/). Targets: weights, KV,
//! recurrent state and output exact to the byte (asserted for every case); compute exact to
//! the byte for architectures whose graph gguf-meter rebuilds and allocates like ggml-alloc
//! (SIMULATED), within 10% for the others (calibrated heuristic); total within 3%. Known gaps
//! (heuristic misses; tiny synthetic models where compute dominates the total) are printed on
//! every run; the test fails if they grow beyond the bounds below.

mod common;
use gguf_meter::estimate::{footprint, FlashAttn, Settings};
use gguf_meter::model::analyze;
use gguf_meter::read::{open_model, GgmlType};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn model_path(m: &Value) -> Option<PathBuf> {
    let name = m["file_name"].as_str().unwrap();
    match m["kind"].as_str().unwrap() {
        "sparse-fixture" => Some(common::fixture(name)),
        "tiny" => Some(common::fixture(&format!("tiny/{name}"))),
        "real" => common::real_file(name),
        other => panic!("unknown oracle model kind {other}"),
    }
}

fn settings(s: &Value) -> Settings {
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
    }
}

/// Share of cases whose compute estimate may miss the 10% target (known gaps: 1 of 1193).
const COMPUTE_MISS_SHARE: f64 = 0.005;
/// No compute estimate may be further off than this.
const COMPUTE_WORST: f64 = 15.0;
/// Architectures whose compute buffer is simulated (src/estimate/compute/): exact to the byte.
const SIMULATED: [&str; 12] = ["qwen35", "qwen35moe", "qwen3next", "llama", "qwen2", "qwen3", "qwen3moe", "mamba2", "granitehybrid", "gemma3", "gpt-oss", "deepseek2"];
/// Totals of models with at least 1 GiB of weights must be within 3%; tiny synthetic models
/// (a few MB of weights, so compute is most of the total) within this.
const TINY_TOTAL_WORST: f64 = 15.0;

fn pct(ours: u64, theirs: u64) -> f64 {
    if theirs == 0 { if ours == 0 { 0.0 } else { 100.0 } } else { (ours as f64 - theirs as f64) * 100.0 / theirs as f64 }
}

#[test]
fn footprints_match_llama_cpp() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/oracle");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let (mut checked, mut worst_compute, mut worst_total) = (0, (0.0f64, String::new()), (0.0f64, String::new()));
    let mut failures = Vec::new();
    let mut gaps = Vec::new();
    let mut per_file = Vec::new();
    for f in files {
        let doc: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let cases: Vec<&Value> = doc["cases"].as_array().unwrap().iter().collect();
        if cases.is_empty() || doc["oracle"] == "oracle_mmproj" {
            continue; // llama.cpp does not load this file (big-endian on x86); mmproj: tests/oracle_mmproj.rs
        }
        let Some(path) = model_path(&doc["model"]) else { continue };
        let set = open_model(&path).unwrap();
        let tensors = set.tensors();
        let g = analyze(set.metadata(), &tensors);
        let (mut file_worst, mut file_exact, mut file_n) = (0.0f64, 0, 0);
        for c in cases {
            let id = format!("{}: {}", f.file_name().unwrap().to_string_lossy(), c["id"].as_str().unwrap());
            let s = settings(&c["settings"]);
            let ours = footprint(&g, &tensors, &s, 0);
            if c["ok"] != true {
                assert!(ours.is_err(), "{id}: llama.cpp refused ({}), gguf-meter did not", c["error"]);
                continue;
            }
            let fp = ours.unwrap_or_else(|e| panic!("{id}: {e}"));
            let mem = &c["memory"];
            let rec = &mem["recurrent"];
            let t = &c["totals"];
            let exact = [
                ("n_ctx_seq", fp.resolved.n_ctx_seq, c["resolved"]["n_ctx_seq"].as_u64().unwrap()),
                ("weights", fp.weights_bytes, t["model"].as_u64().unwrap()),
                ("k", fp.k_bytes, mem["k_bytes"].as_u64().unwrap_or(0)),
                ("v", fp.v_bytes, mem["v_bytes"].as_u64().unwrap_or(0)),
                ("recurrent r", fp.recurrent_r_bytes, rec["r_bytes"].as_u64().unwrap_or(0)),
                ("recurrent s", fp.recurrent_s_bytes, rec["s_bytes"].as_u64().unwrap_or(0)),
                ("output", fp.output_bytes, t["output"].as_u64().unwrap()),
            ];
            for (what, a, b) in exact {
                // With mmap, llama.cpp reports the mapped file span *and* CPU_REPACK copies of
                // the same tensors; the no_alloc figure (what --fit measures) is the reference.
                if what == "weights" && c["settings"]["load"] == "mmap" {
                    continue;
                }
                if a != b {
                    failures.push(format!("{id}: {what}: gguf-meter {a}, llama.cpp {b}"));
                }
            }
            let compute = t["compute"].as_u64().unwrap();
            let e = pct(fp.compute_bytes, compute);
            if std::env::var_os("ORACLE_VERBOSE").is_some() {
                eprintln!("{id}: compute {} vs {compute} ({e:+.2}%)", fp.compute_bytes);
            }
            file_n += 1;
            file_exact += usize::from(fp.compute_bytes == compute);
            if e.abs() > file_worst.abs() {
                file_worst = e;
            }
            if e.abs() > worst_compute.0.abs() {
                worst_compute = (e, id.clone());
            }
            if e.abs() > 10.0 {
                gaps.push(format!("{id}: compute: gguf-meter {}, llama.cpp {compute} ({e:+.1}%)", fp.compute_bytes));
            }
            if SIMULATED.contains(&g.architecture.as_str()) && fp.compute_bytes != compute {
                failures.push(format!("{id}: simulated compute {} != llama.cpp {compute}", fp.compute_bytes));
            }
            if e.abs() > COMPUTE_WORST {
                failures.push(format!("{id}: compute off by {e:+.1}%"));
            }
            if c["settings"]["load"] != "mmap" {
                let e = pct(fp.total_bytes, t["total"].as_u64().unwrap());
                if e.abs() > worst_total.0.abs() {
                    worst_total = (e, id.clone());
                }
                let tiny = fp.weights_bytes < 1 << 30;
                if e.abs() > 3.0 && (!tiny || e.abs() > TINY_TOTAL_WORST) {
                    failures.push(format!("{id}: total off by {e:+.1}%"));
                } else if e.abs() > 3.0 {
                    gaps.push(format!("{id}: total off by {e:+.1}% (tiny model: compute is most of it)"));
                }
            }
            checked += 1;
        }
        per_file.push(format!("  {:<34} {:>3} cases, {:>3} exact, worst compute {:+.1}%", f.file_name().unwrap().to_string_lossy(), file_n, file_exact, file_worst));
    }
    eprintln!("compute per oracle file:\n{}", per_file.join("\n"));
    eprintln!("oracle cases checked: {checked}; worst compute {:+.1}% ({}); worst total {:+.1}% ({})", worst_compute.0, worst_compute.1, worst_total.0, worst_total.1);
    eprintln!("known gaps ({}):\n{}", gaps.len(), gaps.join("\n"));
    assert!(checked > 100, "oracle cases checked: {checked}");
    let misses = gaps.iter().filter(|g| g.contains(": compute:")).count();
    assert!(misses as f64 <= COMPUTE_MISS_SHARE * checked as f64, "{misses} of {checked} compute estimates miss 10%");
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.iter().take(60).cloned().collect::<Vec<_>>().join("\n"));
}
