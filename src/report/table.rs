//! `table`: quants x devices x contexts, as markdown (model cards), CSV, JSON or plain text.

use super::fit::plan_json;
use crate::estimate::fit::{Machine, Plan, Verdict};
use crate::model::{Geometry, LayerKind};
use crate::util::units::{gib, grouped};
use serde_json::{Value, json};
use std::fmt::Write;

/// One quant's row: a plan per (context, device).
pub struct Row {
    /// File name (first shard for a split model).
    pub file: String,
    /// Bytes of the complete file(s).
    pub file_bytes: u64,
    /// Average bits per weight.
    pub bits_per_weight: f64,
    /// Plans, context-major: `plans[ci * devices + di]`.
    pub plans: Vec<Plan>,
    /// llama-server command per plan.
    pub commands: Vec<String>,
}

/// Everything `table` shows.
pub struct TableView<'a> {
    /// Each distinct geometry (one for quants of one model) with the files that have it.
    pub models: &'a [(String, Vec<String>)],
    /// Devices as named by the user, with the machine each stands for.
    pub devices: &'a [(String, Machine)],
    /// Contexts, tokens.
    pub contexts: &'a [u64],
    /// Rows, sorted by size.
    pub rows: &'a [Row],
    /// Notes (assumed RAM, skipped files).
    pub notes: &'a [String],
}

/// One line: architecture, layer kinds, KV heads, experts, trained context.
pub fn geometry_line(g: &Geometry) -> String {
    let run: Vec<_> = g.layers.iter().filter(|l| !l.mtp).collect();
    let count = |k: LayerKind| run.iter().filter(|l| l.kind == k).count();
    let mut parts = vec![format!("{}: {} layers", g.architecture, run.len())];
    let kinds =
        [(LayerKind::Attention, "full attention"), (LayerKind::Sliding, "sliding window"), (LayerKind::Mla, "MLA"), (LayerKind::Recurrent, "recurrent")];
    let mix: Vec<String> = kinds.iter().filter(|(k, _)| count(*k) > 0).map(|(k, n)| format!("{} {n}", count(*k))).collect();
    if !mix.is_empty() {
        parts[0] += &format!(" ({})", mix.join(", "));
    }
    if let Some(a) = run.iter().find(|l| l.has_kv()) {
        parts.push(format!("{} KV heads x {}", a.n_head_kv, a.head_dim_k));
    }
    if g.n_experts > 0 {
        parts.push(format!("{} experts, {} routed + {} shared per token", g.n_experts, g.n_experts_used, g.n_experts_shared));
    }
    parts.push(format!("trained context {}", grouped(g.context_length)));
    parts.join("; ")
}

fn ctx_label(c: u64) -> String {
    if c.is_multiple_of(1024) { format!("{}K", c / 1024) } else { c.to_string() }
}

fn cell(p: &Plan, emoji: bool) -> String {
    let speed = match (&p.speed, p.tokens_per_second_bound > 0.0) {
        (Some(s), true) => format!(", ~{} t/s (<= {:.0})", super::fit::rate(s.tg_tokens_per_second), p.tokens_per_second_bound),
        (None, true) => format!(", <= {:.0} t/s", p.tokens_per_second_bound),
        _ => String::new(),
    };
    let o = p.split.offload;
    match p.verdict {
        Verdict::FitsFully => format!("{}{}{speed}", if emoji { "✅ " } else { "fits " }, gib(p.footprint.total_bytes)),
        Verdict::PartialOffload => {
            let flag = if o.n_cpu_moe > 0 { format!("--n-cpu-moe {}", o.n_cpu_moe) } else { format!("-ngl {}", o.n_gpu_layers) };
            if emoji { format!("⚠️ `{flag}`{speed}") } else { format!("partial {flag}{speed}") }
        }
        Verdict::DoesNotFit => format!("{}needs {}", if emoji { "❌ " } else { "no: " }, gib(p.footprint.total_bytes)),
    }
}

fn grid(v: &TableView, emoji: bool) -> String {
    let mut o = String::new();
    let nd = v.devices.len();
    for (ci, &ctx) in v.contexts.iter().enumerate() {
        let _ = writeln!(o, "\n{} context ({} tokens)\n", ctx_label(ctx), grouped(ctx));
        let _ = writeln!(o, "| quant | size | bits/weight | {} |", v.devices.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(" | "));
        let _ = writeln!(o, "|---|---:|---:|{}", "---|".repeat(nd));
        for r in v.rows {
            let cells: Vec<String> = (0..nd).map(|di| cell(&r.plans[ci * nd + di], emoji)).collect();
            let _ = writeln!(o, "| {} | {} | {:.2} | {} |", r.file, gib(r.file_bytes), r.bits_per_weight, cells.join(" | "));
        }
    }
    o
}

