//! Several GPUs as separate devices, and `-ot` / `--override-tensor`, on the header-only fixtures.

mod common;
use common::{fit_json, fixture, run};
use gguf_meter::estimate::fit::{Gpu, Machine, plan};
use gguf_meter::estimate::overrides::Overrides;
use gguf_meter::estimate::placement::{Offload, Placer};
use gguf_meter::estimate::{Settings, footprint};
use gguf_meter::model::analyze;
use gguf_meter::read::{GgufFile, TensorEntry};
use serde_json::Value;

fn sum(p: &Value, key: &str, gpus_only: bool) -> u64 {
    let devs = p["devices"].as_array().unwrap();
    devs.iter().filter(|d| !gpus_only || d["device"] != "CPU").map(|d| d[key].as_u64().unwrap()).sum()
}

#[test]
fn per_device_bytes_add_up_to_the_totals_and_each_gpu_fits_its_own_card() {
    let f = fixture("qwen35-122b-a10b-q4km.gguf");
    for gpu in ["2x3090", "rtx4090+rtx3060", "3x4090"] {
        let (doc, _) = fit_json(&[f.to_str().unwrap(), "--gpu", gpu, "--ram", "96GiB", "-c", "65536"]);
        let p = &doc["plans"][0];
        let devs = p["devices"].as_array().unwrap();
        assert_eq!(devs.len(), doc["machine"]["devices"].as_array().unwrap().len() + 1, "{gpu}: GPUs then CPU");
        assert_eq!(sum(p, "total_bytes", true), p["gpu_bytes"].as_u64().unwrap(), "{gpu}");
        assert_eq!(devs.last().unwrap()["total_bytes"], p["cpu_bytes"], "{gpu}");
        assert_eq!(sum(p, "active_bytes_per_token", true), p["gpu_active_bytes_per_token"].as_u64().unwrap(), "{gpu}");
        // No tied output here, so no duplicated tensor: the devices hold the footprint exactly,
        // with the one-device compute buffer replaced by each device's share of the graph.
        let out = run(&["footprint", "--json", f.to_str().unwrap(), "-c", "65536"]);
        let fp: Value = serde_json::from_slice(&out.stdout).unwrap();
        let single = fp["compute_bytes"].as_u64().unwrap();
        assert_eq!(sum(p, "compute_bytes", false), p["compute_bytes"].as_u64().unwrap(), "{gpu}");
        assert_eq!(sum(p, "total_bytes", false) + single, p["total_bytes"].as_u64().unwrap() + sum(p, "compute_bytes", false), "{gpu}");
        let blocks: u64 = devs.iter().map(|d| d["blocks"].as_u64().unwrap()).sum();
        assert_eq!(blocks, 48, "{gpu}: every block somewhere");
        assert_eq!(devs.iter().filter(|d| d["output_layer"] == true).count(), 1);
        for d in devs {
            assert!(d["total_bytes"].as_u64().unwrap() <= d["capacity_bytes"].as_u64().unwrap(), "{gpu}: {d}");
        }
    }
}

#[test]
fn a_model_that_fits_the_pool_but_not_each_card_is_not_a_full_fit() {
    // 32 cards of 2 GiB: 32 GiB usable in sum, far more than Qwen3.5-27B at 4K needs, but each
    // card keeps 1 GiB after the margin, less than the output layer plus a compute buffer.
    let f = fixture("qwen35-27b-q4km.gguf");
    let (doc, _) = fit_json(&[f.to_str().unwrap(), "--gpu", "32x4090", "--vram", "2GiB", "--ram", "64GiB", "-c", "4096"]);
    let p = &doc["plans"][0];
    assert!(p["total_bytes"].as_u64().unwrap() < p["gpu_capacity_bytes"].as_u64().unwrap(), "the pool would hold it");
    assert_ne!(p["verdict"], "fits_fully");
    assert!(p["devices"].as_array().unwrap().iter().all(|d| d["total_bytes"].as_u64().unwrap() <= d["capacity_bytes"].as_u64().unwrap()));
    // The same model on two 24 GiB cards fits fully, split in two.
    let (doc, code) = fit_json(&[f.to_str().unwrap(), "--gpu", "2x3090", "--ram", "64GiB", "-c", "4096"]);
    assert_eq!((code, doc["plans"][0]["verdict"].as_str()), (3, Some("fits_fully")));
    assert!(doc["plans"][0]["devices"][1]["blocks"].as_u64().unwrap() > 0);
}

#[test]
fn mixed_gpus_get_a_tensor_split_and_the_flags_in_the_command() {
    let f = fixture("qwen35-35b-a3b-q4km.gguf");
    let (doc, code) = fit_json(&[f.to_str().unwrap(), "--gpu", "rtx4090+rtx3060", "--ram", "64GiB", "-c", "32768", "-ot", r"blk\.3[0-9]\.ffn_up_exps=CPU"]);
    assert_eq!(code, 3, "a header-only fixture is a download just started");
    let p = &doc["plans"][0];
    let cmd = p["command"].as_str().unwrap();
    let ts = p["tensor_split"].as_array().unwrap();
    assert_eq!(ts.len(), 2);
    assert!(cmd.contains(&format!("-ts {},{}", ts[0], ts[1])), "{cmd}");
    assert!(cmd.contains(r"-ot 'blk\.3[0-9]\.ffn_up_exps=CPU'"), "{cmd}");
    assert_eq!(doc["machine"]["gpus"], 2);
}

