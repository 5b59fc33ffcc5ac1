//! A policy file (TOML) kept in a model repository: budgets and allowed contents.
//!
//! ```toml
//! [budget]
//! ctx = 32768
//! max_resident = "24GiB"
//! must_fit = ["rtx4090"]
//! [allow]
//! architectures = ["qwen35moe"]
//! types = ["F32", "Q4_K", "Q6_K", "Q8_0"]
//! [require]
//! keys = ["general.license", "general.name"]
//! ```

use super::budget::Budget;
use super::finding::Finding;
use crate::estimate::devices::parse_gpu;
use crate::read::{GgmlType, ShardSet, TensorEntry};
use crate::rules::RuleId;
use crate::util::units::parse_bytes;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

/// A parsed policy file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Budget limits (command-line flags override them).
    #[serde(default)]
    pub budget: BudgetPolicy,
    /// What a file may contain.
    #[serde(default)]
    pub allow: AllowPolicy,
    /// What a file must contain.
    #[serde(default)]
    pub require: RequirePolicy,
}

/// `[budget]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetPolicy {
    /// Context (tokens) the budget applies at.
    pub ctx: Option<u64>,
    /// Limit on `total_bytes` at `ctx`.
    pub max_resident: Option<Size>,
    /// Limit on `weights_bytes`.
    pub max_weights: Option<Size>,
    /// Limit on the files' total size.
    pub max_file: Option<Size>,
    /// Devices the model must fit entirely.
    #[serde(default)]
    pub must_fit: Vec<String>,
}

/// `[allow]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowPolicy {
    /// Allowed `general.architecture` values.
    pub architectures: Option<Vec<String>>,
    /// Allowed ggml tensor type names (`Q4_K`, `F32`, ...; case-insensitive).
    pub types: Option<Vec<String>>,
}

/// `[require]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirePolicy {
    /// Metadata keys every file must carry.
    #[serde(default)]
    pub keys: Vec<String>,
}

/// A byte size written as an integer or a string such as `"24GiB"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size(pub u64);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Size, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) => Ok(Size(n)),
            Raw::Text(s) => parse_bytes(&s)
                .map(Size)
                .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a size (expected e.g. \"24GiB\", \"64GB\" or an integer)"))),
        }
    }
}

/// Why a policy file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file cannot be read.
    #[error("{path}: cannot read: {err}")]
    Io { path: String, err: std::io::Error },
    /// Not valid TOML, or a key this policy schema does not have.
    #[error("{path}: line {line}, column {column}: {message}")]
    Invalid { path: String, line: usize, column: usize, message: String },
}

impl Policy {
    /// Reads and parses a policy file; unknown keys are errors naming the key and line.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| PolicyError::Io { path: shown.clone(), err })?;
        Self::parse(&text, &shown)
    }

    /// Parses policy text; `path` is for messages.
    pub fn parse(text: &str, path: &str) -> Result<Policy, PolicyError> {
        let invalid = |at: usize, message: String| {
            let at = at.min(text.len());
            let line = text[..at].matches('\n').count() + 1;
            let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
            PolicyError::Invalid { path: path.to_string(), line, column, message }
        };
        let policy: Policy = toml::from_str(text).map_err(|e| invalid(e.span().map_or(0, |s| s.start), e.message().replace('\n', " ").trim().to_string()))?;
        // Names are checked here so a typo fails the run instead of silently allowing nothing.
        let at = |name: &str| text.find(&format!("\"{name}\"")).unwrap_or(0);
        for t in policy.allow.types.iter().flatten() {
            if GgmlType::from_name(t).is_none() {
                return Err(invalid(at(t), format!("allow.types: {t:?} is not a ggml type name (e.g. \"Q4_K\", \"F16\")")));
            }
        }
        for d in &policy.budget.must_fit {
            if let Err(e) = parse_gpu(d) {
                return Err(invalid(at(d), format!("budget.must_fit: {e}")));
            }
        }
        Ok(policy)
    }

    /// The budget this policy sets.
    pub fn budget(&self) -> Budget {
        let b = &self.budget;
        Budget {
            max_resident: b.max_resident.map(|s| s.0),
            max_weights: b.max_weights.map(|s| s.0),
            max_file: b.max_file.map(|s| s.0),
            must_fit: b.must_fit.clone(),
        }
    }

    /// Content rules: architecture, tensor types, required keys.
    pub fn rules(&self, set: &ShardSet, tensors: &[TensorEntry], out: &mut Vec<Finding>) {
        let first = &set.files[0];
        let arch = first.header.get("general.architecture").and_then(|v| v.as_str()).unwrap_or("");
        if let Some(allowed) = &self.allow.architectures
            && !allowed.iter().any(|a| a == arch)
        {
            out.push(Finding::error(RuleId::PolicyArch, &first.path, None, format!("architecture {arch:?} is not in allow.architectures {allowed:?}")));
        }
        if let Some(allowed) = &self.allow.types {
            let allowed: BTreeSet<String> = allowed.iter().map(|t| t.to_ascii_uppercase()).collect();
            let mut reported = BTreeSet::new();
            for t in tensors {
                let name = t.ggml_type.name().to_string();
                if !allowed.contains(&name.to_ascii_uppercase()) && reported.insert(name.clone()) {
                    let n = tensors.iter().filter(|u| u.ggml_type == t.ggml_type).count();
                    let file = &set.files[t.shard];
                    let info = file.header.tensors.iter().find(|i| i.name == t.name).map(|i| i.info_offset);
                    let msg = format!("{n} tensors of type {name} (first: {:?}) but allow.types does not list it", t.name);
                    out.push(Finding::error(RuleId::PolicyType, &file.path, info, msg));
                }
            }
        }
        for key in &self.require.keys {
            if first.header.get(key).is_none() {
                out.push(Finding::error(RuleId::PolicyKey, &first.path, None, format!("required key {key:?} is missing")));
            }
        }
    }
}
