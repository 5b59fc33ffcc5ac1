//! Structural rules: what the read layer found, and how the shards of a split set agree.

use super::finding::{Finding, Outcome};
use crate::read::layout::LayoutIssue;
use crate::read::shards::ShardName;
use crate::read::{Defect, GgufFile, ReadError, Refusal, ShardSet, open_model};
use crate::rules::RuleId;
use std::collections::HashMap;
use std::path::Path;

/// Opens a model (and its sibling shards); on failure, the findings that end its check.
pub fn open(path: &Path) -> Result<ShardSet, (Vec<Finding>, Outcome)> {
    open_model(path).map_err(|e| read_error(&e))
}

/// The findings for an error the read layer stopped at: what llama.cpp would have refused
/// before it (the first is the reason llama.cpp gives), then the error itself.
pub fn read_error(e: &ReadError) -> (Vec<Finding>, Outcome) {
    match e {
        ReadError::Io { path, err } => (vec![Finding::error(RuleId::Unreadable, path, None, format!("cannot read: {err}"))], Outcome::Unreadable),
        ReadError::Truncated { path, offset, .. } => {
            let text = e.to_string();
            let message = text.strip_prefix(&format!("{}: incomplete: ", path.display())).unwrap_or(&text).to_string();
            (vec![Finding::warning(RuleId::Incomplete, path, Some(*offset), message)], Outcome::Incomplete)
        }
        ReadError::Malformed { path, offset, defect, expected, found, earlier } => {
            let mut out: Vec<Finding> = earlier.iter().map(|r| refusal(path, r)).collect();
            out.push(Finding::error(defect.rule(), path, Some(*offset), format!("expected {expected}, found {found}")));
            (out, if *defect == Defect::Magic { Outcome::Unreadable } else { Outcome::Fail })
        }
    }
}

fn refusal(path: &Path, r: &Refusal) -> Finding {
    Finding::error(r.defect.rule(), path, Some(r.offset), r.message.clone())
}

/// Rules over a set that parsed: layout oddities, missing data, and split consistency.
pub fn rules(set: &ShardSet) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in &set.files {
        file_rules(f, &mut out);
    }
    for m in &set.missing {
        out.push(Finding::error(RuleId::SplitMissing, m, None, "shard of a split model not found (nor a .part/.incomplete of it)"));
    }
    split_rules(set, &mut out);
    out
}

fn file_rules(f: &GgufFile, out: &mut Vec<Finding>) {
    out.extend(f.header.refusals.iter().map(|r| refusal(&f.path, r)));
    // Every layout oddity but an unknown type (a refusal above) is refused by llama.cpp too.
    for w in f.layout.warnings.iter().filter(|w| w.kind != LayoutIssue::UnknownType) {
        out.push(Finding::error(w.kind.rule(), &f.path, Some(w.offset), w.message.clone()));
    }
    if f.layout.warnings.iter().any(|w| w.kind == LayoutIssue::BeyondFile) {
        return; // no file can be long enough: not "incomplete"
    }
    let end = f.layout.expected_end;
    if f.file_bytes < end {
        let pct = f.data_bytes_present() as f64 * 100.0 / f.data_bytes_expected().max(1) as f64;
        let msg = format!("tensor data ends at byte {} of {end} ({pct:.1}% of the data present); download still in progress?", f.file_bytes);
        out.push(Finding::warning(RuleId::Incomplete, &f.path, Some(f.file_bytes), msg));
    } else if f.file_bytes > end {
        let msg = format!("{} bytes follow the last tensor's data (file is {} bytes, data ends at {end})", f.file_bytes - end, f.file_bytes);
        out.push(Finding::warning(RuleId::TrailingBytes, &f.path, Some(end), msg));
    }
}

fn key_u64(f: &GgufFile, key: &str) -> Option<u64> {
    f.header.get(key).and_then(|v| v.as_u64())
}

fn split_rules(set: &ShardSet, out: &mut Vec<Finding>) {
    let Some(first) = set.files.first() else { return };
    let declared = key_u64(first, "split.count");
    let name = |f: &GgufFile| f.path.file_name().and_then(|n| n.to_str()).and_then(ShardName::parse);
    if declared.is_some_and(|c| c > 1) && name(first).is_none() {
        let msg = format!("split.count = {} but the file name has no -NNNNN-of-NNNNN part, so llama.cpp cannot find the other shards", declared.unwrap_or(0));
        out.push(Finding::error(RuleId::SplitCount, &first.path, None, msg));
        return;
    }
    let count = declared.or_else(|| name(first).map(|n| n.count as u64)).unwrap_or(1);
    if count <= 1 && set.files.len() <= 1 {
        return;
    }
    let mut seen_no: HashMap<u64, &Path> = HashMap::new();
    let mut seen_tensor: HashMap<&str, &Path> = HashMap::new();
    for f in &set.files {
        let n = name(f);
        match key_u64(f, "split.count") {
            Some(c) if c != count => out.push(Finding::error(RuleId::SplitCount, &f.path, None, format!("split.count = {c}, the set has {count}"))),
            None => out.push(Finding::error(RuleId::SplitCount, &f.path, None, format!("no split.count key in a shard of a {count}-file set"))),
            _ => {}
        }
        if let Some(n) = &n
            && n.count as u64 != count
        {
            out.push(Finding::error(RuleId::SplitCount, &f.path, None, format!("file name says {} shards, split.count says {count}", n.count)));
        }
        match key_u64(f, "split.no") {
            None => out.push(Finding::error(RuleId::SplitIndex, &f.path, None, "no split.no key in a shard")),
            Some(no) => {
                if let Some(n) = &n
                    && no + 1 != n.index as u64
                {
                    out.push(Finding::error(RuleId::SplitIndex, &f.path, None, format!("split.no = {no} (0-based) but the file name says shard {}", n.index)));
                }
                if let Some(other) = seen_no.insert(no, &f.path) {
                    out.push(Finding::error(RuleId::SplitIndex, &f.path, None, format!("split.no = {no} is also in {}", other.display())));
                }
            }
        }
        for t in &f.header.tensors {
            if let Some(other) = seen_tensor.insert(&t.name, &f.path) {
                let msg = format!("tensor {:?} is also in {}", t.name, other.display());
                out.push(Finding::error(RuleId::SplitTensors, &f.path, Some(t.info_offset), msg));
            }
        }
    }
    if set.missing.is_empty()
        && let Some(total) = key_u64(first, "split.tensors.count")
    {
        let actual: u64 = set.files.iter().map(|f| f.header.tensors.len() as u64).sum();
        if total != actual {
            out.push(Finding::error(RuleId::SplitTensors, &first.path, None, format!("split.tensors.count = {total}, the shards hold {actual} tensors")));
        }
    }
}
