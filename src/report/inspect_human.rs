//! `inspect` for people: a short summary, a layer map, and optionally one row per tensor.

use super::InspectView;
use crate::model::LayerKind;
use crate::util::units::{both, gib, grouped};
use std::fmt::Write;

/// One letter per layer kind in the layer map.
fn letter(kind: LayerKind) -> char {
    match kind {
        LayerKind::Attention => 'A',
        LayerKind::Sliding => 'S',
        LayerKind::Recurrent => 'R',
        LayerKind::Mla => 'M',
        LayerKind::None => '.',
    }
}

/// Renders the human report.
pub fn render(v: &InspectView) -> String {
    let g = v.geometry;
    let s = v.summary;
    let mut o = String::new();
    let first = &s.files[0];
    let _ = writeln!(
        o,
        "{}  (GGUF v{}, {}, {} file{})",
        first.path,
        first.gguf_version,
        if first.big_endian { "big-endian" } else { "little-endian" },
        s.files.len(),
        if s.files.len() == 1 { "" } else { "s" }
    );
    let _ = writeln!(o, "architecture  {} (described by: {})", g.architecture, g.family);
    if s.complete {
        let place = if v.bytes_fetched.is_some() { "on the server" } else { "on disk" };
        let _ = writeln!(o, "status        complete, {} {place}", both(s.file_bytes));
    } else {
        let pct = if s.data_bytes_expected == 0 { 100.0 } else { s.data_bytes_present as f64 * 100.0 / s.data_bytes_expected as f64 };
        let _ = writeln!(
            o,
            "status        INCOMPLETE: {} of {} data present ({pct:.1}%); {}/{} tensors and {}/{} layers complete",
            gib(s.data_bytes_present),
            gib(s.data_bytes_expected),
            s.tensors_present,
            s.tensor_count,
            s.layers_present,
            g.layers.len()
        );
        let _ = writeln!(o, "              file is {} of {} bytes", grouped(s.file_bytes), grouped(s.expected_bytes));
        for m in &s.missing_shards {
            let _ = writeln!(o, "              missing shard: {m}");
        }
    }
    if s.vocab_only {
        let model = v.header.get("tokenizer.ggml.model").map(|m| m.to_string()).unwrap_or_default();
        let tokens = v.header.get("tokenizer.ggml.tokens").and_then(|t| t.as_array()).map_or(0, |a| a.len);
        let _ =
            writeln!(o, "kind          vocab only: a tokenizer file ({model}, {tokens} tokens, 0 tensors), not a model; llama.cpp loads it with vocab_only");
    }
    if let Some(b) = v.bytes_fetched {
        let _ = writeln!(o, "fetched       {} bytes over HTTP (the headers only)", grouped(b));
    }
    let _ = writeln!(
        o,
        "tensors       {} tensors, {} ({} bytes), {} parameters",
        s.tensor_count,
        both(s.tensor_bytes),
        grouped(s.tensor_bytes),
        grouped(g.parameter_count)
    );
    if let Some(vis) = &g.vision {
        // One line per encoder clip_init creates (vision, audio, audio generation), each with the
        // projector type its own key names: files with per-modality keys have no clip.projector_type.
        for e in &vis.encoders {
            let label = match e.modality {
                crate::model::vision::Modality::Vision => "vision",
                crate::model::vision::Modality::Audio => "audio",
                crate::model::vision::Modality::GenAudio => "gen audio",
            };
            let bytes = e.tensors.iter().map(|t| t.2).fold(0, u64::saturating_add);
            let known = if e.known { "" } else { " (a type this llama.cpp's mtmd does not know)" };
            let _ = writeln!(
                o,
                "{label:<13} {} blocks of width {}, projector {}{known} -> {} ({})",
                e.n_layer,
                e.n_embd,
                if e.projector_type.is_empty() { "?" } else { &e.projector_type },
                e.projection_dim,
                both(bytes)
            );
        }
        if vis.encoders.is_empty() {
            let _ = writeln!(
                o,
                "vision        {} blocks of width {}, projector {} -> {} ({})",
                vis.n_layers,
                vis.n_embd,
                vis.projector_type.as_deref().unwrap_or("?"),
                vis.projection_dim,
                both(vis.bytes)
            );
        }
    } else {
        let mtp = if g.n_mtp_layers > 0 { format!(" + {} MTP (not loaded by default)", g.n_mtp_layers) } else { String::new() };
        let _ = writeln!(o, "layers        {}{mtp}; hidden {}, vocab {}, trained context {}", g.n_layers, g.n_embd, g.n_vocab, g.context_length);
        let runs: Vec<&crate::model::LayerGeometry> = g.layers.iter().filter(|l| !l.mtp).collect();
        for kind in [LayerKind::Attention, LayerKind::Sliding, LayerKind::Mla, LayerKind::Recurrent, LayerKind::None] {
            let of: Vec<_> = runs.iter().filter(|l| l.kind == kind).collect();
            let Some(l) = of.first() else { continue };
            let detail = match kind {
                LayerKind::Attention | LayerKind::Sliding => format!(
                    "{} Q heads, {} KV heads, head dim K {} / V {}{}",
                    l.n_head,
                    l.n_head_kv,
                    l.head_dim_k,
                    l.head_dim_v,
                    l.window.map(|w| format!(", window {w}")).unwrap_or_default()
                ),
                LayerKind::Mla => format!("latent KV row of {} per token (V not cached)", l.head_dim_k),
                LayerKind::Recurrent => match l.recurrent {
                    Some(r) => format!("fixed state {} + {} f32 elements per sequence", r.conv_elements, r.state_elements),
                    None => "fixed state (size unknown for this architecture)".into(),
                },
                LayerKind::None => "no token mixing found".into(),
            };
            let name = match kind {
                LayerKind::Attention => "full attention",
                LayerKind::Sliding => "sliding window",
                LayerKind::Mla => "MLA",
                LayerKind::Recurrent => "recurrent",
                LayerKind::None => "other",
            };
            let _ = writeln!(o, "  {:<15} {:>3} layers: {detail}", name, of.len());
        }
        let map: String = g.layers.iter().map(|l| if l.mtp { '+' } else { letter(l.kind) }).collect();
        let _ = writeln!(o, "  layer map     {map}   (A full, S sliding, R recurrent, M MLA, + MTP)");
        if g.n_experts > 0 {
            let ffn = g.layers.iter().find(|l| l.n_experts > 0).map_or(0, |l| l.ffn_size);
            let moe = g.layers.iter().filter(|l| l.n_experts > 0 && !l.mtp).count();
            let _ = writeln!(
                o,
                "experts       {} routed ({} used per token), {} shared; expert FFN {}; {} MoE layers",
                g.n_experts, g.n_experts_used, g.n_experts_shared, ffn, moe
            );
        }
    }
    let mut types: Vec<_> = s.types.iter().collect();
    types.sort_by_key(|t| std::cmp::Reverse(t.1.bytes));
    let list: Vec<String> = types.iter().map(|(n, t)| format!("{n} {} ({})", t.tensors, gib(t.bytes))).collect();
    let _ = writeln!(o, "types         {}", list.join(", "));
    for w in s.warnings.iter().chain(&g.warnings) {
        let _ = writeln!(o, "warning: {w}");
    }
    if v.with_tensors {
        let _ = writeln!(o, "\n{:<48} {:<8} {:>24} {:>14} {:>16}  present", "tensor", "type", "shape", "bytes", "offset");
        for t in v.tensors {
            let shape = t.dims.iter().map(u64::to_string).collect::<Vec<_>>().join(" x ");
            let _ = writeln!(
                o,
                "{:<48} {:<8} {:>24} {:>14} {:>16}  {}",
                t.name,
                t.ggml_type.name(),
                shape,
                grouped(t.bytes),
                t.offset,
                if t.present { "yes" } else { "no" }
            );
        }
    }
    o
}
