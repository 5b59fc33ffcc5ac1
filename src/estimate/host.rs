//! This machine: its system RAM and GPUs, as the OS and the vendors' tools report them, so that
//! `fit` and `table` answer for the machine they run on when no `--gpu`/`--ram` describes another.
//!
//! The probes are the only platform calls here, kept in [`detect`]; what they print is parsed
//! by plain functions tested on recorded outputs. Sources, in order:
//! - RAM: `/proc/meminfo` (`MemTotal`, `MemAvailable`); macOS: `sysctl -n hw.memsize`.
//! - NVIDIA: `nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits` (MiB).
//! - AMD: `rocm-smi --showproductname --showmeminfo vram --json`, else sysfs
//!   `/sys/class/drm/card*/device/mem_info_vram_total` and `mem_info_vram_used` (bytes).
//! - Apple Silicon: unified memory; the GPU may use [`UNIFIED_GPU_SHARE_PERCENT`] of it, as the catalog assumes.
//!
//! Plans use what is free now, as llama.cpp's `--fit` does: each GPU's free memory, and the RAM
//! the kernel says is available. For tests, `GGUF_METER_MEMINFO` names a file read instead of
//! `/proc/meminfo` and `GGUF_METER_DRM` a directory read instead of `/sys/class/drm`; the tools
//! are found on `PATH`.

use super::devices::{CATALOG, DeviceKind, UNIFIED_GPU_SHARE_PERCENT, find};
use super::machine::{DEFAULT_CPU_BANDWIDTH, DEFAULT_CPU_FLOPS, Gpu, Machine};
use super::speed::Backend;
use crate::util::units::gib;
use serde::Serialize;
#[cfg(feature = "platform")]
use std::path::{Path, PathBuf};
#[cfg(feature = "platform")]
use std::process::{Command, Stdio};
#[cfg(feature = "platform")]
use std::time::{Duration, Instant};

/// The device name (`check --must-fit this`) that means the machine the check runs on.
pub const THIS_MACHINE: &str = "this";

/// This machine as [`machine`] plans it, detected once per process.
pub fn this_machine() -> &'static Machine {
    static M: std::sync::OnceLock<Machine> = std::sync::OnceLock::new();
    M.get_or_init(|| machine(&detect(), None, None).0)
}

/// How long a vendor tool may take before it is given up on (a wedged driver can hang it).
#[cfg(feature = "platform")]
const TOOL_TIMEOUT: Duration = Duration::from_secs(10);

/// One GPU found on this machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostGpu {
    /// Its name as the tool reports it.
    pub name: String,
    /// Memory, bytes.
    pub total_bytes: u64,
    /// Free memory now, bytes, when the tool says.
    pub free_bytes: Option<u64>,
    /// Where this came from (`nvidia-smi`, `rocm-smi`, `sysfs`, `sysctl`).
    pub source: &'static str,
}

/// What was found on this machine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Host {
    /// System RAM, bytes (0 when it could not be read).
    pub ram_total_bytes: u64,
    /// RAM available now (`MemAvailable`), bytes, when known.
    pub ram_available_bytes: Option<u64>,
    /// Discrete GPUs in the order the tool lists them (CUDA's default order is nvidia-smi's
    /// when `CUDA_DEVICE_ORDER=PCI_BUS_ID`; otherwise fastest first, which usually matches).
    pub gpus: Vec<HostGpu>,
    /// Apple Silicon: one unified memory for CPU and GPU (the chip's name).
    pub unified: Option<String>,
    /// What could not be probed, for the report.
    pub notes: Vec<String>,
}

/// `MemTotal` and `MemAvailable` from `/proc/meminfo` text (values in kB).
pub fn parse_meminfo(text: &str) -> Option<(u64, Option<u64>)> {
    let field = |key: &str| {
        text.lines().find_map(|l| {
            let rest = l.strip_prefix(key)?.trim_start().strip_prefix(':')?;
            let kb: u64 = rest.split_whitespace().next()?.parse().ok()?;
            kb.checked_mul(1024)
        })
    };
    Some((field("MemTotal")?, field("MemAvailable")))
}

/// nvidia-smi's `name, memory.total, memory.free` CSV (MiB, no header, no units).
pub fn parse_nvidia_smi(text: &str) -> Vec<HostGpu> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.rsplitn(3, ',').map(str::trim);
            let free = f.next()?.parse::<u64>().ok();
            let total: u64 = f.next()?.parse().ok()?;
            let name = f.next()?.to_string();
            Some(HostGpu { name, total_bytes: total.checked_mul(1 << 20)?, free_bytes: free.and_then(|v| v.checked_mul(1 << 20)), source: "nvidia-smi" })
        })
        .collect()
}

