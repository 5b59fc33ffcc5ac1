//! Compares gguf-meter's footprint with what real llama.cpp allocated for the same file and
//! settings (fixtures/oracle/*.json, recorded by scripts/oracle/). Targets: weights (and their
//! split into CPU_REPACK / CPU, or CPU_Mapped with mmap, for x86 AVX2 as the oracle ran), KV,
//! recurrent state and output exact to the byte (asserted for every case); compute, hence the
//! total, exact to the byte for architectures whose graph gguf-meter rebuilds and allocates
//! like ggml-alloc (SIMULATED: every recorded one); for any other, compute within 10% and the
//! total within 3% (tiny synthetic models, where compute is most of the total: 15%). The
//! calibrated heuristic that remains the fallback is also run on every case and must stay
//! within its bounds; its gaps are printed on every run.

mod common;
use gguf_meter::estimate::compute::heuristic_bytes;
use gguf_meter::estimate::footprint;
use gguf_meter::estimate::kv::model_swa_cells;
use gguf_meter::model::analyze;
use gguf_meter::read::open_model;
use serde_json::Value;
use std::path::{Path, PathBuf};

use common::oracle::{model_buffers, model_path, pct, settings};

/// A compute buffer that is not simulated may be off by this much at most.
const COMPUTE_WORST: f64 = 10.0;
/// Share of cases where the heuristic fallback may miss 10% (15 of 1193: Qwen3.5 / Qwen3-Next
/// at 32K-131K context, which the simulation replaced before the heuristic was recalibrated).
const HEURISTIC_MISS_SHARE: f64 = 0.015;
/// The heuristic fallback may be off by this much at most (worst: tiny-qwen35moe, -21.4%).
const HEURISTIC_WORST: f64 = 22.0;
/// Architectures whose compute buffer is simulated (src/estimate/compute/): exact to the byte.
const SIMULATED: &[&str] = &[
    "qwen35",
    "qwen35moe",
    "qwen3next",
    "llama",
    "qwen2",
    "qwen3",
    "qwen3moe",
    "mamba",
    "mamba2",
    "granitehybrid",
    "gemma3",
    "gpt-oss",
    "deepseek2",
    "deepseek32",
    "glm-dsa",
    "dots3note",
    "hy_v4",
    "glm5-next",
    "qwen4exp",
    "jamba",
    "falcon-h1",
    "nemotron_h",
    "nemotron_h_moe",
    "lfm2",
    "lfm2moe",
    "rwkv6",
    "rwkv7",
    "arwkv7",
    "plamo2",
    "minimax-01",
    "minimax-m3",
    "kimi-linear",
    "kimi-k3",
    "bailingmoe3",
];
/// Totals of models with at least 1 GiB of weights must be within 3%; tiny synthetic models
/// (a few MB of weights, so compute is most of the total) within this.
const TINY_TOTAL_WORST: f64 = 15.0;

