//! `gguf-meter fit` and `gguf-meter gpus`.

use super::loaded::Loaded;
use super::mmproj::MmprojArgs;
use super::runtime::{OverrideArgs, PlacementArgs, RuntimeArgs};
use crate::estimate::devices::CATALOG;
use crate::estimate::fit::{Machine, Verdict, command_line, plan, plan_placed, speed_of};
use crate::estimate::host::{self, Host};
use crate::estimate::machine::{MachineRequest, build};
use crate::estimate::overrides::Overrides;
use crate::estimate::placement::all_layers;
use crate::estimate::{Mmproj, Settings};
use crate::read::Location;
use crate::report::fit as report;
use crate::util::exit_code;
use crate::util::units::gib;
use anyhow::{Context, bail};
use std::path::PathBuf;

/// Arguments of `fit`.
#[derive(clap::Args)]
pub struct Args {
    /// GGUF files, directories (searched below), http(s):// URLs, hf:// locations, or
    /// owner/repo[:TAG] / model:tag for a local copy. Quants of one model are ranked and the best
    /// that fits is named; split sets count once; mmproj files are left out (see --mmproj).
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
    #[command(flatten)]
    pub placement: PlacementArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The machine to fit, shared by `fit` and `watch`.
#[derive(clap::Args)]
pub struct MachineArgs {
    /// Device from the catalog (`gguf-meter gpus`), optionally with a count: rtx4090, 2x3090, m4max-128, ddr5-dual;
    /// different GPUs joined by '+' in device order: rtx4090+rtx3090. Default: this machine's GPUs and RAM,
    /// as nvidia-smi, rocm-smi (or sysfs), /proc/meminfo or sysctl report them (free memory now).
    #[arg(long)]
    pub gpu: Option<String>,
    /// GPU memory of each GPU, e.g. 24GiB (overrides the catalog).
    #[arg(long, value_parser = super::runtime::size)]
    pub vram: Option<u64>,
    /// System RAM, e.g. 64GiB (default: with no --gpu/--vram either, this machine's available RAM; else 32 GiB).
    #[arg(long, value_parser = super::runtime::size)]
    pub ram: Option<u64>,
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
        vram: a.vram,
        ram: a.ram,
        bandwidth: a.bandwidth.map(|b| gbs(b, "--bandwidth")).transpose()?,
        cpu_bandwidth: a.cpu_bandwidth.map(|b| gbs(b, "--cpu-bandwidth")).transpose()?,
        backend: a.backend,
    };
    let (m, assumed) = build(&r).map_err(anyhow::Error::msg)?;
    warnings.extend(assumed);
    Ok(m)
}

/// The machine the flags describe or, with none of `--gpu`, `--vram`, `--ram`, this machine as
/// detected (returned too, for the report).
pub fn machine_or_host(a: &MachineArgs, warnings: &mut Vec<String>) -> anyhow::Result<(Machine, Option<Host>)> {
    if a.given() {
        return Ok((machine(a, warnings)?, None));
    }
    let h = host::detect();
    let bw = |v: Option<f64>, flag| v.map(|b| gbs(b, flag)).transpose();
    let (m, notes) = host::machine(&h, bw(a.bandwidth, "--bandwidth")?, bw(a.cpu_bandwidth, "--cpu-bandwidth")?);
    warnings.extend(notes);
    Ok((m, Some(h)))
}

