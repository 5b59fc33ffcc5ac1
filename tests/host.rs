//! With no `--gpu`/`--vram`/`--ram`, `fit` and `table` answer for this machine: RAM from
//! meminfo, GPUs from nvidia-smi, rocm-smi or sysfs. Fakes stand in for the machine: a meminfo
//! file (`GGUF_METER_MEMINFO`), a sysfs tree (`GGUF_METER_DRM`) and tool scripts on `PATH`.
#![cfg(unix)]

mod common;

use common::fixture;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

struct FakeMachine {
    dir: tempfile::TempDir,
}

impl FakeMachine {
    /// 64 GiB of RAM, 48 GiB available; no tools, no GPU in sysfs.
    fn new() -> FakeMachine {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        std::fs::create_dir_all(dir.path().join("drm")).unwrap();
        std::fs::write(dir.path().join("meminfo"), "MemTotal:       67108864 kB\nMemFree:         1048576 kB\nMemAvailable:   50331648 kB\n").unwrap();
        FakeMachine { dir }
    }

    fn tool(&self, name: &str, stdout: &str) {
        use std::os::unix::fs::PermissionsExt;
        let p = self.dir.path().join("bin").join(name);
        // PATH holds only the fakes: the script uses the shell's builtin printf.
        assert!(!stdout.contains('\''));
        std::fs::write(&p, format!("#!/bin/sh\nprintf '%s' '{stdout}'\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn amd_card(&self, n: u32, total: u64, used: u64) {
        let d = self.dir.path().join(format!("drm/card{n}/device"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("mem_info_vram_total"), format!("{total}\n")).unwrap();
        std::fs::write(d.join("mem_info_vram_used"), format!("{used}\n")).unwrap();
    }

    fn run(&self, args: &[&str]) -> (Value, i32) {
        let d = self.dir.path();
        let out = Command::new(env!("CARGO_BIN_EXE_gguf-meter"))
            .args(args)
            .env("PATH", d.join("bin"))
            .env("GGUF_METER_MEMINFO", d.join("meminfo"))
            .env("GGUF_METER_DRM", d.join("drm"))
            .output()
            .unwrap();
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{args:?}: {}", String::from_utf8_lossy(&out.stderr)));
        (doc, out.status.code().unwrap())
    }
}

fn model() -> String {
    fixture("qwen35-27b-q4km.gguf").to_str().unwrap().to_string()
}

#[test]
fn without_a_gpu_fit_plans_for_this_machines_available_ram() {
    let m = FakeMachine::new();
    let (doc, _) = m.run(&["fit", "--json", &model(), "-c", "8K"]);
    assert_eq!(doc["machine"]["gpus"], 0, "{doc}");
    assert_eq!(doc["machine"]["ram_bytes"], 48u64 << 30);
    assert_eq!(doc["detected"]["ram_total_bytes"], 64u64 << 30);
    assert!(
        doc["machine"]["label"].as_str().unwrap().contains("no GPU found (CPU only) + 48.00 GiB RAM available of 64.00 GiB (detected on this machine)"),
        "{doc}"
    );
    // --gpu/--ram describe another machine, as before.
    let (doc, _) = m.run(&["fit", "--json", &model(), "-c", "8K", "--gpu", "rtx4090", "--ram", "32GiB"]);
    assert!(doc.get("detected").is_none() && doc["machine"]["gpus"] == 1);
}

#[test]
fn an_nvidia_gpu_is_found_by_nvidia_smi_with_its_free_memory_and_catalog_bandwidth() {
    let m = FakeMachine::new();
    m.tool("nvidia-smi", "NVIDIA GeForce RTX 4090, 24564, 23012\nNVIDIA GeForce RTX 3060, 12288, 12000\n");
    let (doc, _) = m.run(&["fit", "--json", &model(), "-c", "8K"]);
    let devices = doc["machine"]["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2, "{doc}");
    assert_eq!((devices[0]["vram_bytes"].as_u64(), devices[0]["bandwidth"].as_u64()), (Some(23012 << 20), Some(1_008_000_000_000)));
    assert_eq!(devices[1]["vram_bytes"], 12000u64 << 20);
    assert_eq!(doc["detected"]["gpus"][0]["source"], "nvidia-smi");
    assert_eq!(doc["plans"][0]["verdict"], "fits_fully", "{doc}");
    // The same machine as a table column.
    let (t, _) = m.run(&["table", "--format", "json", &model(), "-c", "8K"]);
    assert!(t.to_string().contains("this machine") && t.to_string().contains("NVIDIA GeForce RTX 4090 (22.47 GiB free of 23.99 GiB, nvidia-smi)"), "{t}");
}

#[test]
fn an_amd_gpu_is_found_by_rocm_smi_or_else_in_sysfs() {
    let m = FakeMachine::new();
    m.amd_card(1, 17_163_091_968, 1_000_000_000);
    let (doc, _) = m.run(&["fit", "--json", &model(), "-c", "8K"]);
    assert_eq!(doc["detected"]["gpus"][0]["source"], "sysfs", "{doc}");
    assert_eq!(doc["machine"]["devices"][0]["vram_bytes"], 16_163_091_968u64);
    m.tool(
        "rocm-smi",
        r#"{"card0": {"Card series": "Radeon RX 7900 XTX", "VRAM Total Memory (B)": "25753026560", "VRAM Total Used Memory (B)": "753026560"}}"#,
    );
    let (doc, _) = m.run(&["fit", "--json", &model(), "-c", "8K"]);
    assert_eq!(doc["detected"]["gpus"].as_array().unwrap().len(), 1, "rocm-smi, not sysfs too: {doc}");
    assert_eq!((doc["detected"]["gpus"][0]["source"].as_str(), doc["machine"]["devices"][0]["vram_bytes"].as_u64()), (Some("rocm-smi"), Some(25_000_000_000)));
}

#[test]
fn a_broken_or_hanging_tool_is_no_gpu_not_an_error() {
    let m = FakeMachine::new();
    m.tool("nvidia-smi", "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.\n");
    let (doc, code) = m.run(&["fit", "--json", &model(), "-c", "8K"]);
    assert_eq!((doc["machine"]["gpus"].as_u64(), code), (Some(0), 3), "{doc}");
    assert!(Path::new(&model()).exists());
}

#[test]
fn check_must_fit_this_checks_the_gpus_found_here() {
    let m = FakeMachine::new();
    let must_fit = |doc: &Value| doc["models"][0]["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "must-fit");
    // No GPU here: nothing fits "entirely on the GPU".
    let (doc, _) = m.run(&["check", "--format", "json", &model(), "-c", "8K", "--must-fit", "this"]);
    assert!(doc["models"][0]["findings"].to_string().contains("not a GPU"), "{doc}");
    m.tool("nvidia-smi", "NVIDIA GeForce RTX 4090, 24564, 23012\n");
    let (doc, _) = m.run(&["check", "--format", "json", &model(), "-c", "8K", "--must-fit", "this"]);
    assert!(!must_fit(&doc), "17 GiB fits a 4090 with 22.5 GiB free: {doc}");
    m.tool("nvidia-smi", "NVIDIA GeForce RTX 4090, 24564, 8000\n");
    let (doc, _) = m.run(&["check", "--format", "json", &model(), "-c", "8K", "--must-fit", "this"]);
    assert!(must_fit(&doc), "not with 7.8 GiB free: {doc}");
}
