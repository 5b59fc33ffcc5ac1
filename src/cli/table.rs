//! `gguf-meter table`: what fits where, for every quant of a model, as a model-card table.

use super::loaded::Loaded;
use super::runtime::{OverrideArgs, SessionArgs};
use crate::estimate::Settings;
use crate::estimate::devices::{DeviceKind, parse_gpu};
use crate::estimate::fit::{Machine, command_line, plan};
use crate::estimate::machine::{DEFAULT_RAM, MachineRequest, build};
use crate::read::Location;
use crate::report::table::{self as report, Row, TableView};
use crate::util::exit_code;
use crate::util::units::gib;
use anyhow::{Context, bail};
use std::path::PathBuf;

/// Output formats of `table`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Plain text.
    Human,
    /// Markdown, for a model card.
    Markdown,
    /// One line per cell.
    Csv,
    /// JSON (schema in the README).
    Json,
}

/// Arguments of `table`.
#[derive(clap::Args)]
pub struct Args {
    /// Quants of one model: GGUF files or a directory (mmproj files are left out; split sets count once).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Devices, comma-separated catalog names (`gguf-meter gpus`), e.g. rtx3060,rtx4090,2x3090,rtx4090+rtx3090,m4max-128.
    #[arg(long, value_delimiter = ',', required = true)]
    pub gpus: Vec<String>,
    /// Contexts in tokens, comma-separated; K = 1024 (8K,32K,128K).
    #[arg(long = "ctx", value_delimiter = ',', default_value = "8192,32768,131072")]
    pub contexts: Vec<String>,
    /// System RAM beside each GPU (default 32 GiB; unified-memory devices use their own size).
    #[arg(long)]
    pub ram: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    #[command(flatten)]
    pub runtime: SessionArgs,
    #[command(flatten)]
    pub overrides: OverrideArgs,
}

fn context(s: &str) -> anyhow::Result<u64> {
    let t = s.trim();
    let (num, mult) = match t.strip_suffix(['K', 'k']) {
        Some(n) => (n, 1024),
        None => (t, 1),
    };
    let v: u64 = num.parse().with_context(|| format!("--ctx {s:?}: expected tokens such as 32768 or 32K"))?;
    if v == 0 {
        bail!("--ctx {s:?}: a context must be at least 1 token");
    }
    v.checked_mul(mult).with_context(|| format!("--ctx {s:?}: too large"))
}

/// Plans every quant on every device at every context and prints the matrix.
pub fn run(a: Args) -> anyhow::Result<i32> {
    let contexts = a.contexts.iter().map(|c| context(c)).collect::<anyhow::Result<Vec<u64>>>()?;
    let ram = a.ram.as_deref().map(|r| super::fit::size(r, "--ram")).transpose()?;
    let mut notes = Vec::new();
    let mut devices: Vec<(String, Machine)> = Vec::new();
    for name in &a.gpus {
        // `a+b` combines discrete GPUs only, so the first part tells the kind.
        let (_, spec) = parse_gpu(name.split('+').next().unwrap_or(name)).map_err(|e| anyhow::anyhow!("--gpus: {e}"))?;
        // Unified memory is the whole machine: its catalog size; --ram is for the discrete GPUs' hosts.
        let ram = if spec.kind == DeviceKind::Unified { None } else { Some(ram.unwrap_or(DEFAULT_RAM)) };
        let (m, _) = build(&MachineRequest { gpu: Some(name.clone()), ram, ..Default::default() }).map_err(|e| anyhow::anyhow!("--gpus: {e}"))?;
        devices.push((name.clone(), m));
    }
    if ram.is_none() {
        notes.push(format!("discrete GPUs are paired with {} of system RAM for partial offload (set --ram)", gib(DEFAULT_RAM)));
    }
    let base = a.runtime.settings(None)?;
    // A CUDA1 override needs every device of the table to have a second GPU.
    let fewest = devices.iter().map(|(_, m)| m.n_gpus()).min().unwrap_or(0);
    let ov = a.overrides.overrides(Some(fewest))?;
    let mut rows = Vec::new();
    let mut models: Vec<(String, Vec<String>)> = Vec::new();
    let mut locations = Vec::new();
    for arg in &a.files {
        let loc = Location::parse(arg)?;
        if loc.is_remote() {
            // hf://owner/repo lists the repo's quants; a URL is one model.
            let (models, listed_notes) = loc.models()?;
            notes.extend(listed_notes);
            locations.extend(models);
        } else {
            for p in super::files::expand(std::slice::from_ref(arg))? {
                locations.push(Location::parse(&p)?);
            }
        }
    }
    for loc in &locations {
        let model = match Loaded::open(loc) {
            Ok(m) => m,
            // A tokenizer file beside the quants (llama.cpp's ggml-vocab-*.gguf) is no quant.
            Err(e) if e.downcast_ref::<super::loaded::VocabOnly>().is_some() && locations.len() > 1 => {
                notes.push(format!("{loc}: vocab only (a tokenizer file, not a model), left out of the table"));
                continue;
            }
            Err(e) => return Err(e),
        };
        if model.geometry.vision.is_some() {
            notes.push(format!("{}: an mmproj (vision projector), left out of the table", model.name));
            continue;
        }
        let mut plans = Vec::new();
        let mut commands = Vec::new();
        for &ctx in &contexts {
            let s = Settings { ctx: Some(ctx), ..base.clone() };
            for (_, m) in &devices {
                let p = plan(&model.geometry, &model.tensors, &s, m, 0, &ov).with_context(|| format!("{}: no plan", model.name))?;
                commands.push(command_line(&super::fit::model_flag(loc), &p, &s, None, &ov));
                plans.push(p);
            }
        }
        let file_bytes = model.expected_bytes;
        rows.push(Row { file: model.name.clone(), file_bytes, bits_per_weight: model.bits_per_weight(), plans, commands });
        let line = report::geometry_line(&model.geometry);
        match models.iter_mut().find(|(l, _)| *l == line) {
            Some((_, files)) => files.push(model.name.clone()),
            None => models.push((line, vec![model.name.clone()])),
        }
    }
    if rows.is_empty() {
        bail!("no model files among the arguments (only mmproj or vocab-only files)");
    }
    rows.sort_by_key(|r| r.file_bytes);
    let view = TableView { models: &models, devices: &devices, contexts: &contexts, rows: &rows, notes: &notes };
    match a.format {
        Format::Human => print!("{}", report::render_human(&view)),
        Format::Markdown => print!("{}", report::render_markdown(&view)),
        Format::Csv => print!("{}", report::render_csv(&view)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report::to_json(&view))?),
    }
    Ok(exit_code::OK)
}
