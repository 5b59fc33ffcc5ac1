//! mmproj (`general.architecture = clip`) files: the vision tower, the audio encoder, the
//! audio-generation (TTS) decoder, and their projectors, as tools/mtmd/clip.cpp's
//! `clip_model_loader` reads them.

use super::geometry::VisionGeometry;
use crate::read::{Header, TensorEntry};
use serde::Serialize;

/// Which input an encoder takes (clip.cpp `clip_modality`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// Images (`v.*` tensors, `clip.vision.*` keys).
    Vision,
    /// Audio (`a.*` tensors, `clip.audio.*` keys).
    Audio,
    /// Audio generation (`a.gen.*` tensors, `clip.gen.audio.*` keys): the TTS decoders
    /// (`qwen3tts_gen`, `pockettts_gen`), clip.cpp `CLIP_MODALITY_GEN_AUDIO`.
    GenAudio,
}

/// One encoder clip_init creates from the file: its projector type and the hyperparameters
/// clip.cpp's `load_hparams` reads (0 when absent), and its tensors.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClipEncoder {
    /// Vision, audio or audio generation.
    pub modality: Modality,
    /// The projector type as clip.cpp resolves it (`qwen2.5o` becomes `qwen2.5vl_merger` /
    /// `qwen2a`); the value in the file when mtmd does not know it.
    pub projector_type: String,
    /// Whether this llama.cpp's mtmd knows the type (clip-impl.h `PROJECTOR_TYPE_NAMES`).
    pub known: bool,
    /// `clip.{vision,audio}.embedding_length`.
    pub n_embd: u64,
    /// `...attention.head_count`.
    pub n_head: u64,
    /// `...attention.head_count_kv` (default: `n_head`).
    pub n_head_kv: u64,
    /// `...feed_forward_length`.
    pub n_ff: u64,
    /// `...block_count`.
    pub n_layer: u64,
    /// `...projection_dim`.
    pub projection_dim: u64,
    /// `clip.vision.image_size`.
    pub image_size: u64,
    /// `clip.vision.patch_size`.
    pub patch_size: u64,
    /// `clip.vision.spatial_merge_size`, when given.
    pub spatial_merge: Option<u64>,
    /// `clip.vision.projector.scale_factor`, when given.
    pub scale_factor: Option<u64>,
    /// `clip.vision.image_min_pixels` / `image_max_pixels`, when given.
    pub min_pixels: Option<u64>,
    /// See `min_pixels`.
    pub max_pixels: Option<u64>,
    /// `clip.minicpmv_query_num` (resampler queries), when given.
    pub query_num: Option<u64>,
    /// `clip.minicpmv_version`, when given.
    pub minicpmv_version: Option<u64>,
    /// `clip.audio.num_mel_bins`.
    pub n_mel_bins: u64,
    /// `clip.audio.projector.stack_factor`, when given.
    pub stack_factor: Option<u64>,
    /// `clip.audio.projector.window_size` and `.downsample_rate` (Granite Speech's Q-Former
    /// windows: ws frames become ws / ds tokens), when given.
    pub audio_proj_window: Option<(u64, u64)>,
    /// `clip.audio.chunk_size` (Granite Speech's attention block) and
    /// `clip.audio.projector.head_count` (its Q-Former's heads), when given.
    pub audio_chunk: Option<u64>,
    /// See [`ClipEncoder::audio_chunk`].
    pub audio_proj_heads: Option<u64>,
    /// `clip.vision.n_wa_pattern` (Qwen2.5-VL windowed attention), when given.
    pub n_wa_pattern: Option<u64>,
    /// `clip.vision.wa_pattern_mode` (MiMo-VL: per block -1 full, 0 row-window, 1 column-window
    /// attention), empty when absent.
    pub wa_pattern_mode: Vec<i64>,
    /// `clip.vision.expert_used_count` (dots3note's MoE vision blocks), when given.
    pub expert_used: Option<u64>,
    /// `clip.vision.wa_layer_indexes` (Youtu-VL: the full-attention blocks; the rest are
    /// windowed), empty when absent.
    pub wa_layer_indexes: Vec<u64>,
    /// `clip.vision.feature_layer` is given (LLaVA concatenates those blocks' outputs).
    pub feature_layers: bool,
    /// `clip.use_gelu` / `clip.use_silu` (else clip uses quick GELU).
    pub ffn_op: FfnOp,
    /// The tensors this encoder's loader takes: name, shape (4 dims), data bytes.
    #[serde(skip)]
    pub tensors: Vec<(String, [u64; 4], u64)>,
}

/// clip.cpp's encoder FFN activation (`ffn_op_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FfnOp {
    /// `clip.use_gelu`.
    Gelu,
    /// `clip.use_silu`.
    Silu,
    /// Neither.
    GeluQuick,
}

