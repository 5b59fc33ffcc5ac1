//! What a check finds, and what that means for the file.

use crate::rules::RuleId;
use serde::Serialize;
use std::path::PathBuf;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; fails the check only with `--strict`.
    Warning,
    /// Fails the check.
    Error,
}

/// One rule broken by one file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Stable rule id (see [`crate::rules::RULES`]).
    pub rule: RuleId,
    /// Severity.
    pub severity: Severity,
    /// The file (shard) concerned.
    #[serde(serialize_with = "crate::util::serialize_path_lossy")]
    pub file: PathBuf,
    /// Byte offset in that file, where one applies.
    pub offset: Option<u64>,
    /// One line: what was expected and what was found.
    pub message: String,
}

impl Finding {
    /// An error finding.
    pub fn error(rule: RuleId, file: impl Into<PathBuf>, offset: Option<u64>, message: impl Into<String>) -> Finding {
        Finding { rule, severity: Severity::Error, file: file.into(), offset, message: message.into() }
    }

    /// True for the finding that says data is still missing (a download in progress): it makes
    /// the check incomplete rather than failed, whatever its severity.
    pub fn is_incomplete(&self) -> bool {
        self.rule == RuleId::Incomplete
    }

    /// A warning finding.
    pub fn warning(rule: RuleId, file: impl Into<PathBuf>, offset: Option<u64>, message: impl Into<String>) -> Finding {
        Finding { rule, severity: Severity::Warning, file: file.into(), offset, message: message.into() }
    }
}

/// The verdict on one model (a file or a split set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every rule passed.
    Pass,
    /// Data still missing (a download in progress); nothing wrong so far.
    Incomplete,
    /// A rule failed.
    Fail,
    /// Not readable, or not a GGUF file at all.
    Unreadable,
}

impl Outcome {
    /// The process exit code this outcome asks for (`util::exit_code`).
    pub fn exit_code(self) -> i32 {
        use crate::util::exit_code::*;
        match self {
            Outcome::Pass => OK,
            Outcome::Incomplete => INCOMPLETE,
            Outcome::Fail => RULE_FAILED,
            Outcome::Unreadable => ERROR,
        }
    }

    /// The exit code for several outcomes: unreadable beats failed beats incomplete beats pass.
    pub fn combined_exit_code(outcomes: impl IntoIterator<Item = Outcome>) -> i32 {
        outcomes.into_iter().max().unwrap_or(Outcome::Pass).exit_code()
    }
}
