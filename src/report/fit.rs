//! `fit` output: verdict, memory per side, largest context on GPU, speed bound, command line.

use crate::estimate::fit::{Machine, Plan, Verdict};
use crate::estimate::speed::SpeedEstimate;
use crate::util::units::gib;
use serde_json::{Value, json};
use std::fmt::Write;

/// One file's plan.
pub struct Row {
    /// File name.
    pub file: String,
    /// Average bits per weight over all tensors: the quality proxy used for ranking.
    pub bits_per_weight: f64,
    /// The plan.
    pub plan: Plan,
    /// llama-server command line.
    pub command: String,
}

/// What `fit` shows.
pub struct FitView<'a> {
    /// The machine.
    pub machine: &'a Machine,
    /// One row per file.
    pub rows: &'a [Row],
    /// Index of the recommended file.
    pub best: Option<usize>,
    /// Warnings.
    pub warnings: &'a [String],
}

/// The highest-quality file that fits fully, else the highest that fits with offload.
pub fn best(rows: &[Row]) -> Option<usize> {
    let pick = |v: Verdict| {
        rows.iter().enumerate().filter(|(_, r)| r.plan.verdict == v).max_by(|a, b| a.1.bits_per_weight.total_cmp(&b.1.bits_per_weight)).map(|(i, _)| i)
    };
    pick(Verdict::FitsFully).or_else(|| pick(Verdict::PartialOffload))
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::FitsFully => "FITS FULLY",
        Verdict::PartialOffload => "FITS WITH PARTIAL OFFLOAD",
        Verdict::DoesNotFit => "DOES NOT FIT",
    }
}

/// Human report.
pub fn render(v: &FitView) -> String {
    let mut o = String::new();
    let m = v.machine;
    let _ = writeln!(o, "machine: {}", m.label);
    for r in v.rows {
        let p = &r.plan;
        let ctx = p.footprint.resolved.n_ctx;
        let _ = writeln!(o, "\n{} ({:.2} bits/weight): {} at context {ctx}", r.file, r.bits_per_weight, verdict_text(p.verdict));
        let n = m.gpus.len();
        if n > 0 {
            let _ = writeln!(
                o,
                "  GPU   {} of {} usable ({} GPU{}, 1 GiB margin each)",
                gib(p.split.gpu_bytes),
                gib(p.gpu_capacity),
                n,
                if n == 1 { "" } else { "s" }
            );
        }
        let _ = writeln!(o, "  RAM   {} of {} usable", gib(p.split.cpu_bytes), gib(p.ram_capacity));
        if n > 0 {
            o += &device_table(p);
        }
        let f = &p.footprint;
        let mm = match (f.mmproj_bytes, f.mmproj_compute_bytes) {
            (0, _) => String::new(),
            (w, Some(c)) => format!(", mmproj {} + compute {}", gib(w), gib(c)),
            (w, None) => format!(", mmproj {} + compute unknown", gib(w)),
        };
        // What the devices hold together: a compute buffer per device as the scheduler splits
        // the graph, weights loaded once per device (rope frequencies) counted each time.
        let sum = |k: fn(&crate::estimate::placement::DeviceBytes) -> u64| p.split.devices.iter().map(k).fold(0u64, u64::saturating_add);
        let _ = writeln!(
            o,
            "  total {} (weights {}, KV {}, recurrent {}, compute {}{}{mm})",
            gib(p.split.gpu_bytes.saturating_add(p.split.cpu_bytes)),
            gib(sum(|d| d.weights_bytes)),
            gib(sum(|d| d.kv_bytes)),
            gib(sum(|d| d.recurrent_bytes)),
            gib(sum(|d| d.compute_bytes)),
            compute_how(p.split.compute_method)
        );
        match p.max_full_gpu_ctx {
            Some(c) if n > 0 => {
                let _ = writeln!(o, "  largest context entirely on GPU: {c}");
            }
            None if n > 0 => {
                let _ = writeln!(o, "  no context fits entirely on GPU");
            }
            _ => {}
        }
        if let Some(s) = &p.speed {
            o += &speed_lines(s);
        }
        if p.tokens_per_second_bound > 0.0 {
            let _ = writeln!(
                o,
                "  decode upper bound: {:.0} tokens/s (bandwidth / {} read per token)",
                p.tokens_per_second_bound,
                gib(p.split.gpu_active + p.split.cpu_active)
            );
        }
        if p.verdict != Verdict::DoesNotFit {
            let _ = writeln!(o, "  run:  {}", r.command);
        }
    }
    if v.rows.len() > 1 {
        match v.best {
            Some(i) => {
                let _ = writeln!(o, "\nbest: {} ({})", v.rows[i].file, verdict_text(v.rows[i].plan.verdict).to_lowercase());
            }
            None => {
                let _ = writeln!(o, "\nnone of the files fits");
            }
        }
    }
    for w in v.warnings {
        let _ = writeln!(o, "warning: {w}");
    }
    o
}

/// A speed figure with the precision it deserves: estimates are good to a few tens of percent.
pub fn rate(v: f64) -> String {
    if v >= 100.0 {
        crate::util::units::grouped(v.round() as u64)
    } else if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Seconds, to two significant figures.
pub fn seconds(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0} s")
    } else if v >= 1.0 {
        format!("{v:.1} s")
    } else {
        format!("{:.0} ms", v * 1000.0)
    }
}

