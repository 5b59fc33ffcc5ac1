//! `fit` plans with the scheduler's per-device compute buffers: the plan it prints is what
//! `footprint` prints for the same flags, device by device, and where llama.cpp recorded the
//! placement `fit` chooses (`fixtures/oracle/multi-*.json`), its compute buffers are llama.cpp's.

mod common;
use common::{fit_json, fixture, run};
use gguf_meter::estimate::fit::{Gpu, Machine, Verdict, plan};
use gguf_meter::estimate::overrides::Overrides;
use gguf_meter::estimate::speed::Backend;
use gguf_meter::estimate::{FlashAttn, Settings};
use gguf_meter::model::analyze;
use gguf_meter::read::{GgmlType, GgufFile, TensorEntry};
use serde_json::Value;

const FIELDS: [&str; 9] = ["device", "blocks", "output_layer", "weights_bytes", "kv_bytes", "recurrent_bytes", "compute_bytes", "other_bytes", "total_bytes"];

/// `fit`'s plan, then `footprint` with the flags of its command: the same bytes on every device.
#[test]
fn fit_plans_what_footprint_prints_for_the_same_flags() {
    // (fixture, machine flags, runtime flags given to both commands)
    let cases: &[(&str, &[&str], &[&str])] = &[
        // Everything on two alike GPUs at the trained context (pipeline parallelism).
        ("qwen35-35b-a3b-q4km.gguf", &["--gpu", "2x3090"], &[]),
        // Three GPUs, one sequence.
        ("qwen35-35b-a3b-q4km.gguf", &["--gpu", "3x3060"], &["-np", "1"]),
        // Mixed GPUs: rebalanced -ts layer counts and routed experts on the CPU.
        ("qwen35-122b-a10b-q4km.gguf", &["--gpu", "rtx3060+rtx3090"], &["-c", "32768"]),
        // A dense model that needs -ngl below all layers.
        ("llama3-8b-q4km.gguf", &["--gpu", "2x3060", "--vram", "10GiB"], &["-c", "131072", "-fa", "off"]),
        ("gemma3-4b-q4km.gguf", &["--gpu", "rtx4090+rtx3060"], &["-c", "65536"]),
        ("gpt-oss-20b-mxfp4.gguf", &["--gpu", "3x3060"], &["-c", "131072", "-ot", r"blk\.1[0-9]\.ffn_up_exps=CPU"]),
    ];
    for (file, machine, extra) in cases {
        let f = fixture(file);
        let mut args = vec![f.to_str().unwrap(), "--ram", "128GiB"];
        args.extend_from_slice(machine);
        args.extend_from_slice(extra);
        let (doc, _) = fit_json(&args);
        let what = format!("{file} on {machine:?} {extra:?}");
        let p = &doc["plans"][0];
        assert_ne!(p["verdict"], "does_not_fit", "{what}");
        assert_eq!(p["compute_method"], "scheduler", "{what}");
        let n_gpus = doc["machine"]["devices"].as_array().unwrap().len();
        // The -ts the command carries; alike GPUs split evenly without one.
        let ts: Vec<String> = match p["tensor_split"].as_array() {
            Some(ts) => ts.iter().map(|v| v.to_string()).collect(),
            None => vec!["1".to_string(); n_gpus],
        };
        let ctx = p["ctx"].to_string();
        let (ngl, ncmoe) = (p["n_gpu_layers"].to_string(), p["n_cpu_moe"].to_string());
        let ts = ts.join(",");
        let mut fa = vec!["footprint", "--json", f.to_str().unwrap(), "-c", &ctx, "-ngl", &ngl, "-ts", &ts, "--n-cpu-moe", &ncmoe];
        // The other flags as given to fit; its -c is the planned context, passed above.
        let mut rest = extra.iter();
        while let Some(a) = rest.next() {
            if *a == "-c" {
                rest.next();
            } else {
                fa.push(a);
            }
        }
        let out = run(&fa);
        let fp: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{what}: {}", String::from_utf8_lossy(&out.stderr)));
        let placed = &fp["placement"];
        assert_eq!(placed["compute_method"], "scheduler", "{what}");
        let (ours, theirs) = (p["devices"].as_array().unwrap(), placed["devices"].as_array().unwrap());
        assert_eq!(ours.len(), n_gpus + 1, "{what}");
        assert_eq!(ours.len(), theirs.len(), "{what}");
        for (a, b) in ours.iter().zip(theirs) {
            for k in FIELDS {
                assert_eq!(a[k], b[k], "{what}: {} {k}", a["device"]);
            }
        }
        assert_eq!(p["gpu_bytes"], placed["gpu_bytes"], "{what}");
        assert_eq!(p["cpu_bytes"], placed["cpu_bytes"], "{what}");
        // The human report's total is the devices' sum.
        let compute: u64 = ours.iter().map(|d| d["compute_bytes"].as_u64().unwrap()).sum();
        assert_eq!(p["compute_bytes"].as_u64(), Some(compute), "{what}");
    }
}

