//! Seeded mutation operators over GGUF headers: the blind ones (bit flips, planted values,
//! cuts, copies) and structure-aware ones aimed at the fields `locate` finds (inflated counts
//! and string lengths, nested arrays, tensor offsets past the end or at each other, dims
//! whose product overflows, unknown types, duplicated infos, splices between files).

use super::locate::{Fields, locate};
use gguf_meter::read::GgmlType;

/// Deterministic xorshift64*, so a failure can be replayed from its seed.
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<T: Clone>(&mut self, v: &[T]) -> Option<T> {
        (!v.is_empty()).then(|| v[self.below(v.len())].clone())
    }
}

/// A base input and the positions of its fields.
pub struct Base {
    /// Name for messages.
    pub name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Where its fields are.
    pub fields: Fields,
}

impl Base {
    /// Locates the fields of `bytes`.
    pub fn new(name: String, bytes: Vec<u8>) -> Base {
        let fields = locate(&bytes);
        Base { name, bytes, fields }
    }
}

/// Values planted into u64 fields: boundaries of the parser's limits and of u64 itself.
const BIG: [u64; 14] = [
    u64::MAX,
    u64::MAX - 1,
    u64::MAX - 31,
    1 << 63,
    (1 << 63) + 1,
    1 << 62,
    1 << 40,
    1 << 32,
    (1 << 31) + 1,
    (1 << 30) + 1,
    (1 << 24) + 1,
    (1 << 16) + 1,
    u32::MAX as u64,
    0,
];

