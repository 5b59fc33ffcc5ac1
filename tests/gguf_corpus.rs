//! `check`'s structural verdict equals llama.cpp's on every file of the committed corpus.
//!
//! `fixtures/gguf-corpus/corpus.bin.gz` holds files made by llama.cpp's own test-gguf.cpp
//! generators, hand-planted defects and random mutations (scripts/oracle/gguf_corpus.py);
//! `verdicts.json` is what the pinned llama.cpp's reader (`gguf_init_from_file` as
//! `llama_model_loader` calls it, then the loader's bounds check) said of each, with its log.
//! A file llama.cpp accepts must break no structural rule; a file it refuses must fail the
//! structural rule that mirrors the reason llama.cpp logged.

use flate2::read::GzDecoder;
use gguf_meter::check::{self, ModelCheck, Options, Outcome, Severity};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The committed corpus, or a larger one made with `GGUF_CORPUS_OUT=DIR GGUF_CORPUS_MUTATIONS=N
/// scripts/oracle/gguf_corpus.py` when `GGUF_METER_CORPUS_DIR=DIR`.
fn corpus_dir() -> PathBuf {
    match std::env::var_os("GGUF_METER_CORPUS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/gguf-corpus"),
    }
}

/// Rules that may answer a file running out before llama.cpp's reader is done: cut short (a
/// download, `incomplete`) or corrupt (a length or count no real file has).
const RAN_OUT: &[&str] = &["incomplete", "length", "counts"];

/// The rules that mirror the reason llama.cpp logged (its first specific message), and a label.
fn expected_rules(v: &Value) -> (&'static [&'static str], String) {
    let stage = v["stage"].as_str().unwrap();
    if stage == "loader" {
        let reason = v["reason"].as_str().unwrap();
        assert!(reason.contains("not within the file bounds"), "unexpected loader refusal {reason}");
        return (&["incomplete", "offset-range"], "loader: data not within the file bounds".into());
    }
    let log: Vec<&str> = v["log"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    let generic =
        ["failed to read magic", "failed to read header", "failed to read key-value pairs", "failed to read tensor info", "failed to read tensor data"];
    let first = log.iter().find(|l| !generic.iter().any(|g| l.ends_with(g))).copied();
    let Some(line) = first else {
        return (RAN_OUT, "ran out of file".into());
    };
    let has = |s: &str| line.contains(s);
    let rules: &'static [&'static str] = if has("invalid magic") {
        &["magic"]
    } else if has("bad GGUF version") || has("GGUFv1") || has("only supports up to") {
        &["version"]
    } else if has("is extremely large") {
        &["byte-order", "version"]
    } else if has("number of tensors is") || has("number of key value pairs is") {
        &["counts"]
    } else if has("exceeds maximum") {
        &["length"]
    } else if has("exceeds remaining file size") || has("failed to seek to beginning of data section") {
        RAN_OUT
    } else if has("is empty") {
        &["empty-key"]
    } else if has("duplicate key") {
        &["duplicate-key"]
    } else if line.trim_end().ends_with("has invalid GGUF type 9") {
        &["nesting"]
    } else if has("has invalid GGUF type") {
        &["value-type"]
    } else if has("must be of type") {
        &["alignment-type"]
    } else if has("is not a power of 2") {
        &["alignment"]
    } else if has("is too long") {
        &["tensor-name"]
    } else if has("duplicate tensor name") {
        &["duplicate-tensor"]
    } else if has("invalid number of dimensions") || has("invalid number of elements") || has("may cause overflow") {
        &["dims"]
    } else if has("has invalid ggml type") || has("block size (0)") {
        &["unknown-type"]
    } else if has("not a multiple of block size") {
        &["block-size"]
    } else if has("size in bytes >") || has("overflows after padding") {
        &["tensor-size"]
    } else if has("has offset") {
        &["offset-alignment", "overlap", "gap", "offset-order", "offset-range"]
    } else if has("cannot accumulate") {
        &["offset-range"]
    } else {
        panic!("no rule mirrors llama.cpp's message {line:?}")
    };
    (rules, line.to_string())
}

