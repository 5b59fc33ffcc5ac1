//! `gguf-meter footprint`.

use super::runtime::RuntimeArgs;
use super::loaded::Loaded;
use crate::estimate::footprint;
use crate::report::footprint as report;
use crate::util::exit_code;
use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `footprint`.
#[derive(clap::Args)]
pub struct Args {
    /// GGUF model file (any shard of a split model; a partial download works).
    pub file: PathBuf,
    /// Vision projector (mmproj) loaded alongside.
    #[arg(long)]
    pub mmproj: Option<PathBuf>,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// Print JSON (schema in the README).
    #[arg(long)]
    pub json: bool,
}

/// Computes the footprint at the chosen context and at 4K, 32K, 128K and the trained maximum.
pub fn run(a: Args) -> anyhow::Result<i32> {
    let model = Loaded::open(&a.file)?;
    let mmproj_bytes = Loaded::mmproj_bytes(a.mmproj.as_deref())?;
    let settings = a.runtime.settings()?;
    // Estimate errors come from the file's geometry (e.g. its trained context): name it.
    let named = || a.file.display().to_string();
    let main = footprint(&model.geometry, &model.tensors, &settings, mmproj_bytes).with_context(named)?;
    let mut growth = Vec::new();
    for ctx in report::growth_contexts(model.geometry.context_length) {
        let s = crate::estimate::Settings { ctx: Some(ctx), ..settings.clone() };
        growth.push(footprint(&model.geometry, &model.tensors, &s, mmproj_bytes).with_context(named)?);
    }
    let mut warnings = model.warnings();
    if a.mmproj.is_some() {
        warnings.push("mmproj: weights counted; its image-encoding compute buffer is not estimated".into());
    }
    let view = report::FootprintView { name: &model.name, geometry: &model.geometry, main: &main, growth: &growth, complete: model.complete, warnings: &warnings };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report::to_json(&view))?);
    } else {
        print!("{}", report::render(&view));
    }
    Ok(exit_code::OK)
}
