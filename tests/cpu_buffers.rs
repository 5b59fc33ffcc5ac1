//! `footprint`'s CPU weight buffers: the CPU_REPACK / CPU split per `--cpu-kind`, the tied
//! embedding's output copy, and the CPU_Mapped figure with and without mmap. The x86 AVX2 split
//! and the mapped span are checked against llama.cpp in tests/oracle.rs.

mod common;
use common::{fixture, run};
use serde_json::Value;

fn footprint(file: &str, extra: &[&str]) -> Value {
    let f = fixture(file);
    let mut a = vec!["footprint", "--json", f.to_str().unwrap(), "-c", "4096"];
    a.extend_from_slice(extra);
    let out = run(&a);
    // Header-only fixtures are downloads that have just started: exit 3, as `inspect`.
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn u(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("{k} missing"))
}

#[test]
fn repack_and_cpu_add_up_to_the_weights_for_every_cpu_kind() {
    let mut repack = Vec::new();
    for kind in ["x86-avx2", "x86-avx512", "arm", "none"] {
        let d = footprint("llama3-8b-q4km.gguf", &["--cpu-kind", kind]);
        assert_eq!(d["cpu_kind"], kind);
        assert_eq!(u(&d, "weights_tied_copy_bytes"), 0, "untied model");
        assert_eq!(u(&d, "weights_repack_bytes") + u(&d, "weights_cpu_bytes"), u(&d, "weights_bytes"), "{kind}");
        repack.push(u(&d, "weights_repack_bytes"));
    }
    // Q4_K_M mixes Q4_K and Q6_K: ARM repacks both, x86 only Q4_K; nothing without AVX2/dotprod.
    assert_eq!(repack[0], repack[1]);
    assert!(repack[2] > repack[0] && repack[0] > 0);
    assert_eq!(repack[3], 0);
}

#[test]
fn a_tied_embedding_that_repacks_gets_a_second_copy_in_cpu_repack() {
    // gemma3-4b ties its Q6_K embedding: not repacked on x86, repacked on ARM (262144 rows).
    let x86 = footprint("gemma3-4b-q4km.gguf", &[]);
    assert_eq!(u(&x86, "weights_tied_copy_bytes"), 0);
    let arm = footprint("gemma3-4b-q4km.gguf", &["--cpu-kind", "apple"]);
    assert_eq!(arm["cpu_kind"], "arm");
    let embd = 2560 * 262144 / 256 * 210; // Q6_K: 210 bytes per 256 elements
    assert_eq!(u(&arm, "weights_tied_copy_bytes"), embd);
    // The copy is memory llama.cpp allocates (oracle: full-command-r7b, Q4_K on x86): in the weights.
    assert_eq!(u(&arm, "weights_repack_bytes") + u(&arm, "weights_cpu_bytes"), u(&arm, "weights_bytes"));
    assert_eq!(u(&arm, "weights_bytes"), u(&x86, "weights_bytes") + embd);
}

#[test]
fn mmap_is_the_default_and_no_mmap_or_load_mode_none_turn_it_off() {
    let d = footprint("qwen35-27b-q4km.gguf", &[]);
    assert_eq!(d["mmap"], true);
    let mapped = u(&d, "weights_mapped_bytes");
    // The span holds every CPU tensor and the repacked ones lying between them.
    assert!(mapped >= u(&d, "weights_cpu_bytes") - 32 * 2000 && mapped <= u(&d, "weights_bytes"));
    assert!(u(&d, "weights_mapped_repacked_bytes") > 0);
    for flags in [&["--no-mmap"][..], &["-lm", "none"], &["--load-mode", "mlock"]] {
        let n = footprint("qwen35-27b-q4km.gguf", flags);
        assert_eq!(n["mmap"], false, "{flags:?}");
        assert_eq!(u(&n, "weights_mapped_bytes"), 0);
        assert_eq!(u(&n, "weights_cpu_bytes"), u(&d, "weights_cpu_bytes"));
    }
    assert_eq!(footprint("qwen35-27b-q4km.gguf", &["--load-mode", "mmap+mlock"])["mmap"], true);
    let f = fixture("qwen35-27b-q4km.gguf");
    let out = run(&["footprint", f.to_str().unwrap(), "--no-mmap", "--load-mode", "mmap"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn human_output_names_the_buffers_llama_cpp_prints() {
    let f = fixture("qwen35-27b-q4km.gguf");
    let text = |extra: &[&str]| {
        let mut a = vec!["footprint", f.to_str().unwrap(), "-c", "4096"];
        a.extend_from_slice(extra);
        String::from_utf8(run(&a).stdout).unwrap()
    };
    let mapped = text(&[]);
    assert!(mapped.contains("CPU_REPACK model buffer size") && mapped.contains("CPU_Mapped model buffer size"), "{mapped}");
    assert!(mapped.contains("read once while loading"));
    let anon = text(&["--no-mmap", "--cpu-kind", "none"]);
    assert!(anon.contains("       CPU model buffer size") && !anon.contains("CPU_REPACK") && !anon.contains("CPU_Mapped"), "{anon}");
}
