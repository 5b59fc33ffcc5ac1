//! `fit` and `gpus`: verdicts, placements and command lines on the Qwen3.5 fixtures.

mod common;
use common::{fit_json, fixture, run};

#[test]
fn qwen35_35b_fits_a_24gb_card_and_the_context_is_the_largest_that_does() {
    let f = fixture("qwen35-35b-a3b-q4km.gguf");
    let (doc, code) = fit_json(&[f.to_str().unwrap(), "--gpu", "rtx3090", "--ram", "64GiB"]);
    assert_eq!(code, 3, "it fits, but a header-only fixture is a download just started (exit 3)");
    let p = &doc["plans"][0];
    assert_eq!(p["verdict"], "fits_fully");
    let cap = p["gpu_capacity_bytes"].as_u64().unwrap();
    assert_eq!(cap, (24u64 << 30) - (1 << 30), "24 GiB minus llama.cpp's 1 GiB --fit margin");
    assert!(p["gpu_bytes"].as_u64().unwrap() <= cap);
    let ctx = p["ctx"].as_u64().unwrap();
    assert_eq!(p["max_full_gpu_ctx"], ctx);
    assert_eq!(ctx % 256, 0);
    // One step more context must not fit: footprint at ctx + 256 exceeds the card.
    let more = (ctx + 256).to_string();
    let (doc2, _) = fit_json(&[f.to_str().unwrap(), "--gpu", "rtx3090", "--ram", "64GiB", "-c", &more]);
    assert_ne!(doc2["plans"][0]["verdict"], "fits_fully");
    assert!(p["command"].as_str().unwrap().contains(&format!("-c {ctx} -ngl 42 -fa on")));
    assert!(p["tokens_per_second_bound"].as_f64().unwrap() > 0.0);
}

#[test]
fn qwen35_122b_on_one_4090_moves_routed_experts_to_the_cpu() {
    let f = fixture("qwen35-122b-a10b-q4km.gguf");
    let (doc, code) = fit_json(&[f.to_str().unwrap(), "--gpu", "rtx4090", "--ram", "96GiB", "-c", "131072"]);
    assert_eq!(code, 3, "it fits, but a header-only fixture is a download just started (exit 3)");
    let p = &doc["plans"][0];
    assert_eq!(p["verdict"], "partial_offload");
    let n = p["n_cpu_moe"].as_u64().unwrap();
    assert!(n > 0 && n <= 48, "{n}");
    assert!(p["command"].as_str().unwrap().contains(&format!("--n-cpu-moe {n}")));
    assert!(p["gpu_bytes"].as_u64().unwrap() <= p["gpu_capacity_bytes"].as_u64().unwrap());
    // 69 GiB of weights cannot fit 96 GiB minus what the GPU holds unless most experts moved.
    assert!(p["cpu_bytes"].as_u64().unwrap() > 40u64 << 30);
    // ... and with too little RAM it does not fit at all.
    let (doc, code) = fit_json(&[f.to_str().unwrap(), "--gpu", "rtx4090", "--ram", "32GiB", "-c", "131072"]);
    assert_eq!(doc["plans"][0]["verdict"], "does_not_fit");
    assert_eq!(code, 1);
}

#[test]
fn several_quants_rank_by_quality() {
    let q4 = fixture("llama3-8b-q4km.gguf");
    let q8 = fixture("llama3-8b-q8_0.gguf");
    let (doc, _) = fit_json(&[q4.to_str().unwrap(), q8.to_str().unwrap(), "--vram", "24GiB", "--ram", "32GiB", "-c", "8192"]);
    assert_eq!(doc["best"], "llama3-8b-q8_0.gguf", "both fit a 24 GiB card; Q8_0 has more bits per weight");
    let (doc, _) = fit_json(&[q4.to_str().unwrap(), q8.to_str().unwrap(), "--vram", "8GiB", "--ram", "32GiB", "-c", "8192"]);
    assert_eq!(doc["best"], "llama3-8b-q4km.gguf");
}

#[test]
fn unknown_gpu_names_close_matches_and_catalog_lists() {
    let f = fixture("llama3-8b-q4km.gguf");
    let out = run(&["fit", f.to_str().unwrap(), "--gpu", "rtx4099"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rtx4090"));
    let out = run(&["gpus"]);
    let s = String::from_utf8_lossy(&out.stdout);
    for name in ["rtx3090", "rtx4090", "rtx5090", "h100", "mi300x", "m4max-128", "ddr5-dual"] {
        assert!(s.contains(name), "{name}");
    }
}

#[test]
fn cpu_only_machine_uses_ram() {
    let f = fixture("llama3-8b-q4km.gguf");
    let (doc, code) = fit_json(&[f.to_str().unwrap(), "--gpu", "ddr5-dual", "--ram", "16GiB", "-c", "8192"]);
    assert_eq!(code, 3, "it fits, but a header-only fixture is a download just started (exit 3)");
    let p = &doc["plans"][0];
    assert_eq!(p["verdict"], "fits_fully");
    assert_eq!(p["gpu_bytes"], 0);
    assert!(p["command"].as_str().unwrap().contains("-ngl 0"));
}

#[test]
fn settings_llama_cpp_refuses_are_refused_in_one_line() {
    // llama-context.cpp:3835: an MLA cache keeps V inside K, so K and V types must agree.
    let ds = fixture("deepseek-v3-q4km.gguf");
    let out = run(&["footprint", ds.to_str().unwrap(), "-c", "4096", "-ctk", "q8_0"]);
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("llama.cpp refuses different K (q8_0) and V (f16) cache types"), "{e}");
    assert_eq!(run(&["footprint", ds.to_str().unwrap(), "-c", "4096", "-ctk", "q8_0", "-ctv", "q8_0"]).status.code(), Some(3));
    // Other models take different types (with flash attention for a quantized V).
    let q = fixture("qwen35-27b-q4km.gguf");
    assert_eq!(run(&["footprint", q.to_str().unwrap(), "-c", "4096", "-ctk", "q8_0"]).status.code(), Some(3));
}
