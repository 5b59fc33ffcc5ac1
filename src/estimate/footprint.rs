//! The full footprint at given settings: every component separately, in bytes.

use super::compute;
use super::cpu_buffers::{CpuKind, cpu_weights};
use super::kv::{KvError, kv_layers, model_swa_cells};
use super::recurrent::{recurrent_bytes, unknown_state};
use super::settings::{FlashAttn, Resolved, Settings, SettingsError, resolve};
use super::vision_compute::{GEN_AUDIO_COMPUTE_NOTE, Mmproj, vision_compute};
use super::weights::{active_bytes_per_token, skipped_bytes, weights_bytes};
use crate::model::Geometry;
use crate::model::vision::Modality;
use crate::read::TensorEntry;
use serde::Serialize;

/// Memory llama.cpp allocates for a model at some settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Footprint {
    /// Settings as resolved.
    pub resolved: Resolved,
    /// Model buffers (loaded tensors, each padded to 32 bytes, plus the CPU's second copy of a
    /// tied token embedding whose type repacks: `weights_tied_copy_bytes`).
    pub weights_bytes: u64,
    /// Of those, the CPU_REPACK buffer's bytes when every layer is on the CPU (`cpu_kind`),
    /// including the output copy of a tied token embedding whose type repacks.
    pub weights_repack_bytes: u64,
    /// The plain CPU buffer's bytes then (repack + cpu = weights).
    pub weights_cpu_bytes: u64,
    /// The output copy of a tied token embedding llama.cpp adds to CPU_REPACK (usually 0).
    pub weights_tied_copy_bytes: u64,
    /// The file is mapped (`--mmap`, llama-server's default).
    pub mmap: bool,
    /// The CPU kind the repack split is for.
    pub cpu_kind: CpuKind,
    /// With mmap: the CPU_Mapped buffer(s) llama.cpp reports (file span of the CPU tensors,
    /// repacked ones between them included); 0 without mmap.
    pub weights_mapped_bytes: u64,
    /// With mmap: bytes of repacked tensors inside that span, read through the map once at load.
    pub weights_mapped_repacked_bytes: u64,
    /// Tensors in the file that llama.cpp does not load (MTP blocks).
    pub skipped_bytes: u64,
    /// K cache bytes.
    pub k_bytes: u64,
    /// V cache bytes.
    pub v_bytes: u64,
    /// K + V.
    pub kv_bytes: u64,
    /// Attention layers holding KV.
    pub kv_layers: u64,
    /// Recurrent conv state (R) bytes.
    pub recurrent_r_bytes: u64,
    /// Recurrent SSM/delta state (S) bytes.
    pub recurrent_s_bytes: u64,
    /// Extra recurrent rows (P): Qwen4-exp's PLE convolution history (`cache_ple_r_l`).
    pub recurrent_p_bytes: u64,
    /// R + S + P.
    pub recurrent_bytes: u64,
    /// Components whose figure is an estimate rather than llama.cpp's rule applied exactly
    /// (`compute` when not simulated; `kv_cache` for caches gguf-meter does not model yet).
    pub estimated: Vec<String>,
    /// Compute buffer (simulated, or estimated when `compute_simulated` is false).
    pub compute_bytes: u64,
    /// True when the compute buffer comes from replaying llama.cpp's graph allocation (exact on
    /// every recorded run); false for the calibrated estimate (architectures without a builder).
    pub compute_simulated: bool,
    /// Logits output buffer.
    pub output_bytes: u64,
    /// Vision projector weights (with `--mmproj`).
    pub mmproj_bytes: u64,
    /// Compute buffer the projector's clip context reserves at start-up (its warm-up image);
    /// `None`: an mmproj whose compute buffer gguf-meter cannot estimate.
    pub mmproj_compute_bytes: Option<u64>,
    /// That buffer after the largest image allowed has been encoded (it only grows).
    pub mmproj_compute_max_bytes: Option<u64>,
    /// Projector weights and compute go to the GPU (`--mmproj-offload`, llama-server's default).
    pub mmproj_offload: bool,
    /// The mmproj has an audio-generation (TTS) context: its weights are in `mmproj_bytes`, it
    /// reserves no compute buffer at load (so `mmproj_compute_bytes` is exact without it), and
    /// what a generation request allocates is not estimated: this says so.
    pub mmproj_gen_audio_compute: Option<&'static str>,
    /// Everything above.
    pub total_bytes: u64,
    /// Bytes read per generated token (decode speed bound input).
    pub active_bytes_per_token: u64,
}

