//! The compute buffer of an mmproj's clip context (llama.cpp tools/mtmd/clip.cpp).
//!
//! llama-server creates the clip context at start-up and runs a warm-up: it builds the
//! encoder graph for one dummy square image and `ggml_backend_sched_reserve`s it. The
//! image is not the largest one the projector accepts: for Qwen-VL types clip.cpp fixes it
//! at 46x46 output tokens "to avoid OOM on warmup" (`set_warmup_n_tokens(46*46)`), whatever
//! `--image-max-tokens` says. A larger image later grows the scheduler's buffer to that
//! image's graph, so both figures are given: the warm-up reservation (allocated at start,
//! and what llama-server's `--fit` counts) and the size after the largest allowed image.
//!
//! Only projector types whose graph was measured (scripts/oracle/oracle_mmproj.cpp,
//! fixtures/oracle/mmproj-*.json) are modelled; for any other the size is unknown.

mod clip_graph;

use crate::model::VisionGeometry;
use crate::model::vision::{ClipEncoder, Modality};
use serde::Serialize;

/// llama-server's mmproj flags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MmprojSettings {
    /// `--mmproj-offload` (default) / `--no-mmproj-offload`: weights and compute on the GPU.
    pub offload: bool,
    /// `--image-max-tokens`: output tokens of the largest image (`None`: the projector's default).
    pub image_max_tokens: Option<u64>,
}

impl Default for MmprojSettings {
    /// llama-server's defaults (common/common.h: `mmproj_use_gpu = true`, `image_max_tokens = -1`).
    fn default() -> Self {
        MmprojSettings { offload: true, image_max_tokens: None }
    }
}

/// A vision projector loaded next to the model: what a footprint needs from it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Mmproj {
    /// Weight buffer bytes (all tensors: mtmd loads the file whole); 0 = no mmproj.
    pub weights_bytes: u64,
    /// Its geometry; `None` leaves the compute buffer unknown (when `weights_bytes > 0`).
    pub vision: Option<VisionGeometry>,
    /// The mmproj flags.
    pub settings: MmprojSettings,
}

impl From<u64> for Mmproj {
    /// Weights only, compute unknown: for callers that know no geometry.
    fn from(weights_bytes: u64) -> Self {
        Mmproj { weights_bytes, ..Mmproj::default() }
    }
}

impl From<&Mmproj> for Mmproj {
    fn from(m: &Mmproj) -> Self {
        m.clone()
    }
}

/// The clip context's compute buffer (summed over the encoders of the file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct VisionCompute {
    /// Output tokens of the warm-up image (or audio clip: the first encoder's).
    pub warmup_tokens: u64,
    /// Patches of the warm-up image (the encoder's sequence length).
    pub warmup_patches: u64,
    /// Buffer reserved at start-up.
    pub warmup_bytes: u64,
    /// Output tokens of the largest image allowed.
    pub max_tokens: u64,
    /// Buffer after encoding the largest image (never below the warm-up reservation).
    pub max_bytes: u64,
    /// Flash attention in the encoder (clip tries it and keeps it where the backend has it).
    pub flash_attn: bool,
    /// False when every encoder's graph is rebuilt and replayed (exact); true when one is
    /// estimated from the generic ViT graph.
    pub estimate: bool,
    /// The file has an audio-generation context: it adds 0 bytes at load (exact), and what it
    /// allocates per generation request is not given ([`GEN_AUDIO_COMPUTE_NOTE`]).
    pub gen_audio_unreserved: bool,
}

/// One encoder's compute buffer (clip_init makes one context per encoder).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EncoderCompute {
    /// Vision or audio.
    pub modality: Modality,
    /// The projector type.
    pub projector_type: String,
    /// Side of the warm-up image in pixels (0 for audio).
    pub warmup_side: u64,
    /// Mel frames of the warm-up audio clip (0 for vision).
    pub warmup_frames: u64,
    /// Output tokens of the warm-up input: what one image or 30 s clip takes of the context.
    pub warmup_tokens: u64,
    /// Encoder positions of the warm-up input.
    pub warmup_patches: u64,
    /// Buffer reserved at warm-up.
    pub warmup_bytes: u64,
    /// Side of the largest image clip accepts (its image_max_pixels), 0 for audio.
    pub largest_side: u64,
    /// Buffer the largest image's graph needs on its own.
    pub largest_bytes: u64,
    /// Output tokens of the largest image.
    pub max_tokens: u64,
    /// Buffer after the largest image (never below the warm-up one).
    pub max_bytes: u64,
    /// How the figure was obtained.
    pub method: Method,
}

