//! `gguf-meter footprint`.

use super::loaded::Loaded;
use super::mmproj::MmprojArgs;
use super::runtime::{LoadArgs, OverrideArgs, RuntimeArgs};
use crate::estimate::overrides::weights_by_buffer;
use crate::estimate::{Footprint, Mmproj, Settings, footprint};
use crate::report::footprint as report;
use crate::util::exit_code;
use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `footprint`.
#[derive(clap::Args)]
pub struct Args {
    /// GGUF model: a file (any shard of a split model; a partial download works), an
    /// http(s):// URL, or hf://owner/repo[/file.gguf].
    pub file: PathBuf,
    #[command(flatten)]
    pub mmproj: MmprojArgs,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Print JSON (schema in the README).
    #[arg(long)]
    pub json: bool,
}

/// Computes the footprint at the chosen context and at 4K, 32K, 128K and the trained maximum.
pub fn run(a: Args) -> anyhow::Result<i32> {
    let model = Loaded::open(&super::inputs::resolve_one(&a.file)?)?;
    let mut settings = a.runtime.settings()?;
    a.load.apply(&mut settings);
    // No machine here: any GPU number is accepted.
    let ov = a.overrides.overrides(None)?;
    let mut warnings = model.warnings();
    let mmproj = a.mmproj.load(a.mmproj.location()?.as_ref(), settings.flash_attn, &mut warnings)?;
    // Estimate errors come from the file's geometry (e.g. its trained context): name it.
    let (main, growth) = footprints(&model, &settings, &mmproj).with_context(|| a.file.display().to_string())?;
    let view =
        report::FootprintView { name: &model.name, geometry: &model.geometry, main: &main, growth: &growth, complete: model.complete, warnings: &warnings };
    let buffers = (!ov.is_empty()).then(|| weights_by_buffer(&model.tensors, &model.geometry, &ov, settings.load_mtp));
    if a.json {
        let mut doc = report::to_json(&view);
        if let Some(b) = &buffers {
            doc["weights_by_buffer"] = serde_json::to_value(b)?;
        }
        super::out::println(&serde_json::to_string_pretty(&doc)?)?;
    } else {
        super::out::print(&report::render(&view))?;
        if let Some(b) = &buffers {
            super::out::print(&report::render_buffers(b))?;
        }
    }
    // As `inspect`: an estimate from a file still downloading is worth having, but not a success.
    Ok(if model.complete { exit_code::OK } else { exit_code::INCOMPLETE })
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
