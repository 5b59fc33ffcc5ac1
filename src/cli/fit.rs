//! `gguf-meter fit` and `gguf-meter gpus`.

use super::loaded::Loaded;
use super::runtime::RuntimeArgs;
use crate::estimate::devices::{parse_gpu, DeviceKind, CATALOG, UNIFIED_GPU_SHARE_PERCENT};
use crate::estimate::fit::{command_line, plan, Machine, Verdict};
use crate::report::fit as report;
use crate::util::exit_code;
use crate::util::units::{gib, parse_bytes};
use anyhow::{bail, Context};
use std::path::PathBuf;

/// RAM assumed when `--ram` is not given.
const DEFAULT_RAM: u64 = 32 << 30;
/// System RAM bandwidth assumed when not given: dual-channel DDR5-5600.
const DEFAULT_CPU_BANDWIDTH: u64 = 89_600_000_000;

/// Arguments of `fit`.
#[derive(clap::Args)]
pub struct Args {
    /// One or more GGUF files (quants of one model are ranked; the best that fits is named).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Device from the catalog (`gguf-meter gpus`), optionally with a count: rtx4090, 2x3090, m4max-128, ddr5-dual.
    #[arg(long)]
    pub gpu: Option<String>,
    /// GPU memory per device, e.g. 24GiB (overrides the catalog).
    #[arg(long)]
    pub vram: Option<String>,
    /// System RAM, e.g. 64GiB (default 32 GiB).
    #[arg(long)]
    pub ram: Option<String>,
    /// GPU memory bandwidth in GB/s (overrides the catalog).
    #[arg(long)]
    pub bandwidth: Option<f64>,
    /// System RAM bandwidth in GB/s (default 89.6: dual-channel DDR5-5600).
    #[arg(long)]
    pub cpu_bandwidth: Option<f64>,
    /// Vision projector (mmproj) to load as well.
    #[arg(long)]
    pub mmproj: Option<PathBuf>,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn size(s: &str, flag: &str) -> anyhow::Result<u64> {
    parse_bytes(s).with_context(|| format!("{flag} {s:?}: expected a size such as 24GiB, 64GB or 8589934592"))
}

fn gbs(v: f64, flag: &str) -> anyhow::Result<u64> {
    if !(v.is_finite() && v > 0.0 && v < 1e6) {
        bail!("{flag} {v}: expected GB/s between 0 and 1,000,000");
    }
    Ok((v * 1e9) as u64)
}

fn machine(a: &Args, warnings: &mut Vec<String>) -> anyhow::Result<Machine> {
    let ram = a.ram.as_deref().map(|r| size(r, "--ram")).transpose()?;
    let cpu_bw = a.cpu_bandwidth.map(|b| gbs(b, "--cpu-bandwidth")).transpose()?;
    let mut m = Machine { gpus: 0, vram_bytes: 0, gpu_bandwidth: 0, ram_bytes: 0, cpu_bandwidth: cpu_bw.unwrap_or(DEFAULT_CPU_BANDWIDTH), label: String::new() };
    match &a.gpu {
        Some(name) => {
            let (count, d) = parse_gpu(name).map_err(anyhow::Error::msg)?;
            match d.kind {
                DeviceKind::Gpu => {
                    m.gpus = count;
                    m.vram_bytes = d.memory_bytes;
                    m.gpu_bandwidth = d.bandwidth;
                    m.label = format!("{count}x {}", d.label);
                }
                DeviceKind::Unified => {
                    // The GPU may wire ~75% of unified memory; the rest is the CPU side.
                    let total = ram.unwrap_or(d.memory_bytes);
                    m.gpus = 1;
                    m.vram_bytes = total / 100 * UNIFIED_GPU_SHARE_PERCENT;
                    m.ram_bytes = total - m.vram_bytes;
                    m.gpu_bandwidth = d.bandwidth;
                    m.cpu_bandwidth = d.bandwidth;
                    m.label = format!("{} (GPU may use {}% of unified memory)", d.label, UNIFIED_GPU_SHARE_PERCENT);
                }
                DeviceKind::Cpu => {
                    m.cpu_bandwidth = cpu_bw.unwrap_or(d.bandwidth);
                    m.label = format!("CPU only, {}", d.label);
                }
            }
        }
        None if a.vram.is_some() => {
            m.gpus = 1;
            m.label = "1 GPU".into();
        }
        None => m.label = "CPU only".into(),
    }
    if let Some(v) = &a.vram {
        m.vram_bytes = size(v, "--vram")?;
        m.gpus = m.gpus.max(1);
    }
    if let Some(b) = a.bandwidth {
        m.gpu_bandwidth = gbs(b, "--bandwidth")?;
    }
    if m.ram_bytes == 0 {
        m.ram_bytes = ram.unwrap_or_else(|| {
            warnings.push(format!("system RAM not given: assuming {} (pass --ram)", gib(DEFAULT_RAM)));
            DEFAULT_RAM
        });
    }
    if m.gpus > 0 && m.gpu_bandwidth == 0 {
        warnings.push("GPU bandwidth unknown: no speed bound (pass --bandwidth)".into());
    }
    m.label = format!("{} + {} RAM", m.label, gib(m.ram_bytes));
    Ok(m)
}

/// Plans each file and prints the verdicts; exit code 0 when at least one fits, 1 when none does.
pub fn run(a: Args) -> anyhow::Result<i32> {
    let mut warnings = Vec::new();
    let m = machine(&a, &mut warnings)?;
    let settings = a.runtime.settings()?;
    let mmproj_bytes = Loaded::mmproj_bytes(a.mmproj.as_deref())?;
    let mut rows = Vec::new();
    for f in &a.files {
        let model = Loaded::open(f)?;
        let p = plan(&model.geometry, &model.tensors, &settings, &m, mmproj_bytes).with_context(|| f.display().to_string())?;
        let cmd = command_line(&f.display().to_string(), &p, &settings, a.mmproj.as_deref().map(|p| p.to_str().unwrap_or("mmproj.gguf")));
        let bits = if model.geometry.parameter_count == 0 { 0.0 } else { model.tensors.iter().map(|t| t.bytes as f64).sum::<f64>() * 8.0 / model.geometry.parameter_count as f64 };
        warnings.extend(model.warnings());
        rows.push(report::Row { file: model.name.clone(), bits_per_weight: bits, plan: p, command: cmd });
    }
    let best = report::best(&rows);
    let view = report::FitView { machine: &m, rows: &rows, best, warnings: &warnings };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report::to_json(&view))?);
    } else {
        print!("{}", report::render(&view));
    }
    let any_fits = rows.iter().any(|r| r.plan.verdict != Verdict::DoesNotFit);
    Ok(if any_fits { exit_code::OK } else { exit_code::RULE_FAILED })
}

/// `gpus`: the device catalog.
pub fn list(json: bool) -> anyhow::Result<i32> {
    if json {
        println!("{}", serde_json::to_string_pretty(CATALOG)?);
    } else {
        println!("{:<16} {:<42} {:>10} {:>10}", "name", "device", "memory", "GB/s");
        for d in CATALOG {
            let mem = if d.memory_bytes == 0 { "--ram".to_string() } else { gib(d.memory_bytes) };
            println!("{:<16} {:<42} {:>10} {:>10.1}", d.name, d.label, mem, d.bandwidth as f64 / 1e9);
        }
    }
    Ok(exit_code::OK)
}
