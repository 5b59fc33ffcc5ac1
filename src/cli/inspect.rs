//! `gguf-meter inspect`.

use crate::model::{analyze, summary::summarize};
use crate::report::{InspectView, inspect_human, inspect_json};
use crate::util::exit_code;
use std::path::PathBuf;

/// Arguments of `inspect`.
#[derive(clap::Args)]
pub struct Args {
    /// GGUF file: a whole model, any shard of a split model, or a partial download; a directory
    /// holding one model; an http(s):// URL or hf://owner/repo[/file.gguf] (only the header's
    /// bytes are fetched); or owner/repo:TAG / model:tag for a local copy.
    pub file: PathBuf,
    /// Also list every tensor (name, type, shape, bytes, offset, present).
    #[arg(long)]
    pub tensors: bool,
    /// Print JSON (schema in the README) instead of the human summary.
    #[arg(long)]
    pub json: bool,
}

/// Reads, analyses and prints; exit code 3 when any data is still missing.
pub fn run(a: Args) -> anyhow::Result<i32> {
    let opened = super::inputs::resolve_one(&a.file)?.open()?;
    let set = &opened.set;
    let tensors = set.tensors();
    let geometry = analyze(set.metadata(), &tensors);
    let summary = summarize(set, &tensors, &geometry);
    let view = InspectView {
        header: set.metadata(),
        tensors: &tensors,
        geometry: &geometry,
        summary: &summary,
        with_tensors: a.tensors,
        bytes_fetched: opened.bytes_fetched,
    };
    if a.json {
        super::out::println(&serde_json::to_string_pretty(&inspect_json::to_json(&view))?)?;
    } else {
        super::out::print(&inspect_human::render(&view))?;
    }
    Ok(if summary.complete { exit_code::OK } else { exit_code::INCOMPLETE })
}
