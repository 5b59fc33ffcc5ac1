//! `check --deep` on a real file: a clean copy has no findings and the digest `sha256sum`
//! gives; NaN/Inf planted in float values and in quantized blocks' scales, and a zeroed
//! tensor, are each found with the right tensor and byte offset; a checksum list catches the
//! modified copy. One copy of the file, scanned once by the library and once by the CLI.

mod common;

use gguf_meter::read::{GgmlType, GgufFile};
use gguf_meter::scan::{self, ChecksumList, FileScan, IoMode, Rule, ScanOptions, Severity};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

const GEMMA: &str = "gemma-3-270m-q4_k_m.gguf";

/// Absolute offset and size of tensor `name`'s data, and its type.
fn tensor(f: &GgufFile, name: &str) -> (u64, u64, GgmlType) {
    let i = f.header.tensors.iter().position(|t| t.name == name).unwrap_or_else(|| panic!("no tensor {name}"));
    (f.layout.spans[i].start, f.layout.spans[i].bytes, f.header.tensors[i].ggml_type)
}

/// The first tensor of type `ty`.
fn first_of(f: &GgufFile, ty: &str) -> String {
    let t = GgmlType::from_name(ty).unwrap();
    f.header.tensors.iter().find(|x| x.ggml_type == t).unwrap().name.clone()
}

fn write_at(path: &Path, offset: u64, bytes: &[u8]) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

fn key(s: &FileScan) -> BTreeSet<(Rule, Option<String>, Option<u64>, u64)> {
    s.findings.iter().map(|f| (f.rule, f.tensor.clone(), f.offset, f.count)).collect()
}

fn sha256_of(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum").arg(path).output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)[..64].to_string(),
        // Without coreutils, hash it here with a plain whole-file read instead.
        _ => Sha256::digest(std::fs::read(path).unwrap()).iter().map(|b| format!("{b:02x}")).collect(),
    }
}

