//! `footprint` output: one table of components, one row per context length, JSON.

use crate::estimate::Footprint;
use crate::estimate::overrides::BufferWeights;
use crate::estimate::placement::Split;
use crate::model::Geometry;
use crate::util::units::{gib, grouped};
use serde_json::{Value, json};
use std::fmt::Write;

/// What `footprint` shows.
pub struct FootprintView<'a> {
    /// File name.
    pub name: &'a str,
    /// Geometry.
    pub geometry: &'a Geometry,
    /// Footprint at the chosen settings.
    pub main: &'a Footprint,
    /// Footprints at the growth contexts.
    pub growth: &'a [Footprint],
    /// All data present.
    pub complete: bool,
    /// Warnings.
    pub warnings: &'a [String],
}

/// 4K, 32K, 128K and the trained maximum (those below it).
pub fn growth_contexts(trained: u64) -> Vec<u64> {
    let mut v: Vec<u64> = [4096, 32768, 131072].into_iter().filter(|&c| c < trained).collect();
    if trained > 0 {
        v.push(trained);
    }
    v
}

fn settings_line(f: &Footprint) -> String {
    let r = &f.resolved;
    format!(
        "ctx {} ({} per sequence), {} sequence{}{}, KV {}/{}, flash attention {}, batch {}/{}",
        r.n_ctx,
        r.n_ctx_seq,
        r.n_seq_max,
        if r.n_seq_max == 1 { "" } else { "s" },
        if r.kv_unified { " (unified KV)" } else { "" },
        r.type_k.name().to_lowercase(),
        r.type_v.name().to_lowercase(),
        if r.flash_attn { "on" } else { "off" },
        r.n_batch,
        r.n_ubatch
    )
}

/// Human table.
pub fn render(v: &FootprintView) -> String {
    let g = v.geometry;
    let f = v.main;
    let mut o = String::new();
    let _ = writeln!(o, "{} ({}), {}", v.name, g.architecture, settings_line(f));
    let n_rec = g.layers.iter().filter(|l| l.has_state()).count();
    let row = |o: &mut String, name: &str, b: u64, note: String| {
        let _ = writeln!(o, "  {:<18} {:>18}  {:>12}  {}", name, grouped(b), gib(b), note);
    };
    let _ = writeln!(o, "  {:<18} {:>18}  {:>12}", "component", "bytes", "GiB");
    let skipped = if f.skipped_bytes > 0 { format!("MTP blocks not loaded: {}", gib(f.skipped_bytes)) } else { String::new() };
    row(&mut o, "weights", f.weights_bytes, skipped);
    let kv_name = if f.estimated.iter().any(|e| e == "kv_cache") { "KV cache (est.)" } else { "KV cache" };
    row(&mut o, kv_name, f.kv_bytes, format!("{} of {} layers hold KV (K {}, V {})", f.kv_layers, g.n_layers, gib(f.k_bytes), gib(f.v_bytes)));
    if n_rec > 0 {
        row(&mut o, "recurrent state", f.recurrent_bytes, format!("{n_rec} layers x {} sequences, f32, any context", f.resolved.n_seq_max));
    }
    row(&mut o, if f.compute_simulated { "compute" } else { "compute (est.)" }, f.compute_bytes, format!("ubatch {}", f.resolved.n_ubatch));
    row(&mut o, "output (logits)", f.output_bytes, String::new());
    if f.mmproj_bytes > 0 {
        let place = if f.mmproj_offload { "on the GPU when there is one" } else { "in RAM (--no-mmproj-offload)" };
        row(&mut o, "mmproj weights", f.mmproj_bytes, place.to_string());
        match f.mmproj_compute_bytes {
            Some(b) => {
                let grows = f.mmproj_compute_max_bytes.filter(|&m| m > b).map(|m| format!(", {} after the largest image", gib(m))).unwrap_or_default();
                row(&mut o, "mmproj compute", b, format!("image-encoder warm-up{grows}"));
            }
            None => {
                let _ = writeln!(o, "  {:<18} {:>18}  {:>12}  not estimated for this projector (see warnings)", "mmproj compute", "?", "?");
            }
        }
        if let Some(note) = f.mmproj_gen_audio_compute {
            row(&mut o, "mmproj gen compute", 0, format!("at load; per request: unknown ({note})"));
        }
    }
    row(&mut o, "total", f.total_bytes, String::new());
    let _ =
        writeln!(o, "  active per token   {:>18}  {:>12}  bytes read per generated token", grouped(f.active_bytes_per_token), gib(f.active_bytes_per_token));
    o.push_str(&cpu_buffers(f));
    let _ = writeln!(o, "\n  {:>10}  {:>12}  {:>12}  {:>12}", "context", "KV cache", "compute", "total");
    for gf in v.growth {
        let mark = if gf.resolved.n_ctx_seq >= g.context_length { " (trained max)" } else { "" };
        let _ = writeln!(o, "  {:>10}  {:>12}  {:>12}  {:>12}{mark}", gf.resolved.n_ctx, gib(gf.kv_bytes), gib(gf.compute_bytes), gib(gf.total_bytes));
    }
    for w in v.warnings {
        let _ = writeln!(o, "warning: {w}");
    }
    o
}