impl ClipEncoder {
    /// Shape of a tensor this encoder loaded.
    pub fn shape(&self, name: &str) -> Option<[u64; 4]> {
        self.tensors.iter().find(|(n, _, _)| n == name).map(|(_, s, _)| *s)
    }

    /// Whether the encoder loaded a tensor of this name.
    pub fn has(&self, name: &str) -> bool {
        self.tensors.iter().any(|(n, _, _)| n == name)
    }
}

/// Summarises a clip file's vision tower (keys from llama.cpp `tools/mtmd/clip-impl.h`).
pub fn vision_geometry(h: &Header, tensors: &[TensorEntry]) -> VisionGeometry {
    let get = |k: &str| h.get(k).and_then(|v| v.as_u64());
    let counted = tensors.iter().filter_map(|t| t.name.strip_prefix("v.blk.")?.split('.').next()?.parse::<u64>().ok()).max().map_or(0, |m| m.saturating_add(1));
    VisionGeometry {
        projector_type: h.get("clip.projector_type").and_then(|v| v.as_str()).map(str::to_owned),
        n_layers: get("clip.vision.block_count").unwrap_or(counted),
        n_embd: get("clip.vision.embedding_length").unwrap_or(0),
        projection_dim: get("clip.vision.projection_dim").unwrap_or(0),
        bytes: tensors.iter().map(|t| t.bytes).fold(0, u64::saturating_add),
        image_size: get("clip.vision.image_size").unwrap_or(0),
        patch_size: get("clip.vision.patch_size").unwrap_or(0),
        n_head: get("clip.vision.attention.head_count").unwrap_or(0),
        n_ff: get("clip.vision.feed_forward_length").unwrap_or(0),
        spatial_merge: get("clip.vision.spatial_merge_size"),
        deepstack_layers: deepstack_layers(tensors),
        encoders: encoders(h, tensors),
    }
}

