//! Hostile-input suite: seeded mutations of every fixture and of the real files' headers,
//! every input that once failed (`fixtures/regressions/`), and dims near u64::MAX, each
//! through read -> model -> estimate -> report (`hostile/pipeline.rs`).
//!
//! Invariants per input: no panic; a read error is one line naming the file with a byte
//! offset inside the input; peak live heap below 64 MiB + 4x the input's size (counting
//! allocator); allocations (a deterministic measure of work) below 1M + 4 per input byte.
//! The slowest input is reported, not asserted (wall clock would flake). `fit`'s search runs
//! on every fourth mutated input (it is most of the time spent).
//!
//! `GGUF_METER_MUTATIONS` (per fixture, default 400), `GGUF_METER_MUTATIONS_REAL` (per real
//! header, default 20), `GGUF_METER_MUTATION_SEED` (another seed family for long runs).
//! Failing inputs are written to `target/tmp/hostile-failures/` to be kept as regressions.

mod common;
mod hostile;

use hostile::alloc::{Counting, measure};
use hostile::mutate::{Base, Rng, mutate};
use hostile::pipeline::{Outcome, run};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: Counting = Counting;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What a batch of inputs did.
#[derive(Default)]
struct Stats {
    total: u64,
    outcomes: BTreeMap<String, u64>,
    max_peak: (usize, String),
    max_allocs: (u64, String),
    slowest: (Duration, String),
    failures: Vec<String>,
}

impl Stats {
    /// Runs one input and checks every invariant; `label` says how to find it again.
    fn survive(&mut self, label: String, input: &[u8], with_fit: bool) {
        let t = Instant::now();
        let (result, usage) = measure(|| std::panic::catch_unwind(|| run(input, with_fit)));
        let elapsed = t.elapsed();
        let peak_bound = (64 << 20) + 4 * input.len();
        let alloc_bound = 1_000_000 + 4 * input.len() as u64;
        let verdict = match result {
            Err(_) => Err("panic".to_string()),
            Ok(Err(broken)) => Err(broken),
            Ok(Ok(_)) if usage.peak_bytes > peak_bound => Err(format!("peak heap {} B over {peak_bound}", usage.peak_bytes)),
            Ok(Ok(_)) if usage.allocations > alloc_bound => Err(format!("{} allocations over {alloc_bound}", usage.allocations)),
            Ok(Ok(o)) => Ok(o),
        };
        match verdict {
            Ok(o) => *self.outcomes.entry(format!("{o:?}")).or_default() += 1,
            Err(why) => {
                let file = save_input(&label, input);
                self.failures.push(format!("{label}: {why} (input saved as {})", file.display()));
            }
        }
        self.total += 1;
        if usage.peak_bytes > self.max_peak.0 {
            self.max_peak = (usage.peak_bytes, label.clone());
        }
        if usage.allocations > self.max_allocs.0 {
            self.max_allocs = (usage.allocations, label.clone());
        }
        if elapsed > self.slowest.0 {
            self.slowest = (elapsed, label);
        }
    }

    fn report(&self, what: &str) {
        eprintln!("{what}: mutated inputs survived: {} of {}; outcomes {:?}", self.total - self.failures.len() as u64, self.total, self.outcomes);
        eprintln!("  largest peak heap {} B ({}); most allocations {} ({})", self.max_peak.0, self.max_peak.1, self.max_allocs.0, self.max_allocs.1);
        eprintln!("  slowest input {:?} ({})", self.slowest.0, self.slowest.1);
        let shown: Vec<&String> = self.failures.iter().take(10).collect();
        assert!(self.failures.is_empty(), "{} of {} inputs broke an invariant:\n{shown:#?}", self.failures.len(), self.total);
    }
}

fn gguf_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "gguf")).collect()).unwrap_or_default();
    v.sort();
    v
}

/// Mutates each base `per_base` times with seeds `(base index << 32 | 2k + 1) ^ family`.
/// `GGUF_METER_MUTATION_SAVE=SEED` (hex, as printed) also saves that input, passing or not.
fn mutate_all(bases: &[Base], per_base: u64, stats: &mut Stats) {
    let family = env_u64("GGUF_METER_MUTATION_SEED", 0) << 48;
    let save = std::env::var("GGUF_METER_MUTATION_SAVE").ok().and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok());
    for (i, base) in bases.iter().enumerate() {
        for k in 0..per_base {
            let seed = ((i as u64) << 32 | (2 * k + 1)) ^ family;
            let input = mutate(&mut Rng(seed), bases, i);
            let label = format!("{} #{k} seed {seed:#x}", base.name);
            if save == Some(seed) {
                save_input(&label, &input);
            }
            stats.survive(label, &input, k % 4 == 0);
        }
    }
}