/// The structural rule `check` failed the file on: its first structural error, else
/// `incomplete`; `None` when no structural rule is broken.
fn check_rule(c: &ModelCheck) -> Option<&'static str> {
    c.findings
        .iter()
        .find(|f| f.severity == Severity::Error && f.rule.is_structural())
        .or_else(|| c.findings.iter().find(|f| f.is_incomplete()))
        .map(|f| f.rule.id())
}

fn check_file(path: &Path) -> ModelCheck {
    match check::open(path) {
        Ok(opened) => check::check(path, &opened, &Options::default(), 0, Vec::new()),
        Err(c) => c,
    }
}

/// Compares one file; returns a line describing a disagreement.
fn compare(name: &str, path: &Path, v: &Value) -> Option<String> {
    let c = check_file(path);
    let got = check_rule(&c);
    if v["verdict"] == "ok" {
        return got.map(|r| {
            let f = c.findings.iter().find(|f| f.rule.id() == r).unwrap();
            format!("{name}: llama.cpp loads it, check fails [{r}] {}", f.message)
        });
    }
    let (want, why) = expected_rules(v);
    // A file ending inside a tensor's type field: llama.cpp's read fails, but it then judges the
    // type it never read (gguf.cpp:725-741 check `info.t.type`, left uninitialized), so it logs a
    // type or block-size reason for what is a file cut short.
    let cut_in_type = c.findings.iter().any(|f| f.is_incomplete() && f.message.contains("while reading a tensor type"));
    if cut_in_type && (why.contains("ggml type") || why.contains("block size") || why.contains("size in bytes")) {
        return None;
    }
    match got {
        None => Some(format!("{name}: llama.cpp refuses it ({why}), check passes (outcome {:?})", c.outcome)),
        Some(r) if !want.contains(&r) => Some(format!("{name}: llama.cpp refuses it ({why}), check fails [{r}], expected one of {want:?}")),
        Some(_) if c.outcome == Outcome::Pass => Some(format!("{name}: a structural finding but outcome pass")),
        Some(_) => None,
    }
}

fn verdicts() -> Value {
    serde_json::from_str(&std::fs::read_to_string(corpus_dir().join("verdicts.json")).unwrap()).unwrap()
}

/// The corpus files: (name, first bytes, length).
fn corpus() -> Vec<(String, Vec<u8>, u64)> {
    let mut raw = Vec::new();
    GzDecoder::new(std::fs::File::open(corpus_dir().join("corpus.bin.gz")).unwrap()).read_to_end(&mut raw).unwrap();
    let mut out = Vec::new();
    let mut p = 0usize;
    let u32_at = |p: usize| u32::from_le_bytes(raw[p..p + 4].try_into().unwrap()) as usize;
    let u64_at = |p: usize| u64::from_le_bytes(raw[p..p + 8].try_into().unwrap());
    while p < raw.len() {
        let n = u32_at(p);
        let name = String::from_utf8(raw[p + 4..p + 4 + n].to_vec()).unwrap();
        p += 4 + n;
        let (length, keep) = (u64_at(p), u64_at(p + 8) as usize);
        p += 16;
        out.push((name, raw[p..p + keep].to_vec(), length));
        p += keep;
    }
    out
}

/// Writes a corpus file: its first bytes, then zeros up to its length (as the oracle judged it).
fn materialize(dir: &Path, name: &str, prefix: &[u8], length: u64) -> PathBuf {
    let path = dir.join(format!("{name}.gguf"));
    let f = std::fs::File::create(&path).unwrap();
    std::io::Write::write_all(&mut &f, &prefix[..prefix.len().min(length as usize)]).unwrap();
    f.set_len(length).unwrap();
    path
}

#[test]
fn a_length_running_past_the_end_is_corrupt_when_no_file_has_one_that_long() {
    // Both refused by llama.cpp ("exceeds remaining file size"); which rule says so is ours to pick:
    // a length no real file has is corruption, a plausible one a download cut short.
    let dir = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for (name, prefix, length) in corpus().iter().filter(|(n, _, _)| n.starts_with("plant-tiny-llama-") && n.contains("past-end")) {
        let want = if name.ends_with("-small") { "incomplete" } else { "length" };
        let c = check_file(&materialize(dir.path(), name, prefix, *length));
        assert_eq!(check_rule(&c), Some(want), "{name}: {:?}", c.findings);
        seen += 1;
    }
    assert_eq!(seen, 5);
}