/// The estimate lines `fit` and `footprint` print.
pub fn speed_lines(s: &SpeedEstimate) -> String {
    format!(
        "  expected speed (estimate, {} backend): generation ~{} tokens/s (~{} after the prompt), prompt processing ~{} tokens/s\n  \
         time to first token after a {}-token prompt: ~{}\n",
        s.backend.name(),
        rate(s.tg_tokens_per_second),
        rate(s.tg_tokens_per_second_after_prompt),
        rate(s.pp_tokens_per_second),
        s.prompt_tokens,
        seconds(s.ttft_seconds)
    )
}

/// JSON fields of a speed estimate (all `null` without one).
pub fn speed_json(s: Option<&SpeedEstimate>) -> Value {
    json!({
        "tg_tokens_per_second": s.map(|s| s.tg_tokens_per_second),
        "tg_tokens_per_second_after_prompt": s.map(|s| s.tg_tokens_per_second_after_prompt),
        "pp_tokens_per_second": s.map(|s| s.pp_tokens_per_second),
        "prompt_tokens": s.map(|s| s.prompt_tokens),
        "ttft_seconds": s.map(|s| s.ttft_seconds),
        "speed_backend": s.map(|s| s.backend),
        "speed_is_estimate": true,
    })
}

/// How the compute figure was found, after it on the total line.
fn compute_how(method: &str) -> &'static str {
    match method {
        "scheduler" => " in per-device buffers",
        "scheduler-estimate" => " in per-device buffers, est.",
        _ => " as one buffer per GPU, est.",
    }
}

/// Per device: layers, weights, KV + recurrent state, compute buffer, total against capacity.
fn device_table(p: &Plan) -> String {
    let mut o = String::new();
    // "other": logits on the CPU, an mmproj's weights and compute where it runs.
    let _ = writeln!(
        o,
        "    {:<6} {:>12} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}",
        "device", "layers", "weights", "KV+state", "compute", "other", "total", "usable"
    );
    for (i, d) in p.split.devices.iter().enumerate() {
        let layers = match (d.blocks, d.output_layer) {
            (0, false) => "-".to_string(),
            (b, false) => format!("{b}"),
            (b, true) => format!("{b} + output"),
        };
        let cap = p.device_capacity.get(i).copied().unwrap_or(p.ram_capacity);
        let state = d.kv_bytes.saturating_add(d.recurrent_bytes);
        let over = if d.total_bytes > cap { "  OVER" } else { "" };
        let _ = writeln!(
            o,
            "    {:<6} {:>12} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}{over}",
            d.device,
            layers,
            gib(d.weights_bytes),
            gib(state),
            gib(d.compute_bytes),
            gib(d.other_bytes),
            gib(d.total_bytes),
            gib(cap)
        );
    }
    o
}

fn devices_json(p: &Plan) -> Value {
    let rows: Vec<Value> = p
        .split
        .devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({
                "device": d.device, "blocks": d.blocks, "output_layer": d.output_layer,
                "weights_bytes": d.weights_bytes, "kv_bytes": d.kv_bytes, "recurrent_bytes": d.recurrent_bytes,
                "compute_bytes": d.compute_bytes, "other_bytes": d.other_bytes, "total_bytes": d.total_bytes,
                "capacity_bytes": p.device_capacity.get(i).copied().unwrap_or(p.ram_capacity),
                "active_bytes_per_token": d.active_bytes,
            })
        })
        .collect();
    Value::Array(rows)
}

/// One plan as JSON (shared by `fit` and `table`).
pub fn plan_json(file: &str, bits_per_weight: f64, p: &Plan, command: &str) -> Value {
    let mut v = json!({
        "file": file, "bits_per_weight": bits_per_weight, "verdict": p.verdict,
        "ctx": p.footprint.resolved.n_ctx, "n_gpu_layers": p.split.offload.n_gpu_layers,
        "n_cpu_moe": p.split.offload.n_cpu_moe, "gpu_bytes": p.split.gpu_bytes, "cpu_bytes": p.split.cpu_bytes,
        "gpu_capacity_bytes": p.gpu_capacity, "ram_capacity_bytes": p.ram_capacity,
        "max_full_gpu_ctx": p.max_full_gpu_ctx, "tokens_per_second_bound": p.tokens_per_second_bound,
        "gpu_active_bytes_per_token": p.split.gpu_active, "cpu_active_bytes_per_token": p.split.cpu_active,
        "total_bytes": p.footprint.total_bytes, "command": command,
        "compute_bytes": p.split.devices.iter().map(|d| d.compute_bytes).fold(0u64, u64::saturating_add),
        "compute_method": p.split.compute_method,
        "tensor_split": p.tensor_split, "devices": devices_json(p),
    });
    if let (Some(o), Value::Object(speed)) = (v.as_object_mut(), speed_json(p.speed.as_ref())) {
        o.extend(speed);
    }
    v
}

/// JSON document.
pub fn to_json(v: &FitView) -> Value {
    let rows: Vec<Value> = v.rows.iter().map(|r| plan_json(&r.file, r.bits_per_weight, &r.plan, &r.command)).collect();
    json!({
        "schema_version": 1,
        "machine": v.machine,
        "plans": rows,
        "best": v.best.map(|i| v.rows[i].file.clone()),
        "warnings": v.warnings,
    })
}