/// How an encoder's compute buffer is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Its clip graph is rebuilt and ggml-alloc replayed on it.
    Simulated,
    /// The generic ViT graph over the projector's patches (the projector tail left out), or a
    /// plain transformer of the encoder's declared geometry.
    Estimate,
    /// Nothing is reserved at load, exactly: clip_init gives the audio-generation context no
    /// warm-up ("TODO: fix warmup", only `buf_compute_meta`, host metadata, is sized), so its
    /// scheduler's buffers are allocated by the first generation request, sized by that
    /// request's graph, which gguf-meter does not estimate.
    NotReserved,
}

/// Why an audio-generation context's compute buffer is 0 at load and not given at use.
pub const GEN_AUDIO_COMPUTE_NOTE: &str = "no compute buffer reserved at load (clip_init runs no warm-up for the audio-generation context); \
     generation allocates per request, a size gguf-meter does not estimate";

/// Why the compute buffer of an mmproj is not estimated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisionComputeError {
    /// A projector type this llama.cpp's mtmd does not know: llama-server refuses the file.
    #[error("projector type {0:?} is not one llama.cpp's mtmd knows (clip-impl.h PROJECTOR_TYPE_NAMES): llama-server cannot load this mmproj")]
    UnknownType(String),
    /// An encoder gguf-meter cannot size yet (no graph and no generic fallback applies).
    #[error("projector type {0:?}: its compute buffer is not modelled by gguf-meter (weights are counted)")]
    Unknown(String),
    /// Geometry no real vision tower has.
    #[error("implausible vision geometry: {0}")]
    Implausible(String),
}

/// Side of the Qwen-VL warm-up image in output tokens (clip.cpp `set_warmup_n_tokens(46*46)`).
const QWEN_WARMUP_SIDE: u64 = 46;
/// Qwen-VL's default `image_max_tokens` (clip.cpp `set_limit_image_tokens(8, 4096)`).
const QWEN_MAX_TOKENS: u64 = 4096;
/// Widest image side gguf-meter sizes (clip's pixel counts are 32-bit: 46340² < 2^31).
const MAX_IMAGE_SIDE: u64 = 46_340;
/// Mel frames of clip's audio warm-up (`warmup_audio_size`: 30 s at 100 frames/s).
const AUDIO_WARMUP_FRAMES: u64 = 3000;

/// The compute buffer of every encoder in `v` with flash attention `flash_attn` (`-fa auto`
/// counts as on), summed: llama-server keeps each encoder's context.
pub fn vision_compute(v: &VisionGeometry, flash_attn: bool, s: &MmprojSettings) -> Result<VisionCompute, VisionComputeError> {
    if v.encoders.is_empty() {
        let kind = v.projector_type.as_deref().unwrap_or("(none)");
        return Err(VisionComputeError::Unknown(kind.into()));
    }
    let mut out: Option<VisionCompute> = None;
    for e in &v.encoders {
        let c = encoder_compute(e, flash_attn, s)?;
        let o = out.get_or_insert(VisionCompute {
            warmup_tokens: c.warmup_tokens,
            warmup_patches: c.warmup_patches,
            warmup_bytes: 0,
            max_tokens: c.max_tokens,
            max_bytes: 0,
            flash_attn,
            estimate: false,
            gen_audio_unreserved: false,
        });
        o.warmup_bytes = o.warmup_bytes.saturating_add(c.warmup_bytes);
        o.max_bytes = o.max_bytes.saturating_add(c.max_bytes);
        o.estimate |= c.method == Method::Estimate;
        o.gen_audio_unreserved |= c.method == Method::NotReserved;
    }
    out.ok_or_else(|| VisionComputeError::Unknown("(none)".into()))
}

