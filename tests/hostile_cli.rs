//! Hostile files through the real binary (the CLI's own wiring: shard discovery, mmproj,
//! error printing): mutated fixtures and hand-made shard sets. Each command exits 0-3,
//! never panics, prints valid JSON when asked, and on error prints one line naming the
//! file (with a byte offset when the file itself is wrong).

mod common;
mod hostile;

use hostile::build::{Tensor, Val, gguf};
use hostile::mutate::{Base, Rng, mutate};
use std::path::Path;

fn check(args: &[&str], file: &Path) -> i32 {
    let out = common::run(args);
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!((0..=3).contains(&code) && !stderr.contains("panicked"), "{args:?}: exit {code}\n{stderr}");
    if args.contains(&"--json") && !out.stdout.is_empty() {
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: bad JSON: {e}"));
    }
    if code == 2 {
        assert_eq!(stderr.lines().count(), 1, "{args:?}: error not on one line:\n{stderr}");
        assert!(stderr.contains(&*file.file_name().unwrap().to_string_lossy()), "{args:?}: error does not name the file: {stderr}");
        if args[0] == "inspect" {
            assert!(stderr.contains("byte "), "{args:?}: read error without an offset: {stderr}");
        }
    }
    code
}

#[test]
fn mutated_files_through_the_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "gguf")).collect();
    paths.sort();
    let bases: Vec<Base> = paths.iter().map(|p| Base::new(p.display().to_string(), std::fs::read(p).unwrap())).collect();
    let tmp = tempfile::tempdir().unwrap();
    let per_base = std::env::var("GGUF_METER_CLI_MUTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(4u64);
    let mut codes = [0u32; 4];
    for (i, _) in bases.iter().enumerate() {
        for k in 0..per_base {
            let input = mutate(&mut Rng((i as u64) << 32 | (2 * k + 1) | 1 << 60), &bases, i);
            let file = tmp.path().join(format!("m{i}-{k}.gguf"));
            std::fs::write(&file, &input).unwrap();
            let f = file.to_str().unwrap();
            for args in [vec!["inspect", "--json", "--tensors", f], vec!["footprint", f, "-c", "8192"], vec!["fit", f, "--gpu", "rtx4090"]] {
                codes[check(&args, &file) as usize] += 1;
            }
        }
    }
    eprintln!("exit codes 0/1/2/3: {codes:?}");
}

#[test]
fn huge_tensors_over_mmproj_shards_do_not_overflow_the_total() {
    // Two shards of a vision projector, each holding a tensor of 2^63 + 2^40 bytes: their
    // sum does not fit in u64; the total must saturate, not wrap or panic.
    let tmp = tempfile::tempdir().unwrap();
    for no in 0..2u32 {
        let kvs = [("general.architecture", Val::Str("clip")), ("split.no", Val::U32(no)), ("split.count", Val::U32(2))];
        let name = format!("v.blk.{no}.attn_q.weight");
        let bytes = gguf(&kvs, &[Tensor(&name, &[(1 << 61) + (1 << 38)], 0, 0)]);
        std::fs::write(tmp.path().join(format!("mm-0000{}-of-00002.gguf", no + 1)), bytes).unwrap();
    }
    let mm = tmp.path().join("mm-00001-of-00002.gguf");
    let model = common::fixture("llama3-8b-q4km.gguf");
    let (m, model) = (mm.to_str().unwrap(), model.to_str().unwrap());
    assert_eq!(check(&["inspect", "--json", m], &mm), 3);
    let out = common::run(&["footprint", model, "--mmproj", m, "-c", "4096", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(doc["mmproj_bytes"].as_u64(), Some(u64::MAX), "{doc}");
    check(&["fit", model, "--mmproj", m, "--gpu", "rtx4090"], &mm);
}