/// Why a footprint cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FootprintError {
    /// Bad settings.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// KV sizing impossible.
    #[error(transparent)]
    Kv(#[from] KvError),
    /// Geometry no real model has (a hostile or corrupt header): no estimate is made.
    #[error("implausible geometry: {0}")]
    Implausible(String),
    /// A recurrent architecture whose state size gguf-meter cannot derive.
    #[error("architecture {0:?} has recurrent layers whose state size is unknown to gguf-meter; weights are known, memory is not")]
    UnknownRecurrent(String),
}

/// Why the pinned llama.cpp aborts for this model at these settings, when it does: T5's decoder
/// adds its relative position bias to the KQ scores of every KV stream, and with several
/// sequences in separate streams (`-np` > 1 without `--kv-unified`) the bias cannot broadcast
/// (`GGML_ASSERT(ggml_can_repeat(b, a))`, ggml.c; seen on every such recorded case).
pub fn llama_cpp_aborts(g: &Geometry, r: &Resolved) -> Option<String> {
    (g.architecture == "t5" && r.n_seq_max > 1 && !r.kv_unified).then(|| {
        format!(
            "llama.cpp aborts for T5 with {} sequences in separate KV streams (its position bias cannot broadcast over them): pass --kv-unified or -np 1; figures are for the allocation it attempts",
            r.n_seq_max
        )
    })
}

