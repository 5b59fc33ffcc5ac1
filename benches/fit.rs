//! In-process `fit` benchmark (no criterion: a plain loop timed with `Instant`).
//!
//! `cargo bench --bench fit -- FILE...` prints one tab-separated line per file and machine:
//! `file machine min_ms median_ms runs`. Each run is one `estimate::fit::plan` with llama-server's
//! defaults (trained context searched, 64 GiB RAM): the search over contexts, layers, routed
//! experts and `-ts` that splits the compute graph by device as llama.cpp's scheduler does, for
//! every candidate it tries (`compute/sched.rs`, the graph built once per context). Machines:
//! `2x3090`, `3x3060` and `rtx3060+rtx3090+rtx4090`.
//!
//! Each machine runs until it has at least 5 samples and 0.5 s, capped at 200 samples.

use gguf_meter::estimate::Settings;
use gguf_meter::estimate::fit::plan;
use gguf_meter::estimate::machine::{MachineRequest, build};
use gguf_meter::estimate::overrides::Overrides;
use gguf_meter::model::analyze;
use gguf_meter::read::open_model;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

fn measure(mut f: impl FnMut()) -> (f64, f64, usize) {
    f(); // warm-up: allocator
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < 200 && (samples.len() < 5 || start.elapsed() < Duration::from_millis(500)) {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    (samples[0], samples[samples.len() / 2], samples.len())
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if files.is_empty() {
        eprintln!("usage: cargo bench --bench fit -- FILE...");
        std::process::exit(2);
    }
    println!("file\tmachine\tmin_ms\tmedian_ms\truns");
    for file in &files {
        let path = Path::new(file);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let set = match open_model(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("skipping {file}: {e}");
                continue;
            }
        };
        let tensors = set.tensors();
        let geometry = analyze(set.metadata(), &tensors);
        for gpu in ["2x3090", "3x3060", "rtx3060+rtx3090+rtx4090"] {
            let (m, _) = build(&MachineRequest { gpu: Some(gpu.into()), ram: Some(64 << 30), ..Default::default() }).expect("catalog machine");
            let (min, median, runs) = measure(|| drop(black_box(plan(&geometry, &tensors, &Settings::default(), &m, 0, &Overrides::default()))));
            println!("{name}\t{gpu}\t{min:.2}\t{median:.2}\t{runs}");
        }
    }
}
