//! `gguf-meter footprint`.

use super::loaded::Loaded;
use super::mmproj::MmprojArgs;
use super::runtime::{LoadArgs, OverrideArgs, PlacementArgs, RuntimeArgs};
use crate::estimate::fit::{DEFAULT_PROMPT, all_on_gpu};
use crate::estimate::machine::{MachineRequest, build};
use crate::estimate::overrides::weights_by_buffer;
use crate::estimate::placement::{Placer, all_layers};
use crate::estimate::speed::{self, SpeedEstimate};
use crate::estimate::{Footprint, Mmproj, Settings, footprint};
use crate::report::footprint as report;
use crate::util::exit_code;
use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `footprint`.
#[derive(clap::Args)]
pub struct Args {
    /// GGUF model: a file (any shard of a split model; a partial download works), a directory
    /// holding one model, an http(s):// URL, hf://owner/repo[/file.gguf], or owner/repo:TAG /
    /// model:tag for a local copy.
    pub file: PathBuf,
    #[command(flatten)]
    pub mmproj: MmprojArgs,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    #[command(flatten)]
    pub placement: PlacementArgs,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Print JSON (schema in the README).
    #[arg(long)]
    pub json: bool,
    /// Also estimate speed with every layer on this catalog device (rtx4090, m4max-128, 2x3090, ddr5-dual), fit or not.
    #[arg(long)]
    pub gpu: Option<String>,
    /// llama.cpp backend for that estimate: cuda, rocm, vulkan, metal (default: the device's usual one).
    #[arg(long, requires = "gpu")]
    pub backend: Option<crate::estimate::speed::Backend>,
    /// Prompt length, in tokens, for the time-to-first-token estimate (default 4096).
    #[arg(long, value_name = "TOKENS", requires = "gpu")]
    pub prompt: Option<u64>,
}

/// The speed estimate with every layer of `model` on `gpu` (`footprint --gpu`), and the device's label.
fn speed_on(
    model: &Loaded,
    fp: &Footprint,
    gpu: &str,
    backend: Option<crate::estimate::speed::Backend>,
    prompt: u64,
) -> anyhow::Result<Option<(String, SpeedEstimate)>> {
    let r = MachineRequest { gpu: Some(gpu.to_string()), ram: Some(u64::MAX / 4), backend, ..Default::default() };
    let (m, _) = build(&r).map_err(|e| anyhow::anyhow!("--gpu: {e}"))?;
    let split = all_on_gpu(&model.geometry, &model.tensors, fp, &m);
    let w = speed::workload_for(&model.geometry, &model.tensors, fp, &split, &m, None);
    let label = m.label.split(" + ").next().unwrap_or_default().to_string();
    Ok(w.and_then(|w| speed::estimate(&w, prompt, fp.resolved.n_ubatch, &speed::CALIBRATED)).map(|e| (label, e)))
}