/// rocm-smi's `--showproductname --showmeminfo vram --json`: one object per card with
/// `VRAM Total Memory (B)`, `VRAM Total Used Memory (B)` and `Card series` (or `Card SKU`).
pub fn parse_rocm_smi(text: &str) -> Vec<HostGpu> {
    let Ok(serde_json::Value::Object(cards)) = serde_json::from_str::<serde_json::Value>(text) else { return vec![] };
    let num = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str().and_then(|s| s.trim().parse::<u64>().ok()).or_else(|| v.as_u64()));
    let mut out: Vec<(String, HostGpu)> = cards
        .iter()
        .filter(|(k, _)| k.starts_with("card"))
        .filter_map(|(k, c)| {
            let total = num(c.get("VRAM Total Memory (B)"))?;
            let used = num(c.get("VRAM Total Used Memory (B)"));
            let name = ["Card series", "Card SKU", "Card model"].iter().find_map(|f| c.get(*f).and_then(|v| v.as_str())).unwrap_or("AMD GPU").to_string();
            Some((k.clone(), HostGpu { name, total_bytes: total, free_bytes: used.map(|u| total.saturating_sub(u)), source: "rocm-smi" }))
        })
        .collect();
    out.sort_by_key(|(k, _)| k[4..].parse::<u32>().unwrap_or(u32::MAX));
    out.into_iter().map(|(_, g)| g).collect()
}

/// AMD GPUs from sysfs: `cardN/device/mem_info_vram_total` (and `_used`) under `drm`.
#[cfg(feature = "platform")]
fn sysfs_amd(drm: &Path) -> Vec<HostGpu> {
    let Ok(entries) = std::fs::read_dir(drm) else { return vec![] };
    let mut cards: Vec<(u32, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n: u32 = name.strip_prefix("card")?.parse().ok()?;
            Some((n, e.path().join("device")))
        })
        .collect();
    cards.sort();
    let read = |p: PathBuf| std::fs::read_to_string(p).ok().and_then(|s| s.trim().parse::<u64>().ok());
    cards
        .into_iter()
        .filter_map(|(n, dev)| {
            let total = read(dev.join("mem_info_vram_total")).filter(|&t| t > 0)?;
            let used = read(dev.join("mem_info_vram_used"));
            let name = std::fs::read_to_string(dev.join("product_name")).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            Some(HostGpu {
                name: name.unwrap_or_else(|| format!("AMD GPU (card{n})")),
                total_bytes: total,
                free_bytes: used.map(|u| total.saturating_sub(u)),
                source: "sysfs",
            })
        })
        .collect()
}

/// Runs a tool found on `PATH`; its stdout when it exits 0 within [`TOOL_TIMEOUT`], else `None`
/// (absent, failing or hanging tools are normal: a machine without that vendor's GPU).
#[cfg(feature = "platform")]
fn tool(program: &str, args: &[&str]) -> Option<String> {
    let mut child = Command::new(program).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().ok()?;
    // Read while it runs: a tool writing more than a pipe holds would otherwise never exit.
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        // A vendor tool's report is a few kB; more is not one.
        std::io::Read::read_to_end(&mut std::io::Read::take(&mut stdout, 1 << 20), &mut out).map(|_| out)
    });
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let out = reader.join().ok()?.ok()?;
                return status.success().then(|| String::from_utf8_lossy(&out).into_owned());
            }
            Ok(None) if start.elapsed() < TOOL_TIMEOUT => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Probes this machine. Built without the `platform` feature, probes nothing and says so in
/// [`Host::notes`] (plans then need a described machine).
#[cfg(not(feature = "platform"))]
pub fn detect() -> Host {
    Host { notes: vec!["this machine is not probed (gguf-meter built without its `platform` feature)".into()], ..Host::default() }
}