#[test]
fn deep_scan_finds_planted_nan_inf_zero_and_checksum_mismatch() {
    let Some(real) = common::real_file(GEMMA) else { return };
    let orig = GgufFile::open(&real).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy_path = dir.path().join(GEMMA);
    std::fs::copy(&real, &copy_path).unwrap();

    // F32 values: a NaN in one norm, an Inf in another; zero a third whole.
    let (nan_t, inf_t, zero_t) = ("output_norm.weight", "blk.1.attn_norm.weight", "blk.2.attn_k_norm.weight");
    let (nan_at, _, ty) = tensor(&orig, nan_t);
    assert_eq!(ty, GgmlType::F32);
    write_at(&copy_path, nan_at + 4 * 5, &0x7FC0_0000u32.to_le_bytes());
    let (inf_at, _, _) = tensor(&orig, inf_t);
    write_at(&copy_path, inf_at + 4 * 100, &0xFF80_0000u32.to_le_bytes());
    let (zero_at, zero_len, _) = tensor(&orig, zero_t);
    write_at(&copy_path, zero_at, &vec![0u8; zero_len as usize]);
    // Quantized scales (offsets from ggml-common.h): Q8_0 d of block 1000, Q4_K dmin of
    // block 3, Q6_K d (byte 208) of block 0, Q5_0 d of the last block.
    let q8 = first_of(&orig, "Q8_0");
    let (q8_at, _, _) = tensor(&orig, &q8);
    write_at(&copy_path, q8_at + 1000 * 34, &0x7E00u16.to_le_bytes());
    let q4k = first_of(&orig, "Q4_K");
    let (q4k_at, _, _) = tensor(&orig, &q4k);
    write_at(&copy_path, q4k_at + 3 * 144 + 2, &0x7C00u16.to_le_bytes());
    let q6k = first_of(&orig, "Q6_K");
    let (q6k_at, _, _) = tensor(&orig, &q6k);
    write_at(&copy_path, q6k_at + 208, &0xFE00u16.to_le_bytes());
    let q5 = first_of(&orig, "Q5_0");
    let (q5_at, q5_len, _) = tensor(&orig, &q5);
    write_at(&copy_path, q5_at + q5_len - 22, &0xFC00u16.to_le_bytes());

    let want_sha = sha256_of(&real);
    let sums = dir.path().join("SHA256SUMS");
    std::fs::write(&sums, format!("{want_sha}  {GEMMA}\n")).unwrap();
    let copy = GgufFile::open(&copy_path).unwrap();
    // Odd-sized chunks so that elements, blocks and scale fields are cut at chunk boundaries.
    let opts = ScanOptions { jobs: 2, chunk_bytes: 1_000_003, checksums: Some(ChecksumList::load(&sums).unwrap()), ..Default::default() };
    let done = AtomicU64::new(0);
    let results = scan::scan_files(&[&orig, &copy], &opts, &|n| {
        done.fetch_add(n, Ordering::Relaxed);
    });
    assert_eq!(done.load(Ordering::Relaxed), orig.file_bytes * 2, "progress covers every byte of both files");
    let [clean, planted] = [&results[0], &results[1]].map(|r| r.as_ref().unwrap());

    assert_eq!(clean.sha256_hex(), Some(want_sha));
    assert_eq!(clean.bytes_read, orig.file_bytes);
    assert_eq!(clean.tensors_scanned, orig.header.tensors.len() as u64);
    assert!(clean.findings.is_empty(), "clean file: {:?}", clean.findings);
    assert!(clean.notes.is_empty(), "{:?}", clean.notes);

    let f = |rule, t: &str, offset, count| (rule, Some(t.to_string()), Some(offset), count);
    let want: BTreeSet<_> = [
        f(Rule::NanInf, nan_t, nan_at + 20, 1),
        f(Rule::NanInf, inf_t, inf_at + 400, 1),
        f(Rule::AllZero, zero_t, zero_at, zero_len),
        f(Rule::ScaleNanInf, &q8, q8_at + 1000 * 34, 1),
        f(Rule::ScaleNanInf, &q4k, q4k_at + 3 * 144 + 2, 1),
        f(Rule::ScaleNanInf, &q6k, q6k_at + 208, 1),
        f(Rule::ScaleNanInf, &q5, q5_at + q5_len - 22, 1),
        (Rule::Sha256Mismatch, None, None, 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(key(planted), want);
    let zero = planted.findings.iter().find(|x| x.rule == Rule::AllZero).unwrap();
    assert_eq!(zero.severity, Severity::Warning);
    assert!(planted.findings.iter().filter(|x| x.rule != Rule::AllZero).all(|x| x.severity == Severity::Error));
    let nan = planted.findings.iter().find(|x| x.tensor.as_deref() == Some(nan_t)).unwrap();
    assert!(nan.message.contains("1 NaN, 0 Inf") && nan.message.contains("element 5"), "{}", nan.message);

    // The memory map reads the same bytes and finds the same things.
    let mapped = scan::scan_file(&copy, &ScanOptions { io: IoMode::Mmap, ..opts.clone() }, &|_| {}).unwrap();
    assert_eq!(key(&mapped), want);
    assert_eq!(mapped.sha256, planted.sha256);

    // The CLI: --deep with --sha256, JSON out, exit 1, findings at the same offsets.
    let out = common::run(&["check", "--deep", "--sha256", sums.to_str().unwrap(), "--format", "json", "--jobs", "1", copy_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let model = &doc["models"][0];
    let found: BTreeSet<(String, Option<u64>)> =
        model["findings"].as_array().unwrap().iter().map(|x| (x["rule"].as_str().unwrap().to_string(), x["offset"].as_u64())).collect();
    for (rule, _, offset, _) in &want {
        assert!(found.contains(&(rule.id().to_string(), *offset)), "{} at {offset:?} missing from {found:?}", rule.id());
    }
    assert_eq!(model["facts"]["deep"]["files"][0]["sha256"].as_str().map(String::from), planted.sha256_hex());
}

#[test]
fn a_malformed_checksum_list_is_a_usage_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let sums = dir.path().join("SUMS");
    std::fs::write(&sums, format!("# list\n{}  a.gguf\nnot a checksum line\n", "ab".repeat(32))).unwrap();
    let fixture = common::fixture("tinyllama-v2-q4_0.gguf");
    let out = common::run(&["check", "--sha256", sums.to_str().unwrap(), fixture.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SUMS: line 3: expected `<64 hex digits>  <file name>`"), "{err}");
}

#[test]
fn deep_scan_of_a_partial_download_skips_absent_tensors_and_the_checksum() {
    let Some(real) = common::real_file(GEMMA) else { return };
    let dir = tempfile::tempdir().unwrap();
    let orig = GgufFile::open(&real).unwrap();
    // The header and the first tensors' data only, as a download that has just begun.
    let cut = orig.header.data_offset + (8 << 20);
    let part = dir.path().join(GEMMA);
    std::fs::write(&part, &std::fs::read(&real).unwrap()[..cut as usize]).unwrap();
    let file = GgufFile::open(&part).unwrap();
    let sums = ChecksumList::parse(Path::new("SUMS"), &format!("{}  {GEMMA}\n", "0".repeat(64))).unwrap();
    let s = scan::scan_file(&file, &ScanOptions { checksums: Some(sums), ..Default::default() }, &|_| {}).unwrap();
    assert!(s.findings.is_empty(), "{:?}", s.findings);
    assert_eq!(s.bytes_read, cut);
    let present = file.layout.spans.iter().filter(|x| x.present).count() as u64;
    assert!(present > 0 && present < file.header.tensors.len() as u64);
    assert_eq!(s.tensors_scanned, present);
    assert!(s.notes.iter().any(|n| n.contains("not on disk yet")), "{:?}", s.notes);
    assert!(s.notes.iter().any(|n| n.contains("sha256 not compared")), "{:?}", s.notes);
    let unhashed = scan::scan_file(&file, &ScanOptions { hash: false, ..Default::default() }, &|_| {}).unwrap();
    assert_eq!((unhashed.sha256, &unhashed.findings, unhashed.tensors_scanned), (None, &s.findings, present));
}

/// Every byte offset of a block where an f16 NaN makes gguf-py's dequantization non-finite
/// (gguf-py reimplements ggml's dequantizers in numpy): exactly the scale fields we check.
const PROBE: &str = r#"
import json, sys, numpy as np
from gguf.constants import GGMLQuantizationType as T, GGML_QUANT_SIZES
from gguf import quants
out = {}
for name in sys.argv[1:]:
    t = T[name]
    bsz, tsz = GGML_QUANT_SIZES[t]
    n = tsz - 1
    blocks = np.full((n, tsz), 0x11, dtype=np.uint8)
    for i in range(n):
        blocks[i, i:i + 2] = [0x00, 0x7E]
    assert np.isfinite(quants.dequantize(np.full((1, tsz), 0x11, dtype=np.uint8), t)).all(), name
    with np.errstate(all="ignore"):
        v = quants.dequantize(blocks, t).reshape(n, bsz)
    out[name] = [i for i in range(n) if not np.isfinite(v[i]).all()]
print(json.dumps(out))
"#;

#[test]
fn f16_scale_offsets_match_gguf_py_dequantization() {
    use gguf_meter::scan::blocks::{Check, ScaleKind, check_for};
    if !common::have_gguf_py() {
        return;
    }
    let names = [
        "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S",
        "IQ4_XS", "TQ1_0", "TQ2_0", "NVFP4",
    ];
    let out = std::process::Command::new("python3").args(["-c", PROBE]).args(names).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for name in names {
        let theirs: Vec<u64> = doc[name].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        let ours: Vec<u64> = match check_for(GgmlType::from_name(name).unwrap()) {
            Check::Scales { fields, .. } => fields.iter().filter(|f| f.kind == ScaleKind::F16).map(|f| f.at as u64).collect(),
            _ => vec![],
        };
        assert_eq!(ours, theirs, "{name}: f16 scale offsets (ours) vs offsets gguf-py dequantizes to NaN");
    }
}
