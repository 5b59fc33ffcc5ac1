//! `gguf-meter fit` and `gguf-meter gpus`.

use super::loaded::Loaded;
use super::runtime::RuntimeArgs;
use crate::estimate::devices::CATALOG;
use crate::estimate::machine::{build, MachineRequest};
use crate::estimate::fit::{command_line, plan, Machine, Verdict};
use crate::report::fit as report;
use crate::util::exit_code;
use crate::util::units::{gib, parse_bytes};
use anyhow::{bail, Context};
use std::path::PathBuf;

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

fn machine(a: &Args) -> anyhow::Result<(Machine, Vec<String>)> {
    let r = MachineRequest {
        gpu: a.gpu.clone(),
        vram: a.vram.as_deref().map(|v| size(v, "--vram")).transpose()?,
        ram: a.ram.as_deref().map(|r| size(r, "--ram")).transpose()?,
        bandwidth: a.bandwidth.map(|b| gbs(b, "--bandwidth")).transpose()?,
        cpu_bandwidth: a.cpu_bandwidth.map(|b| gbs(b, "--cpu-bandwidth")).transpose()?,
    };
    build(&r).map_err(anyhow::Error::msg)
}

/// Plans each file and prints the verdicts; exit code 0 when at least one fits, 1 when none does.
pub fn run(a: Args) -> anyhow::Result<i32> {
    let (m, mut warnings) = machine(&a)?;
    let settings = a.runtime.settings()?;
    let mmproj_bytes = Loaded::mmproj_bytes(a.mmproj.as_deref())?;
    let mut rows = Vec::new();
    for f in &a.files {
        let model = Loaded::open(f)?;
        let p = plan(&model.geometry, &model.tensors, &settings, &m, mmproj_bytes)?;
        let cmd = command_line(&f.display().to_string(), &p, &settings, a.mmproj.as_deref().map(|p| p.to_str().unwrap_or("mmproj.gguf")));
        let bits = model.bits_per_weight();
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
