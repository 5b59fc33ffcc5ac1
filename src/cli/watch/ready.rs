//! The moment the header is in: the inspect summary, the fit verdict (or footprint), and the
//! state of sibling shards, built from positioned reads only.

use super::super::fit::{machine, plan_row};
use super::super::footprint::footprints;
use super::super::loaded::Loaded;
use super::Args;
use crate::model::{analyze, summary::summarize};
use crate::read::download::{PENDING_SUFFIXES, pending, with_suffix};
use crate::read::growing::{GrowLimits, read_local};
use crate::read::{GgufFile, ReadError, ShardSet, open_model_from};
use crate::report::watch::{DownloadInfo, HeaderReady, ShardState};
use crate::report::{InspectView, fit as fit_report, footprint as fp_report, inspect_human, inspect_json};
use std::path::Path;

/// The header-ready event and its human text.
pub struct Ready {
    /// For `--json`.
    pub event: HeaderReady,
    /// For people.
    pub human: String,
}

/// Reads a sibling shard without mapping it; one whose header is not there yet is `None`.
#[allow(clippy::result_large_err)] // the read layer's error type, as `open_model_from` takes it
fn open_sibling(p: &Path) -> Result<Option<GgufFile>, ReadError> {
    match read_local(p, GrowLimits::default()) {
        Ok((f, _)) => Ok(Some(f)),
        Err(e) if e.is_incomplete() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The watched file and its siblings (a sibling that cannot be read is a warning here, not
/// an error: the watched file is what is being watched).
pub fn shard_set(file: &GgufFile) -> ShardSet {
    open_model_from(file.clone(), open_sibling).unwrap_or_else(|e| ShardSet {
        files: vec![file.clone()],
        missing: vec![],
        warnings: vec![format!("sibling shards not read: {e}")],
    })
}

/// Each shard's state; `watched` is the path being watched.
pub fn shard_states(set: &ShardSet, watched: &Path) -> Vec<ShardState> {
    if set.files.len() + set.missing.len() <= 1 {
        return vec![];
    }
    let mut out: Vec<ShardState> = set
        .files
        .iter()
        .map(|f| ShardState {
            path: f.path.display().to_string(),
            state: if f.path == watched {
                "watched"
            } else if f.is_complete() {
                "complete"
            } else {
                "partial"
            },
            file_bytes: Some(f.file_bytes),
            expected_bytes: Some(f.layout.expected_end),
        })
        .collect();
    for m in &set.missing {
        // A sibling on disk under a temporary name whose header did not parse yet.
        let on_disk = std::iter::once(m.clone())
            .chain(PENDING_SUFFIXES.iter().map(|(suffix, _)| with_suffix(m, suffix)))
            .find_map(|p| std::fs::metadata(&p).ok().filter(|md| md.is_file()).map(|md| (p, md.len())));
        out.push(match on_disk {
            Some((p, len)) => ShardState { path: p.display().to_string(), state: "header_pending", file_bytes: Some(len), expected_bytes: None },
            None => ShardState { path: m.display().to_string(), state: "missing", file_bytes: None, expected_bytes: None },
        });
    }
    out
}

/// Builds the header-ready report for `file` (read when it was `bytes` long).
pub fn header_ready(file: &GgufFile, bytes: u64, download: DownloadInfo, a: &Args) -> anyhow::Result<Ready> {
    let set = shard_set(file);
    let tensors = set.tensors();
    let geometry = analyze(set.metadata(), &tensors);
    let summary = summarize(&set, &tensors, &geometry);
    let view = InspectView { header: set.metadata(), tensors: &tensors, geometry: &geometry, summary: &summary, with_tensors: false, bytes_fetched: None };
    let mut human = inspect_human::render(&view);
    let shards = shard_states(&set, &file.path);
    human.push_str(&crate::report::watch_human::shards_text(&shards));
    let mut event = HeaderReady {
        file: file.path.display().to_string(),
        bytes,
        data_offset: file.header.data_offset,
        tensor_count: file.header.tensors.len() as u64,
        architecture: geometry.architecture.clone(),
        download,
        shards,
        summary: inspect_json::to_json(&view),
        fit: None,
        footprint: None,
        estimate_skipped: None,
    };
    let shown = file.path.display().to_string();
    let name = file.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let model = match Loaded::from_set(&shown, name, &set) {
        Ok(m) => m,
        Err(e) => {
            let why = format!("{e:#}");
            human.push_str(&format!("\nno estimate yet: {why}\n"));
            event.estimate_skipped = Some(why);
            return Ok(Ready { event, human });
        }
    };
    let settings = a.runtime.settings()?;
    let mut warnings = model.warnings();
    human.push('\n');
    if a.machine.given() {
        let m = machine(&a.machine, &mut warnings)?;
        // The command names the file as it will be called when the download is done.
        let run_path = pending(&file.path).map_or_else(|| file.path.clone(), |p| p.final_path);
        let rows = vec![plan_row(
            &model,
            &crate::read::Location::Local(run_path),
            &settings,
            &m,
            None,
            &Default::default(),
            &Default::default(),
            &Default::default(),
            &mut warnings,
        )?];
        let fv = fit_report::FitView { machine: &m, rows: &rows, best: fit_report::best(&rows), warnings: &warnings };
        human.push_str(&fit_report::render(&fv));
        event.fit = Some(fit_report::to_json(&fv));
    } else {
        let (main, growth) = footprints(&model, &settings, &Default::default())?;
        let fv = fp_report::FootprintView {
            name: &model.name,
            geometry: &model.geometry,
            main: &main,
            growth: &growth,
            complete: model.complete,
            warnings: &warnings,
        };
        human.push_str(&fp_report::render(&fv));
        event.footprint = Some(fp_report::to_json(&fv));
    }
    Ok(Ready { event, human })
}
