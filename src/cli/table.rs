//! `gguf-meter table`: what fits where, for every quant of a model, as a model-card table.

use super::loaded::Loaded;
use super::runtime::{OverrideArgs, SessionArgs};
use crate::estimate::Settings;
use crate::estimate::devices::{DeviceKind, parse_gpu};
use crate::estimate::fit::{Machine, command_line, plan};
use crate::estimate::machine::{DEFAULT_RAM, MachineRequest, build};
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
    /// Quants of one model: GGUF files, directories (searched below), URLs, hf:// locations or a
    /// local copy's owner/repo (mmproj files are left out; split sets count once).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Devices, comma-separated catalog names (`gguf-meter gpus`), e.g. rtx3060,rtx4090,2x3090,rtx4090+rtx3090,m4max-128
    /// (default: one column, this machine as detected, as `fit` does without --gpu).
    #[arg(long, value_delimiter = ',')]
    pub gpus: Vec<String>,
    /// Contexts in tokens, comma-separated; K = 1024 (8K,32K,128K).
    #[arg(short = 'c', long = "ctx-size", visible_alias = "ctx", value_name = "N,...", value_delimiter = ',', default_value = "8192,32768,131072", value_parser = context)]
    pub contexts: Vec<u64>,
    /// System RAM beside each GPU, e.g. 64GiB (default 32 GiB; unified-memory devices use their own size).
    #[arg(long, value_parser = super::runtime::size)]
    pub ram: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    #[command(flatten)]
    pub runtime: SessionArgs,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// The projector every cell carries (weights and compute buffer on the first GPU, as llama-server).
    #[command(flatten)]
    pub mmproj: super::mmproj::MmprojArgs,
}

fn context(s: &str) -> Result<u64, String> {
    match super::runtime::tokens(s)? {
        0 => Err(format!("{s:?}: a column needs a context of at least 1 token (llama.cpp's 0, the trained context, is a column of its own size: name it)")),
        v => Ok(v),
    }
}

/// Plans every quant on every device at every context and prints the matrix.
pub fn run(a: Args) -> anyhow::Result<i32> {
    let contexts = a.contexts.clone();
    let ram = a.ram;
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
    if a.gpus.is_empty() {
        let mut h = crate::estimate::host::detect();
        if let Some(r) = ram {
            // --ram replaces what was detected, in the plan and in the label.
            (h.ram_total_bytes, h.ram_available_bytes) = (r, None);
        }
        let (m, host_notes) = crate::estimate::host::machine(&h, None, None);
        notes.extend(host_notes);
        devices.push(("this machine".to_string(), m));
    } else if ram.is_none() {
        notes.push(format!("discrete GPUs are paired with {} of system RAM for partial offload (set --ram)", gib(DEFAULT_RAM)));
    }
    let base = a.runtime.settings(None)?;
    // A CUDA1 override needs every device of the table to have a second GPU.
    let fewest = devices.iter().map(|(_, m)| m.n_gpus()).min().unwrap_or(0);
    let ov = a.overrides.overrides(Some(fewest))?;
    let mut rows = Vec::new();
    let mut models: Vec<(String, Vec<String>)> = Vec::new();
    let inputs = super::inputs::resolve(&a.files)?;
    let mut incomplete = false;
    notes.extend(inputs.notes);
    let mm_loc = a.mmproj.location()?;
    let mm = a.mmproj.load(mm_loc.as_ref(), base.flash_attn, &mut notes)?;
    let mm_flag = mm_loc.as_ref().map(|l| super::fit::mmproj_flag(l, &mm));
    notes.extend(super::inputs::projector_note(&inputs.projectors, "the table", mm_loc.is_none()));
    for loc in &inputs.models {
        let mut model = match Loaded::open(loc) {
            Ok(m) => m,
            // A tokenizer file beside the quants (llama.cpp's ggml-vocab-*.gguf) is no quant.
            Err(e) if e.downcast_ref::<super::loaded::VocabOnly>().is_some() && inputs.models.len() > 1 => {
                notes.push(format!("{loc}: vocab only (a tokenizer file, not a model), left out of the table"));
                continue;
            }
            Err(e) => return Err(e),
        };
        if let crate::read::Location::Local(p) = loc
            && let Some(name) = inputs.names.get(p)
        {
            model.name = name.clone();
        }
        if model.geometry.vision.is_some() {
            notes.push(format!("{}: an mmproj (vision projector), left out of the table", model.name));
            continue;
        }
        let mut plans = Vec::new();
        let mut commands = Vec::new();
        for &ctx in &contexts {
            let s = Settings { ctx: Some(ctx), ..base.clone() };
            for (_, m) in &devices {
                let p = plan(&model.geometry, &model.tensors, &s, m, &mm, &ov).with_context(|| format!("{}: no plan", model.name))?;
                commands.push(command_line(&super::fit::model_flag(loc, &mut notes), &p, &s, mm_flag.as_deref(), &ov));
                plans.push(p);
            }
        }
        incomplete |= !model.complete;
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
        Format::Human => super::out::print(&report::render_human(&view))?,
        Format::Markdown => super::out::print(&report::render_markdown(&view))?,
        Format::Csv => super::out::print(&report::render_csv(&view))?,
        Format::Json => super::out::println(&serde_json::to_string_pretty(&report::to_json(&view))?)?,
    }
    // As `inspect`, `footprint` and `fit`: a download still in progress is exit 3.
    Ok(if incomplete { exit_code::INCOMPLETE } else { exit_code::OK })
}