/// Weight bytes mtmd loads: every encoder's tensors, each padded to the CPU buffer alignment.
pub fn weights_bytes(v: &VisionGeometry) -> u64 {
    v.encoders.iter().flat_map(|e| &e.tensors).map(|t| t.2.div_ceil(32) * 32).fold(0, u64::saturating_add)
}

/// clip.cpp's resolved `n_merge` for a projector type (load_hparams).
pub fn n_merge(e: &ClipEncoder) -> u64 {
    let sm = e.spatial_merge;
    let sf = e.scale_factor;
    match e.projector_type.as_str() {
        "qwen2vl_merger" | "qwen2.5vl_merger" | "qwen3vl_merger" | "ling3vl" | "glm4v" | "glm5v" | "mimovl" | "minimax_m3" | "youtuvl" | "muse-glimmer"
        | "exaone4_5" => sm.unwrap_or(2),
        "paddleocr" => 2,
        "hunyuanvl" => sm.unwrap_or(2),
        "pixtral" | "lightonocr" | "dots3note_v" => sm.unwrap_or(1),
        // MiniCPM-V 4.6: ViT merger 2x2 then final merger 2x2 (load_hparams `n_merge = 4`)
        "gemma3" | "minicpmv4_6" => sf.unwrap_or(4),
        "gemma4v" => sf.unwrap_or(3),
        "phi4" | "gemma4uv" => 1,
        "step3vl" => sf.unwrap_or(4),
        _ => sf.unwrap_or(1),
    }
    .max(1)
}

/// Warm-up image side, largest image side and the token rule, per clip.cpp load_hparams /
/// clip_n_output_tokens.
struct Sizing {
    warmup_side: u64,
    largest_side: u64,
}

/// Integer square root (clip casts `sqrt` of an int to int).
fn isqrt(x: u64) -> u64 {
    let mut r = ((x as f64).sqrt() as u64).min(u64::from(u32::MAX));
    while r.checked_mul(r).is_none_or(|s| s > x) {
        r -= 1;
    }
    while (r + 1).checked_mul(r + 1).is_some_and(|s| s <= x) {
        r += 1;
    }
    r
}

