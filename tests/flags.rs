//! Flags as llama.cpp users type them: llama-server's single-dash spellings accepted and shown
//! in `--help`, `-ngl` wherever a placement means something, sizes and contexts with units.

mod common;

use common::{fixture, run};
use serde_json::Value;

fn text(o: &std::process::Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn json(args: &[&str]) -> Value {
    let o = run(args);
    serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{args:?}: {}", text(&o).1))
}

/// llama-server's spellings and the long flags they stand for, per command that takes them.
const SPELLINGS: [(&str, &str, &[&str]); 13] = [
    ("-ngl", "--n-gpu-layers", &["footprint", "fit"]),
    ("-np", "--parallel", &["footprint", "fit", "check", "table", "watch"]),
    ("-ctk", "--cache-type-k", &["footprint", "fit", "check", "table", "watch"]),
    ("-ctv", "--cache-type-v", &["footprint", "fit", "check", "table", "watch"]),
    ("-fa", "--flash-attn", &["footprint", "fit", "check", "table", "watch"]),
    ("-ot", "--override-tensor", &["footprint", "fit", "table"]),
    ("-ts", "--tensor-split", &["footprint", "fit"]),
    ("-ub", "--ubatch-size", &["footprint", "fit", "check", "table", "watch"]),
    ("-kvu", "--kv-unified", &["footprint", "fit", "check", "table", "watch"]),
    ("-ncmoe", "--n-cpu-moe", &["footprint", "fit"]),
    ("-cmoe", "--cpu-moe", &["footprint", "fit"]),
    ("-mg", "--main-gpu", &["footprint", "fit"]),
    ("-lm", "--load-mode", &["footprint"]),
];

#[test]
fn help_lists_every_llama_server_spelling_next_to_its_flag() {
    for (short, long, commands) in SPELLINGS {
        for c in commands {
            let (out, _) = text(&run(&[c, "--help"]));
            let line = out.lines().position(|l| l.trim_start().starts_with(long)).unwrap_or_else(|| panic!("{c} --help has no {long}:\n{out}"));
            // The help text follows the flag's line (long help) and starts with the spelling.
            assert!(out.lines().nth(line + 1).unwrap().trim_start().starts_with(&format!("{short}:")), "{c} --help, {long}:\n{out}");
        }
    }
    let (out, _) = text(&run(&["fit", "--help"]));
    for alias in ["-c, --ctx-size", "[alias: --ctx]", "[alias: --gpu-layers]", "-b, --batch-size"] {
        assert!(out.contains(alias), "fit --help lacks {alias}:\n{out}");
    }
}

#[test]
fn ngl_is_a_placement_in_footprint_and_fit_and_named_as_typed_where_it_is_not() {
    let f = fixture("qwen35-35b-a3b-q4km.gguf");
    let f = f.to_str().unwrap();
    // footprint: the per-device split, which adds up to the footprint.
    let doc = json(&["footprint", f, "--json", "-c", "32K", "-ngl", "20", "-ts", "3,1"]);
    let p = &doc["placement"];
    assert_eq!((p["n_gpu_layers"].as_u64(), p["devices"].as_array().unwrap().len()), (Some(20), 3), "{p}");
    let weights: u64 = p["devices"].as_array().unwrap().iter().map(|d| d["weights_bytes"].as_u64().unwrap()).sum();
    assert_eq!(weights, doc["weights_bytes"].as_u64().unwrap(), "{doc}");
    let (human, _) = text(&run(&["footprint", f, "-c", "32K", "-ngl", "20", "-ts", "3,1"]));
    assert!(human.contains("per device (-ngl 20 -ts 3,1)") && human.contains("GPU1") && human.contains("3 + output"), "{human}");
    // fit: that placement checked, not searched.
    let doc = json(&["fit", f, "--json", "--gpu", "rtx4090", "--ram", "64GiB", "-c", "32K", "-ngl", "20"]);
    assert_eq!(doc["plans"][0]["verdict"], "partial_offload", "{doc}");
    assert!(doc["plans"][0]["command"].as_str().unwrap().contains(" -ngl 20 "), "{doc}");
    // table searches the placement per cell: the error names what was typed.
    let (_, err) = text(&run(&["table", f, "--gpus", "rtx4090", "-ngl", "20"]));
    assert!(err.contains("'-ngl'"), "{err}");
}

#[test]
fn sizes_need_units_and_contexts_take_k() {
    let f = fixture("qwen35-27b-q4km.gguf");
    let f = f.to_str().unwrap();
    for (flag, cmd) in [("--vram", "fit"), ("--ram", "fit"), ("--ram", "table"), ("--max-resident", "check")] {
        let mut args = vec![cmd, f, flag, "24"];
        if cmd == "table" {
            args.extend(["--gpus", "rtx4090"]);
        }
        let o = run(&args);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(err.contains(flag) && err.contains("did you mean 24GiB?"), "{args:?}: {err}");
    }
    let a = json(&["fit", f, "--json", "--vram", "24GiB", "--ram", "64GB", "-c", "32K"]);
    let b = json(&["fit", f, "--json", "--vram", "25769803776B", "--ram", "64000000000B", "-c", "32768"]);
    assert_eq!(a["plans"], b["plans"]);
    assert_eq!(a["machine"]["ram_bytes"], 64_000_000_000u64);
    let a = json(&["footprint", f, "--json", "-c", "128K"]);
    assert_eq!(a["ctx"], 131072, "{a}");
}

#[test]
fn ctx_0_is_the_trained_context_and_says_so() {
    let f = fixture("qwen35-27b-q4km.gguf");
    let doc = json(&["footprint", f.to_str().unwrap(), "--json", "-c", "0"]);
    assert_eq!(doc["ctx"], doc["trained_context"], "{doc}");
    assert!(doc["warnings"].to_string().contains("-c 0: the model's trained context (262144 tokens"), "{doc}");
    let doc = json(&["fit", f.to_str().unwrap(), "--json", "-c", "0", "--gpu", "rtx4090", "--ram", "64GiB"]);
    assert!(doc["warnings"].to_string().contains("-c 0 is llama.cpp's"), "{doc}");
    let (help, _) = text(&run(&["footprint", "--help"]));
    assert!(help.contains("0 = the model's trained context"), "{help}");
}
