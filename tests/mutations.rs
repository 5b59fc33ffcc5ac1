//! Seeded mutation testing of the whole pipeline (read -> model -> estimate): every fixture,
//! with bytes flipped, counts and lengths inflated, offsets redirected and files cut. Invariants:
//! no panic, and every read error carries a byte offset inside the file.

mod common;
use gguf_meter::estimate::{footprint, Settings};
use gguf_meter::model::analyze;
use gguf_meter::read::GgufFile;
use std::path::Path;

/// Deterministic xorshift64*, so a failure can be replayed from its seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len());
        match rng.below(6) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => b[at] = rng.next() as u8,
            2 => {
                // Plant a huge little-endian u64 (a count, a length, an offset or a dimension).
                let v = [u64::MAX, 1 << 62, 1 << 40, 1 << 32, 0, u32::MAX as u64][rng.below(6)];
                let end = (at + 8).min(b.len());
                b[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
            }
            3 => b.truncate(at),
            4 => {
                let from = rng.below(b.len());
                let len = rng.below(64).min(b.len() - from).min(b.len() - at);
                let chunk = b[from..from + len].to_vec();
                b[at..at + len].copy_from_slice(&chunk);
            }
            _ => b[at] = [0, 9, 12, 250, 255][rng.below(5)],
        }
        if b.is_empty() {
            break;
        }
    }
    b
}

#[test]
fn mutated_fixtures_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut bases: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "gguf"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    bases.sort();
    let per_file: u64 = std::env::var("GGUF_METER_MUTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let mut total = 0u64;
    for (i, base) in bases.iter().enumerate() {
        for k in 0..per_file {
            let seed = (i as u64) << 32 | k | 1;
            let input = mutate(&mut Rng(seed), base);
            let result = std::panic::catch_unwind(|| match GgufFile::from_bytes(Path::new("m.gguf"), &input) {
                Ok(f) => {
                    let set_tensors: Vec<_> = f.tensor_entries(0).collect();
                    let g = analyze(&f.header, &set_tensors);
                    let _ = footprint(&g, &set_tensors, &Settings { ctx: Some(4096), ..Settings::default() }, 0);
                }
                Err(e) => {
                    let off = e.offset().expect("parse errors carry an offset");
                    assert!(off <= input.len() as u64 + 64, "offset {off} beyond a {}-byte input: {e}", input.len());
                }
            });
            assert!(result.is_ok(), "panic on fixture #{i} mutation seed {seed}");
            total += 1;
        }
    }
    eprintln!("mutated inputs survived: {total}");
    assert!(total >= 1000);
}