fn sizing(e: &ClipEncoder, s: &MmprojSettings) -> Sizing {
    let (p, m) = (e.patch_size.max(1), n_merge(e));
    let unit = p.saturating_mul(m);
    let area = unit.saturating_mul(unit);
    let custom = s.image_max_tokens.filter(|&t| t > 0);
    let tokens_side = |n: u64| isqrt(n).saturating_mul(unit);
    // set_limit_image_tokens(min, max): max_pixels = max tokens x patch area; -1 when not set
    let limit = |default_max: Option<u64>| custom.or(default_max).map(|t| t.saturating_mul(area));
    let (warmup, max_pixels) = match e.projector_type.as_str() {
        "qwen2vl_merger" | "qwen2.5vl_merger" | "qwen3vl_merger" | "ling3vl" | "glm4v" => {
            (tokens_side(QWEN_WARMUP_SIDE * QWEN_WARMUP_SIDE), limit(Some(QWEN_MAX_TOKENS)))
        }
        "pixtral" | "kimivl" => (tokens_side(256), limit(Some(1024))),
        "lightonocr" => (tokens_side(256), limit(None)),
        // dsv4_max_n_token 384 (or --image-max-tokens, at least 16) over the merged patch area;
        // the warm-up is the largest square of at most 256 of them
        "deepseek4v" => {
            let max_tok = custom.map_or(DSV4_MAX_TOKENS, |t| t.max(16));
            let w = isqrt(max_tok.min(256));
            (tokens_side(w * w), Some(max_tok.saturating_mul(area)))
        }
        "exaone4_5" | "dots_ocr" | "dots3note_v" | "mimovl" | "glm5v" => (tokens_side(QWEN_WARMUP_SIDE * QWEN_WARMUP_SIDE), e.max_pixels),
        "paddleocr" => (tokens_side(28 * 28), e.max_pixels),
        "kimik25" => match (e.min_pixels.filter(|&p| p > 0), e.max_pixels.filter(|&p| p > 0)) {
            (Some(_), Some(max)) => (isqrt(max), Some(max)),
            _ => {
                let lim = limit(Some(4096));
                (isqrt(lim.unwrap_or(0)), lim)
            }
        },
        "phi4" => (tokens_side(256), e.max_pixels),
        // set_limit_image_tokens(70, 1120), then set_warmup_n_tokens(256)
        "gemma4v" | "gemma4uv" => (tokens_side(256), limit(Some(1120))),
        "minimax_m3" => (tokens_side(16 * 16), limit(Some(576))),
        "muse-glimmer" => (tokens_side(32 * 32), limit(Some(4096))),
        "youtuvl" => (tokens_side(16 * 16), limit(Some(62500))),
        // set_limit_image_tokens(256, 16384), then the file's image_max_pixels if it has one
        "hunyuanvl" => (tokens_side(32 * 32), e.max_pixels.filter(|&p| p > 0).or(limit(Some(16384)))),
        // set_limit_image_tokens sets the warm-up side to sqrt(max_pixels) (clip-model.h)
        "lfm2" => (isqrt(limit(Some(256)).unwrap_or(0)), limit(Some(256))),
        "idefics3" => (e.image_size, limit(None)),
        _ => (e.image_size, e.max_pixels),
    };
    let largest = match max_pixels {
        Some(px) if px > 0 && unit > 0 => (isqrt(px) / unit * unit).max(unit),
        _ => e.image_size,
    };
    // clip keeps pixel counts in 32-bit ints: no image it encodes is wider than this
    let cap = MAX_IMAGE_SIDE / unit.max(1) * unit.max(1);
    Sizing { warmup_side: warmup.min(cap), largest_side: largest.min(cap) }
}

/// Output tokens of a square image of `side` pixels (clip_n_output_tokens).
pub fn image_tokens(e: &ClipEncoder, side: u64) -> u64 {
    let p = e.patch_size.max(1);
    let m = n_merge(e);
    let np = side / p;
    let n = np * np;
    match e.projector_type.as_str() {
        "resampler" => e.query_num.filter(|&q| q > 0).unwrap_or(match e.minicpmv_version.unwrap_or(2) {
            2 => 96,
            _ => 64,
        }),
        "qwen2vl_merger" | "qwen2.5vl_merger" | "qwen3vl_merger" | "ling3vl" | "exaone4_5" | "mimovl" | "minimax_m3" | "glm4v" | "glm5v" | "youtuvl"
        | "muse-glimmer" => {
            let q = side / (p * 2);
            q * q
        }
        "gemma3" | "gemma4v" | "gemma4uv" | "idefics3" | "internvl" | "nemotron_v2_vl" | "llama4" => n / (m * m),
        "lfm2" | "kimivl" | "kimik25" => {
            let q = side.div_ceil(p * m);
            q * q
        }
        "pixtral" | "lightonocr" => {
            let q = np / m;
            if e.has("v.token_embd.img_break") { q * q + q.saturating_sub(1) } else { q * q }
        }
        "paddleocr" | "dots_ocr" | "dots3note_v" => n.div_ceil(m * m),
        "minicpmv4_6" => n / (m * m),
        "cogvlm" => n + 2,
        // adaptive average pool to 8x8 tokens
        "yasa2" => 64,
        "deepseek4v" => {
            let q = side.div_ceil(p * m);
            dsv4_tokens(q, q)
        }
        // the MobileNet-V5 fusion always ends at 16x16; clip counts image_size / patch_size
        // (Gemma 3n's converter writes a patch size that makes it 256)
        "gemma3nv" => e.image_size / p,
        "step3vl" => n / (m * m),
        // a newline column per row, and the begin / end rows
        "hunyuanvl" => (np / m + 1) * (np / m) + 2,
        "ldp" | "ldpv2" | "adapter" => n / 4 + if e.has("adapter.boi") { 2 } else { 0 },
        _ => n,
    }
}