fn get64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap()))
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    let end = (at + 8).min(b.len());
    if at < end {
        b[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
    }
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    let end = (at + 4).min(b.len());
    if at < end {
        b[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
    }
}

/// One mutated copy of `bases[i]`, made with 1 to 4 operators; `bases` supplies splices.
pub fn mutate(rng: &mut Rng, bases: &[Base], i: usize) -> Vec<u8> {
    let base = &bases[i];
    let f = &base.fields;
    let mut b = base.bytes.clone();
    for _ in 0..1 + rng.below(3) {
        if b.is_empty() {
            break;
        }
        let at = rng.below(b.len());
        let tensor = (!f.tensors.is_empty()).then(|| f.tensors[rng.below(f.tensors.len())].clone());
        match rng.below(17) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => b[at] = [0, 1, 9, 12, 13, 127, 128, 250, 255][rng.below(9)],
            2 => put64(&mut b, at, BIG[rng.below(BIG.len())]),
            3 => b.truncate(at),
            4 => {
                // Copy a run of bytes from elsewhere in the file over this spot.
                let from = rng.below(b.len());
                let len = rng.below(64).min(b.len() - from).min(b.len() - at);
                let chunk = b[from..from + len].to_vec();
                b[at..at + len].copy_from_slice(&chunk);
            }
            5 => {
                // Splice: this file up to a point, another file from a point on.
                let other = &bases[rng.below(bases.len())];
                let cut = rng.pick(&f.kv_starts).filter(|_| rng.below(2) == 0).unwrap_or(at).min(b.len());
                let from = rng.pick(&other.fields.kv_starts).filter(|_| rng.below(2) == 0).unwrap_or_else(|| rng.below(other.bytes.len()));
                b.truncate(cut);
                b.extend_from_slice(&other.bytes[from.min(other.bytes.len())..]);
            }
            6 => {
                // Inflate a string length (key, value, array item or tensor name).
                if let Some(p) = rng.pick(&f.string_lens) {
                    let len = get64(&b, p);
                    let v = [
                        len.wrapping_add(1),
                        len.wrapping_add(7),
                        len.wrapping_mul(2).wrapping_add(1),
                        b.len().saturating_sub(p) as u64,
                        BIG[rng.below(BIG.len())],
                    ][rng.below(5)];
                    put64(&mut b, p, v);
                }
            }
            7 => {
                // Inflate a count: tensors, metadata pairs or an array's length.
                let heads: Vec<usize> = f.array_heads.iter().map(|h| h + 4).collect();
                let p = match rng.below(3) {
                    0 => 8,
                    1 => 16,
                    _ => rng.pick(&heads).unwrap_or(8),
                };
                let n = get64(&b, p);
                put64(&mut b, p, [n.wrapping_add(1), n.wrapping_add(16), n.saturating_mul(2), n.saturating_mul(1000), BIG[rng.below(BIG.len())]][rng.below(5)]);
            }
            8 => {
                // Nest arrays: an element type of "array", or a chain of one-element arrays.
                if let Some(h) = rng.pick(&f.array_heads) {
                    if rng.below(2) == 0 {
                        put32(&mut b, h, 9);
                    } else if h <= b.len() {
                        let depth = 1 + rng.below(64);
                        let chain: Vec<u8> = (0..depth).flat_map(|_| 9u32.to_le_bytes().into_iter().chain(1u64.to_le_bytes())).collect();
                        b.splice(h..h, chain);
                    }
                }
            }
            9 => {
                // Point a tensor's data offset at another tensor's, just past it, or past the end.
                if let (Some(t), Some(o)) = (&tensor, rng.pick(&f.tensors)) {
                    let other = get64(&b, o.offset_at);
                    let end = (b.len() as u64).saturating_sub(f.header_end.unwrap_or(0) as u64);
                    let v =
                        [other, other.wrapping_add(1), other.wrapping_add(32), other.wrapping_sub(32), end, end + 32, u64::MAX - 31, BIG[rng.below(BIG.len())]]
                            [rng.below(8)];
                    put64(&mut b, t.offset_at, v);
                }
            }
            10 => {
                // Dimensions whose product (or byte size) overflows, or lands near u64::MAX.
                if let Some(t) = &tensor {
                    let sets: [&[u64]; 6] =
                        [&[1 << 32, 1 << 32], &[u64::MAX], &[(1 << 63) + 1, 2], &[1 << 62, 4, 1, 1], &[256, u64::MAX / 256], &[u64::MAX / 3, 3]];
                    let dims = sets[rng.below(sets.len())];
                    for (k, &p) in t.dims_at.iter().enumerate() {
                        put64(&mut b, p, dims.get(k).copied().unwrap_or(1));
                    }
                }
            }
            11 => {
                // A dimension count ggml does not have.
                if let Some(t) = &tensor {
                    put32(&mut b, t.n_dims_at, [0, 5, 8, u32::MAX][rng.below(4)]);
                }
            }
            12 => {
                // Unknown or wrong types: a tensor's ggml type, a value's type, an array's element type.
                let v = [13, 39, 40, 1000, u32::MAX, rng.below(41) as u32][rng.below(6)];
                let p = match rng.below(3) {
                    0 => tensor.as_ref().map(|t| t.type_at),
                    1 => rng.pick(&f.value_types),
                    _ => rng.pick(&f.array_heads),
                };
                if let Some(p) = p {
                    put32(&mut b, p, v);
                }
            }
            13 => {
                // Duplicate a tensor info or a metadata pair (same name twice, count unchanged or bumped).
                let (s, e) = match (&tensor, rng.below(2)) {
                    (Some(t), 0) => (t.start, t.end),
                    _ => match rng.pick(&f.kv_starts) {
                        Some(s) => (s, f.kv_starts.iter().find(|&&x| x > s).copied().or(f.tensors.first().map(|t| t.start)).unwrap_or(s)),
                        None => (0, 0),
                    },
                };
                if s < e && e <= b.len() {
                    let copy = b[s..e].to_vec();
                    b.splice(e..e, copy);
                    if rng.below(2) == 0 {
                        let p = if tensor.as_ref().is_some_and(|t| t.start == s) { 8 } else { 16 };
                        let n = get64(&b, p);
                        put64(&mut b, p, n.wrapping_add(1));
                    }
                }
            }
            14 => {
                // Cut at a field boundary (a download that stopped between fields).
                let mut bounds: Vec<usize> = f.kv_starts.clone();
                bounds.extend(f.tensors.iter().flat_map(|t| [t.start, t.n_dims_at, t.type_at, t.offset_at]));
                if let Some(p) = rng.pick(&bounds) {
                    b.truncate(p + rng.below(3));
                }
            }
            15 => {
                // A metadata number (block count, heads, context, experts, window...) at an extreme.
                if let Some((p, size)) = rng.pick(&f.scalars) {
                    let v = [0, 1, 2, 255, 256, 65535, 65536, u32::MAX as u64, u64::MAX, 1 << 31, 1 << 63][rng.below(11)];
                    let bytes = v.to_le_bytes();
                    let end = (p + size).min(b.len());
                    if p < end {
                        b[p..end].copy_from_slice(&bytes[..end - p]);
                    }
                }
            }
            _ => {
                // A small value in a u64 field: lengths of 0, counts of 0 or 1, offset 0.
                let p = rng.pick(&f.string_lens).unwrap_or(at);
                put64(&mut b, p, rng.below(3) as u64);
            }
        }
    }
    // Half the time, make the data offsets consistent again, so shapes the layout check
    // would refuse (overlap) reach the model and the estimates.
    if rng.below(2) == 0 {
        relayout(&mut b);
    }
    b
}

/// Rewrites every tensor's data offset as a writer would: in order, each padded to 32 bytes.
fn relayout(b: &mut [u8]) {
    let f = locate(b);
    let mut next = 0u64;
    for t in &f.tensors {
        put64(b, t.offset_at, next);
        let dims: Vec<u64> = t.dims_at.iter().map(|&p| get64(b, p)).collect();
        let ty = u32::from_le_bytes(b[t.type_at..t.type_at + 4].try_into().unwrap());
        let bytes = GgmlType(ty)
            .row_bytes(dims.first().copied().unwrap_or(1))
            .and_then(|row| dims.iter().skip(1).try_fold(row, |a, &d| a.checked_mul(d)))
            .unwrap_or(32);
        match bytes.checked_next_multiple_of(32).and_then(|s| next.checked_add(s)) {
            Some(n) => next = n,
            None => break,
        }
    }
}
