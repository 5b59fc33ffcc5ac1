//! `--mmproj` and the flags llama-server takes with it, shared by `footprint` and `fit`.

use super::loaded::Loaded;
use crate::estimate::vision_compute::{GEN_AUDIO_COMPUTE_NOTE, vision_compute, weights_bytes};
use crate::estimate::{FlashAttn, Mmproj, MmprojSettings};
use crate::model::vision::Modality;
use crate::read::Location;
use std::path::PathBuf;

/// The vision projector and its llama-server flags.
#[derive(clap::Args, Clone, Debug)]
pub struct MmprojArgs {
    /// Vision projector (mmproj) loaded alongside: a file, URL or hf:// location.
    #[arg(long)]
    pub mmproj: Option<PathBuf>,
    /// Keep the projector's weights and compute buffer in system RAM (llama-server: --no-mmproj-offload).
    #[arg(long = "no-mmproj-offload")]
    pub no_mmproj_offload: bool,
    /// Output tokens of the largest image (llama-server: --image-max-tokens; default: the projector's own).
    #[arg(long = "image-max-tokens", value_parser = clap::value_parser!(u64).range(1..=1 << 24))]
    pub image_max_tokens: Option<u64>,
}

impl MmprojArgs {
    /// Where the projector is, if one was given.
    pub fn location(&self) -> anyhow::Result<Option<Location>> {
        Ok(self.mmproj.as_deref().map(Location::parse).transpose()?)
    }

    /// Reads the projector (weights and geometry); `Mmproj::default()` without one. Notes on
    /// what cannot be estimated go to `warnings`.
    pub fn load(&self, loc: Option<&Location>, flash_attn: FlashAttn, warnings: &mut Vec<String>) -> anyhow::Result<Mmproj> {
        let settings = MmprojSettings { offload: !self.no_mmproj_offload, image_max_tokens: self.image_max_tokens };
        let Some(loc) = loc else { return Ok(Mmproj { settings, ..Mmproj::default() }) };
        let m = Loaded::open(loc)?;
        let mut weights_bytes = m.weights_bytes();
        match &m.geometry.vision {
            Some(v) => {
                // mtmd loads only what each encoder asks for (Gemma 3n's audio tower is skipped)
                if !v.encoders.is_empty() {
                    weights_bytes = self::weights_bytes(v);
                }
                match vision_compute(v, flash_attn != FlashAttn::Off, &settings) {
                    Err(e) => warnings.push(format!("mmproj {}: compute buffer unknown: {e}", m.name)),
                    Ok(c) if c.estimate => warnings.push(format!(
                        "mmproj {}: compute buffer estimated from the generic ViT graph (projector {} is not simulated yet)",
                        m.name,
                        v.encoders.iter().map(|e| e.projector_type.as_str()).collect::<Vec<_>>().join(" + ")
                    )),
                    Ok(_) => {}
                }
                if let Some(g) = v.encoders.iter().find(|e| e.modality == Modality::GenAudio) {
                    warnings.push(format!("mmproj {}: audio-generation context ({}): weights counted; {GEN_AUDIO_COMPUTE_NOTE}", m.name, g.projector_type));
                    // mtmd_init throws "Failed to load CLIP model" when clip_init made neither
                    if !v.encoders.iter().any(|e| e.modality != Modality::GenAudio) {
                        warnings.push(format!(
                            "mmproj {}: has only an audio-generation context: mtmd_init refuses a file with neither a vision nor an audio encoder",
                            m.name
                        ));
                    }
                }
            }
            None => {
                warnings.push(format!("mmproj {}: not a vision projector (general.architecture is not clip); weights counted, compute buffer unknown", m.name))
            }
        }
        Ok(Mmproj { weights_bytes, vision: m.geometry.vision, settings })
    }
}