/// Plans each file and prints the verdicts; exit code 0 when at least one fits, 1 when none does.
pub fn run(a: Args) -> anyhow::Result<i32> {
    let mut warnings = Vec::new();
    let (mut m, detected) = machine_or_host(&a.machine, &mut warnings)?;
    let settings = a.runtime.settings()?;
    let single = a.placement.single_gpu()?;
    if let Some(g) = single {
        // llama.cpp keeps the main GPU alone among the devices (llama.cpp:289-301).
        let Some(gpu) = m.gpus.get(g as usize).cloned() else {
            bail!("-mg {g}: the machine has {} GPU(s) (numbered from 0)", m.gpus.len());
        };
        warnings.push(format!("-sm none: planned on GPU{g} alone ({}), shown as GPU0; the other GPUs hold nothing", gpu.label));
        m.gpus = vec![gpu];
    }
    let ov = a.overrides.overrides(Some(m.n_gpus()))?;
    warnings.extend(a.placement.notes());
    if let Some(ts) = a.placement.split()?
        && single.is_none()
        && ts.len() != m.gpus.len()
    {
        bail!("-ts gives {} proportions but the machine has {} GPU(s)", ts.len(), m.gpus.len());
    }
    let mmproj = a.mmproj.location()?;
    let mm = a.mmproj.load(mmproj.as_ref(), settings.flash_attn, &mut warnings)?;
    let inputs = super::inputs::resolve(&a.files)?;
    // A projector passed with --mmproj answers a listed repo's "pass one with --mmproj" note.
    warnings.extend(inputs.notes.into_iter().filter(|n| mmproj.is_none() || !n.contains("vision projector")));
    if inputs.models.is_empty() {
        bail!("{}: only vision projectors (mmproj) here; fit a model and pass the projector with --mmproj", names(&inputs.projectors));
    }
    warnings.extend(super::inputs::projector_note(&inputs.projectors, "the ranking", a.mmproj.mmproj.is_none()));
    // Several models (a directory, a listed repo): one that cannot be read does not stop the ranking of the others.
    let listed = inputs.models.len() > 1;
    let mut rows = Vec::new();
    let mut first_skip = None;
    let mut incomplete = false;
    for loc in &inputs.models {
        let mut model = match Loaded::open(loc) {
            Ok(model) => model,
            Err(e) if listed => {
                warnings.push(format!("skipped: {}", super::one_line(&e)));
                first_skip.get_or_insert(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Location::Local(p) = loc
            && let Some(name) = inputs.names.get(p)
        {
            model.name = name.clone();
        }
        if model.geometry.vision.is_some() {
            // A projector without `mmproj` in its name, found by its content.
            warnings.extend(super::inputs::projector_note(std::slice::from_ref(loc), "the ranking", a.mmproj.mmproj.is_none()));
            continue;
        }
        incomplete |= !model.complete;
        warnings.extend(model.warnings());
        if a.runtime.ctx == Some(0) {
            warnings.push(format!(
                "{}: -c 0 is llama.cpp's \"the model's trained context\" ({} tokens); fit, as llama.cpp's --fit does, chooses the context as when -c is not given",
                model.name, model.geometry.context_length
            ));
        }
        let mut row = plan_row(&model, loc, &settings, &m, mmproj.as_ref(), &mm, &ov, &a.placement, &mut warnings)?;
        if let (Some(n), true) = (a.machine.prompt, row.plan.speed.is_some()) {
            row.plan.speed = speed_of(&model.geometry, &model.tensors, &row.plan, &m, n);
        }
        rows.push(row);
    }
    if let (true, Some(e)) = (rows.is_empty(), first_skip) {
        return Err(e.context("no model could be read"));
    }
    if rows.is_empty() {
        bail!("{}: only vision projectors (mmproj) here; fit a model and pass the projector with --mmproj", names(&inputs.models));
    }
    let best = report::best(&rows);
    let view = report::FitView { machine: &m, rows: &rows, best, warnings: &warnings };
    if a.json {
        let mut doc = report::to_json(&view);
        if let Some(h) = &detected {
            doc["detected"] = serde_json::to_value(h)?;
        }
        super::out::println(&serde_json::to_string_pretty(&doc)?)?;
    } else {
        super::out::print(&report::render(&view))?;
    }
    let any_fits = rows.iter().any(|r| r.plan.verdict != Verdict::DoesNotFit);
    // None fits (1) over a download still incomplete (3), as `check` orders its outcomes.
    Ok(if !any_fits {
        exit_code::RULE_FAILED
    } else if incomplete {
        exit_code::INCOMPLETE
    } else {
        exit_code::OK
    })
}

fn names(locs: &[Location]) -> String {
    locs.iter().map(Location::to_string).collect::<Vec<_>>().join(", ")
}

/// Plans one model read from `loc` on machine `m` with the user's `-ot` overrides, searching a
/// placement unless `placed` gives one; notes on the command (a download not finished) go to `notes`.
#[allow(clippy::too_many_arguments)]
pub fn plan_row(
    model: &Loaded,
    loc: &Location,
    settings: &Settings,
    m: &Machine,
    mmproj: Option<&Location>,
    mm: &Mmproj,
    ov: &Overrides,
    placed: &PlacementArgs,
    notes: &mut Vec<String>,
) -> anyhow::Result<report::Row> {
    let (g, t) = (&model.geometry, &model.tensors);
    let single = placed.single_gpu()?;
    let p = if placed.given() {
        let o = placed.offload(if m.gpus.is_empty() { 0 } else { all_layers(g) }, g.n_layers);
        plan_placed(g, t, settings, m, mm.clone(), ov, o, if single.is_some() { None } else { placed.split()? }, !placed.no_kv_offload)
    } else {
        plan(g, t, settings, m, mm, ov)
    };
    let p = p.with_context(|| loc.to_string())?;
    let mut cmd = command_line(&model_flag(loc, notes), &p, settings, mmproj.map(|l| mmproj_flag(l, mm)).as_deref(), ov);
    if placed.no_kv_offload {
        cmd += " --no-kv-offload";
    }
    match single {
        Some(0) => cmd += " -sm none",
        Some(g) => cmd += &format!(" -sm none -mg {g}"),
        None => {}
    }
    Ok(report::Row { file: model.name.clone(), bits_per_weight: model.bits_per_weight(), plan: p, command: cmd })
}

/// How llama-server is told where the model is (notes: a download not finished).
pub(super) fn model_flag(loc: &Location, notes: &mut Vec<String>) -> String {
    match loc {
        Location::Local(p) => format!("-m {}", super::inputs::run_path(p, notes)),
        Location::Url(u) => format!("-mu {u}"),
        // ModelScope files and Ollama blobs are plain downloads for llama-server.
        Location::ModelScope(_) | Location::Ollama(_) => format!("-mu {}", loc.url().unwrap_or_default()),
        // llama-server's -hf reads the main branch; another revision is named by its URL.
        Location::Hf(r) if r.revision.is_some() => format!("-mu {}", loc.url().unwrap_or_default()),
        Location::Hf(r) => format!("-hf {} -hff {}", r.repo_id(), r.path),
    }
}

/// How llama-server is told where the vision projector is, and the mmproj flags that were planned for.
pub(super) fn mmproj_flag(loc: &Location, mm: &Mmproj) -> String {
    let mut f = match loc.url() {
        None => match loc {
            Location::Local(p) => format!("--mmproj {}", super::inputs::shell_path(p)),
            _ => format!("--mmproj {loc}"),
        },
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
        super::out::println(&serde_json::to_string_pretty(CATALOG)?)?;
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
        super::out::print(&o)?;
    }
    Ok(exit_code::OK)
}