fn legend(v: &TableView, markdown: bool) -> String {
    let mut o = String::new();
    match v.models {
        [(line, _)] => {
            let _ = writeln!(o, "{}{line}", if markdown { "**Model**: " } else { "model: " });
        }
        many => {
            let _ = writeln!(o, "{}", if markdown { "**Models**:" } else { "models:" });
            for (line, files) in many {
                let _ = writeln!(o, "{}{}: {line}", if markdown { "- " } else { "  " }, files.join(", "));
            }
        }
    }
    let _ = writeln!(o, "{}", if markdown { "\n**Devices**:" } else { "devices:" });
    for (name, m) in v.devices {
        let _ = writeln!(o, "{}{name}: {}", if markdown { "- " } else { "  " }, m.label);
    }
    o
}

const KEY: &str = "Cells: fits entirely on the GPU (total llama.cpp allocation), partial offload (the flag that makes it fit), or does not fit; ~t/s is the expected generation speed (an estimate calibrated on published llama-bench runs, data/README.md), <= the upper bound (bandwidth / bytes read per token).";

/// Markdown for a model card.
pub fn render_markdown(v: &TableView) -> String {
    let mut o = legend(v, true);
    o += &grid(v, true);
    let _ = writeln!(o, "\n{KEY} Computed by gguf-meter from the GGUF headers.");
    for n in v.notes {
        let _ = writeln!(o, "\n_Note: {n}_");
    }
    o
}

/// Plain text for a terminal.
pub fn render_human(v: &TableView) -> String {
    let mut o = legend(v, false);
    o += &grid(v, false);
    let _ = writeln!(o, "\n{KEY}");
    for n in v.notes {
        let _ = writeln!(o, "note: {n}");
    }
    o
}

/// CSV: one line per (quant, context, device).
pub fn render_csv(v: &TableView) -> String {
    let mut o = String::from(
        "file,file_bytes,bits_per_weight,ctx,device,verdict,total_bytes,gpu_bytes,cpu_bytes,n_gpu_layers,n_cpu_moe,tokens_per_second_bound,tg_tokens_per_second,pp_tokens_per_second,command\n",
    );
    let nd = v.devices.len();
    for r in v.rows {
        for (ci, &ctx) in v.contexts.iter().enumerate() {
            for (di, (name, _)) in v.devices.iter().enumerate() {
                let p = &r.plans[ci * nd + di];
                let verdict = serde_json::to_value(p.verdict).ok().and_then(|x| x.as_str().map(str::to_owned)).unwrap_or_default();
                let _ = writeln!(
                    o,
                    "{},{},{:.4},{ctx},{name},{verdict},{},{},{},{},{},{:.2},{},{},\"{}\"",
                    csv_field(&r.file),
                    r.file_bytes,
                    r.bits_per_weight,
                    p.footprint.total_bytes,
                    p.split.gpu_bytes,
                    p.split.cpu_bytes,
                    p.split.offload.n_gpu_layers,
                    p.split.offload.n_cpu_moe,
                    p.tokens_per_second_bound,
                    p.speed.as_ref().map_or(String::new(), |s| format!("{:.1}", s.tg_tokens_per_second)),
                    p.speed.as_ref().map_or(String::new(), |s| format!("{:.1}", s.pp_tokens_per_second)),
                    r.commands[ci * nd + di].replace('"', "\"\"")
                );
            }
        }
    }
    o
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// JSON document (schema in the README).
pub fn to_json(v: &TableView) -> Value {
    let nd = v.devices.len();
    let rows: Vec<Value> = v
        .rows
        .iter()
        .map(|r| {
            let mut cells = Vec::new();
            for (ci, &ctx) in v.contexts.iter().enumerate() {
                for (di, (name, _)) in v.devices.iter().enumerate() {
                    let mut c = plan_json(&r.file, r.bits_per_weight, &r.plans[ci * nd + di], &r.commands[ci * nd + di]);
                    c["device"] = json!(name);
                    c["requested_ctx"] = json!(ctx);
                    cells.push(c);
                }
            }
            json!({"file": r.file, "file_bytes": r.file_bytes, "bits_per_weight": r.bits_per_weight, "cells": cells})
        })
        .collect();
    json!({
        "schema_version": 1,
        "models": v.models.iter().map(|(line, files)| json!({"geometry": line, "files": files})).collect::<Vec<_>>(),
        "contexts": v.contexts,
        "devices": v.devices.iter().map(|(n, m)| json!({"name": n, "machine": m})).collect::<Vec<_>>(),
        "rows": rows,
        "notes": v.notes,
    })
}