fn load(name: &str) -> (gguf_meter::model::Geometry, Vec<TensorEntry>) {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let file = GgufFile::from_bytes(&fixture(name), &bytes).unwrap();
    let tensors: Vec<TensorEntry> = file.tensor_entries(0).collect();
    (analyze(&file.header, &tensors), tensors)
}

#[test]
fn ot_exps_to_cpu_is_cpu_moe_byte_for_byte_and_first_match_wins() {
    let (g, t) = load("qwen35-35b-a3b-q4km.gguf");
    let fp = footprint(&g, &t, &Settings { ctx: Some(32768), ..Settings::default() }, 0).unwrap();
    let all = g.layers.len() as u32 + 1;
    let none = Overrides::default();
    let cpu_moe = Placer::new(&g, &t, &none, &[1, 1]).split(&fp, Offload { n_gpu_layers: all, n_cpu_moe: g.n_layers });
    for pattern in ["exps=CPU", r"\.ffn_(up|down|gate|gate_up)_(ch|)exps=CPU"] {
        let ov = Overrides::parse(&[pattern.into()], Some(2)).unwrap();
        let by_ot = Placer::new(&g, &t, &ov, &[1, 1]).split(&fp, Offload { n_gpu_layers: all, n_cpu_moe: 0 });
        assert_eq!(by_ot.devices, cpu_moe.devices, "{pattern}");
    }
    // First match wins: block 0's experts go to GPU1 although `exps=CPU` matches them too.
    let ov = Overrides::parse(&[r"blk\.0\.ffn_.*exps=CUDA1,exps=CPU".into()], Some(2)).unwrap();
    let first = Placer::new(&g, &t, &ov, &[1, 1]).split(&fp, Offload { n_gpu_layers: all, n_cpu_moe: 0 });
    let block0: u64 = t.iter().filter(|x| x.name.starts_with("blk.0.") && x.name.contains("exps")).map(|x| x.bytes.div_ceil(32) * 32).sum();
    assert!(block0 > 0);
    assert_eq!(first.devices[1].weights_bytes, cpu_moe.devices[1].weights_bytes + block0);
    assert_eq!(first.devices[2].weights_bytes, cpu_moe.devices[2].weights_bytes - block0);
    // The reverse order sends them to the CPU with the rest.
    let ov = Overrides::parse(&["exps=CPU".into(), r"blk\.0\.ffn_.*exps=CUDA1".into()], Some(2)).unwrap();
    assert_eq!(Placer::new(&g, &t, &ov, &[1, 1]).split(&fp, Offload { n_gpu_layers: all, n_cpu_moe: 0 }).devices, cpu_moe.devices);
    // A plan with the override still fits the machine, with the override's bytes in RAM.
    let m = Machine {
        gpus: vec![
            Gpu {
                label: "g".into(),
                vram_bytes: 12 << 30,
                bandwidth: 1,
                flops: 1,
                backend: gguf_meter::estimate::speed::Backend::Cuda,
                vector_only: false
            };
            2
        ],
        ram_bytes: 64 << 30,
        cpu_bandwidth: 1,
        cpu_flops: 1,
        label: "m".into(),
    };
    let p = plan(&g, &t, &Settings { ctx: Some(32768), ..Settings::default() }, &m, 0, &Overrides::parse(&["exps=CPU".into()], Some(2)).unwrap()).unwrap();
    assert!(p.split.cpu_bytes >= cpu_moe.cpu_bytes);
}

#[test]
fn bad_overrides_and_gpu_lists_are_one_line_usage_errors() {
    let f = fixture("qwen35-35b-a3b-q4km.gguf");
    let f = f.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["fit", f, "--gpu", "rtx4090", "-ot", "(?<=blk)exps=CPU"], "(?<=blk)exps"),
        (&["fit", f, "--gpu", "rtx4090", "-ot", r"(a)\1=CPU"], r"(a)\\1"),
        (&["fit", f, "--gpu", "rtx4090", "-ot", "exps=CUDA1"], "CUDA1"),
        (&["fit", f, "--gpu", "rtx4090", "-ot", "exps=GPU"], "GPU"),
        (&["footprint", f, "-ot", "exps"], "PATTERN=BUFFER"),
        (&["fit", f, "--gpu", "rtx4090+m4max-128"], "only discrete GPUs"),
    ];
    for (args, needle) in cases {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn footprint_shows_the_weights_each_override_moves() {
    let f = fixture("qwen35-35b-a3b-q4km.gguf");
    let out = run(&["footprint", "--json", f.to_str().unwrap(), "-c", "8192", "-ot", r"blk\.1[0-9]\.ffn=CUDA1", "-ot", "exps=CPU"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let b = doc["weights_by_buffer"].as_array().unwrap();
    let total: u64 = b.iter().map(|x| x["weights_bytes"].as_u64().unwrap()).sum();
    assert_eq!(total, doc["weights_bytes"].as_u64().unwrap());
    let names: Vec<&str> = b.iter().map(|x| x["buffer"].as_str().unwrap()).collect();
    assert_eq!(names, ["CUDA1", "CPU", "layers", "input"]);
    let plain = run(&["footprint", "--json", f.to_str().unwrap(), "-c", "8192"]);
    let plain: Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(plain.get("weights_by_buffer").is_none());
    assert_eq!(plain["total_bytes"], doc["total_bytes"], "overrides move bytes, they do not add any");
}
