//! `table`: every cell is the plan `fit` makes for the same file, device, context and RAM.

mod common;
use common::{fixture, run};
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    let out = run(args);
    // `fit` exits 1 when nothing fits; that is still a plan. The header-only fixtures are
    // incomplete downloads: 3, for `table` as for `fit`.
    let ok = if args[0] == "fit" { [Some(1), Some(3)].contains(&out.status.code()) } else { out.status.code() == Some(3) };
    assert!(ok, "{:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_cell_equals_fit_for_the_same_inputs() {
    let files = ["qwen35-122b-a10b-q4km.gguf", "qwen35-35b-a3b-q4km.gguf", "qwen35-27b-q4km.gguf"].map(|f| fixture(f).to_str().unwrap().to_string());
    let mut args = vec!["table", "--format", "json", "--gpus", "rtx3060,rtx4090,rtx4090+rtx3060,m4max-128", "--ctx", "8K,131072", "--ram", "32GiB"];
    args.extend(files.iter().map(String::as_str));
    let doc = json(&args);
    let rows = doc["rows"].as_array().unwrap();
    let sizes: Vec<u64> = rows.iter().map(|r| r["file_bytes"].as_u64().unwrap()).collect();
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "sorted by size: {sizes:?}");
    assert_eq!(rows[0]["file"], "qwen35-27b-q4km.gguf");
    let mut verdicts = std::collections::BTreeSet::new();
    for r in rows {
        let file = files.iter().find(|f| f.ends_with(r["file"].as_str().unwrap())).unwrap();
        for c in r["cells"].as_array().unwrap() {
            let (device, ctx) = (c["device"].as_str().unwrap(), c["requested_ctx"].as_u64().unwrap().to_string());
            // table's --ram is the host RAM of discrete GPUs; Apple devices keep their unified size.
            let ram: &[&str] = if device.starts_with('m') { &[] } else { &["--ram", "32GiB"] };
            let mut a = vec!["fit", "--json", file, "--gpu", device, "-c", &ctx];
            a.extend_from_slice(ram);
            let fit = json(&a);
            let p = &fit["plans"][0];
            for key in [
                "verdict",
                "ctx",
                "n_gpu_layers",
                "n_cpu_moe",
                "gpu_bytes",
                "cpu_bytes",
                "total_bytes",
                "tokens_per_second_bound",
                "command",
                "devices",
                "tensor_split",
            ] {
                assert_eq!(c[key], p[key], "{} on {device} at {ctx}: {key}", r["file"]);
            }
            verdicts.insert(c["verdict"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(verdicts.len(), 3, "the matrix shows all three verdicts: {verdicts:?}");
}

#[test]
fn a_directory_of_quants_gives_markdown_with_the_geometry_and_mmproj_left_out() {
    let tmp = tempfile::tempdir().unwrap();
    for f in [
        "qwen35-35b-a3b-q4km-00001-of-00003.gguf",
        "qwen35-35b-a3b-q4km-00002-of-00003.gguf",
        "qwen35-35b-a3b-q4km-00003-of-00003.gguf",
        "mmproj-qwen35-f16.gguf",
    ] {
        std::fs::copy(fixture(f), tmp.path().join(f)).unwrap();
    }
    let out = run(&["table", tmp.path().to_str().unwrap(), "--gpus", "rtx4090", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(3));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("40 layers (10 full attention, 30 recurrent)"), "{md}");
    assert!(md.contains("256 experts, 8 routed + 1 shared"), "{md}");
    assert_eq!(md.matches("| qwen35-35b-a3b-q4km-00001-of-00003.gguf |").count(), 3, "one row per context, split set once: {md}");
    assert!(md.contains("mmproj") && md.contains("left out"), "{md}");
}

#[test]
fn csv_has_one_line_per_cell_and_bad_arguments_are_usage_errors() {
    let f = fixture("qwen35-27b-q4km.gguf");
    let out = run(&["table", f.to_str().unwrap(), "--gpus", "rtx4090,h100", "--ctx", "4K,8K,16K", "--format", "csv"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert_eq!(csv.lines().count(), 1 + 2 * 3, "{csv}");
    let cols = csv.lines().next().unwrap().split(',').count();
    assert!(csv.lines().skip(1).all(|l| l.matches(',').count() >= cols - 1));
    for bad in [vec!["--gpus", "rtx9999"], vec!["--gpus", "rtx4090", "--ctx", "0"], vec!["--gpus", "rtx4090", "--ctx", "lots"]] {
        let mut a = vec!["table", f.to_str().unwrap()];
        a.extend(bad.iter().copied());
        assert_eq!(run(&a).status.code(), Some(2), "{bad:?}");
    }
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(run(&["table", empty.path().to_str().unwrap(), "--gpus", "rtx4090"]).status.code(), Some(2));
}

#[test]
fn an_mmproj_is_in_every_cell_on_the_first_gpu() {
    // fixtures/mmproj/full-gemma3-siglip.gguf: mtmd's clip_get_mem_usage (weights + warm-up compute
    // buffer, what llama-server's --fit adds for the projector) was 977,011,136 bytes
    // (fixtures/oracle/mmproj-full-gemma3-siglip.json).
    let model = fixture("gemma3-4b-q4km.gguf");
    let mm = fixture("mmproj/full-gemma3-siglip.gguf");
    let base = ["table", "--format", "json", "--gpus", "rtx3060,2x3090", "--ctx", "8K", model.to_str().unwrap()];
    let without = json(&base);
    let mut with_args = base.to_vec();
    with_args.extend(["--mmproj", mm.to_str().unwrap()]);
    let with = json(&with_args);
    for (a, b) in without["rows"][0]["cells"].as_array().unwrap().iter().zip(with["rows"][0]["cells"].as_array().unwrap()) {
        let gpu0 = |c: &Value| c["devices"][0]["other_bytes"].as_u64().unwrap();
        assert_eq!(gpu0(b) - gpu0(a), 977_011_136, "{}", b["device"]);
        assert_eq!(b["total_bytes"].as_u64().unwrap() - a["total_bytes"].as_u64().unwrap(), 977_011_136);
        assert!(b["command"].as_str().unwrap().contains("--mmproj "), "{}", b["command"]);
    }
}