#[test]
fn footprints_match_llama_cpp() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/oracle");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let (mut checked, mut worst_compute, mut worst_total) = (0, (0.0f64, String::new()), (0.0f64, String::new()));
    let mut worst_heuristic = (0.0f64, String::new());
    let mut failures = Vec::new();
    let mut gaps = Vec::new();
    let mut per_file = Vec::new();
    for f in files {
        let doc: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let cases: Vec<&Value> = doc["cases"].as_array().unwrap().iter().collect();
        if cases.is_empty() || doc["oracle"] == "oracle_mmproj" || doc["model"]["kind"] == "arch-fixture" || doc["generator"] == "scripts/oracle/multi.py" {
            continue; // llama.cpp does not load this file (big-endian on x86); mmproj: tests/oracle_mmproj.rs; architecture zoo: tests/oracle_archs.rs; several devices: tests/oracle_multi.rs
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
                ("recurrent p", fp.recurrent_p_bytes, rec["p_bytes"].as_u64().unwrap_or(0)),
                ("output", fp.output_bytes, t["output"].as_u64().unwrap()),
            ];
            let mmap = c["settings"]["load"] == "mmap";
            let buffers = model_buffers(&c["model_buffers"]);
            let buffer = |name: &str| buffers.iter().filter(|(b, _)| b == name).map(|(_, n)| n).sum::<u64>();
            let cpu = if mmap { ("cpu mapped", fp.weights_mapped_bytes, buffer("CPU_Mapped")) } else { ("cpu", fp.weights_cpu_bytes, buffer("CPU")) };
            let exact_buffers = [("cpu repack", fp.weights_repack_bytes, buffer("CPU_REPACK")), cpu];
            assert!(buffers.iter().all(|(b, _)| ["CPU", "CPU_REPACK", "CPU_Mapped"].contains(&b.as_str())), "{id}: unexpected buffer in {buffers:?}");
            for (what, a, b) in exact.into_iter().chain(exact_buffers) {
                // With mmap, llama.cpp reports the mapped file span *and* CPU_REPACK copies of
                // the same tensors (checked above); the no_alloc sum is what --fit measures.
                if what == "weights" && mmap {
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
            let simulated = SIMULATED.contains(&g.architecture.as_str());
            if simulated && fp.compute_bytes != compute {
                failures.push(format!("{id}: simulated compute {} != llama.cpp {compute}", fp.compute_bytes));
            }
            if e.abs() > COMPUTE_WORST {
                failures.push(format!("{id}: compute off by {e:+.1}%"));
            }
            let r = &fp.resolved;
            let h = heuristic_bytes(&g, &tensors, r, r.n_ctx_seq, model_swa_cells(&g, r));
            let he = pct(h, compute);
            if he.abs() > worst_heuristic.0.abs() {
                worst_heuristic = (he, id.clone());
            }
            if he.abs() > 10.0 {
                gaps.push(format!("{id}: heuristic compute: {h}, llama.cpp {compute} ({he:+.1}%)"));
            }
            if he.abs() > HEURISTIC_WORST {
                failures.push(format!("{id}: heuristic compute off by {he:+.1}%"));
            }
            if c["settings"]["load"] != "mmap" {
                let e = pct(fp.total_bytes, t["total"].as_u64().unwrap());
                if e.abs() > worst_total.0.abs() {
                    worst_total = (e, id.clone());
                }
                let tiny = fp.weights_bytes < 1 << 30;
                if simulated && fp.total_bytes != t["total"].as_u64().unwrap() {
                    failures.push(format!("{id}: total {} != llama.cpp {}", fp.total_bytes, t["total"]));
                } else if e.abs() > 3.0 && (!tiny || e.abs() > TINY_TOTAL_WORST) {
                    failures.push(format!("{id}: total off by {e:+.1}%"));
                } else if e.abs() > 3.0 {
                    gaps.push(format!("{id}: total off by {e:+.1}% (tiny model: compute is most of it)"));
                }
            }
            checked += 1;
        }
        per_file.push(format!(
            "  {:<34} {:>3} cases, {:>3} exact, worst compute {:+.1}%",
            f.file_name().unwrap().to_string_lossy(),
            file_n,
            file_exact,
            file_worst
        ));
    }
    eprintln!("compute per oracle file:\n{}", per_file.join("\n"));
    eprintln!(
        "oracle cases checked: {checked}; worst compute {:+.1}% ({}); worst total {:+.1}% ({})",
        worst_compute.0, worst_compute.1, worst_total.0, worst_total.1
    );
    eprintln!("heuristic fallback alone: worst compute {:+.1}% ({})", worst_heuristic.0, worst_heuristic.1);
    eprintln!("known gaps ({}):\n{}", gaps.len(), gaps.join("\n"));
    assert!(checked > 100, "oracle cases checked: {checked}");
    let misses = gaps.iter().filter(|g| g.contains(": heuristic compute:")).count();
    assert!(misses as f64 <= HEURISTIC_MISS_SHARE * checked as f64, "{misses} of {checked} heuristic estimates miss 10%");
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.iter().take(60).cloned().collect::<Vec<_>>().join("\n"));
}
