//! `list` output: every model found on this machine and how it fits.

use super::fit::Row;
use crate::estimate::fit::{Machine, Verdict};
use crate::util::units::gib;
use serde_json::{Value, json};
use std::fmt::Write;

/// One model found on disk, planned (or why it could not be).
pub struct Entry {
    /// Which store it is in (`hf-cache`, `ollama`, ...).
    pub store: String,
    /// How people name it (`owner/repo/file.gguf`, `model:tag`).
    pub name: String,
    /// Where it is.
    pub path: String,
    /// Bytes of all its files when complete.
    pub bytes: u64,
    /// The plan, or the one-line reason there is none.
    pub plan: Result<Row, String>,
}

/// What `list` shows.
pub struct ListView<'a> {
    /// The machine planned for.
    pub machine: &'a Machine,
    /// Every model, in store then path order.
    pub entries: &'a [Entry],
    /// Warnings.
    pub warnings: &'a [String],
}

fn cell(e: &Entry) -> String {
    match &e.plan {
        Err(why) => format!("not read: {why}"),
        Ok(r) => {
            let ctx = r.plan.footprint.resolved.n_ctx;
            let o = r.plan.split.offload;
            match r.plan.verdict {
                Verdict::FitsFully => format!("fits fully, context {ctx}"),
                Verdict::PartialOffload if o.n_cpu_moe > 0 => format!("partial offload (--n-cpu-moe {}), context {ctx}", o.n_cpu_moe),
                Verdict::PartialOffload => format!("partial offload (-ngl {}), context {ctx}", o.n_gpu_layers),
                Verdict::DoesNotFit => format!("does not fit (needs {})", gib(r.plan.footprint.total_bytes)),
            }
        }
    }
}

/// Human report: one line per model, then where each is.
pub fn render(v: &ListView) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "machine: {}", v.machine.label);
    if v.entries.is_empty() {
        let _ = writeln!(o, "\nno GGUF models found");
    } else {
        let w = v.entries.iter().map(|e| e.name.len()).max().unwrap_or(0).min(72);
        let _ = writeln!(o, "\n{:<16} {:<w$} {:>11}  on this machine", "store", "model", "size");
        for e in v.entries {
            let _ = writeln!(o, "{:<16} {:<w$} {:>11}  {}", e.store, e.name, gib(e.bytes), cell(e));
        }
        let _ = writeln!(o, "\nfiles:");
        for e in v.entries {
            let _ = writeln!(o, "  {}  {}", e.name, e.path);
        }
    }
    for w in v.warnings {
        let _ = writeln!(o, "warning: {w}");
    }
    o
}

/// JSON document: the machine, and per model its store, name, path, size and plan (as `fit`'s).
pub fn to_json(v: &ListView) -> Value {
    let models: Vec<Value> = v
        .entries
        .iter()
        .map(|e| {
            let mut m = json!({"store": e.store, "name": e.name, "path": e.path, "bytes": e.bytes});
            match &e.plan {
                Ok(r) => m["plan"] = super::fit::plan_json(&r.file, r.bits_per_weight, &r.plan, &r.command),
                Err(why) => m["error"] = json!(why),
            }
            m
        })
        .collect();
    json!({"schema_version": 1, "machine": v.machine, "models": models, "warnings": v.warnings})
}