/// Computes the footprint of a model (and of an optional mmproj: weights, or weights and
/// geometry) at `s`.
pub fn footprint(g: &Geometry, tensors: &[TensorEntry], s: &Settings, mmproj: impl Into<Mmproj>) -> Result<Footprint, FootprintError> {
    let mm: Mmproj = mmproj.into();
    let r = resolve(s, g)?;
    plausible(g)?;
    if unknown_state(g) {
        return Err(FootprintError::UnknownRecurrent(g.architecture.clone()));
    }
    let kv = kv_layers(g, &r)?;
    let k_bytes = kv.iter().map(|l| l.k_bytes).fold(0, u64::saturating_add);
    let v_bytes = kv.iter().map(|l| l.v_bytes).fold(0, u64::saturating_add);
    let (rr, rs, rp) = recurrent_bytes(g, &r);
    let (compute, compute_simulated) = compute::compute(g, tensors, &r, r.n_ctx_seq, model_swa_cells(g, &r));
    // output_reserve(n_seq_max) at construction: logits for one token per sequence.
    // T5 also keeps the encoder's embeddings (llama-context.cpp `output_reserve`, "hacky enc-dec support").
    let per_output = if g.architecture == "t5" { g.n_vocab.saturating_add(g.n_embd) } else { g.n_vocab };
    let output = per_output.saturating_mul(r.n_seq_max).saturating_mul(4);
    let cpu = cpu_weights(tensors, g, s.load_mtp, s.cpu_kind);
    // A tied token embedding whose type repacks is loaded twice on the CPU: as the embedding, and
    // repacked as the output matrix (checked: Command R7B Q4_K, 562.5 MiB more than the file).
    let weights = weights_bytes(tensors, g, s.load_mtp).saturating_add(cpu.tied_copy_bytes);
    let vision = match (&mm.vision, mm.weights_bytes) {
        (_, 0) => Some((0, 0, false)),
        // clip tries flash attention and keeps it wherever the backend has the op (all do).
        (Some(v), _) => vision_compute(v, s.flash_attn != FlashAttn::Off, &mm.settings).ok().map(|c| (c.warmup_bytes, c.max_bytes, c.estimate)),
        (None, _) => None,
    };
    let gen_audio = mm.vision.as_ref().is_some_and(|v| v.encoders.iter().any(|e| e.modality == Modality::GenAudio)) && mm.weights_bytes > 0;
    let mm_estimated = vision.is_some_and(|(_, _, e)| e);
    let vision = vision.map(|(w, m, _)| (w, m));
    let mmproj_bytes = mm.weights_bytes;
    let mm_compute = vision.map_or(0, |(w, _)| w);
    let total = [weights, k_bytes, v_bytes, rr, rs, rp, compute, output, mmproj_bytes, mm_compute].iter().fold(0u64, |a, &b| a.saturating_add(b));
    Ok(Footprint {
        weights_bytes: weights,
        weights_repack_bytes: cpu.repack_bytes,
        weights_cpu_bytes: cpu.cpu_bytes,
        weights_tied_copy_bytes: cpu.tied_copy_bytes,
        mmap: s.mmap,
        cpu_kind: s.cpu_kind,
        weights_mapped_bytes: if s.mmap { cpu.mapped_bytes } else { 0 },
        weights_mapped_repacked_bytes: if s.mmap { cpu.mapped_repacked_bytes } else { 0 },
        skipped_bytes: skipped_bytes(tensors, g, s.load_mtp),
        k_bytes,
        v_bytes,
        kv_bytes: k_bytes.saturating_add(v_bytes),
        kv_layers: kv.len() as u64,
        recurrent_r_bytes: rr,
        recurrent_s_bytes: rs,
        recurrent_p_bytes: rp,
        recurrent_bytes: rr.saturating_add(rs).saturating_add(rp),
        compute_bytes: compute,
        compute_simulated,
        estimated: g
            .estimated
            .iter()
            .cloned()
            .chain((!compute_simulated).then(|| "compute".to_string()))
            .chain(mm_estimated.then(|| "mmproj compute".to_string()))
            .collect(),
        output_bytes: output,
        mmproj_bytes,
        mmproj_compute_bytes: vision.map(|(w, _)| w),
        mmproj_compute_max_bytes: vision.map(|(_, m)| m),
        mmproj_offload: mm.settings.offload,
        mmproj_gen_audio_compute: gen_audio.then_some(GEN_AUDIO_COMPUTE_NOTE),
        total_bytes: total,
        active_bytes_per_token: active_bytes_per_token(tensors, g),
        resolved: r,
    })
}

/// Largest value any dimension of a real model reaches, with room to spare (vocabularies
/// are ~2^18, hidden sizes ~2^14); beyond it the header is corrupt or hostile.
const MAX_DIM: u64 = 1 << 32;

/// Refuses geometry whose sizes no real model has, so the estimates cannot overflow.
fn plausible(g: &Geometry) -> Result<(), FootprintError> {
    let check = |what: &str, v: u64| if v > MAX_DIM { Err(FootprintError::Implausible(format!("{what} = {v}"))) } else { Ok(()) };
    check("n_vocab", g.n_vocab)?;
    check("n_embd", g.n_embd)?;
    for l in &g.layers {
        for (what, v) in [
            ("n_head", l.n_head),
            ("n_head_kv", l.n_head_kv),
            ("head_dim_k", l.head_dim_k),
            ("head_dim_v", l.head_dim_v),
            ("ffn_size", l.ffn_size),
            ("n_experts_used", l.n_experts_used),
            ("window", l.window.unwrap_or(0)),
        ] {
            check(&format!("blk.{}.{what}", l.index), v)?;
        }
        if let Some(rs) = l.recurrent {
            check(&format!("blk.{}.recurrent conv state", l.index), rs.conv_elements)?;
            check(&format!("blk.{}.recurrent state", l.index), rs.state_elements)?;
            check(&format!("blk.{}.recurrent extra row", l.index), rs.extra_elements)?;
        }
    }
    Ok(())
}
