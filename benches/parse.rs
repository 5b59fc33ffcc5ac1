//! In-process header parse benchmark (no criterion: a plain loop timed with `Instant`).
//!
//! `cargo bench --bench parse -- FILE...` prints one tab-separated line per file and method:
//! `file method min_us median_us runs`. Methods:
//! - `map`: `GgufFile::open` as shipped (how it reaches the bytes, then parse and layout);
//! - `pread`: `read::growing::read_local` (positioned reads of the header bytes only);
//! - `parse`: `GgufFile::from_bytes` on a header already in memory (the parser alone);
//! - `inspect`: what `inspect` computes before printing (open every shard, geometry, summary);
//! - `footprint`: one `estimate::footprint` at 32K context with flash attention (for every
//!   architecture with a graph builder this rebuilds the compute graph and replays ggml-alloc;
//!   `fit` and `table` call it dozens of times).
//!
//! Each method runs until it has at least 20 samples and 0.5 s, capped at 2,000 samples.

use gguf_meter::estimate::{FlashAttn, Settings, footprint};
use gguf_meter::model::{analyze, summary::summarize};
use gguf_meter::read::growing::{GrowLimits, read_local};
use gguf_meter::read::{GgufFile, open_model};
use std::hint::black_box;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

fn measure(mut f: impl FnMut()) -> (f64, f64, usize) {
    f(); // warm-up: page cache, allocator
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < 2000 && (samples.len() < 20 || start.elapsed() < Duration::from_millis(500)) {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    samples.sort_by(f64::total_cmp);
    (samples[0], samples[samples.len() / 2], samples.len())
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if files.is_empty() {
        eprintln!("usage: cargo bench --bench parse -- FILE...");
        std::process::exit(2);
    }
    println!("file\tmethod\tmin_us\tmedian_us\truns");
    for file in &files {
        let path = Path::new(file);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let parsed = match GgufFile::open(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("skipping {file}: {e}");
                continue;
            }
        };
        let mut header = Vec::new();
        std::fs::File::open(path).and_then(|f| f.take(parsed.header.header_end).read_to_end(&mut header)).expect("read header");

        let report = |method: &str, (min, median, runs): (f64, f64, usize)| {
            println!("{name}\t{method}\t{min:.1}\t{median:.1}\t{runs}");
        };
        report("map", measure(|| drop(black_box(GgufFile::open(path).expect("open")))));
        report("pread", measure(|| drop(black_box(read_local(path, GrowLimits::default()).expect("pread")))));
        report("parse", measure(|| drop(black_box(GgufFile::from_bytes(path, &header).expect("parse")))));
        report(
            "inspect",
            measure(|| {
                let set = open_model(path).expect("open_model");
                let tensors = set.tensors();
                let geometry = analyze(set.metadata(), &tensors);
                black_box(summarize(&set, &tensors, &geometry));
            }),
        );
        let set = open_model(path).expect("open_model");
        let tensors = set.tensors();
        let geometry = analyze(set.metadata(), &tensors);
        let settings = Settings { ctx: Some(32768), parallel: Some(1), flash_attn: FlashAttn::On, ..Settings::default() };
        report("footprint", measure(|| drop(black_box(footprint(&geometry, &tensors, &settings, 0)))));
    }
}