/// MiB with two decimals, as llama.cpp prints its buffer sizes.
fn mib(b: u64) -> String {
    format!("{:.2} MiB", b as f64 / 1048576.0)
}

/// The weight buffers llama.cpp prints when every layer is on the CPU, and what they mean.
fn cpu_buffers(f: &Footprint) -> String {
    let mut o = String::new();
    let kind = serde_json::to_value(f.cpu_kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let load = if f.mmap { "mmap" } else { "no mmap" };
    let _ = writeln!(o, "\n  weights in llama.cpp's CPU buffers (all layers on the CPU, {kind}, {load}):");
    let line = |o: &mut String, name: &str, b: u64, note: &str| {
        let _ = writeln!(o, "    {name:>10} model buffer size = {:>12}  {note}", mib(b));
    };
    if f.weights_repack_bytes > 0 {
        let copy = if f.weights_tied_copy_bytes > 0 {
            format!(", and a second copy of the tied token embedding ({})", mib(f.weights_tied_copy_bytes))
        } else {
            String::new()
        };
        line(&mut o, "CPU_REPACK", f.weights_repack_bytes, &format!("matmul weights rearranged for this CPU's kernels (anonymous memory){copy}"));
    }
    if f.mmap {
        line(&mut o, "CPU_Mapped", f.weights_mapped_bytes, "file range holding the other tensors (one such buffer per file of a split model)");
        if f.weights_mapped_repacked_bytes > 0 {
            let _ = writeln!(
                o,
                "    the mapped span also covers the repacked tensors' pages ({}): read once while loading, then clean\n    page cache the kernel can reclaim (unless mlock), so RAM in use is about {}, not the sum",
                mib(f.weights_mapped_repacked_bytes),
                mib(f.weights_mapped_bytes.saturating_sub(f.weights_mapped_repacked_bytes).saturating_add(f.weights_repack_bytes))
            );
        }
    } else {
        line(&mut o, "CPU", f.weights_cpu_bytes, "every other tensor (anonymous memory)");
    }
    o
}

fn fp_json(f: &Footprint) -> Value {
    let r = &f.resolved;
    json!({
        "ctx": r.n_ctx, "ctx_per_sequence": r.n_ctx_seq, "parallel": r.n_seq_max, "kv_unified": r.kv_unified,
        "cache_type_k": r.type_k.name().to_lowercase(), "cache_type_v": r.type_v.name().to_lowercase(),
        "flash_attn": r.flash_attn, "swa_full": r.swa_full, "batch": r.n_batch, "ubatch": r.n_ubatch,
        "weights_bytes": f.weights_bytes, "skipped_bytes": f.skipped_bytes,
        "cpu_kind": f.cpu_kind, "mmap": f.mmap,
        "weights_repack_bytes": f.weights_repack_bytes, "weights_cpu_bytes": f.weights_cpu_bytes,
        "weights_tied_copy_bytes": f.weights_tied_copy_bytes,
        "weights_mapped_bytes": f.weights_mapped_bytes, "weights_mapped_repacked_bytes": f.weights_mapped_repacked_bytes,
        "kv_bytes": f.kv_bytes, "k_bytes": f.k_bytes, "v_bytes": f.v_bytes, "kv_layers": f.kv_layers,
        "recurrent_bytes": f.recurrent_bytes, "recurrent_r_bytes": f.recurrent_r_bytes, "recurrent_s_bytes": f.recurrent_s_bytes, "recurrent_p_bytes": f.recurrent_p_bytes,
        "compute_bytes": f.compute_bytes, "compute_simulated": f.compute_simulated, "estimated": f.estimated, "output_bytes": f.output_bytes, "mmproj_bytes": f.mmproj_bytes,
        "mmproj_compute_bytes": f.mmproj_compute_bytes, "mmproj_compute_max_bytes": f.mmproj_compute_max_bytes,
        "mmproj_offload": f.mmproj_offload,
        "mmproj_gen_audio_compute": f.mmproj_gen_audio_compute.map(|note| json!({"reserved_at_load_bytes": 0, "per_request_bytes": null, "estimate": "unknown", "note": note})),
        "total_bytes": f.total_bytes, "active_bytes_per_token": f.active_bytes_per_token,
    })
}

/// JSON document: the chosen settings' footprint at top level, plus `contexts`.
pub fn to_json(v: &FootprintView) -> Value {
    let mut doc = fp_json(v.main);
    doc["schema_version"] = json!(1);
    doc["file"] = json!(v.name);
    doc["architecture"] = json!(v.geometry.architecture);
    doc["complete"] = json!(v.complete);
    doc["trained_context"] = json!(v.geometry.context_length);
    doc["contexts"] = v.growth.iter().map(fp_json).collect();
    doc["warnings"] = json!(v.warnings);
    doc
}

/// Weights per buffer when `-ot` is given (printed after the footprint table).
pub fn render_buffers(buffers: &[BufferWeights]) -> String {
    let mut o = String::from("\n  weights by buffer (-ot)\n");
    for b in buffers {
        let what = match (b.via_override, b.buffer.as_str()) {
            (true, name) => format!("on {name} via overrides"),
            (false, "input") => "token embedding: CPU (input layer)".to_string(),
            (false, _) => "no override: on the layers' devices (-ngl)".to_string(),
        };
        let _ = writeln!(o, "  {:>18}  {:>12}  {} tensors {what}", grouped(b.weights_bytes), gib(b.weights_bytes), b.tensors);
    }
    o
}

/// Per device for a placement given on the command line (`-ngl`, `-ts`, `--n-cpu-moe`):
/// the same columns as `fit`'s device table, without capacities (`footprint` knows no machine).
pub fn render_placement(sp: &Split, flags: &str) -> String {
    let mut o = format!("\n  per device ({flags})\n");
    let _ = writeln!(o, "    {:<6} {:>12} {:>11} {:>11} {:>11} {:>11} {:>11}", "device", "layers", "weights", "KV+state", "compute", "other", "total");
    for d in &sp.devices {
        let layers = match (d.blocks, d.output_layer) {
            (0, false) => "-".to_string(),
            (b, false) => format!("{b}"),
            (b, true) => format!("{b} + output"),
        };
        let _ = writeln!(
            o,
            "    {:<6} {:>12} {:>11} {:>11} {:>11} {:>11} {:>11}",
            d.device,
            layers,
            gib(d.weights_bytes),
            gib(d.kv_bytes.saturating_add(d.recurrent_bytes)),
            gib(d.compute_bytes),
            gib(d.other_bytes),
            gib(d.total_bytes)
        );
    }
    let how = match sp.compute_method {
        "scheduler" => "compute: llama.cpp's graph split by device as its scheduler splits it, each device's buffer replayed",
        "scheduler-estimate" => "compute (est.): the generic graph split by device as llama.cpp's scheduler splits it",
        _ => "compute (est.): the whole single-device buffer on each GPU holding layers",
    };
    let _ = writeln!(o, "    {how}");
    o
}

/// The placement as JSON: the flags' values and one object per device (GPUs, then the CPU).
pub fn placement_json(sp: &Split, tensor_split: Option<&[u64]>) -> Value {
    json!({
        "n_gpu_layers": sp.offload.n_gpu_layers,
        "n_cpu_moe": sp.offload.n_cpu_moe,
        "tensor_split": tensor_split,
        "gpu_bytes": sp.gpu_bytes,
        "cpu_bytes": sp.cpu_bytes,
        "compute_method": sp.compute_method,
        "devices": sp.devices,
    })
}