/// Distinct blocks carrying deepstack tensors (`v.deepstack.N.norm/fc1/fc2`).
fn deepstack_layers(tensors: &[TensorEntry]) -> u64 {
    let mut ids: Vec<&str> = tensors.iter().filter_map(|t| t.name.strip_prefix("v.deepstack.")?.split('.').next()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len() as u64
}

/// Tensors clip.cpp's load_tensors asks for by a fixed `v.` name whatever the modality (its
/// common section: TN_CLASS_EMBD, TN_PATCH_BIAS, TN_PATCH_EMBD, TN_PATCH_EMBD_1, TN_NORM_EMBD): an
/// audio context loads them too when the file has them (Qwen2.5-Omni's one file does).
const COMMON_UNPREFIXED: &[&str] =
    &["v.class_embd", "v.patch_embd.bias", "v.patch_embd.weight", "v.patch_embd.weight.1", "v.norm_embd.weight", "v.norm_embd.bias"];

/// GLM-4.x audio (`glma`) loads its BOI / EOI rows by their `v.` names (clip.cpp TN_TOK_BOI/EOI).
const GLMA_UNPREFIXED: &[&str] = &["v.boi", "v.eoi"];

/// Parakeet's audio loader also asks for three `mm.model.mlp.N` matrices (clip.cpp
/// load_tensors, TN_MVLM_PROJ_MLP 0 / 1 / 3), which its graph does not use.
const PARAKEET_UNPREFIXED: &[&str] = &["mm.model.mlp.0.weight", "mm.model.mlp.1.weight", "mm.model.mlp.3.weight"];

/// Which context loads a tensor: clip.cpp asks for `a.gen.*` names only in the
/// audio-generation context (load_tensors' prefix `a.gen.code` and its TN_A_GEN_* names),
/// `a.*` and `mm.a.*` in the audio one, everything else in the vision one.
fn tensor_modality(name: &str) -> Modality {
    if name.starts_with("a.gen.") {
        Modality::GenAudio
    } else if name.starts_with("a.") || name.starts_with("mm.a.") {
        Modality::Audio
    } else {
        Modality::Vision
    }
}

/// The encoders clip_init creates, in its order: vision, then audio unless the vision
/// projector is Gemma 3n's (whose audio clip.cpp skips), then audio generation
/// (`clip.has_gen_audio_encoder`).
pub fn encoders(h: &Header, tensors: &[TensorEntry]) -> Vec<ClipEncoder> {
    let flag = |k: &str| h.get(k).and_then(|v| v.as_u64()).unwrap_or(0) != 0;
    let mut out: Vec<ClipEncoder> = Vec::new();
    for (on, modality) in [
        (flag("clip.has_vision_encoder"), Modality::Vision),
        (flag("clip.has_audio_encoder"), Modality::Audio),
        (flag("clip.has_gen_audio_encoder"), Modality::GenAudio),
    ] {
        if !on || (modality == Modality::Audio && out.first().is_some_and(|v| v.projector_type == "gemma3nv")) {
            continue;
        }
        out.push(encoder(h, tensors, modality));
    }
    out
}

fn encoder(h: &Header, tensors: &[TensorEntry], modality: Modality) -> ClipEncoder {
    // load_hparams' key prefix per modality
    let p = match modality {
        Modality::Vision => "vision",
        Modality::Audio => "audio",
        Modality::GenAudio => "gen.audio",
    };
    let get = |k: &str| h.get(k).and_then(|v| v.as_u64());
    let m = |k: &str| get(&format!("clip.{p}.{k}")).unwrap_or(0);
    let mut projector_type =
        h.get("clip.projector_type").or_else(|| h.get(&format!("clip.{p}.projector_type"))).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    if projector_type == "qwen2.5o" {
        projector_type = if modality == Modality::Vision { "qwen2.5vl_merger" } else { "qwen2a" }.into();
    }
    let known = crate::model::required_keys::is_known_projector(&projector_type);
    let n_head = m("attention.head_count");
    let ffn_op = if flag_on(h, "clip.use_gelu") {
        FfnOp::Gelu
    } else if flag_on(h, "clip.use_silu") {
        FfnOp::Silu
    } else {
        FfnOp::GeluQuick
    };
    let tensors = tensors
        .iter()
        .filter(|t| {
            tensor_modality(&t.name) == modality
                || (modality != Modality::Vision
                    && (COMMON_UNPREFIXED.contains(&t.name.as_str())
                        || (projector_type == "glma" && GLMA_UNPREFIXED.contains(&t.name.as_str()))
                        || (projector_type == "parakeet" && PARAKEET_UNPREFIXED.contains(&t.name.as_str()))))
        })
        .map(|t| {
            let mut ne = [1u64; 4];
            for (d, &x) in ne.iter_mut().zip(&t.dims) {
                *d = x;
            }
            (t.name.clone(), ne, t.bytes)
        })
        .collect();
    // Gemma 4 unified vision merges tokens in the patch conv itself: clip's load_hparams
    // multiplies the patch by the pooling kernel (projector.scale_factor, default 3)
    let patch_size = get("clip.vision.patch_size").unwrap_or(0).saturating_mul(if projector_type == "gemma4uv" {
        get("clip.vision.projector.scale_factor").unwrap_or(3)
    } else {
        1
    });
    // Gemma 4 unified audio is encoder-free: clip sets n_mel_bins to its 640-sample frame
    // (load_hparams reads num_mel_bins for the audio context only)
    let n_mel_bins = if projector_type == "gemma4ua" {
        640
    } else if modality == Modality::Audio {
        get("clip.audio.num_mel_bins").unwrap_or(0)
    } else {
        0
    };
    ClipEncoder {
        modality,
        projector_type,
        known,
        n_embd: m("embedding_length"),
        n_head,
        n_head_kv: get(&format!("clip.{p}.attention.head_count_kv")).unwrap_or(n_head),
        n_ff: m("feed_forward_length"),
        n_layer: m("block_count"),
        projection_dim: m("projection_dim"),
        image_size: get("clip.vision.image_size").unwrap_or(0),
        patch_size,
        spatial_merge: get("clip.vision.spatial_merge_size"),
        scale_factor: get("clip.vision.projector.scale_factor"),
        min_pixels: get("clip.vision.image_min_pixels"),
        max_pixels: get("clip.vision.image_max_pixels"),
        query_num: get("clip.minicpmv_query_num"),
        minicpmv_version: get("clip.minicpmv_version"),
        n_mel_bins,
        stack_factor: get("clip.audio.projector.stack_factor"),
        audio_proj_window: get("clip.audio.projector.window_size").zip(get("clip.audio.projector.downsample_rate")),
        audio_chunk: get("clip.audio.chunk_size"),
        audio_proj_heads: get("clip.audio.projector.head_count"),
        n_wa_pattern: get("clip.vision.n_wa_pattern"),
        expert_used: get("clip.vision.expert_used_count"),
        wa_pattern_mode: h
            .get("clip.vision.wa_pattern_mode")
            .and_then(|v| v.as_array())
            .map(|a| a.items.iter().filter_map(|x| x.as_f64()).map(|f| f as i64).collect())
            .unwrap_or_default(),
        wa_layer_indexes: h
            .get("clip.vision.wa_layer_indexes")
            .and_then(|v| v.as_array())
            .map(|a| a.items.iter().filter_map(|x| x.as_u64()).collect())
            .unwrap_or_default(),
        feature_layers: h.get(&format!("clip.{p}.feature_layer")).is_some(),
        ffn_op,
        tensors,
    }
}

fn flag_on(h: &Header, k: &str) -> bool {
    h.get(k).and_then(|v| v.as_u64()).unwrap_or(0) != 0
}