/// Probes this machine.
#[cfg(feature = "platform")]
pub fn detect() -> Host {
    let mut h = Host::default();
    let meminfo = std::env::var_os("GGUF_METER_MEMINFO").map_or_else(|| PathBuf::from("/proc/meminfo"), PathBuf::from);
    match std::fs::read_to_string(&meminfo).ok().as_deref().and_then(parse_meminfo) {
        Some((total, available)) => (h.ram_total_bytes, h.ram_available_bytes) = (total, available),
        None => {
            if let Some(bytes) = tool("sysctl", &["-n", "hw.memsize"]).and_then(|s| s.trim().parse().ok()) {
                h.ram_total_bytes = bytes;
            } else {
                h.notes.push(format!("system RAM not found ({} unreadable, no sysctl hw.memsize)", meminfo.display()));
            }
        }
    }
    if cfg!(target_os = "macos") {
        let brand = tool("sysctl", &["-n", "machdep.cpu.brand_string"]).map(|s| s.trim().to_string());
        if let Some(chip) = brand.filter(|b| b.starts_with("Apple")) {
            h.unified = Some(chip);
            return h;
        }
    }
    let nvidia = "--query-gpu=name,memory.total,memory.free";
    h.gpus.extend(tool("nvidia-smi", &[nvidia, "--format=csv,noheader,nounits"]).map(|s| parse_nvidia_smi(&s)).unwrap_or_default());
    let amd = tool("rocm-smi", &["--showproductname", "--showmeminfo", "vram", "--json"]).map(|s| parse_rocm_smi(&s)).unwrap_or_default();
    if amd.is_empty() {
        let drm = std::env::var_os("GGUF_METER_DRM").map_or_else(|| PathBuf::from("/sys/class/drm"), PathBuf::from);
        h.gpus.extend(sysfs_amd(&drm));
    } else {
        h.gpus.extend(amd);
    }
    h
}

/// The catalog's entry for a GPU of this name and memory (`None` when the catalog does not
/// know it): the entry its name normalises to, or the one with its memory size (`rtx3080-12`).
fn catalog_spec(name: &str, total: u64) -> Option<&'static super::devices::DeviceSpec> {
    let gib_size = (total + (1 << 29)) >> 30;
    let near = |m: u64| m.abs_diff(total) <= total / 10;
    find(&format!("{name}-{gib_size}")).filter(|d| near(d.memory_bytes)).or_else(|| find(name).filter(|d| d.kind == DeviceKind::Gpu && near(d.memory_bytes)))
}

