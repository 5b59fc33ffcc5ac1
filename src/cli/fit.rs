//! `gguf-meter fit` and `gguf-meter gpus`.

use super::loaded::Loaded;
use super::mmproj::MmprojArgs;
use super::runtime::{OverrideArgs, RuntimeArgs};
use crate::estimate::devices::CATALOG;
use crate::estimate::fit::{Machine, Verdict, command_line, plan, speed_of};
use crate::estimate::machine::{MachineRequest, build};
use crate::estimate::overrides::Overrides;
use crate::estimate::{Mmproj, Settings};
use crate::read::Location;
use crate::report::fit as report;
use crate::util::exit_code;
use crate::util::units::{gib, parse_bytes};
use anyhow::{Context, bail};
use std::path::PathBuf;

/// Arguments of `fit`.
#[derive(clap::Args)]
pub struct Args {
    /// One or more GGUF files, http(s):// URLs or hf:// locations (quants of one model are
    /// ranked; the best that fits is named). hf://owner/repo ranks every quant in the repo.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub machine: MachineArgs,
    #[command(flatten)]
    pub mmproj: MmprojArgs,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The machine to fit, shared by `fit` and `watch`.
#[derive(clap::Args)]
pub struct MachineArgs {
    /// Device from the catalog (`gguf-meter gpus`), optionally with a count: rtx4090, 2x3090, m4max-128, ddr5-dual;
    /// different GPUs joined by '+' in device order: rtx4090+rtx3090.
    #[arg(long)]
    pub gpu: Option<String>,
    /// GPU memory of each GPU, e.g. 24GiB (overrides the catalog).
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
    /// llama.cpp backend of the GPUs for the speed estimate: cuda, rocm, vulkan, metal (default: the device's usual one).
    #[arg(long)]
    pub backend: Option<crate::estimate::speed::Backend>,
    /// Prompt length, in tokens, for the time-to-first-token estimate (default 4096).
    #[arg(long, value_name = "TOKENS")]
    pub prompt: Option<u64>,
}

impl MachineArgs {
    /// True when any machine flag was given (`watch` then shows a fit verdict).
    pub fn given(&self) -> bool {
        self.gpu.is_some() || self.vram.is_some() || self.ram.is_some()
    }
}

/// A size flag (`24GiB`, `64GB`, `8589934592`), with an error naming the flag.
pub(super) fn size(s: &str, flag: &str) -> anyhow::Result<u64> {
    parse_bytes(s).with_context(|| format!("{flag} {s:?}: expected a size such as 24GiB, 64GB or 8589934592"))
}

fn gbs(v: f64, flag: &str) -> anyhow::Result<u64> {
    if !(v.is_finite() && v > 0.0 && v < 1e6) {
        bail!("{flag} {v}: expected GB/s between 0 and 1,000,000");
    }
    Ok((v * 1e9) as u64)
}

/// The machine the flags describe; assumptions made are pushed to `warnings`.
pub fn machine(a: &MachineArgs, warnings: &mut Vec<String>) -> anyhow::Result<Machine> {
    let r = MachineRequest {
        gpu: a.gpu.clone(),
        vram: a.vram.as_deref().map(|v| size(v, "--vram")).transpose()?,
        ram: a.ram.as_deref().map(|r| size(r, "--ram")).transpose()?,
        bandwidth: a.bandwidth.map(|b| gbs(b, "--bandwidth")).transpose()?,
        cpu_bandwidth: a.cpu_bandwidth.map(|b| gbs(b, "--cpu-bandwidth")).transpose()?,
        backend: a.backend,
    };
    let (m, assumed) = build(&r).map_err(anyhow::Error::msg)?;
    warnings.extend(assumed);
    Ok(m)
}

/// Plans each file and prints the verdicts; exit code 0 when at least one fits, 1 when none does.
pub fn run(a: Args) -> anyhow::Result<i32> {
    let mut warnings = Vec::new();
    let m = machine(&a.machine, &mut warnings)?;
    let settings = a.runtime.settings()?;
    let ov = a.overrides.overrides(Some(m.n_gpus()))?;
    let mmproj = a.mmproj.location()?;
    let mm = a.mmproj.load(mmproj.as_ref(), settings.flash_attn, &mut warnings)?;
    let mut rows = Vec::new();
    let mut first_skip = None;
    for f in &a.files {
        let given = Location::parse(f)?;
        let (models, notes) = given.models()?;
        warnings.extend(notes);
        let listed = models.len() > 1 || models.first() != Some(&given);
        for loc in &models {
            let model = match Loaded::open(loc) {
                Ok(model) => model,
                // One unreadable quant of a listed repo does not stop the ranking of the others.
                Err(e) if listed => {
                    warnings.push(format!("skipped: {}", super::one_line(&e)));
                    first_skip.get_or_insert(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            warnings.extend(model.warnings());
            let mut row = plan_row(&model, loc, &settings, &m, mmproj.as_ref(), &mm, &ov)?;
            if let (Some(n), true) = (a.machine.prompt, row.plan.speed.is_some()) {
                row.plan.speed = speed_of(&model.geometry, &model.tensors, &row.plan, &m, n);
            }
            rows.push(row);
        }
    }
    if let (true, Some(e)) = (rows.is_empty(), first_skip) {
        return Err(e.context("no model could be read"));
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

/// Plans one model read from `loc` on machine `m` with the user's `-ot` overrides.
pub fn plan_row(
    model: &Loaded,
    loc: &Location,
    settings: &Settings,
    m: &Machine,
    mmproj: Option<&Location>,
    mm: &Mmproj,
    ov: &Overrides,
) -> anyhow::Result<report::Row> {
    let p = plan(&model.geometry, &model.tensors, settings, m, mm, ov).with_context(|| loc.to_string())?;
    let cmd = command_line(&model_flag(loc), &p, settings, mmproj.map(|l| mmproj_flag(l, mm)).as_deref(), ov);
    Ok(report::Row { file: model.name.clone(), bits_per_weight: model.bits_per_weight(), plan: p, command: cmd })
}

/// How llama-server is told where the model is.
pub(super) fn model_flag(loc: &Location) -> String {
    match loc {
        Location::Local(p) => format!("-m {}", p.display()),
        Location::Url(u) => format!("-mu {u}"),
        // llama-server's -hf reads the main branch; another revision is named by its URL.
        Location::Hf(r) if r.revision.is_some() => format!("-mu {}", loc.url().unwrap_or_default()),
        Location::Hf(r) => format!("-hf {} -hff {}", r.repo_id(), r.path),
    }
}

/// How llama-server is told where the vision projector is, and the mmproj flags that were planned for.
fn mmproj_flag(loc: &Location, mm: &Mmproj) -> String {
    let mut f = match loc.url() {
        None => format!("--mmproj {loc}"),
        Some(url) => format!("--mmproj-url {url}"),
    };
    if !mm.settings.offload {
        f += " --no-mmproj-offload";
    }
    if let Some(n) = mm.settings.image_max_tokens {
        f += &format!(" --image-max-tokens {n}");
    }
    f
}

/// `gpus`: the device catalog.
pub fn list(json: bool) -> anyhow::Result<i32> {
    if json {
        println!("{}", serde_json::to_string_pretty(CATALOG)?);
    } else {
        // One write, as the other commands do: a reader that stops early (`| head`) then gets
        // what fits in the pipe, and no later write fails.
        let mut o = format!("{:<16} {:<42} {:>10} {:>10} {:>11} {}\n", "name", "device", "memory", "GB/s", "FP16 TFLOPS", "backend");
        for d in CATALOG {
            let mem = if d.memory_bytes == 0 { "--ram".to_string() } else { gib(d.memory_bytes) };
            o += &format!(
                "{:<16} {:<42} {:>10} {:>10.1} {:>11.1} {}\n",
                d.name,
                d.label,
                mem,
                d.bandwidth as f64 / 1e9,
                d.flops as f64 / 1e12,
                d.backend.name()
            );
        }
        print!("{o}");
    }
    Ok(exit_code::OK)
}