/// DeepSeek-V4 vision's default token budget (clip.cpp `dsv4_max_n_token = 384`).
const DSV4_MAX_TOKENS: u64 = 384;

/// Rows of DeepSeek-V4 vision's token block for a `w` x `h` merged grid (clip-impl.h
/// `dsv4_get_block_layout`, no leading pad): start, rows (made even) of w + 1 (a newline),
/// a pad pair when the row pairs are odd, end.
pub fn dsv4_tokens(w: u64, h: u64) -> u64 {
    let rows = h + h % 2;
    let row_len = w + 1;
    let pad_last = (rows / 2 * row_len) % 2 * 2;
    (1 + rows * row_len + pad_last + 1).max(1)
}

/// Output tokens of `frames` mel frames (clip_n_output_tokens, whisper-style encoders).
pub fn audio_tokens(e: &ClipEncoder, frames: u64) -> u64 {
    let mut n = frames;
    if matches!(e.projector_type.as_str(), "ultravox" | "voxtral" | "meralion") {
        let sf = e.stack_factor.unwrap_or(1).max(1);
        n = n.div_ceil(sf) * sf / sf;
    }
    n /= 2;
    if matches!(e.projector_type.as_str(), "qwen2a" | "voxtral" | "musicflamingo") {
        n /= 2;
    }
    if e.projector_type == "qwen3a" {
        // 100-frame chunks, 13 tokens each (three stride-2 convs)
        return frames / 100 * 13;
    }
    if e.projector_type == "qwen3tts_spkenc" {
        // pooling gives one speaker embedding, whatever the clip length
        return 1;
    }
    if e.projector_type == "dots3note_a" {
        // three stride-2 conv2d over the frames (clip_n_output_tokens: (n + 7) / 8)
        return frames.div_ceil(8);
    }
    if e.projector_type == "parakeet" {
        // load_hparams asserts a subsampling factor of 8 (three stride-2 convs), rounded up
        return frames.div_ceil(8);
    }
    if e.projector_type == "granite_speech" {
        // the Q-Former turns each window of ws frames into ws / ds queries
        let (ws, ds) = e.audio_proj_window.unwrap_or((1, 1));
        return frames.div_ceil(ws.max(1)).saturating_mul(ws / ds.max(1));
    }
    if e.projector_type == "lfm2a" {
        // three stride-2 convs, each rounding up (clip_n_output_tokens)
        return frames.div_ceil(2).div_ceil(2).div_ceil(2);
    }
    if e.projector_type == "gemma4a" {
        // two stride-2 convs of kernel 3, padding 1: (n - 1) / 2 + 1 each
        let once = |n: u64| n.saturating_sub(1) / 2 + 1;
        return once(once(frames));
    }
    if e.projector_type == "gemma4ua" {
        // encoder-free: one token per raw-waveform frame
        return frames;
    }
    if e.projector_type == "glma" {
        // stacked by the factor after the encoder, plus the BOI and EOI rows
        n = n / e.stack_factor.unwrap_or(1).max(1) + 2;
    }
    n
}

