//! mmproj files (`general.architecture = clip`): llama.cpp's model loader reads no hyperparameters
//! for them; tools/mtmd/clip.cpp `clip_model_loader` does, once per encoder the file enables.
//! Per-encoder and per-projector keys are generated (`llama_cpp::clip`); the rules here mirror
//! how clip.cpp picks the encoders and the projector type.

use super::llama_cpp::clip::{MODALITIES, PROJECTOR_NAMES, PROJECTORS};
use super::{KeyProblem, LLAMA_CPP_COMMIT, Problem, check_key, type_name};
use crate::read::{Header, Value};

/// Appends what keeps mtmd from loading this mmproj.
pub(super) fn check(header: &Header, out: &mut Vec<KeyProblem>) {
    let enabled: Vec<bool> = MODALITIES.iter().map(|(flag, _, _)| flag_set(header, flag, out)).collect();
    // mtmd_init fails unless a vision or an audio encoder loads (mtmd.cpp: "Failed to load CLIP model")
    if !enabled.iter().zip(MODALITIES).any(|(on, (_, prefix, _))| *on && matches!(*prefix, "vision" | "audio")) {
        out.push(KeyProblem {
            key: "clip.has_vision_encoder".into(),
            problem: Problem::Missing,
            why: "mtmd: an mmproj needs clip.has_vision_encoder or clip.has_audio_encoder set to true".into(),
        });
        return;
    }
    let mut skip_audio = false;
    for (on, (_, prefix, keys)) in enabled.iter().zip(MODALITIES) {
        if !on || (*prefix == "audio" && skip_audio) {
            continue;
        }
        let projector = projector_type(header, prefix, out);
        // clip_init skips the audio encoder of Gemma 3n (its vision projector is gemma3nv)
        skip_audio |= *prefix == "vision" && projector.as_deref() == Some("gemma3nv");
        for k in *keys {
            check_key(header, "", k, || format!("mtmd clip.cpp load_hparams ({prefix} encoder)"), out);
        }
        let extra = projector.as_deref().and_then(|p| PROJECTORS.iter().find(|(n, _)| *n == p));
        if let Some((p, keys)) = extra {
            for k in *keys {
                check_key(header, "", k, || format!("mtmd clip.cpp load_hparams (projector {p})"), out);
            }
        }
    }
}

/// An encoder flag (`get_bool`, optional; a non-bool aborts in gguf_get_val_bool).
fn flag_set(header: &Header, key: &str, out: &mut Vec<KeyProblem>) -> bool {
    match header.get(key) {
        Some(Value::Bool(b)) => *b,
        None => false,
        Some(v) => {
            let problem = Problem::WrongType { expected: "bool".into(), found: type_name(v) };
            out.push(KeyProblem { key: key.into(), problem, why: "mtmd clip.cpp: encoder flag".into() });
            false
        }
    }
}

/// `clip.projector_type`, or when absent or empty `clip.<prefix>.projector_type`; it must name a
/// projector clip.cpp knows ("unknown projector type" otherwise).
fn projector_type(header: &Header, prefix: &str, out: &mut Vec<KeyProblem>) -> Option<String> {
    let own = format!("clip.{prefix}.projector_type");
    let why = format!("mtmd clip.cpp: projector type of the {prefix} encoder (clip.projector_type or {own})");
    let (key, value) = match header.get("clip.projector_type") {
        Some(Value::Str(s)) if !s.is_empty() => ("clip.projector_type".to_string(), s.clone()),
        _ => match header.get(&own) {
            Some(Value::Str(s)) => (own, s.clone()),
            None => {
                out.push(KeyProblem { key: "clip.projector_type".into(), problem: Problem::Missing, why });
                return None;
            }
            Some(v) => {
                let problem = Problem::WrongType { expected: "str".into(), found: type_name(v) };
                out.push(KeyProblem { key: own, problem, why });
                return None;
            }
        },
    };
    if PROJECTOR_NAMES.contains(&value.as_str()) {
        return Some(value);
    }
    let why = format!("mtmd clip.cpp: projector type unknown to llama.cpp {}", &LLAMA_CPP_COMMIT[..7]);
    out.push(KeyProblem { key, problem: Problem::UnknownValue { value }, why });
    None
}