/// Writes `input` to `target/tmp/hostile-failures/` and returns where.
fn save_input(label: &str, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-failures");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{}.gguf", label.trim_end_matches(".gguf").replace(['/', ' ', '#'], "_")));
    std::fs::write(&file, input).unwrap();
    file
}

fn fixture_bases() -> Vec<Base> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let paths = ["", "tiny", "broken", "regressions"].iter().flat_map(|sub| gguf_files(&dir.join(sub)));
    paths.map(|p| Base::new(p.strip_prefix(&dir).unwrap().display().to_string(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn mutated_fixtures_survive() {
    let bases = fixture_bases();
    assert!(bases.len() >= 40, "only {} fixtures found", bases.len());
    let mut stats = Stats::default();
    mutate_all(&bases, env_u64("GGUF_METER_MUTATIONS", 400), &mut stats);
    stats.report("fixtures");
}

#[test]
fn mutated_real_headers_survive() {
    // The real files' headers (tokenizer arrays of 262K strings: megabytes) plus 64 KiB of data.
    let mut bases = Vec::new();
    for name in ["gemma-3-270m-q4_k_m.gguf", "deepseek-r1-distill-qwen-7b.gguf.part"] {
        let Some(path) = common::real_file(name) else { continue };
        let data_offset = gguf_meter::read::GgufFile::open(&path).unwrap().header.data_offset;
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(data_offset as usize + (64 << 10));
        bases.push(Base::new(name.to_string(), bytes));
    }
    let mut stats = Stats::default();
    mutate_all(&bases, env_u64("GGUF_METER_MUTATIONS_REAL", 20), &mut stats);
    stats.report("real headers");
}

#[test]
fn every_regression_input_survives() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/regressions");
    let files = gguf_files(&dir);
    assert!(files.len() >= 3, "fixtures/regressions/ has {} inputs", files.len());
    let mut stats = Stats::default();
    for f in &files {
        stats.survive(f.file_name().unwrap().to_string_lossy().into_owned(), &std::fs::read(f).unwrap(), true);
    }
    stats.report("regressions");
}

#[test]
fn dims_near_u64_max_are_refused_or_saturated_never_wrapped() {
    use hostile::build::{Tensor, Val, gguf};
    let kvs = [("general.architecture", Val::Str("llama")), ("llama.block_count", Val::U32(1))];
    let near = u64::MAX - 31;
    // (dims, ggml type): I8 = 24, F32 = 0, Q4_0 = 2 (32 elements in 18 bytes).
    let cases: [(&[u64], u32); 6] = [
        (&[near], 24),              // product fits, data end does not
        (&[1 << 32, 1 << 32], 24),  // product overflows
        (&[u64::MAX / 4 + 1], 0),   // elements fit, bytes (x4) overflow
        (&[u64::MAX / 32 * 32], 2), // a whole number of Q4_0 blocks, bytes fit, end does not
        (&[1 << 40, 1 << 20], 0),   // 2^62 bytes: fits in u64, no machine has it
        (&[4096, 1 << 50], 24),     // 2^62 bytes as a 2-D "token embedding"
    ];
    for (dims, ty) in cases {
        for name in ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_down_exps.weight"] {
            let input = gguf(&kvs, &[Tensor(name, dims, ty, 0)]);
            let outcome = run(&input, true);
            let outcome = outcome.unwrap_or_else(|e| panic!("{name} {dims:?}: {e}"));
            match gguf_meter::read::GgufFile::from_bytes(Path::new("m.gguf"), &input) {
                Err(e) => assert!(matches!(outcome, Outcome::Malformed), "{name} {dims:?}: {e}"),
                Ok(f) => {
                    // Accepted only when the data's end fits: then sizes are exact, not wrapped.
                    let span = &f.layout.spans[0];
                    assert!(span.start.checked_add(span.bytes).is_some(), "{name} {dims:?}: {span:?}");
                    let elements = dims.iter().product::<u64>();
                    assert!(span.bytes >= elements / 32, "{name} {dims:?}: {} bytes for {elements} elements", span.bytes);
                }
            }
        }
    }
}