/// One encoder's compute buffer: warm-up input and largest image.
pub fn encoder_compute(e: &ClipEncoder, flash_attn: bool, s: &MmprojSettings) -> Result<EncoderCompute, VisionComputeError> {
    if !e.known {
        return Err(VisionComputeError::UnknownType(if e.projector_type.is_empty() { "(none)".into() } else { e.projector_type.clone() }));
    }
    let kind = e.projector_type.as_str();
    if e.modality == Modality::GenAudio {
        // clip_init loads its weights but reserves nothing (no init_ctx, no warmup);
        // clip_n_output_tokens gives both TTS types one output per call
        return Ok(EncoderCompute {
            modality: e.modality,
            projector_type: kind.into(),
            warmup_side: 0,
            warmup_frames: 0,
            warmup_tokens: 1,
            warmup_patches: 0,
            warmup_bytes: 0,
            largest_side: 0,
            largest_bytes: 0,
            max_tokens: 1,
            max_bytes: 0,
            method: Method::NotReserved,
        });
    }
    plausible_encoder(e)?;
    if e.modality == Modality::Audio {
        let frames = AUDIO_WARMUP_FRAMES;
        let tokens = audio_tokens(e, frames);
        // an audio encoder without its own graph here: the whisper encoder and Qwen2-Audio's
        // projector (the shape most of mtmd's audio towers share), labelled an estimate
        // (a type's own graph that cannot be built from these tensors falls back the same way)
        let simulated = clip_graph::tail(kind).and_then(|t| clip_graph::reserve(e, t, flash_attn, 0, frames, 1));
        let (bytes, method) = match simulated {
            Some(b) => (Some(b), Method::Simulated),
            None => (
                clip_graph::reserve(e, clip_graph::Tail::Qwen2a, flash_attn, 0, frames, 1).or_else(|| clip_graph::reserve_declared(e, flash_attn, frames / 2)),
                Method::Estimate,
            ),
        };
        let bytes =
            bytes.ok_or_else(|| VisionComputeError::Unknown(format!("{kind}: the encoder's tensors are not the whisper layout gguf-meter rebuilds")))?;
        return Ok(EncoderCompute {
            modality: e.modality,
            projector_type: kind.into(),
            warmup_side: 0,
            warmup_frames: frames,
            warmup_tokens: tokens,
            warmup_patches: frames / 2,
            warmup_bytes: bytes,
            largest_side: 0,
            largest_bytes: bytes,
            max_tokens: tokens,
            max_bytes: bytes,
            method,
        });
    }
    let sz = sizing(e, s);
    let merge = n_merge(e);
    let bytes_at = |side: u64| -> Result<(u64, Method), VisionComputeError> {
        // a variant the type's own graph does not cover (LLaVA feature layers) falls back to the
        // generic ViT, as does a type without its own graph
        let simulated = clip_graph::tail(kind).and_then(|t| clip_graph::reserve(e, t, flash_attn, side, 0, merge));
        let (bytes, method) = match simulated {
            Some(b) => (Some(b), Method::Simulated),
            None => {
                let np = side / e.patch_size.max(1);
                let generic = clip_graph::reserve_generic_vit(e, flash_attn, side).or_else(|| clip_graph::reserve_declared(e, flash_attn, np * np));
                (generic, Method::Estimate)
            }
        };
        let bytes = bytes
            .ok_or_else(|| VisionComputeError::Unknown(format!("{kind}: the vision tower lacks tensors the ViT graph needs (v.blk.N attention weights)")))?;
        Ok((bytes, method))
    };
    let (warmup_bytes, method) = bytes_at(sz.warmup_side)?;
    let (largest_bytes, _) = if sz.largest_side == sz.warmup_side { (warmup_bytes, method) } else { bytes_at(sz.largest_side)? };
    let np = sz.warmup_side / e.patch_size.max(1);
    Ok(EncoderCompute {
        modality: e.modality,
        projector_type: kind.into(),
        warmup_side: sz.warmup_side,
        warmup_frames: 0,
        warmup_tokens: image_tokens(e, sz.warmup_side),
        warmup_patches: np * np,
        warmup_bytes,
        largest_side: sz.largest_side,
        largest_bytes,
        max_tokens: image_tokens(e, sz.largest_side).max(image_tokens(e, sz.warmup_side)),
        max_bytes: largest_bytes.max(warmup_bytes),
        method,
    })
}

fn plausible_encoder(e: &ClipEncoder) -> Result<(), VisionComputeError> {
    let vision = e.modality == Modality::Vision;
    for (what, x, max) in [
        ("embedding_length", e.n_embd, 1 << 16),
        ("projector merge (spatial_merge_size / projector.scale_factor)", n_merge(e), 16),
        ("feed_forward_length", e.n_ff.max(1), MAX_VISION_DIM),
        ("attention.head_count", e.n_head, 4096),
        ("block_count", e.n_layer.max(1), 4096),
        ("patch_size", if vision { e.patch_size } else { 1 }, 1024),
        ("image_size", if vision { e.image_size.max(1) } else { 1 }, 1 << 16),
        ("num_mel_bins", if vision { 1 } else { e.n_mel_bins }, 1024),
    ] {
        if x == 0 || x > max {
            return Err(VisionComputeError::Implausible(format!("clip.{}.{what} = {x}", if vision { "vision" } else { "audio" })));
        }
    }
    if e.tensors.len() > 1 << 16 {
        return Err(VisionComputeError::Implausible(format!("{} tensors", e.tensors.len())));
    }
    Ok(())
}

