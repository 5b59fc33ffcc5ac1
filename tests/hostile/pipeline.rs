//! One input through everything the commands do with a file's bytes: read -> model ->
//! estimate (footprint at several settings, fit) -> report (human and JSON). Shared by the
//! mutation tests and the `cargo fuzz` target (`fuzz/`, which includes this file by path).
//!
//! A panic propagates (the caller catches it); a broken invariant that is not a panic is
//! returned as `Err`.

use gguf_meter::estimate::fit::{Gpu, Machine, command_line, plan};
use gguf_meter::estimate::overrides::Overrides;
use gguf_meter::estimate::{FlashAttn, Settings, footprint};
use gguf_meter::model::{analyze, summary::summarize};
use gguf_meter::read::{GgmlType, GgufFile, ReadError, ShardSet};
use gguf_meter::report::{self, InspectView, inspect_human, inspect_json};
use std::path::Path;

/// How an input ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Parsed and estimated.
    Estimated,
    /// Parsed; the estimate refused the geometry (implausible, unknown state size, ...).
    Refused,
    /// The read layer reported it short (exit 3).
    Incomplete,
    /// The read layer reported it malformed (exit 2).
    Malformed,
}

/// Checks what a read error says: one line, the file's name, a byte offset within the input.
fn check_error(e: &ReadError, len: usize) -> Result<Outcome, String> {
    let msg = e.to_string();
    let off = e.offset().ok_or_else(|| format!("error without an offset: {msg}"))?;
    if off > len as u64 {
        return Err(format!("offset {off} beyond a {len}-byte input: {msg}"));
    }
    if !msg.starts_with("m.gguf: ") || !msg.contains(&format!("byte {off}")) || msg.contains('\n') {
        return Err(format!("error is not one line naming the file and byte {off}: {msg}"));
    }
    Ok(if e.is_incomplete() { Outcome::Incomplete } else { Outcome::Malformed })
}

/// Runs `input` through the pipeline; `with_fit` adds `fit`'s search (dozens of footprints,
/// the slowest stage by far, so the mutation suite runs it on a share of its inputs).
pub fn run(input: &[u8], with_fit: bool) -> Result<Outcome, String> {
    let file = match GgufFile::from_bytes(Path::new("m.gguf"), input) {
        Ok(f) => f,
        Err(e) => return check_error(&e, input.len()),
    };
    let tensors: Vec<_> = file.tensor_entries(0).collect();
    let set = ShardSet { files: vec![file], missing: vec![], warnings: vec![] };
    let g = analyze(set.metadata(), &tensors);
    let summary = summarize(&set, &tensors, &g);
    let view = InspectView { header: set.metadata(), tensors: &tensors, geometry: &g, summary: &summary, with_tensors: true, bytes_fetched: None };
    std::hint::black_box(inspect_human::render(&view));
    serde_json::to_string(&inspect_json::to_json(&view)).map_err(|e| format!("inspect JSON: {e}"))?;

    let settings = [
        Settings::default(),
        Settings { ctx: Some(4096), parallel: Some(1), ..Settings::default() },
        Settings {
            ctx: Some(1 << 20),
            parallel: Some(8),
            flash_attn: FlashAttn::Off,
            cache_type_k: GgmlType(8), // q8_0
            swa_full: true,
            load_mtp: true,
            ..Settings::default()
        },
    ];
    let mut outcome = Outcome::Refused;
    for s in &settings {
        let Ok(main) = footprint(&g, &tensors, s, 1 << 20) else { continue };
        // Growth rows as `footprint` prints them, once (they repeat the same code at other contexts).
        let contexts = if outcome == Outcome::Refused { report::footprint::growth_contexts(g.context_length) } else { vec![] };
        let growth: Vec<_> = contexts.into_iter().filter_map(|c| footprint(&g, &tensors, &Settings { ctx: Some(c), ..s.clone() }, 1 << 20).ok()).collect();
        let view = report::footprint::FootprintView { name: "m.gguf", geometry: &g, main: &main, growth: &growth, complete: summary.complete, warnings: &[] };
        std::hint::black_box(report::footprint::render(&view));
        serde_json::to_string(&report::footprint::to_json(&view)).map_err(|e| format!("footprint JSON: {e}"))?;
        outcome = Outcome::Estimated;
    }
    if !with_fit {
        return Ok(outcome);
    }
    let gpu = Gpu {
        label: "RTX 4090".into(),
        vram_bytes: 24 << 30,
        bandwidth: 1_008_000_000_000,
        flops: 330_300_000_000_000,
        backend: gguf_meter::estimate::speed::Backend::Cuda,
        vector_only: false,
    };
    let machine =
        Machine { gpus: vec![gpu.clone(), gpu], ram_bytes: 64 << 30, cpu_bandwidth: 89_600_000_000, cpu_flops: 2_048_000_000_000, label: "2x RTX 4090".into() };
    let ov = Overrides::parse(&[r"blk\.1\..*=CUDA1,exps=CPU".into()], Some(2)).map_err(|e| e.to_string())?;
    let s = Settings { ctx: Some(32768), ..Settings::default() };
    if let Ok(p) = plan(&g, &tensors, &s, &machine, 0, &ov) {
        let command = command_line("m.gguf", &p, &s, None, &ov);
        let rows = [report::fit::Row { file: "m.gguf".into(), bits_per_weight: 4.5, plan: p, command }];
        let view = report::fit::FitView { machine: &machine, rows: &rows, best: report::fit::best(&rows), warnings: &[] };
        std::hint::black_box(report::fit::render(&view));
        serde_json::to_string(&report::fit::to_json(&view)).map_err(|e| format!("fit JSON: {e}"))?;
    }
    Ok(outcome)
}