fn load(path: &std::path::Path) -> (gguf_meter::model::Geometry, Vec<TensorEntry>) {
    let bytes = std::fs::read(path).unwrap();
    let file = GgufFile::from_bytes(path, &bytes).unwrap();
    let tensors: Vec<TensorEntry> = file.tensor_entries(0).collect();
    (analyze(&file.header, &tensors), tensors)
}

fn gpu(vram_bytes: u64) -> Gpu {
    Gpu { label: "GPU".into(), vram_bytes, bandwidth: 900_000_000_000, flops: 70_000_000_000_000, backend: Backend::Cuda, vector_only: false }
}

/// llama.cpp's compute buffer on `dev` (`GPU<n>` for `RPC<n>`, else the host).
fn their_compute(case: &Value, dev: &str) -> u64 {
    case["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| {
            let buft = row["buft"].as_str().unwrap();
            (if buft.starts_with("RPC") { buft.replacen("RPC", "GPU", 1) } else { "CPU".to_string() }) == dev
        })
        .map(|row| row["compute"].as_u64().unwrap())
        .sum()
}

/// Every recorded real load (llama.cpp's own node assignments, as llama-server reserves) whose
/// placement `fit` chooses on GPUs large enough: everything offloaded, split by memory.
#[test]
fn fit_chooses_llama_cpps_compute_buffers_where_it_was_recorded() {
    let mut checked = 0;
    let mut docs: Vec<_> = std::fs::read_dir(fixture("oracle"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("multi-tiny-"))
        .collect();
    docs.sort();
    for p in docs {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(doc["model"]["fixture"].as_str().unwrap());
        let (g, t) = load(&path);
        for case in doc["cases"].as_array().unwrap() {
            let s = &case["settings"];
            let id = format!("{}/{}", doc["id"].as_str().unwrap(), case["id"].as_str().unwrap());
            let plain = s["ngl"] == -1 && s["n_cpu_moe"] == 0 && s["ot"].as_array().unwrap().is_empty() && s["no_kv_offload"] == false;
            if !plain || s["load"] != "mmap" {
                continue;
            }
            // -ts 3,1 is what a 3:1 pair of GPUs gets by default.
            let n = case["devices"].as_array().unwrap().len();
            let shares: Vec<u64> = match s["ts"].as_str().unwrap() {
                "" => vec![1; n],
                ts => ts.split(',').map(|x| x.parse().unwrap()).collect(),
            };
            let m = Machine {
                gpus: shares.iter().map(|&k| gpu(k << 40)).collect(),
                ram_bytes: 1 << 40,
                cpu_bandwidth: 90_000_000_000,
                cpu_flops: 1_000_000_000_000,
                label: "test".into(),
            };
            let ty = |k: &str| GgmlType::from_name(s[k].as_str().unwrap()).unwrap();
            let settings = Settings {
                ctx: s["n_ctx"].as_u64(),
                parallel: s["n_seq_max"].as_u64(),
                cache_type_k: ty("type_k"),
                cache_type_v: ty("type_v"),
                flash_attn: if s["flash_attn"] == "on" { FlashAttn::On } else { FlashAttn::Off },
                ..Settings::default()
            };
            let plan = plan(&g, &t, &settings, &m, 0, &Overrides::default()).unwrap();
            assert_eq!(plan.verdict, Verdict::FitsFully, "{id}");
            assert_eq!(plan.split.compute_method, "scheduler", "{id}");
            for d in &plan.split.devices {
                assert_eq!(d.compute_bytes, their_compute(case, &d.device), "{id}: {} compute", d.device);
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} recorded placements checked");
}

/// `-sm none`: llama.cpp keeps the main GPU alone, so the plan is the one for that GPU by itself
/// and the command says so; `-sm row` and `-sm tensor` are refused in one line.
#[test]
fn split_mode_none_plans_the_main_gpu_alone_and_row_is_refused() {
    let f = fixture("qwen35-35b-a3b-q4km.gguf");
    let f = f.to_str().unwrap();
    let (none, _) = fit_json(&[f, "--gpu", "rtx3060+rtx4090", "--ram", "64GiB", "-c", "65536", "-sm", "none", "-mg", "1"]);
    let (alone, _) = fit_json(&[f, "--gpu", "rtx4090", "--ram", "64GiB", "-c", "65536"]);
    let (p, q) = (&none["plans"][0], &alone["plans"][0]);
    assert_eq!(p["devices"], q["devices"]);
    assert_eq!(p["verdict"], q["verdict"]);
    assert!(p["command"].as_str().unwrap().ends_with(" -sm none -mg 1"), "{}", p["command"]);
    // Both GPUs with -sm layer: a different plan.
    let (layer, _) = fit_json(&[f, "--gpu", "rtx3060+rtx4090", "--ram", "64GiB", "-c", "65536"]);
    assert_eq!(layer["plans"][0]["devices"].as_array().unwrap().len(), 3);
    // footprint: -ts plays no part with -sm none.
    let fp = |extra: &[&str]| -> Value {
        let mut a = vec!["footprint", "--json", f, "-c", "8192"];
        a.extend_from_slice(extra);
        serde_json::from_slice(&run(&a).stdout).unwrap()
    };
    assert_eq!(fp(&["-sm", "none", "-ts", "3,1"])["placement"]["devices"], fp(&["-ngl", "all"])["placement"]["devices"]);
    for mode in ["row", "tensor"] {
        let out = run(&["fit", f, "--gpu", "2x3090", "-sm", mode]);
        assert_eq!(out.status.code(), Some(2), "-sm {mode}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("-sm {mode}: not modelled")) && err.lines().count() == 1, "{err}");
    }
    let out = run(&["fit", f, "--gpu", "2x3090", "-sm", "none", "-mg", "2"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A placement given to `fit` (`-ngl`, `-ts`, `--no-kv-offload`) is checked as `footprint` splits it.
#[test]
fn a_given_placement_is_the_one_footprint_prints_no_kv_offload_included() {
    let f = fixture("llama3-8b-q4km.gguf");
    let f = f.to_str().unwrap();
    let placement = ["-c", "32768", "-ngl", "20", "-ts", "1,1", "--no-kv-offload"];
    let mut a = vec![f, "--gpu", "2x3090", "--ram", "64GiB"];
    a.extend_from_slice(&placement);
    let (doc, _) = fit_json(&a);
    let p = &doc["plans"][0];
    assert!(p["command"].as_str().unwrap().contains("--no-kv-offload"), "{}", p["command"]);
    let mut b = vec!["footprint", "--json", f];
    b.extend_from_slice(&placement);
    let fp: Value = serde_json::from_slice(&run(&b).stdout).unwrap();
    let (ours, theirs) = (p["devices"].as_array().unwrap(), fp["placement"]["devices"].as_array().unwrap());
    assert_eq!(ours.len(), theirs.len());
    for (x, y) in ours.iter().zip(theirs) {
        for k in FIELDS {
            assert_eq!(x[k], y[k], "{} {k}", x["device"]);
        }
    }
    assert!(ours[2]["kv_bytes"].as_u64().unwrap() > 0 && ours[0]["kv_bytes"] == 0, "the KV cache in host memory");
}