/// The machine to plan for: each GPU at its free memory (total when unknown), RAM at what is
/// available (total when unknown); bandwidths from the catalog where it knows the device.
/// Returns the machine and notes on what was assumed.
pub fn machine(h: &Host, bandwidth: Option<u64>, cpu_bandwidth: Option<u64>) -> (Machine, Vec<String>) {
    let mut notes = h.notes.clone();
    let ram = h.ram_available_bytes.unwrap_or(h.ram_total_bytes);
    let mut m = Machine {
        gpus: Vec::new(),
        ram_bytes: ram,
        cpu_bandwidth: cpu_bandwidth.unwrap_or(DEFAULT_CPU_BANDWIDTH),
        cpu_flops: DEFAULT_CPU_FLOPS,
        label: String::new(),
    };
    let ram_text = match h.ram_available_bytes {
        Some(a) => format!("{} RAM available of {}", gib(a), gib(h.ram_total_bytes)),
        None => format!("{} RAM", gib(h.ram_total_bytes)),
    };
    if let Some(chip) = &h.unified {
        // Unified memory: the catalog's entry for this chip and size, if any, gives the bandwidth.
        let spec = CATALOG.iter().find(|d| d.kind == DeviceKind::Unified && d.label.starts_with(chip.as_str()) && d.memory_bytes == h.ram_total_bytes);
        let spec = spec.or_else(|| CATALOG.iter().find(|d| d.kind == DeviceKind::Unified && d.label.starts_with(chip.as_str())));
        let bw = bandwidth.or(spec.map(|d| d.bandwidth)).unwrap_or(0);
        let vram = h.ram_total_bytes / 100 * UNIFIED_GPU_SHARE_PERCENT;
        let (flops, backend) = spec.map_or((0, Backend::Metal), |d| (d.flops, d.backend));
        m.gpus.push(Gpu { label: chip.clone(), vram_bytes: vram, bandwidth: bw, flops, backend, vector_only: false });
        m.ram_bytes = h.ram_total_bytes - vram;
        m.cpu_bandwidth = cpu_bandwidth.unwrap_or(if bw > 0 { bw } else { DEFAULT_CPU_BANDWIDTH });
        m.label = format!("{chip}, {} unified memory (GPU may use {UNIFIED_GPU_SHARE_PERCENT}%; detected on this machine)", gib(h.ram_total_bytes));
    } else {
        let mut parts = Vec::new();
        for g in &h.gpus {
            let spec = catalog_spec(&g.name, g.total_bytes);
            let bw = bandwidth.or(spec.map(|d| d.bandwidth)).unwrap_or(0);
            // The backend the vendor's GPUs usually run: CUDA for nvidia-smi's, ROCm for AMD's.
            let backend = spec.map_or(if g.source == "nvidia-smi" { Backend::Cuda } else { Backend::Rocm }, |d| d.backend);
            let vram = g.free_bytes.unwrap_or(g.total_bytes);
            m.gpus.push(Gpu {
                label: g.name.clone(),
                vram_bytes: vram,
                bandwidth: bw,
                flops: spec.map_or(0, |d| d.flops),
                backend,
                vector_only: spec.is_some_and(|d| d.vector_only),
            });
            parts.push(match g.free_bytes {
                Some(f) => format!("{} ({} free of {}, {})", g.name, gib(f), gib(g.total_bytes), g.source),
                None => format!("{} ({}, {})", g.name, gib(g.total_bytes), g.source),
            });
        }
        let gpus = if parts.is_empty() { "no GPU found (CPU only)".to_string() } else { parts.join(" + ") };
        m.label = format!("{gpus} + {ram_text} (detected on this machine)");
        if m.gpus.iter().any(|g| g.bandwidth == 0) {
            notes.push("GPU bandwidth unknown to the catalog: no speed bound (pass --bandwidth)".into());
        }
    }
    if cpu_bandwidth.is_none() && h.unified.is_none() {
        notes.push(format!("system RAM bandwidth assumed {:.1} GB/s (dual-channel DDR5-5600; pass --cpu-bandwidth)", DEFAULT_CPU_BANDWIDTH as f64 / 1e9));
    }
    (m, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_and_vendor_tools_parse() {
        let mi = "MemTotal:       65759220 kB\nMemFree:         1000 kB\nMemAvailable:   48000000 kB\n";
        assert_eq!(parse_meminfo(mi), Some((65759220 * 1024, Some(48000000 * 1024))));
        assert_eq!(parse_meminfo("MemTotal: 1024 kB\n"), Some((1 << 20, None)));
        assert_eq!(parse_meminfo("nothing"), None);
        let smi = "NVIDIA GeForce RTX 4090, 24564, 23012\nNVIDIA GeForce RTX 3060, 12288, [N/A]\ngarbage\n";
        let g = parse_nvidia_smi(smi);
        assert_eq!(g.len(), 2);
        assert_eq!((g[0].name.as_str(), g[0].total_bytes, g[0].free_bytes), ("NVIDIA GeForce RTX 4090", 24564 << 20, Some(23012 << 20)));
        assert_eq!(g[1].free_bytes, None);
        let rocm = r#"{"card1": {"Card series": "Radeon RX 7900 XTX", "VRAM Total Memory (B)": "25753026560", "VRAM Total Used Memory (B)": "753026560"},
                       "card0": {"VRAM Total Memory (B)": "8589934592"}, "system": {}}"#;
        let g = parse_rocm_smi(rocm);
        assert_eq!((g[0].name.as_str(), g[0].free_bytes), ("AMD GPU", None));
        assert_eq!((g[1].name.as_str(), g[1].free_bytes), ("Radeon RX 7900 XTX", Some(25_000_000_000)));
    }

    #[test]
    fn apple_silicon_is_unified_memory_with_the_catalogs_bandwidth() {
        let h = Host { ram_total_bytes: 128 << 30, unified: Some("Apple M4 Max".into()), ..Host::default() };
        let (m, _) = machine(&h, None, None);
        // 75% as the catalog's machines compute it (machine::build), to the byte.
        let vram = (128u64 << 30) / 100 * 75;
        assert_eq!((m.gpus.len(), m.gpus[0].vram_bytes, m.ram_bytes), (1, vram, (128 << 30) - vram));
        assert_eq!((m.gpus[0].bandwidth, m.cpu_bandwidth), (546_000_000_000, 546_000_000_000));
        assert!(m.label.starts_with("Apple M4 Max, 128.00 GiB unified memory"), "{}", m.label);
    }

    #[test]
    fn a_detected_4090_gets_the_catalog_bandwidth_and_plans_on_free_memory() {
        let h = Host {
            ram_total_bytes: 64 << 30,
            ram_available_bytes: Some(48 << 30),
            gpus: parse_nvidia_smi("NVIDIA GeForce RTX 4090, 24564, 23012\n"),
            ..Host::default()
        };
        let (m, _) = machine(&h, None, None);
        assert_eq!((m.gpus[0].vram_bytes, m.gpus[0].bandwidth, m.ram_bytes), (23012 << 20, 1_008_000_000_000, 48 << 30));
        assert_eq!(
            m.label,
            "NVIDIA GeForce RTX 4090 (22.47 GiB free of 23.99 GiB, nvidia-smi) + 48.00 GiB RAM available of 64.00 GiB (detected on this machine)"
        );
    }
}
