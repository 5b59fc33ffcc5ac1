//! Metadata rules: what llama.cpp needs to load the file, and whether an mmproj matches its model.

use super::finding::Finding;
use crate::model::Geometry;
use crate::model::required_keys::{Problem, UnknownArchitecture, missing};
use crate::read::ShardSet;
use crate::rules::RuleId;

/// Keys, value types and tokenizer llama.cpp needs for this file's architecture (the table
/// in `model::required_keys` is generated from llama.cpp's loader).
pub fn rules(set: &ShardSet, out: &mut Vec<Finding>) {
    let first = &set.files[0];
    let problems = match missing(&first.header) {
        Ok(p) => p,
        Err(e @ UnknownArchitecture::Unknown(_)) => {
            out.push(Finding::warning(RuleId::UnknownArch, &first.path, None, format!("{e}; newer builds may")));
            return;
        }
        Err(e) => {
            out.push(Finding::error(RuleId::UnknownArch, &first.path, None, e.to_string()));
            return;
        }
    };
    for p in problems {
        let tokenizer = p.key.starts_with("tokenizer.");
        let (rule, what) = match &p.problem {
            Problem::Missing => (if tokenizer { RuleId::Tokenizer } else { RuleId::RequiredKey }, format!("no {} key", p.key)),
            Problem::WrongType { expected, found } => (RuleId::KeyType, format!("{} is {found}, expected {expected}", p.key)),
            Problem::UnknownValue { value } => {
                (if tokenizer { RuleId::Tokenizer } else { RuleId::RequiredKey }, format!("{} = {value:?} is not a value llama.cpp knows", p.key))
            }
            Problem::TooShort { len, min } => (RuleId::Tokenizer, format!("{} has {len} entries for {min} tokens", p.key)),
        };
        out.push(Finding::error(rule, &first.path, None, format!("{what} ({})", p.why)));
    }
}

/// An mmproj's projector must output the width its language model takes in.
pub fn mmproj_matches(mmproj: &Geometry, mmproj_path: &std::path::Path, model: &Geometry, model_name: &str) -> Option<Finding> {
    let v = mmproj.vision.as_ref()?;
    if v.projection_dim == 0 || model.n_embd == 0 || v.projection_dim == model.n_embd {
        return None;
    }
    let msg = format!(
        "clip.vision.projection_dim = {} but {model_name} ({}) has embedding width {}: llama.cpp's mtmd refuses the pair",
        v.projection_dim, model.architecture, model.n_embd
    );
    Some(Finding::error(RuleId::MmprojMismatch, mmproj_path, None, msg))
}