/// Patches per output token (`spatial_merge_size`², default 2x2).
fn merge_area(v: &VisionGeometry) -> u64 {
    let m = v.spatial_merge.unwrap_or(2).max(1);
    m.saturating_mul(m)
}

/// The compute buffer the encoder graph of one image of `tokens` output tokens needs.
pub fn image_bytes(v: &VisionGeometry, tokens: u64, flash_attn: bool) -> Result<u64, VisionComputeError> {
    match v.projector_type.as_deref() {
        Some("qwen3vl_merger") if v.deepstack_layers == 0 => {}
        other => return Err(VisionComputeError::Unknown(other.unwrap_or("(none)").into())),
    }
    plausible(v)?;
    Ok(qwen3vl_bytes(v, tokens.saturating_mul(merge_area(v)), flash_attn))
}

/// Peak live bytes of clip.cpp's qwen3vl graph (models/qwen3vl.cpp) over `n` patches, as
/// ggml's graph allocator packs it. Per patch, in f32 elements, with E = width, F = FFN width:
/// the raw image (3·p² pixels) and the M-RoPE positions (4) live throughout; on top of them
/// the larger of the attention step (residual, fused QKV, roped Q and K, f16 casts: 6E; with
/// flash attention off 7E plus the n·heads score row) and the FFN step (F + 2E). When E fits
/// in the raw image's block (E ≤ 3·p²) the allocator reuses it once the patches are embedded,
/// saving E/2 (attention, flash on), E (flash off) and E (FFN). Exact on every measured case.
fn qwen3vl_bytes(v: &VisionGeometry, n: u64, flash_attn: bool) -> u64 {
    let (e, p2) = (v.n_embd, 3 * v.patch_size * v.patch_size);
    let hole = e <= p2;
    let attn = if flash_attn { 6 * e - if hole { e / 2 } else { 0 } } else { (7 * e - if hole { e } else { 0 }).saturating_add(v.n_head.saturating_mul(n)) };
    let ffn = v.n_ff + 2 * e - if hole { e } else { 0 };
    let per_patch = (p2 + 4).saturating_add(attn.max(ffn));
    per_patch.saturating_mul(n).saturating_mul(4)
}

/// Largest width, FFN width, head count and patch side of any real vision tower, with room.
const MAX_VISION_DIM: u64 = 1 << 20;

