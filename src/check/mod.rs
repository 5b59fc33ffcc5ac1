//! Check layer: rules over a model's structure, metadata, data and budget, for CI.
//! Sits above `estimate` (budgets need footprints); `report` renders its results.

pub mod budget;
pub mod deep;
pub mod finding;
pub mod metadata;
pub mod policy;
pub mod structure;
pub mod tensors;

pub use budget::Budget;
pub use finding::{Finding, Outcome, Severity};
pub use policy::Policy;

use crate::estimate::{Footprint, Settings};
use crate::model::{Geometry, analyze};
use crate::read::{ShardSet, TensorEntry};
use crate::rules::RuleId;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What to check besides structure.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Runtime settings budgets are computed at.
    pub settings: Settings,
    /// Budget limits (flags merged over the policy's).
    pub budget: Budget,
    /// Content policy.
    pub policy: Option<Policy>,
    /// Warnings fail the check too.
    pub strict: bool,
}

/// Facts about a model that parsed, reported with its findings.
#[derive(Clone, Debug, Serialize)]
pub struct Facts {
    /// `general.architecture`.
    pub architecture: String,
    /// Shard files present.
    pub shards: usize,
    /// Tensors over all shards.
    pub tensor_count: u64,
    /// Bytes the files have now.
    pub file_bytes: u64,
    /// Bytes the files have when complete.
    pub expected_bytes: u64,
    /// A tokenizer file (0 tensors, `tokenizer.ggml.model`): complete, not a model; no budget
    /// applies to it.
    pub vocab_only: bool,
    /// Footprint at the budget's settings, when a budget was checked.
    pub footprint: Option<Footprint>,
    /// With `--deep`: each file's SHA-256 and what was not scanned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deep: Option<deep::DeepFacts>,
}

/// The check of one model (a file, or a split set named by any of its shards).
#[derive(Clone, Debug, Serialize)]
pub struct ModelCheck {
    /// Path as given.
    #[serde(serialize_with = "crate::util::serialize_path_lossy")]
    pub path: PathBuf,
    /// Verdict.
    pub outcome: Outcome,
    /// Everything found, errors first.
    pub findings: Vec<Finding>,
    /// Facts, when the header parsed (boxed: a check that stopped early carries none).
    pub facts: Option<Box<Facts>>,
}

/// A model opened for checking: its shards and geometry, for rules that need them.
pub struct Opened {
    /// The shards.
    pub set: ShardSet,
    /// Every tensor over all shards.
    pub tensors: Vec<TensorEntry>,
    /// Its geometry.
    pub geometry: Geometry,
}

/// Opens `path` for checking, or returns the finished check of a file that cannot be parsed.
#[allow(clippy::result_large_err)] // the finished check is the answer, not an error to box
pub fn open(path: &Path) -> Result<Opened, ModelCheck> {
    match structure::open(path) {
        Ok(set) => {
            let tensors = set.tensors();
            let geometry = analyze(set.metadata(), &tensors);
            Ok(Opened { set, tensors, geometry })
        }
        Err((findings, outcome)) => Err(ModelCheck { path: path.to_path_buf(), outcome, findings, facts: None }),
    }
}

/// Runs every rule on an opened model. `mmproj_bytes` are counted in budgets; `extra` are
/// findings from elsewhere (mmproj pairing, the deep scan).
pub fn check(path: &Path, m: &Opened, opts: &Options, mmproj_bytes: u64, extra: Vec<Finding>) -> ModelCheck {
    let (set, tensors) = (&m.set, &m.tensors);
    let mut findings = structure::rules(set);
    metadata::rules(set, &mut findings);
    let vocab_only = crate::model::is_vocab_only(set.metadata(), tensors);
    if !vocab_only {
        let vocab_ok = !findings.iter().any(|f| f.rule == RuleId::Tokenizer);
        tensors::rules(set, tensors, vocab_ok, &mut findings);
    }
    if let Some(p) = &opts.policy {
        p.rules(set, tensors, &mut findings);
    }
    let expected_bytes = set.expected_bytes();
    let mut footprint = None;
    if opts.budget.is_set() && m.geometry.vision.is_none() && !vocab_only {
        let need = budget::Need { geometry: &m.geometry, tensors, file_bytes: expected_bytes, mmproj_bytes };
        footprint = budget::rules(&opts.budget, &need, &opts.settings, path, &mut findings);
    }
    findings.extend(extra);
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let outcome = outcome(&findings, opts.strict);
    let facts = Facts {
        architecture: m.geometry.architecture.clone(),
        shards: set.files.len(),
        tensor_count: tensors.len() as u64,
        file_bytes: set.files.iter().map(|f| f.file_bytes).fold(0, u64::saturating_add),
        expected_bytes,
        vocab_only,
        footprint,
        deep: None,
    };
    ModelCheck { path: path.to_path_buf(), outcome, findings, facts: Some(Box::new(facts)) }
}

fn outcome(findings: &[Finding], strict: bool) -> Outcome {
    let incomplete = findings.iter().any(|f| f.is_incomplete());
    let failed = findings.iter().any(|f| !f.is_incomplete() && (f.severity == Severity::Error || strict));
    if failed {
        Outcome::Fail
    } else if incomplete {
        Outcome::Incomplete
    } else {
        Outcome::Pass
    }
}