#[test]
fn check_agrees_with_llama_cpp_on_every_corpus_file() {
    let doc = verdicts();
    let files = doc["files"].as_array().unwrap();
    let corpus = corpus();
    assert_eq!(corpus.len(), files.len(), "corpus.bin.gz and verdicts.json list the same files");
    let dir = tempfile::tempdir().unwrap();
    let (mut accepted, mut disagree) = (0, Vec::new());
    for ((name, prefix, length), v) in corpus.iter().zip(files) {
        assert_eq!(v["name"].as_str(), Some(name.as_str()));
        assert_eq!(v["file_bytes"].as_u64(), Some(*length), "{name}");
        let path = materialize(dir.path(), name, prefix, *length);
        accepted += usize::from(v["verdict"] == "ok");
        disagree.extend(compare(name, &path, v));
        std::fs::remove_file(&path).unwrap();
    }
    eprintln!("{} files, {accepted} accepted by llama.cpp; check disagrees on {}", files.len(), disagree.len());
    assert!(accepted >= 100 && files.len() - accepted >= 300, "the corpus covers both verdicts");
    assert!(disagree.is_empty(), "{} disagreements:\n{}", disagree.len(), disagree.join("\n"));
}

#[test]
fn every_rule_llama_cpp_refuses_for_appears_in_the_corpus() {
    let doc = verdicts();
    let mut seen = std::collections::BTreeSet::new();
    for v in doc["files"].as_array().unwrap().iter().filter(|v| v["verdict"] == "refused") {
        let (rules, _) = expected_rules(v);
        if rules.len() == 1 {
            seen.insert(rules[0]);
        }
    }
    for rule in [
        "magic",
        "version",
        "counts",
        "length",
        "empty-key",
        "duplicate-key",
        "value-type",
        "nesting",
        "alignment-type",
        "alignment",
        "tensor-name",
        "duplicate-tensor",
        "dims",
        "unknown-type",
        "block-size",
        "tensor-size",
    ] {
        assert!(seen.contains(rule), "no corpus file for which llama.cpp's reason maps to {rule} alone");
    }
}

/// Real models fetched by scripts/fetch-real-models.sh, when the corpus script saw them.
#[test]
fn real_files_agree_when_present() {
    let doc = verdicts();
    for v in doc["external"].as_array().unwrap().iter().filter(|v| v["where"] == "real") {
        let name = v["path"].as_str().unwrap();
        let Some(path) = common_real(name) else { continue };
        if let Some(d) = compare(name, &path, v) {
            panic!("{d}");
        }
    }
}

fn common_real(name: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("GGUF_METER_REAL_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/gguf-meter/real"),
    };
    let p = dir.join(name);
    p.is_file().then_some(p)
}

/// llama.cpp's own vocab-only files (in the pinned source tree, when present): complete, loadable.
#[test]
fn llama_cpp_vocab_files_are_complete_and_pass() {
    let doc = verdicts();
    let base = PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/gguf-meter/llama.cpp/src/llama_cpp_python-0.3.36/vendor/llama.cpp");
    let ext: Vec<&Value> = doc["external"].as_array().unwrap().iter().filter(|v| v["where"] == "llama.cpp").collect();
    assert_eq!(ext.len(), 19, "verdicts for llama.cpp's 19 models/ggml-vocab-*.gguf");
    if !base.is_dir() {
        eprintln!("SKIPPED: no llama.cpp source tree at {} (scripts/oracle/build.sh unpacks it)", base.display());
        return;
    }
    for v in ext {
        let name = v["path"].as_str().unwrap();
        let path = base.join(name);
        assert_eq!(v["verdict"], "ok", "{name}");
        if let Some(d) = compare(name, &path, v) {
            panic!("{d}");
        }
        let c = check_file(&path);
        assert_eq!(c.outcome, Outcome::Pass, "{name}: {:?}", c.findings);
        assert!(c.facts.as_ref().unwrap().vocab_only, "{name}");
    }
}