fn plausible(v: &VisionGeometry) -> Result<(), VisionComputeError> {
    for (what, x) in [
        ("embedding_length", v.n_embd),
        ("feed_forward_length", v.n_ff),
        ("head_count", v.n_head),
        ("patch_size", v.patch_size),
        ("spatial_merge_size", v.spatial_merge.unwrap_or(2)),
    ] {
        if x == 0 || x > MAX_VISION_DIM || (what == "patch_size" && x > 1024) || (what == "spatial_merge_size" && x > 64) {
            return Err(VisionComputeError::Implausible(format!("clip.vision.{what} = {x}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::analyze;
    use crate::read::open_model;

    fn qwen35() -> VisionGeometry {
        let set = open_model(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mmproj-qwen35-f16.gguf")).unwrap();
        let tensors = set.tensors();
        analyze(set.metadata(), &tensors).vision.unwrap()
    }

    #[test]
    fn qwen35_warmup_is_llama_cpps_figure() {
        // fixtures/oracle/mmproj-qwen35-f16.json: 1472x1472 warm-up image, 8464 patches.
        let d = MmprojSettings::default();
        let on = vision_compute(&qwen35(), true, &d).unwrap();
        assert_eq!((on.warmup_tokens, on.warmup_patches, on.warmup_bytes), (2116, 8464, 260_149_504));
        assert_eq!((on.max_tokens, on.max_bytes), (4096, 503_578_624));
        let off = vision_compute(&qwen35(), false, &d).unwrap();
        assert_eq!((off.warmup_bytes, off.max_bytes), (4_884_066_560, 17_758_945_280));
    }

    #[test]
    fn image_max_tokens_moves_only_the_largest_image() {
        let small = vision_compute(&qwen35(), true, &MmprojSettings { offload: true, image_max_tokens: Some(256) }).unwrap();
        assert_eq!((small.warmup_bytes, small.max_bytes), (260_149_504, 260_149_504));
        assert_eq!(image_bytes(&qwen35(), 256, true).unwrap(), 31_473_664);
    }

    #[test]
    fn unknown_types_and_deepstack() {
        let d = MmprojSettings::default();
        let mut other = qwen35();
        other.encoders[0].projector_type = "not-a-projector".into();
        other.encoders[0].known = false;
        assert!(matches!(vision_compute(&other, true, &d), Err(VisionComputeError::UnknownType(_))));
        // a type without its own graph here is sized from the generic ViT graph, labelled an estimate
        let mut generic = qwen35();
        generic.encoders[0].projector_type = "deepseekocr".into();
        assert!(vision_compute(&generic, true, &d).unwrap().estimate);
        // an encoder neither rebuilt nor a standard ViT / whisper tower (a conformer's tensors
        // here: none of the whisper names) still gets a labelled estimate, never "unknown"
        let mut conformer = qwen35();
        let e = &mut conformer.encoders[0];
        (e.projector_type, e.modality, e.n_mel_bins) = ("parakeet".into(), Modality::Audio, 80);
        let c = vision_compute(&conformer, true, &d).unwrap();
        assert!(c.estimate && c.warmup_bytes > 0);
        let mut mobilenet = qwen35();
        mobilenet.encoders[0].projector_type = "gemma3nv".into();
        mobilenet.encoders[0].tensors.retain(|t| !t.0.starts_with("v.blk."));
        let c = vision_compute(&mobilenet, true, &d).unwrap();
        assert!(c.estimate && c.warmup_bytes > 0);
        let none = VisionGeometry { encoders: Vec::new(), ..qwen35() };
        assert!(vision_compute(&none, true, &d).is_err());
    }

    #[test]
    fn hostile_geometry_is_refused_not_overflowed() {
        let d = MmprojSettings::default();
        let mut huge = qwen35();
        huge.encoders[0].n_embd = u64::MAX;
        assert!(matches!(vision_compute(&huge, false, &d), Err(VisionComputeError::Implausible(_))));
        let mut zero = qwen35();
        zero.encoders[0].patch_size = 0;
        assert!(matches!(vision_compute(&zero, true, &d), Err(VisionComputeError::Implausible(_))));
        let many = MmprojSettings { offload: true, image_max_tokens: Some(u64::MAX) };
        assert!(vision_compute(&qwen35(), false, &many).unwrap().max_bytes > 0);
    }

    #[test]
    fn every_known_type_on_a_foreign_tower_is_sized_or_refused_never_a_panic() {
        // each projector graph fed the Qwen3.5 tower's tensors (most of what it wants is missing)
        for &kind in crate::model::required_keys::projector_names() {
            for modality in [Modality::Vision, Modality::Audio] {
                let mut v = qwen35();
                let e = &mut v.encoders[0];
                (e.projector_type, e.modality, e.n_mel_bins) = (kind.into(), modality, 128);
                for fa in [true, false] {
                    let _ = vision_compute(&v, fa, &MmprojSettings { offload: true, image_max_tokens: Some(1 << 24) });
                }
            }
        }
        let mut v = qwen35();
        let t = v.encoders[0].tensors.iter_mut().find(|t| t.0 == "v.patch_embd.weight").unwrap();
        t.1 = [u64::MAX / 2, 1 << 40, 3, 1 << 20];
        assert!(vision_compute(&v, true, &MmprojSettings::default()).is_err());
    }
}
