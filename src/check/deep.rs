//! The deep scan's results (`check --deep`) as check findings, and the facts it adds.

use super::finding::Finding;
use crate::rules::RuleId;
use crate::scan::{self, FileScan, ScanError};
use serde::Serialize;
use std::path::PathBuf;

/// One file read by the deep scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeepFile {
    /// The file (shard).
    #[serde(serialize_with = "crate::util::serialize_path_lossy")]
    pub path: PathBuf,
    /// Its SHA-256, lower-case hex (as `sha256sum` prints it); null when not hashed.
    pub sha256: Option<String>,
    /// Bytes read and hashed.
    pub bytes_read: u64,
    /// Tensors whose data was checked.
    pub tensors_scanned: u64,
}

/// What the deep scan of a model's files reports besides findings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeepFacts {
    /// Files read completely.
    pub files: Vec<DeepFile>,
    /// What was not scanned and why, prefixed with the file name when there are shards.
    pub notes: Vec<String>,
}

/// Check findings and facts from the scan results of one model's files.
pub fn convert(results: Vec<Result<FileScan, ScanError>>) -> (Vec<Finding>, DeepFacts) {
    let mut findings = Vec::new();
    let mut facts = DeepFacts::default();
    let shards = results.len() > 1;
    for r in results {
        match r {
            Ok(scan) => {
                let name = scan.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                facts.notes.extend(scan.notes.iter().map(|n| if shards { format!("{name}: {n}") } else { n.clone() }));
                for f in &scan.findings {
                    findings.push(finding(&scan.path, f));
                }
                facts.files.push(DeepFile { sha256: scan.sha256_hex(), bytes_read: scan.bytes_read, tensors_scanned: scan.tensors_scanned, path: scan.path });
            }
            Err(e) => {
                let (path, offset) = match &e {
                    ScanError::Io { path, offset, .. } => (path.clone(), Some(*offset)),
                    ScanError::Shrunk { path, at, .. } => (path.clone(), Some(*at)),
                    ScanError::Sums { path, .. } => (path.clone(), None),
                };
                findings.push(Finding::error(RuleId::Unreadable, path, offset, e.to_string()));
            }
        }
    }
    (findings, facts)
}

fn finding(path: &std::path::Path, f: &scan::Finding) -> Finding {
    let message = match &f.tensor {
        Some(t) => format!("tensor {t}: {}", f.message),
        None => f.message.clone(),
    };
    match f.severity {
        scan::Severity::Error => Finding::error(f.rule, path, f.offset, message),
        scan::Severity::Warning => Finding::warning(f.rule, path, f.offset, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Severity;

    #[test]
    fn findings_keep_rule_severity_offset_and_tensor() {
        let f = scan::Finding {
            rule: scan::Rule::AllZero,
            severity: scan::Severity::Warning,
            tensor: Some("blk.0.attn_norm.weight".into()),
            offset: Some(4096),
            count: 2560,
            message: "every value is zero (F32, 2560 bytes)".into(),
        };
        let scan = FileScan { path: "m.gguf".into(), bytes_read: 9, sha256: Some([0xab; 32]), tensors_scanned: 1, findings: vec![f], notes: vec!["n".into()] };
        let (found, facts) = convert(vec![Ok(scan)]);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].rule, found[0].severity, found[0].offset), (RuleId::AllZero, Severity::Warning, Some(4096)));
        assert!(found[0].message.starts_with("tensor blk.0.attn_norm.weight: every value"));
        assert_eq!(facts.files[0].sha256, Some("ab".repeat(32)));
        assert_eq!(facts.notes, ["n"]);
    }
}