/// Computes the footprint at the chosen context and at 4K, 32K, 128K and the trained maximum.
pub fn run(a: Args) -> anyhow::Result<i32> {
    let model = Loaded::open(&super::inputs::resolve_one(&a.file)?)?;
    let mut settings = a.runtime.settings()?;
    a.load.apply(&mut settings);
    // No machine here: any GPU number is accepted.
    let ov = a.overrides.overrides(None)?;
    let mut warnings = model.warnings();
    warnings.extend(super::runtime::ctx_zero_note(a.runtime.ctx, model.geometry.context_length));
    warnings.extend(a.placement.notes());
    let mmproj = a.mmproj.load(a.mmproj.location()?.as_ref(), settings.flash_attn, &mut warnings)?;
    // Estimate errors come from the file's geometry (e.g. its trained context): name it.
    let (main, growth) = footprints(&model, &settings, &mmproj).with_context(|| a.file.display().to_string())?;
    warnings.extend(crate::estimate::footprint::llama_cpp_aborts(&model.geometry, &main.resolved));
    let view =
        report::FootprintView { name: &model.name, geometry: &model.geometry, main: &main, growth: &growth, complete: model.complete, warnings: &warnings };
    let buffers = (!ov.is_empty()).then(|| weights_by_buffer(&model.tensors, &model.geometry, &ov, settings.load_mtp));
    // With -ngl / -ts / --n-cpu-moe, where each byte goes: as many GPUs as -ts names (else one).
    // -sm none: the main GPU alone, whatever -ts says.
    let single = a.placement.single_gpu()?;
    let ts = if single.is_some() { None } else { a.placement.split()? };
    let placed = (a.placement.given() || single.is_some()).then(|| {
        let split = ts.clone().unwrap_or_else(|| vec![1]);
        let o = a.placement.offload(all_layers(&model.geometry), model.geometry.n_layers);
        Placer::new(&model.geometry, &model.tensors, &ov, &split).kv_offload(!a.placement.no_kv_offload).scheduled(true).split(&main, o)
    });
    let speed = match &a.gpu {
        Some(g) => speed_on(&model, &main, g, a.backend, a.prompt.unwrap_or(DEFAULT_PROMPT))?,
        None => None,
    };
    if a.json {
        let mut doc = report::to_json(&view);
        if let Some(b) = &buffers {
            doc["weights_by_buffer"] = serde_json::to_value(b)?;
        }
        if let Some(sp) = &placed {
            doc["placement"] = report::placement_json(sp, ts.as_deref());
        }
        if a.gpu.is_some() {
            doc["speed"] = crate::report::fit::speed_json(speed.as_ref().map(|(_, s)| s));
            doc["speed"]["device"] = serde_json::json!(speed.as_ref().map(|(d, _)| d));
        }
        super::out::println(&serde_json::to_string_pretty(&doc)?)?;
    } else {
        let mut text = report::render(&view);
        if let Some(b) = &buffers {
            text += &report::render_buffers(b);
        }
        if let Some(sp) = &placed {
            let ts = if single.is_some() { &[][..] } else { &a.placement.tensor_split[..] };
            let mut flags = placement_flags(sp, ts, a.placement.no_kv_offload);
            if let Some(g) = single {
                flags += &format!(" -sm none -mg {g}");
            }
            text += &report::render_placement(sp, &flags);
        }
        if let Some((device, s)) = &speed {
            text += &format!("\n  with every layer on {device} (whether or not it fits; `fit` checks):\n{}", crate::report::fit::speed_lines(s));
        }
        super::out::print(&text)?;
    }
    // As `inspect`: an estimate from a file still downloading is worth having, but not a success.
    Ok(if model.complete { exit_code::OK } else { exit_code::INCOMPLETE })
}

/// `-ngl 20 -ts 3,1 --n-cpu-moe 4`, as the placement was resolved.
fn placement_flags(sp: &crate::estimate::placement::Split, ts: &[f64], no_kv_offload: bool) -> String {
    let mut f = format!("-ngl {}", sp.offload.n_gpu_layers);
    if !ts.is_empty() {
        f += &format!(" -ts {}", ts.iter().map(f64::to_string).collect::<Vec<_>>().join(","));
    }
    if sp.offload.n_cpu_moe > 0 {
        f += &format!(" --n-cpu-moe {}", sp.offload.n_cpu_moe);
    }
    if no_kv_offload {
        f += " --no-kv-offload";
    }
    f
}

/// The footprint at `settings` and at each growth context (4K, 32K, 128K, trained maximum).
pub fn footprints(model: &Loaded, settings: &Settings, mmproj: &Mmproj) -> anyhow::Result<(Footprint, Vec<Footprint>)> {
    let main = footprint(&model.geometry, &model.tensors, settings, mmproj)?;
    let mut growth = Vec::new();
    for ctx in report::growth_contexts(model.geometry.context_length) {
        let s = Settings { ctx: Some(ctx), ..settings.clone() };
        growth.push(footprint(&model.geometry, &model.tensors, &s, mmproj)?);
    }
    Ok((main, growth))
}
